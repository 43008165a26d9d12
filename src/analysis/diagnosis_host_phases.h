// The host phases of the serving loop, found by where they run rather than by name: on a loop
// thread, the outermost spans that mostly run while no device works. Part of building a
// DiagnosisContext (diagnosis_context.cc).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "src/analysis/diagnosis_context.h"
#include "src/core/string_table.h"

namespace huoyan {

struct HostSpan {
  int64_t ts;
  int64_t end;
  StringId name;
  bool lock;            // named like a lock wait (is_lock_name)
  uint64_t step;        // 0: outside steps
  int64_t lock_arg_ns;  // its `lock_wait_ns` args: lock waits it reports inside itself
};

struct HostPhaseInput {
  const std::vector<std::vector<HostSpan>>* spans = nullptr;  // per loop thread, any order
  // Every device's work intervals [ts, end), any order (sorted here).
  std::vector<std::pair<int64_t, int64_t>>* device_work = nullptr;
  // Start times of each step's device work, sorted.
  const std::unordered_map<uint64_t, std::vector<int64_t>>* device_starts = nullptr;
  const std::vector<StepFacts>* steps = nullptr;
  const StringTable* strings = nullptr;
};

// Fills ctx->host_phases, host_phase_ns, loop_ns, loop_steps, phase_lock_ns, phase_lock_waits
// and phase_lock_name.
//
// A span of a step is a phase when none of that step's device work starts inside it; a span
// outside steps when device work covers less than half of it. Spans that launch or wait for
// the device (forward, a layer, a synchronize) are looked into instead, so their children can be
// phases. A phase's time is its time not overlapped by device work: host work the device runs
// beside (an engine that prepares step N+1 during step N) holds nothing back.
void compute_host_phases(const HostPhaseInput& in, DiagnosisContext* ctx);

}  // namespace huoyan
