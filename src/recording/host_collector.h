// The "host" collector: the consumer of the per-thread recording buffers.
//
// A background thread wakes every drain interval, moves every thread's records into the store
// in batches (one TraceStore::Writer per batch, so readers get in between), converts cycle
// counter ticks to the store's time base, and retires the buffers of exited threads once they
// are empty. Host spans become kSpan events on the thread's row (pid = getpid(), tid = gettid()),
// record_kernel() kernels kKernel events on device rows, steps Writer::add_step plus a "step"
// span, request marks mark_request/add_request_tokens.
//
// Only one host collector in the process drains at a time (Registry::attach_consumer): the one
// of the global profiler. Threading: start/stop from one thread; flush() and the stats getters
// from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "huoyan/huoyan.h"
#include "src/collect/clock.h"
#include "src/collect/collector.h"
#include "src/recording/thread_buffer.h"

namespace huoyan::recording {

class HostCollector : public Collector {
 public:
  struct Options {
    ClockSource clock = ClockSource::kAuto;
    size_t buffer_slots = size_t{1} << 15;
    std::chrono::microseconds drain_interval{1000};
    std::string process_name;  // empty: the executable's name
  };

  explicit HostCollector(Options options);
  ~HostCollector() override;

  std::string_view name() const override { return "host"; }
  // Fails when another profiler's host collector is draining.
  Status start(const CollectorContext& context) override;
  void stop() override;
  // Drains every buffer now, on the calling thread.
  void flush() override;
  CollectorState state() const override;

  bool uses_tsc() const { return use_tsc_; }
  // Records moved into the store / lost to full buffers since start().
  uint64_t recorded() const { return recorded_.load(std::memory_order_relaxed); }
  uint64_t dropped() const;
  std::vector<ThreadStats> thread_stats() const;
  size_t buffer_bytes() const;
  // Visible for testing: while paused, the drain thread leaves the buffers alone (flush() still
  // drains), so a test can fill them. Returns once no drain pass of the thread is in progress.
  void set_paused(bool paused);

 private:
  struct Source;
  void run();
  void drain_all_locked();
  void drain_locked(Source& source);
  uint64_t total_dropped() const;

  const Options options_;
  TraceStore* store_ = nullptr;
  ClockSync* clocks_ = nullptr;
  bool use_tsc_ = false;
  std::atomic<bool> attached_{false};
  std::string state_ = "stopped";
  std::string message_;
  uint64_t dropped_at_start_ = 0;
  std::atomic<uint64_t> recorded_{0};
  std::atomic<bool> paused_{false};

  // The drain thread's wake-up.
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool stopping_ = false;
  std::thread thread_;

  // Consumer state, guarded by drain_mu_ (held by whoever drains: the thread or flush()).
  mutable std::mutex drain_mu_;
  class Decoder;
  std::unique_ptr<Decoder> decoder_;
  std::unordered_map<const ThreadBuffer*, std::unique_ptr<Source>> sources_;
  TickMap ticks_;
  std::chrono::steady_clock::time_point next_tick_update_;
};

}  // namespace huoyan::recording
