#include "model/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "model/simd.h"

namespace llm {
namespace {

// scores[i] = exp(scores[i] - max_score) for i < n; returns 1 / their sum (summed in a fixed
// lane order).
float softmax_unnormalized(float* scores, int n, float max_score) {
  simd::f4 sum = {};
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const simd::f4 e = simd::exp_nonpositive(simd::load4(scores + i) - max_score);
    simd::store4(scores + i, e);
    sum += e;
  }
  float total = (sum[0] + sum[1]) + (sum[2] + sum[3]);
  for (; i < n; ++i) {
    simd::f4 x = {scores[i] - max_score};
    scores[i] = simd::exp_nonpositive(x)[0];
    total += scores[i];
  }
  return 1.0f / total;
}

// Scores of one run of n contiguous K rows: four rows at a time, then one at a time, each row
// with the same arithmetic as simd::dot.
float score_rows(const float* q, const float* k, int n, int hd, float scale, float* out,
                 float max_score) {
  int s = 0;
  for (; s + 4 <= n; s += 4) {
    simd::dot4(q, k + s * hd, hd, hd, out + s);
    for (int j = 0; j < 4; ++j) {
      out[s + j] *= scale;
      max_score = std::max(max_score, out[s + j]);
    }
  }
  for (; s < n; ++s) {
    out[s] = simd::dot(q, k + s * hd, hd) * scale;
    max_score = std::max(max_score, out[s]);
  }
  return max_score;
}

// acc[0..W) += sum over s < n of p[s] * v[s * hd + 0..W): W output dims kept in registers.
template <int W>
void accumulate_rows(const float* p, const float* v, int n, int hd, simd::f4* acc) {
  for (int s = 0; s < n; ++s) {
    const float ps = p[s];
#pragma GCC unroll 8
    for (int j = 0; j < W / 4; ++j) acc[j] += ps * simd::load4(v + s * hd + 4 * j);
  }
}

// Pass 2 over `runs` (block-sized or contiguous) for output dims in chunks of W.
template <int W, class RowsOf>
void weighted_values(const float* probs, int ctx, int run, int hd, RowsOf rows_of, float inv_sum,
                     float* out) {
  for (int d0 = 0; d0 < hd; d0 += W) {
    simd::f4 acc[W / 4] = {};
    for (int start = 0; start < ctx; start += run) {
      accumulate_rows<W>(probs + start, rows_of(start / run) + d0, std::min(run, ctx - start), hd,
                         acc);
    }
    for (int j = 0; j < W / 4; ++j) simd::store4(out + d0 + 4 * j, acc[j] * inv_sum);
  }
}

template <class RowsOf>
void weighted_values(const float* probs, int ctx, int run, int hd, RowsOf rows_of, float inv_sum,
                     float* out) {
  if (hd % 32 == 0) {
    weighted_values<32>(probs, ctx, run, hd, rows_of, inv_sum, out);
  } else {
    weighted_values<8>(probs, ctx, run, hd, rows_of, inv_sum, out);
  }
}

}  // namespace

int64_t paged_attention(const float* q, int q_stride, float* out, int out_stride,
                        const PagedKvCache& cache, int device, int layer,
                        const AttentionQuery& query, int item_begin, int item_end, float* scores) {
  const int heads = cache.heads();
  const int hd = cache.head_dim();
  const int bs = cache.block_size();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  int64_t keys = 0;
  // Token-major: consecutive items are the heads of one token, which walk the same blocks, and
  // a block's per-head pages are adjacent ([block][K|V][head]), so TLB entries and DRAM pages
  // are reused. (Head-major was measured up to 1.5x slower at decode with 8-token blocks.)
  for (int item = item_begin; item < item_end; ++item) {
    const int t = item / heads, h = item % heads;
    const float* qh = q + static_cast<size_t>(t) * q_stride + h * hd;
    const std::span<const int32_t> table = query.tables[query.seq_index[t]];
    const int ctx = query.pos[t] + 1;
    const int n_blocks = (ctx + bs - 1) / bs;

    // Pass 1: scores, one block (page) at a time through the block table.
    float max_score = -std::numeric_limits<float>::infinity();
    for (int b = 0; b < n_blocks; ++b) {
      max_score = score_rows(qh, cache.k_page(device, layer, table[b], h),
                             std::min(bs, ctx - b * bs), hd, scale, scores + b * bs, max_score);
    }
    const float inv_sum = softmax_unnormalized(scores, ctx, max_score);

    // Pass 2: probability-weighted sum of V, again block by block.
    float* oh = out + static_cast<size_t>(t) * out_stride + h * hd;
    weighted_values(
        scores, ctx, bs, hd, [&](int b) { return cache.v_page(device, layer, table[b], h); },
        inv_sum, oh);
    keys += ctx;
  }
  return keys;
}

void attention_reference(const float* q, const float* k, const float* v, int ctx, int head_dim,
                         float* out) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  std::vector<float> scores(ctx);
  const float max_score = score_rows(q, k, ctx, head_dim, scale, scores.data(),
                                     -std::numeric_limits<float>::infinity());
  const float inv_sum = softmax_unnormalized(scores.data(), ctx, max_score);
  weighted_values(
      scores.data(), ctx, ctx, head_dim, [&](int) { return v; }, inv_sum, out);
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
