#include "server/kernel_recorder.h"

#include <huoyan/huoyan.h>

#include <iterator>

namespace llm_server {

void KernelRecorder::on_kernel(const llm::KernelRecord& k) noexcept {
  const llm::KernelAttrs& a = k.attrs;
  // Int4Gemm carries group_size, PagedAttention block_size, the others neither.
  const bool gemm = a.group_size > 0;
  const bool attention = a.block_size > 0;
  const huoyan::Attr attrs[] = {
      {"flops", a.flops},
      {"bytes", a.bytes},
      {"batch", a.batch},
      {"tokens", a.tokens},
      {gemm ? "group_size" : "block_size", gemm ? a.group_size : a.block_size},
  };
  const size_t n = std::size(attrs) - ((gemm || attention) ? 0 : 1);
  // Both clocks are CLOCK_MONOTONIC in ns (llm::monotonic_ns and huoyan::now_ns).
  huoyan::record_kernel({.name = k.name,
                         .device_type = huoyan::DeviceKind::kCpu,
                         .device = k.device,
                         .stream = k.stream,
                         .start_ns = k.start_ns,
                         .end_ns = k.end_ns,
                         .step = k.context,
                         .attr_span = std::span<const huoyan::Attr>(attrs, n)});
}

}  // namespace llm_server
