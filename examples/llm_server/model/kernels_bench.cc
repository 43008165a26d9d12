// Kernel and engine benchmarks. The group-size and block-size sweeps run the kernels on one
// thread so that the per-group and per-block costs are not blurred by scheduling.
#include <time.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "model/attention.h"
#include "model/engine.h"
#include "model/int4.h"

namespace llm {
namespace {

std::vector<float> random_vector(size_t n, uint32_t seed, float stddev) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

double process_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

// Reports seconds per token (shown inverted: the value is time, not a rate).
void set_per_token(benchmark::State& state, double tokens_per_iteration) {
  state.counters["per_token"] =
      benchmark::Counter(tokens_per_iteration, benchmark::Counter::kIsIterationInvariantRate |
                                                   benchmark::Counter::kInvert);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * tokens_per_iteration));
}

// The four projections of one layer of the default model (QKV, output, gate/up, down), run for
// M tokens. Args: group size, M.
void BM_Int4Gemm(benchmark::State& state) {
  const int g = static_cast<int>(state.range(0)), m = static_cast<int>(state.range(1));
  const ModelConfig c;
  const int d = c.d_model, a = c.attn_dim(), f = c.ffn_dim;
  const std::pair<int, int> shapes[] = {{3 * a, d}, {d, a}, {2 * f, d}, {d, f}};
  std::vector<Int4Matrix> weights;
  std::vector<std::vector<float>> xs, ys;
  uint32_t seed = 1;
  for (auto [n, k] : shapes) {
    const auto w = random_vector(static_cast<size_t>(n) * k, seed++, 0.05f);
    weights.push_back(quantize_int4(w.data(), n, k, g));
    xs.push_back(random_vector(static_cast<size_t>(m) * k, seed++, 1.0f));
    ys.emplace_back(static_cast<size_t>(m) * n);
  }
  Int4Scratch scratch;
  for (auto _ : state) {
    for (size_t i = 0; i < weights.size(); ++i) {
      const Int4Matrix& w = weights[i];
      int4_gemm(xs[i].data(), w.cols, m, w, ys[i].data(), w.rows, 0, w.rows, false, scratch);
    }
    benchmark::ClobberMemory();
  }
  double flops = 0;
  for (const auto& w : weights) flops += 2.0 * m * w.rows * w.cols;
  state.counters["GFLOPs"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  set_per_token(state, m);
}
BENCHMARK(BM_Int4Gemm)
    ->ArgNames({"group", "M"})
    ->ArgsProduct({{32, 64, 128, 256}, {1, 16}})
    ->MinTime(0.3);

// Decode-step attention of `seqs` sequences at a long context through a paged cache whose
// blocks are interleaved across sequences (they grew together), over all layers of the default
// model. With 16 sequences the K/V (384 MB) streams from DRAM, as in a real decode step; with
// one (24 MB) it can stay in the L3 cache. Args: block size, context, sequences.
void BM_PagedAttention(benchmark::State& state) {
  const int bs = static_cast<int>(state.range(0));
  const int ctx = static_cast<int>(state.range(1)), batch = static_cast<int>(state.range(2));
  const ModelConfig c;
  const int heads = c.n_heads, hd = c.head_dim;
  const int blocks_per_seq = (ctx + bs - 1) / bs;
  PagedKvCache cache(c.n_layers, heads, hd, bs, batch * blocks_per_seq);
  for (int b = 0; b < blocks_per_seq; ++b) {
    for (int s = 0; s < batch; ++s) cache.append(s, std::min(bs, ctx - b * bs));
  }
  uint32_t x = 1;  // xorshift: filling hundreds of MB must be quick.
  auto next = [&x] {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    return static_cast<float>(x) * 2.3283064e-10f - 0.5f;
  };
  for (int l = 0; l < c.n_layers; ++l) {
    for (int blk = 0; blk < cache.num_blocks(); ++blk) {
      for (int h = 0; h < heads; ++h) {
        float* k = cache.k_page(0, l, blk, h);
        float* v = cache.v_page(0, l, blk, h);
        for (int i = 0; i < bs * hd; ++i) k[i] = next(), v[i] = next();
      }
    }
  }
  std::vector<std::span<const int32_t>> tables;
  std::vector<int32_t> seq_index, pos;
  for (int s = 0; s < batch; ++s) {
    tables.push_back(cache.block_table(s));
    seq_index.push_back(s);
    pos.push_back(ctx - 1);
  }
  const AttentionQuery query{batch, seq_index.data(), pos.data(), tables.data()};
  const auto q = random_vector(static_cast<size_t>(batch) * heads * hd, 2, 1.0f);
  std::vector<float> out(q.size()), scores(ctx);
  for (auto _ : state) {
    for (int l = 0; l < c.n_layers; ++l) {
      paged_attention(q.data(), heads * hd, out.data(), heads * hd, cache, 0, l, query, 0,
                      batch * heads, scores.data());
    }
    benchmark::ClobberMemory();
  }
  const double kv_bytes = 2.0 * batch * ctx * heads * hd * sizeof(float) * c.n_layers;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kv_bytes));
  set_per_token(state, batch);
}
BENCHMARK(BM_PagedAttention)
    ->ArgNames({"block", "ctx", "seqs"})
    ->ArgsProduct({{1, 4, 8, 16, 32, 64}, {1024}, {16}})
    ->ArgsProduct({{1, 4, 8, 16, 32, 64}, {1024}, {1}})
    ->MinTime(0.5);

// Sums kernel-slice time per kernel name (all workers), to show where a step's time goes.
class TimeByKernel : public KernelObserver {
 public:
  void on_kernel(const KernelRecord& r) noexcept override {
    std::lock_guard lock(mu_);
    ns_[r.name] += r.end_ns - r.start_ns;
    total_ += r.end_ns - r.start_ns;
  }
  // Share of kernel time per kernel name, as "%<name>" counters.
  void report(benchmark::State& state) {
    for (const auto& [name, ns] : ns_) {
      state.counters["%" + name] = 100.0 * static_cast<double>(ns) / std::max<int64_t>(total_, 1);
    }
  }
  std::map<std::string, int64_t> ns_;
  int64_t total_ = 0;
  std::mutex mu_;
};

// Whole decode steps of the default engine (all workers): `batch` sequences, each generating one
// token per step, contexts from 128 to 384 tokens. Arg: batch, devices.
void BM_DecodeStep(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  ModelConfig c;
  c.devices = static_cast<int>(state.range(1));
  Engine engine(c);
  TimeByKernel profile;
  engine.set_observer(&profile);
  constexpr int kPrompt = 128, kMaxGenerated = 256;
  std::vector<SequenceInput> seqs;
  auto prefill = [&] {
    seqs.clear();
    Batch b;
    for (int s = 0; s < batch; ++s) {
      std::vector<int32_t> prompt(kPrompt);
      for (int i = 0; i < kPrompt; ++i) prompt[i] = (s * 31 + i * 7) % 256;
      b.seqs.push_back({static_cast<SeqId>(s), prompt, 0});
    }
    const StepOutput out = engine.forward(b);
    for (int s = 0; s < batch; ++s)
      seqs.push_back({static_cast<SeqId>(s), {out.outputs[s].token}, kPrompt});
  };
  prefill();
  int generated = 0;
  profile.ns_.clear();
  profile.total_ = 0;
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    const StepOutput out = engine.forward(Batch{seqs});
    for (int s = 0; s < batch; ++s) {
      seqs[s].start_pos += 1;
      seqs[s].tokens[0] = out.outputs[s].token;
    }
    if (++generated == kMaxGenerated) {
      state.PauseTiming();
      for (int s = 0; s < batch; ++s) engine.release(s);
      engine.set_observer(nullptr);
      prefill();
      engine.set_observer(&profile);
      generated = 0;
      state.ResumeTiming();
    }
  }
  set_per_token(state, batch);
  // Tokens per CPU-second of all threads: comparable across runs on a busy machine, where the
  // wall-clock rate mostly measures what other processes left over.
  state.counters["tok_per_cpu_s"] =
      static_cast<double>(state.iterations()) * batch / (process_cpu_seconds() - cpu0);
  profile.report(state);
}
BENCHMARK(BM_DecodeStep)
    ->ArgNames({"batch", "devices"})
    ->ArgsProduct({{1, 8, 16}, {1}})
    ->Args({16, 2})
    ->UseRealTime()
    ->MinTime(2.0);

// Cost of one kernel launch on a device's worker pool: wake every worker, run an empty task,
// wait for all. Arg: workers.
void BM_WorkerPoolLaunch(benchmark::State& state) {
  WorkerPool pool(0, static_cast<int>(state.range(0)));
  std::atomic<int> ran{0};
  auto task = [&](int, int) { ran.fetch_add(1, std::memory_order_relaxed); };
  for (auto _ : state) pool.run(task);
  benchmark::DoNotOptimize(ran.load());
}
BENCHMARK(BM_WorkerPoolLaunch)->Arg(1)->Arg(2)->UseRealTime();

// Prefill of one 512-token prompt (all workers).
void BM_Prefill(benchmark::State& state) {
  Engine engine(ModelConfig{});
  TimeByKernel profile;
  engine.set_observer(&profile);
  std::vector<int32_t> prompt(512);
  for (int i = 0; i < 512; ++i) prompt[i] = (i * 13) % 256;
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    engine.forward(Batch{{{1, prompt, 0}}});
    state.PauseTiming();
    engine.release(1);
    state.ResumeTiming();
  }
  set_per_token(state, 512);
  state.counters["tok_per_cpu_s"] =
      static_cast<double>(state.iterations()) * 512 / (process_cpu_seconds() - cpu0);
  profile.report(state);
}
BENCHMARK(BM_Prefill)->UseRealTime()->MinTime(1.0);

}  // namespace
}  // namespace llm

BENCHMARK_MAIN();
