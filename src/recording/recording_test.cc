// The recording path: macros and functions → thread buffers → drain thread → store.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <thread>

#include "huoyan/fake_device.h"
#include "huoyan/huoyan.h"
#include "src/recording/fake_collector.h"
#include "src/recording/host_collector.h"
#include "src/recording/recording_test_util.h"

namespace huoyan {
namespace {

using testing_util::events_named;
using testing_util::events_where;
using testing_util::test_options;

}  // namespace

// Defined in compiled_out_test.cc, a translation unit built with HUOYAN_DISABLE.
void compiled_out_workload();

namespace {

TEST(Recording, ScopesBecomeSpansOnTheThreadRow) {
  Profiler profiler(test_options());
  ASSERT_TRUE(profiler.start());
  set_thread_name("scope-thread");
  {
    HUOYAN_SCOPE("outer");
    { HUOYAN_SCOPE_ATTRS("inner", {"m", 4096}, {"ratio", 0.5}, {"dtype", std::string("int4")}); }
    HUOYAN_INSTANT("tick");
    HUOYAN_COUNTER("queue_length", 7);
  }
  const auto outer = events_named(profiler, "outer");
  const auto inner = events_named(profiler, "inner");
  ASSERT_EQ(outer.size(), 1u);
  ASSERT_EQ(inner.size(), 1u);
  EXPECT_EQ(outer[0].kind, EventKind::kHost);
  EXPECT_EQ(outer[0].track, inner[0].track);
  EXPECT_LE(outer[0].ts, inner[0].ts);
  EXPECT_GE(outer[0].end(), inner[0].end());
  EXPECT_EQ(inner[0].args_count, 3u);

  TraceStore& store = ProfilerAccess::store(profiler);
  const Snapshot snap = store.snapshot();
  const Track& track = snap.track(outer[0].track);
  EXPECT_EQ(track.pid, getpid());
  EXPECT_EQ(track.tid, gettid());
  EXPECT_EQ(snap.str(track.name), "scope-thread");

  // Attributes keep their types.
  snap.for_each([&](const EventView& ev) {
    if (snap.str(ev->name) != "inner") return;
    auto args = ev.args();
    ASSERT_EQ(args.size(), 3u);
    EXPECT_EQ(snap.str(args[0].key), "m");
    EXPECT_EQ(args[0].value().i, 4096);
    EXPECT_EQ(args[1].value().d, 0.5);
    EXPECT_EQ(args[2].value().s, "int4");
  });
  const auto counter = events_named(profiler, "queue_length");
  ASSERT_EQ(counter.size(), 1u);
  EXPECT_EQ(counter[0].kind, EventKind::kCounter);
  EXPECT_EQ(events_named(profiler, "tick").at(0).kind, EventKind::kInstant);
}

TEST(Recording, BeginEndSpansWithRunTimeNamesNestWithScopes) {
  Profiler profiler(test_options());
  const SpanName never_opened("never opened");
  ASSERT_TRUE(profiler.start());
  // Names built at run time, interned once each.
  std::vector<SpanName> layers;
  for (int i = 0; i < 3; ++i) layers.emplace_back("layer." + std::to_string(i));
  const SpanName attention("attention");
  uint64_t step_id = 0;
  {
    StepScope step({{"req-a", 4}});
    step_id = step.id();
    HUOYAN_SCOPE("forward");
    for (const SpanName& layer : layers) {
      begin_span(layer);
      begin_span(attention);
      { HUOYAN_SCOPE("kernel-launch"); }
      end_span();
      end_span();
    }
  }
  end_span();  // unmatched: ignored
  // Deeper than 32 open spans: the outer 32 are recorded, every end_span() still pairs up.
  const SpanName deep("deep");
  for (int i = 0; i < 40; ++i) begin_span(deep);
  for (int i = 0; i < 40; ++i) end_span();
  { HUOYAN_SCOPE("after"); }

  const auto forward = events_named(profiler, "forward");
  ASSERT_EQ(forward.size(), 1u);
  for (int i = 0; i < 3; ++i) {
    const auto layer = events_named(profiler, "layer." + std::to_string(i));
    ASSERT_EQ(layer.size(), 1u) << i;
    EXPECT_EQ(layer[0].kind, EventKind::kHost);
    EXPECT_EQ(layer[0].track, forward[0].track);
    EXPECT_EQ(layer[0].step, step_id);
    EXPECT_GE(layer[0].ts, forward[0].ts);
    EXPECT_LE(layer[0].end(), forward[0].end());
  }
  auto att = events_named(profiler, "attention");
  auto launch = events_named(profiler, "kernel-launch");
  const auto by_ts = [](const Event& a, const Event& b) { return a.ts < b.ts; };
  std::sort(att.begin(), att.end(), by_ts);
  std::sort(launch.begin(), launch.end(), by_ts);
  ASSERT_EQ(att.size(), 3u);
  ASSERT_EQ(launch.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_LE(att[i].ts, launch[i].ts);
    EXPECT_GE(att[i].end(), launch[i].end());
  }
  EXPECT_EQ(events_named(profiler, "deep").size(), 32u);
  EXPECT_EQ(events_named(profiler, "after").size(), 1u);
  EXPECT_TRUE(events_named(profiler, "never opened").empty());
}

TEST(Recording, StepsTagSpansKernelsAndRequests) {
  Profiler profiler(test_options({"host", "fake"}));
  ASSERT_TRUE(profiler.start());
  FakeDevice device(profiler);
  ASSERT_TRUE(device.valid());
  uint64_t id = 0;
  {
    StepScope step({{"req-a", 12}, {"req-b", 1}});
    id = step.id();
    ASSERT_NE(id, 0u);
    EXPECT_EQ(current_step(), id);
    HUOYAN_SCOPE("forward");
    ASSERT_TRUE(device.launch(1, "attention", 5000));
    const int64_t t = now_ns();
    record_kernel({.name = "Int4Gemm",
                   .device_type = DeviceKind::kCpu,
                   .stream = 3,
                   .start_ns = t,
                   .end_ns = t + 1000,
                   .attrs = {{"group_size", 32}}});
  }
  EXPECT_EQ(current_step(), 0u);
  device.synchronize();

  for (const char* name : {"forward", "attention", "Int4Gemm", "step"}) {
    const auto events = events_named(profiler, name);
    ASSERT_EQ(events.size(), 1u) << name;
    EXPECT_EQ(events[0].step, id) << name;
  }
  EXPECT_EQ(events_named(profiler, "attention")[0].dur, 5000);
  EXPECT_EQ(events_named(profiler, "Int4Gemm")[0].kind, EventKind::kKernel);

  TraceStore& store = ProfilerAccess::store(profiler);
  auto step = store.step(id);
  ASSERT_TRUE(step.has_value());
  ASSERT_EQ(step->members.size(), 2u);
  EXPECT_EQ(store.str(step->members[0].request), "req-a");
  EXPECT_EQ(step->members[0].tokens, 12u);
  StringId b = 0;
  ASSERT_TRUE(store.strings()->find("req-b", &b));
  ASSERT_TRUE(store.request(b).has_value());
  EXPECT_EQ(store.request(b)->steps, std::vector<uint64_t>{id});

  // Collectors heard about the step.
  auto* fake = ProfilerAccess::fake(profiler);
  EXPECT_EQ(fake->steps_begun(), 1u);
  EXPECT_EQ(fake->steps_ended(), 1u);

  const Snapshot snap = store.snapshot();
  const Event kernel = events_named(profiler, "Int4Gemm")[0];
  EXPECT_EQ(snap.device_label(kernel.track), "CPU 0");
  EXPECT_EQ(snap.track_label(kernel.track), "CPU 0 / Stream 3");
}

TEST(Recording, LongStepMemberListsSpanSeveralRecords) {
  ProfilerOptions o = test_options();
  o.thread_buffer_events = 1024;  // records of at most 128 slots (4 KiB): 4 records here
  Profiler profiler(o);
  ASSERT_TRUE(profiler.start());
  std::vector<std::string> ids;
  std::vector<StepEntry> members;
  for (int i = 0; i < 300; ++i)
    ids.push_back("request-with-a-long-identifier-" + std::to_string(i));
  for (int i = 0; i < 300; ++i) members.push_back({ids[i], static_cast<uint32_t>(i)});
  uint64_t id;
  {
    std::thread t([&] {
      StepScope step(members);
      id = step.id();
    });
    t.join();
  }
  ProfilerAccess::flush(profiler);
  auto step = ProfilerAccess::store(profiler).step(id);
  ASSERT_TRUE(step.has_value());
  ASSERT_EQ(step->members.size(), 300u);
  EXPECT_EQ(step->members[299].tokens, 299u);
}

TEST(Recording, RequestMarksAndRequestSpans) {
  Profiler profiler(test_options());
  ASSERT_TRUE(profiler.start());
  const int64_t t0 = now_ns();
  request_arrival("r1", 100);
  record_request_span("r1", "queue_wait", t0, t0 + 500);
  {
    HUOYAN_REQUEST_SCOPE("tokenize", std::string("r1"));  // a temporary id is fine
  }
  request_first_token("r1");
  request_finish("r1", 20);

  TraceStore& store = ProfilerAccess::store(profiler);
  ProfilerAccess::flush(profiler);
  StringId r1 = 0;
  ASSERT_TRUE(store.strings()->find("r1", &r1));
  auto info = store.request(r1);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->tokens_in, 100u);
  EXPECT_EQ(info->tokens_out, 20u);
  EXPECT_GE(info->arrival, t0);
  EXPECT_GE(info->first_token, info->arrival);
  EXPECT_GE(info->finish, info->first_token);
  EXPECT_EQ(store.events_of_request(r1).size(), 2u);
  const auto queue = events_named(profiler, "queue_wait");
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].dur, 500);
  EXPECT_EQ(queue[0].request, r1);

  const ProfileSnapshot snap = profiler.snapshot();
  const RequestTotals* totals = snap.request("r1");
  ASSERT_NE(totals, nullptr);
  EXPECT_EQ(totals->tokens_in, 100u);
  EXPECT_GE(totals->host_ns, 500);
}

// 8 producers record everything at once (spans with attributes, kernels, steps, request marks)
// while the drain thread runs and readers take snapshots and stats: under ThreadSanitizer this
// exercises every cross-thread path of the recording side.
TEST(Recording, EightProducersConcurrentlyWithReaders) {
  ProfilerOptions o = test_options();
  o.drain_interval = std::chrono::microseconds(50);
  o.thread_buffer_events = size_t{1} << 16;
  Profiler profiler(o);
  ASSERT_TRUE(profiler.start());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 4000;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      const ProfileSnapshot s = profiler.snapshot({.window = std::chrono::milliseconds(5)});
      (void)s.event_count();
      (void)profiler.stats();
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([t] {
      set_thread_name("producer-" + std::to_string(t));
      const std::string request = "req-" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        if (i % 100 == 0) {
          StepScope step({{request, 1}});
          HUOYAN_SCOPE("in_step");
        }
        HUOYAN_SCOPE_ATTRS("work", {"i", i}, {"thread", request});
        if (i % 50 == 0) {
          const int64_t now = now_ns();
          record_kernel({.name = "k", .stream = t, .start_ns = now, .end_ns = now + 10});
        }
        if (i == 0) request_arrival(request, 1);
      }
      request_finish(request, 1);
    });
  }
  for (auto& p : producers) p.join();
  done = true;
  reader.join();
  profiler.stop();

  const ProfilerStats stats = profiler.stats();
  const auto work = events_named(profiler, "work");
  uint64_t dropped = 0;
  for (const auto& t : stats.threads) {
    if (t.name.rfind("producer-", 0) == 0) dropped += t.dropped;
  }
  // The buffers are large enough for the drain to keep up: nothing may be lost.
  const size_t steps = events_named(profiler, "step").size();
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(stats.dropped_events, 0u);
  EXPECT_EQ(work.size(), size_t{kThreads} * kPerThread);
  EXPECT_EQ(steps, size_t{kThreads} * (kPerThread / 100));
  EXPECT_EQ(events_named(profiler, "in_step").size(), steps);
  EXPECT_EQ(events_named(profiler, "k").size(), size_t{kThreads} * (kPerThread / 50));
  for (const Event& e : events_named(profiler, "in_step")) EXPECT_NE(e.step, 0u);
}

TEST(Recording, ThreadExitKeepsBufferedEvents) {
  Profiler profiler(test_options());
  ASSERT_TRUE(profiler.start());
  auto* host = ProfilerAccess::host(profiler);
  host->set_paused(true);
  std::thread t([] {
    set_thread_name("short-lived");
    for (int i = 0; i < 1000; ++i) {
      HUOYAN_SCOPE("before_exit");
    }
  });
  t.join();  // the thread is gone; its events are still in its buffer
  bool still_registered = false;
  for (const auto& s : profiler.stats().threads) {
    if (s.name == "short-lived") still_registered = s.exited && s.recorded == 0;
  }
  EXPECT_TRUE(still_registered);
  host->set_paused(false);
  EXPECT_EQ(events_named(profiler, "before_exit").size(), 1000u);
  // Drained and exited: the buffer is retired.
  for (const auto& b : recording::Registry::get().buffers()) {
    EXPECT_NE(b->name(), "short-lived");
  }
}

TEST(Recording, OverflowDropsAreCountedExactly) {
  ProfilerOptions o = test_options();
  o.thread_buffer_events = 64;
  Profiler profiler(o);
  ASSERT_TRUE(profiler.start());
  ProfilerAccess::host(profiler)->set_paused(true);
  const uint64_t dropped_before = profiler.stats().dropped_events;
  std::thread t([] {
    set_thread_name("overflow");
    for (int i = 0; i < 64 + 1000; ++i) {
      HUOYAN_SCOPE("fill");  // one slot each
    }
  });
  t.join();
  const ProfilerStats stats = profiler.stats();
  EXPECT_EQ(stats.dropped_events - dropped_before, 1000u);
  bool found = false;
  for (const auto& s : stats.threads) {
    if (s.name == "overflow") {
      found = true;
      EXPECT_EQ(s.dropped, 1000u);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(events_named(profiler, "fill").size(), 64u);
  ProfilerAccess::host(profiler)->set_paused(false);
}

TEST(Recording, NothingRecordedWhileNoProfilerRuns) {
  EXPECT_FALSE(detail::recording());
  {
    HUOYAN_SCOPE("off");
    HUOYAN_COUNTER("off_counter", 1);
    StepScope step({{"off-req", 1}});
    EXPECT_EQ(step.id(), 0u);
    request_arrival("off-req", 1);
  }
  Profiler profiler(test_options());
  ASSERT_TRUE(profiler.start());
  profiler.stop();
  { HUOYAN_SCOPE("off_after_stop"); }
  ASSERT_TRUE(profiler.start());
  ProfilerAccess::flush(profiler);
  EXPECT_EQ(ProfilerAccess::store(profiler).held(), 0u);
  EXPECT_EQ(ProfilerAccess::store(profiler).request_count(), 0u);
}

TEST(Recording, CompiledOutMacrosRecordNothing) {
  Profiler profiler(test_options());
  ASSERT_TRUE(profiler.start());
  compiled_out_workload();
  ProfilerAccess::flush(profiler);
  EXPECT_EQ(ProfilerAccess::store(profiler).held(), 0u);
}

TEST(Recording, OneGlobalProfilerReceivesHostEvents) {
  Profiler first(test_options());
  Profiler second(test_options({"host", "fake"}));
  ASSERT_TRUE(first.start());
  ASSERT_TRUE(second.start());
  EXPECT_EQ(Profiler::global(), &first);
  EXPECT_FALSE(Profiler::set_global(&second));  // first is running
  const ProfilerStats s = second.stats();
  EXPECT_FALSE(s.global);
  ASSERT_EQ(s.collectors.size(), 2u);
  EXPECT_EQ(s.collectors[0].state, "standby");
  EXPECT_EQ(s.collectors[1].state, "running");
  { HUOYAN_SCOPE("to_first"); }
  EXPECT_EQ(events_named(first, "to_first").size(), 1u);
  EXPECT_EQ(events_named(second, "to_first").size(), 0u);
  first.stop();
  second.stop();
  EXPECT_TRUE(Profiler::set_global(&second));
  ASSERT_TRUE(second.start());
  { HUOYAN_SCOPE("to_second"); }
  EXPECT_EQ(events_named(second, "to_second").size(), 1u);
  second.stop();
  Profiler::set_global(nullptr);
}

TEST(Recording, UnknownCollectorFailsStart) {
  Profiler profiler(test_options({"host", "warp-drive"}));
  std::string error;
  EXPECT_FALSE(profiler.start(&error));
  EXPECT_NE(error.find("warp-drive"), std::string::npos);
  EXPECT_FALSE(profiler.running());
}

TEST(Recording, StatsReportClocksAndCollectors) {
  Profiler profiler(test_options({"host", "fake"}));
  ASSERT_TRUE(profiler.start());
  { HUOYAN_SCOPE("x"); }
  const ProfilerStats s = profiler.stats();
  EXPECT_TRUE(s.running);
  EXPECT_TRUE(s.global);
  bool fake_clock = false;
  for (const auto& c : s.clocks) {
    if (c.domain == "fake") {
      fake_clock = true;
      // The fake device's clock runs 2^40 ns ahead of CLOCK_MONOTONIC.
      EXPECT_NEAR(static_cast<double>(c.offset_ns), -static_cast<double>(int64_t{1} << 40), 1e6);
    }
    if (c.domain == "tsc") {
      EXPECT_GT(c.ns_per_tick, 0.0);
    }
  }
  EXPECT_TRUE(fake_clock);
  EXPECT_EQ(s.clock == "tsc", std::any_of(s.clocks.begin(), s.clocks.end(),
                                          [](const ClockOffset& c) { return c.domain == "tsc"; }));
  // Offsets are in the trace metadata.
  profiler.snapshot();
  bool metadata = false;
  for (const auto& [k, v] : ProfilerAccess::store(profiler).metadata()) {
    if (k == "clock.fake.offset_ns") metadata = true;
  }
  EXPECT_TRUE(metadata);
}

TEST(Recording, MonotonicClockOption) {
  ProfilerOptions o = test_options();
  o.clock = ClockSource::kMonotonic;
  Profiler profiler(o);
  ASSERT_TRUE(profiler.start());
  const int64_t before = now_ns();
  { HUOYAN_SCOPE("mono"); }
  const int64_t after = now_ns();
  EXPECT_EQ(profiler.stats().clock, "monotonic");
  const auto e = events_named(profiler, "mono");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_GE(e[0].ts, before);
  EXPECT_LE(e[0].end(), after);
}

TEST(Recording, TscTimesAgreeWithNowNs) {
  ProfilerOptions o = test_options();
  o.clock = ClockSource::kAuto;
  Profiler profiler(o);
  ASSERT_TRUE(profiler.start());
  const int64_t before = now_ns();
  {
    HUOYAN_SCOPE("timed");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const int64_t after = now_ns();
  const auto e = events_named(profiler, "timed");
  ASSERT_EQ(e.size(), 1u);
  // Within the calibration error (a few µs), whichever clock is in use.
  EXPECT_GE(e[0].ts, before - 20000);
  EXPECT_LE(e[0].end(), after + 20000);
  EXPECT_GE(e[0].dur, 2000000 - 20000);
}

}  // namespace
}  // namespace huoyan
