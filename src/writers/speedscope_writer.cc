#include "src/writers/speedscope_writer.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "src/writers/json_out.h"

namespace huoyan {
namespace {

struct Rec {
  int64_t ts;
  int64_t end;
  EventSeq seq;
  uint32_t frame;
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
    by_track[e.track].push_back(Rec{e.ts, saturating_end(e), ev.seq, f});
    origin = std::min(origin, e.ts);
  });

  BufferedOut out(&sink);
  lit(out, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",");
  lit(out, "\"exporter\":\"huoyan\",\"name\":");
  json_string(out, name);
  lit(out, ",\"activeProfileIndex\":0,\n\"shared\":{\"frames\":[");
  for (size_t i = 0; i < frames.size(); ++i) {
    if (i > 0) out.put(',');
    lit(out, "\n{\"name\":");
    json_string(out, snapshot.str(frames[i]));
    out.put('}');
  }
  frames = {};
  frame_of = {};
  lit(out, "\n]},\n\"profiles\":[");

  std::vector<FrameEvent> events;
  std::vector<std::pair<uint32_t, int64_t>> stack;  // (frame, end)
  const auto rel = [&](int64_t t) {
    return static_cast<uint64_t>(t) - static_cast<uint64_t>(origin);
  };
  for (size_t tid = 0; tid < ntracks; ++tid) {
    std::vector<Rec>& recs = by_track[tid];
    if (recs.empty()) continue;
    std::sort(recs.begin(), recs.end(), [](const Rec& a, const Rec& b) {
      if (a.ts != b.ts) return a.ts < b.ts;
      if (a.end != b.end) return a.end > b.end;
      return a.seq < b.seq;
    });
    events.clear();
    stack.clear();
    int64_t last_end = recs.front().ts;
    const auto close_top = [&] {
      events.push_back(FrameEvent{rel(stack.back().second), stack.back().first, false});
      last_end = std::max(last_end, stack.back().second);
      stack.pop_back();
    };
    for (const Rec& r : recs) {
      while (!stack.empty() && stack.back().second <= r.ts) close_top();
      int64_t end = r.end;
      if (!stack.empty() && end > stack.back().second) {
        end = stack.back().second;
        ++stats.clipped;
      }
      events.push_back(FrameEvent{rel(r.ts), r.frame, true});
      stack.emplace_back(r.frame, end);
    }
    while (!stack.empty()) close_top();
    stats.events += recs.size();
    recs = {};

    if (stats.profiles++ > 0) out.put(',');
    lit(out, "\n{\"type\":\"evented\",\"name\":");
    json_string(out, snapshot.track_label(static_cast<TrackId>(tid)));
    lit(out, ",\"unit\":\"nanoseconds\",\"startValue\":");
    json_uint(out, events.front().at);
    lit(out, ",\"endValue\":");
    json_uint(out, rel(last_end));
    lit(out, ",\"events\":[");
    for (size_t i = 0; i < events.size(); ++i) {
      const FrameEvent& fe = events[i];
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
  lit(out, "\n]}\n");
  HUOYAN_RETURN_IF_ERROR(out.flush());
  return stats;
}

}  // namespace huoyan
