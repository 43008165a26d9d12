// The collector interface: one class per backend (host, cupti, cann, fake), chosen at run time
// by name. A collector produces events into the profiler's store; device collectors map their
// clock through ClockSync and tag kernels with the step that launched them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/collect/clock.h"
#include "src/core/status.h"
#include "src/core/trace_store.h"

namespace huoyan {

struct CollectorState {
  std::string name;
  std::string state;    // "running", "stopped", "unavailable", "error"
  std::string message;  // why unavailable, or the last error
  uint64_t events = 0;  // events delivered to the store
  uint64_t dropped = 0; // records lost by the backend (e.g. CUPTI dropped records)
};

// What the profiler hands a collector.
struct CollectorContext {
  TraceStore* store = nullptr;
  ClockSync* clocks = nullptr;
};

class Collector {
 public:
  virtual ~Collector() = default;
  virtual std::string_view name() const = 0;
  // Starts collecting. An unavailable backend (library missing, no device) returns an error
  // Status with a clear message; the profiler then keeps running without it.
  virtual Status start(const CollectorContext& context) = 0;
  // Stops and flushes everything buffered into the store.
  virtual void stop() = 0;
  // Flushes buffered records without stopping (used by snapshots); may be a no-op.
  virtual void flush() {}
  // Called on the launching thread when a step opens/closes, so device backends can tag the
  // kernels launched inside it (CUPTI/msPTI external correlation ids).
  virtual void on_step_begin(uint64_t /*step*/) {}
  virtual void on_step_end(uint64_t /*step*/) {}
  virtual CollectorState state() const = 0;
};

}  // namespace huoyan
