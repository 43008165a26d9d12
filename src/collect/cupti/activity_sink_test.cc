#include "src/collect/cupti/activity_sink.h"

#include <gtest/gtest.h>

#include <string>

// The sink is compiled into huoyan once src/collect/cupti is wired in (see HuoyanDevices.cmake).
#if defined(HUOYAN_DEVICE_COLLECTORS)

namespace huoyan {
namespace {

ActivityRecord device_record(TraceStore& store, uint64_t correlation, int64_t ts) {
  ActivityRecord r;
  r.event.kind = EventKind::kKernel;
  r.event.ts = ts;
  r.event.dur = 10;
  r.event.name = store.intern("k");
  r.track = TrackRef::Device(DeviceType::kGpu, 0, 1);
  r.correlation = correlation;
  return r;
}

ActivityRecord launch_record(TraceStore& store, uint64_t correlation) {
  ActivityRecord r;
  r.event.kind = EventKind::kSpan;
  r.event.name = store.intern("launch");
  r.track = TrackRef::Thread(1, 2);
  r.correlation = correlation;
  r.launch = true;
  return r;
}

std::vector<Event> kernels(const TraceStore& store) {
  std::vector<Event> out;
  store.snapshot().for_each([&](const EventView& v) {
    if (v->kind == EventKind::kKernel) out.push_back(*v);
  });
  return out;
}

TEST(ActivitySinkTest, ParksDeviceRecordsUntilTheirStepIsKnown) {
  TraceStore store;
  ActivitySink sink(&store, {});
  sink.add(device_record(store, 5, 100));
  sink.commit();
  EXPECT_EQ(sink.pending(), 1u);
  EXPECT_TRUE(kernels(store).empty());
  sink.link(5, 77);
  sink.add(launch_record(store, 5));
  sink.commit();
  EXPECT_EQ(sink.pending(), 0u);
  auto k = kernels(store);
  ASSERT_EQ(k.size(), 1u);
  EXPECT_EQ(k[0].step, 77u);
  EXPECT_EQ(sink.events(), 2u);
}

TEST(ActivitySinkTest, LaunchWithoutExternalRecordMeansNoStep) {
  TraceStore store;
  ActivitySink sink(&store, {});
  sink.add(launch_record(store, 9));
  sink.add(device_record(store, 9, 100));  // resolved at once: no step
  sink.commit();
  auto k = kernels(store);
  ASSERT_EQ(k.size(), 1u);
  EXPECT_EQ(k[0].step, 0u);
  EXPECT_EQ(sink.pending(), 0u);
}

TEST(ActivitySinkTest, PendingListIsBounded) {
  TraceStore store;
  ActivitySinkOptions options;
  options.backend = "test";
  options.max_pending = 2;
  ActivitySink sink(&store, options);
  for (uint64_t c = 1; c <= 5; ++c) sink.add(device_record(store, c, static_cast<int64_t>(c)));
  sink.commit();
  EXPECT_EQ(sink.pending(), 2u);
  EXPECT_EQ(kernels(store).size(), 3u);  // the oldest, stored with step 0
  EXPECT_EQ(store.skips().get("test: step unresolved (pending list full)"), 3u);
  sink.finish();
  EXPECT_EQ(kernels(store).size(), 5u);
  EXPECT_EQ(store.skips().get("test: step unresolved (no launch record)"), 2u);
}

TEST(ActivitySinkTest, CorrelationMapForgetsOldest) {
  TraceStore store;
  ActivitySinkOptions options;
  options.max_correlations = 2;
  ActivitySink sink(&store, options);
  sink.link(1, 10);
  sink.link(2, 20);
  sink.link(3, 30);  // forgets 1
  sink.add(device_record(store, 3, 0));
  sink.add(device_record(store, 1, 0));
  sink.commit();
  EXPECT_EQ(sink.pending(), 1u);
  ASSERT_EQ(kernels(store).size(), 1u);
  EXPECT_EQ(kernels(store)[0].step, 30u);
}

TEST(ActivityRecordTest, TextArgsAreCopiedAndBounded) {
  TraceStore store;
  ActivityRecord r;
  r.add_dim3(store.intern("grid"), 1, 2, 3);
  r.add_json(store.intern("big"), std::string(200, 'x'));  // too long: stored as a string
  std::array<Arg, ActivityRecord::kMaxArgs> args;
  ActivityRecord copy = r;  // views must point into the copy, not the original
  ASSERT_EQ(copy.args(&args), 2u);
  EXPECT_EQ(args[0].value.type, ArgType::kJson);
  EXPECT_EQ(args[0].value.s, "[1,2,3]");
  EXPECT_EQ(args[1].value.type, ArgType::kString);
  EXPECT_EQ(args[1].value.s.size(), ActivityRecord::kTextBytes - 7);
  EXPECT_GE(args[1].value.s.data(), reinterpret_cast<const char*>(&copy));
  EXPECT_LT(args[1].value.s.data(), reinterpret_cast<const char*>(&copy + 1));
  for (size_t i = 0; i < 20; ++i) r.add_uint(store.intern("n"), i);
  EXPECT_EQ(r.arg_count(), ActivityRecord::kMaxArgs);
}

TEST(ActivityBufferPoolTest, BoundedAndReused) {
  ActivityBufferPool pool;
  pool.configure(1000, 2);
  size_t a_size = 0, b_size = 0, c_size = 0;
  uint8_t* a = pool.acquire(&a_size);
  uint8_t* b = pool.acquire(&b_size);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a_size, 1024u);  // at least 1 KiB, 8-aligned
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % ActivityBufferPool::kAlignment, 0u);
  EXPECT_EQ(pool.acquire(&c_size), nullptr);
  EXPECT_EQ(c_size, 0u);
  bool over = false;
  uint8_t* c = pool.acquire(&c_size, /*allow_over_limit=*/true, &over);
  EXPECT_NE(c, nullptr);
  EXPECT_TRUE(over);
  pool.release(c, c_size);
  pool.release(a, a_size);
  EXPECT_EQ(pool.outstanding(), 1u);
  uint8_t* again = pool.acquire(&a_size);
  EXPECT_TRUE(again == a || again == c);  // reused, not reallocated
  pool.release(again, a_size);
  pool.release(b, b_size);
  EXPECT_EQ(pool.outstanding(), 0u);
}

}  // namespace
}  // namespace huoyan

#else

TEST(ActivitySinkTest, NotBuilt) {
  FAIL() << "device collectors not wired in: tests/CMakeLists.txt must call huoyan_devices_tests()";
}

#endif
