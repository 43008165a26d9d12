// The event model. Everything inside huoyan is integer nanoseconds; conversion to other units
// happens only at the edges (src/core/time_format.h).
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

#include "src/core/string_table.h"

namespace huoyan {

using TrackId = uint32_t;
// Position of an event in a store's insertion order. Stable for the store's lifetime; events
// below TraceStore::first_seq() have been evicted.
using EventSeq = uint64_t;

inline constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

// What an event is. Duration kinds say what produced the slice (docs/formats.md, "Event kinds"):
// readers decide them from producer knowledge (Kineto categories, torch_npu/msprof processes,
// Nsight tables); kSpan is a slice whose producer is unknown, resolved by Snapshot::kind_of().
// The numeric values are not persisted anywhere; new kinds still go at the end.
enum class EventKind : uint8_t {
  kKernel,        // device compute kernel / operator task
  kMemcpy,        // device memory copy
  kMemset,        // device memory set
  kSpan,          // a slice of unknown producer: device work on a device-named process, else host
  kInstant,       // "i"/"I"
  kCounter,       // "C": series values are the args
  kFlowStart,     // "s"
  kFlowStep,      // "t"
  kFlowEnd,       // "f"
  kAsyncBegin,    // "b"
  kAsyncEnd,      // "e"
  kAsyncInstant,  // "n"
  kCollective,    // device communication: NCCL/RCCL kernels, HCCL operators
  kWait,          // the device waits or synchronises (stream/event sync, Notify Wait)
  kDeviceRange,   // an annotation range on a device track: encloses kernels, is not one
  kHost,          // host work: framework ops, Python frames, API calls, annotations
  kDerived,       // an analysis tool's pseudo-event (Overlap Analysis, step trace)
};

// Device work: what device time is made of, and what every share is over.
inline bool is_device_work(EventKind k) {
  return k == EventKind::kKernel || k == EventKind::kMemcpy || k == EventKind::kMemset ||
         k == EventKind::kCollective;
}
// Events that happen on a device, work or not (a track carrying them is a device track).
inline bool is_device_side(EventKind k) {
  return is_device_work(k) || k == EventKind::kWait || k == EventKind::kDeviceRange;
}
inline bool has_duration(EventKind k) {
  return is_device_side(k) || k == EventKind::kSpan || k == EventKind::kHost ||
         k == EventKind::kDerived;
}
// "kernel", "memcpy", "memset", "collective", "wait", "device-range", "host", "derived",
// "counter", and "span"/"instant"/"flow"/"async" for the rest.
std::string_view kind_name(EventKind k);

namespace event_flags {
inline constexpr uint8_t kIdHex = 1 << 0;          // id was written as a "0x…" string
inline constexpr uint8_t kIdString = 1 << 1;       // id is a StringId of a non-numeric string id
inline constexpr uint8_t kBindEnclosing = 1 << 2;  // flow "bp":"e"
inline constexpr uint8_t kUnclosed = 1 << 3;       // "B" without "E": dur runs to the trace end
inline constexpr uint8_t kScopeGlobal = 1 << 4;    // instant "s":"g"
inline constexpr uint8_t kScopeProcess = 1 << 5;   // instant "s":"p"
inline constexpr uint8_t kIdLocal = 1 << 6;        // id came from "id2":{"local":…}
}  // namespace event_flags

enum class ArgType : uint8_t { kNull, kBool, kInt, kUint, kDouble, kString, kJson };

// One attribute value. Strings and raw JSON (nested objects/arrays kept verbatim) point into
// storage owned by whoever produced the value (a chunk of the store, or the caller on append).
struct ArgValue {
  ArgType type = ArgType::kNull;
  union {
    int64_t i;
    uint64_t u;
    double d;
    bool b;
  };
  std::string_view s;  // kString (unescaped text) or kJson (raw JSON text)

  ArgValue() : i(0) {}
  static ArgValue Int(int64_t v) {
    ArgValue a;
    a.type = ArgType::kInt;
    a.i = v;
    return a;
  }
  static ArgValue Uint(uint64_t v) {
    ArgValue a;
    a.type = ArgType::kUint;
    a.u = v;
    return a;
  }
  static ArgValue Double(double v) {
    ArgValue a;
    a.type = ArgType::kDouble;
    a.d = v;
    return a;
  }
  static ArgValue Bool(bool v) {
    ArgValue a;
    a.type = ArgType::kBool;
    a.b = v;
    return a;
  }
  static ArgValue String(std::string_view v) {
    ArgValue a;
    a.type = ArgType::kString;
    a.s = v;
    return a;
  }
  static ArgValue Json(std::string_view v) {
    ArgValue a;
    a.type = ArgType::kJson;
    a.s = v;
    return a;
  }

  bool is_number() const {
    return type == ArgType::kInt || type == ArgType::kUint || type == ArgType::kDouble;
  }
  double as_double() const {
    switch (type) {
      case ArgType::kInt:
        return static_cast<double>(i);
      case ArgType::kUint:
        return static_cast<double>(u);
      case ArgType::kDouble:
        return d;
      case ArgType::kBool:
        return b ? 1.0 : 0.0;
      default:
        return 0.0;
    }
  }
};

struct Arg {
  StringId key = 0;
  ArgValue value;
};

// One stored event (56 bytes). Field meaning by kind:
//  - ts/dur: start and duration in ns (dur is 0 for instants, counters and flows);
//  - id: correlation id for kernels/API calls (links launch and kernel), flow id for s/t/f,
//        async id for b/e/n; 0 = none;
//  - step: the scheduler step that launched it (0 = none), the key of request attribution;
//  - request: owning request of request-scoped host spans (queueing, tokenization…), 0 = none.
struct Event {
  int64_t ts = 0;
  int64_t dur = 0;
  uint64_t id = 0;
  uint64_t step = 0;
  StringId name = 0;
  StringId cat = 0;
  TrackId track = 0;
  StringId request = 0;
  uint32_t args_begin = 0;  // index into the owning chunk's args
  uint16_t args_count = 0;
  EventKind kind = EventKind::kSpan;
  uint8_t flags = 0;

  int64_t end() const { return ts + dur; }
};
static_assert(sizeof(Event) == 56,
              "Event layout changed: update memory figures in bench/README.md");

enum class DeviceType : uint8_t { kNone, kCpu, kGpu, kNpu, kOther };

std::string_view device_type_name(DeviceType t);  // "CPU", "GPU", "NPU", "Device", ""

}  // namespace huoyan
