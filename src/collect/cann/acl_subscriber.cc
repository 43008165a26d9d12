#include "src/collect/cann/acl_subscriber.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "src/collect/cann/ascendcl_library.h"

namespace huoyan {

namespace {

// Ops of model N go to a track of their own on the device, far above real stream ids (uint32).
constexpr int64_t kModelTrackBase = int64_t{1} << 32;
constexpr size_t kMaxOpString = 4096;  // sanity bound on library-reported name lengths

}  // namespace

struct AclModelSubscriber::Subscription {
  uint32_t model = 0;
  int32_t device = 0;
  int read_fd = -1;
  int write_fd = -1;  // handed to the library by address; the library closes it
  aclprof::SubscribeConfig* config = nullptr;
  std::atomic<int64_t> unsubscribed_at{0};  // monotonic ns; 0 while subscribed
  bool eof = false;                         // set by the reader before it exits
  std::thread reader;
  StringId track_name = 0, cat = 0, k_type = 0, k_model = 0, k_device = 0;
};

Result<std::unique_ptr<AclModelSubscriber>> AclModelSubscriber::open(
    const std::string& explicit_path) {
  auto lib = open_ascendcl(explicit_path);
  if (!lib.ok()) return lib.status();
  std::unique_ptr<AclModelSubscriber> s(new AclModelSubscriber);
  s->path_ = lib.value().path();

  // The aclprof* functions are implemented in libmsprofiler.so; libascendcl.so pulls it in, and
  // dlsym on its handle searches its dependencies. Look beside it explicitly for what is left.
  Api& a = s->api_;
  AclprofBinder need(lib.value());
  need("aclprofCreateSubscribeConfig", &a.create_config);
  need("aclprofDestroySubscribeConfig", &a.destroy_config);
  need("aclprofModelSubscribe", &a.subscribe);
  need("aclprofModelUnSubscribe", &a.unsubscribe);
  need("aclprofGetOpDescSize", &a.op_desc_size);
  need("aclprofGetOpNum", &a.op_num);
  need("aclprofGetOpTypeLen", &a.op_type_len);
  need("aclprofGetOpType", &a.op_type);
  need("aclprofGetOpNameLen", &a.op_name_len);
  need("aclprofGetOpName", &a.op_name);
  need("aclprofGetOpStart", &a.op_start);
  need("aclprofGetOpEnd", &a.op_end);
  need("aclprofGetModelId", &a.model_id);
  const std::string& missing = need.missing();
  if (!missing.empty()) {
    return Status::Error(s->path_ + " lacks the model subscription API (" + missing +
                         "): CANN too old, or not libascendcl");
  }
  size_t desc = 0;
  if (s->api_.op_desc_size(&desc) != aclprof::kSuccess || desc == 0) {
    return Status::Error("aclprofGetOpDescSize failed (" + s->path_ + ")");
  }
  s->desc_size_ = desc;
  return s;
}

AclModelSubscriber::~AclModelSubscriber() { unsubscribe_all(); }

void AclModelSubscriber::attach(ActivitySink* sink, ClockSync* clocks) {
  std::lock_guard<std::mutex> lock(mu_);
  sink_ = sink;
  clocks_ = clocks;
  have_offset_ = false;
}

Status AclModelSubscriber::subscribe(uint32_t model_id, int32_t device_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (sink_ == nullptr) return Status::Error("acl subscribe: collector not running");
  if (subscriptions_.count(model_id) != 0) {
    return Status::Error("acl subscribe: model " + std::to_string(model_id) +
                         " is already subscribed");
  }
  auto sub = std::make_unique<Subscription>();
  sub->model = model_id;
  sub->device = device_id;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return Status::Error(std::string("acl subscribe: pipe: ") + std::strerror(errno));
  }
  sub->read_fd = fds[0];
  sub->write_fd = fds[1];
  sub->config = api_.create_config(1, aclprof::kAicoreNone, &sub->write_fd);
  if (sub->config == nullptr) {
    close(fds[0]);
    close(fds[1]);
    return Status::Error("acl subscribe: aclprofCreateSubscribeConfig failed");
  }
  const aclprof::Error err = api_.subscribe(model_id, sub->config);
  if (err != aclprof::kSuccess) {
    api_.destroy_config(sub->config);
    close(fds[0]);
    close(fds[1]);  // the library did not take it
    return Status::Error("acl subscribe: aclprofModelSubscribe(model " + std::to_string(model_id) +
                         ") failed: aclError " + std::to_string(err) +
                         " (subscribe after aclmdlLoad and before execution, once per model; not "
                         "together with aclprofInit/aclprofStart)");
  }
  TraceStore* store = sink_->store();
  sub->track_name = store->intern("Model " + std::to_string(model_id) + " ops (subscription)");
  sub->cat = store->intern("acl_op");
  sub->k_type = store->intern("op type");
  sub->k_model = store->intern("model id");
  sub->k_device = store->intern("device");
  Subscription* raw = sub.get();
  sub->reader = std::thread([this, raw] { read_loop(raw); });
  subscriptions_.emplace(model_id, std::move(sub));
  return OkStatus();
}

Status AclModelSubscriber::unsubscribe(uint32_t model_id) {
  std::unique_ptr<Subscription> sub;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = subscriptions_.find(model_id);
    if (it == subscriptions_.end()) {
      return Status::Error("acl subscribe: model " + std::to_string(model_id) +
                           " is not subscribed");
    }
    sub = std::move(it->second);
    subscriptions_.erase(it);
  }
  const aclprof::Error err = api_.unsubscribe(model_id);
  finish(std::move(sub));
  if (err != aclprof::kSuccess) {
    return Status::Error("acl subscribe: aclprofModelUnSubscribe(model " +
                         std::to_string(model_id) + ") failed: aclError " + std::to_string(err));
  }
  return OkStatus();
}

void AclModelSubscriber::unsubscribe_all() {
  std::vector<uint32_t> models;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [m, s] : subscriptions_) models.push_back(m);
  }
  for (uint32_t m : models) unsubscribe(m);
}

void AclModelSubscriber::finish(std::unique_ptr<Subscription> sub) {
  sub->unsubscribed_at.store(monotonic_ns());
  if (sub->reader.joinable()) sub->reader.join();
  if (sub->eof) {
    close(sub->read_fd);
  } else if (sink_ != nullptr) {
    // The library still holds the write end: closing the read end would make its next write
    // raise SIGPIPE in the application. Leak the descriptor instead, and say so.
    sink_->store()->skips().add("acl subscribe: pipe not closed by the library (fd kept open)");
  }
  api_.destroy_config(sub->config);
  if (sink_ != nullptr) sink_->commit();
}

void AclModelSubscriber::read_loop(Subscription* sub) {
  std::vector<uint8_t> buf(desc_size_ * 64);
  size_t have = 0;
  for (;;) {
    pollfd p{sub->read_fd, POLLIN, 0};
    const int r = poll(&p, 1, 100);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (r == 0) {
      const int64_t at = sub->unsubscribed_at.load();
      if (at != 0 && monotonic_ns() - at > grace_ms_.load() * 1000000) break;
      continue;
    }
    const ssize_t n = read(sub->read_fd, buf.data() + have, buf.size() - have);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      break;
    }
    if (n == 0) {
      sub->eof = true;
      break;
    }
    have += static_cast<size_t>(n);
    const size_t whole = have / desc_size_ * desc_size_;
    if (whole > 0) {
      deliver(sub, buf.data(), whole, monotonic_ns());
      std::memmove(buf.data(), buf.data() + whole, have - whole);
      have -= whole;
    }
  }
  if (have > 0 && sink_ != nullptr) {
    sink_->store()->skips().add("acl subscribe: partial op record at end of stream");
  }
}

int64_t AclModelSubscriber::offset_for(const uint8_t* data, size_t len, uint32_t n,
                                       int64_t read_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  if (have_offset_) return offset_ns_;
  ClockSync::Domain d;
  if (clocks_ != nullptr && clocks_->get("acl_subscribe", &d)) {
    offset_ns_ = d.offset_ns;
    have_offset_ = true;
    return offset_ns_;
  }
  int64_t lo = std::numeric_limits<int64_t>::max();
  int64_t hi = std::numeric_limits<int64_t>::min();
  for (uint32_t i = 0; i < n; ++i) {
    const int64_t gap = read_ns - static_cast<int64_t>(api_.op_end(data, len, i));
    lo = std::min(lo, gap);
    hi = std::max(hi, gap);
  }
  if (n == 0) return 0;
  offset_ns_ = lo;
  have_offset_ = true;
  d.name = "acl_subscribe";
  d.offset_ns = lo;
  d.uncertainty_ns = hi - lo;
  if (clocks_ != nullptr) clocks_->set(d);
  auto w = sink_->store()->writer();
  w.set_metadata("clock.acl_subscribe.offset_ns", std::to_string(d.offset_ns));
  w.set_metadata("clock.acl_subscribe.uncertainty_ns", std::to_string(d.uncertainty_ns));
  w.set_metadata("clock.acl_subscribe.method", "estimated-from-delivery");
  return offset_ns_;
}

void AclModelSubscriber::deliver(Subscription* sub, const uint8_t* data, size_t len,
                                 int64_t read_ns) {
  if (sink_ == nullptr) return;
  TraceStore* store = sink_->store();
  uint32_t n = 0;
  if (api_.op_num(data, len, &n) != aclprof::kSuccess) {
    store->skips().add("acl subscribe: unreadable op records", len / desc_size_);
    return;
  }
  const int64_t offset = offset_for(data, len, n, read_ns);
  // Each string can be fetched once: the library erases it on retrieval.
  auto fetch = [&](aclprof::GetOpStringLenFn len_fn, aclprof::GetOpStringFn get_fn, uint32_t i) {
    size_t size = 0;
    if (len_fn(data, len, i, &size) != aclprof::kSuccess || size == 0 || size > kMaxOpString) {
      return std::string();
    }
    std::string s(size, '\0');
    if (get_fn(data, len, i, s.data(), size) != aclprof::kSuccess) return std::string();
    s.resize(std::strlen(s.c_str()));
    return s;
  };
  for (uint32_t i = 0; i < n; ++i) {
    const std::string type = fetch(api_.op_type_len, api_.op_type, i);
    const std::string name = fetch(api_.op_name_len, api_.op_name, i);
    const uint64_t start = api_.op_start(data, len, i);
    const uint64_t end = api_.op_end(data, len, i);
    const size_t model = api_.model_id(data, len, i);
    if (start == 0 || end < start) {
      store->skips().add("acl subscribe: op without valid times");
      continue;
    }
    ActivityRecord r;
    r.event.kind = EventKind::kKernel;
    r.event.ts = static_cast<int64_t>(start) + offset;
    r.event.dur = static_cast<int64_t>(end - start);
    r.event.name = store->intern(!name.empty() ? name : !type.empty() ? type : "<op>");
    r.event.cat = sub->cat;
    r.track = TrackRef::Device(DeviceType::kNpu, sub->device, kModelTrackBase + sub->model);
    r.track.name = sub->track_name;
    if (!type.empty()) r.add_string(sub->k_type, type);
    r.add_uint(sub->k_model, model);
    r.add_int(sub->k_device, sub->device);
    sink_->add(std::move(r));
  }
  sink_->commit();
}

}  // namespace huoyan
