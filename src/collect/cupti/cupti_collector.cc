// CuptiCollector: CUPTI Activity API → store events. See cupti_collector.h for the contract.
//
// Threading. CUPTI calls two process-wide C callbacks without user data: bufferRequested (on any
// application thread, inside a CUDA call) and bufferCompleted (on a CUPTI worker thread, or on
// the thread calling cuptiActivityFlushAll). So there is at most one active collector per
// process (`g_active`), guarded by `g_mu`: a completion processes its buffer while holding g_mu,
// and start()/stop() switch g_active under it, so a collector is never destroyed mid-buffer.
// bufferRequested takes no collector lock at all (only the pool's), because CUPTI may hold its
// own locks there. start()/stop()/flush() never hold g_mu while calling into CUPTI (a flush
// completes buffers synchronously through the callback). They must not be called with a
// TraceStore::Writer held: buffer processing appends to the store.

#include "src/collect/cupti/cupti_collector.h"

#include <cupti_activity.h>
#include <cupti_callbacks.h>
#include <cupti_result.h>
#include <cupti_version.h>
#include <cxxabi.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "src/collect/cupti/activity_sink.h"
#include "src/collect/cupti/dynamic_library.h"

namespace huoyan {
namespace {

// Record layouts. CUPTI fills buffers with the newest record version the *running* library
// knows, which may be older than these headers (CUDA 12 delivers CUpti_ActivityKernel9, CUDA 13
// Kernel10). We step through buffers with cuptiActivityGetNextRecord (never sizeof) and read
// only fields whose offsets are identical in every version since Kernel4 / Memcpy / Memset —
// checked here, so a header update that moved one fails to compile instead of misreading.
#if CUPTI_API_VERSION >= 130000
using KernelRecord = CUpti_ActivityKernel10;
using MemcpyRecord = CUpti_ActivityMemcpy6;
#else
using KernelRecord = CUpti_ActivityKernel9;
using MemcpyRecord = CUpti_ActivityMemcpy5;
#endif
using MemsetRecord = CUpti_ActivityMemset4;

#define HUOYAN_SAME_OFFSET(A, B, f) static_assert(offsetof(A, f) == offsetof(B, f), #f)
HUOYAN_SAME_OFFSET(KernelRecord, CUpti_ActivityKernel4, registersPerThread);
HUOYAN_SAME_OFFSET(KernelRecord, CUpti_ActivityKernel4, start);
HUOYAN_SAME_OFFSET(KernelRecord, CUpti_ActivityKernel4, end);
HUOYAN_SAME_OFFSET(KernelRecord, CUpti_ActivityKernel4, deviceId);
HUOYAN_SAME_OFFSET(KernelRecord, CUpti_ActivityKernel4, contextId);
HUOYAN_SAME_OFFSET(KernelRecord, CUpti_ActivityKernel4, streamId);
HUOYAN_SAME_OFFSET(KernelRecord, CUpti_ActivityKernel4, gridX);
HUOYAN_SAME_OFFSET(KernelRecord, CUpti_ActivityKernel4, gridY);
HUOYAN_SAME_OFFSET(KernelRecord, CUpti_ActivityKernel4, gridZ);
HUOYAN_SAME_OFFSET(KernelRecord, CUpti_ActivityKernel4, blockX);
HUOYAN_SAME_OFFSET(KernelRecord, CUpti_ActivityKernel4, blockY);
HUOYAN_SAME_OFFSET(KernelRecord, CUpti_ActivityKernel4, blockZ);
HUOYAN_SAME_OFFSET(KernelRecord, CUpti_ActivityKernel4, staticSharedMemory);
HUOYAN_SAME_OFFSET(KernelRecord, CUpti_ActivityKernel4, dynamicSharedMemory);
HUOYAN_SAME_OFFSET(KernelRecord, CUpti_ActivityKernel4, correlationId);
HUOYAN_SAME_OFFSET(KernelRecord, CUpti_ActivityKernel4, name);
HUOYAN_SAME_OFFSET(MemcpyRecord, CUpti_ActivityMemcpy, copyKind);
HUOYAN_SAME_OFFSET(MemcpyRecord, CUpti_ActivityMemcpy, bytes);
HUOYAN_SAME_OFFSET(MemcpyRecord, CUpti_ActivityMemcpy, start);
HUOYAN_SAME_OFFSET(MemcpyRecord, CUpti_ActivityMemcpy, end);
HUOYAN_SAME_OFFSET(MemcpyRecord, CUpti_ActivityMemcpy, deviceId);
HUOYAN_SAME_OFFSET(MemcpyRecord, CUpti_ActivityMemcpy, contextId);
HUOYAN_SAME_OFFSET(MemcpyRecord, CUpti_ActivityMemcpy, streamId);
HUOYAN_SAME_OFFSET(MemcpyRecord, CUpti_ActivityMemcpy, correlationId);
HUOYAN_SAME_OFFSET(MemsetRecord, CUpti_ActivityMemset, value);
HUOYAN_SAME_OFFSET(MemsetRecord, CUpti_ActivityMemset, bytes);
HUOYAN_SAME_OFFSET(MemsetRecord, CUpti_ActivityMemset, start);
HUOYAN_SAME_OFFSET(MemsetRecord, CUpti_ActivityMemset, end);
HUOYAN_SAME_OFFSET(MemsetRecord, CUpti_ActivityMemset, deviceId);
HUOYAN_SAME_OFFSET(MemsetRecord, CUpti_ActivityMemset, contextId);
HUOYAN_SAME_OFFSET(MemsetRecord, CUpti_ActivityMemset, streamId);
HUOYAN_SAME_OFFSET(MemsetRecord, CUpti_ActivityMemset, correlationId);
#undef HUOYAN_SAME_OFFSET

// Versions below this may crash when bufferRequested declines a buffer (Kineto's experience,
// CUPTI API v27 = CUDA 12.9); for them the pool hands out buffers over its bound instead.
constexpr uint32_t kNullBufferSafeVersion = 27;

constexpr CUpti_ExternalCorrelationKind kStepKind = CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0;

// The CUPTI entry points huoyan uses, resolved with dlsym. Types come from the headers'
// declarations (decltype does not reference the symbols, so nothing links against libcupti).
struct CuptiApi {
  decltype(&cuptiGetVersion) get_version = nullptr;
  decltype(&cuptiGetResultString) result_string = nullptr;
  decltype(&cuptiGetTimestamp) get_timestamp = nullptr;
  decltype(&cuptiActivityRegisterCallbacks) register_callbacks = nullptr;
  decltype(&cuptiActivityEnable) enable = nullptr;
  decltype(&cuptiActivityDisable) disable = nullptr;
  decltype(&cuptiActivityGetNextRecord) next_record = nullptr;
  decltype(&cuptiActivityFlushAll) flush_all = nullptr;
  decltype(&cuptiActivityGetNumDroppedRecords) dropped_records = nullptr;
  decltype(&cuptiActivityPushExternalCorrelationId) push_external = nullptr;
  decltype(&cuptiActivityPopExternalCorrelationId) pop_external = nullptr;
  // Optional: absent in some versions; the collector degrades without them.
  decltype(&cuptiGetCallbackName) callback_name = nullptr;
  decltype(&cuptiActivityFlushPeriod) flush_period = nullptr;
};

std::mutex& g_mu() {
  static auto* mu = new std::mutex;  // leaked: CUPTI may call back during static destruction
  return *mu;
}
class CuptiCollector;
CuptiCollector* g_active = nullptr;  // guarded by g_mu()
std::atomic<bool> g_null_buffers_ok{true};
std::atomic<uint64_t> g_over_limit{0};
std::atomic<uint64_t> g_generation{0};  // one per start(), across all collector instances

ActivityBufferPool& pool() {
  static auto* p = new ActivityBufferPool;  // leaked, as g_mu
  return *p;
}

void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records);
void CUPTIAPI buffer_completed(CUcontext context, uint32_t stream, uint8_t* buffer, size_t size,
                               size_t valid);

std::string demangle(const char* name) {
  if (name == nullptr) return "<unnamed kernel>";
  if (name[0] != '_' || name[1] != 'Z') return name;
  int status = 0;
  char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string s = (status == 0 && out != nullptr) ? std::string(out) : std::string(name);
  std::free(out);
  return s;
}

const char* memcpy_kind_name(uint8_t kind) {
  switch (kind) {
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOD:
      return "HtoD";
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOH:
      return "DtoH";
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOA:
      return "HtoA";
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOH:
      return "AtoH";
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOA:
      return "AtoA";
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOD:
      return "AtoD";
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOA:
      return "DtoA";
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOD:
      return "DtoD";
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOH:
      return "HtoH";
    case CUPTI_ACTIVITY_MEMCPY_KIND_PTOP:
      return "PtoP";
    default:
      return "Unknown";
  }
}

int64_t current_tid() { return static_cast<int64_t>(syscall(SYS_gettid)); }

class CuptiCollector final : public Collector {
 public:
  explicit CuptiCollector(CuptiOptions options) : options_(std::move(options)) {}
  ~CuptiCollector() override {
    stop();
    std::lock_guard<std::mutex> lock(g_mu());
    if (g_active == this) g_active = nullptr;
  }

  std::string_view name() const override { return "cupti"; }
  Status start(const CollectorContext& context) override;
  void stop() override;
  void flush() override;
  void on_step_begin(uint64_t step) override;
  void on_step_end(uint64_t step) override;
  CollectorState state() const override;

  // Called from buffer_completed with g_mu held.
  void process_buffer(uint8_t* buffer, size_t valid);

 private:
  Status fail(std::string state, std::string message);
  Status load();
  std::string result_text(CUptiResult r) const;
  void collect_dropped();
  int64_t host_tid(uint32_t cupti_thread);
  StringId api_name(CUpti_CallbackDomain domain, uint32_t cbid);
  StringId kernel_name(const char* mangled);
  void convert_kernel(const KernelRecord& k);
  void convert_memcpy(const MemcpyRecord& m);
  void convert_memset(const MemsetRecord& m);
  void convert_api(const CUpti_ActivityAPI& a, bool runtime);

  const CuptiOptions options_;
  DynamicLibrary library_;
  CuptiApi api_;
  uint32_t version_ = 0;
  TraceStore* store_ = nullptr;
  ClockSync own_clocks_;  // used when the context brings none
  int64_t clock_offset_ = 0;
  std::unique_ptr<ActivitySink> sink_;
  std::vector<CUpti_ActivityKind> enabled_;
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> events_before_{0};  // events of earlier runs of this collector

  // Interned keys and categories (set at start, read during processing).
  StringId cat_kernel_ = 0, cat_memcpy_ = 0, cat_memset_ = 0, cat_runtime_ = 0, cat_driver_ = 0;
  StringId k_device_ = 0, k_context_ = 0, k_stream_ = 0, k_correlation_ = 0, k_grid_ = 0,
           k_block_ = 0, k_registers_ = 0, k_shared_ = 0, k_bytes_ = 0, k_copy_kind_ = 0,
           k_value_ = 0, k_cbid_ = 0;
  // Caches, touched only while processing a buffer (g_mu held).
  std::unordered_map<uint64_t, StringId> api_names_;
  std::unordered_map<StringId, StringId> kernel_names_;

  // CUPTI documents API-record threadId only as "the ID of the thread"; in practice it may not be
  // the kernel tid that host collectors use. Threads that open steps register
  // (uint32_t)pthread_self() -> gettid() here, and API records of those threads are mapped.
  std::mutex tid_mu_;
  std::unordered_map<uint32_t, int64_t> tids_;
  uint64_t generation_ = 0;

  mutable std::mutex state_mu_;
  std::string state_ = "stopped";
  std::string message_;
};

Status CuptiCollector::fail(std::string state, std::string message) {
  std::lock_guard<std::mutex> lock(state_mu_);
  state_ = std::move(state);
  message_ = message;
  return Status::Error(std::move(message));
}

std::string CuptiCollector::result_text(CUptiResult r) const {
  const char* s = nullptr;
  if (api_.result_string != nullptr && api_.result_string(r, &s) == CUPTI_SUCCESS && s != nullptr) {
    return s;
  }
  return "CUPTI error " + std::to_string(static_cast<int>(r));
}

Status CuptiCollector::load() {
  if (library_.loaded()) return OkStatus();
  std::vector<std::string> defaults = {"libcupti.so", "libcupti.so.13", "libcupti.so.12"};
  for (auto& p : library_paths_under_env({"CUDA_HOME", "CUDA_PATH"}, "lib64", "libcupti.so")) {
    defaults.push_back(p);
  }
  for (auto& p :
       library_paths_under_env({"CUDA_HOME", "CUDA_PATH"}, "extras/CUPTI/lib64", "libcupti.so")) {
    defaults.push_back(p);
  }
  defaults.push_back("/usr/local/cuda/lib64/libcupti.so");
  defaults.push_back("/usr/local/cuda/extras/CUPTI/lib64/libcupti.so");
  auto lib =
      DynamicLibrary::open("libcupti.so not found",
                           library_candidates(options_.library, "HUOYAN_CUPTI_LIBRARY", defaults));
  if (!lib.ok()) {
    return fail("unavailable",
                lib.status().message() + "; install the CUDA toolkit or set HUOYAN_CUPTI_LIBRARY");
  }
  CuptiApi api;
  const DynamicLibrary& l = lib.value();
  std::string missing;
  auto need = [&](const char* sym, auto** fn) {
    if (!l.bind(sym, fn)) missing += std::string(missing.empty() ? "" : ", ") + sym;
  };
  need("cuptiGetVersion", &api.get_version);
  need("cuptiGetResultString", &api.result_string);
  need("cuptiGetTimestamp", &api.get_timestamp);
  need("cuptiActivityRegisterCallbacks", &api.register_callbacks);
  need("cuptiActivityEnable", &api.enable);
  need("cuptiActivityDisable", &api.disable);
  need("cuptiActivityGetNextRecord", &api.next_record);
  need("cuptiActivityFlushAll", &api.flush_all);
  need("cuptiActivityGetNumDroppedRecords", &api.dropped_records);
  need("cuptiActivityPushExternalCorrelationId", &api.push_external);
  need("cuptiActivityPopExternalCorrelationId", &api.pop_external);
  if (!missing.empty()) {
    return fail("unavailable", l.path() + " is not a usable CUPTI library: missing " + missing);
  }
  l.bind("cuptiGetCallbackName", &api.callback_name);
  l.bind("cuptiActivityFlushPeriod", &api.flush_period);
  uint32_t version = 0;
  if (api.get_version(&version) != CUPTI_SUCCESS) version = 0;
  api_ = api;
  library_ = l;
  version_ = version;
  return OkStatus();
}

Status CuptiCollector::start(const CollectorContext& context) {
  if (running_.load()) return Status::Error("cupti: already running");
  if (context.store == nullptr) return fail("error", "cupti: no trace store");
  HUOYAN_RETURN_IF_ERROR(load());
  auto claim = [this] {
    std::lock_guard<std::mutex> lock(g_mu());
    if (g_active != nullptr && g_active != this) return false;
    g_active = this;
    return true;
  };
  auto release = [this] {
    std::lock_guard<std::mutex> lock(g_mu());
    if (g_active == this) g_active = nullptr;
  };
  {
    std::lock_guard<std::mutex> lock(g_mu());
    if (g_active != nullptr && g_active != this) {
      return fail("error", "cupti: another CUPTI collector is already active in this process");
    }
  }

  // Everything buffer processing reads is set up before this collector becomes g_active.
  store_ = context.store;
  TraceStore& s = *store_;
  cat_kernel_ = s.intern("kernel");
  cat_memcpy_ = s.intern("gpu_memcpy");
  cat_memset_ = s.intern("gpu_memset");
  cat_runtime_ = s.intern("cuda_runtime");
  cat_driver_ = s.intern("cuda_driver");
  k_device_ = s.intern("device");
  k_context_ = s.intern("context");
  k_stream_ = s.intern("stream");
  k_correlation_ = s.intern("correlation");
  k_grid_ = s.intern("grid");
  k_block_ = s.intern("block");
  k_registers_ = s.intern("registers per thread");
  k_shared_ = s.intern("shared memory");
  k_bytes_ = s.intern("bytes");
  k_copy_kind_ = s.intern("copy kind");
  k_value_ = s.intern("value");
  k_cbid_ = s.intern("cbid");
  api_names_.clear();
  kernel_names_.clear();

  ActivitySinkOptions sink_options;
  sink_options.backend = "cupti";
  sink_options.max_correlations = options_.max_correlations;
  sink_options.max_pending = options_.max_pending;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    sink_ = std::make_unique<ActivitySink>(store_, sink_options);
  }
  generation_ = g_generation.fetch_add(1) + 1;

  // CUPTI timestamps are ns in CUPTI's own time base; measure it against CLOCK_MONOTONIC.
  ClockSync* clocks = context.clocks != nullptr ? context.clocks : &own_clocks_;
  auto read = [this] {
    uint64_t t = 0;
    api_.get_timestamp(&t);
    return static_cast<int64_t>(t);
  };
  const ClockSync::Domain d = clocks->calibrate("cupti", read);
  clock_offset_ = d.offset_ns;
  {
    auto w = s.writer();
    w.set_metadata("clock.cupti.offset_ns", std::to_string(d.offset_ns));
    w.set_metadata("clock.cupti.uncertainty_ns", std::to_string(d.uncertainty_ns));
    w.set_metadata("cupti.library", library_.path());
    w.set_metadata("cupti.version", std::to_string(version_));
  }

  pool().configure(options_.buffer_bytes, options_.max_buffers);
  g_null_buffers_ok.store(version_ >= kNullBufferSafeVersion);
  if (!claim()) {
    return fail("error", "cupti: another CUPTI collector is already active in this process");
  }
  CUptiResult r = api_.register_callbacks(buffer_requested, buffer_completed);
  if (r != CUPTI_SUCCESS) {
    release();
    return fail("error", "cupti: cuptiActivityRegisterCallbacks failed: " + result_text(r));
  }

  struct Kind {
    CUpti_ActivityKind kind;
    const char* name;
  };
  std::vector<Kind> kinds = {
      {options_.concurrent_kernels ? CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL
                                   : CUPTI_ACTIVITY_KIND_KERNEL,
       options_.concurrent_kernels ? "CONCURRENT_KERNEL" : "KERNEL"},
      {CUPTI_ACTIVITY_KIND_MEMCPY, "MEMCPY"},
      {CUPTI_ACTIVITY_KIND_MEMSET, "MEMSET"},
      {CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION, "EXTERNAL_CORRELATION"},
  };
  if (options_.runtime_api) kinds.push_back({CUPTI_ACTIVITY_KIND_RUNTIME, "RUNTIME"});
  if (options_.driver_api) kinds.push_back({CUPTI_ACTIVITY_KIND_DRIVER, "DRIVER"});
  enabled_.clear();
  for (const Kind& k : kinds) {
    r = api_.enable(k.kind);
    if (r != CUPTI_SUCCESS) {
      for (auto e : enabled_) api_.disable(e);
      enabled_.clear();
      release();
      return fail("unavailable", std::string("cupti: cuptiActivityEnable(") + k.name +
                                     ") failed: " + result_text(r) +
                                     " (no NVIDIA driver/GPU, or profiling not permitted?)");
    }
    enabled_.push_back(k.kind);
  }
  if (options_.flush_period_ms > 0 && api_.flush_period != nullptr) {
    api_.flush_period(options_.flush_period_ms);
  }
  running_.store(true);
  std::lock_guard<std::mutex> lock(state_mu_);
  state_ = "running";
  message_ =
      "libcupti " + library_.path() + " (CUPTI API version " + std::to_string(version_) + ")";
  return OkStatus();
}

void CuptiCollector::collect_dropped() {
  size_t n = 0;
  if (api_.dropped_records != nullptr && api_.dropped_records(nullptr, 0, &n) == CUPTI_SUCCESS) {
    dropped_.fetch_add(n, std::memory_order_relaxed);
  }
}

void CuptiCollector::stop() {
  if (!running_.exchange(false)) return;
  for (auto k : enabled_) api_.disable(k);
  enabled_.clear();
  if (options_.flush_period_ms > 0 && api_.flush_period != nullptr) api_.flush_period(0);
  // Forced: also returns buffers holding incomplete records (those are skipped and counted).
  api_.flush_all(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  collect_dropped();
  {
    std::lock_guard<std::mutex> lock(g_mu());
    if (g_active == this) g_active = nullptr;  // later completions are released unread
  }
  sink_->finish();
  const uint64_t over = g_over_limit.exchange(0);
  if (over > 0) store_->skips().add("cupti: buffers allocated over the pool bound", over);
  events_before_.fetch_add(sink_->events());
  std::lock_guard<std::mutex> lock(state_mu_);
  sink_.reset();
  state_ = "stopped";
}

void CuptiCollector::flush() {
  if (!running_.load()) return;
  // Not forced: a forced flush would return buffers with kernels still running, losing them.
  api_.flush_all(0);
  collect_dropped();
  std::lock_guard<std::mutex> lock(g_mu());
  if (g_active == this && sink_) sink_->commit();
}

void CuptiCollector::on_step_begin(uint64_t step) {
  if (!running_.load(std::memory_order_acquire)) return;
  thread_local uint64_t registered = 0;  // generation this thread registered its tid with
  if (registered != generation_) {
    registered = generation_;
    std::lock_guard<std::mutex> lock(tid_mu_);
    tids_[static_cast<uint32_t>(pthread_self())] = current_tid();
  }
  api_.push_external(kStepKind, step);
}

void CuptiCollector::on_step_end(uint64_t /*step*/) {
  if (!running_.load(std::memory_order_acquire)) return;
  uint64_t last = 0;
  api_.pop_external(kStepKind, &last);  // an empty stack (start() inside a step) is harmless
}

CollectorState CuptiCollector::state() const {
  CollectorState st;
  st.name = "cupti";
  std::lock_guard<std::mutex> lock(state_mu_);
  st.state = state_;
  st.message = message_;
  st.events = events_before_.load() + (sink_ ? sink_->events() : 0);
  st.dropped = dropped_.load();
  return st;
}

int64_t CuptiCollector::host_tid(uint32_t cupti_thread) {
  std::lock_guard<std::mutex> lock(tid_mu_);
  auto it = tids_.find(cupti_thread);
  return it == tids_.end() ? static_cast<int64_t>(cupti_thread) : it->second;
}

StringId CuptiCollector::api_name(CUpti_CallbackDomain domain, uint32_t cbid) {
  const uint64_t key = (uint64_t{static_cast<uint32_t>(domain)} << 32) | cbid;
  auto it = api_names_.find(key);
  if (it != api_names_.end()) return it->second;
  const char* raw = nullptr;
  std::string name;
  if (api_.callback_name != nullptr && api_.callback_name(domain, cbid, &raw) == CUPTI_SUCCESS &&
      raw != nullptr) {
    name = raw;
    // "cudaLaunchKernel_v7000" -> "cudaLaunchKernel": the suffix is an ABI version.
    const size_t v = name.rfind("_v");
    if (v != std::string::npos && v + 2 < name.size() &&
        name.find_first_not_of("0123456789", v + 2) == std::string::npos) {
      name.resize(v);
    }
  } else {
    name = std::string(domain == CUPTI_CB_DOMAIN_RUNTIME_API ? "cuda runtime " : "cuda driver ") +
           std::to_string(cbid);
  }
  const StringId id = store_->intern(name);
  api_names_.emplace(key, id);
  return id;
}

StringId CuptiCollector::kernel_name(const char* mangled) {
  const StringId raw = store_->intern(mangled != nullptr ? mangled : "<unnamed kernel>");
  auto it = kernel_names_.find(raw);
  if (it != kernel_names_.end()) return it->second;
  const StringId id = store_->intern(demangle(mangled));
  kernel_names_.emplace(raw, id);
  return id;
}

void CuptiCollector::convert_kernel(const KernelRecord& k) {
  if (k.start == 0 || k.end < k.start) {
    store_->skips().add("cupti: incomplete record (no timestamps)");
    return;
  }
  ActivityRecord r;
  r.event.kind = EventKind::kKernel;
  r.event.ts = static_cast<int64_t>(k.start) + clock_offset_;
  r.event.dur = static_cast<int64_t>(k.end - k.start);
  r.event.id = k.correlationId;
  r.event.name = kernel_name(k.name);
  if (is_collective_kernel_name(store_->str(r.event.name))) r.event.kind = EventKind::kCollective;
  r.event.cat = cat_kernel_;
  r.track = TrackRef::Device(DeviceType::kGpu, static_cast<int32_t>(k.deviceId), k.streamId);
  r.correlation = k.correlationId;
  r.add_uint(k_device_, k.deviceId);
  r.add_uint(k_context_, k.contextId);
  r.add_uint(k_stream_, k.streamId);
  r.add_uint(k_correlation_, k.correlationId);
  r.add_dim3(k_grid_, k.gridX, k.gridY, k.gridZ);
  r.add_dim3(k_block_, k.blockX, k.blockY, k.blockZ);
  r.add_uint(k_registers_, k.registersPerThread);
  r.add_int(k_shared_, int64_t{k.staticSharedMemory} + k.dynamicSharedMemory);
  sink_->add(std::move(r));
}

void CuptiCollector::convert_memcpy(const MemcpyRecord& m) {
  if (m.start == 0 || m.end < m.start) {
    store_->skips().add("cupti: incomplete record (no timestamps)");
    return;
  }
  const char* kind = memcpy_kind_name(m.copyKind);
  ActivityRecord r;
  r.event.kind = EventKind::kMemcpy;
  r.event.ts = static_cast<int64_t>(m.start) + clock_offset_;
  r.event.dur = static_cast<int64_t>(m.end - m.start);
  r.event.id = m.correlationId;
  r.event.name = store_->intern(std::string("Memcpy ") + kind);
  r.event.cat = cat_memcpy_;
  r.track = TrackRef::Device(DeviceType::kGpu, static_cast<int32_t>(m.deviceId), m.streamId);
  r.correlation = m.correlationId;
  r.add_uint(k_device_, m.deviceId);
  r.add_uint(k_context_, m.contextId);
  r.add_uint(k_stream_, m.streamId);
  r.add_uint(k_correlation_, m.correlationId);
  r.add_uint(k_bytes_, m.bytes);
  r.add_string(k_copy_kind_, kind);
  sink_->add(std::move(r));
}

void CuptiCollector::convert_memset(const MemsetRecord& m) {
  if (m.start == 0 || m.end < m.start) {
    store_->skips().add("cupti: incomplete record (no timestamps)");
    return;
  }
  ActivityRecord r;
  r.event.kind = EventKind::kMemset;
  r.event.ts = static_cast<int64_t>(m.start) + clock_offset_;
  r.event.dur = static_cast<int64_t>(m.end - m.start);
  r.event.id = m.correlationId;
  r.event.name = store_->intern("Memset");
  r.event.cat = cat_memset_;
  r.track = TrackRef::Device(DeviceType::kGpu, static_cast<int32_t>(m.deviceId), m.streamId);
  r.correlation = m.correlationId;
  r.add_uint(k_device_, m.deviceId);
  r.add_uint(k_context_, m.contextId);
  r.add_uint(k_stream_, m.streamId);
  r.add_uint(k_correlation_, m.correlationId);
  r.add_uint(k_bytes_, m.bytes);
  r.add_uint(k_value_, m.value);
  sink_->add(std::move(r));
}

void CuptiCollector::convert_api(const CUpti_ActivityAPI& a, bool runtime) {
  if (a.start == 0 || a.end < a.start) {
    store_->skips().add("cupti: incomplete record (no timestamps)");
    return;
  }
  ActivityRecord r;
  r.event.kind = EventKind::kHost;
  r.event.ts = static_cast<int64_t>(a.start) + clock_offset_;
  r.event.dur = static_cast<int64_t>(a.end - a.start);
  r.event.id = a.correlationId;
  r.event.name =
      api_name(runtime ? CUPTI_CB_DOMAIN_RUNTIME_API : CUPTI_CB_DOMAIN_DRIVER_API, a.cbid);
  r.event.cat = runtime ? cat_runtime_ : cat_driver_;
  r.track = TrackRef::Thread(a.processId, host_tid(a.threadId));
  r.correlation = a.correlationId;
  r.launch = true;
  r.add_uint(k_correlation_, a.correlationId);
  r.add_uint(k_cbid_, a.cbid);
  sink_->add(std::move(r));
}

void CuptiCollector::process_buffer(uint8_t* buffer, size_t valid) {
  if (!sink_) return;
  CUpti_Activity* record = nullptr;
  CUptiResult r = CUPTI_SUCCESS;
  while (valid > 0 && (r = api_.next_record(buffer, valid, &record)) == CUPTI_SUCCESS) {
    switch (record->kind) {
      case CUPTI_ACTIVITY_KIND_KERNEL:
      case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
        convert_kernel(*reinterpret_cast<const KernelRecord*>(record));
        break;
      case CUPTI_ACTIVITY_KIND_MEMCPY:
        convert_memcpy(*reinterpret_cast<const MemcpyRecord*>(record));
        break;
      case CUPTI_ACTIVITY_KIND_MEMSET:
        convert_memset(*reinterpret_cast<const MemsetRecord*>(record));
        break;
      case CUPTI_ACTIVITY_KIND_RUNTIME:
      case CUPTI_ACTIVITY_KIND_DRIVER:
        convert_api(*reinterpret_cast<const CUpti_ActivityAPI*>(record),
                    record->kind == CUPTI_ACTIVITY_KIND_RUNTIME);
        break;
      case CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION: {
        const auto* x = reinterpret_cast<const CUpti_ActivityExternalCorrelation*>(record);
        if (x->externalKind == kStepKind) sink_->link(x->correlationId, x->externalId);
        break;
      }
      default:
        store_->skips().add("cupti: unknown record kind");
        break;
    }
  }
  if (valid > 0 && r != CUPTI_ERROR_MAX_LIMIT_REACHED) {
    store_->skips().add("cupti: unreadable buffer (" + result_text(r) + ")");
  }
  sink_->commit();
  collect_dropped();
}

void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
  *max_records = 0;  // as many as fit
  bool over = false;
  *buffer = pool().acquire(size, !g_null_buffers_ok.load(std::memory_order_relaxed), &over);
  if (over) g_over_limit.fetch_add(1, std::memory_order_relaxed);
}

void CUPTIAPI buffer_completed(CUcontext /*context*/, uint32_t /*stream*/, uint8_t* buffer,
                               size_t size, size_t valid) {
  {
    std::lock_guard<std::mutex> lock(g_mu());
    if (g_active != nullptr) g_active->process_buffer(buffer, valid);
  }
  pool().release(buffer, size);
}

}  // namespace

std::unique_ptr<Collector> make_cupti_collector(const CuptiOptions& options) {
  return std::make_unique<CuptiCollector>(options);
}

bool cupti_collector_built() { return true; }

}  // namespace huoyan
