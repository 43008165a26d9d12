// The vendor-neutral half of the activity-buffer device collectors (CUPTI, msPTI): a bounded
// pool of record buffers, and the sink that turns converted records into store events tagged with
// the step that launched them.
//
// Both vendor APIs work the same way: the tool pushes an external correlation id (our step id)
// on the launching thread; the library then emits an external-correlation record
// {correlationId -> step} immediately *before* the launch API record with that correlationId, in
// the same record stream; the device record (kernel, memcpy, memset) carries the same
// correlationId but is written when the device work completes, usually into a different buffer
// that can be delivered earlier or later. The sink therefore:
//  - maps correlationId -> step from external-correlation records (bounded, oldest forgotten);
//  - on a launch API record whose correlationId has no mapping, records "no step" (0) — the
//    vendors guarantee the external record would have preceded it;
//  - parks device records whose correlationId is not yet known in a bounded pending list and
//    resolves them when the mapping arrives; what is still unresolved when the collector stops
//    is stored with step 0 and counted as a skip.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/core/event.h"
#include "src/core/trace_store.h"

namespace huoyan {

// Record buffers handed to a vendor library. Bounded: at most max_buffers are out at once (a
// refused request makes the vendor drop records, which it counts and we report). Freed buffers
// are kept for reuse so steady-state tracing does not churn multi-megabyte allocations.
// Thread-safe; acquire() may run on any application thread inside a vendor API call, so it only
// takes the pool's own short lock and never calls back into the vendor library.
class ActivityBufferPool {
 public:
  static constexpr size_t kAlignment = 8;  // CUPTI/msPTI record alignment

  ActivityBufferPool() = default;
  ~ActivityBufferPool();
  ActivityBufferPool(const ActivityBufferPool&) = delete;
  ActivityBufferPool& operator=(const ActivityBufferPool&) = delete;

  // Sets the size of new buffers (rounded up to kAlignment, at least 1 KiB) and the bound.
  void configure(size_t buffer_bytes, size_t max_buffers);
  // A buffer of *size bytes, or nullptr (and *size = 0) when max_buffers are outstanding.
  // `allow_over_limit` hands out a buffer anyway (for vendor versions that crash on refusal);
  // *over_limit is set when that happened.
  uint8_t* acquire(size_t* size, bool allow_over_limit = false, bool* over_limit = nullptr);
  // Returns a buffer of `size` bytes (the size acquire() reported).
  void release(uint8_t* buffer, size_t size);
  size_t outstanding() const { return outstanding_.load(std::memory_order_relaxed); }
  size_t buffer_bytes() const;

 private:
  mutable std::mutex mu_;
  size_t buffer_bytes_ = size_t{4} << 20;
  size_t max_buffers_ = 32;
  std::vector<uint8_t*> free_;  // all of size buffer_bytes_
  std::atomic<size_t> outstanding_{0};
};

// Where a record goes: a device stream, or a host thread.
struct TrackRef {
  bool device = false;
  DeviceType type = DeviceType::kNone;
  int32_t device_id = 0;
  int64_t stream = 0;
  int64_t pid = 0;
  int64_t tid = 0;
  StringId name = 0;  // overrides the default track name ("Stream N") when set

  static TrackRef Device(DeviceType type, int32_t device_id, int64_t stream) {
    TrackRef t;
    t.device = true;
    t.type = type;
    t.device_id = device_id;
    t.stream = stream;
    return t;
  }
  static TrackRef Thread(int64_t pid, int64_t tid) {
    TrackRef t;
    t.pid = pid;
    t.tid = tid;
    return t;
  }
};

// One vendor record converted to a store event, before its track and step are resolved.
// Self-contained (string/JSON arg text lives in the record), so it can wait in the pending list
// after the vendor buffer it came from has been recycled.
class ActivityRecord {
 public:
  static constexpr size_t kMaxArgs = 12;
  static constexpr size_t kTextBytes = 96;  // < 256: lengths fit a byte

  Event event;  // ts/dur in store time; name, cat, kind, id set; track/step filled by the sink
  TrackRef track;
  uint64_t correlation = 0;  // 0: not correlated, step stays 0
  bool launch = false;       // a launch API record (see the file comment)

  void add_int(StringId key, int64_t v) { push(key, ArgValue::Int(v)); }
  void add_uint(StringId key, uint64_t v) { push(key, ArgValue::Uint(v)); }
  void add_double(StringId key, double v) { push(key, ArgValue::Double(v)); }
  // Copies the text (truncated if the record's text space is exhausted).
  void add_string(StringId key, std::string_view v) { push_text(key, ArgType::kString, v); }
  void add_json(StringId key, std::string_view v) { push_text(key, ArgType::kJson, v); }
  // "[a,b,c]" as a JSON arg.
  void add_dim3(StringId key, int64_t a, int64_t b, int64_t c);

  size_t arg_count() const { return nargs_; }
  // Materializes the args (string views into this record) into `out`; returns the count.
  size_t args(std::array<Arg, kMaxArgs>* out) const;

 private:
  // Compact (24 bytes): records can wait in the pending list by the thousand.
  struct Slot {
    StringId key = 0;
    ArgType type = ArgType::kNull;
    uint8_t text_len = 0;
    uint16_t text_offset = 0;
    union {
      int64_t i;
      uint64_t u;
      double d;
    };
    Slot() : i(0) {}
  };
  void push(StringId key, ArgValue v);
  void push_text(StringId key, ArgType type, std::string_view v);

  std::array<Slot, kMaxArgs> slots_{};
  uint8_t nargs_ = 0;
  uint16_t text_used_ = 0;
  std::array<char, kTextBytes> text_{};
};

struct ActivitySinkOptions {
  std::string backend = "device";  // prefix of skip reasons: "<backend>: ..."
  size_t max_correlations = size_t{1} << 18;
  size_t max_pending = size_t{1} << 14;
  size_t append_batch = 4096;  // events per writer lock: keeps readers' waits short
};

// Thread-safe: all methods serialize on one internal mutex (vendor libraries may complete
// buffers on several threads). Never calls into a vendor library.
class ActivitySink {
 public:
  ActivitySink(TraceStore* store, ActivitySinkOptions options);

  // An external-correlation record: `correlation` was launched inside `step`.
  void link(uint64_t correlation, uint64_t step);
  // Resolves the record's step (or parks it) and queues it for the store.
  void add(ActivityRecord&& record);
  // Retries parked records and appends everything queued to the store.
  void commit();
  // Final commit: records still unresolved are stored with step 0 and counted as skipped.
  void finish();

  uint64_t events() const { return events_.load(std::memory_order_relaxed); }
  size_t pending() const;
  TraceStore* store() const { return store_; }

 private:
  void remember_locked(uint64_t correlation, uint64_t step, bool overwrite);
  void resolve_pending_locked();
  void append_ready_locked();
  std::string reason(std::string_view what) const;

  TraceStore* const store_;
  const ActivitySinkOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, uint64_t> steps_;  // correlation -> step (0 = known: none)
  std::deque<uint64_t> order_;                    // insertion order, for bounded forgetting
  std::deque<ActivityRecord> pending_;
  std::vector<ActivityRecord> ready_;
  bool links_changed_ = false;
  std::atomic<uint64_t> events_{0};
};

}  // namespace huoyan
