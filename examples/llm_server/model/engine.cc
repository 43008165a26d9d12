#include "model/engine.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>

#include "model/attention.h"

namespace llm {
namespace {

// Part i of [0, n) split into `parts` nearly equal ranges whose boundaries are multiples of align.
std::pair<int, int> split_range(int n, int parts, int i, int align = 1) {
  const int64_t units = (n + align - 1) / align;
  const int b = static_cast<int>(units * i / parts) * align;
  const int e = static_cast<int>(units * (i + 1) / parts) * align;
  return {std::min(b, n), std::min(e, n)};
}

int default_workers(int devices) {
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, std::max(hw, 1) / devices);
}

const ModelConfig& validated(const ModelConfig& c) {
  c.validate();
  return c;
}

template <class T>
void grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

constexpr double kF = sizeof(float);

}  // namespace

Engine::Engine(const ModelConfig& config)
    : config_(validated(config)),
      workers_per_device_(config.workers_per_device > 0 ? config.workers_per_device
                                                        : default_workers(config.devices)),
      weights_(make_synthetic_weights(config_)),
      rope_(config.head_dim, config.max_seq_len, config.rope_theta),
      cache_(config.n_layers, config.heads_per_device(), config.head_dim, config.block_size,
             config.num_kv_blocks, config.devices),
      devices_(config.devices) {
  for (int d = 0; d < config_.devices; ++d) {
    devices_[d].scratch.resize(workers_per_device_);
    for (auto& s : devices_[d].scratch) s.scores.resize(config_.max_seq_len);
    devices_[d].pool = std::make_unique<WorkerPool>(d, workers_per_device_);
  }
}

Engine::~Engine() = default;

const char* region_name(Region region) {
  switch (region) {
    case Region::kLayer:
      return "layer";
    case Region::kAttention:
      return "attention";
    case Region::kMlp:
      return "mlp";
    case Region::kHead:
      return "lm_head";
  }
  return "region";
}

namespace {
// Reports a region to the observer for the lifetime of the object (nothing without one).
class RegionScope {
 public:
  RegionScope(KernelObserver* observer, Region region, int layer)
      : observer_(observer), region_(region), layer_(layer) {
    if (observer_ != nullptr) observer_->on_region_begin(region_, layer_);
  }
  ~RegionScope() {
    if (observer_ != nullptr) observer_->on_region_end(region_, layer_);
  }
  RegionScope(const RegionScope&) = delete;
  RegionScope& operator=(const RegionScope&) = delete;

 private:
  KernelObserver* observer_;
  Region region_;
  int layer_;
};
}  // namespace

template <class Fn>
void Engine::launch(const char* name, int n_devices, Fn&& fn) {
  KernelObserver* const obs = observer_.load(std::memory_order_acquire);
  const uint64_t context = context_;
  auto task = [&](int device, int worker) {
    KernelAttrs attrs;
    if (obs == nullptr) {
      fn(device, worker, attrs);
      return;
    }
    const int64_t start = monotonic_ns();
    const bool worked = fn(device, worker, attrs);
    const int64_t end = monotonic_ns();
    if (worked) obs->on_kernel(KernelRecord{name, device, worker, start, end, context, attrs});
  };
  for (int d = 0; d < n_devices; ++d) devices_[d].pool->start(task);
  for (int d = 0; d < n_devices; ++d) devices_[d].pool->wait();
}

int Engine::blocks_needed(const Batch& batch) const {
  int total = 0;
  for (const auto& s : batch.seqs) {
    total += cache_.blocks_needed(s.seq_id, static_cast<int>(s.tokens.size()));
  }
  return total;
}

void Engine::prepare(const Batch& batch) {
  // Validate everything before touching the cache, so a rejected batch changes nothing.
  std::unordered_set<SeqId> seen;
  int rows = 0;
  for (const auto& s : batch.seqs) {
    const int n = static_cast<int>(s.tokens.size());
    if (n == 0) throw std::invalid_argument("Engine::forward: sequence with no tokens");
    if (!seen.insert(s.seq_id).second) {
      throw std::invalid_argument("Engine::forward: sequence " + std::to_string(s.seq_id) +
                                  " appears twice in the batch");
    }
    if (s.start_pos != cache_.seq_len(s.seq_id)) {
      throw std::invalid_argument("Engine::forward: sequence " + std::to_string(s.seq_id) +
                                  " starts at " + std::to_string(s.start_pos) + " but has " +
                                  std::to_string(cache_.seq_len(s.seq_id)) + " cached tokens");
    }
    if (s.start_pos + n > config_.max_seq_len) {
      throw std::invalid_argument("Engine::forward: sequence " + std::to_string(s.seq_id) +
                                  " exceeds max_seq_len");
    }
    for (int32_t t : s.tokens) {
      if (t < 0 || t >= config_.vocab_size) {
        throw std::invalid_argument("Engine::forward: token id out of range");
      }
    }
    rows += n;
  }
  const int need = blocks_needed(batch);
  if (need > cache_.num_free_blocks()) {
    throw std::runtime_error("Engine::forward: KV cache needs " + std::to_string(need) +
                             " blocks, " + std::to_string(cache_.num_free_blocks()) + " free");
  }
  for (const auto& s : batch.seqs) cache_.append(s.seq_id, static_cast<int>(s.tokens.size()));

  rows_ = rows;
  n_seqs_ = static_cast<int>(batch.seqs.size());
  tokens_.clear();
  pos_.clear();
  seq_index_.clear();
  tables_.clear();
  out_rows_.clear();
  out_batch_index_.clear();
  for (int i = 0; i < n_seqs_; ++i) {
    const SequenceInput& s = batch.seqs[i];
    const int n = static_cast<int>(s.tokens.size());
    for (int j = 0; j < n; ++j) {
      tokens_.push_back(s.tokens[j]);
      pos_.push_back(s.start_pos + j);
      seq_index_.push_back(i);
    }
    tables_.push_back(cache_.block_table(s.seq_id));  // Stable until the next append/free.
    if (s.sample) {
      out_rows_.push_back(static_cast<int32_t>(tokens_.size()) - 1);
      out_batch_index_.push_back(i);
    }
  }
  const AttentionQuery query{rows_, seq_index_.data(), pos_.data(), tables_.data()};
  split_attention_items(query, config_.heads_per_device(), workers_per_device_, attn_bounds_);

  const size_t m = rows_, d = config_.d_model;
  const size_t a = static_cast<size_t>(config_.heads_per_device()) * config_.head_dim;
  const size_t f = config_.ffn_per_device();
  for (Device& dev : devices_) {
    grow(dev.x, m * d);
    grow(dev.xn, m * d);
    grow(dev.qkv, m * 3 * a);
    grow(dev.attn, m * a);
    grow(dev.partial, m * d);
    grow(dev.gu, m * 2 * f);
    grow(dev.act, m * f);
  }
}

bool Engine::gemm(int device, const Int4Matrix& w, const float* x, int m, float* y, bool accumulate,
                  int batch, int worker, KernelAttrs& attrs) {
  // Split output columns across workers, in whole 4-column tiles of the kernel.
  const auto [n0, n1] = split_range(w.rows, workers_per_device_, worker, 4);
  if (n0 == n1) return false;
  int4_gemm(x, w.cols, m, w, y, w.rows, n0, n1, accumulate, devices_[device].scratch[worker].gemm);
  attrs.flops = 2.0 * m * w.cols * (n1 - n0);
  attrs.bytes = int4_gemm_bytes(w, m, n1 - n0, accumulate);
  attrs.group_size = w.group_size;
  attrs.batch = batch;
  attrs.tokens = m;
  return true;
}

StepOutput Engine::forward(const Batch& batch, uint64_t context) {
  StepOutput out;
  if (batch.seqs.empty()) return out;
  prepare(batch);
  context_ = context;
  const int n_dev = config_.devices, d = config_.d_model, w_count = workers_per_device_;
  launch("Embedding", n_dev, [&](int dev, int w, KernelAttrs& a) {
    const auto [r0, r1] = split_range(rows_, w_count, w);
    if (r0 == r1) return false;
    embedding(weights_.embedding.data(), d, tokens_.data(), devices_[dev].x.data(), r0, r1);
    a.bytes = 2.0 * (r1 - r0) * d * kF;
    a.batch = seqs_in_rows(r0, r1);
    a.tokens = r1 - r0;
    return true;
  });
  for (int l = 0; l < config_.n_layers; ++l) run_layer(l);
  run_head(out, batch);
  out.tokens = rows_;
  return out;
}

void Engine::run_layer(int l) {
  const LayerWeights& lw = weights_.layers[l];
  const int n_dev = config_.devices, w_count = workers_per_device_, m = rows_;
  const int d = config_.d_model, hd = config_.head_dim, heads = config_.heads_per_device();
  const int a_dim = heads * hd, f = config_.ffn_per_device();
  KernelObserver* const obs = observer_.load(std::memory_order_acquire);
  const RegionScope layer(obs, Region::kLayer, l);

  auto norm = [&](const std::vector<float>& weight) {
    launch("RMSNorm", n_dev, [&](int dev, int w, KernelAttrs& a) {
      const auto [r0, r1] = split_range(m, w_count, w);
      if (r0 == r1) return false;
      rms_norm(devices_[dev].x.data(), nullptr, weight.data(), d, config_.norm_eps,
               devices_[dev].xn.data(), r0, r1);
      a.flops = 4.0 * (r1 - r0) * d;
      a.bytes = (2.0 * (r1 - r0) + 1) * d * kF;
      a.batch = seqs_in_rows(r0, r1);
      a.tokens = r1 - r0;
      return true;
    });
  };
  // Row-parallel projection: with one device it accumulates straight into the residual stream;
  // with several, each writes a partial sum that AllReduce adds to every replica of the stream.
  auto down_projection = [&](const Int4Matrix LayerShard::*member, std::vector<float> Device::*in) {
    launch("Int4Gemm", n_dev, [&](int dev, int w, KernelAttrs& a) {
      Device& dv = devices_[dev];
      const Int4Matrix& wt = lw.shards[dev].*member;
      return n_dev == 1
                 ? gemm(dev, wt, (dv.*in).data(), m, dv.x.data(), true, n_seqs_, w, a)
                 : gemm(dev, wt, (dv.*in).data(), m, dv.partial.data(), false, n_seqs_, w, a);
    });
    if (n_dev == 1) return;
    launch("AllReduce", n_dev, [&](int dev, int w, KernelAttrs& a) {
      const auto [r0, r1] = split_range(m, w_count, w);
      if (r0 == r1) return false;
      const float* parts[64];
      for (int p = 0; p < n_dev; ++p) parts[p] = devices_[p].partial.data();
      all_reduce_add(parts, n_dev, d, devices_[dev].x.data(), r0, r1);
      a.flops = static_cast<double>(r1 - r0) * d * n_dev;
      a.bytes = static_cast<double>(r1 - r0) * d * kF * (n_dev + 2);
      a.batch = seqs_in_rows(r0, r1);
      a.tokens = r1 - r0;
      return true;
    });
  };

  // Attention block.
  std::optional<RegionScope> block(std::in_place, obs, Region::kAttention, l);
  norm(lw.attn_norm);
  launch("Int4Gemm", n_dev, [&](int dev, int w, KernelAttrs& a) {
    Device& dv = devices_[dev];
    return gemm(dev, lw.shards[dev].wqkv, dv.xn.data(), m, dv.qkv.data(), false, n_seqs_, w, a);
  });
  launch("RoPE", n_dev, [&](int dev, int w, KernelAttrs& a) {
    const auto [r0, r1] = split_range(m, w_count, w);
    if (r0 == r1) return false;
    rope_and_cache(devices_[dev].qkv.data(), 3 * a_dim, pos_.data(), seq_index_.data(),
                   tables_.data(), rope_, cache_, dev, l, r0, r1);
    a.flops = 6.0 * (r1 - r0) * a_dim;
    a.bytes = 7.0 * (r1 - r0) * a_dim * kF;  // q, k read+write; v read; k, v to the cache.
    a.batch = seqs_in_rows(r0, r1);
    a.tokens = r1 - r0;
    return true;
  });
  launch("PagedAttention", n_dev, [&](int dev, int w, KernelAttrs& a) {
    const int i0 = attn_bounds_[w], i1 = attn_bounds_[w + 1];
    if (i0 == i1) return false;
    Device& dv = devices_[dev];
    const AttentionQuery query{m, seq_index_.data(), pos_.data(), tables_.data()};
    const int64_t keys = paged_attention(dv.qkv.data(), 3 * a_dim, dv.attn.data(), a_dim, cache_,
                                         dev, l, query, i0, i1, dv.scratch[w].scores.data());
    const int t0 = i0 / heads, t1 = (i1 - 1) / heads + 1;
    a.flops = static_cast<double>(keys) * (4.0 * hd + 5);  // q.k, p*v, softmax.
    a.bytes = (2.0 * keys + 2.0 * (i1 - i0)) * hd * kF;    // K, V rows; q in, out.
    a.block_size = config_.block_size;
    a.batch = seqs_in_rows(t0, t1);
    a.tokens = t1 - t0;
    return true;
  });
  down_projection(&LayerShard::wo, &Device::attn);

  // MLP block.
  block.reset();
  block.emplace(obs, Region::kMlp, l);
  norm(lw.mlp_norm);
  launch("Int4Gemm", n_dev, [&](int dev, int w, KernelAttrs& a) {
    Device& dv = devices_[dev];
    return gemm(dev, lw.shards[dev].wgu, dv.xn.data(), m, dv.gu.data(), false, n_seqs_, w, a);
  });
  launch("SwiGLU", n_dev, [&](int dev, int w, KernelAttrs& a) {
    const auto [r0, r1] = split_range(m, w_count, w);
    if (r0 == r1) return false;
    swiglu(devices_[dev].gu.data(), f, devices_[dev].act.data(), r0, r1);
    a.flops = 5.0 * (r1 - r0) * f;
    a.bytes = 3.0 * (r1 - r0) * f * kF;
    a.batch = seqs_in_rows(r0, r1);
    a.tokens = r1 - r0;
    return true;
  });
  down_projection(&LayerShard::wdown, &Device::act);
}

void Engine::run_head(StepOutput& out, const Batch& batch) {
  const int s_rows = static_cast<int>(out_rows_.size());
  if (s_rows == 0) return;
  const int d = config_.d_model, vocab = config_.vocab_size, w_count = workers_per_device_;
  grow(head_x_, static_cast<size_t>(s_rows) * d);
  grow(logits_, static_cast<size_t>(s_rows) * vocab);
  grow(sampled_, s_rows);
  const RegionScope head(observer_.load(std::memory_order_acquire), Region::kHead, -1);
  // The LM head runs on device 0 only; the residual stream is identical on every device.
  launch("RMSNorm", 1, [&](int, int w, KernelAttrs& a) {
    const auto [r0, r1] = split_range(s_rows, w_count, w);
    if (r0 == r1) return false;
    rms_norm(devices_[0].x.data(), out_rows_.data(), weights_.final_norm.data(), d,
             config_.norm_eps, head_x_.data(), r0, r1);
    a.flops = 4.0 * (r1 - r0) * d;
    a.bytes = (2.0 * (r1 - r0) + 1) * d * kF;
    a.batch = a.tokens = r1 - r0;
    return true;
  });
  launch("Int4Gemm", 1, [&](int, int w, KernelAttrs& a) {
    return gemm(0, weights_.lm_head, head_x_.data(), s_rows, logits_.data(), false, s_rows, w, a);
  });
  launch("Sampling", 1, [&](int, int w, KernelAttrs& a) {
    const auto [r0, r1] = split_range(s_rows, w_count, w);
    if (r0 == r1) return false;
    for (int r = r0; r < r1; ++r) {
      const SequenceInput& s = batch.seqs[out_batch_index_[r]];
      const uint64_t position = s.start_pos + s.tokens.size();
      sampled_[r] = sample_token(logits_.data() + static_cast<size_t>(r) * vocab, vocab, s.sampling,
                                 position);
    }
    a.flops = 4.0 * (r1 - r0) * vocab;
    a.bytes = static_cast<double>(r1 - r0) * vocab * kF;
    a.batch = a.tokens = r1 - r0;
    return true;
  });
  out.outputs.reserve(s_rows);
  for (int r = 0; r < s_rows; ++r) {
    const SequenceInput& s = batch.seqs[out_batch_index_[r]];
    const float* lr = logits_.data() + static_cast<size_t>(r) * vocab;
    out.outputs.push_back(SequenceOutput{s.seq_id, sampled_[r],
                                         s.start_pos + static_cast<int>(s.tokens.size()),
                                         std::vector<float>(lr, lr + vocab)});
  }
}

}  // namespace llm
