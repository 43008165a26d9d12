// Model configuration of the reference LLM engine.
#pragma once

#include <cstdint>

namespace llm {

// Byte-level vocabulary: ids 0..255 are raw bytes, followed by two specials.
inline constexpr int32_t kBosToken = 256;
inline constexpr int32_t kEosToken = 257;
inline constexpr int kVocabSize = 258;

struct ModelConfig {
  int vocab_size = kVocabSize;  // Fixed by the byte-level tokenizer.
  // Defaults: 20.7M parameters (11.6 MB as INT4), 24 KB of fp32 K/V per token; several hundred
  // generated tokens/s at batch 8-16 on two cores (see README.md).
  int d_model = 512;
  int n_layers = 6;
  int n_heads = 8;
  int head_dim = 64;
  int ffn_dim = 1536;
  int max_seq_len = 2048;
  int group_size = 128;        // INT4 quantization group along the input dimension.
  int block_size = 16;         // Token slots per KV-cache block.
  int num_kv_blocks = 512;     // 8192 token slots (192 MB at the default shape, committed lazily).
  int devices = 1;             // Tensor-parallel degree; each device owns n_heads/devices heads.
  int workers_per_device = 0;  // Streams per device; 0 = max(1, hardware threads / devices).
  uint64_t seed = 1;           // Seed of the synthetic weights.
  float rope_theta = 10000.0f;
  float norm_eps = 1e-5f;

  int attn_dim() const { return n_heads * head_dim; }
  int heads_per_device() const { return n_heads / devices; }
  int ffn_per_device() const { return ffn_dim / devices; }

  // Throws std::invalid_argument naming the first violated constraint. Quantized matrices are
  // split along their input dimension for tensor parallelism, so every per-device input width
  // (d_model, attn_dim/devices, ffn_dim/devices) must be a whole number of groups.
  void validate() const;
};

}  // namespace llm
