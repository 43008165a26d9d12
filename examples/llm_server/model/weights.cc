#include "model/weights.h"

#include <cmath>
#include <cstring>

#include "model/rng.h"

namespace llm {
namespace {

// Uniform values with the given standard deviation, a pure function of (seed, tensor, index).
std::vector<float> random_tensor(uint64_t seed, uint64_t tensor, size_t n, float stddev) {
  std::vector<float> v(n);
  const uint64_t base = hash_combine(seed, tensor);
  const float amp = stddev * std::sqrt(3.0f);
  for (size_t i = 0; i < n; ++i) v[i] = amp * (2.0f * unit_float(hash_combine(base, i)) - 1.0f);
  return v;
}

std::vector<float> norm_weights(uint64_t seed, uint64_t tensor, int d) {
  std::vector<float> v = random_tensor(seed, tensor, d, 0.05f);
  for (float& x : v) x += 1.0f;
  return v;
}

// Rows [r0, r0 + n) of a row-major [rows, cols] matrix, appended to out.
void append_rows(const std::vector<float>& m, int cols, int r0, int n, std::vector<float>& out) {
  out.insert(out.end(), m.begin() + static_cast<size_t>(r0) * cols,
             m.begin() + static_cast<size_t>(r0 + n) * cols);
}

// Columns [c0, c0 + n) of a row-major [rows, cols] matrix.
std::vector<float> slice_cols(const std::vector<float>& m, int rows, int cols, int c0, int n) {
  std::vector<float> out(static_cast<size_t>(rows) * n);
  for (int r = 0; r < rows; ++r) {
    std::memcpy(out.data() + static_cast<size_t>(r) * n,
                m.data() + static_cast<size_t>(r) * cols + c0, n * sizeof(float));
  }
  return out;
}

// Tensor ids seeding the hash: global tensors, then kLayerBase + 16 * layer + a per-layer id.
enum GlobalTensor : uint64_t { kEmbedding = 1, kFinalNorm, kLmHead, kLayerBase = 100 };
enum LayerTensor : uint64_t {
  kWq = 0,
  kWk,
  kWv,
  kWo,
  kWgate,
  kWup,
  kWdown,
  kAttnNorm,
  kMlpNorm,
};

}  // namespace

ModelWeights make_synthetic_weights(const ModelConfig& c) {
  c.validate();
  const uint64_t seed = c.seed;
  const int d = c.d_model, attn = c.attn_dim(), ffn = c.ffn_dim, g = c.group_size;
  const int a_local = c.heads_per_device() * c.head_dim, f_local = c.ffn_per_device();
  // Standard deviations keep activations O(1): 1/sqrt(fan_in) for projections, a little more
  // for the LM head so logits are spread enough for argmax and sampling to be well conditioned.
  const float s_in = 1.0f / std::sqrt(static_cast<float>(d));

  ModelWeights w;
  w.embedding = random_tensor(seed, kEmbedding, static_cast<size_t>(c.vocab_size) * d, 1.0f);
  w.final_norm = norm_weights(seed, kFinalNorm, d);
  const auto lm = random_tensor(seed, kLmHead, static_cast<size_t>(c.vocab_size) * d, 2 * s_in);
  w.lm_head = quantize_int4(lm.data(), c.vocab_size, d, g);

  w.layers.resize(c.n_layers);
  for (int l = 0; l < c.n_layers; ++l) {
    const uint64_t base = kLayerBase + 16 * static_cast<uint64_t>(l);
    const size_t d_attn = static_cast<size_t>(attn) * d, d_ffn = static_cast<size_t>(ffn) * d;
    const auto wq = random_tensor(seed, base + kWq, d_attn, s_in);
    const auto wk = random_tensor(seed, base + kWk, d_attn, s_in);
    const auto wv = random_tensor(seed, base + kWv, d_attn, s_in);
    const auto wo = random_tensor(seed, base + kWo, d_attn, 1.0f / std::sqrt(float(attn)));
    const auto wg = random_tensor(seed, base + kWgate, d_ffn, s_in);
    const auto wu = random_tensor(seed, base + kWup, d_ffn, s_in);
    const auto wd = random_tensor(seed, base + kWdown, d_ffn, 1.0f / std::sqrt(float(ffn)));
    LayerWeights& lw = w.layers[l];
    lw.attn_norm = norm_weights(seed, base + kAttnNorm, d);
    lw.mlp_norm = norm_weights(seed, base + kMlpNorm, d);
    for (int dev = 0; dev < c.devices; ++dev) {
      LayerShard s;
      std::vector<float> qkv;
      append_rows(wq, d, dev * a_local, a_local, qkv);
      append_rows(wk, d, dev * a_local, a_local, qkv);
      append_rows(wv, d, dev * a_local, a_local, qkv);
      s.wqkv = quantize_int4(qkv.data(), 3 * a_local, d, g);
      s.wo = quantize_int4(slice_cols(wo, d, attn, dev * a_local, a_local).data(), d, a_local, g);
      std::vector<float> gu;
      append_rows(wg, d, dev * f_local, f_local, gu);
      append_rows(wu, d, dev * f_local, f_local, gu);
      s.wgu = quantize_int4(gu.data(), 2 * f_local, d, g);
      s.wdown = quantize_int4(slice_cols(wd, d, ffn, dev * f_local, f_local).data(), d, f_local, g);
      lw.shards.push_back(std::move(s));
    }
  }
  return w;
}

}  // namespace llm
