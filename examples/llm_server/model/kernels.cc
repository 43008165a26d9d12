#include "model/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "model/rng.h"
#include "model/simd.h"

namespace llm {

void embedding(const float* table, int d, const int32_t* tokens, float* out, int row_begin,
               int row_end) {
  for (int r = row_begin; r < row_end; ++r) {
    std::memcpy(out + static_cast<size_t>(r) * d, table + static_cast<size_t>(tokens[r]) * d,
                d * sizeof(float));
  }
}

void rms_norm(const float* x, const int32_t* rows, const float* weight, int d, float eps,
              float* out, int row_begin, int row_end) {
  for (int r = row_begin; r < row_end; ++r) {
    const float* xr = x + static_cast<size_t>(rows ? rows[r] : r) * d;
    const float inv = 1.0f / std::sqrt(simd::dot(xr, xr, d) / d + eps);
    float* o = out + static_cast<size_t>(r) * d;
    for (int i = 0; i < d; ++i) o[i] = xr[i] * inv * weight[i];
  }
}

RopeTable::RopeTable(int head_dim_, int max_pos_, float theta)
    : head_dim(head_dim_), max_pos(max_pos_) {
  const int half = head_dim / 2;
  cos.resize(static_cast<size_t>(max_pos) * half);
  sin.resize(cos.size());
  for (int p = 0; p < max_pos; ++p) {
    for (int i = 0; i < half; ++i) {
      // Double precision so the table is accurate at long positions.
      const double angle = p * std::pow(static_cast<double>(theta), -2.0 * i / head_dim);
      cos[static_cast<size_t>(p) * half + i] = static_cast<float>(std::cos(angle));
      sin[static_cast<size_t>(p) * half + i] = static_cast<float>(std::sin(angle));
    }
  }
}

namespace {

void rotate(float* v, const float* c, const float* s, int half) {
  for (int i = 0; i < half; ++i) {
    const float a = v[i], b = v[i + half];
    v[i] = a * c[i] - b * s[i];
    v[i + half] = a * s[i] + b * c[i];
  }
}

}  // namespace

void rope_and_cache(float* qkv, int qkv_stride, const int32_t* pos, const int32_t* seq_index,
                    const std::span<const int32_t>* tables, const RopeTable& rope,
                    PagedKvCache& cache, int device, int layer, int row_begin, int row_end) {
  const int heads = cache.heads(), hd = cache.head_dim(), bs = cache.block_size();
  const int half = hd / 2;
  for (int r = row_begin; r < row_end; ++r) {
    float* q = qkv + static_cast<size_t>(r) * qkv_stride;
    float* k = q + heads * hd;
    const float* v = k + heads * hd;
    const float* c = rope.cos.data() + static_cast<size_t>(pos[r]) * half;
    const float* s = rope.sin.data() + static_cast<size_t>(pos[r]) * half;
    const int block = tables[seq_index[r]][pos[r] / bs];
    const int slot = pos[r] % bs;
    for (int h = 0; h < heads; ++h) {
      rotate(q + h * hd, c, s, half);
      rotate(k + h * hd, c, s, half);
      std::memcpy(cache.k_page(device, layer, block, h) + slot * hd, k + h * hd,
                  hd * sizeof(float));
      std::memcpy(cache.v_page(device, layer, block, h) + slot * hd, v + h * hd,
                  hd * sizeof(float));
    }
  }
}

void swiglu(const float* gu, int ffn, float* out, int row_begin, int row_end) {
  for (int r = row_begin; r < row_end; ++r) {
    const float* gate = gu + static_cast<size_t>(r) * 2 * ffn;
    const float* up = gate + ffn;
    float* o = out + static_cast<size_t>(r) * ffn;
    for (int i = 0; i < ffn; ++i) o[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
  }
}

void all_reduce_add(const float* const* parts, int n_parts, int d, float* x, int row_begin,
                    int row_end) {
  for (int r = row_begin; r < row_end; ++r) {
    const size_t off = static_cast<size_t>(r) * d;
    for (int i = 0; i < d; ++i) {
      float sum = parts[0][off + i];
      for (int p = 1; p < n_parts; ++p) sum += parts[p][off + i];
      x[off + i] += sum;
    }
  }
}

int32_t sample_token(const float* logits, int vocab, const SamplingParams& params,
                     uint64_t position) {
  if (params.temperature <= 0.0f) {
    return static_cast<int32_t>(std::max_element(logits, logits + vocab) - logits);
  }
  // Candidates in descending logit order (ties: lower id first), truncated to top_k.
  std::vector<int32_t> ids(vocab);
  std::iota(ids.begin(), ids.end(), 0);
  const int k = params.top_k > 0 ? std::min(params.top_k, vocab) : vocab;
  auto by_logit = [logits](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  if (k < vocab) {
    std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), by_logit);
    ids.resize(k);
  }
  const float max_logit = logits[*std::min_element(ids.begin(), ids.end(), by_logit)];
  std::vector<float> weights(ids.size());
  float total = 0.0f;
  for (size_t i = 0; i < ids.size(); ++i) {
    weights[i] = std::exp((logits[ids[i]] - max_logit) / params.temperature);
    total += weights[i];
  }
  const float u = unit_float(hash_combine(params.seed, position)) * total;
  float running = 0.0f;
  for (size_t i = 0; i < ids.size(); ++i) {
    running += weights[i];
    if (u < running) return ids[i];
  }
  return ids.back();  // u rounded up to total.
}

}  // namespace llm
