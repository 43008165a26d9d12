#include "src/collect/clock.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

namespace huoyan {
namespace {

// A counter at 3 ticks per ns whose rate can be changed mid-test (drift).
std::atomic<double> g_rate{3.0};
std::atomic<int64_t> g_base_ns{0};
std::atomic<uint64_t> g_base_ticks{0};
uint64_t fake_ticks() {
  const int64_t now = monotonic_ns();
  return g_base_ticks.load() +
         static_cast<uint64_t>(static_cast<double>(now - g_base_ns.load()) * g_rate.load());
}
void set_rate(double rate) {
  const uint64_t t = fake_ticks();
  g_base_ns = monotonic_ns();
  g_base_ticks = t;
  g_rate = rate;
}

TEST(TickMap, MapsTicksOntoMonotonicTime) {
  set_rate(3.0);
  TickMap map;
  map.calibrate(&fake_ticks, std::chrono::milliseconds(5));
  EXPECT_NEAR(map.ns_per_tick(), 1.0 / 3.0, 1e-4);
  for (int i = 0; i < 5; ++i) {
    const int64_t before = monotonic_ns();
    const int64_t mapped = map.to_ns(fake_ticks());
    const int64_t after = monotonic_ns();
    EXPECT_GE(mapped, before - 20000);
    EXPECT_LE(mapped, after + 20000);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(TickMap, StaysContinuousAndIncreasingAcrossUpdatesAndFollowsDrift) {
  set_rate(3.0);
  TickMap map;
  map.calibrate(&fake_ticks, std::chrono::milliseconds(5));
  set_rate(3.003);  // the counter runs 1000 ppm fast from now on
  std::vector<uint64_t> boundaries;
  int64_t longest_period = 0;
  for (int i = 0; i < 8; ++i) {
    const int64_t start = monotonic_ns();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    boundaries.push_back(fake_ticks());
    map.update();
    longest_period = std::max(longest_period, monotonic_ns() - start);
  }
  for (uint64_t b : boundaries) {
    // Around every update: no jump back, no jump ahead beyond one tick's worth.
    for (uint64_t t = b - 50; t < b + 50; ++t) {
      const int64_t a = map.to_ns(t);
      const int64_t c = map.to_ns(t + 1);
      ASSERT_LE(a, c);
      ASSERT_LE(c - a, 1);
    }
  }
  // Kept on CLOCK_MONOTONIC despite the drift: off by at most about the drift of one period
  // (periods stretch when the machine is busy).
  const int64_t tolerance = 20000 + 2 * longest_period / 1000;
  const int64_t before = monotonic_ns();
  const int64_t mapped = map.to_ns(fake_ticks());
  const int64_t after = monotonic_ns();
  EXPECT_GE(mapped, before - tolerance);
  EXPECT_LE(mapped, after + tolerance);
  // Ticks before calibration extrapolate the first segment; very old ticks still map.
  EXPECT_LT(map.to_ns(0), map.to_ns(boundaries[0]));
}

TEST(TickMap, CycleCounterMatchesMonotonicWhenInvariant) {
  if (!cycle_counter_invariant() || read_cycle_counter() == 0) GTEST_SKIP() << "no invariant TSC";
  TickMap map;
  map.calibrate(&read_cycle_counter, std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  map.update();
  const int64_t before = monotonic_ns();
  const int64_t mapped = map.to_ns(read_cycle_counter());
  const int64_t after = monotonic_ns();
  EXPECT_GE(mapped, before - 20000);
  EXPECT_LE(mapped, after + 20000);
}

TEST(ClockSync, ReportsOffsetsAsMetadata) {
  ClockSync sync;
  const auto d = sync.calibrate("device", [] { return monotonic_ns() + 1000000; });
  EXPECT_NEAR(static_cast<double>(d.offset_ns), -1e6, 1e5);
  EXPECT_NEAR(static_cast<double>(sync.to_store("device", 5000000)), 4e6, 1e5);
  set_rate(3.0);
  TickMap map;
  map.calibrate(&fake_ticks, std::chrono::milliseconds(2));
  sync.set_ticks("tsc", map);
  bool offset = false, rate = false;
  for (const auto& [k, v] : sync.metadata()) {
    if (k == "clock.device.offset_ns") offset = true;
    if (k == "clock.tsc.ns_per_tick") rate = std::abs(std::stod(v) - 1.0 / 3.0) < 1e-3;
  }
  EXPECT_TRUE(offset);
  EXPECT_TRUE(rate);
}

}  // namespace
}  // namespace huoyan
