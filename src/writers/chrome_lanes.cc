#include "src/writers/chrome_lanes.h"

#include <algorithm>
#include <limits>
#include <set>

namespace huoyan {

namespace {

struct Slice {
  int64_t ts;
  int64_t end;
  EventSeq seq;
};

bool by_time(const Slice& a, const Slice& b) {
  if (a.ts != b.ts) return a.ts < b.ts;
  if (a.end != b.end) return a.end > b.end;
  return a.seq < b.seq;
}

// For each of `spans`: whether some interval of `nested` (properly nested, any order) starts
// before it and ends inside it (x.ts < s.ts < x.end < s.end).
std::vector<char> ends_inside(std::vector<Slice> nested, const std::vector<Slice>& spans) {
  std::vector<char> hit(spans.size(), 0);
  std::vector<size_t> order(spans.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return spans[a].ts < spans[b].ts; });
  std::sort(nested.begin(), nested.end(), by_time);
  std::multiset<int64_t> ends;  // of the nested intervals started before the current span
  size_t next = 0;
  for (size_t i : order) {
    const Slice& s = spans[i];
    while (next < nested.size() && nested[next].ts < s.ts) ends.insert(nested[next++].end);
    ends.erase(ends.begin(), ends.upper_bound(s.ts));  // ended before it: never again
    auto it = ends.upper_bound(s.ts);
    hit[i] = it != ends.end() && *it < s.end;
  }
  return hit;
}

// Whether each of `spans` crosses an interval of `nested`: overlaps it without one containing
// the other. Starting before and ending inside, or (the same, time reversed) starting inside
// and ending after.
std::vector<char> crosses_any(const std::vector<Slice>& nested, const std::vector<Slice>& spans) {
  std::vector<char> hit = ends_inside(nested, spans);
  const auto mirror = [](std::vector<Slice> v) {
    for (Slice& s : v) s = {-s.end, -s.ts, s.seq};
    return v;
  };
  const std::vector<char> after = ends_inside(mirror(nested), mirror(spans));
  for (size_t i = 0; i < hit.size(); ++i) hit[i] = hit[i] || after[i];
  return hit;
}

}  // namespace

ChromeLanes assign_chrome_lanes(const Snapshot& snapshot) {
  ChromeLanes out;
  out.begin = snapshot.begin_seq();
  out.lanes.assign(snapshot.tracks().size(), 0);
  // Per track: the thread's own events, and request-owned spans (a queue wait recorded by the
  // scheduler when it admits the request, reaching back over steps).
  std::vector<std::vector<Slice>> own(snapshot.tracks().size());
  std::vector<std::vector<Slice>> owned(snapshot.tracks().size());
  snapshot.for_each([&](const EventView& ev) {
    const Event& e = *ev;
    if (!has_duration(e.kind) || (e.flags & event_flags::kUnclosed)) return;
    if (e.track >= own.size()) return;
    (e.request != 0 && !is_device_side(e.kind) ? owned : own)[e.track].push_back(
        {e.ts, e.end(), ev.seq});
  });
  std::vector<std::vector<int64_t>> open;  // per lane: ends of the open events, innermost last
  // Places `v` by the algorithm; its lane j becomes track lane 0 (j = 0, when `keep0`) or
  // base + j (− 1 with keep0). Returns the algorithm's lanes. Events left on the track itself
  // are collected in `lane0` (if given).
  const auto place = [&](TrackId t, std::vector<Slice>& v, size_t base, bool keep0,
                         std::vector<Slice>* lane0) {
    std::sort(v.begin(), v.end(), by_time);
    open.clear();
    for (const Slice& s : v) {
      size_t lane = 0;
      for (; lane < open.size(); ++lane) {
        std::vector<int64_t>& stack = open[lane];
        while (!stack.empty() && stack.back() <= s.ts) stack.pop_back();
        if (stack.empty() || s.end <= stack.back()) break;  // nests (or the lane is free)
      }
      if (lane == open.size()) open.emplace_back();
      open[lane].push_back(s.end);
      const size_t mapped = keep0 ? (lane == 0 ? 0 : base + lane - 1) : base + lane;
      if (mapped == 0) {
        if (lane0 != nullptr) lane0->push_back(s);
        continue;
      }
      if (out.lane.empty()) out.lane.assign(snapshot.size(), 0);
      const auto l = static_cast<uint16_t>(std::min<size_t>(mapped, UINT16_MAX));
      out.lane[s.seq - out.begin] = l;
      out.lanes[t] = std::max(out.lanes[t], l);
      ++out.moved;
    }
    v = {};
    return open.size();
  };
  std::vector<Slice> own0;
  for (TrackId t = 0; t < own.size(); ++t) {
    own0.clear();
    const size_t own_lanes = own[t].empty() ? 0 : place(t, own[t], 1, true, &own0);
    if (owned[t].empty()) continue;
    // A request's spans stay on the thread where they nest with its events; those that cross
    // one take lanes after the thread's own.
    std::vector<Slice> fits;
    std::vector<Slice> crosses;
    const std::vector<char> crossing = crosses_any(own0, owned[t]);
    for (size_t i = 0; i < owned[t].size(); ++i) {
      (crossing[i] ? crosses : fits).push_back(owned[t][i]);
    }
    const size_t first = std::max<size_t>(own_lanes, 1);
    const size_t fit_lanes = place(t, fits, first, true, nullptr);
    place(t, crosses, first + (fit_lanes > 0 ? fit_lanes - 1 : 0), false, nullptr);
  }
  return out;
}

}  // namespace huoyan
