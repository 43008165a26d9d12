// Request attribution under continuous batching.
//
// A kernel belongs to the step whose scope launched it (Event::step); a step declares its member
// requests and their token counts. A request's device time is then either
//  - shared: every member sees the whole kernel, or
//  - apportioned: kernel time × request tokens / step tokens, in integer ns, with remainders
//    distributed so that the shares of one kernel add up exactly to its duration.
// Pure functions over a store and a snapshot of it.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "src/core/trace_store.h"

namespace huoyan {

enum class AttributionMode { kShared, kApportioned };

bool parse_attribution_mode(std::string_view s, AttributionMode* mode);
std::string_view attribution_mode_name(AttributionMode mode);

// Splits `dur` among `members` proportionally to their tokens (equally when no member has
// tokens) by the largest-remainder method: result[i] >= 0, sum == dur exactly, and ties go to
// the earlier member so the split is deterministic.
std::vector<int64_t> apportion(int64_t dur, std::span<const StepMember> members);

// One device event as seen by one request.
struct AttributedEvent {
  EventSeq seq = 0;
  uint64_t step = 0;
  int64_t ns = 0;          // time attributed to the request under the chosen mode
  uint32_t batch_size = 0; // members of the step
  double share = 1.0;      // request tokens / step tokens (1.0 in shared mode)
};

// The device events launched in the steps `request` was a member of (in step order), and the
// time each contributes to the request. Events not visible in `snapshot` are omitted.
std::vector<AttributedEvent> request_device_events(const TraceStore& store,
                                                   const Snapshot& snapshot, StringId request,
                                                   AttributionMode mode);

// Request-owned host spans (queueing, tokenization, …) and the host spans of its steps.
std::vector<EventSeq> request_host_events(const TraceStore& store, const Snapshot& snapshot,
                                          StringId request);

struct RequestShare {
  StringId request = 0;
  int64_t ns = 0;
  double share = 0;
};
// kernel → requests: who the event at `seq` served and how much of it each got.
std::vector<RequestShare> event_requests(const TraceStore& store, const Snapshot& snapshot,
                                         EventSeq seq, AttributionMode mode);

}  // namespace huoyan
