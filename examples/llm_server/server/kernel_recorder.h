// Records every kernel slice of the engine as a huoyan device kernel: device "CPU <d>", stream
// = worker index, in the step that launched it (the engine passes the step id it was given by
// the scheduler as the record's context).
#pragma once

#include "model/observer.h"

namespace llm_server {

class KernelRecorder final : public llm::KernelObserver {
 public:
  void on_kernel(const llm::KernelRecord& record) noexcept override;
};

}  // namespace llm_server
