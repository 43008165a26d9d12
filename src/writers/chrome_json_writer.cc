#include "src/writers/chrome_json_writer.h"

#include "src/writers/step_request_args.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>
#include <limits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "src/writers/chrome_lanes.h"
#include "src/writers/json_out.h"

namespace huoyan {
namespace {

template <size_t N>
inline void lit(BufferedOut& out, const char (&s)[N]) {
  out.put(std::string_view(s, N - 1));
}

// Event fields written as args; bit values used in masks below.
enum FieldKey : uint8_t { kFieldStep = 1, kFieldRequest = 2, kFieldCorrelation = 4 };

// Which field-derived arg a key text names, if any.
inline uint8_t field_of(std::string_view key) {
  switch (key.size()) {
    case 4:
      return key == "step" ? kFieldStep : 0;
    case 10:
      return key == "request_id" ? kFieldRequest : 0;
    case 11:
      return key == "correlation" ? kFieldCorrelation : 0;
    default:
      return 0;
  }
}

const char* phase_of(const Event& e) {
  switch (e.kind) {
    case EventKind::kKernel:
    case EventKind::kMemcpy:
    case EventKind::kMemset:
    case EventKind::kSpan:
    case EventKind::kCollective:
    case EventKind::kWait:
    case EventKind::kDeviceRange:
    case EventKind::kHost:
    case EventKind::kDerived:
      return (e.flags & event_flags::kUnclosed) ? "B" : "X";
    case EventKind::kInstant:
      return "i";
    case EventKind::kCounter:
      return "C";
    case EventKind::kFlowStart:
      return "s";
    case EventKind::kFlowStep:
      return "t";
    case EventKind::kFlowEnd:
      return "f";
    case EventKind::kAsyncBegin:
      return "b";
    case EventKind::kAsyncEnd:
      return "e";
    case EventKind::kAsyncInstant:
      return "n";
  }
  return "X";
}

inline bool has_chrome_id(EventKind k) {
  return k >= EventKind::kFlowStart && k <= EventKind::kAsyncInstant;
}

}  // namespace

struct ChromeJsonWriter::Impl {
  enum class Phase { kEvents, kSteps, kRequests, kDone };

  Impl(Sink& sink, const Snapshot& snap, ChromeWriteOptions opts)
      : out(&sink), snapshot(snap), options(opts) {
    track_prefix.resize(snap.tracks().size());
    track_used.assign(snap.tracks().size(), 0);
    assign_pids();
    lit(out, "{\"traceEvents\":[");
    if (options.lanes) assign_lanes();
  }

  // Perfetto reads "pid" as an unsigned 32-bit number and rejects the file otherwise, while a
  // store may hold larger or negative pids (merged inputs are kept apart by offsets of 2^32,
  // see sniff.h). Those processes are written with free pids counted down from 2^31 − 1, in
  // process order, and their real pid as "huoyan_pid" process metadata, which the reader maps
  // back: a round trip keeps every pid.
  void assign_pids() {
    const auto& procs = snapshot.processes();
    out_pid.resize(procs.size());
    std::unordered_set<int64_t> used;
    for (const Process& p : procs) {
      if (p.pid >= 0 && p.pid <= INT32_MAX) used.insert(p.pid);
    }
    int64_t next = INT32_MAX;
    for (size_t i = 0; i < procs.size(); ++i) {
      const int64_t pid = procs[i].pid;
      if (pid >= 0 && pid <= INT32_MAX) {
        out_pid[i] = pid;
        continue;
      }
      while (used.count(next)) --next;
      out_pid[i] = next;
      used.insert(next);
    }
  }
  // Free integer tids for the lanes of every track that needs some (counted down from
  // INT32_MAX: Perfetto reads tids as 32-bit numbers), and their prefixes.
  void assign_lanes() {
    lanes = assign_chrome_lanes(snapshot);
    if (lanes.moved == 0) return;
    std::unordered_set<int64_t> used;
    for (const Track& t : snapshot.tracks()) used.insert(t.tid);
    int64_t next = INT32_MAX;
    lane_tid.resize(lanes.lanes.size());
    lane_prefix.resize(lanes.lanes.size());
    lane_used.resize(lanes.lanes.size());
    for (size_t t = 0; t < lanes.lanes.size(); ++t) {
      for (uint16_t l = 0; l < lanes.lanes[t]; ++l) {
        while (used.count(next)) --next;
        used.insert(next);
        lane_tid[t].push_back(next);
        lane_prefix[t].emplace_back();
        lane_used[t].push_back(0);
        // Announced before any event, so a reader can put the lane's events back on their
        // thread as they come (chrome_event_decoder.cc); Perfetto ignores it.
        const Track& home = snapshot.track(static_cast<TrackId>(t));
        Track lane = home;
        lane.tid = next;
        lane.tid_label = 0;
        metadata_event("huoyan_lane", snapshot.process_of(static_cast<TrackId>(t)), &lane, "tid",
                       [&] {
                         if (home.tid_label != 0) {
                           json_string(out, snapshot.str(home.tid_label));
                         } else {
                           json_int(out, home.tid);
                         }
                       });
      }
    }
  }
  const std::string& lane_prefix_of(TrackId id, uint16_t lane) {
    std::string& p = lane_prefix[id][lane - 1];
    if (p.empty()) {
      Track t = snapshot.track(id);
      t.tid = lane_tid[id][lane - 1];
      t.tid_label = 0;
      StringSink s;
      {
        BufferedOut o(&s, 4096);
        pid_tid(o, snapshot.process_of(id), &t);
        (void)o.flush();
      }
      p = std::move(s.str());
      lane_used[id][lane - 1] = 1;
      track_used[id] = 1;
    }
    return p;
  }

  int64_t pid_out(const Process& proc) const {
    return out_pid[static_cast<size_t>(&proc - snapshot.processes().data())];
  }

  void reject(std::string_view what) {
    if (order_error.ok()) {
      order_error = Status::Error(std::string("chrome writer: ") + std::string(what));
    }
  }

  // ,"pid":…,"tid":… of a track, built on first use.
  const std::string& prefix_of(TrackId id) {
    std::string& p = track_prefix[id];
    if (p.empty()) {
      const Track& t = snapshot.track(id);
      const Process& proc = snapshot.process_of(id);
      StringSink s;
      {
        BufferedOut o(&s, 4096);
        pid_tid(o, proc, &t);
        (void)o.flush();
      }
      p = std::move(s.str());
      track_used[id] = 1;
    }
    return p;
  }

  void pid_tid(BufferedOut& o, const Process& proc, const Track* t) {
    lit(o, ",\"pid\":");
    if (proc.label != 0) {
      json_string(o, snapshot.str(proc.label));
    } else {
      json_int(o, pid_out(proc));
    }
    lit(o, ",\"tid\":");
    if (t == nullptr) {
      o.put('0');
    } else if (t->tid_label != 0) {
      json_string(o, snapshot.str(t->tid_label));
    } else {
      json_int(o, t->tid);
    }
  }

  void id_value(const Event& e) {
    if (e.flags & event_flags::kIdString) {
      json_string(out, snapshot.str(static_cast<StringId>(e.id)));
    } else if (e.flags & event_flags::kIdHex) {
      char* d = out.reserve(24);
      d[0] = '"';
      d[1] = '0';
      d[2] = 'x';
      char* p = std::to_chars(d + 3, d + 23, e.id, 16).ptr;
      *p++ = '"';
      out.commit(static_cast<size_t>(p - d));
    } else {
      json_uint(out, e.id);
    }
  }

  void value(const ArgValue& v) {
    switch (v.type) {
      case ArgType::kNull:
        lit(out, "null");
        return;
      case ArgType::kBool:
        if (v.b) {
          lit(out, "true");
        } else {
          lit(out, "false");
        }
        return;
      case ArgType::kInt:
        json_int(out, v.i);
        return;
      case ArgType::kUint:
        json_uint(out, v.u);
        return;
      case ArgType::kDouble:
        json_double(out, v.d);
        return;
      case ArgType::kString:
        json_string(out, v.s);
        return;
      case ArgType::kJson:
        // Kept verbatim (nested objects and arrays as read); empty text would break the
        // document, so it becomes null.
        if (v.s.empty()) {
          lit(out, "null");
        } else {
          out.put(v.s);
        }
        return;
    }
    lit(out, "null");
  }

  void key(StringId k, bool& any) {
    if (any) {
      out.put(',');
    } else {
      lit(out, ",\"args\":{");
      any = true;
    }
    json_string(out, snapshot.str(k));
    out.put(':');
  }
  void key(std::string_view k, bool& any) {
    if (any) {
      out.put(',');
    } else {
      lit(out, ",\"args\":{");
      any = true;
    }
    out.put(k);  // pre-quoted literal with ':'
  }

  // Writes "args" (if any), deduplicating keys: last source wins (extra > field > stored).
  void args(const Event& e, std::span<const StoredArg> stored, std::span<const Arg> extra) {
    uint8_t fields = 0;
    if (e.kind != EventKind::kCounter) {
      if (e.step != 0) fields |= kFieldStep;
      if (e.request != 0) fields |= kFieldRequest;
      if (e.id != 0 && !has_chrome_id(e.kind)) fields |= kFieldCorrelation;
    }
    const size_t ns = stored.size();
    const size_t nx = extra.size();
    if (ns == 0 && nx == 0 && fields == 0) return;

    skip.assign(ns + nx, 0);
    // Extra args: a later duplicate wins; each one overrides a field of the same name.
    if (nx > 0) {
      for (size_t i = 0; i < nx; ++i) {
        fields &= static_cast<uint8_t>(~field_of(snapshot.str(extra[i].key)));
      }
      mark_duplicates(
          nx, [&](size_t i) { return extra[i].key; }, ns);
    }
    // Stored args: overridden by a later stored arg, any extra arg, or a field.
    mark_duplicates(
        ns, [&](size_t i) { return stored[i].key; }, 0);
    for (size_t i = 0; i < ns; ++i) {
      if (skip[i]) continue;
      const StringId k = stored[i].key;
      if (fields != 0 && (field_of(snapshot.str(k)) & fields)) {
        skip[i] = 1;
        continue;
      }
      for (size_t j = 0; j < nx; ++j) {
        if (extra[j].key == k) {
          skip[i] = 1;
          break;
        }
      }
    }

    bool any = false;
    for (size_t i = 0; i < ns; ++i) {
      if (skip[i]) continue;
      key(stored[i].key, any);
      value(stored[i].value());
    }
    if (fields & kFieldStep) {
      key(std::string_view("\"step\":"), any);
      json_uint(out, e.step);
    }
    if (fields & kFieldRequest) {
      key(std::string_view("\"request_id\":"), any);
      json_string(out, snapshot.str(e.request));
    }
    if (fields & kFieldCorrelation) {
      key(std::string_view("\"correlation\":"), any);
      json_uint(out, e.id);
    }
    for (size_t i = 0; i < nx; ++i) {
      if (skip[ns + i]) continue;
      key(extra[i].key, any);
      value(extra[i].value);
    }
    if (any) out.put('}');
  }

  // Sets skip[offset + i] when key(i) occurs again later among the n keys.
  template <typename KeyAt>
  void mark_duplicates(size_t n, KeyAt key_at, size_t offset) {
    if (n < 2) return;
    if (n <= 16) {
      for (size_t i = 0; i + 1 < n; ++i) {
        const StringId k = key_at(i);
        for (size_t j = i + 1; j < n; ++j) {
          if (key_at(j) == k) {
            skip[offset + i] = 1;
            break;
          }
        }
      }
      return;
    }
    last_index.clear();
    for (size_t i = 0; i < n; ++i) last_index[key_at(i)] = i;
    for (size_t i = 0; i < n; ++i) {
      if (last_index[key_at(i)] != i) skip[offset + i] = 1;
    }
  }

  void event(const EventView& ev, std::span<const Arg> extra) {
    if (phase != Phase::kEvents) {
      reject("event() after step() or request()");
      return;
    }
    if (!out.status().ok()) return;  // the sink failed: finish() reports it; stop formatting
    const Event& e = *ev;
    out.put(elements++ == 0 ? std::string_view("\n{\"name\":") : std::string_view(",\n{\"name\":"));
    ++events_written;
    if (e.ts < min_ts) min_ts = e.ts;
    json_string(out, snapshot.str(e.name));
    if (e.cat != 0) {
      lit(out, ",\"cat\":");
      json_string(out, snapshot.str(e.cat));
    } else if (e.kind != EventKind::kSpan && has_duration(e.kind)) {
      // A kind its producer decided without a category (an Ascend table's collective or
      // wait): written as the category huoyan's reader maps back to it.
      lit(out, ",\"cat\":");
      json_string(out, kind_name(e.kind));
    }
    lit(out, ",\"ph\":\"");
    out.put(std::string_view(phase_of(e), 1));
    lit(out, "\",\"ts\":");
    json_us(out, e.ts);
    if (has_duration(e.kind) && !(e.flags & event_flags::kUnclosed)) {
      lit(out, ",\"dur\":");
      json_us(out, e.dur);
    }
    const uint16_t lane = lanes.moved > 0 ? lanes.of(ev.seq) : 0;
    if (e.track < track_prefix.size() && lane > 0 && lane <= lane_tid[e.track].size()) {
      out.put(lane_prefix_of(e.track, lane));
    } else if (e.track < track_prefix.size()) {
      out.put(prefix_of(e.track));
    } else {
      // A track created after the snapshot: no names known, written by id.
      lit(out, ",\"pid\":0,\"tid\":");
      json_uint(out, e.track);
    }
    if (has_chrome_id(e.kind)) {
      if (e.flags & event_flags::kIdLocal) {
        lit(out, ",\"id2\":{\"local\":");
        id_value(e);
        out.put('}');
      } else {
        lit(out, ",\"id\":");
        id_value(e);
      }
      if (e.flags & event_flags::kBindEnclosing) lit(out, ",\"bp\":\"e\"");
    } else if (e.kind == EventKind::kInstant) {
      if (e.flags & event_flags::kScopeGlobal) {
        lit(out, ",\"s\":\"g\"");
      } else if (e.flags & event_flags::kScopeProcess) {
        lit(out, ",\"s\":\"p\"");
      }
    }
    args(e, ev.chunk != nullptr ? ev.args() : std::span<const StoredArg>{}, extra);
    out.put('}');
  }

  void metadata_event(std::string_view name, const Process& proc, const Track* t,
                      std::string_view arg_key, const std::function<void()>& value_fn) {
    ++meta_written;
    out.put(elements++ == 0 ? std::string_view("\n{\"name\":") : std::string_view(",\n{\"name\":"));
    json_string(out, name);
    lit(out, ",\"ph\":\"M\",\"ts\":");
    json_us(out, min_ts == std::numeric_limits<int64_t>::max() ? 0 : min_ts);
    pid_tid(out, proc, t);
    lit(out, ",\"args\":{");
    json_string(out, arg_key);
    out.put(':');
    value_fn();
    lit(out, "}}");
  }

  void metadata_events() {
    std::vector<uint8_t> process_used(snapshot.processes().size(), 0);
    for (size_t id = 0; id < track_used.size(); ++id) {
      if (track_used[id]) process_used[snapshot.track(static_cast<TrackId>(id)).process] = 1;
    }
    for (size_t pi = 0; pi < process_used.size(); ++pi) {
      if (!process_used[pi]) continue;
      const Process& p = snapshot.processes()[pi];
      if (p.name != 0) {
        metadata_event("process_name", p, nullptr, "name",
                       [&] { json_string(out, snapshot.str(p.name)); });
      }
      if (p.has_sort_index) {
        metadata_event("process_sort_index", p, nullptr, "sort_index",
                       [&] { json_int(out, p.sort_index); });
      }
      if (p.label == 0 && out_pid[pi] != p.pid) {
        metadata_event("huoyan_pid", p, nullptr, "pid",
                       [&] { json_string(out, std::to_string(p.pid)); });
      }
      for (const auto& label : p.labels) {
        // A plain variable, not a structured binding: clang 14 cannot capture those.
        const StringId v = label.second;
        const std::string_view name = snapshot.str(label.first);
        const std::string_view arg = name == "process_labels"           ? "labels"
                                     : name == "process_uptime_seconds" ? "uptime"
                                                                        : "name";
        metadata_event(name, p, nullptr, arg, [&] { json_string(out, snapshot.str(v)); });
      }
    }
    for (size_t id = 0; id < track_used.size(); ++id) {
      if (!track_used[id]) continue;
      const Track& t = snapshot.track(static_cast<TrackId>(id));
      const Process& p = snapshot.processes()[t.process];
      if (t.name != 0) {
        metadata_event("thread_name", p, &t, "name",
                       [&] { json_string(out, snapshot.str(t.name)); });
      }
      if (t.has_sort_index) {
        metadata_event("thread_sort_index", p, &t, "sort_index",
                       [&] { json_int(out, t.sort_index); });
      }
      if (id >= lane_used.size()) continue;
      const std::string thread = t.name != 0        ? std::string(snapshot.str(t.name))
                                 : t.tid_label != 0 ? std::string(snapshot.str(t.tid_label))
                                                    : std::to_string(t.tid);
      for (size_t l = 0; l < lane_used[id].size(); ++l) {
        if (!lane_used[id][l]) continue;
        Track lt = t;
        lt.tid = lane_tid[id][l];
        lt.tid_label = 0;
        metadata_event("thread_name", p, &lt, "name", [&] {
          json_string(out, thread + " (overlapping, lane " + std::to_string(l + 1) + ")");
        });
        if (t.has_sort_index) {
          metadata_event("thread_sort_index", p, &lt, "sort_index",
                         [&] { json_int(out, t.sort_index); });
        }
      }
    }
  }

  // Ends traceEvents, writes the trace metadata and opens the "huoyan" section.
  void close_events() {
    if (options.write_metadata_events) metadata_events();
    lit(out, "\n],\n\"displayTimeUnit\":\"ns\",\n\"metadata\":{");
    bool first = true;
    for (const auto& [k, v] : meta) {
      if (!skips.empty() && k == "huoyan_skipped") continue;
      if (!first) out.put(',');
      first = false;
      json_string(out, k);
      out.put(':');
      json_string(out, v);
    }
    if (!skips.empty()) {
      if (!first) out.put(',');
      lit(out, "\"huoyan_skipped\":{");
      for (size_t i = 0; i < skips.size(); ++i) {
        if (i > 0) out.put(',');
        json_string(out, skips[i].first);
        out.put(':');
        json_uint(out, skips[i].second);
      }
      out.put('}');
    }
    lit(out, "},\n\"huoyan\":{\"version\":1,\n\"steps\":[");
    phase = Phase::kSteps;
  }

  void open_requests() {
    lit(out, "\n],\n\"requests\":[");
    phase = Phase::kRequests;
  }

  static void time_or_null(BufferedOut& o, int64_t t) {
    if (t == kNoTime) {
      lit(o, "null");
    } else {
      json_int(o, t);
    }
  }

  void step(const Step& s) {
    if (phase == Phase::kEvents) close_events();
    if (phase != Phase::kSteps) {
      reject("step() after request() or finish()");
      return;
    }
    if (steps_written++ > 0) out.put(',');
    lit(out, "\n{\"id\":");
    json_uint(out, s.id);
    lit(out, ",\"start\":");
    time_or_null(out, s.start);
    lit(out, ",\"end\":");
    time_or_null(out, s.end);
    if (s.track < snapshot.tracks().size()) {
      // The thread that ran the step, as [pid, tid] in the form the events use.
      const Track& t = snapshot.track(s.track);
      const Process& p = snapshot.process_of(s.track);
      lit(out, ",\"track\":[");
      if (p.label != 0) {
        json_string(out, snapshot.str(p.label));
      } else {
        json_int(out, pid_out(p));
      }
      out.put(',');
      if (t.tid_label != 0) {
        json_string(out, snapshot.str(t.tid_label));
      } else {
        json_int(out, t.tid);
      }
      out.put(']');
    }
    lit(out, ",\"members\":[");
    for (size_t i = 0; i < s.members.size(); ++i) {
      if (i > 0) out.put(',');
      out.put('[');
      json_string(out, snapshot.str(s.members[i].request));
      out.put(',');
      json_uint(out, s.members[i].tokens);
      out.put(']');
    }
    lit(out, "]}");
  }

  void request(const RequestInfo& r) {
    if (phase == Phase::kEvents) close_events();
    if (phase == Phase::kSteps) open_requests();
    if (phase != Phase::kRequests) {
      reject("request() after finish()");
      return;
    }
    if (requests_written++ > 0) out.put(',');
    lit(out, "\n{\"id\":");
    json_string(out, snapshot.str(r.id));
    lit(out, ",\"arrival\":");
    time_or_null(out, r.arrival);
    lit(out, ",\"first_token\":");
    time_or_null(out, r.first_token);
    lit(out, ",\"finish\":");
    time_or_null(out, r.finish);
    lit(out, ",\"tokens_in\":");
    json_uint(out, r.tokens_in);
    lit(out, ",\"tokens_out\":");
    json_uint(out, r.tokens_out);
    out.put('}');
  }

  Status finish() {
    if (phase == Phase::kDone) return Status::Error("chrome writer: finish() called twice");
    if (phase == Phase::kEvents) close_events();
    if (phase == Phase::kSteps) open_requests();
    lit(out, "\n]}}\n");
    phase = Phase::kDone;
    Status st = out.flush();
    if (!st.ok()) return st;
    return order_error;
  }

  BufferedOut out;
  const Snapshot& snapshot;
  ChromeWriteOptions options;
  Phase phase = Phase::kEvents;
  Status order_error;
  std::vector<std::string> track_prefix;
  std::vector<uint8_t> track_used;
  std::vector<int64_t> out_pid;  // the pid written for each process (see assign_pids)
  ChromeLanes lanes;
  std::vector<std::vector<int64_t>> lane_tid;  // per track, per lane ≥ 1
  std::vector<std::vector<std::string>> lane_prefix;
  std::vector<std::vector<uint8_t>> lane_used;
  std::vector<uint8_t> skip;
  std::unordered_map<StringId, size_t> last_index;
  std::vector<std::pair<std::string, std::string>> meta;
  std::vector<std::pair<std::string, uint64_t>> skips;
  int64_t min_ts = std::numeric_limits<int64_t>::max();
  uint64_t events_written = 0;
  uint64_t meta_written = 0;
  uint64_t elements = 0;  // entries of traceEvents so far (events and metadata)
  uint64_t steps_written = 0;
  uint64_t requests_written = 0;
};

ChromeJsonWriter::ChromeJsonWriter(Sink& sink, const Snapshot& snapshot, ChromeWriteOptions options)
    : impl_(std::make_unique<Impl>(sink, snapshot, options)) {}

ChromeJsonWriter::~ChromeJsonWriter() = default;

void ChromeJsonWriter::event(const EventView& ev, std::span<const Arg> extra) {
  impl_->event(ev, extra);
}
void ChromeJsonWriter::step(const Step& step) { impl_->step(step); }
void ChromeJsonWriter::request(const RequestInfo& request) { impl_->request(request); }

void ChromeJsonWriter::metadata(std::string_view key, std::string_view value) {
  if (impl_->phase != Impl::Phase::kEvents) {
    impl_->reject("metadata() after step(), request() or finish()");
    return;
  }
  for (auto& [k, v] : impl_->meta) {
    if (k == key) {
      v = value;
      return;
    }
  }
  impl_->meta.emplace_back(std::string(key), std::string(value));
}

void ChromeJsonWriter::skipped(std::string_view reason, uint64_t count) {
  if (impl_->phase != Impl::Phase::kEvents) {
    impl_->reject("skipped() after step(), request() or finish()");
    return;
  }
  for (auto& [k, v] : impl_->skips) {
    if (k == reason) {
      v += count;
      return;
    }
  }
  impl_->skips.emplace_back(std::string(reason), count);
}

Status ChromeJsonWriter::finish() { return impl_->finish(); }
uint64_t ChromeJsonWriter::bytes_written() const { return impl_->out.bytes_written(); }
uint64_t ChromeJsonWriter::events_written() const { return impl_->events_written; }

Status write_chrome_trace(const TraceStore& store, Sink& sink, ChromeWriteOptions options) {
  const StepRequestArgs::Keys keys = StepRequestArgs::intern_keys(store);
  const Snapshot snap = store.snapshot();
  // Copied out so the store's shared lock is not held while the sink is slow.
  std::vector<Step> steps;
  steps.reserve(store.step_count());
  store.for_each_step([&](const Step& s) { steps.push_back(s); });
  ChromeJsonWriter w(sink, snap, options);
  StepRequestArgs step_args(snap, keys, steps);
  snap.for_each(
      [&](const EventView& ev) { w.event(ev, step_args.of(*ev, snap.is_device_event(*ev))); });
  for (const auto& [k, v] : store.metadata()) w.metadata(k, v);
  for (const auto& [reason, n] : store.skips().all()) w.skipped(reason, n);
  for (const Step& s : steps) w.step(s);
  steps = {};
  std::vector<RequestInfo> requests;
  requests.reserve(store.request_count());
  store.for_each_request([&](const RequestInfo& r) { requests.push_back(r); });
  for (const RequestInfo& r : requests) w.request(r);
  return w.finish();
}

}  // namespace huoyan
