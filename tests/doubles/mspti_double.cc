// libmspti.so test double. See mspti_double.h. Record offsets below are those of msPTI's public
// header mspti_activity.h (Ascend/mspti csrc/include), written out by hand on purpose.

#include "tests/doubles/mspti_double.h"

#include <unistd.h>

#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#define HUOYAN_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

// msptiResult / msptiActivityKind values (mspti_result.h, mspti_activity.h).
enum : int32_t {
  kSuccess = 0,
  kInvalidParameter = 1,
  kMultipleSubscribers = 2,
  kMaxLimitReached = 3,
  kQueueEmpty = 5,
};
enum : uint32_t {
  kMarker = 1,
  kKernel = 2,
  kApi = 3,
  kMemset = 6,
  kMemcpy = 7,
  kExternalCorrelation = 8,
  kCommunication = 9,
};
constexpr uint32_t kExternalKinds = 5;  // INVALID, UNKNOWN, CUSTOM0..2
constexpr uint32_t kQueues = 2;

// A record image: little-endian fields at explicit offsets.
class Rec {
 public:
  explicit Rec(size_t size) : bytes_(size, 0) {}
  Rec& u8(size_t at, uint8_t v) { return put(at, &v, 1); }
  Rec& u32(size_t at, uint32_t v) { return put(at, &v, 4); }
  Rec& u64(size_t at, uint64_t v) { return put(at, &v, 8); }
  Rec& f64(size_t at, double v) { return put(at, &v, 8); }
  Rec& ptr(size_t at, const void* p) { return put(at, &p, sizeof p); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  Rec& put(size_t at, const void* v, size_t n) {
    std::memcpy(bytes_.data() + at, v, n);
    return *this;
  }
  std::vector<uint8_t> bytes_;
};

struct Buffer {
  uint8_t* data = nullptr;
  size_t size = 0;
  size_t used = 0;
  std::vector<size_t> offsets;
};

struct Queue {
  bool has_current = false;
  Buffer current;
  std::deque<Buffer> full;
};

using RequestFn = void (*)(uint8_t**, size_t*, size_t*);
using CompleteFn = void (*)(uint8_t*, size_t, size_t);

struct State {
  std::mutex mu;
  RequestFn request = nullptr;
  CompleteFn complete = nullptr;
  bool subscribed = false;
  int32_t subscribe_result = kSuccess;
  std::map<uint32_t, int32_t> enable_results;
  std::set<uint32_t> enabled;
  Queue queues[kQueues];
  std::map<const uint8_t*, std::vector<size_t>> delivered;
  uint64_t next_correlation = 1;
  size_t dropped_unreported = 0;
  size_t dropped_total = 0;
  size_t outstanding = 0;
};

State& state() {
  static auto* s = new State;
  return *s;
}

int subscriber_token;  // the address is the opaque subscriber handle
thread_local std::vector<uint64_t> t_external[kExternalKinds];

bool write_record(State& s, uint32_t q, const std::vector<uint8_t>& rec) {
  const size_t padded = (rec.size() + 7) / 8 * 8;
  Queue& queue = s.queues[q];
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!queue.has_current) {
      uint8_t* data = nullptr;
      size_t bytes = 0, max_records = 0;
      if (s.request != nullptr) s.request(&data, &bytes, &max_records);
      if (data == nullptr || bytes < padded) {
        ++s.dropped_unreported;
        ++s.dropped_total;
        return false;
      }
      ++s.outstanding;
      queue.current = Buffer{data, bytes, 0, {}};
      queue.has_current = true;
    }
    Buffer& b = queue.current;
    if (b.used + padded <= b.size) {
      std::memcpy(b.data + b.used, rec.data(), rec.size());
      std::memset(b.data + b.used + rec.size(), 0, padded - rec.size());
      b.offsets.push_back(b.used);
      b.used += padded;
      return true;
    }
    queue.full.push_back(std::move(b));
    queue.has_current = false;
  }
  return false;
}

bool on(const State& s, uint32_t kind) { return s.enabled.count(kind) != 0; }

// External-correlation records then the API record, as msPTI writes them for one API call.
uint64_t record_api_call(State& s, const char* name, uint64_t start, uint64_t end) {
  const uint64_t correlation = s.next_correlation++;
  if (on(s, kExternalCorrelation)) {
    for (uint32_t kind = 0; kind < kExternalKinds; ++kind) {
      if (t_external[kind].empty()) continue;
      Rec x(24);  // msptiActivityExternalCorrelation
      x.u32(0, kExternalCorrelation).u32(4, kind).u64(8, t_external[kind].back());
      x.u64(16, correlation);
      write_record(s, HUOYAN_MSPTI_HOST_QUEUE, x.bytes());
    }
  }
  if (on(s, kApi)) {
    Rec a(48);  // msptiActivityApi
    a.u32(0, kApi).u64(4, start).u64(12, end);
    a.u32(20, static_cast<uint32_t>(getpid())).u32(24, static_cast<uint32_t>(gettid()));
    a.u64(28, correlation).ptr(36, name);
    write_record(s, HUOYAN_MSPTI_HOST_QUEUE, a.bytes());
  }
  return correlation;
}

std::vector<Buffer> take(State& s, uint32_t q) {
  std::vector<Buffer> out;
  Queue& queue = s.queues[q];
  for (auto& b : queue.full) out.push_back(std::move(b));
  queue.full.clear();
  if (queue.has_current) {
    out.push_back(std::move(queue.current));
    queue.has_current = false;
  }
  for (const auto& b : out) s.delivered[b.data] = b.offsets;
  return out;
}

int deliver(std::vector<Buffer> buffers) {
  State& s = state();
  CompleteFn complete;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    complete = s.complete;
  }
  int records = 0;
  for (auto& b : buffers) {
    records += static_cast<int>(b.offsets.size());
    if (complete != nullptr) complete(b.data, b.size, b.used);
    std::lock_guard<std::mutex> lock(s.mu);
    s.delivered.erase(b.data);
    --s.outstanding;
  }
  return records;
}

// --- control table ---------------------------------------------------------------------------

void ctl_reset() {
  State& s = state();
  std::vector<Buffer> leftovers;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    for (uint32_t q = 0; q < kQueues; ++q) {
      for (auto& b : take(s, q)) leftovers.push_back(std::move(b));
    }
    s.enabled.clear();
    s.enable_results.clear();
    s.subscribe_result = kSuccess;
    s.subscribed = false;
    s.dropped_unreported = s.dropped_total = 0;
  }
  deliver(std::move(leftovers));
  for (auto& v : t_external) v.clear();
}

uint64_t ctl_launch_kernel(uint32_t device, uint32_t stream, uint64_t start, uint64_t end,
                           const char* name, const char* type, uint64_t api_start,
                           uint64_t api_end) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  const uint64_t correlation = record_api_call(s, "aclnnLaunch", api_start, api_end);
  if (!on(s, kKernel)) return correlation;
  Rec k(56);  // msptiActivityKernel
  k.u32(0, kKernel).u64(4, start).u64(12, end).u32(20, device).u32(24, stream);
  k.u64(28, correlation).ptr(36, type).ptr(44, name);
  write_record(s, HUOYAN_MSPTI_DEVICE_QUEUE, k.bytes());
  return correlation;
}

uint64_t ctl_memcpy_async(uint32_t device, uint32_t stream, int32_t copy_kind, uint64_t bytes,
                          uint64_t start, uint64_t end) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  const uint64_t correlation = record_api_call(s, "aclrtMemcpyAsync", start - 100, start - 10);
  if (!on(s, kMemcpy)) return correlation;
  Rec m(56);  // msptiActivityMemcpy
  m.u32(0, kMemcpy).u32(4, static_cast<uint32_t>(copy_kind)).u64(8, bytes).u64(16, start);
  m.u64(24, end).u32(32, device).u32(36, stream).u64(40, correlation).u8(48, 1);
  write_record(s, HUOYAN_MSPTI_DEVICE_QUEUE, m.bytes());
  return correlation;
}

uint64_t ctl_memset_async(uint32_t device, uint32_t stream, uint32_t value, uint64_t bytes,
                          uint64_t start, uint64_t end) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  const uint64_t correlation = record_api_call(s, "aclrtMemsetAsync", start - 100, start - 10);
  if (!on(s, kMemset)) return correlation;
  Rec m(56);  // msptiActivityMemset
  m.u32(0, kMemset).u32(4, value).u64(8, bytes).u64(16, start).u64(24, end);
  m.u32(32, device).u32(36, stream).u64(40, correlation).u8(48, 1);
  write_record(s, HUOYAN_MSPTI_DEVICE_QUEUE, m.bytes());
  return correlation;
}

uint64_t ctl_communication(uint32_t device, uint32_t stream, const char* name, const char* comm,
                           uint64_t count, uint64_t start, uint64_t end) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  const uint64_t correlation = record_api_call(s, "HcclAllReduce", start - 100, start - 10);
  if (!on(s, kCommunication)) return correlation;
  Rec c(72);  // msptiActivityCommunication
  c.u32(0, kCommunication).u32(4, 4 /*FP32*/).u64(8, count).u32(16, device).u32(20, stream);
  c.u64(24, start).u64(32, end).ptr(40, "ring").ptr(48, name).ptr(56, comm);
  c.u64(64, correlation);
  write_record(s, HUOYAN_MSPTI_DEVICE_QUEUE, c.bytes());
  return correlation;
}

void ctl_marker(int32_t flag, int32_t source, uint64_t id, uint64_t timestamp, const char* name,
                uint32_t a, uint32_t b) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (!on(s, kMarker)) return;
  Rec m(56);  // msptiActivityMarker
  m.u32(0, kMarker).u32(4, static_cast<uint32_t>(flag)).u32(8, static_cast<uint32_t>(source));
  m.u64(12, timestamp).u64(20, id).u32(28, a).u32(32, b).ptr(36, name).ptr(44, nullptr);
  write_record(s, HUOYAN_MSPTI_HOST_QUEUE, m.bytes());
}

void ctl_emit_raw(int queue, uint32_t kind, uint32_t size) {
  Rec r(size < 8 ? 8 : size);
  r.u32(0, kind);
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  write_record(s, static_cast<uint32_t>(queue) % kQueues, r.bytes());
}

int ctl_complete(int queue) {
  State& s = state();
  std::vector<Buffer> buffers;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    buffers = take(s, static_cast<uint32_t>(queue) % kQueues);
  }
  int records = 0;
  std::thread worker([&] { records = deliver(std::move(buffers)); });
  worker.join();
  return records;
}

void ctl_complete_empty() {
  State& s = state();
  RequestFn request;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    request = s.request;
  }
  if (request == nullptr) return;
  uint8_t* data = nullptr;
  size_t bytes = 0, max_records = 0;
  request(&data, &bytes, &max_records);
  if (data == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    ++s.outstanding;
    s.delivered[data] = {};
  }
  std::vector<Buffer> one;
  one.push_back(Buffer{data, bytes, 0, {}});
  std::thread worker([&] { deliver(std::move(one)); });
  worker.join();
}

void ctl_add_dropped(size_t n) {
  std::lock_guard<std::mutex> lock(state().mu);
  state().dropped_unreported += n;
}

void ctl_set_enable_result(uint32_t kind, int32_t result) {
  std::lock_guard<std::mutex> lock(state().mu);
  state().enable_results[kind] = result;
}

void ctl_set_subscribe_result(int32_t result) {
  std::lock_guard<std::mutex> lock(state().mu);
  state().subscribe_result = result;
}

int ctl_kind_enabled(uint32_t kind) {
  std::lock_guard<std::mutex> lock(state().mu);
  return on(state(), kind) ? 1 : 0;
}

int ctl_subscribed() {
  std::lock_guard<std::mutex> lock(state().mu);
  return state().subscribed ? 1 : 0;
}

size_t ctl_records_dropped() {
  std::lock_guard<std::mutex> lock(state().mu);
  return state().dropped_total;
}

size_t ctl_buffers_outstanding() {
  std::lock_guard<std::mutex> lock(state().mu);
  return state().outstanding;
}

size_t ctl_external_depth(uint32_t kind) {
  return kind < kExternalKinds ? t_external[kind].size() : 0;
}

const HuoyanMsptiDoubleControl kControl = {
    ctl_reset,          ctl_launch_kernel, ctl_memcpy_async,      ctl_memset_async,
    ctl_communication,  ctl_marker,        ctl_emit_raw,          ctl_complete,
    ctl_complete_empty, ctl_add_dropped,   ctl_set_enable_result, ctl_set_subscribe_result,
    ctl_kind_enabled,   ctl_subscribed,    ctl_records_dropped,   ctl_buffers_outstanding,
    ctl_external_depth,
};

}  // namespace

HUOYAN_EXPORT const HuoyanMsptiDoubleControl* huoyan_mspti_double_control(void) {
  return &kControl;
}

// --- msPTI entry points (C linkage; enums passed as their 4-byte values)
// --------------------------

HUOYAN_EXPORT int32_t msptiSubscribe(void** subscriber, void* /*callback*/, void* /*userdata*/) {
  if (subscriber == nullptr) return kInvalidParameter;
  std::lock_guard<std::mutex> lock(state().mu);
  if (state().subscribe_result != kSuccess) return state().subscribe_result;
  if (state().subscribed) return kMultipleSubscribers;
  state().subscribed = true;
  *subscriber = &subscriber_token;
  return kSuccess;
}

HUOYAN_EXPORT int32_t msptiUnsubscribe(void* subscriber) {
  std::lock_guard<std::mutex> lock(state().mu);
  if (subscriber != &subscriber_token || !state().subscribed) return kInvalidParameter;
  state().subscribed = false;
  return kSuccess;
}

HUOYAN_EXPORT int32_t msptiActivityRegisterCallbacks(RequestFn request, CompleteFn complete) {
  if (request == nullptr || complete == nullptr) return kInvalidParameter;
  std::lock_guard<std::mutex> lock(state().mu);
  state().request = request;
  state().complete = complete;
  return kSuccess;
}

HUOYAN_EXPORT int32_t msptiActivityEnable(uint32_t kind) {
  std::lock_guard<std::mutex> lock(state().mu);
  auto it = state().enable_results.find(kind);
  if (it != state().enable_results.end() && it->second != kSuccess) return it->second;
  state().enabled.insert(kind);
  return kSuccess;
}

HUOYAN_EXPORT int32_t msptiActivityDisable(uint32_t kind) {
  std::lock_guard<std::mutex> lock(state().mu);
  state().enabled.erase(kind);
  return kSuccess;
}

HUOYAN_EXPORT int32_t msptiActivityGetNextRecord(uint8_t* buffer, size_t valid, void** record) {
  if (buffer == nullptr || record == nullptr) return kInvalidParameter;
  std::lock_guard<std::mutex> lock(state().mu);
  auto it = state().delivered.find(buffer);
  if (it == state().delivered.end()) return kInvalidParameter;
  const std::vector<size_t>& offsets = it->second;
  size_t next = 0;
  if (*record != nullptr) {
    const size_t at = static_cast<size_t>(static_cast<uint8_t*>(*record) - buffer);
    next = offsets.size();
    for (size_t i = 0; i < offsets.size(); ++i) {
      if (offsets[i] == at) next = i + 1;
    }
  }
  if (next >= offsets.size() || offsets[next] >= valid) return kMaxLimitReached;
  *record = buffer + offsets[next];
  return kSuccess;
}

HUOYAN_EXPORT int32_t msptiActivityFlushAll(uint32_t /*flag*/) {
  State& s = state();
  std::vector<Buffer> buffers;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    for (auto& b : take(s, HUOYAN_MSPTI_DEVICE_QUEUE)) buffers.push_back(std::move(b));
    for (auto& b : take(s, HUOYAN_MSPTI_HOST_QUEUE)) buffers.push_back(std::move(b));
  }
  deliver(std::move(buffers));
  return kSuccess;
}

HUOYAN_EXPORT int32_t msptiActivityGetNumDroppedRecords(void* /*context*/, uint32_t /*stream*/,
                                                        size_t* dropped) {
  if (dropped == nullptr) return kInvalidParameter;
  std::lock_guard<std::mutex> lock(state().mu);
  *dropped = state().dropped_unreported;
  state().dropped_unreported = 0;
  return kSuccess;
}

HUOYAN_EXPORT int32_t msptiActivityPushExternalCorrelationId(uint32_t kind, uint64_t id) {
  if (kind < 2 || kind >= kExternalKinds) return kInvalidParameter;
  t_external[kind].push_back(id);
  return kSuccess;
}

HUOYAN_EXPORT int32_t msptiActivityPopExternalCorrelationId(uint32_t kind, uint64_t* last) {
  if (kind < 2 || kind >= kExternalKinds) return kInvalidParameter;
  if (t_external[kind].empty()) return kQueueEmpty;
  if (last != nullptr) *last = t_external[kind].back();
  t_external[kind].pop_back();
  return kSuccess;
}
