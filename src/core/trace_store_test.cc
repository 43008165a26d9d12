#include "src/core/trace_store.h"

#include <gtest/gtest.h>

#include <thread>

namespace huoyan {
namespace {

Event kernel(TrackId track, int64_t ts, int64_t dur, uint64_t step = 0) {
  Event e;
  e.kind = EventKind::kKernel;
  e.track = track;
  e.ts = ts;
  e.dur = dur;
  e.step = step;
  return e;
}

TEST(StringTableTest, InternsAndLooksUp) {
  StringTable t;
  EXPECT_EQ(t.intern(""), 0u);
  const StringId a = t.intern("Int4Gemm");
  EXPECT_EQ(t.intern("Int4Gemm"), a);
  EXPECT_NE(t.intern("PagedAttention"), a);
  EXPECT_EQ(t.str(a), "Int4Gemm");
  const std::string big(1 << 20, 'x');
  const StringId b = t.intern(big);
  EXPECT_EQ(t.str(b), big);
  EXPECT_EQ(t.str(a), "Int4Gemm");
  for (int i = 0; i < 20000; ++i) t.intern("name" + std::to_string(i));
  StringId id = 0;
  ASSERT_TRUE(t.find("name19999", &id));
  EXPECT_EQ(t.str(id), "name19999");
}

TEST(TraceStoreTest, AppendsAndIndexes) {
  TraceStore store;
  TrackId npu;
  {
    auto w = store.writer();
    npu = w.device_track(DeviceType::kNpu, 0, 3);
    const StringId name = store.intern("Int4Gemm");
    Event e = kernel(npu, 100, 50, 7);
    e.name = name;
    const Arg args[] = {{store.intern("group_size"), ArgValue::Int(32)},
                        {store.intern("note"), ArgValue::String("hello")}};
    w.append(e, args);
    w.append(kernel(npu, 200, 10, 8));
    w.add_step(Step{7, 90, 160, 0, {{store.intern("req-1"), 3}, {store.intern("req-2"), 1}}});
  }
  Snapshot snap = store.snapshot();
  ASSERT_EQ(snap.size(), 2u);
  EventView v = snap.at(0);
  EXPECT_EQ(snap.str(v->name), "Int4Gemm");
  ASSERT_EQ(v.args().size(), 2u);
  EXPECT_EQ(v.args()[0].value().i, 32);
  EXPECT_EQ(v.args()[1].value().s, "hello");
  EXPECT_EQ(snap.device_label(npu), "NPU 0");
  EXPECT_EQ(snap.track_label(npu), "NPU 0 / Stream 3");
  EXPECT_TRUE(snap.is_device_event(*v));
  EXPECT_EQ(store.events_of_step(7), std::vector<EventSeq>{0});
  EXPECT_EQ(store.events_of_track(npu).size(), 2u);
  auto req = store.request(store.intern("req-2"));
  ASSERT_TRUE(req.has_value());
  EXPECT_EQ(req->steps, std::vector<uint64_t>{7});
  EXPECT_EQ(store.step(7)->total_tokens(), 4u);
}

TEST(TraceStoreTest, EvictsOldestAndCountsDropsExactly) {
  TraceStore store(StoreOptions{.capacity_events = 800});
  TrackId t;
  {
    auto w = store.writer();
    t = w.device_track(DeviceType::kGpu, 0, 1);
    for (int i = 0; i < 10000; ++i) w.append(kernel(t, i, 1, 1 + i / 100));
  }
  EXPECT_LE(store.held(), 800u);
  EXPECT_GE(store.held(), 700u);  // eviction is by chunk of capacity/8
  EXPECT_EQ(store.held() + store.dropped(), 10000u);
  Snapshot snap = store.snapshot();
  EXPECT_EQ(snap.size(), store.held());
  EXPECT_EQ(snap.at(snap.begin_seq())->ts, static_cast<int64_t>(snap.begin_seq()));
  // Indexes no longer mention evicted events.
  const auto seqs = store.events_of_track(t);
  ASSERT_FALSE(seqs.empty());
  EXPECT_EQ(seqs.front(), snap.begin_seq());
  EXPECT_TRUE(store.events_of_step(1).empty());
  EXPECT_FALSE(store.events_of_step(100).empty());
}

TEST(TraceStoreTest, SnapshotSurvivesEvictionAndConcurrentAppends) {
  TraceStore store(StoreOptions{.capacity_events = 1 << 12});
  TrackId t;
  {
    auto w = store.writer();
    t = w.device_track(DeviceType::kGpu, 0, 1);
    for (int i = 0; i < 1000; ++i) w.append(kernel(t, i, 1));
  }
  Snapshot first = store.snapshot();
  std::thread writer([&] {
    for (int b = 0; b < 100; ++b) {
      auto w = store.writer();
      for (int i = 0; i < 1000; ++i) w.append(kernel(t, 1000 + b * 1000 + i, 1));
    }
  });
  for (int r = 0; r < 50; ++r) {
    Snapshot s = store.snapshot();
    int64_t prev = -1;
    s.for_each([&](const EventView& ev) {
      EXPECT_EQ(ev->ts, static_cast<int64_t>(ev.seq));
      EXPECT_GT(ev->ts, prev);
      prev = ev->ts;
    });
  }
  writer.join();
  // The first snapshot still reads its events although the store evicted them.
  int64_t n = 0;
  first.for_each([&](const EventView& ev) { EXPECT_EQ(ev->ts, n++); });
  EXPECT_EQ(n, 1000);
  EXPECT_GT(store.dropped(), 0u);
}

TEST(TraceStoreTest, ManyArgsAreTruncatedAndCounted) {
  TraceStore store;
  std::vector<Arg> args(5000, Arg{store.intern("k"), ArgValue::Int(1)});
  {
    auto w = store.writer();
    Event e;
    e.track = w.track(1, 1);
    w.append(e, args);
  }
  Snapshot s = store.snapshot();
  EXPECT_EQ(s.at(0).args().size(), Chunk::kArgBlock);
  EXPECT_EQ(store.skips().get("args beyond 4096 per event dropped"), 1u);
}

}  // namespace
}  // namespace huoyan
