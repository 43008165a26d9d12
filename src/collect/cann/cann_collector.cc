// CannCollector: msPTI activity records and ACL model subscription → store events. See
// cann_collector.h for the contract.
//
// msPTI, like CUPTI, calls two process-wide C callbacks without user data: a buffer request (on
// application threads, inside CANN calls) and a buffer completion (on msPTI's threads, or on the
// thread calling msptiActivityFlushAll). At most one collector is active (`g_active`, guarded by
// `g_mu`); a completion processes its buffer holding g_mu, start/stop switch g_active under it,
// and nothing holds g_mu while calling into msPTI. The request callback takes only the pool's
// own lock.

#include "src/collect/cann/cann_collector.h"

#include <cstring>
#include <utility>

#include "src/collect/cann/acl_prof_capture.h"
#include "src/collect/cann/acl_subscriber.h"

namespace huoyan {

struct CannCollector::Mspti {
  mspti::SubscribeFn subscribe = nullptr;  // optional (absent in the earliest releases)
  mspti::UnsubscribeFn unsubscribe = nullptr;
  mspti::RegisterCallbacksFn register_callbacks = nullptr;
  mspti::EnableFn enable = nullptr;
  mspti::EnableFn disable = nullptr;
  mspti::GetNextRecordFn next_record = nullptr;
  mspti::FlushAllFn flush_all = nullptr;
  mspti::PushExternalFn push_external = nullptr;
  mspti::PopExternalFn pop_external = nullptr;
  mspti::DroppedRecordsFn dropped_records = nullptr;  // optional (newer releases)
};

namespace {

constexpr mspti::ExternalCorrelationKind kStepKind = mspti::kExternalCustom0;
constexpr uint32_t kInvalidId = 0xFFFFFFFFu;  // MSPTI_INVALID_DEVICE_ID / _STREAM_ID

std::mutex& g_mu() {
  static auto* mu = new std::mutex;  // leaked: msPTI may call back during static destruction
  return *mu;
}
CannCollector* g_active = nullptr;  // guarded by g_mu()

ActivityBufferPool& pool() {
  static auto* p = new ActivityBufferPool;
  return *p;
}

const char* result_name(mspti::Result r) {
  switch (r) {
    case mspti::kSuccess:
      return "MSPTI_SUCCESS";
    case mspti::kErrorInvalidParameter:
      return "MSPTI_ERROR_INVALID_PARAMETER";
    case mspti::kErrorMultipleSubscribersNotSupported:
      return "MSPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED";
    case mspti::kErrorMaxLimitReached:
      return "MSPTI_ERROR_MAX_LIMIT_REACHED";
    case mspti::kErrorDeviceOffline:
      return "MSPTI_ERROR_DEVICE_OFFLINE";
    case mspti::kErrorQueueEmpty:
      return "MSPTI_ERROR_QUEUE_EMPTY";
    case mspti::kErrorWithoutLdPreload:
      return "MSPTI_ERROR_WITHOUT_LD_PRELOAD";
    case mspti::kErrorNotInitialized:
      return "MSPTI_ERROR_NOT_INITIALIZED";
    case mspti::kErrorInvalidKind:
      return "MSPTI_ERROR_INVALID_KIND";
    case mspti::kErrorParameterSizeNotSufficient:
      return "MSPTI_ERROR_PARAMETER_SIZE_NOT_SUFFICIENT";
    case mspti::kErrorInner:
      return "MSPTI_ERROR_INNER";
    default:
      return "MSPTI error";
  }
}

std::string result_text(mspti::Result r, const std::string& library) {
  std::string s = std::string(result_name(r)) + " (" + std::to_string(static_cast<int>(r)) + ")";
  if (r == mspti::kErrorWithoutLdPreload) {
    s += "; msPTI must be preloaded: run with LD_PRELOAD=" + library;
  } else if (r == mspti::kErrorMultipleSubscribersNotSupported) {
    s += "; another msPTI client (e.g. the torch_npu profiler) is active";
  } else if (r == mspti::kErrorDeviceOffline) {
    s += "; no Ascend device is available";
  }
  return s;
}

const char* copy_kind_name(mspti::MemcpyKind k) {
  switch (k) {
    case mspti::kMemcpyHtoH:
      return "HtoH";
    case mspti::kMemcpyHtoD:
      return "HtoD";
    case mspti::kMemcpyDtoH:
      return "DtoH";
    case mspti::kMemcpyDtoD:
      return "DtoD";
    case mspti::kMemcpyDefault:
      return "Default";
    default:
      return "Unknown";
  }
}

int64_t stream_of(uint32_t stream) { return stream == kInvalidId ? -1 : int64_t{stream}; }
int32_t device_of(uint32_t device) {
  return device == kInvalidId ? -1 : static_cast<int32_t>(device);
}

void mspti_buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
  *max_records = 0;
  *buffer = pool().acquire(size);
}

}  // namespace

void mspti_buffer_completed(uint8_t* buffer, size_t size, size_t valid) {
  {
    std::lock_guard<std::mutex> lock(g_mu());
    if (g_active != nullptr) g_active->process_buffer(buffer, valid);
  }
  pool().release(buffer, size);
}

CannCollector::CannCollector(CannOptions options) : options_(std::move(options)) {}

CannCollector::~CannCollector() {
  stop();
  std::lock_guard<std::mutex> lock(g_mu());
  if (g_active == this) g_active = nullptr;
}

void CannCollector::set_state(std::string state, std::string message) {
  std::lock_guard<std::mutex> lock(state_mu_);
  state_ = std::move(state);
  message_ = std::move(message);
}

Status CannCollector::load_mspti() {
  if (mspti_) return OkStatus();
  std::vector<std::string> defaults =
      library_paths_under_env({"ASCEND_TOOLKIT_HOME", "ASCEND_HOME_PATH"}, "lib64", "libmspti.so");
  defaults.push_back("libmspti.so");
  defaults.push_back("/usr/local/Ascend/ascend-toolkit/latest/lib64/libmspti.so");
  defaults.push_back("/usr/local/Ascend/cann/lib64/libmspti.so");
  auto lib = DynamicLibrary::open(
      "libmspti.so not found",
      library_candidates(options_.mspti_library, "HUOYAN_MSPTI_LIBRARY", defaults));
  if (!lib.ok()) {
    return Status::Error(lib.status().message() +
                         "; install the CANN toolkit 8.0.RC3 or later (and source its "
                         "set_env.sh) or set HUOYAN_MSPTI_LIBRARY");
  }
  auto m = std::make_unique<Mspti>();
  const DynamicLibrary& l = lib.value();
  std::string missing;
  auto need = [&](const char* sym, auto** fn) {
    if (!l.bind(sym, fn)) missing += std::string(missing.empty() ? "" : ", ") + sym;
  };
  need("msptiActivityRegisterCallbacks", &m->register_callbacks);
  need("msptiActivityEnable", &m->enable);
  need("msptiActivityDisable", &m->disable);
  need("msptiActivityGetNextRecord", &m->next_record);
  need("msptiActivityFlushAll", &m->flush_all);
  need("msptiActivityPushExternalCorrelationId", &m->push_external);
  need("msptiActivityPopExternalCorrelationId", &m->pop_external);
  if (!missing.empty()) {
    return Status::Error(l.path() + " is not a usable msPTI library: missing " + missing);
  }
  l.bind("msptiSubscribe", &m->subscribe);
  l.bind("msptiUnsubscribe", &m->unsubscribe);
  l.bind("msptiActivityGetNumDroppedRecords", &m->dropped_records);
  mspti_library_ = l;
  mspti_ = std::move(m);
  return OkStatus();
}

Status CannCollector::load_acl() {
  if (acl_) return OkStatus();
  auto acl = AclModelSubscriber::open(options_.ascendcl_library);
  if (!acl.ok()) return acl.status();
  acl_ = std::move(acl.value());
  acl_->set_grace_ms(options_.subscription_grace_ms);
  return OkStatus();
}

Status CannCollector::start(const CollectorContext& context) {
  if (running_.load()) return Status::Error("cann: already running");
  if (!options_error_.empty()) {
    set_state("error", options_error_);
    return Status::Error(options_error_);
  }
  if (context.store == nullptr) {
    set_state("error", "cann: no trace store");
    return Status::Error("cann: no trace store");
  }
  store_ = context.store;
  clocks_ = context.clocks != nullptr ? context.clocks : &own_clocks_;
  if (options_.mode == CannMode::kAclprof) return start_aclprof();
  TraceStore& s = *store_;
  cat_kernel_ = s.intern("kernel");
  cat_memcpy_ = s.intern("npu_memcpy");
  cat_memset_ = s.intern("npu_memset");
  cat_api_ = s.intern("cann_api");
  cat_marker_ = s.intern("mstx");
  cat_comm_ = s.intern("communication");
  k_device_ = s.intern("device");
  k_stream_ = s.intern("stream");
  k_correlation_ = s.intern("correlation");
  k_type_ = s.intern("type");
  k_bytes_ = s.intern("bytes");
  k_copy_kind_ = s.intern("copy kind");
  k_value_ = s.intern("value");
  k_async_ = s.intern("async");
  k_domain_ = s.intern("domain");
  k_bandwidth_ = s.intern("bandwidth (GB/s)");
  k_comm_ = s.intern("communicator");
  k_algorithm_ = s.intern("algorithm");
  k_count_ = s.intern("count");
  open_markers_.clear();
  marker_order_.clear();

  ActivitySinkOptions sink_options;
  sink_options.backend = "mspti";
  sink_options.max_correlations = options_.max_correlations;
  sink_options.max_pending = options_.max_pending;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    sink_ = std::make_unique<ActivitySink>(store_, sink_options);
  }
  if (acl_) acl_->attach(sink_.get(), clocks_);

  std::string mspti_status = "msPTI disabled by options";
  if (options_.use_mspti) {
    const Status st = start_mspti();
    mspti_status = st.ok() ? std::string() : st.message();
  }
  if (mspti_running_) {
    running_.store(true);
    set_state("running", "msPTI " + mspti_library_.path() + mspti_notes_);
    return OkStatus();
  }
  // Without msPTI, model subscription may still work (graph-mode models, older CANN).
  const bool had_acl = acl_ != nullptr;
  const Status acl = load_acl();
  if (acl.ok()) {
    if (!had_acl) acl_->attach(sink_.get(), clocks_);
    running_.store(true);
    set_state("running", "model subscription only (" + acl_->library_path() +
                             "); msPTI unavailable: " + mspti_status);
    return OkStatus();
  }
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    sink_.reset();
  }
  const std::string message = "cann: " + mspti_status + "; " + acl.message();
  set_state("unavailable", message);
  return Status::Error(message);
}

Status CannCollector::start_mspti() {
  HUOYAN_RETURN_IF_ERROR(load_mspti());
  {
    std::lock_guard<std::mutex> lock(g_mu());
    if (g_active != nullptr && g_active != this) {
      return Status::Error("another msPTI collector is already active in this process");
    }
    g_active = this;
  }
  auto release = [this] {
    std::lock_guard<std::mutex> lock(g_mu());
    if (g_active == this) g_active = nullptr;
  };
  const Mspti& m = *mspti_;
  const std::string& path = mspti_library_.path();

  // Record times are CLOCK_REALTIME ns (msPTI's default timestamp source).
  const ClockSync::Domain d = clocks_->calibrate("mspti", [] { return realtime_ns(); });
  clock_offset_ = d.offset_ns;
  {
    auto w = store_->writer();
    w.set_metadata("clock.mspti.offset_ns", std::to_string(d.offset_ns));
    w.set_metadata("clock.mspti.uncertainty_ns", std::to_string(d.uncertainty_ns));
    w.set_metadata("mspti.library", path);
  }
  pool().configure(options_.buffer_bytes, options_.max_buffers);

  subscriber_ = nullptr;
  if (m.subscribe != nullptr) {
    const mspti::Result r = m.subscribe(&subscriber_, nullptr, nullptr);
    if (r != mspti::kSuccess) {
      release();
      return Status::Error("msptiSubscribe failed: " + result_text(r, path));
    }
  }
  auto unsubscribe = [&] {
    if (m.unsubscribe != nullptr && subscriber_ != nullptr) m.unsubscribe(subscriber_);
    subscriber_ = nullptr;
  };
  mspti::Result r = m.register_callbacks(mspti_buffer_requested, mspti_buffer_completed);
  if (r != mspti::kSuccess) {
    unsubscribe();
    release();
    return Status::Error("msptiActivityRegisterCallbacks failed: " + result_text(r, path));
  }
  enabled_.clear();
  r = m.enable(mspti::kKindKernel);
  if (r != mspti::kSuccess) {
    unsubscribe();
    release();
    return Status::Error("msptiActivityEnable(KERNEL) failed: " + result_text(r, path));
  }
  enabled_.push_back(mspti::kKindKernel);
  // The rest is best effort: a kind this msPTI lacks is noted, not fatal.
  std::string notes;
  auto optional = [&](mspti::ActivityKind kind, const char* label) {
    const mspti::Result rr = m.enable(kind);
    if (rr == mspti::kSuccess) {
      enabled_.push_back(kind);
      return true;
    }
    notes += std::string("; ") + label + " off: " + result_name(rr);
    return false;
  };
  optional(mspti::kKindExternalCorrelation, "step correlation");
  if (options_.api) optional(mspti::kKindApi, "API records");
  if (options_.memory_ops) {
    optional(mspti::kKindMemcpy, "memcpy");
    optional(mspti::kKindMemset, "memset");
  }
  if (options_.markers) optional(mspti::kKindMarker, "markers");
  if (options_.communication && !optional(mspti::kKindCommunication, "communication")) {
    optional(mspti::kKindHccl, "hccl");
  }
  mspti_running_ = true;
  mspti_notes_ = notes;  // start() appends it to the state message
  return OkStatus();
}

void CannCollector::collect_dropped() {
  size_t n = 0;
  if (mspti_->dropped_records != nullptr &&
      mspti_->dropped_records(nullptr, 0, &n) == mspti::kSuccess) {
    dropped_.fetch_add(n, std::memory_order_relaxed);
  }
}

void CannCollector::stop_mspti() {
  const Mspti& m = *mspti_;
  for (auto k : enabled_) m.disable(k);
  enabled_.clear();
  m.flush_all(1);
  collect_dropped();
  {
    std::lock_guard<std::mutex> lock(g_mu());
    if (g_active == this) g_active = nullptr;  // later completions are released unread
  }
  if (m.unsubscribe != nullptr && subscriber_ != nullptr) m.unsubscribe(subscriber_);
  subscriber_ = nullptr;
  mspti_running_ = false;
}

void CannCollector::stop() {
  if (!running_.exchange(false)) return;
  if (capture_) {
    stop_aclprof();
    return;
  }
  if (acl_) acl_->unsubscribe_all();
  if (mspti_running_) stop_mspti();
  if (!open_markers_.empty()) {
    store_->skips().add("mspti: marker range without end", open_markers_.size());
    open_markers_.clear();
    marker_order_.clear();
  }
  sink_->finish();
  std::lock_guard<std::mutex> lock(state_mu_);
  events_before_ += sink_->events();
  sink_.reset();
  state_ = "stopped";
}

void CannCollector::flush() {
  if (!running_.load() || !mspti_running_) return;
  mspti_->flush_all(1);
  collect_dropped();
  std::lock_guard<std::mutex> lock(g_mu());
  if (g_active == this && sink_) sink_->commit();
}

void CannCollector::on_step_begin(uint64_t step) {
  if (!running_.load(std::memory_order_acquire) || !mspti_running_.load()) return;
  mspti_->push_external(kStepKind, step);
}

void CannCollector::on_step_end(uint64_t /*step*/) {
  if (!running_.load(std::memory_order_acquire) || !mspti_running_.load()) return;
  uint64_t last = 0;
  mspti_->pop_external(kStepKind, &last);  // empty (started inside a step): harmless
}

CollectorState CannCollector::state() const {
  CollectorState st;
  st.name = "cann";
  std::lock_guard<std::mutex> lock(state_mu_);
  st.state = state_;
  st.message = message_;
  st.events = events_before_ + (sink_ ? sink_->events() : 0);
  st.dropped = dropped_.load();
  return st;
}

Status CannCollector::subscribe_model(uint32_t model_id, int32_t device_id) {
  if (!running_.load()) return Status::Error("cann: subscribe_model needs a running collector");
  if (capture_) {
    return Status::Error("cann: model subscription cannot run during an aclprof collection");
  }
  if (!acl_) {
    HUOYAN_RETURN_IF_ERROR(load_acl());
    acl_->attach(sink_.get(), clocks_);  // later runs re-attach in start()
  }
  return acl_->subscribe(model_id, device_id);
}

Status CannCollector::unsubscribe_model(uint32_t model_id) {
  if (!acl_) return Status::Error("cann: no model is subscribed");
  return acl_->unsubscribe(model_id);
}

// ---------------------------------------------------------------------------------------------
// Record conversion (msPTI completion thread, g_mu held).

bool CannCollector::bad_times(uint64_t start, uint64_t end) {
  if (start != 0 && end >= start) return false;
  store_->skips().add("mspti: incomplete record (no timestamps)");
  return true;
}

void CannCollector::convert_kernel(const mspti::Kernel& k) {
  if (bad_times(k.start, k.end)) return;
  const uint64_t correlation = k.correlationId;
  ActivityRecord r;
  r.event.kind = EventKind::kKernel;
  r.event.ts = static_cast<int64_t>(k.start) + clock_offset_;
  r.event.dur = static_cast<int64_t>(k.end - k.start);
  r.event.id = correlation;
  r.event.name = store_->intern(k.name != nullptr ? k.name : "<kernel>");
  r.event.cat = cat_kernel_;
  const mspti::DeviceStream ds = k.ds;
  r.track = TrackRef::Device(DeviceType::kNpu, device_of(ds.deviceId), stream_of(ds.streamId));
  r.correlation = correlation;
  if (k.type != nullptr) r.add_string(k_type_, k.type);
  r.add_int(k_device_, device_of(ds.deviceId));
  r.add_int(k_stream_, stream_of(ds.streamId));
  r.add_uint(k_correlation_, correlation);
  sink_->add(std::move(r));
}

void CannCollector::convert_api(const mspti::Api& a) {
  if (bad_times(a.start, a.end)) return;
  const uint64_t correlation = a.correlationId;
  const mspti::ProcessThread pt = a.pt;
  ActivityRecord r;
  r.event.kind = EventKind::kHost;
  r.event.ts = static_cast<int64_t>(a.start) + clock_offset_;
  r.event.dur = static_cast<int64_t>(a.end - a.start);
  r.event.id = correlation;
  r.event.name = store_->intern(a.name != nullptr ? a.name : "<api>");
  r.event.cat = cat_api_;
  r.track = TrackRef::Thread(pt.processId, pt.threadId);
  r.correlation = correlation;
  r.launch = true;
  r.add_uint(k_correlation_, correlation);
  sink_->add(std::move(r));
}

void CannCollector::convert_memcpy(const mspti::Memcpy& m) {
  if (bad_times(m.start, m.end)) return;
  const char* kind = copy_kind_name(m.copyKind);
  const uint64_t correlation = m.correlationId;
  ActivityRecord r;
  r.event.kind = EventKind::kMemcpy;
  r.event.ts = static_cast<int64_t>(m.start) + clock_offset_;
  r.event.dur = static_cast<int64_t>(m.end - m.start);
  r.event.id = correlation;
  r.event.name = store_->intern(std::string("Memcpy ") + kind);
  r.event.cat = cat_memcpy_;
  r.track = TrackRef::Device(DeviceType::kNpu, device_of(m.deviceId), stream_of(m.streamId));
  r.correlation = correlation;
  r.add_uint(k_bytes_, m.bytes);
  r.add_string(k_copy_kind_, kind);
  r.add_uint(k_async_, m.isAsync);
  r.add_uint(k_correlation_, correlation);
  sink_->add(std::move(r));
}

void CannCollector::convert_memset(const mspti::Memset& m) {
  if (bad_times(m.start, m.end)) return;
  const uint64_t correlation = m.correlationId;
  ActivityRecord r;
  r.event.kind = EventKind::kMemset;
  r.event.ts = static_cast<int64_t>(m.start) + clock_offset_;
  r.event.dur = static_cast<int64_t>(m.end - m.start);
  r.event.id = correlation;
  r.event.name = store_->intern("Memset");
  r.event.cat = cat_memset_;
  r.track = TrackRef::Device(DeviceType::kNpu, device_of(m.deviceId), stream_of(m.streamId));
  r.correlation = correlation;
  r.add_uint(k_bytes_, m.bytes);
  r.add_uint(k_value_, m.value);
  r.add_uint(k_async_, m.isAsync);
  r.add_uint(k_correlation_, correlation);
  sink_->add(std::move(r));
}

void CannCollector::convert_marker(const mspti::Marker& m) {
  const uint64_t ts_raw = m.timestamp;
  if (ts_raw == 0) {
    store_->skips().add("mspti: incomplete record (no timestamps)");
    return;
  }
  const int64_t ts = static_cast<int64_t>(ts_raw) + clock_offset_;
  const bool device = m.sourceKind == mspti::kSourceDevice;
  const mspti::ObjectId object = m.objectId;
  const TrackRef track = device ? TrackRef::Device(DeviceType::kNpu, device_of(object.ds.deviceId),
                                                   stream_of(object.ds.streamId))
                                : TrackRef::Thread(object.pt.processId, object.pt.threadId);
  const uint64_t key = (uint64_t{m.id} << 1) | (device ? 1 : 0);
  const int32_t flag = m.flag;
  const StringId domain = m.domain != nullptr ? store_->intern(m.domain) : 0;
  if ((flag & (mspti::kMarkerStart | mspti::kMarkerStartWithDevice)) != 0) {
    OpenMarker open;
    open.ts = ts;
    open.name = store_->intern(m.name != nullptr ? m.name : "<range>");
    open.domain = domain;
    open.track = track;
    if (open_markers_.insert_or_assign(key, open).second) marker_order_.push_back(key);
    while (open_markers_.size() > options_.max_open_markers && !marker_order_.empty()) {
      if (open_markers_.erase(marker_order_.front()) != 0) {
        store_->skips().add("mspti: marker range without end");
      }
      marker_order_.pop_front();
    }
    return;
  }
  ActivityRecord r;
  r.event.cat = cat_marker_;
  if ((flag & (mspti::kMarkerEnd | mspti::kMarkerEndWithDevice)) != 0) {
    auto it = open_markers_.find(key);
    if (it == open_markers_.end()) {
      store_->skips().add("mspti: marker end without start");
      return;
    }
    const OpenMarker open = it->second;
    open_markers_.erase(it);
    // A range marked on a device stream annotates the device's work; one on a thread is host.
    r.event.kind = device ? EventKind::kDeviceRange : EventKind::kHost;
    r.event.ts = open.ts;
    r.event.dur = ts >= open.ts ? ts - open.ts : 0;
    r.event.name = open.name;
    r.track = open.track;
    if (open.domain != 0) r.add_string(k_domain_, store_->str(open.domain));
  } else {  // instantaneous, host or device
    r.event.kind = EventKind::kInstant;
    r.event.ts = ts;
    r.event.name = store_->intern(m.name != nullptr ? m.name : "<mark>");
    r.track = track;
    if (domain != 0) r.add_string(k_domain_, store_->str(domain));
  }
  r.event.id = m.id;
  sink_->add(std::move(r));
}

void CannCollector::convert_communication(const mspti::Communication& c) {
  if (bad_times(c.start, c.end)) return;
  const uint64_t correlation = c.correlationId;
  const mspti::DeviceStream ds = c.ds;
  ActivityRecord r;
  r.event.kind = EventKind::kCollective;
  r.event.ts = static_cast<int64_t>(c.start) + clock_offset_;
  r.event.dur = static_cast<int64_t>(c.end - c.start);
  r.event.id = correlation;
  r.event.name = store_->intern(c.name != nullptr ? c.name : "<communication>");
  r.event.cat = cat_comm_;
  r.track = TrackRef::Device(DeviceType::kNpu, device_of(ds.deviceId), stream_of(ds.streamId));
  r.correlation = correlation;
  r.add_uint(k_count_, c.count);
  if (c.algType != nullptr) r.add_string(k_algorithm_, c.algType);
  if (c.commName != nullptr) r.add_string(k_comm_, c.commName);
  r.add_uint(k_correlation_, correlation);
  sink_->add(std::move(r));
}

void CannCollector::convert_hccl(const mspti::Hccl& h) {
  if (bad_times(h.start, h.end)) return;
  const mspti::DeviceStream ds = h.ds;
  ActivityRecord r;
  r.event.ts = static_cast<int64_t>(h.start) + clock_offset_;
  r.event.dur = static_cast<int64_t>(h.end - h.start);
  r.event.name = store_->intern(h.name != nullptr ? h.name : "<hccl>");
  r.event.kind = communication_slice_kind(store_->str(r.event.name));
  r.event.cat = cat_comm_;
  r.track = TrackRef::Device(DeviceType::kNpu, device_of(ds.deviceId), stream_of(ds.streamId));
  r.add_double(k_bandwidth_, h.bandWidth);
  if (h.commName != nullptr) r.add_string(k_comm_, h.commName);
  sink_->add(std::move(r));
}

void CannCollector::process_buffer(uint8_t* buffer, size_t valid) {
  if (!sink_) return;
  mspti::Activity* record = nullptr;
  mspti::Result r = mspti::kSuccess;
  while (valid > 0 && (r = mspti_->next_record(buffer, valid, &record)) == mspti::kSuccess) {
    switch (record->kind) {
      case mspti::kKindKernel:
        convert_kernel(*reinterpret_cast<const mspti::Kernel*>(record));
        break;
      case mspti::kKindApi:
      case mspti::kKindAclApi:
      case mspti::kKindNodeApi:
      case mspti::kKindRuntimeApi:
        convert_api(*reinterpret_cast<const mspti::Api*>(record));
        break;
      case mspti::kKindMemcpy:
        convert_memcpy(*reinterpret_cast<const mspti::Memcpy*>(record));
        break;
      case mspti::kKindMemset:
        convert_memset(*reinterpret_cast<const mspti::Memset*>(record));
        break;
      case mspti::kKindMarker:
        convert_marker(*reinterpret_cast<const mspti::Marker*>(record));
        break;
      case mspti::kKindExternalCorrelation: {
        const auto* x = reinterpret_cast<const mspti::ExternalCorrelation*>(record);
        if (x->externalKind == kStepKind) sink_->link(x->correlationId, x->externalId);
        break;
      }
      case mspti::kKindCommunication:
        convert_communication(*reinterpret_cast<const mspti::Communication*>(record));
        break;
      case mspti::kKindHccl:
        convert_hccl(*reinterpret_cast<const mspti::Hccl*>(record));
        break;
      default:
        store_->skips().add("mspti: unknown record kind");
        break;
    }
  }
  if (valid > 0 && r != mspti::kErrorMaxLimitReached) {
    store_->skips().add(std::string("mspti: unreadable buffer (") + result_name(r) + ")");
  }
  sink_->commit();
  collect_dropped();
}

std::unique_ptr<CannCollector> make_cann_collector(const CannOptions& options) {
  return std::make_unique<CannCollector>(options);
}

}  // namespace huoyan
