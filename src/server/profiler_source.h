// The live source of an embedded profiler: collector states and clock offsets from
// Profiler::stats(), flushes through ProfilerAccess, and capture windows.
//
// A capture window records for a while and then stops: POST /api/capture starts a stopped
// profiler and stops it again after duration_ms (what was recorded stays in the store). A
// profiler that already records continuously answers 409: there is nothing to capture on top.
//
// Threading: every method may be called from any thread. The window's timer is one thread,
// joined by stop_capture(), by the next window, or by the destructor.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "huoyan/huoyan.h"
#include "huoyan/server.h"

namespace huoyan::server {

class ProfilerSource : public LiveSource {
 public:
  explicit ProfilerSource(Profiler& profiler) : profiler_(profiler) {}
  ~ProfilerSource() override;

  std::vector<std::string> sources() const override;
  std::vector<Collector> collectors() const override;
  std::vector<Clock> clocks() const override;
  Capture capture() const override;
  CaptureResult start_capture(int64_t duration_ms, std::string* message) override;
  CaptureResult stop_capture(std::string* message) override;
  void flush() override;

 private:
  void end_window(std::unique_lock<std::mutex>& lock);  // stops the timer and the profiler

  Profiler& profiler_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool window_open_ = false;  // a window started the profiler and will stop it
  bool cancel_ = false;
  std::chrono::steady_clock::time_point ends_;
  std::thread timer_;
};

}  // namespace huoyan::server
