#include "model/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "model/simd.h"

namespace llm {
namespace {

// Softmax in place over scores[0..n); returns 1 / sum of the exponentials.
float softmax_unnormalized(float* scores, int n, float max_score) {
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) {
    scores[i] = std::exp(scores[i] - max_score);
    sum += scores[i];
  }
  return 1.0f / sum;
}

constexpr int kMaxHeadDim = 512;

}  // namespace

int64_t paged_attention(const float* q, int q_stride, float* out, int out_stride,
                        const PagedKvCache& cache, int device, int layer,
                        const AttentionQuery& query, int item_begin, int item_end, float* scores) {
  const int heads = cache.heads();
  const int hd = cache.head_dim();
  const int bs = cache.block_size();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  int64_t keys = 0;
  for (int item = item_begin; item < item_end; ++item) {
    const int t = item / heads, h = item % heads;
    const float* qh = q + static_cast<size_t>(t) * q_stride + h * hd;
    const std::span<const int32_t> table = query.tables[query.seq_index[t]];
    const int ctx = query.pos[t] + 1;
    const int n_blocks = (ctx + bs - 1) / bs;

    // Pass 1: scores, one block (page) at a time through the block table.
    float max_score = -std::numeric_limits<float>::infinity();
    for (int b = 0; b < n_blocks; ++b) {
      const float* kp = cache.k_page(device, layer, table[b], h);
      const int n = std::min(bs, ctx - b * bs);
      float* sb = scores + b * bs;
      for (int s = 0; s < n; ++s) {
        sb[s] = simd::dot(qh, kp + s * hd, hd) * scale;
        max_score = std::max(max_score, sb[s]);
      }
    }
    const float inv_sum = softmax_unnormalized(scores, ctx, max_score);

    // Pass 2: probability-weighted sum of V, again block by block.
    float acc[kMaxHeadDim];
    std::fill_n(acc, hd, 0.0f);
    for (int b = 0; b < n_blocks; ++b) {
      const float* vp = cache.v_page(device, layer, table[b], h);
      const int n = std::min(bs, ctx - b * bs);
      const float* pb = scores + b * bs;
      for (int s = 0; s < n; ++s) simd::axpy(pb[s], vp + s * hd, acc, hd);
    }
    float* oh = out + static_cast<size_t>(t) * out_stride + h * hd;
    for (int d = 0; d < hd; ++d) oh[d] = acc[d] * inv_sum;
    keys += ctx;
  }
  return keys;
}

void attention_reference(const float* q, const float* k, const float* v, int ctx, int head_dim,
                         float* out) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  std::vector<float> scores(ctx);
  float max_score = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < ctx; ++i) {
    scores[i] = simd::dot(q, k + static_cast<size_t>(i) * head_dim, head_dim) * scale;
    max_score = std::max(max_score, scores[i]);
  }
  const float inv_sum = softmax_unnormalized(scores.data(), ctx, max_score);
  std::vector<float> acc(head_dim, 0.0f);
  for (int i = 0; i < ctx; ++i) {
    simd::axpy(scores[i], v + static_cast<size_t>(i) * head_dim, acc.data(), head_dim);
  }
  for (int d = 0; d < head_dim; ++d) out[d] = acc[d] * inv_sum;
}

void split_attention_items(const AttentionQuery& query, int heads, int parts,
                           std::vector<int>& bounds) {
  // Cost of a (token, head) item: its context plus a constant for q/out traffic.
  constexpr int64_t kItemOverhead = 16;
  int64_t total = 0;
  for (int t = 0; t < query.n_tokens; ++t) total += (query.pos[t] + 1 + kItemOverhead) * heads;
  bounds.assign(parts + 1, query.n_tokens * heads);
  bounds[0] = 0;
  int64_t running = 0;
  int part = 1;
  for (int t = 0; t < query.n_tokens && part < parts; ++t) {
    const int64_t cost = query.pos[t] + 1 + kItemOverhead;
    for (int h = 0; h < heads && part < parts; ++h) {
      running += cost;
      while (part < parts && running * parts >= total * part) bounds[part++] = t * heads + h + 1;
    }
  }
}

}  // namespace llm
