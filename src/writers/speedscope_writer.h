// speedscope JSON writer (https://www.speedscope.app/file-format-schema.json): one "evented"
// profile per track (device stream or host thread) that has duration events, unit nanoseconds,
// frames shared (one per distinct event name). Output shape:
//
//   {"$schema":"https://www.speedscope.app/file-format-schema.json","exporter":"huoyan",
//    "name":<name>,"activeProfileIndex":0,
//    "shared":{"frames":[{"name":"gemm"},…]},
//    "profiles":[
//    {"type":"evented","name":"GPU 0 / Stream 7","unit":"nanoseconds","startValue":0,
//     "endValue":1500,"events":[{"type":"O","frame":0,"at":0},{"type":"C","frame":0,"at":1500},…]},
//    …]}
//
// "at", "startValue" and "endValue" are ns relative to the earliest duration event of the whole
// snapshot (absolute epoch ns would lose precision in speedscope's doubles), so profiles share
// one time origin. Each profile is properly nested and monotonic: a track's duration events are
// taken in (ts, longest first, insertion order); one that starts inside the enclosing event but
// ends after it is clipped to the enclosing event's end and counted in `clipped`. Instants,
// counters, flows and async events are not written.
#pragma once

#include "src/core/trace_store.h"
#include "src/io/sink.h"

namespace huoyan {

struct SpeedscopeStats {
  uint64_t clipped = 0;   // events clipped to keep each profile properly nested
  uint64_t events = 0;    // duration events written
  uint64_t profiles = 0;  // tracks written
};

// Holds one small record per duration event in memory (for the per-track sort), never the
// document. Does not call sink.finish().
Result<SpeedscopeStats> write_speedscope(const Snapshot& snapshot, Sink& sink,
                                         std::string_view name = "huoyan");

}  // namespace huoyan
