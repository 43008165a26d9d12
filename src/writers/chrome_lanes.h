// Lanes for Chrome JSON: Perfetto drops an "X" slice that overlaps another slice of its thread
// without nesting inside it (an overlapping kernel pair on a stream, a request's queue wait
// that began between two steps), so such events are written on extra threads of their process,
// one per lane, and nothing is lost.
//
// A track's duration events, taken in (ts, longest first, sequence) order, go to the first lane
// where they nest inside the open events, else to a new lane; lane 0 is the track itself. A
// request's own spans on a thread with events of its own (a queue wait the scheduler records
// when it admits the request) take lanes after those: they are not part of its call stack.
#pragma once

#include <cstdint>
#include <vector>

#include "src/core/trace_store.h"

namespace huoyan {

struct ChromeLanes {
  EventSeq begin = 0;           // lane[seq - begin] is the lane of event seq (0: its track)
  std::vector<uint16_t> lane;   // empty when no event needs a lane
  std::vector<uint16_t> lanes;  // per track: lanes beyond the track itself
  uint64_t moved = 0;           // events written on a lane

  uint16_t of(EventSeq seq) const {
    return seq >= begin && seq - begin < lane.size() ? lane[seq - begin] : 0;
  }
};

// Holds one 24-byte record per duration event while it sorts them per track.
ChromeLanes assign_chrome_lanes(const Snapshot& snapshot);

}  // namespace huoyan
