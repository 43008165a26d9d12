// Time bases. The store's time base is CLOCK_MONOTONIC in ns. Every collector's clock domain
// (CUPTI timestamps, msPTI CLOCK_REALTIME ns, device counters, the TSC) is mapped onto it here
// and nowhere else; the measured offsets are recorded in the trace metadata
// ("clock.<domain>.offset_ns") so a reader can see how times were aligned.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace huoyan {

// CLOCK_MONOTONIC / CLOCK_REALTIME in ns.
int64_t monotonic_ns();
int64_t realtime_ns();

// The CPU's cycle counter (x86 TSC). Reading it costs one instruction, far less than
// clock_gettime, which is why host spans are timed with it; converting to ns is left to the
// drain thread (TickMap). Returns 0 where there is no such counter.
inline uint64_t read_cycle_counter() {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return 0;
#endif
}

// True when the cycle counter ticks at a constant rate in every power state and is synchronized
// across cores (cpuid "invariant TSC"), the condition for using it as a clock.
bool cycle_counter_invariant();

// Maps a tick counter (the TSC) onto CLOCK_MONOTONIC ns as a continuous, strictly increasing,
// piecewise-linear function, evaluated in integer arithmetic.
//
// calibrate() measures the rate over a short window; update(), called periodically, measures
// where the counter stands against CLOCK_MONOTONIC again and starts a new segment that begins
// where the previous one ends and whose rate is slewed so that it reaches the measured point
// over one period. So the map never jumps (nested spans stay nested), the error against
// CLOCK_MONOTONIC stays within the measurement uncertainty plus the drift of one period, and
// the rate keeps improving as the baseline since calibrate() grows.
//
// Threading: not synchronized; one owner (the drain thread) calls update() and to_ns().
class TickMap {
 public:
  using ReadTicks = uint64_t (*)();

  // Blocks for `window` (plus a few µs of sampling).
  void calibrate(ReadTicks read, std::chrono::nanoseconds window);
  void update();
  bool calibrated() const { return !segments_.empty(); }

  // Ticks recorded before calibrate() are mapped by extrapolating the first segment.
  int64_t to_ns(uint64_t ticks) const {
    const Segment* s = &segments_.back();
    if (ticks < s->ticks) s = &find(ticks);
    const auto delta = static_cast<Int128>(static_cast<int64_t>(ticks - s->ticks));
    return s->ns + static_cast<int64_t>((delta * s->mult) >> kShift);
  }

  double ns_per_tick() const { return rate_; }
  // store_ns - ticks * ns_per_tick at the latest measurement, and half its bracket.
  int64_t offset_ns() const { return offset_ns_; }
  int64_t uncertainty_ns() const { return uncertainty_ns_; }

 private:
  __extension__ typedef __int128 Int128;
  static constexpr int kShift = 32;
  struct Segment {
    uint64_t ticks;
    int64_t ns;
    int64_t mult;  // ns per tick << kShift
  };
  struct Sample {
    uint64_t ticks;
    int64_t ns;
    int64_t bracket_ns;
  };
  Sample sample() const;
  const Segment& find(uint64_t ticks) const;

  ReadTicks read_ = nullptr;
  Sample first_{};
  double rate_ = 1.0;
  int64_t period_ticks_ = 0;
  int64_t offset_ns_ = 0;
  int64_t uncertainty_ns_ = 0;
  std::deque<Segment> segments_;  // increasing ticks; bounded (old ones dropped)
};

// Per-domain linear mapping onto the store's time base: store_ns = offset + value (ns domains)
// — an offset measured by sampling both clocks back to back, keeping the sample with the
// smallest bracket, so the error is bounded by half that bracket (reported as uncertainty_ns).
// Tick domains (the TSC) are converted by a TickMap and reported here with their rate.
//
// Threading: all methods are thread-safe.
class ClockSync {
 public:
  struct Domain {
    std::string name;
    int64_t offset_ns = 0;
    int64_t uncertainty_ns = 0;
    double ns_per_tick = 1.0;  // 1 for ns domains; the measured rate for tick domains
  };

  // Measures the offset of a clock read by `read_ns` against CLOCK_MONOTONIC.
  Domain calibrate(const std::string& name, const std::function<int64_t()>& read_ns,
                   int samples = 16);
  // Records an offset measured elsewhere (e.g. from a file's sync info).
  void set(const Domain& domain);
  // Records the current state of a tick domain (for reporting; conversion uses the TickMap).
  void set_ticks(const std::string& name, const TickMap& map);
  bool get(const std::string& name, Domain* out) const;
  int64_t to_store(const std::string& name, int64_t value_ns) const;
  std::vector<Domain> domains() const;
  // The store metadata entries: ("clock.<domain>.offset_ns", …), ("clock.<domain>.uncertainty_ns",
  // …) and, for tick domains, ("clock.<domain>.ns_per_tick", …).
  std::vector<std::pair<std::string, std::string>> metadata() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, Domain> domains_;
};

}  // namespace huoyan
