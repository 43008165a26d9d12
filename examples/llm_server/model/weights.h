// Synthetic model weights, generated from a seed and stored per tensor-parallel device.
#pragma once

#include <vector>

#include "model/config.h"
#include "model/int4.h"

namespace llm {

// One device's slice of a layer (Megatron-style): QKV and gate/up are split by output rows
// (heads, FFN columns), the output and down projections by input columns, so each device
// produces a partial sum of the residual update that an all-reduce completes.
struct LayerShard {
  Int4Matrix wqkv;   // [3 * heads_per_device * head_dim, d_model]: q heads, k heads, v heads.
  Int4Matrix wo;     // [d_model, heads_per_device * head_dim]
  Int4Matrix wgu;    // [2 * ffn_per_device, d_model]: gate rows, then up rows.
  Int4Matrix wdown;  // [d_model, ffn_per_device]
};

struct LayerWeights {
  std::vector<float> attn_norm;  // [d_model], replicated on every device.
  std::vector<float> mlp_norm;
  std::vector<LayerShard> shards;  // One per device.
};

struct ModelWeights {
  std::vector<float> embedding;  // [vocab, d_model], fp32 (a lookup, not a matmul).
  std::vector<float> final_norm;
  Int4Matrix lm_head;  // [vocab, d_model], computed on device 0.
  std::vector<LayerWeights> layers;
};

// Deterministic in (config.seed, the model shape): fp32 master weights are generated tensor by
// tensor from a counter-based hash, sliced per device and group-quantized. The master weights do
// not depend on `devices`, so any tensor-parallel degree quantizes the very same values.
ModelWeights make_synthetic_weights(const ModelConfig& config);

}  // namespace llm
