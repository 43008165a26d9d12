// TraceStore: the bounded, indexed home of every event huoyan holds.
//
// Capacity is in events: when an append would exceed it, the oldest chunk of events is evicted
// (oldest inserted first) and counted in dropped(). Events are indexed by track (device/stream or
// host thread), by step (the scheduler iteration that launched them) and by owning request.
// Steps record their member requests and token counts, which is what request attribution needs.
//
// Threading: any number of readers and one writer at a time. Writers go through a Writer (which
// holds the store's exclusive lock, so batch appends); readers take a Snapshot (cheap: it shares
// the event chunks and copies the small track tables) or call the query methods, which take a
// shared lock. Strings are interned in a table shared with snapshots.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "src/core/chunk.h"
#include "src/core/event.h"
#include "src/core/skip_counters.h"
#include "src/core/string_table.h"
#include "src/core/taxonomy.h"

namespace huoyan {

struct StoreOptions {
  size_t capacity_events = size_t{16} << 20;  // 16 M events
};

// A process in Chrome terms: a device ("NPU 0") or a host process.
struct Process {
  int64_t pid = 0;
  StringId label = 0;  // original string pid, when the input used one (e.g. "Spans")
  StringId name = 0;   // process_name metadata
  int32_t sort_index = 0;
  bool has_sort_index = false;
  DeviceType device_type = DeviceType::kNone;  // kNone: host (unless its events say otherwise)
  int32_t device = -1;
  // From its name (process_role()): decides the kind of its slices of unknown producer.
  ProcessRole role = ProcessRole::kUnknown;
  std::vector<std::pair<StringId, StringId>> labels;  // other "M" metadata (name → value)
};

// A row of the timeline: one (pid, tid) — a device stream or a host thread.
struct Track {
  int64_t pid = 0;
  int64_t tid = 0;
  StringId tid_label = 0;  // original string tid, when the input used one
  StringId name = 0;       // thread_name metadata
  int32_t sort_index = 0;
  bool has_sort_index = false;
  uint32_t process = 0;  // index into the process table
  // Set from the thread's name when it differs from its process's (msprof's "Step Trace"
  // thread inside "Ascend Hardware"); kUnknown: the process's role applies.
  ProcessRole role = ProcessRole::kUnknown;
  uint64_t device_events = 0;  // device-side events (is_device_side) seen on this track
};

struct StepMember {
  StringId request = 0;
  uint32_t tokens = 0;
};

// One scheduler iteration: its members and when it ran. Kernels carry the step id.
struct Step {
  uint64_t id = 0;
  int64_t start = kNoTime;
  int64_t end = kNoTime;
  TrackId track = 0;  // thread that ran the step
  std::vector<StepMember> members;
  uint64_t total_tokens() const {
    uint64_t t = 0;
    for (const auto& m : members) t += m.tokens;
    return t;
  }
};

enum class RequestMark : uint8_t { kArrival, kFirstToken, kFinish };

struct RequestInfo {
  StringId id = 0;
  int64_t arrival = kNoTime;
  int64_t first_token = kNoTime;
  int64_t finish = kNoTime;
  uint64_t tokens_in = 0;
  uint64_t tokens_out = 0;
  std::vector<uint64_t> steps;  // ids of the steps it was a member of, in order
};

class Snapshot;

// Read access to one stored event and its args.
struct EventView {
  const Event* event = nullptr;
  const Chunk* chunk = nullptr;
  EventSeq seq = 0;
  const Event& operator*() const { return *event; }
  const Event* operator->() const { return event; }
  std::span<const StoredArg> args() const { return chunk->args(*event); }
};

class TraceStore {
 public:
  explicit TraceStore(StoreOptions options = {});
  TraceStore(const TraceStore&) = delete;
  TraceStore& operator=(const TraceStore&) = delete;

  // --- strings (thread-safe) ---
  StringId intern(std::string_view s) const { return strings_->intern(s); }
  std::string_view str(StringId id) const { return strings_->str(id); }
  const std::shared_ptr<StringTable>& strings() const { return strings_; }

  // --- writing ---
  class Writer {
   public:
    ~Writer() = default;
    Writer(Writer&&) = default;

    // Get-or-create. A process is keyed by pid; a track by (pid, tid).
    uint32_t process(int64_t pid);
    TrackId track(int64_t pid, int64_t tid);
    // A device stream: pid derived from the device so it is stable across runs, the process
    // named "NPU 0"/"GPU 0"/"CPU 0", the track "Stream N".
    TrackId device_track(DeviceType type, int32_t device, int64_t stream);
    Process& process_at(uint32_t index);
    Track& track_at(TrackId id);

    // Events and steps are stored with their step ids moved by the store's input step offset
    // (see set_input_step_offset).
    EventSeq append(const Event& e, std::span<const Arg> args = {});
    void add_step(Step step);
    void mark_request(StringId request, RequestMark mark, int64_t ts);
    void add_request_tokens(StringId request, uint64_t tokens_in, uint64_t tokens_out);
    void set_metadata(std::string_view key, std::string_view value);

   private:
    friend class TraceStore;
    explicit Writer(TraceStore* store);
    EventSeq append_event(const Event& e, std::span<const Arg> args);
    TraceStore* store_;
    std::unique_lock<std::shared_mutex> lock_;
  };
  // Takes the exclusive lock until the Writer is destroyed: keep batches short (thousands of
  // events) when readers run concurrently.
  Writer writer() { return Writer(this); }

  // Added to every step id written from now on (events' steps and steps' ids), 0 to stop. Set
  // between inputs when several traces are merged into one store, so that step 7 of one file
  // and step 7 of another stay two steps (each keeps its own scheduler thread and members).
  void set_input_step_offset(uint64_t offset);
  // What a reader adds to its own step ids to look them up (step(), events_of_step()).
  uint64_t input_step_offset() const;
  // Added to every time written from now on (events' ts, steps' start/end, request marks;
  // kNoTime stays kNoTime, a sum beyond int64 saturates), 0 to stop. Set between inputs when
  // several traces are merged, so each input's clock is moved onto the common timeline while
  // it is read.
  void set_input_time_offset(int64_t offset_ns);
  int64_t input_time_offset() const;

  // Called with every event appended from now on (after the step and time offsets), under the
  // writer's lock: it must not call into the store. For one-pass consumers (StreamingStats) of
  // stores that keep less than they are given.
  void set_append_observer(std::function<void(const Event&)> observer);

  // --- reading ---
  Snapshot snapshot() const;

  size_t capacity() const { return options_.capacity_events; }
  uint64_t held() const;
  uint64_t dropped() const;
  uint64_t appended() const;  // total ever appended
  EventSeq first_seq() const;
  size_t memory_bytes() const;
  SkipCounters& skips() { return skips_; }
  const SkipCounters& skips() const { return skips_; }

  // Index queries (shared lock). Sequences are in insertion order; evicted ones are omitted.
  std::vector<EventSeq> events_of_track(TrackId track) const;
  std::vector<EventSeq> events_of_step(uint64_t step) const;
  std::vector<EventSeq> events_of_request(StringId request) const;  // request-owned spans
  std::optional<Step> step(uint64_t id) const;
  // The track of the step's scope (its host thread), without copying its members.
  std::optional<TrackId> step_track(uint64_t id) const;
  std::optional<RequestInfo> request(StringId id) const;
  bool has_request(StringId id) const;
  size_t request_count() const;
  size_t step_count() const;
  // Calls f for every known request / step, under the shared lock: f must not call back into
  // the store's writer.
  void for_each_request(const std::function<void(const RequestInfo&)>& f) const;
  void for_each_step(const std::function<void(const Step&)>& f) const;
  std::vector<std::pair<std::string, std::string>> metadata() const;

 private:
  friend class Snapshot;
  void evict_oldest_locked();
  RequestInfo& request_entry_locked(StringId request);
  void new_chunk_locked();

  StoreOptions options_;
  uint32_t chunk_events_;
  std::shared_ptr<StringTable> strings_;
  SkipCounters skips_;

  mutable std::shared_mutex mu_;
  std::deque<std::shared_ptr<Chunk>> chunks_;
  EventSeq next_seq_ = 0;
  uint64_t held_ = 0;
  uint64_t dropped_ = 0;
  std::vector<Process> processes_;
  std::unordered_map<int64_t, uint32_t> process_index_;
  std::vector<Track> tracks_;
  std::map<std::pair<int64_t, int64_t>, TrackId> track_index_;
  std::vector<std::deque<EventSeq>> by_track_;
  std::unordered_map<uint64_t, std::vector<EventSeq>> by_step_;
  std::unordered_map<StringId, std::vector<EventSeq>> by_request_;
  // The index list of the last step / request appended to: consecutive events mostly share
  // them, so append skips the hash lookup. Map nodes are stable across rehashing; eviction,
  // which erases nodes, resets both.
  uint64_t step_offset_ = 0;
  int64_t time_offset_ = 0;
  uint64_t last_step_ = 0;
  std::vector<EventSeq>* last_step_list_ = nullptr;
  StringId last_request_ = 0;
  std::vector<EventSeq>* last_request_list_ = nullptr;
  std::map<uint64_t, Step> steps_;
  std::unordered_map<StringId, RequestInfo> requests_;
  std::deque<StringId> request_order_;
  size_t max_steps_;
  size_t max_requests_;
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::function<void(const Event&)> observer_;
};

// An immutable view of the store at one moment. Self-contained: it shares the chunks and the
// string table, so it stays valid after the store evicts or is destroyed.
class Snapshot {
 public:
  Snapshot() = default;

  EventSeq begin_seq() const { return begin_seq_; }
  EventSeq end_seq() const { return end_seq_; }
  size_t size() const { return static_cast<size_t>(end_seq_ - begin_seq_); }
  bool contains(EventSeq seq) const { return seq >= begin_seq_ && seq < end_seq_; }
  EventView at(EventSeq seq) const;

  template <typename F>
  void for_each(F&& f) const {
    for (size_t c = 0; c < chunks_.size(); ++c) {
      const Chunk* chunk = chunks_[c].get();
      const uint32_t n = counts_[c];
      for (uint32_t i = 0; i < n; ++i) {
        f(EventView{&chunk->event(i), chunk, chunk->first_seq() + i});
      }
    }
  }

  // for_each over the events from sequence `from` on (all held ones when `from` is older).
  template <typename F>
  void for_each_from(EventSeq from, F&& f) const {
    for (size_t c = 0; c < chunks_.size(); ++c) {
      const Chunk* chunk = chunks_[c].get();
      const uint32_t n = counts_[c];
      const EventSeq first = chunk->first_seq();
      if (first + n <= from) continue;
      for (uint32_t i = from > first ? static_cast<uint32_t>(from - first) : 0; i < n; ++i) {
        f(EventView{&chunk->event(i), chunk, first + i});
      }
    }
  }

  std::string_view str(StringId id) const { return strings_->str(id); }
  const StringTable& strings() const { return *strings_; }
  const std::vector<Track>& tracks() const { return tracks_; }
  const std::vector<Process>& processes() const { return processes_; }
  const Track& track(TrackId id) const { return tracks_[id]; }
  const Process& process_of(TrackId id) const { return processes_[tracks_[id].process]; }
  // A device track (for labels and ordering): its process is a device, or device-side events
  // were seen on it.
  bool is_device_track(TrackId id) const {
    return tracks_[id].device_events > 0 || process_of(id).device_type != DeviceType::kNone;
  }
  // The kind of an event, slices of unknown producer (kSpan) resolved by their process: a
  // device-named process makes them kernels, HCCL/Communication collectives or waits, Overlap
  // Analysis derived, else host. Never "the process carries kernels, so all of it is device
  // work": that is what puts Python frames into device time.
  EventKind kind_of(const Event& e) const {
    const Track& t = tracks_[e.track];
    const Process& p = processes_[t.process];
    const ProcessRole role = t.role != ProcessRole::kUnknown ? t.role : p.role;
    if (role == ProcessRole::kMirror && (e.kind == EventKind::kSpan || is_device_side(e.kind))) {
      return EventKind::kDeviceRange;
    }
    if (e.kind != EventKind::kSpan) return e.kind;
    switch (role) {
      case ProcessRole::kDevice:
        return device_slice_kind(str(e.name));
      case ProcessRole::kCommunication:
        return communication_slice_kind(str(e.name));
      case ProcessRole::kDerived:
        return EventKind::kDerived;
      case ProcessRole::kHost:
        return EventKind::kHost;
      case ProcessRole::kUnknown:
      case ProcessRole::kMirror:
        break;
    }
    return p.device_type != DeviceType::kNone ? device_slice_kind(str(e.name)) : EventKind::kHost;
  }
  // Device work (kernels, copies, sets, collectives): what device time and every share are
  // made of (docs/formats.md, "Event kinds").
  bool is_device_event(const Event& e) const { return is_device_work(kind_of(e)); }
  // "NPU 0", "GPU 1", or the process name / pid for tracks of imported traces.
  std::string device_label(TrackId id) const;
  std::string track_label(TrackId id) const;  // "NPU 0 / Stream 3", "python / Thread 12"

 private:
  friend class TraceStore;
  std::shared_ptr<StringTable> strings_;
  std::vector<std::shared_ptr<const Chunk>> chunks_;
  std::vector<uint32_t> counts_;
  EventSeq begin_seq_ = 0;
  EventSeq end_seq_ = 0;
  std::vector<Track> tracks_;
  std::vector<Process> processes_;
};

// Chrome pid of a device, stable across runs: distinct per device type so NPU 0 and GPU 0 can
// live in one store (multi-vendor merges), far from typical OS pids.
int64_t device_pid(DeviceType type, int32_t device);

}  // namespace huoyan
