#include "src/recording/host_collector.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <unordered_set>

#include "src/recording/record.h"
#include "src/recording/recorder.h"

namespace huoyan::recording {

namespace {
// Records per writer lock: long enough to amortize the lock, short enough (~100 µs) not to keep
// snapshot readers waiting.
constexpr size_t kBatch = 4096;
// How often the TSC map is re-measured against CLOCK_MONOTONIC.
constexpr auto kTickUpdatePeriod = std::chrono::milliseconds(100);
constexpr auto kTscCalibration = std::chrono::milliseconds(10);
// Spans longer than this are taken as corrupt clocks (a record from before a clock change).
constexpr int64_t kMaxSpanNs = int64_t{24} * 3600 * 1000000000;

DeviceType device_type_of(uint8_t kind) {
  switch (static_cast<DeviceKind>(kind)) {
    case DeviceKind::kCpu:
      return DeviceType::kCpu;
    case DeviceKind::kGpu:
      return DeviceType::kGpu;
    case DeviceKind::kNpu:
      return DeviceType::kNpu;
    case DeviceKind::kOther:
      return DeviceType::kOther;
  }
  return DeviceType::kOther;
}
}  // namespace

// Per thread buffer: where its events go and the steps it has open.
struct HostCollector::Source {
  std::shared_ptr<ThreadBuffer> buffer;
  bool has_track = false;
  TrackId track = 0;
  uint32_t name_version = 0;
  std::vector<std::pair<uint64_t, std::vector<StepMember>>> open_steps;
};

// Turns records into store events. Owned by the collector, used under drain_mu_.
class HostCollector::Decoder {
 public:
  Decoder(TraceStore* store, const TickMap* ticks, std::string process_name)
      : store_(store), ticks_(ticks), process_name_(std::move(process_name)) {
    cat_host_ = store_->intern("host");
    cat_request_ = store_->intern("request");
    cat_kernel_ = store_->intern("kernel");
    cat_step_ = store_->intern("step");
    name_step_ = store_->intern("step");
    key_value_ = store_->intern("value");
  }

  void ensure_track(TraceStore::Writer& w, Source& s) {
    const ThreadBuffer& b = *s.buffer;
    if (!s.has_track) {
      s.track = w.track(b.pid(), b.tid());
      s.has_track = true;
      Process& p = w.process_at(w.track_at(s.track).process);
      if (p.name == 0) p.name = store_->intern(process_name_);
    }
    const uint32_t version = b.name_version();
    if (version != s.name_version) {
      s.name_version = version;
      w.track_at(s.track).name = store_->intern(b.name());
    }
  }

  // Returns false for a malformed record (counted in the store's skip counters).
  void decode(TraceStore::Writer& w, Source& s, const RecordHeader& h,
              std::span<const unsigned char> payload);

 private:
  int64_t to_ns(uint64_t t, uint8_t flags) const {
    return (flags & record_flags::kTicks) ? ticks_->to_ns(t) : static_cast<int64_t>(t);
  }
  StringId site_name(uint32_t site) {
    if (site >= site_names_.size()) site_names_.resize(site + 64, 0);
    StringId& id = site_names_[site];
    if (id == 0) id = store_->intern(SiteRegistry::get().name(site));
    return id;
  }
  void read_attrs(PayloadReader& r) {
    const auto n = r.pod<uint16_t>();
    for (uint16_t i = 0; i < n && !r.failed(); ++i) {
      const auto type = static_cast<AttrValue::Type>(r.pod<uint8_t>());
      Arg a;
      a.key = store_->intern(r.str());
      switch (type) {
        case AttrValue::Type::kInt:
          a.value = ArgValue::Int(r.pod<int64_t>());
          break;
        case AttrValue::Type::kDouble:
          a.value = ArgValue::Double(r.pod<double>());
          break;
        case AttrValue::Type::kString:
          a.value = ArgValue::String(r.str());
          break;
        default:
          return;  // unknown type: the rest cannot be parsed
      }
      args_.push_back(a);
    }
  }
  TrackId device_track(TraceStore::Writer& w, uint8_t kind, int32_t device, int64_t stream) {
    const auto key = std::make_tuple(kind, device, stream);
    auto it = device_tracks_.find(key);
    if (it != device_tracks_.end()) return it->second;
    const TrackId t = w.device_track(device_type_of(kind), device, stream);
    device_tracks_.emplace(key, t);
    return t;
  }
  void skip(std::string_view why) { store_->skips().add(why); }

  TraceStore* store_;
  const TickMap* ticks_;
  std::string process_name_;
  StringId cat_host_, cat_request_, cat_kernel_, cat_step_, name_step_, key_value_;
  std::vector<StringId> site_names_;
  std::map<std::tuple<uint8_t, int32_t, int64_t>, TrackId> device_tracks_;
  std::vector<Arg> args_;
};

void HostCollector::Decoder::decode(TraceStore::Writer& w, Source& s, const RecordHeader& h,
                                    std::span<const unsigned char> payload) {
  PayloadReader r(payload);
  args_.clear();
  const uint8_t flags = h.flags;
  if ((flags & record_flags::kTicks) && !ticks_->calibrated()) {
    skip("host records with an uncalibrated clock dropped");
    return;
  }
  Event e;
  e.step = h.step;
  e.track = s.track;
  switch (h.kind) {
    case RecordKind::kSpan: {
      if (flags & record_flags::kHasRequest) e.request = store_->intern(r.str());
      e.name = (flags & record_flags::kHasName) ? store_->intern(r.str()) : site_name(h.site);
      if (flags & record_flags::kHasAttrs) read_attrs(r);
      e.ts = to_ns(h.t0, flags);
      e.dur = to_ns(h.t1, flags) - e.ts;
      e.cat = e.request != 0 ? cat_request_ : cat_host_;
      e.kind = EventKind::kHost;
      break;
    }
    case RecordKind::kInstant:
      e.name = site_name(h.site);
      e.ts = to_ns(h.t0, flags);
      e.cat = cat_host_;
      e.kind = EventKind::kInstant;
      break;
    case RecordKind::kCounter:
      e.name = site_name(h.site);
      e.ts = to_ns(h.t0, flags);
      e.cat = cat_host_;
      e.kind = EventKind::kCounter;
      args_.push_back(Arg{key_value_, ArgValue::Double(std::bit_cast<double>(h.t1))});
      break;
    case RecordKind::kKernel: {
      e.name = store_->intern(r.str());
      const auto kind = r.pod<uint8_t>();
      const auto device = r.pod<int32_t>();
      const auto stream = r.pod<int64_t>();
      if (flags & record_flags::kHasAttrs) read_attrs(r);
      if (r.failed()) break;
      e.track = device_track(w, kind, device, stream);
      e.ts = static_cast<int64_t>(h.t0);
      e.dur = static_cast<int64_t>(h.t1) - e.ts;
      e.cat = cat_kernel_;
      e.kind = EventKind::kKernel;
      break;
    }
    case RecordKind::kStepMembers: {
      const auto n = r.pod<uint32_t>();
      auto it = std::find_if(s.open_steps.begin(), s.open_steps.end(),
                             [&](const auto& p) { return p.first == h.step; });
      if (it == s.open_steps.end()) {
        // Bounded: a step whose end record was dropped must not pin its members forever.
        if (s.open_steps.size() >= 64) s.open_steps.erase(s.open_steps.begin());
        s.open_steps.emplace_back(h.step, std::vector<StepMember>{});
        it = s.open_steps.end() - 1;
      }
      for (uint32_t i = 0; i < n && !r.failed(); ++i) {
        StepMember m;
        m.tokens = r.pod<uint32_t>();
        m.request = store_->intern(r.str());
        it->second.push_back(m);
      }
      if (r.failed()) skip("malformed host records");
      return;
    }
    case RecordKind::kStepEnd: {
      Step step;
      step.id = h.step;
      step.start = to_ns(h.t0, flags);
      step.end = to_ns(h.t1, flags);
      step.track = s.track;
      auto it = std::find_if(s.open_steps.begin(), s.open_steps.end(),
                             [&](const auto& p) { return p.first == h.step; });
      if (it != s.open_steps.end()) {
        step.members = std::move(it->second);
        s.open_steps.erase(it);
      }
      e.ts = step.start;
      e.dur = step.end - step.start;
      if (e.dur < 0 || e.dur > kMaxSpanNs) break;
      w.add_step(std::move(step));
      e.name = name_step_;
      e.cat = cat_step_;
      e.kind = EventKind::kHost;
      break;
    }
    case RecordKind::kRequestMark: {
      const StringId id = store_->intern(r.str());
      if (r.failed()) break;
      const int64_t ts = to_ns(h.t0, flags);
      const auto mark = static_cast<MarkKind>((flags >> record_flags::kMarkShift) & 3);
      if (mark == MarkKind::kArrival) {
        w.mark_request(id, RequestMark::kArrival, ts);
        w.add_request_tokens(id, h.t1, 0);
      } else if (mark == MarkKind::kFirstToken) {
        w.mark_request(id, RequestMark::kFirstToken, ts);
      } else {
        w.mark_request(id, RequestMark::kFinish, ts);
        w.add_request_tokens(id, 0, h.t1);
      }
      return;
    }
    default:
      skip("malformed host records");
      return;
  }
  if (r.failed()) {
    skip("malformed host records");
    return;
  }
  if (has_duration(e.kind) && (e.dur < 0 || e.dur > kMaxSpanNs)) {
    skip("host spans with an invalid duration");
    return;
  }
  w.append(e, args_);
}

// ---------------------------------------------------------------------------------------------

HostCollector::HostCollector(Options options) : options_(std::move(options)) {}

HostCollector::~HostCollector() { stop(); }

Status HostCollector::start(const CollectorContext& context) {
  if (attached_) return Status::Error("host collector already running");
  store_ = context.store;
  clocks_ = context.clocks;
  if (!Registry::get().attach_consumer(this)) {
    state_ = "standby";
    message_ = "another profiler records the host events";
    return Status::Error(message_);
  }
  use_tsc_ = options_.clock == ClockSource::kTsc ||
             (options_.clock == ClockSource::kAuto && cycle_counter_invariant());
  if (read_cycle_counter() == 0) use_tsc_ = false;  // no counter on this architecture
  {
    std::lock_guard<std::mutex> lock(drain_mu_);
    if (use_tsc_) {
      ticks_.calibrate(&read_cycle_counter, kTscCalibration);
      if (clocks_ != nullptr) clocks_->set_ticks("tsc", ticks_);
      next_tick_update_ = std::chrono::steady_clock::now() + kTickUpdatePeriod;
    }
    std::string process = options_.process_name;
    if (process.empty()) process = program_invocation_short_name;
    decoder_ = std::make_unique<Decoder>(store_, &ticks_, process);
    // Whatever the buffers hold was recorded before this collector attached: stale.
    for (const auto& b : Registry::get().buffers()) b->release(b->head());
    sources_.clear();
    attached_ = true;
  }
  Registry::get().set_buffer_slots(options_.buffer_slots);
  set_clock_tsc(use_tsc_);
  dropped_at_start_ = total_dropped();
  recorded_.store(0, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
  state_ = "running";
  message_.clear();
  set_recording(true);
  return OkStatus();
}

void HostCollector::stop() {
  if (!attached_) return;
  set_recording(false);
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stopping_ = true;
  }
  wake_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> lock(drain_mu_);
    drain_all_locked();
    attached_ = false;
  }
  Registry::get().detach_consumer(this);
  state_ = "stopped";
}

void HostCollector::flush() {
  std::lock_guard<std::mutex> lock(drain_mu_);
  if (!attached_ || decoder_ == nullptr) return;
  drain_all_locked();
}

void HostCollector::run() {
  std::unique_lock<std::mutex> lock(wake_mu_);
  while (!stopping_) {
    wake_cv_.wait_for(lock, options_.drain_interval, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    {
      std::lock_guard<std::mutex> drain(drain_mu_);
      if (!paused_.load(std::memory_order_relaxed)) {
        drain_all_locked();
        if (use_tsc_ && std::chrono::steady_clock::now() >= next_tick_update_) {
          ticks_.update();
          if (clocks_ != nullptr) clocks_->set_ticks("tsc", ticks_);
          next_tick_update_ = std::chrono::steady_clock::now() + kTickUpdatePeriod;
        }
      }
    }
    lock.lock();
  }
}

void HostCollector::set_paused(bool paused) {
  paused_.store(paused, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(drain_mu_);  // waits for a pass in progress
}

void HostCollector::drain_all_locked() {
  const auto buffers = Registry::get().buffers();
  std::unordered_set<const ThreadBuffer*> live;
  for (const auto& b : buffers) {
    live.insert(b.get());
    auto& source = sources_[b.get()];
    if (!source) {
      source = std::make_unique<Source>();
      source->buffer = b;
    }
    const bool exited = b->exited();  // before reading head: its last records are then visible
    drain_locked(*source);
    if (exited && b->tail() == b->head()) {
      Registry::get().retire(b);
      live.erase(b.get());
    }
  }
  std::erase_if(sources_, [&](const auto& kv) { return live.count(kv.first) == 0; });
}

void HostCollector::drain_locked(Source& s) {
  ThreadBuffer& b = *s.buffer;
  uint64_t tail = b.tail();
  const uint64_t head = b.head();
  std::vector<unsigned char> payload;
  while (tail < head) {
    uint64_t n = 0;
    {
      TraceStore::Writer w = store_->writer();
      decoder_->ensure_track(w, s);
      while (tail < head && n < kBatch) {
        const RecordHeader h = b.header(tail);
        if (tail + 1 + h.payload_slots > head) {  // cannot happen: records are published whole
          store_->skips().add("malformed host records");
          tail = head;
          break;
        }
        b.copy_payload(tail, h.payload_slots, &payload);
        decoder_->decode(w, s, h, payload);
        tail += 1 + h.payload_slots;
        ++n;
      }
    }
    b.release(tail);
    b.add_recorded(n);
    recorded_.fetch_add(n, std::memory_order_relaxed);
  }
}

uint64_t HostCollector::total_dropped() const {
  uint64_t total = Registry::get().retired_dropped();
  for (const auto& b : Registry::get().buffers()) total += b->dropped();
  return total;
}

uint64_t HostCollector::dropped() const { return total_dropped() - dropped_at_start_; }

std::vector<ThreadStats> HostCollector::thread_stats() const {
  std::vector<ThreadStats> out;
  auto add = [&](const ThreadBuffer& b) {
    ThreadStats t;
    t.tid = b.tid();
    t.name = b.name();
    t.recorded = b.recorded();
    t.dropped = b.dropped();
    t.buffer_bytes = b.memory_bytes();
    t.exited = b.exited();
    out.push_back(std::move(t));
  };
  for (const auto& b : Registry::get().buffers()) add(*b);
  for (const auto& r : Registry::get().recent_retired()) {
    out.push_back(ThreadStats{r.tid, r.name, r.recorded, r.dropped, 0, true});
  }
  return out;
}

size_t HostCollector::buffer_bytes() const {
  size_t bytes = 0;
  for (const auto& b : Registry::get().buffers()) bytes += b->memory_bytes();
  return bytes;
}

CollectorState HostCollector::state() const {
  CollectorState s;
  s.name = "host";
  s.state = state_;
  s.message = message_;
  s.events = recorded();
  s.dropped = attached_ ? dropped() : 0;
  return s;
}

}  // namespace huoyan::recording
