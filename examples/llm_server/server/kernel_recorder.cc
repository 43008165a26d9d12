#include "server/kernel_recorder.h"

#include <huoyan/huoyan.h>

#include <algorithm>
#include <iterator>
#include <string>

namespace llm_server {

KernelRecorder::KernelRecorder(int n_layers)
    : attention_(llm::region_name(llm::Region::kAttention)),
      mlp_(llm::region_name(llm::Region::kMlp)),
      head_(llm::region_name(llm::Region::kHead)),
      layer_(llm::region_name(llm::Region::kLayer)) {
  layers_.reserve(static_cast<size_t>(std::max(n_layers, 0)));
  for (int i = 0; i < n_layers; ++i) layers_.emplace_back("layer." + std::to_string(i));
}

void KernelRecorder::on_region_begin(llm::Region region, int layer) noexcept {
  switch (region) {
    case llm::Region::kLayer:
      huoyan::begin_span(layer >= 0 && static_cast<size_t>(layer) < layers_.size()
                             ? layers_[static_cast<size_t>(layer)]
                             : layer_);
      return;
    case llm::Region::kAttention:
      huoyan::begin_span(attention_);
      return;
    case llm::Region::kMlp:
      huoyan::begin_span(mlp_);
      return;
    case llm::Region::kHead:
      huoyan::begin_span(head_);
      return;
  }
}

void KernelRecorder::on_region_end(llm::Region, int) noexcept { huoyan::end_span(); }

void KernelRecorder::on_kernel(const llm::KernelRecord& k) noexcept {
  // Workers belong to the engine's pools; each is named on its first kernel.
  thread_local bool named = false;
  if (!named) {
    named = true;
    huoyan::set_thread_name("worker " + std::to_string(k.device) + "." + std::to_string(k.stream));
  }
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
