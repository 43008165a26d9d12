// Row-wise kernels of the transformer. Each function processes rows [row_begin, row_end) so a
// launch can split rows across workers; every row is computed independently of the others.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/kv_cache.h"

namespace llm {

// out[r] = table[tokens[r]] (d floats per row).
void embedding(const float* table, int d, const int32_t* tokens, float* out, int row_begin,
               int row_end);

// out[r] = x[rows[r]] / rms(x[rows[r]]) * weight. rows == nullptr means the identity mapping, so
// the final norm can gather just the rows that produce logits.
void rms_norm(const float* x, const int32_t* rows, const float* weight, int d, float eps,
              float* out, int row_begin, int row_end);

// Rotary embedding table: cos/sin of position * theta^(-2i/head_dim), [max_pos][head_dim / 2].
struct RopeTable {
  int head_dim = 0;
  int max_pos = 0;
  std::vector<float> cos, sin;
  RopeTable(int head_dim, int max_pos, float theta);
};

// Rotates the q and k heads of each row of qkv ([q heads | k heads | v heads], each heads x
// head_dim, rotate-half convention) at the row's position, then stores the row's K and V into its
// slot of the paged cache (sequence seq_index[r], table tables[...]).
void rope_and_cache(float* qkv, int qkv_stride, const int32_t* pos, const int32_t* seq_index,
                    const std::span<const int32_t>* tables, const RopeTable& rope,
                    PagedKvCache& cache, int device, int layer, int row_begin, int row_end);

// out[r][i] = silu(gu[r][i]) * gu[r][ffn + i]: gate and up halves of one fused projection.
void swiglu(const float* gu, int ffn, float* out, int row_begin, int row_end);

// x[r] += parts[0][r] + parts[1][r] + ... (fixed order, so every device gets identical sums).
void all_reduce_add(const float* const* parts, int n_parts, int d, float* x, int row_begin,
                    int row_end);

struct SamplingParams {
  float temperature = 0.0f;  // <= 0: greedy (argmax, lowest id on ties).
  int top_k = 0;             // 0: whole vocabulary.
  uint64_t seed = 0;         // Per request; with the position it fully determines the draw.
};

// Samples one token from logits. The random draw is a hash of (seed, position) - position being
// where the token will sit - so a request replays identically, even after preemption.
int32_t sample_token(const float* logits, int vocab, const SamplingParams& params,
                     uint64_t position);

}  // namespace llm
