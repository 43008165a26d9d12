#include "src/collect/cann/msprof_import.h"

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <vector>

#include "src/readers/sniff.h"

namespace huoyan {

namespace {

constexpr TrackId kUnmapped = std::numeric_limits<TrackId>::max();

struct StepSpan {
  int64_t start = 0;
  int64_t end = 0;
  uint64_t id = 0;
};

// Steps of the live store by the OS thread that ran them, sorted by start.
std::unordered_map<int64_t, std::vector<StepSpan>> steps_by_thread(const TraceStore& store) {
  std::unordered_map<int64_t, std::vector<StepSpan>> out;
  const Snapshot snap = store.snapshot();
  store.for_each_step([&](const Step& s) {
    if (s.start == kNoTime || s.track >= snap.tracks().size()) return;
    const int64_t end = s.end == kNoTime ? std::numeric_limits<int64_t>::max() : s.end;
    out[snap.track(s.track).tid].push_back({s.start, end, s.id});
  });
  for (auto& [tid, v] : out) {
    std::sort(v.begin(), v.end(),
              [](const StepSpan& a, const StepSpan& b) { return a.start < b.start; });
  }
  return out;
}

uint64_t step_at(const std::vector<StepSpan>& steps, int64_t ts) {
  auto it = std::upper_bound(steps.begin(), steps.end(), ts,
                             [](int64_t t, const StepSpan& s) { return t < s.start; });
  while (it != steps.begin()) {
    --it;
    if (ts < it->end) return it->id;
    if (it->end <= it->start) continue;  // an empty step does not hide an enclosing one
    break;
  }
  return 0;
}

}  // namespace

Result<MsprofImportStats> import_msprof_folder(const std::string& dir, TraceStore& store,
                                               int64_t offset_ns) {
  TraceStore scratch(StoreOptions{.capacity_events = store.capacity()});
  auto read = read_input(dir, scratch, ReadOptions{});
  if (!read.ok()) return read.status();
  const Snapshot snap = scratch.snapshot();

  // Launches: connection id → (thread, time) of the host API call that launched the task.
  struct Launch {
    int64_t tid = 0;
    int64_t ts = 0;
  };
  std::unordered_map<uint64_t, Launch> launches;
  snap.for_each([&](const EventView& v) {
    if (v->id == 0 || snap.kind_of(*v) != EventKind::kHost) return;
    if ((v->flags & event_flags::kIdString) != 0) return;
    launches.try_emplace(v->id, Launch{snap.track(v->track).tid, v->ts + offset_ns});
  });
  const auto steps = steps_by_thread(store);

  MsprofImportStats stats;
  std::vector<TrackId> tracks(snap.tracks().size(), kUnmapped);
  std::vector<Arg> args;
  auto intern = [&](StringId id) { return id == 0 ? StringId{0} : store.intern(snap.str(id)); };
  auto w = store.writer();
  auto map_track = [&](TrackId from) {
    if (tracks[from] != kUnmapped) return tracks[from];
    const Track& t = snap.track(from);
    const Process& p = snap.processes()[t.process];
    TrackId to;
    if (p.device_type == DeviceType::kNpu && p.device >= 0 && t.device_events > 0) {
      to = w.device_track(DeviceType::kNpu, p.device, t.tid);
    } else {
      to = w.track(p.pid, t.tid);
      Track& dt = w.track_at(to);
      if (dt.name == 0) dt.name = intern(t.name);
      if (dt.tid_label == 0) dt.tid_label = intern(t.tid_label);
      if (!dt.has_sort_index && t.has_sort_index) {
        dt.sort_index = t.sort_index;
        dt.has_sort_index = true;
      }
      Process& dp = w.process_at(dt.process);
      if (dp.name == 0) dp.name = intern(p.name);
      if (dp.label == 0) dp.label = intern(p.label);
      if (!dp.has_sort_index && p.has_sort_index) {
        dp.sort_index = p.sort_index;
        dp.has_sort_index = true;
      }
      if (dp.device_type == DeviceType::kNone) {
        dp.device_type = p.device_type;
        dp.device = p.device;
      }
      if (dp.labels.empty()) {
        for (const auto& [k, v] : p.labels) dp.labels.emplace_back(intern(k), intern(v));
      }
    }
    tracks[from] = to;
    return to;
  };

  snap.for_each([&](const EventView& v) {
    Event e = *v;
    if (e.ts != kNoTime) e.ts += offset_ns;
    e.track = map_track(v->track);
    e.name = intern(e.name);
    e.cat = intern(e.cat);
    e.request = intern(e.request);
    if ((e.flags & event_flags::kIdString) != 0) e.id = intern(static_cast<StringId>(e.id));
    e.step = 0;  // the scratch store's steps are not the live recording's
    if (is_device_work(e.kind) && e.id != 0 && (e.flags & event_flags::kIdString) == 0) {
      auto l = launches.find(e.id);
      if (l != launches.end()) {
        auto s = steps.find(l->second.tid);
        if (s != steps.end()) e.step = step_at(s->second, l->second.ts);
      }
      if (e.step != 0) ++stats.stepped;
    }
    args.clear();
    for (const StoredArg& a : v.args()) args.push_back(Arg{intern(a.key), a.value()});
    w.append(e, args);
    ++stats.events;
    if (e.kind == EventKind::kKernel) ++stats.kernels;
  });
  for (const auto& [k, v] : scratch.metadata()) w.set_metadata(k, v);
  store.skips().merge_from(scratch.skips());
  return stats;
}

}  // namespace huoyan
