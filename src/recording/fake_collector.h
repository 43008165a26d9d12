// The "fake" collector: a simulated device, so that everything downstream of a device backend
// (clock mapping, step tagging, request attribution, exports) runs without a GPU or an NPU.
//
// launch() queues a kernel of a given duration on one of N streams, tagged with the launching
// thread's current step; a background thread "executes" the queues: a kernel starts when it was
// launched or when the previous kernel of its stream ends, whichever is later, and lasts exactly
// its duration. Times are taken on the device's own clock (CLOCK_MONOTONIC shifted by
// clock_offset_ns, like a device counter) and mapped onto the store's time base through
// ClockSync, as a real backend does. Completed kernels reach the store in batches, like CUPTI
// activity buffers.
//
// Threading: launch() and synchronize() from any thread; start/stop from one thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "src/collect/collector.h"

namespace huoyan {

class FakeCollector : public Collector {
 public:
  struct Options {
    int streams = 4;
    DeviceType device_type = DeviceType::kGpu;
    int32_t device = 0;
    int64_t clock_offset_ns = int64_t{1} << 40;  // device clock = CLOCK_MONOTONIC + this
  };

  explicit FakeCollector(Options options);
  ~FakeCollector() override;

  std::string_view name() const override { return "fake"; }
  Status start(const CollectorContext& context) override;
  void stop() override;
  void flush() override;
  void on_step_begin(uint64_t step) override;
  void on_step_end(uint64_t step) override;
  CollectorState state() const override;

  // Queues a kernel; `step` 0 means the calling thread's current step. Returns false when the
  // device is not running or the stream does not exist.
  bool launch(int64_t stream, std::string_view name, int64_t dur_ns, uint64_t step = 0);
  // Returns once every kernel launched so far has executed (in simulated time too) and is in
  // the store.
  void synchronize();
  int streams() const { return options_.streams; }
  int64_t device_now_ns() const;
  // Step notifications received (Collector::on_step_begin/end), for tests.
  uint64_t steps_begun() const;
  uint64_t steps_ended() const;

 private:
  struct Kernel {
    int64_t stream;
    StringId name;
    uint64_t step;
    uint64_t correlation;
    int64_t dur;
    int64_t launch;  // device clock
    int64_t start = 0;
    int64_t end = 0;
  };
  void run();
  void deliver(std::vector<Kernel>* done);

  const Options options_;
  TraceStore* store_ = nullptr;
  ClockSync* clocks_ = nullptr;
  StringId cat_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // queue non-empty, or stopping
  std::condition_variable done_cv_;  // executed_ advanced
  bool running_ = false;
  bool stopping_ = false;
  std::deque<Kernel> queue_;
  std::vector<Kernel> completed_;     // executed, not yet in the store
  std::vector<int64_t> stream_free_;  // device time each stream becomes idle
  uint64_t launched_ = 0;
  uint64_t executed_ = 0;
  uint64_t delivered_ = 0;
  uint64_t steps_begun_ = 0;
  uint64_t steps_ended_ = 0;
  int64_t last_end_ = 0;  // device time the last executed kernel ends
  std::thread thread_;
};

}  // namespace huoyan
