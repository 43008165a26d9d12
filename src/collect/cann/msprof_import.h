// Imports an exported msprof folder into a live recording's store, so the kernels of an ACL
// profiling collection land where msPTI's would.
//
// The folder is read by the same readers `huoyan convert` uses (src/readers/sniff.h) into a
// scratch store, then copied event by event into the live store:
//  - times: msprof writes Unix-epoch wall clock (CLOCK_REALTIME); `offset_ns` (the ClockSync
//    offset of that clock) moves them onto the store's CLOCK_MONOTONIC base;
//  - device tasks: the tracks of NPU processes that carry device activity ("Ascend
//    Hardware", one row per stream) become device_track(kNpu, device, stream), the rows
//    msPTI's kernels use; every other process (CANN API layers, counters, overlap analysis)
//    keeps its own pid, names and labels;
//  - steps: a device task whose launching API call (same connection id, on a host thread) falls
//    inside a step recorded on that thread gets that step's id, as a kernel launched inside a
//    step does under msPTI. Tasks without such a launch keep step 0.
// Strings are re-interned in the live store; skip counters and metadata are carried over.
//
// Threading: takes the live store's writer for the copy; do not hold one while calling.
#pragma once

#include <cstdint>
#include <string>

#include "src/core/status.h"
#include "src/core/trace_store.h"

namespace huoyan {

struct MsprofImportStats {
  uint64_t events = 0;   // events copied into the store
  uint64_t kernels = 0;  // of which EventKind::kKernel
  uint64_t stepped = 0;  // device events given a step
};

Result<MsprofImportStats> import_msprof_folder(const std::string& dir, TraceStore& store,
                                               int64_t offset_ns);

}  // namespace huoyan
