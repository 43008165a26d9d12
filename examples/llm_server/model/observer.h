// Kernel observer hook: how a profiler sees the engine's kernels.
#pragma once

#include <time.h>

#include <cstdint>

namespace llm {

// Work done by one kernel slice (the part of a launch executed by one worker).
struct KernelAttrs {
  double flops = 0;    // Arithmetic of the slice's share of the math (2*M*N*K for a GEMM
                       // slice); overheads such as INT4 group epilogues are not counted, so
                       // they show up as lower achieved FLOP/s.
  double bytes = 0;    // Bytes the slice reads plus writes (weights, activations, K/V).
  int group_size = 0;  // Int4Gemm: quantization group size.
  int block_size = 0;  // PagedAttention: KV-cache block size.
  int batch = 0;       // Sequences the slice touched.
  int tokens = 0;      // Tokens (rows) the slice processed.
};

struct KernelRecord {
  const char* name;  // Embedding, RMSNorm, RoPE, PagedAttention, Int4Gemm, SwiGLU, Sampling,
                     // AllReduce. Static storage.
  int device;        // Tensor-parallel group ("CPU <device>").
  int stream;        // Worker index within the device.
  int64_t start_ns;  // CLOCK_MONOTONIC, taken on the worker thread.
  int64_t end_ns;
  uint64_t context;  // Value passed to Engine::forward (the server's step id).
  KernelAttrs attrs;
};

// The parts of a forward pass the engine brackets, outermost first: each layer, the attention
// and MLP blocks inside it, and the LM head (final norm, vocabulary projection, sampling).
enum class Region : uint8_t { kLayer, kAttention, kMlp, kHead };

// "layer", "attention", "mlp", "lm_head".
const char* region_name(Region region);

class KernelObserver {
 public:
  virtual ~KernelObserver() = default;
  // Brackets a region of the forward pass on the thread that called Engine::forward (the one
  // that launches every kernel and waits for it), so the kernels launched in between belong to
  // it. `layer` is the layer index of kLayer, kAttention and kMlp, -1 for kHead. Calls nest and
  // pair up; at most three are open at once. Default: nothing.
  virtual void on_region_begin(Region /*region*/, int /*layer*/) noexcept {}
  virtual void on_region_end(Region /*region*/, int /*layer*/) noexcept {}
  // Called on the worker thread that executed the slice, right after it finished; workers that
  // got no share of a launch report nothing. Must be thread-safe (workers of all devices call
  // concurrently) and cheap: the launch completes only when every call has returned.
  virtual void on_kernel(const KernelRecord& record) noexcept = 0;
};

inline int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace llm
