#include "model/config.h"

#include <stdexcept>
#include <string>

namespace llm {
namespace {

void require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(std::string("ModelConfig: ") + what);
}

}  // namespace

void ModelConfig::validate() const {
  require(vocab_size == kVocabSize, "vocab_size must be 258 (byte-level tokenizer)");
  require(d_model > 0 && n_layers > 0 && n_heads > 0 && ffn_dim > 0, "dimensions must be > 0");
  require(head_dim > 0 && head_dim % 8 == 0 && head_dim <= 512,
          "head_dim must be a multiple of 8, at most 512");
  require(max_seq_len > 0, "max_seq_len must be > 0");
  require(group_size >= 32 && group_size % 32 == 0, "group_size must be a multiple of 32");
  require(block_size >= 1 && block_size <= 1024, "block_size must be in [1, 1024]");
  require(num_kv_blocks > 0, "num_kv_blocks must be > 0");
  require(devices >= 1 && devices <= 64, "devices must be in [1, 64]");
  require(workers_per_device >= 0, "workers_per_device must be >= 0");
  require(n_heads % devices == 0, "n_heads must be divisible by devices");
  require(ffn_dim % devices == 0, "ffn_dim must be divisible by devices");
  require(d_model % group_size == 0, "d_model must be a multiple of group_size");
  require((n_heads / devices * head_dim) % group_size == 0,
          "n_heads / devices * head_dim must be a multiple of group_size");
  require((ffn_dim / devices) % group_size == 0,
          "ffn_dim / devices must be a multiple of group_size");
  require(norm_eps > 0 && rope_theta > 0, "norm_eps and rope_theta must be > 0");
}

}  // namespace llm
