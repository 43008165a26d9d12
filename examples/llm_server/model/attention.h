// PagedAttention: causal attention of new tokens over their sequence's cached K/V, read through
// the sequence's block table one block at a time.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/kv_cache.h"

namespace llm {

// The query tokens of one launch. Token t belongs to sequence seq_index[t], sits at absolute
// position pos[t] and attends to positions 0..pos[t], whose K/V must already be in the cache.
struct AttentionQuery {
  int n_tokens = 0;
  const int32_t* seq_index = nullptr;
  const int32_t* pos = nullptr;
  const std::span<const int32_t>* tables = nullptr;  // Block table per sequence index.
};

// Work items are (token, head) pairs numbered token * heads + head. Computes items
// [item_begin, item_end): out row t, head h (at out + t * out_stride + h * head_dim) from q laid
// out the same way. scores needs max(pos) + 1 floats. Returns the number of cached positions read
// (each one K and one V row), for cost accounting. head_dim % 8 == 0.
int64_t paged_attention(const float* q, int q_stride, float* out, int out_stride,
                        const PagedKvCache& cache, int device, int layer,
                        const AttentionQuery& query, int item_begin, int item_end, float* scores);

// Contiguous reference: out = softmax(q . K^T / sqrt(head_dim)) V over ctx rows of K and V.
void attention_reference(const float* q, const float* k, const float* v, int ctx, int head_dim,
                         float* out);

// Splits the items of a launch into `parts` contiguous ranges of about equal cost (cost grows
// with context length): bounds gets parts + 1 entries. Deterministic, so a given batch always
// maps to the same worker slices.
void split_attention_items(const AttentionQuery& query, int heads, int parts,
                           std::vector<int>& bounds);

}  // namespace llm
