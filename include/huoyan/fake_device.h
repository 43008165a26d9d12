// A simulated device for tests and demos: the "fake" collector of a profiler.
//
//   huoyan::Profiler profiler({.collectors = {"host", "fake"}});
//   profiler.start();
//   huoyan::FakeDevice device(profiler);
//   {
//     huoyan::StepScope step({{"req-1", 12}});
//     device.launch(/*stream=*/0, "attention", /*dur_ns=*/120'000);  // tagged with the step
//   }
//   device.synchronize();
//
// Kernels run on N streams (4): one starts when launched or when the previous kernel of its
// stream ends, and lasts exactly dur_ns. They appear on the "GPU 0" rows of traces.
#pragma once

#include "huoyan/huoyan.h"

namespace huoyan {

#if !defined(HUOYAN_DISABLE)

// A handle on a profiler's fake device; must not outlive the profiler. Thread-safe.
class FakeDevice {
 public:
  // Invalid (valid() false, launches fail) when the profiler has no "fake" collector.
  explicit FakeDevice(Profiler& profiler);

  bool valid() const { return device_ != nullptr; }
  int streams() const;
  // Queues a kernel on `stream`, tagged with the calling thread's current step. Returns false
  // when the device is not running or the stream does not exist.
  bool launch(int64_t stream, std::string_view name, int64_t dur_ns);
  // Waits until every kernel launched so far has executed and reached the profiler's store.
  void synchronize();

 private:
  void* device_ = nullptr;  // the profiler's FakeCollector, owned by the profiler
};

#else

inline namespace disabled {
class FakeDevice {
 public:
  explicit FakeDevice(Profiler&) {}
  bool valid() const { return false; }
  int streams() const { return 0; }
  bool launch(int64_t, std::string_view, int64_t) { return false; }
  void synchronize() {}
};
}  // namespace disabled

#endif  // HUOYAN_DISABLE

}  // namespace huoyan
