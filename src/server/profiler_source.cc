#include "src/server/profiler_source.h"

#include <unistd.h>

#include "src/recording/profiler_internal.h"

namespace huoyan {

// An embedder's server: the profiler's store, and the profiler as its live source.
Server::Server(Profiler& profiler, ServerOptions options)
    : Server(ProfilerAccess::store(profiler), std::move(options),
             std::make_unique<server::ProfilerSource>(profiler)) {}

namespace server {

ProfilerSource::~ProfilerSource() {
  std::unique_lock<std::mutex> lock(mu_);
  if (window_open_) end_window(lock);
  if (timer_.joinable()) {
    lock.unlock();
    timer_.join();
  }
}

std::vector<std::string> ProfilerSource::sources() const {
  return {"process " + std::to_string(::getpid())};
}

std::vector<LiveSource::Collector> ProfilerSource::collectors() const {
  std::vector<Collector> out;
  for (const CollectorStatus& c : profiler_.stats().collectors) {
    out.push_back({c.name, c.state, c.message});
  }
  return out;
}

std::vector<LiveSource::Clock> ProfilerSource::clocks() const {
  std::vector<Clock> out;
  for (const ClockOffset& c : profiler_.stats().clocks) {
    out.push_back({c.domain, c.offset_ns, c.uncertainty_ns, c.ns_per_tick});
  }
  return out;
}

LiveSource::Capture ProfilerSource::capture() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!window_open_) return {};
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      ends_ - std::chrono::steady_clock::now());
  return {true, std::max<int64_t>(0, left.count())};
}

LiveSource::CaptureResult ProfilerSource::start_capture(int64_t duration_ms, std::string* message) {
  std::unique_lock<std::mutex> lock(mu_);
  if (window_open_) {
    *message = "a capture is already running; POST /api/capture/stop first";
    return CaptureResult::kBusy;
  }
  if (profiler_.running()) {
    *message = "the profiler records continuously: there is no window to open";
    return CaptureResult::kBusy;
  }
  if (timer_.joinable()) {  // the previous window's timer has ended (or is ending)
    lock.unlock();
    timer_.join();
    lock.lock();
  }
  std::string error;
  if (!profiler_.start(&error)) {
    *message = "cannot start the profiler: " + error;
    return CaptureResult::kUnsupported;
  }
  window_open_ = true;
  cancel_ = false;
  ends_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(duration_ms);
  timer_ = std::thread([this] {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_until(l, ends_, [this] { return cancel_; });
    if (window_open_ && !cancel_) end_window(l);
  });
  return CaptureResult::kOk;
}

LiveSource::CaptureResult ProfilerSource::stop_capture(std::string* message) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!window_open_) {
    *message = "no capture is running";
    return CaptureResult::kNotRunning;
  }
  end_window(lock);
  if (timer_.joinable()) {
    lock.unlock();
    timer_.join();
  }
  return CaptureResult::kOk;
}

void ProfilerSource::end_window(std::unique_lock<std::mutex>& /*held*/) {
  window_open_ = false;
  cancel_ = true;
  cv_.notify_all();
  profiler_.stop();  // keeps what was recorded
}

void ProfilerSource::flush() { ProfilerAccess::flush(profiler_); }

}  // namespace server
}  // namespace huoyan
