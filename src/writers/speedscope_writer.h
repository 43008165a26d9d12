// speedscope JSON writer (https://www.speedscope.app/file-format-schema.json): "evented"
// profiles of every track (device stream or host thread) that has duration events, unit
// nanoseconds, frames shared (one per distinct event name). Output shape:
//
//   {"$schema":"https://www.speedscope.app/file-format-schema.json","exporter":"huoyan",
//    "name":<name>,
//    "shared":{"frames":[{"name":"gemm"},…]},
//    "profiles":[
//    {"type":"evented","name":"GPU 0 / Stream 7","unit":"nanoseconds","startValue":0,
//     "endValue":1500,"events":[{"type":"O","frame":0,"at":0},{"type":"C","frame":0,"at":1500},…]},
//    …],
//    "activeProfileIndex":<the busiest profile>}
//
// "at", "startValue" and "endValue" are ns relative to the earliest duration event of the whole
// snapshot (absolute epoch ns would lose precision in speedscope's doubles), so profiles share
// one time origin. Nothing is clipped or lost: a track's duration events, taken in (ts, longest
// first, insertion order), go to the first of its lanes where they nest properly inside the
// open events, else to a new lane. Device events and request-owned spans also avoid lanes where
// their name is open (speedscope counts a frame that is open twice once), while a host span
// inside one of its name is a recursive call and nests. A thread's own spans never nest in a
// request-owned one (a queue wait that began between two steps). Lane 0 is the profile named
// after the track; every further lane is one more profile, "<track> (overlapping, lane N)". So
// each kernel's total time in speedscope is the sum of its durations, what `huoyan top`
// reports, and so is every host span's that is not recursive. Profiles are named after their
// track, named host threads with their tid: "llm_server / scheduler (tid 4242)". The file opens
// on the profile with the most busy time (time with at least one event open). Instants,
// counters, flows and async events are not written.
#pragma once

#include "src/core/trace_store.h"
#include "src/io/sink.h"

namespace huoyan {

struct SpeedscopeStats {
  uint64_t lanes = 0;     // extra profiles for events that overlap without nesting
  uint64_t events = 0;    // duration events written
  uint64_t profiles = 0;  // tracks written
};

// Holds one small record per duration event in memory (for the per-track sort), never the
// document. Does not call sink.finish().
Result<SpeedscopeStats> write_speedscope(const Snapshot& snapshot, Sink& sink,
                                         std::string_view name = "huoyan");

}  // namespace huoyan
