// A fixed set of worker threads that execute kernel launches. Each worker is one "stream" of a
// device: a launch runs one task on every worker and the launcher blocks until all are done.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace llm {

// Non-owning reference to a callable taking (device, worker). The callable must outlive the
// launch (start() .. wait()).
class TaskRef {
 public:
  TaskRef() = default;
  template <class F>
  TaskRef(F& f)  // NOLINT(google-explicit-constructor): meant to bind lambdas implicitly.
      : obj_(&f),
        call_([](void* o, int device, int worker) { (*static_cast<F*>(o))(device, worker); }) {}
  void operator()(int device, int worker) const { call_(obj_, device, worker); }

 private:
  void* obj_ = nullptr;
  void (*call_)(void*, int, int) = nullptr;
};

class WorkerPool {
 public:
  WorkerPool(int device, int n_workers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int device() const { return device_; }
  int size() const { return static_cast<int>(threads_.size()); }

  // Runs task(device, w) on every worker w. start() returns at once so that several pools
  // (devices) can run a launch concurrently; wait() blocks until every worker finished. One
  // launcher thread at a time; tasks must not throw.
  void start(TaskRef task);
  void wait();
  void run(TaskRef task) {
    start(task);
    wait();
  }

 private:
  void worker_loop(int index);

  int device_;
  std::vector<std::thread> threads_;
  TaskRef task_;
  std::atomic<uint32_t> generation_{0};  // Bumped once per launch; workers wait on it.
  std::atomic<uint32_t> pending_{0};     // Workers still running the current launch.
  std::atomic<bool> stop_{false};
};

}  // namespace llm
