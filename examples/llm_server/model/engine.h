// The model engine: a decoder-only transformer (RMSNorm, RoPE attention over a paged KV cache,
// SwiGLU MLP, INT4 weights) running on CPU worker pools that stand in for accelerator streams.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "model/config.h"
#include "model/int4.h"
#include "model/kernels.h"
#include "model/kv_cache.h"
#include "model/observer.h"
#include "model/weights.h"
#include "model/worker_pool.h"

namespace llm {

// New tokens of one sequence in a step: a whole prompt, a chunk of one, or one decode token.
struct SequenceInput {
  SeqId seq_id = 0;
  std::vector<int32_t> tokens;
  int start_pos = 0;   // Position of tokens[0]; must equal the tokens already cached for seq_id
                       // (0 for a new sequence or one preempted and now recomputed).
  bool sample = true;  // Emit logits and a sampled token after the last token. False for a
                       // prefill chunk that is not the end of the prompt.
  SamplingParams sampling;
};

struct Batch {
  std::vector<SequenceInput> seqs;
};

struct SequenceOutput {
  SeqId seq_id = 0;
  int32_t token = 0;          // Sampled next token.
  int position = 0;           // Position the token will occupy (start_pos + tokens.size()).
  std::vector<float> logits;  // [vocab_size] next-token logits.
};

struct StepOutput {
  std::vector<SequenceOutput> outputs;  // Sequences with sample == true, in batch order.
  int tokens = 0;                       // Tokens processed by the step.
};

class Engine {
 public:
  // Validates the config, generates the weights and starts devices x workers_per_device threads.
  explicit Engine(const ModelConfig& config);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const ModelConfig& config() const { return config_; }
  int num_devices() const { return config_.devices; }
  int workers_per_device() const { return workers_per_device_; }

  // Kernel slices are reported to observer (nullptr: off). Do not change it during forward().
  void set_observer(KernelObserver* observer) {
    observer_.store(observer, std::memory_order_release);
  }

  // Runs one step: appends each sequence's tokens to the KV cache (allocating blocks) and
  // computes next-token logits and samples for sequences with sample == true. The result for a
  // sequence is bit-identical whatever else is in the batch. context is reported with every
  // kernel. Throws std::invalid_argument on a malformed batch and std::runtime_error if the KV
  // cache lacks blocks; in both cases nothing is changed. One caller thread at a time.
  StepOutput forward(const Batch& batch, uint64_t context = 0);

  // KV-cache budgeting for a scheduler (same thread as forward()).
  bool can_allocate(int n_tokens) const { return cache_.can_allocate(n_tokens); }
  bool can_append(SeqId seq, int n_new) const { return cache_.can_append(seq, n_new); }
  int blocks_needed(const Batch& batch) const;
  int free_blocks() const { return cache_.num_free_blocks(); }
  int seq_len(SeqId seq) const { return cache_.seq_len(seq); }
  // Frees a finished or preempted sequence's blocks. A preempted sequence restarts at position 0.
  void release(SeqId seq) { cache_.free(seq); }
  const PagedKvCache& kv_cache() const { return cache_; }

 private:
  struct WorkerScratch {
    Int4Scratch gemm;
    std::vector<float> scores;
  };
  struct Device {
    std::unique_ptr<WorkerPool> pool;
    std::vector<WorkerScratch> scratch;  // One per worker.
    std::vector<float> x, xn, qkv, attn, partial, gu, act;
  };

  // Runs fn(device, worker, attrs) -> bool on every worker of devices [0, n_devices) and waits.
  // fn returns whether the worker had work; only those slices are reported to the observer.
  template <class Fn>
  void launch(const char* name, int n_devices, Fn&& fn);

  void prepare(const Batch& batch);
  void run_layer(int layer);
  void run_head(StepOutput& out, const Batch& batch);
  // Sequences among rows [r0, r1) (rows are grouped by sequence in batch order).
  int seqs_in_rows(int r0, int r1) const {
    return r0 < r1 ? seq_index_[r1 - 1] - seq_index_[r0] + 1 : 0;
  }
  // One worker's column slice of y = x . W^T (+= when accumulate); false if the slice is empty.
  bool gemm(int device, const Int4Matrix& w, const float* x, int m, float* y, bool accumulate,
            int batch, int worker, KernelAttrs& attrs);

  ModelConfig config_;
  int workers_per_device_;
  ModelWeights weights_;
  RopeTable rope_;
  PagedKvCache cache_;
  std::vector<Device> devices_;
  std::atomic<KernelObserver*> observer_{nullptr};
  uint64_t context_ = 0;

  // Per-step plan: one row per token, rows grouped by sequence in batch order.
  int rows_ = 0;
  int n_seqs_ = 0;
  std::vector<int32_t> tokens_, pos_, seq_index_;
  std::vector<std::span<const int32_t>> tables_;
  std::vector<int32_t> out_rows_;  // Row of each sampled sequence's last token.
  std::vector<int32_t> out_batch_index_;
  std::vector<int> attn_bounds_;  // Attention item split per worker.
  std::vector<float> head_x_, logits_;
  std::vector<int32_t> sampled_;
};

}  // namespace llm
