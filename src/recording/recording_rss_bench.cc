// Resident memory under a sustained span rate: N threads record spans at a fixed rate for a
// while; every second the program prints RSS next to what the store and buffers hold. The store
// is bounded (oldest events evicted), so RSS must level off near
//   baseline + capacity × bytes per stored event + thread buffers
// however long the run.
//
//   recording_rss_bench [--threads=2] [--rate=5000000] [--seconds=10] [--capacity=4194304]
//
// --rate is spans per second per thread. Exit status 1 when RSS grew beyond that bound.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "huoyan/huoyan.h"

namespace {

int64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

int64_t flag(int argc, char** argv, const char* name, int64_t fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      return std::atoll(argv[i] + prefix.size());
    }
  }
  return fallback;
}

// Records `rate` spans per second in 1 ms slices until `stop`.
void producer(int index, int64_t rate, const std::atomic<bool>& stop) {
  huoyan::set_thread_name("producer-" + std::to_string(index));
  const int64_t per_slice = rate / 1000;
  auto next = std::chrono::steady_clock::now();
  while (!stop.load(std::memory_order_relaxed)) {
    for (int64_t i = 0; i < per_slice; ++i) {
      HUOYAN_SCOPE("rss_span");
    }
    next += std::chrono::milliseconds(1);
    const auto now = std::chrono::steady_clock::now();
    if (next > now) {
      std::this_thread::sleep_until(next);
    } else if (now - next > std::chrono::milliseconds(50)) {
      next = now;  // fell far behind (machine busy): do not try to catch up in one burst
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = static_cast<int>(flag(argc, argv, "threads", 2));
  const int64_t rate = flag(argc, argv, "rate", 5000000);
  const int64_t seconds = flag(argc, argv, "seconds", 10);
  huoyan::ProfilerOptions options;
  options.capacity_events = static_cast<size_t>(flag(argc, argv, "capacity", int64_t{4} << 20));
  options.thread_buffer_events = static_cast<size_t>(flag(argc, argv, "buffer", 1 << 16));

  const int64_t baseline = rss_bytes();
  huoyan::Profiler profiler(options);
  if (!profiler.start()) return 2;
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back(producer, t, rate, std::cref(stop));

  std::printf("threads=%d rate=%lld/s/thread capacity=%zu events buffer=%zu slots\n", threads,
              static_cast<long long>(rate), options.capacity_events, options.thread_buffer_events);
  std::printf("%4s %10s %10s %12s %12s %10s %10s %10s\n", "s", "rss_MiB", "store_MiB", "held",
              "recorded", "evicted", "dropped", "buf_MiB");
  int64_t max_rss = 0;
  double bytes_per_event = 0;
  ::huoyan::ProfilerStats s;
  for (int64_t i = 1; i <= seconds; ++i) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    s = profiler.stats();
    const int64_t rss = rss_bytes();
    max_rss = std::max(max_rss, rss);
    if (s.held_events > 0) {
      bytes_per_event = static_cast<double>(s.store_bytes) / static_cast<double>(s.held_events);
    }
    std::printf("%4lld %10.1f %10.1f %12llu %12llu %10llu %10llu %10.1f\n",
                static_cast<long long>(i), rss / 1048576.0, s.store_bytes / 1048576.0,
                static_cast<unsigned long long>(s.held_events),
                static_cast<unsigned long long>(s.recorded_events),
                static_cast<unsigned long long>(s.evicted_events),
                static_cast<unsigned long long>(s.dropped_events), s.buffer_bytes / 1048576.0);
    std::fflush(stdout);
  }
  stop = true;
  for (auto& w : workers) w.join();
  profiler.stop();

  // The store may hold one chunk (1/8 of the capacity) beyond it before evicting.
  const double bound = static_cast<double>(baseline) +
                       1.125 * static_cast<double>(options.capacity_events) * bytes_per_event +
                       static_cast<double>(s.buffer_bytes) + 64.0 * 1048576;
  // Produced can fall short of the target rate when the machine is busy (producers skip
  // slices they are late for); dropped are spans whose thread buffer was full.
  const uint64_t produced = s.recorded_events + s.dropped_events;
  std::printf("target=%lld spans, produced=%llu, recorded=%llu, dropped=%llu (%.2f%%)\n",
              static_cast<long long>(rate * threads * seconds),
              static_cast<unsigned long long>(produced),
              static_cast<unsigned long long>(s.recorded_events),
              static_cast<unsigned long long>(s.dropped_events),
              produced > 0 ? 100.0 * static_cast<double>(s.dropped_events) / produced : 0.0);
  std::printf("store bytes/event=%.1f  max RSS=%.1f MiB  bound=%.1f MiB  -> %s\n", bytes_per_event,
              max_rss / 1048576.0, bound / 1048576.0, max_rss <= bound ? "within" : "EXCEEDED");
  return max_rss <= bound ? 0 : 1;
}
