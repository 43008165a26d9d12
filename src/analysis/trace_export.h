// Chrome traces of a selection of the store: one request (its device events with attribution
// args, its host spans and those of its steps), or a time window / device. Shared by
// `huoyan convert --request-id` and GET /api/profile.
#pragma once

#include <string>

#include "src/analysis/attribution.h"
#include "src/core/trace_store.h"
#include "src/io/sink.h"

namespace huoyan {

struct ExportFilter {
  StringId request = 0;         // 0: no request filter
  int64_t start_ns = kNoTime;   // keep events overlapping [start_ns, end_ns)
  int64_t end_ns = kNoTime;
  std::string device;           // device label ("NPU 0"); "" = all
  AttributionMode mode = AttributionMode::kApportioned;  // decides args.share for requests
};

// True when the filter selects everything.
inline bool is_unfiltered(const ExportFilter& f) {
  return f.request == 0 && f.start_ns == kNoTime && f.end_ns == kNoTime && f.device.empty();
}

// Writes the selection as Chrome JSON. Kernels of a request carry args request_id, step,
// batch_size and share (the seed's shape plus attribution).
Status write_filtered_chrome_trace(const TraceStore& store, const Snapshot& snapshot,
                                   const ExportFilter& filter, Sink& sink);

}  // namespace huoyan
