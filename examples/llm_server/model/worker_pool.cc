#include "model/worker_pool.h"

#include <stdexcept>

namespace llm {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Workers spin briefly before sleeping because kernels of one step are launched back to back;
// the spin is short because the launcher shares the cores with them.
constexpr int kSpinIterations = 256;

}  // namespace

WorkerPool::WorkerPool(int device, int n_workers) : device_(device) {
  if (n_workers < 1) throw std::invalid_argument("WorkerPool: n_workers must be >= 1");
  threads_.reserve(n_workers);
  for (int i = 0; i < n_workers; ++i) threads_.emplace_back([this, i] { worker_loop(i); });
}

WorkerPool::~WorkerPool() {
  stop_.store(true, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::start(TaskRef task) {
  task_ = task;
  pending_.store(static_cast<uint32_t>(threads_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);  // Publishes task_ and pending_.
  generation_.notify_all();
}

void WorkerPool::wait() {
  uint32_t p;
  while ((p = pending_.load(std::memory_order_acquire)) != 0) pending_.wait(p);
}

void WorkerPool::worker_loop(int index) {
  uint32_t seen = 0;
  for (;;) {
    uint32_t g;
    for (int spin = 0; (g = generation_.load(std::memory_order_acquire)) == seen; ++spin) {
      if (spin < kSpinIterations) {
        cpu_relax();
      } else {
        generation_.wait(seen, std::memory_order_acquire);
      }
    }
    seen = g;
    if (stop_.load(std::memory_order_relaxed)) return;
    task_(device_, index);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
  }
}

}  // namespace llm
