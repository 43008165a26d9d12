#include "src/server/timeline.h"

#include <algorithm>
#include <climits>
#include <string>
#include <tuple>
#include <unordered_map>

#include "src/writers/json_out.h"

namespace huoyan::server {
namespace {

// The thread part of a track's label ("Stream 3", "scheduler", "Thread 12").
std::string track_name(const Snapshot& s, TrackId id) {
  const Track& t = s.track(id);
  if (t.name != 0) return std::string(s.str(t.name));
  if (t.tid_label != 0) return std::string(s.str(t.tid_label));
  return (s.is_device_track(id) ? "Stream " : "Thread ") + std::to_string(t.tid);
}

int64_t saturating_sub(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_sub_overflow(a, b, &r) ? (b > 0 ? INT64_MIN : INT64_MAX) : r;
}

}  // namespace

std::shared_ptr<const TimelineIndex> TimelineIndex::build(Snapshot snapshot) {
  auto index = std::make_shared<TimelineIndex>();
  index->snapshot_ = std::move(snapshot);
  index->track_slot_.assign(index->snapshot_.tracks().size(), -1);
  index->snapshot_.for_each([&](const EventView& ev) {
    index->add(ev.chunk, static_cast<uint32_t>(ev.seq - ev.chunk->first_seq()));
  });
  index->finish();
  return index;
}

std::shared_ptr<const TimelineIndex> TimelineIndex::build(Snapshot snapshot,
                                                          const std::vector<EventSeq>& seqs) {
  auto index = std::make_shared<TimelineIndex>();
  index->snapshot_ = std::move(snapshot);
  index->track_slot_.assign(index->snapshot_.tracks().size(), -1);
  std::vector<EventSeq> sorted = seqs;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  for (EventSeq s : sorted) {
    if (!index->snapshot_.contains(s)) continue;
    const EventView ev = index->snapshot_.at(s);
    index->add(ev.chunk, static_cast<uint32_t>(s - ev.chunk->first_seq()));
  }
  index->finish();
  return index;
}

void TimelineIndex::add(const Chunk* chunk, uint32_t offset) {
  const Event& e = chunk->event(offset);
  if (!has_duration(e.kind) || e.track >= track_slot_.size()) return;
  if (chunks_.empty() || chunks_.back() != chunk) chunks_.push_back(chunk);
  int32_t& slot = track_slot_[e.track];
  if (slot < 0) {
    slot = static_cast<int32_t>(tracks_.size());
    tracks_.emplace_back();
    tracks_.back().id = e.track;
  }
  tracks_[static_cast<size_t>(slot)].pending.push_back(
      {static_cast<uint32_t>(chunks_.size() - 1), offset});
  start_ = start_ == kNoTime ? e.ts : std::min(start_, e.ts);
  end_ = end_ == kNoTime ? e.end() : std::max(end_, e.end());
  ++events_;
}

void TimelineIndex::finish() {
  auto before = [&](Ref a, Ref b) {
    const Event& x = event(a);
    const Event& y = event(b);
    if (x.ts != y.ts) return x.ts < y.ts;
    if (x.dur != y.dur) return x.dur > y.dur;  // parents before children
    return seq(a) < seq(b);
  };
  std::vector<int64_t> stack;  // ends of the open enclosing events
  for (Track& t : tracks_) {
    // Live and most imported tracks arrive in time order: skip the sort then.
    if (!std::is_sorted(t.pending.begin(), t.pending.end(), before)) {
      std::sort(t.pending.begin(), t.pending.end(), before);
    }
    // An event goes one level below every event still open at its start, so the events of a
    // lane never overlap.
    stack.clear();
    for (Ref r : t.pending) {
      const Event& e = event(r);
      while (!stack.empty() && stack.back() <= e.ts) stack.pop_back();
      const size_t depth = stack.size();
      if (depth >= t.lanes.size()) t.lanes.resize(depth + 1);
      t.lanes[depth].items.push_back(r);
      stack.push_back(e.end());
    }
    std::vector<Ref>().swap(t.pending);
    for (Lane& lane : t.lanes) summarize(lane);
  }
  // Devices first (in their sort order), then host processes; inside a process by the
  // track's sort index, then tid.
  const Snapshot& s = snapshot_;
  auto key = [&](const Track& t) {
    const ::huoyan::Track& tr = s.track(t.id);
    const Process& p = s.process_of(t.id);
    return std::make_tuple(!s.is_device_track(t.id), p.has_sort_index ? p.sort_index : INT32_MAX,
                           p.pid, tr.has_sort_index ? tr.sort_index : INT32_MAX, tr.tid, t.id);
  };
  std::sort(tracks_.begin(), tracks_.end(),
            [&](const Track& a, const Track& b) { return key(a) < key(b); });
  for (size_t i = 0; i < tracks_.size(); ++i) track_slot_[tracks_[i].id] = static_cast<int32_t>(i);
}

void TimelineIndex::summarize(Lane& lane) const {
  const size_t n = lane.items.size();
  if (n < kRun) return;
  std::vector<Summary> level(n / kRun);
  for (size_t b = 0; b < level.size(); ++b) {
    Summary& s = level[b];
    const size_t first = b * kRun;
    s.longest = static_cast<uint32_t>(first);
    int64_t prev_end = event(lane.items[first]).end();
    s.max_dur = event(lane.items[first]).dur;
    for (size_t i = first + 1; i < first + kRun; ++i) {
      const Event& e = event(lane.items[i]);
      s.max_gap = std::max(s.max_gap, e.ts - prev_end);
      if (e.dur > s.max_dur) {
        s.max_dur = e.dur;
        s.longest = static_cast<uint32_t>(i);
      }
      prev_end = e.end();
    }
  }
  size_t run = kRun;
  while (level.size() >= 1) {
    std::vector<Summary> up(level.size() / 2);
    for (size_t b = 0; b < up.size(); ++b) {
      const Summary& l = level[2 * b];
      const Summary& r = level[2 * b + 1];
      const size_t mid = (2 * b + 1) * run;  // first item of r
      Summary& s = up[b];
      s.max_dur = std::max(l.max_dur, r.max_dur);
      s.longest = r.max_dur > l.max_dur ? r.longest : l.longest;
      s.max_gap = std::max(
          {l.max_gap, r.max_gap, event(lane.items[mid]).ts - event(lane.items[mid - 1]).end()});
    }
    lane.runs.push_back(std::move(level));
    if (up.empty()) break;
    level = std::move(up);
    run *= 2;
  }
}

void TimelineIndex::write_json(const Window& w, BufferedOut& out) const {
  const double px = static_cast<double>(w.end - w.start) / std::max<uint32_t>(1, w.width);
  std::unordered_map<StringId, uint32_t> name_index;
  std::vector<StringId> names;
  auto name_of = [&](StringId id) {
    auto [it, inserted] = name_index.emplace(id, static_cast<uint32_t>(names.size()));
    if (inserted) names.push_back(id);
    return it->second;
  };

  // Tracks are rendered first (into their own buffer) because they decide the name table.
  StringSink tracks_sink;
  {
    BufferedOut t_out(&tracks_sink, size_t{256} << 10);
    bool first_track = true;
    for (const Track& t : tracks_) {
      uint64_t merged = 0;
      size_t written = 0;
      bool opened = false;
      auto emit = [&](int64_t ts, int64_t dur, Ref r, size_t depth) {
        if (!opened) {
          opened = true;
          t_out.put(first_track ? "\n{\"id\":" : ",\n{\"id\":");
          first_track = false;
          json_uint(t_out, t.id);
          t_out.put(",\"name\":");
          json_string(t_out, track_name(snapshot_, t.id));
          t_out.put(",\"group\":");
          json_string(t_out, snapshot_.device_label(t.id));
          t_out.put(snapshot_.is_device_track(t.id) ? ",\"kind\":\"device\""
                                                    : ",\"kind\":\"host\"");
          t_out.put(",\"events\":[");
        }
        t_out.put(written++ == 0 ? "[" : ",[");
        json_int(t_out, saturating_sub(ts, w.start));
        t_out.put(',');
        json_int(t_out, dur);
        t_out.put(',');
        json_uint(t_out, name_of(event(r).name));
        t_out.put(',');
        json_uint(t_out, depth);
        t_out.put(',');
        json_uint(t_out, seq(r));
        t_out.put(']');
      };
      for (size_t depth = 0; depth < t.lanes.size(); ++depth) {
        const Lane& lane = t.lanes[depth];
        const size_t n = lane.items.size();
        // The lane is sorted by end too: skip everything that ends before the window.
        size_t i = static_cast<size_t>(
            std::lower_bound(lane.items.begin(), lane.items.end(), w.start,
                             [&](Ref r, int64_t v) { return event(r).end() < v; }) -
            lane.items.begin());
        struct Block {
          bool open = false;
          int64_t ts = 0;
          int64_t end = 0;
          uint64_t n = 0;
          size_t best = 0;  // lane index of the longest member
        } b;
        auto flush = [&] {
          if (!b.open) return;
          emit(b.ts, b.end - b.ts, lane.items[b.best], depth);
          merged += b.n - 1;
          b.open = false;
        };
        while (i < n) {
          const Event& e = event(lane.items[i]);
          if (e.ts >= w.end) break;
          if (b.open && static_cast<double>(e.ts - b.end) <= px) {
            // Swallow the largest aligned run starting here whose events are all narrow, all
            // within a pixel of each other and all inside the window.
            bool swallowed = false;
            for (size_t level = lane.runs.size(); level-- > 0;) {
              const size_t run = size_t{kRun} << level;
              if (i % run != 0 || i + run > n) continue;
              const Summary& s = lane.runs[level][i / run];
              if (static_cast<double>(s.max_dur) >= px || static_cast<double>(s.max_gap) > px) {
                continue;
              }
              const Event& last = event(lane.items[i + run - 1]);
              if (last.ts >= w.end) continue;
              b.end = std::max(b.end, last.end());
              b.n += run;
              if (s.max_dur > event(lane.items[b.best]).dur) b.best = s.longest;
              i += run;
              swallowed = true;
              break;
            }
            if (swallowed) continue;
          }
          if (static_cast<double>(e.dur) >= px) {
            flush();
            emit(e.ts, e.dur, lane.items[i], depth);
          } else if (b.open && static_cast<double>(e.ts) <= static_cast<double>(b.end) + px) {
            b.end = std::max(b.end, e.end());
            ++b.n;
            if (e.dur > event(lane.items[b.best]).dur) b.best = i;
          } else {
            flush();
            b = {true, e.ts, e.end(), 1, i};
          }
          ++i;
        }
        flush();
      }
      if (opened) {
        t_out.put("],\"merged\":");
        json_uint(t_out, merged);
        t_out.put('}');
      }
    }
    t_out.flush();
  }

  out.put("{\"start_ns\":\"");
  json_int(out, w.start);
  out.put("\",\"end_ns\":\"");
  json_int(out, w.end);
  out.put("\",\"span_ns\":");
  json_int(out, w.end - w.start);
  out.put(",\"names\":[");
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out.put(',');
    json_string(out, snapshot_.str(names[i]));
  }
  out.put("],\"tracks\":[");
  out.put(tracks_sink.str());
  out.put(tracks_sink.str().empty() ? "]}\n" : "\n]}\n");
}

}  // namespace huoyan::server
