#include "src/writers/speedscope_writer.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "src/writers/json_out.h"

namespace huoyan {
namespace {

struct Rec {
  int64_t ts;
  int64_t end;
  EventSeq seq;
  uint32_t frame;
  bool independent;  // a device event or a request-owned span: never a call of an open one
  bool owned;        // a request-owned span
};

struct Open {
  uint32_t frame;
  int64_t end;
  bool owned;
};

struct FrameEvent {
  uint64_t at;  // relative to the origin
  uint32_t frame;
  bool open;
};

int64_t saturating_end(const Event& e) {
  const int64_t dur = std::max<int64_t>(e.dur, 0);
  if (e.ts > std::numeric_limits<int64_t>::max() - dur) return std::numeric_limits<int64_t>::max();
  return e.ts + dur;
}

// "NPU 0 / Stream 3" for device streams; named host threads add their tid to their name:
// "llm_server / http 3 (tid 4242)", unnamed ones read "python / Thread 12".
std::string profile_name(const Snapshot& snapshot, TrackId id) {
  std::string label = snapshot.track_label(id);
  const Track& t = snapshot.track(id);
  if (!snapshot.is_device_track(id) && t.name != 0) {
    label += " (tid " + std::to_string(t.tid) + ")";
  }
  return label;
}

template <size_t N>
inline void lit(BufferedOut& out, const char (&s)[N]) {
  out.put(std::string_view(s, N - 1));
}

}  // namespace

Result<SpeedscopeStats> write_speedscope(const Snapshot& snapshot, Sink& sink,
                                         std::string_view name) {
  SpeedscopeStats stats;
  const size_t ntracks = snapshot.tracks().size();
  std::vector<std::vector<Rec>> by_track(ntracks);
  std::vector<uint32_t> frame_of;  // by name StringId; UINT32_MAX = no frame yet
  std::vector<StringId> frames;    // frame index → name
  int64_t origin = std::numeric_limits<int64_t>::max();

  snapshot.for_each([&](const EventView& ev) {
    const Event& e = *ev;
    if (!has_duration(e.kind) || e.track >= ntracks) return;
    if (e.name >= frame_of.size()) {
      frame_of.resize(std::max<size_t>(e.name + 1, frame_of.size() * 2), UINT32_MAX);
    }
    uint32_t& f = frame_of[e.name];
    if (f == UINT32_MAX) {
      f = static_cast<uint32_t>(frames.size());
      frames.push_back(e.name);
    }
    by_track[e.track].push_back(Rec{e.ts, saturating_end(e), ev.seq, f,
                                    snapshot.is_device_event(e) || e.request != 0, e.request != 0});
    origin = std::min(origin, e.ts);
  });

  BufferedOut out(&sink);
  lit(out, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",");
  lit(out, "\"exporter\":\"huoyan\",\"name\":");
  json_string(out, name);
  lit(out, ",\n\"shared\":{\"frames\":[");
  for (size_t i = 0; i < frames.size(); ++i) {
    if (i > 0) out.put(',');
    lit(out, "\n{\"name\":");
    json_string(out, snapshot.str(frames[i]));
    out.put('}');
  }
  frames = {};
  frame_of = {};
  lit(out, "\n]},\n\"profiles\":[");

  // Each track is split into lanes: an event goes to the first lane where it nests inside the
  // open events, else to a new lane. Lane 0 is the track itself; lanes 1… become profiles of
  // their own. A device event or request-owned span also avoids lanes where its frame is open
  // (speedscope counts a frame open twice once); a host span inside one of its name is a
  // recursive call and stays, counted once, as in any profiler.
  struct Lane {
    std::vector<FrameEvent> events;
    std::vector<Open> stack;  // the open events, innermost last
    int64_t start = 0;
    int64_t last_end = 0;
    uint64_t busy = 0;  // time with at least one open event
    int64_t busy_from = 0;
  };
  std::vector<Lane> lanes;
  uint64_t best_busy = 0;
  size_t best_profile = 0;
  const auto rel = [&](int64_t t) {
    return static_cast<uint64_t>(t) - static_cast<uint64_t>(origin);
  };
  const auto close_top = [&](Lane& lane) {
    const auto [frame, end, owned] = lane.stack.back();
    lane.events.push_back(FrameEvent{rel(end), frame, false});
    lane.last_end = std::max(lane.last_end, end);
    lane.stack.pop_back();
    if (lane.stack.empty()) lane.busy += static_cast<uint64_t>(end - lane.busy_from);
  };
  for (size_t tid = 0; tid < ntracks; ++tid) {
    std::vector<Rec>& recs = by_track[tid];
    if (recs.empty()) continue;
    std::sort(recs.begin(), recs.end(), [](const Rec& a, const Rec& b) {
      if (a.ts != b.ts) return a.ts < b.ts;
      if (a.end != b.end) return a.end > b.end;
      return a.seq < b.seq;
    });
    lanes.clear();
    for (const Rec& r : recs) {
      Lane* target = nullptr;
      for (Lane& lane : lanes) {
        while (!lane.stack.empty() && lane.stack.back().end <= r.ts) close_top(lane);
        if (!lane.stack.empty() && r.end > lane.stack.back().end) continue;  // would cross
        // A thread's own phases never nest in a request's span (a queue wait begun between
        // two steps).
        if (!r.owned && !lane.stack.empty() && lane.stack.back().owned) continue;
        const bool open_already =
            r.independent && std::any_of(lane.stack.begin(), lane.stack.end(),
                                         [&](const Open& o) { return o.frame == r.frame; });
        if (open_already) continue;
        target = &lane;
        break;
      }
      if (target == nullptr) {
        target = &lanes.emplace_back();
        target->start = r.ts;
        target->last_end = r.ts;
      }
      if (target->stack.empty()) target->busy_from = r.ts;
      target->events.push_back(FrameEvent{rel(r.ts), r.frame, true});
      target->stack.push_back(Open{r.frame, r.end, r.owned});
    }
    for (Lane& lane : lanes) {
      while (!lane.stack.empty()) close_top(lane);
    }
    stats.events += recs.size();
    recs = {};
    stats.lanes += lanes.size() - 1;

    const std::string track_name = profile_name(snapshot, static_cast<TrackId>(tid));
    for (size_t li = 0; li < lanes.size(); ++li) {
      const Lane& lane = lanes[li];
      if (lane.busy > best_busy) {
        best_busy = lane.busy;
        best_profile = stats.profiles;
      }
      if (stats.profiles++ > 0) out.put(',');
      lit(out, "\n{\"type\":\"evented\",\"name\":");
      json_string(out, li == 0
                           ? track_name
                           : track_name + " (overlapping, lane " + std::to_string(li + 1) + ")");
      lit(out, ",\"unit\":\"nanoseconds\",\"startValue\":");
      json_uint(out, rel(lane.start));
      lit(out, ",\"endValue\":");
      json_uint(out, rel(lane.last_end));
      lit(out, ",\"events\":[");
      for (size_t i = 0; i < lane.events.size(); ++i) {
        const FrameEvent& fe = lane.events[i];
        if (i > 0) out.put(',');
        if (fe.open) {
          lit(out, "\n{\"type\":\"O\",\"frame\":");
        } else {
          lit(out, "\n{\"type\":\"C\",\"frame\":");
        }
        json_uint(out, fe.frame);
        lit(out, ",\"at\":");
        json_uint(out, fe.at);
        out.put('}');
      }
      lit(out, "]}");
    }
  }
  // Opens on the busiest profile; written last because it is known last (JSON keys are
  // unordered).
  lit(out, "\n],\"activeProfileIndex\":");
  json_uint(out, best_profile);
  lit(out, "}\n");
  HUOYAN_RETURN_IF_ERROR(out.flush());
  return stats;
}

}  // namespace huoyan
