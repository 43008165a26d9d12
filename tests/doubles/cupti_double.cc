// libcupti.so test double: the CUPTI Activity API entry points the cupti collector uses,
// behaving as documented in cupti_activity.h, with records built from the header's own structs.
// See cupti_double.h for the control interface. Not thread-hostile, not fast: one mutex.
//
// Compiled with CUPTI_LIB so the header's visibility pragma exports exactly its declared
// functions; everything else here is hidden except the control table.

#include "tests/doubles/cupti_double.h"

#include <cupti_activity.h>
#include <cupti_callbacks.h>
#include <cupti_result.h>
#include <cupti_runtime_cbid.h>
#include <cupti_version.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace {

constexpr uint32_t kQueues = 2;

struct Buffer {
  uint8_t* data = nullptr;
  size_t size = 0;
  size_t used = 0;
  std::vector<size_t> offsets;  // record starts, for cuptiActivityGetNextRecord
};

struct Queue {
  bool has_current = false;
  Buffer current;
  std::deque<Buffer> full;
};

struct State {
  std::mutex mu;
  CUpti_BuffersCallbackRequestFunc request = nullptr;
  CUpti_BuffersCallbackCompleteFunc complete = nullptr;
  std::set<uint32_t> enabled;
  Queue queues[kQueues];
  std::map<const uint8_t*, std::vector<size_t>> delivered;  // buffers inside bufferCompleted
  uint32_t next_correlation = 1;
  size_t dropped_unreported = 0;
  size_t dropped_total = 0;
  size_t outstanding = 0;
  int64_t timestamp_offset = 1'000'000'000'000;  // CUPTI's base differs from CLOCK_MONOTONIC
  bool enable_fails = false;
};

State& state() {
  static auto* s = new State;
  return *s;
}

thread_local std::vector<uint64_t> t_external[8];

int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// Appends a record to queue q (lock held). Returns false when it was dropped.
bool write_record(State& s, uint32_t q, const void* record, size_t size) {
  const size_t padded = (size + 7) / 8 * 8;
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
      std::memcpy(b.data + b.used, record, size);
      std::memset(b.data + b.used + size, 0, padded - size);
      b.offsets.push_back(b.used);
      b.used += padded;
      return true;
    }
    queue.full.push_back(std::move(b));  // full: wait for completion, take a new one
    queue.has_current = false;
  }
  return false;
}

// The records CUPTI writes for one API call on this thread; returns its correlation id.
uint32_t record_api_call(State& s, uint32_t cbid, uint64_t api_start, uint64_t api_end) {
  const uint32_t correlation = s.next_correlation++;
  if (s.enabled.count(CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION) != 0) {
    for (uint32_t kind = 0; kind < 8; ++kind) {
      if (t_external[kind].empty()) continue;
      CUpti_ActivityExternalCorrelation x{};
      x.kind = CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION;
      x.externalKind = static_cast<CUpti_ExternalCorrelationKind>(kind);
      x.externalId = t_external[kind].back();
      x.correlationId = correlation;
      write_record(s, HUOYAN_CUPTI_HOST_QUEUE, &x, sizeof x);
    }
  }
  if (s.enabled.count(CUPTI_ACTIVITY_KIND_RUNTIME) != 0) {
    CUpti_ActivityAPI a{};
    a.kind = CUPTI_ACTIVITY_KIND_RUNTIME;
    a.cbid = cbid;
    a.start = api_start;
    a.end = api_end;
    a.processId = static_cast<uint32_t>(getpid());
    a.threadId = static_cast<uint32_t>(gettid());
    a.correlationId = correlation;
    write_record(s, HUOYAN_CUPTI_HOST_QUEUE, &a, sizeof a);
  }
  return correlation;
}

// Takes the queue's buffers out (lock held) for delivery without the lock.
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
  CUpti_BuffersCallbackCompleteFunc complete;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    complete = s.complete;
  }
  int records = 0;
  for (auto& b : buffers) {
    records += static_cast<int>(b.offsets.size());
    if (complete != nullptr) complete(nullptr, 0, b.data, b.size, b.used);
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
    s.dropped_unreported = s.dropped_total = 0;
    s.enable_fails = false;
  }
  deliver(std::move(leftovers));  // hand buffers back so the collector's pool balances
  for (auto& v : t_external) v.clear();
}

void ctl_set_timestamp_offset(int64_t offset) {
  std::lock_guard<std::mutex> lock(state().mu);
  state().timestamp_offset = offset;
}

int64_t ctl_timestamp_offset() {
  std::lock_guard<std::mutex> lock(state().mu);
  return state().timestamp_offset;
}

uint32_t ctl_launch_kernel(const HuoyanCuptiDoubleKernel* k, uint64_t api_start, uint64_t api_end) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  const uint32_t correlation =
      record_api_call(s, CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000, api_start, api_end);
  const uint32_t kind = s.enabled.count(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) != 0
                            ? CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL
                            : CUPTI_ACTIVITY_KIND_KERNEL;
  if (s.enabled.count(kind) == 0) return correlation;
#if CUPTI_API_VERSION >= 130000
  CUpti_ActivityKernel10 r{};
#else
  CUpti_ActivityKernel9 r{};
#endif
  r.kind = static_cast<CUpti_ActivityKind>(kind);
  r.registersPerThread = k->registers;
  r.start = k->start;
  r.end = k->end;
  r.completed = k->end;
  r.deviceId = k->device;
  r.contextId = k->context;
  r.streamId = k->stream;
  r.gridX = k->grid[0];
  r.gridY = k->grid[1];
  r.gridZ = k->grid[2];
  r.blockX = k->block[0];
  r.blockY = k->block[1];
  r.blockZ = k->block[2];
  r.staticSharedMemory = k->static_shared;
  r.dynamicSharedMemory = k->dynamic_shared;
  r.correlationId = correlation;
  r.name = k->name;
  write_record(s, HUOYAN_CUPTI_DEVICE_QUEUE, &r, sizeof r);
  return correlation;
}

uint32_t ctl_memcpy_async(uint32_t device, uint32_t stream, uint8_t copy_kind, uint64_t bytes,
                          uint64_t start, uint64_t end, uint64_t api_start, uint64_t api_end) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  const uint32_t correlation =
      record_api_call(s, CUPTI_RUNTIME_TRACE_CBID_cudaMemcpyAsync_v3020, api_start, api_end);
  if (s.enabled.count(CUPTI_ACTIVITY_KIND_MEMCPY) == 0) return correlation;
#if CUPTI_API_VERSION >= 130000
  CUpti_ActivityMemcpy6 r{};
#else
  CUpti_ActivityMemcpy5 r{};
#endif
  r.kind = CUPTI_ACTIVITY_KIND_MEMCPY;
  r.copyKind = copy_kind;
  r.bytes = bytes;
  r.start = start;
  r.end = end;
  r.deviceId = device;
  r.streamId = stream;
  r.correlationId = correlation;
  write_record(s, HUOYAN_CUPTI_DEVICE_QUEUE, &r, sizeof r);
  return correlation;
}

uint32_t ctl_memset_async(uint32_t device, uint32_t stream, uint32_t value, uint64_t bytes,
                          uint64_t start, uint64_t end, uint64_t api_start, uint64_t api_end) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  const uint32_t correlation =
      record_api_call(s, CUPTI_RUNTIME_TRACE_CBID_cudaMemsetAsync_v3020, api_start, api_end);
  if (s.enabled.count(CUPTI_ACTIVITY_KIND_MEMSET) == 0) return correlation;
  CUpti_ActivityMemset4 r{};
  r.kind = CUPTI_ACTIVITY_KIND_MEMSET;
  r.value = value;
  r.bytes = bytes;
  r.start = start;
  r.end = end;
  r.deviceId = device;
  r.streamId = stream;
  r.correlationId = correlation;
  write_record(s, HUOYAN_CUPTI_DEVICE_QUEUE, &r, sizeof r);
  return correlation;
}

void ctl_emit_raw(int queue, uint32_t kind, uint32_t size) {
  State& s = state();
  std::vector<uint8_t> bytes(size < 8 ? 8 : size, 0);
  std::memcpy(bytes.data(), &kind, sizeof kind);
  std::lock_guard<std::mutex> lock(s.mu);
  write_record(s, static_cast<uint32_t>(queue) % kQueues, bytes.data(), bytes.size());
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
  CUpti_BuffersCallbackRequestFunc request;
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

void ctl_set_enable_fails(int fail) {
  std::lock_guard<std::mutex> lock(state().mu);
  state().enable_fails = fail != 0;
}

int ctl_kind_enabled(uint32_t kind) {
  std::lock_guard<std::mutex> lock(state().mu);
  return state().enabled.count(kind) != 0 ? 1 : 0;
}

int ctl_callbacks_registered() {
  std::lock_guard<std::mutex> lock(state().mu);
  return state().complete != nullptr ? 1 : 0;
}

size_t ctl_records_dropped() {
  std::lock_guard<std::mutex> lock(state().mu);
  return state().dropped_total;
}

size_t ctl_buffers_outstanding() {
  std::lock_guard<std::mutex> lock(state().mu);
  return state().outstanding;
}

size_t ctl_external_depth(uint32_t kind) { return kind < 8 ? t_external[kind].size() : 0; }

const HuoyanCuptiDoubleControl kControl = {
    ctl_reset,
    ctl_set_timestamp_offset,
    ctl_timestamp_offset,
    ctl_launch_kernel,
    ctl_memcpy_async,
    ctl_memset_async,
    ctl_emit_raw,
    ctl_complete,
    ctl_complete_empty,
    ctl_add_dropped,
    ctl_set_enable_fails,
    ctl_kind_enabled,
    ctl_callbacks_registered,
    ctl_records_dropped,
    ctl_buffers_outstanding,
    ctl_external_depth,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const HuoyanCuptiDoubleControl*
huoyan_cupti_double_control(void) {
  return &kControl;
}

// --- CUPTI entry points -------------------------------------------------------------------------

CUptiResult CUPTIAPI cuptiGetVersion(uint32_t* version) {
  if (version == nullptr) return CUPTI_ERROR_INVALID_PARAMETER;
  *version = CUPTI_API_VERSION;
  return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiGetResultString(CUptiResult result, const char** str) {
  if (str == nullptr) return CUPTI_ERROR_INVALID_PARAMETER;
  switch (result) {
    case CUPTI_SUCCESS:
      *str = "CUPTI_SUCCESS";
      break;
    case CUPTI_ERROR_INVALID_PARAMETER:
      *str = "CUPTI_ERROR_INVALID_PARAMETER";
      break;
    case CUPTI_ERROR_NOT_INITIALIZED:
      *str = "CUPTI_ERROR_NOT_INITIALIZED";
      break;
    case CUPTI_ERROR_MAX_LIMIT_REACHED:
      *str = "CUPTI_ERROR_MAX_LIMIT_REACHED";
      break;
    case CUPTI_ERROR_QUEUE_EMPTY:
      *str = "CUPTI_ERROR_QUEUE_EMPTY";
      break;
    default:
      *str = "CUPTI_ERROR_UNKNOWN";
      break;
  }
  return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiGetTimestamp(uint64_t* timestamp) {
  if (timestamp == nullptr) return CUPTI_ERROR_INVALID_PARAMETER;
  *timestamp = static_cast<uint64_t>(monotonic_ns() + ctl_timestamp_offset());
  return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityRegisterCallbacks(CUpti_BuffersCallbackRequestFunc requested,
                                                    CUpti_BuffersCallbackCompleteFunc completed) {
  if (requested == nullptr || completed == nullptr) return CUPTI_ERROR_INVALID_PARAMETER;
  std::lock_guard<std::mutex> lock(state().mu);
  state().request = requested;
  state().complete = completed;
  return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityEnable(CUpti_ActivityKind kind) {
  std::lock_guard<std::mutex> lock(state().mu);
  if (state().enable_fails) return CUPTI_ERROR_NOT_INITIALIZED;
  state().enabled.insert(kind);
  return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityDisable(CUpti_ActivityKind kind) {
  std::lock_guard<std::mutex> lock(state().mu);
  state().enabled.erase(kind);
  return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityGetNextRecord(uint8_t* buffer, size_t valid,
                                                CUpti_Activity** record) {
  if (buffer == nullptr || record == nullptr) return CUPTI_ERROR_INVALID_PARAMETER;
  std::lock_guard<std::mutex> lock(state().mu);
  auto it = state().delivered.find(buffer);
  if (it == state().delivered.end()) return CUPTI_ERROR_INVALID_PARAMETER;
  const std::vector<size_t>& offsets = it->second;
  size_t next = 0;
  if (*record != nullptr) {
    const size_t at = static_cast<size_t>(reinterpret_cast<uint8_t*>(*record) - buffer);
    next = offsets.size();
    for (size_t i = 0; i < offsets.size(); ++i) {
      if (offsets[i] == at) next = i + 1;
    }
  }
  if (next >= offsets.size() || offsets[next] >= valid) return CUPTI_ERROR_MAX_LIMIT_REACHED;
  *record = reinterpret_cast<CUpti_Activity*>(buffer + offsets[next]);
  return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityFlushAll(uint32_t /*flag*/) {
  State& s = state();
  std::vector<Buffer> buffers;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    // Device records first: a flush gives no ordering guarantee between the streams.
    for (auto& b : take(s, HUOYAN_CUPTI_DEVICE_QUEUE)) buffers.push_back(std::move(b));
    for (auto& b : take(s, HUOYAN_CUPTI_HOST_QUEUE)) buffers.push_back(std::move(b));
  }
  deliver(std::move(buffers));  // synchronously, on the flushing thread
  return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityGetNumDroppedRecords(CUcontext /*context*/, uint32_t /*stream*/,
                                                       size_t* dropped) {
  if (dropped == nullptr) return CUPTI_ERROR_INVALID_PARAMETER;
  std::lock_guard<std::mutex> lock(state().mu);
  *dropped = state().dropped_unreported;
  state().dropped_unreported = 0;
  return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityPushExternalCorrelationId(CUpti_ExternalCorrelationKind kind,
                                                            uint64_t id) {
  if (kind <= CUPTI_EXTERNAL_CORRELATION_KIND_INVALID || static_cast<uint32_t>(kind) >= 8) {
    return CUPTI_ERROR_INVALID_PARAMETER;
  }
  t_external[kind].push_back(id);
  return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityPopExternalCorrelationId(CUpti_ExternalCorrelationKind kind,
                                                           uint64_t* last) {
  if (kind <= CUPTI_EXTERNAL_CORRELATION_KIND_INVALID || static_cast<uint32_t>(kind) >= 8) {
    return CUPTI_ERROR_INVALID_PARAMETER;
  }
  if (t_external[kind].empty()) return CUPTI_ERROR_QUEUE_EMPTY;
  if (last != nullptr) *last = t_external[kind].back();
  t_external[kind].pop_back();
  return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiGetCallbackName(CUpti_CallbackDomain domain, uint32_t cbid,
                                          const char** name) {
  if (name == nullptr) return CUPTI_ERROR_INVALID_PARAMETER;
  if (domain != CUPTI_CB_DOMAIN_RUNTIME_API) return CUPTI_ERROR_INVALID_PARAMETER;
  switch (cbid) {
    case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000:
      *name = "cudaLaunchKernel_v7000";
      break;
    case CUPTI_RUNTIME_TRACE_CBID_cudaMemcpyAsync_v3020:
      *name = "cudaMemcpyAsync_v3020";
      break;
    case CUPTI_RUNTIME_TRACE_CBID_cudaMemsetAsync_v3020:
      *name = "cudaMemsetAsync_v3020";
      break;
    default:
      return CUPTI_ERROR_INVALID_PARAMETER;
  }
  return CUPTI_SUCCESS;
}
