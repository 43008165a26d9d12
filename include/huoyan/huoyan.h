// huoyan — the embeddable profiler of LLM inference servers.
//
// Quickstart (docs/embedding.md has the complete program):
//
//   #include <huoyan/huoyan.h>
//
//   huoyan::Profiler profiler({.collectors = {"host", "fake"}});
//   profiler.start();
//   huoyan::set_thread_name("scheduler");
//   while (serving) {
//     huoyan::StepScope step({{"req-1", 12}, {"req-2", 1}});  // one scheduler iteration
//     HUOYAN_SCOPE("forward");                                  // host span, tagged with the step
//     ...
//   }
//   profiler.snapshot().write_chrome_json("trace.json");    // while collection goes on
//
// What is recorded, and where it goes:
//  - host spans (HUOYAN_SCOPE…), instants, counters and request marks are written by the
//    calling thread into its own lock-free buffer, drained by the profiler's background thread
//    into a bounded store (oldest events evicted first);
//  - a StepScope declares the requests one scheduler iteration serves and their tokens; every
//    span and kernel launched inside it carries its id, which is how device time is attributed
//    to requests under continuous batching;
//  - device kernels come from collectors ("cupti", "cann", "fake") or from record_kernel().
//
// Cost: a disabled profiler costs one relaxed atomic load and a predictable branch per macro;
// defining HUOYAN_DISABLE before including this header removes every macro and makes every
// function an inline no-op (nothing to link). Recording never blocks and never allocates after
// a thread's first event: when a thread's buffer is full, events are dropped and counted.
//
// Threading: every function and method here is thread-safe unless its comment says otherwise.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace huoyan {

// ---------------------------------------------------------------------------------------------
// Plain data, the same whether or not HUOYAN_DISABLE is defined.

inline constexpr int64_t kNoTimestamp = std::numeric_limits<int64_t>::min();

enum class ClockSource : uint8_t {
  kAuto,       // the TSC when it is invariant, else CLOCK_MONOTONIC
  kTsc,        // the CPU's cycle counter, converted to CLOCK_MONOTONIC ns off the hot path
  kMonotonic,  // clock_gettime(CLOCK_MONOTONIC) on every event
};

enum class DeviceKind : uint8_t { kCpu, kGpu, kNpu, kOther };

// An attribute value: an integer, a floating-point number or text. Text is copied when the
// event is recorded, so it may point at a temporary.
class AttrValue {
 public:
  enum class Type : uint8_t { kInt, kDouble, kString };

  template <std::integral T>
  constexpr AttrValue(T v) : type_(Type::kInt), int_(static_cast<int64_t>(v)) {}  // NOLINT
  template <std::floating_point T>
  constexpr AttrValue(T v) : type_(Type::kDouble), double_(static_cast<double>(v)) {}  // NOLINT
  constexpr AttrValue(const char* s) : type_(Type::kString), string_(s) {}             // NOLINT
  constexpr AttrValue(std::string_view s) : type_(Type::kString), string_(s) {}        // NOLINT
  AttrValue(const std::string& s) : type_(Type::kString), string_(s) {}                // NOLINT

  Type type() const { return type_; }
  int64_t as_int() const { return int_; }
  double as_double() const { return double_; }
  std::string_view as_string() const { return string_; }

 private:
  Type type_;
  int64_t int_ = 0;
  double double_ = 0;
  std::string_view string_;
};

// One attribute of a span or kernel: {"flops", 2.1e9}, {"group_size", 32}, {"dtype", "int4"}.
struct Attr {
  std::string_view key;
  AttrValue value;
};

// A member of a scheduler step: the request and how many tokens the step computes for it
// (prompt tokens in a prefill chunk, 1 when decoding).
struct StepEntry {
  std::string_view request_id;
  uint32_t tokens = 0;
};

// A device kernel timed by the caller (e.g. a CPU kernel run by a worker thread).
// Times are in the profiler's time base: take them with huoyan::now_ns().
struct KernelRecord {
  std::string_view name;
  DeviceKind device_type = DeviceKind::kCpu;
  int32_t device = 0;
  int64_t stream = 0;  // the row of the device timeline (a stream, a queue, a worker)
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  uint64_t step = 0;  // the step that launched it; 0: the calling thread's current step
  std::initializer_list<Attr> attrs;  // literal lists: .attrs = {{"flops", 1e9}}
  std::span<const Attr> attr_span;    // lists built at run time (recorded after attrs)
};

struct ProfilerOptions {
  // Events the store holds; beyond it the oldest are evicted (and counted).
  size_t capacity_events = size_t{1} << 22;
  // Slots (32 bytes each) of every thread's buffer, rounded up to a power of two. A thread
  // records until its buffer is full and the drain thread has not caught up, then drops.
  size_t thread_buffer_events = size_t{1} << 15;
  // Collectors by name, in start order: "host" (spans, steps, request marks, record_kernel;
  // without it those are not recorded), "fake" (simulated device), "cupti", "cann". A name
  // may carry settings after a ':': "cann:aclprof,msprof=/path/to/msprof,dir=/data/prof"
  // collects with aclprof* and imports the msprof export at stop() (docs/embedding.md).
  std::vector<std::string> collectors = {"host"};
  ClockSource clock = ClockSource::kAuto;
  // How often the background thread moves buffered events into the store.
  std::chrono::microseconds drain_interval{1000};
  // Name of the host process in traces; empty: the executable's name.
  std::string process_name;
  // Record this host's measured CPU peaks (memory bandwidth, FMA throughput) as the metadata
  // "device_peaks", so the diagnosis judges CPU kernels against measured roofs rather than a
  // guess. Measured once per host (under a second, at the first start()) and cached; see
  // `huoyan calibrate`. The environment variable HUOYAN_CPU_PEAKS=off turns it off too.
  bool cpu_peaks = true;
};

// What snapshot() selects. Times are in the profiler's time base (now_ns()).
struct SnapshotOptions {
  int64_t start_ns = std::numeric_limits<int64_t>::min();  // events ending after start_ns …
  int64_t end_ns = std::numeric_limits<int64_t>::max();    // … and starting before end_ns
  // Non-zero: the last `window` up to now (replaces start_ns).
  std::chrono::nanoseconds window{0};
  std::string request_id;  // non-empty: only this request's kernels and host spans
  bool flush = true;       // drain thread buffers and collectors first
};

// A request's totals within a snapshot. Device times count the kernels of every step the
// request was a member of: `shared` gives it each whole kernel, `apportioned` the kernel's time
// × its tokens / the step's tokens (the apportioned times of a step's members add up exactly
// to the step's kernel time).
struct RequestTotals {
  std::string id;
  int64_t arrival_ns = kNoTimestamp;
  int64_t first_token_ns = kNoTimestamp;
  int64_t finish_ns = kNoTimestamp;
  uint64_t tokens_in = 0;
  uint64_t tokens_out = 0;
  uint64_t steps = 0;
  uint64_t device_events = 0;
  int64_t device_shared_ns = 0;
  int64_t device_apportioned_ns = 0;
  int64_t host_ns = 0;  // its own host spans: queueing, tokenization, detokenization…
};

struct ThreadStats {
  int64_t tid = 0;
  std::string name;
  uint64_t recorded = 0;  // records moved into the store
  uint64_t dropped = 0;   // records lost because the buffer was full
  size_t buffer_bytes = 0;
  bool exited = false;
};

struct CollectorStatus {
  std::string name;
  std::string state;    // "running", "stopped", "unavailable", "error", "standby"
  std::string message;  // why unavailable, or the last error
  uint64_t events = 0;
  uint64_t dropped = 0;
};

struct ClockOffset {
  std::string domain;  // "tsc", "fake", "cupti", …
  int64_t offset_ns = 0;
  int64_t uncertainty_ns = 0;
  double ns_per_tick = 1.0;
};

struct ProfilerStats {
  bool running = false;
  bool global = false;  // this profiler receives the macros' events
  std::string clock;    // "tsc" or "monotonic"
  uint64_t capacity_events = 0;
  uint64_t held_events = 0;
  uint64_t evicted_events = 0;   // evicted from the store to stay within capacity
  uint64_t recorded_events = 0;  // moved from thread buffers into the store
  uint64_t dropped_events = 0;   // lost to full thread buffers, all threads (exited too)
  uint64_t store_bytes = 0;
  uint64_t buffer_bytes = 0;  // thread buffers
  std::vector<ThreadStats> threads;
  std::vector<CollectorStatus> collectors;
  std::vector<ClockOffset> clocks;
};

}  // namespace huoyan

#if defined(HUOYAN_DISABLE)
#include "huoyan/detail/disabled.h"
#else

namespace huoyan {

class ProfilerAccess;
class ProfileSnapshot;

// Owns a store, the collectors and the background drain thread.
//
// The global profiler — set with set_global(), or else the first one started — receives the
// events of the macros and functions below while it runs; other profilers only run their
// device collectors. Stopping keeps everything recorded; start() again resumes.
class Profiler {
 public:
  explicit Profiler(ProfilerOptions options = {});
  ~Profiler();  // stops; stops being the global profiler
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;

  // Starts every collector. Returns false (with *error) for an unknown collector name or when
  // already running. A backend that is unavailable here (no library, no device) does not fail
  // start(): it reports "unavailable" and why in stats().collectors.
  bool start(std::string* error = nullptr);
  // Stops collecting and moves everything buffered into the store.
  void stop();
  bool running() const;

  // A self-contained copy of what the store holds now (filtered by `options`); collection goes
  // on. Costs one pass over the selected events.
  ProfileSnapshot snapshot(const SnapshotOptions& options = {});
  ProfilerStats stats() const;
  const ProfilerOptions& options() const;

  // Makes `profiler` the global one (nullptr: none). Returns false, changing nothing, when a
  // different global profiler is running.
  static bool set_global(Profiler* profiler);
  static Profiler* global();

 private:
  friend class ProfilerAccess;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The selected events, steps and requests of a profiler at one moment; cheap to copy (shared),
// valid after the profiler is gone.
class ProfileSnapshot {
 public:
  ProfileSnapshot();
  ~ProfileSnapshot();
  ProfileSnapshot(const ProfileSnapshot&);
  ProfileSnapshot& operator=(const ProfileSnapshot&);

  size_t event_count() const;
  // One entry per request with activity in the selection, in arrival order.
  const std::vector<RequestTotals>& requests() const;
  const RequestTotals* request(std::string_view id) const;  // nullptr: not in the selection

  // Chrome Trace Event JSON (Perfetto, chrome://tracing). A path ending in ".gz" is gzipped;
  // the file appears complete or not at all. Returns false with *error on failure.
  bool write_chrome_json(const std::string& path, std::string* error = nullptr) const;
  std::string chrome_json() const;

 private:
  friend class ProfilerAccess;
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// One scheduler iteration: declares the requests it serves. Spans recorded on this thread and
// kernels launched from it while it is open carry its id (thread-local; steps may nest, the
// innermost wins). Collectors are told (CUPTI/msPTI tag kernels with it). Records nothing, and
// id() is 0, when the global profiler is not recording.
class StepScope {
 public:
  explicit StepScope(std::initializer_list<StepEntry> members)
      : StepScope(std::span<const StepEntry>(members.begin(), members.size())) {}
  explicit StepScope(std::span<const StepEntry> members);
  ~StepScope();
  StepScope(const StepScope&) = delete;
  StepScope& operator=(const StepScope&) = delete;

  uint64_t id() const { return id_; }

 private:
  uint64_t id_ = 0;
  uint64_t outer_ = 0;
  uint64_t start_ = 0;
};

// The profiler's time base: CLOCK_MONOTONIC in ns.
int64_t now_ns();
// Names the calling thread's row in traces (default: its OS thread name).
void set_thread_name(std::string_view name);
// The innermost open step on the calling thread, 0 if none. Capture it when handing work to
// another thread, and pass it to record_kernel().
uint64_t current_step();

// Request lifecycle marks (times are now_ns()).
void request_arrival(std::string_view request_id, uint64_t tokens_in);
void request_first_token(std::string_view request_id);
void request_finish(std::string_view request_id, uint64_t tokens_out);
// A span owned by a request, timed by the caller (e.g. "queue_wait" from arrival to schedule).
void record_request_span(std::string_view request_id, std::string_view name, int64_t start_ns,
                         int64_t end_ns);
void record_kernel(const KernelRecord& kernel);

// A span name chosen at run time ("layer.3"). Constructing one interns the name (a lock and a
// lookup): do it once and keep it; spans opened with it then cost what HUOYAN_SCOPE costs.
class SpanName {
 public:
  explicit SpanName(std::string_view name);
  uint32_t id() const { return id_; }

 private:
  uint32_t id_ = 0;
};

// Opens a host span on the calling thread, closed by the matching end_span(): for code where a
// block scope does not fit (an observer interface, another library's callbacks). Spans close
// in LIFO order on the thread that opened them and nest with HUOYAN_SCOPE spans; beyond 32 open
// at once on a thread, the deeper ones are not recorded (each still needs its end_span()). An
// end_span() with no open span does nothing.
void begin_span(const SpanName& name);
void end_span();

namespace detail {

// True while the global profiler records. Relaxed: an event racing with start/stop is either
// recorded or not, both fine.
extern std::atomic<bool> g_recording;
inline bool recording() { return __builtin_expect(g_recording.load(std::memory_order_relaxed), 1); }

// A call site's name, registered once per site (function-local static). Never 0.
uint32_t register_site(std::string_view name);
uint64_t scope_begin();  // the start timestamp, in recording-clock units
void counter(uint32_t site, double value);
void instant(uint32_t site);

// The RAII guard behind the scope macros. `site` is a callable returning the site id, invoked
// only when recording so a disabled scope costs one load and one branch.
class Scope {
 public:
  template <typename SiteFn>
  explicit Scope(SiteFn site) {
    if (recording()) {
      site_ = site();
      start_ = scope_begin();
    }
  }
  ~Scope() {
    if (site_ != 0) finish();
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

  bool active() const { return site_ != 0; }
  // Copy the attributes / the owning request id now (they may be temporaries); recorded with
  // the span when it ends. At most one of the two per scope.
  void attrs(std::initializer_list<Attr> attrs);
  void request(std::string_view request_id);

 private:
  void finish();
  uint32_t site_ = 0;
  uint16_t extra_offset_ = 0;  // of the attrs/request bytes in the thread's scratch stack
  uint16_t extra_size_ = 0;
  uint8_t extra_kind_ = 0;
  uint64_t start_ = 0;
};

}  // namespace detail
}  // namespace huoyan

#define HUOYAN_DETAIL_CAT2(a, b) a##b
#define HUOYAN_DETAIL_CAT(a, b) HUOYAN_DETAIL_CAT2(a, b)
#define HUOYAN_DETAIL_VAR HUOYAN_DETAIL_CAT(huoyan_scope_, __COUNTER__)
#define HUOYAN_DETAIL_SITE(name)                                               \
  []() noexcept {                                                              \
    static const uint32_t huoyan_site = ::huoyan::detail::register_site(name); \
    return huoyan_site;                                                        \
  }

// A host span from here to the end of the enclosing block. `name`: a string literal (or any
// constant string), interned once per call site.
#define HUOYAN_SCOPE(name) ::huoyan::detail::Scope HUOYAN_DETAIL_VAR(HUOYAN_DETAIL_SITE(name))

// A host span with attributes: HUOYAN_SCOPE_ATTRS("gemm", {"m", 4096}, {"dtype", "int4"}).
// The values are evaluated only when recording.
#define HUOYAN_SCOPE_ATTRS(name, ...) \
  HUOYAN_DETAIL_SCOPE_ATTRS(HUOYAN_DETAIL_VAR, name, __VA_ARGS__)
#define HUOYAN_DETAIL_SCOPE_ATTRS(var, name, ...)        \
  ::huoyan::detail::Scope var(HUOYAN_DETAIL_SITE(name)); \
  if (var.active()) var.attrs({__VA_ARGS__})

// A host span owned by a request (tokenization, detokenization…): it counts toward the request
// whatever step is open.
#define HUOYAN_REQUEST_SCOPE(name, request_id) \
  HUOYAN_DETAIL_REQUEST_SCOPE(HUOYAN_DETAIL_VAR, name, request_id)
#define HUOYAN_DETAIL_REQUEST_SCOPE(var, name, request_id) \
  ::huoyan::detail::Scope var(HUOYAN_DETAIL_SITE(name));   \
  if (var.active()) var.request(request_id)

// A counter sample (queue length, KV blocks in use…) on the calling thread's row.
#define HUOYAN_COUNTER(name, value)                                                      \
  do {                                                                                   \
    if (::huoyan::detail::recording()) {                                                 \
      ::huoyan::detail::counter(HUOYAN_DETAIL_SITE(name)(), static_cast<double>(value)); \
    }                                                                                    \
  } while (0)

// A point in time on the calling thread's row.
#define HUOYAN_INSTANT(name)                                 \
  do {                                                       \
    if (::huoyan::detail::recording()) {                     \
      ::huoyan::detail::instant(HUOYAN_DETAIL_SITE(name)()); \
    }                                                        \
  } while (0)

#endif  // HUOYAN_DISABLE
