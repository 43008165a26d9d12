#include "src/analysis/attribution.h"

#include <gtest/gtest.h>

#include <random>

namespace huoyan {
namespace {

TEST(AttributionTest, ApportionAddsUpExactly) {
  std::vector<StepMember> m = {{1, 3}, {2, 3}, {3, 3}};
  auto parts = apportion(10, m);
  EXPECT_EQ(parts, (std::vector<int64_t>{4, 3, 3}));  // remainder to the earliest on ties
  m = {{1, 1}, {2, 0}, {3, 2}};
  parts = apportion(7, m);
  EXPECT_EQ(parts[0] + parts[1] + parts[2], 7);
  EXPECT_EQ(parts[1], 0);
  m = {{1, 0}, {2, 0}};  // no tokens declared: equal split
  EXPECT_EQ(apportion(5, m), (std::vector<int64_t>{3, 2}));
  m = {{1, 1'000'000}, {2, 1}};
  parts = apportion(INT64_MAX / 2, m);  // no overflow
  EXPECT_EQ(parts[0] + parts[1], INT64_MAX / 2);
}

TEST(AttributionTest, ApportionPropertyOverRandomBatches) {
  std::mt19937_64 rng(42);
  for (int iter = 0; iter < 20000; ++iter) {
    const size_t n = 1 + rng() % 64;
    std::vector<StepMember> m(n);
    for (size_t i = 0; i < n; ++i) m[i] = {static_cast<StringId>(i + 1), static_cast<uint32_t>(rng() % 4096)};
    const int64_t dur = static_cast<int64_t>(rng() % (uint64_t{1} << 40));
    const auto parts = apportion(dur, m);
    int64_t sum = 0;
    for (int64_t p : parts) {
      ASSERT_GE(p, 0);
      sum += p;
    }
    ASSERT_EQ(sum, dur);
  }
}

TEST(AttributionTest, RequestsSeeOnlyTheirStepsKernels) {
  TraceStore store;
  const StringId a = store.intern("req-a"), b = store.intern("req-b");
  {
    auto w = store.writer();
    const TrackId host = w.track(10, 10);
    const TrackId npu = w.device_track(DeviceType::kNpu, 0, 1);
    w.add_step(Step{1, 0, 100, host, {{a, 3}, {b, 1}}});
    w.add_step(Step{2, 100, 200, host, {{b, 1}}});
    Event k;
    k.kind = EventKind::kKernel;
    k.track = npu;
    k.name = store.intern("Int4Gemm");
    k.ts = 10;
    k.dur = 101;
    k.step = 1;
    w.append(k);
    k.ts = 110;
    k.dur = 50;
    k.step = 2;
    w.append(k);
  }
  const Snapshot snap = store.snapshot();
  auto ea = request_device_events(store, snap, a, AttributionMode::kApportioned);
  ASSERT_EQ(ea.size(), 1u);
  EXPECT_EQ(ea[0].ns, 76);  // 101 * 3/4 = 75.75 → 76 (largest remainder)
  EXPECT_DOUBLE_EQ(ea[0].share, 0.75);
  EXPECT_EQ(ea[0].batch_size, 2u);
  auto eb = request_device_events(store, snap, b, AttributionMode::kApportioned);
  ASSERT_EQ(eb.size(), 2u);
  EXPECT_EQ(eb[0].ns + ea[0].ns, 101);
  EXPECT_EQ(eb[1].ns, 50);
  auto shared = request_device_events(store, snap, b, AttributionMode::kShared);
  EXPECT_EQ(shared[0].ns, 101);
  auto who = event_requests(store, snap, 0, AttributionMode::kApportioned);
  ASSERT_EQ(who.size(), 2u);
  EXPECT_EQ(who[0].ns + who[1].ns, 101);
}

}  // namespace
}  // namespace huoyan
