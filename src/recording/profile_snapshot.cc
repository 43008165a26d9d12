// ProfileSnapshot: selection of events, steps and requests from a store, per-request totals,
// and the Chrome JSON export of the selection.
#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>

#include "huoyan/huoyan.h"
#include "src/analysis/attribution.h"
#include "src/io/sink.h"
#include "src/recording/profiler_internal.h"
#include "src/writers/chrome_json_writer.h"
#include "src/writers/step_request_args.h"

namespace huoyan {

// Frozen at snapshot time: events are shared with the store (its chunks), steps, requests and
// metadata are copies, so the store may evict or be destroyed meanwhile.
struct ProfileSnapshot::Impl {
  Snapshot events;
  bool all = true;                 // every event of `events`, else `selected`
  std::vector<EventSeq> selected;  // in sequence order
  // Request-filtered snapshots: how the request saw each selected device event.
  std::unordered_map<EventSeq, AttributedEvent> attribution;
  StringId request = 0;
  StringId key_request = 0, key_batch = 0, key_share = 0;
  StepRequestArgs::Keys step_keys;  // request ids of stepped device events (whole snapshots)
  std::vector<Step> steps;
  std::vector<RequestInfo> requests;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::vector<std::pair<std::string, uint64_t>> skips;
  std::vector<RequestTotals> totals;

  size_t size() const { return all ? events.size() : selected.size(); }
  Status write(Sink& sink) const;
};

namespace {

struct Window {
  int64_t start;
  int64_t end;
  bool unbounded() const {
    return start == std::numeric_limits<int64_t>::min() &&
           end == std::numeric_limits<int64_t>::max();
  }
  // Overlap with [start, end); an instant at `start` counts.
  bool contains(const Event& e) const { return e.ts < end && e.end() >= start; }
  bool overlaps(int64_t a, int64_t b) const {
    if (a == kNoTime && b == kNoTime) return false;
    if (a == kNoTime) a = b;
    if (b == kNoTime) b = std::numeric_limits<int64_t>::max();
    return a < end && b >= start;
  }
};

// Totals of `requests` in one pass over the steps they were members of (not one pass per
// request: a full snapshot may cover many thousands), with the same rules as
// request_device_events(): device events of the step visible in the snapshot, apportioned by
// apportion(), a request counted once per step.
std::vector<RequestTotals> totals_of(const TraceStore& store, const Snapshot& snap,
                                     const std::vector<RequestInfo>& requests,
                                     const Window& window) {
  std::vector<RequestTotals> out(requests.size());
  std::unordered_map<StringId, size_t> index;
  std::vector<uint64_t> step_ids;
  for (size_t i = 0; i < requests.size(); ++i) {
    const RequestInfo& info = requests[i];
    RequestTotals& t = out[i];
    t.id = std::string(store.str(info.id));
    t.arrival_ns = info.arrival;
    t.first_token_ns = info.first_token;
    t.finish_ns = info.finish;
    t.tokens_in = info.tokens_in;
    t.tokens_out = info.tokens_out;
    index.emplace(info.id, i);
    step_ids.insert(step_ids.end(), info.steps.begin(), info.steps.end());
    for (EventSeq seq : store.events_of_request(info.id)) {
      if (!snap.contains(seq)) continue;
      const EventView ev = snap.at(seq);
      if (snap.kind_of(*ev) == EventKind::kHost && window.contains(*ev)) t.host_ns += ev->dur;
    }
  }
  std::sort(step_ids.begin(), step_ids.end());
  step_ids.erase(std::unique(step_ids.begin(), step_ids.end()), step_ids.end());
  std::vector<size_t> member_of;  // per step member: index into `out`, or SIZE_MAX
  for (uint64_t id : step_ids) {
    const auto step = store.step(id);
    if (!step) continue;
    member_of.assign(step->members.size(), SIZE_MAX);
    std::unordered_set<StringId> seen;
    for (size_t m = 0; m < step->members.size(); ++m) {
      auto it = index.find(step->members[m].request);
      if (it != index.end() && seen.insert(step->members[m].request).second) {
        member_of[m] = it->second;
        if (window.overlaps(step->start, step->end)) ++out[it->second].steps;
      }
    }
    for (EventSeq seq : store.events_of_step(id)) {
      if (!snap.contains(seq)) continue;
      const EventView ev = snap.at(seq);
      if (!snap.is_device_event(*ev) || !window.contains(*ev)) continue;
      const std::vector<int64_t> parts = apportion(ev->dur, step->members);
      for (size_t m = 0; m < member_of.size(); ++m) {
        if (member_of[m] == SIZE_MAX) continue;
        RequestTotals& t = out[member_of[m]];
        t.device_shared_ns += ev->dur;
        t.device_apportioned_ns += parts[m];
        ++t.device_events;
      }
    }
  }
  return out;
}

}  // namespace

ProfileSnapshot ProfilerAccess::make_snapshot(
    TraceStore& store, const SnapshotOptions& options,
    std::vector<std::pair<std::string, std::string>> metadata) {
  auto d = std::make_shared<ProfileSnapshot::Impl>();
  Window window{options.start_ns, options.end_ns};
  if (options.window.count() > 0) window.start = monotonic_ns() - options.window.count();
  d->events = store.snapshot();
  d->metadata = store.metadata();
  d->skips = store.skips().all();
  for (auto& kv : metadata) d->metadata.push_back(std::move(kv));
  const Snapshot& snap = d->events;
  d->step_keys = StepRequestArgs::intern_keys(store);

  std::vector<RequestInfo> candidates;
  if (!options.request_id.empty()) {
    StringId id = 0;
    d->all = false;
    if (store.strings()->find(options.request_id, &id)) {
      d->request = id;
      d->key_request = store.intern("request_id");
      d->key_batch = store.intern("batch_size");
      d->key_share = store.intern("share");
      for (const auto& a : request_device_events(store, snap, id, AttributionMode::kApportioned)) {
        if (!window.contains(*snap.at(a.seq))) continue;
        d->selected.push_back(a.seq);
        d->attribution.emplace(a.seq, a);
      }
      for (EventSeq seq : request_host_events(store, snap, id)) {
        if (window.contains(*snap.at(seq))) d->selected.push_back(seq);
      }
      std::sort(d->selected.begin(), d->selected.end());
      d->selected.erase(std::unique(d->selected.begin(), d->selected.end()), d->selected.end());
      if (auto info = store.request(id)) {
        for (uint64_t s : info->steps) {
          auto step = store.step(s);
          if (step && window.overlaps(step->start, step->end)) d->steps.push_back(*step);
        }
        candidates.push_back(*info);
      }
    }
  } else {
    std::unordered_set<uint64_t> step_ids;
    store.for_each_step([&](const Step& s) {
      if (window.unbounded() || window.overlaps(s.start, s.end)) {
        d->steps.push_back(s);
        step_ids.insert(s.id);
      }
    });
    store.for_each_request([&](const RequestInfo& r) {
      bool active = window.unbounded() || window.overlaps(r.arrival, r.finish);
      for (size_t i = 0; !active && i < r.steps.size(); ++i) active = step_ids.count(r.steps[i]);
      if (active) candidates.push_back(r);
    });
    if (!window.unbounded()) {
      d->all = false;
      snap.for_each([&](const EventView& ev) {
        if (window.contains(*ev)) d->selected.push_back(ev.seq);
      });
    }
  }
  d->totals = totals_of(store, snap, candidates, window);
  d->requests = std::move(candidates);

  ProfileSnapshot out;
  out.impl_ = std::move(d);
  return out;
}

const Snapshot* ProfilerAccess::snapshot(const ProfileSnapshot& snapshot) {
  return snapshot.impl_ ? &snapshot.impl_->events : nullptr;
}

Status ProfileSnapshot::Impl::write(Sink& sink) const {
  ChromeJsonWriter w(sink, events);
  if (all) {
    StepRequestArgs step_args(events, step_keys, steps);
    events.for_each([&](const EventView& ev) {
      w.event(ev, step_args.of(*ev, events.is_device_event(*ev)));
    });
  } else {
    std::vector<Arg> extra;
    for (EventSeq seq : selected) {
      const EventView ev = events.at(seq);
      extra.clear();
      auto it = attribution.find(seq);
      if (it != attribution.end()) {
        extra.push_back(Arg{key_request, ArgValue::String(events.str(request))});
        extra.push_back(Arg{key_batch, ArgValue::Uint(it->second.batch_size)});
        extra.push_back(Arg{key_share, ArgValue::Double(it->second.share)});
      }
      w.event(ev, extra);
    }
  }
  for (const auto& [k, v] : metadata) w.metadata(k, v);
  for (const auto& [reason, n] : skips) w.skipped(reason, n);
  for (const Step& s : steps) w.step(s);
  for (const RequestInfo& r : requests) w.request(r);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------

ProfileSnapshot::ProfileSnapshot() = default;
ProfileSnapshot::~ProfileSnapshot() = default;
ProfileSnapshot::ProfileSnapshot(const ProfileSnapshot&) = default;
ProfileSnapshot& ProfileSnapshot::operator=(const ProfileSnapshot&) = default;

size_t ProfileSnapshot::event_count() const { return impl_ ? impl_->size() : 0; }

const std::vector<RequestTotals>& ProfileSnapshot::requests() const {
  static const std::vector<RequestTotals> kNone;
  return impl_ ? impl_->totals : kNone;
}

const RequestTotals* ProfileSnapshot::request(std::string_view id) const {
  for (const RequestTotals& t : requests()) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

bool ProfileSnapshot::write_chrome_json(const std::string& path, std::string* error) const {
  auto sink = open_file_sink(path);
  Status st = sink.ok() ? OkStatus() : sink.status();
  if (st.ok() && impl_) st = impl_->write(**sink);
  if (st.ok() && !impl_) st = (*sink)->write(R"({"traceEvents":[]})");
  if (st.ok()) st = (*sink)->finish();
  if (!st.ok() && error != nullptr) *error = st.message();
  return st.ok();
}

std::string ProfileSnapshot::chrome_json() const {
  StringSink sink;
  if (!impl_) return R"({"traceEvents":[]})";
  if (!impl_->write(sink).ok()) return {};
  return std::move(sink.str());
}

}  // namespace huoyan
