// The timeline behind GET /api/timeline: per track (device stream or host thread) and nesting
// depth, duration events in time order, and a level-of-detail renderer that keeps a response
// to a few thousand events whatever the window holds.
//
// Level of detail: per track and depth, events narrower than one pixel ((end - start) / width)
// whose gap to the previous one is at most a pixel merge into one block carrying the name and
// id of its longest member; the track's "merged" counts the events absorbed. So one depth of
// one track yields at most about 2 × width items.
//
// Cost: events of one depth never overlap (a deeper lane takes any event that starts inside
// another), so each lane is sorted by start and by end. Aligned runs of 64, 128, … events carry
// a summary (longest event, widest event, widest gap) that lets the renderer swallow a whole run
// into the current block in one step: a zoomed-out view of millions of events costs
// O(width × log n), not O(n).
//
// An index holds a Snapshot (its chunks stay alive) and about 8.5 bytes per event; it is
// immutable once built and safe to render from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "src/core/trace_store.h"
#include "src/io/sink.h"

namespace huoyan::server {

class TimelineIndex {
 public:
  // Every duration event of the snapshot.
  static std::shared_ptr<const TimelineIndex> build(Snapshot snapshot);
  // Only the events `seqs` (e.g. one request's); sequences outside the snapshot are ignored.
  static std::shared_ptr<const TimelineIndex> build(Snapshot snapshot,
                                                    const std::vector<EventSeq>& seqs);

  bool empty() const { return start_ == kNoTime; }
  int64_t start() const { return start_; }  // earliest event start, kNoTime when empty
  int64_t end() const { return end_; }      // latest event end
  size_t events() const { return events_; }

  struct Window {
    int64_t start = 0;  // [start, end) in store ns; end > start
    int64_t end = 0;
    uint32_t width = 1600;  // pixels
  };
  // {"start_ns":"…","end_ns":"…","span_ns":n,"names":[…],"tracks":[…]} (see docs/api.md).
  void write_json(const Window& window, BufferedOut& out) const;

 private:
  struct Ref {
    uint32_t chunk;   // index into chunks_
    uint32_t offset;  // event index inside the chunk
  };
  // A run of kRun << level consecutive events of a lane.
  struct Summary {
    int64_t max_dur = 0;
    int64_t max_gap = 0;   // largest start - previous end inside the run
    uint32_t longest = 0;  // lane index of its first longest event
  };
  struct Lane {
    std::vector<Ref> items;                  // by start (and so by end)
    std::vector<std::vector<Summary>> runs;  // runs[level][i]: items [i, i+1) × (kRun << level)
  };
  struct Track {
    TrackId id = 0;
    std::vector<Ref> pending;  // while building: every event, then split into lanes
    std::vector<Lane> lanes;   // lanes[depth]
  };
  static constexpr uint32_t kRun = 64;

  void add(const Chunk* chunk, uint32_t offset);
  void finish();
  void summarize(Lane& lane) const;
  const Event& event(Ref r) const { return chunks_[r.chunk]->event(r.offset); }
  EventSeq seq(Ref r) const { return chunks_[r.chunk]->first_seq() + r.offset; }

  Snapshot snapshot_;
  std::vector<const Chunk*> chunks_;
  std::vector<Track> tracks_;        // display order: devices first, then by sort index and id
  std::vector<int32_t> track_slot_;  // TrackId → index in tracks_, -1 when none
  int64_t start_ = kNoTime;
  int64_t end_ = kNoTime;
  size_t events_ = 0;
};

}  // namespace huoyan::server
