// Records every kernel slice of the engine as a huoyan device kernel: device "CPU <d>", stream
// = worker index, in the step that launched it (the engine passes the step id it was given by
// the scheduler as the record's context). The engine's regions become host spans on the thread
// that runs the forward pass: "layer.<i>" with "attention" and "mlp" inside, and "lm_head", so
// a request's flame graph shows which layer and which block its kernels ran in.
#pragma once

#include <huoyan/huoyan.h>

#include <vector>

#include "model/observer.h"

namespace llm_server {

class KernelRecorder final : public llm::KernelObserver {
 public:
  // `n_layers`: the model's layers (their span names are interned here, once).
  explicit KernelRecorder(int n_layers);

  void on_kernel(const llm::KernelRecord& record) noexcept override;
  void on_region_begin(llm::Region region, int layer) noexcept override;
  void on_region_end(llm::Region region, int layer) noexcept override;

 private:
  std::vector<huoyan::SpanName> layers_;
  huoyan::SpanName attention_, mlp_, head_, layer_;  // layer_: a layer beyond n_layers
};

}  // namespace llm_server
