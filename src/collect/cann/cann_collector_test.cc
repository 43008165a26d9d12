// The CANN collector, loaded the production way (dlopen via HUOYAN_MSPTI_LIBRARY and
// HUOYAN_ASCENDCL_LIBRARY) against the libmspti and libascendcl test doubles.
#include "src/collect/cann/cann_collector.h"

#include <gtest/gtest.h>

#if defined(HUOYAN_DOUBLE_MSPTI) && defined(HUOYAN_DOUBLE_ASCENDCL)

#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/doubles/ascendcl_double.h"
#include "tests/doubles/mspti_double.h"

namespace huoyan {
namespace {

constexpr uint32_t kKernelKind = 2;  // MSPTI_ACTIVITY_KIND_KERNEL
constexpr uint32_t kCustom0 = 2;     // MSPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0

struct Found {
  Event event;
  std::string name;
  std::string cat;
  std::string track;
  int64_t pid = 0;
  int64_t tid = 0;
  std::vector<std::pair<std::string, std::string>> args;
};

std::string render(const ArgValue& v) {
  switch (v.type) {
    case ArgType::kInt:
      return std::to_string(v.i);
    case ArgType::kUint:
      return std::to_string(v.u);
    case ArgType::kString:
    case ArgType::kJson:
      return std::string(v.s);
    default:
      return "?";
  }
}

std::vector<Found> events_of_kind(const TraceStore& store, EventKind kind) {
  std::vector<Found> out;
  const Snapshot snap = store.snapshot();
  snap.for_each([&](const EventView& v) {
    if (v->kind != kind) return;
    Found f;
    f.event = *v;
    f.name = std::string(snap.str(v->name));
    f.cat = std::string(snap.str(v->cat));
    f.track = snap.track_label(v->track);
    f.pid = snap.track(v->track).pid;
    f.tid = snap.track(v->track).tid;
    for (const StoredArg& a : v.args()) {
      f.args.emplace_back(std::string(snap.str(a.key)), render(a.value()));
    }
    out.push_back(std::move(f));
  });
  return out;
}

std::string arg(const Found& f, const std::string& key) {
  for (const auto& [k, v] : f.args) {
    if (k == key) return v;
  }
  return "<missing>";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class CannCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("HUOYAN_MSPTI_LIBRARY", HUOYAN_DOUBLE_MSPTI, 1);
    setenv("HUOYAN_ASCENDCL_LIBRARY", HUOYAN_DOUBLE_ASCENDCL, 1);
    void* m = dlopen(HUOYAN_DOUBLE_MSPTI, RTLD_NOW);
    ASSERT_NE(m, nullptr) << dlerror();
    void* a = dlopen(HUOYAN_DOUBLE_ASCENDCL, RTLD_NOW);
    ASSERT_NE(a, nullptr) << dlerror();
    auto mf = reinterpret_cast<HuoyanMsptiDoubleControlFn>(dlsym(m, "huoyan_mspti_double_control"));
    auto af = reinterpret_cast<HuoyanAclDoubleControlFn>(dlsym(a, "huoyan_acl_double_control"));
    ASSERT_NE(mf, nullptr);
    ASSERT_NE(af, nullptr);
    mspti_ = mf();
    acl_ = af();
    mspti_->reset();
    acl_->reset();
    context_.store = &store_;
    context_.clocks = &clocks_;
  }
  void TearDown() override {
    unsetenv("HUOYAN_MSPTI_LIBRARY");
    unsetenv("HUOYAN_ASCENDCL_LIBRARY");
    if (mspti_ != nullptr) mspti_->reset();
    if (acl_ != nullptr) acl_->reset();
  }

  // A CLOCK_REALTIME time `delta` ns from now (msPTI's time base).
  static uint64_t rt(int64_t delta) { return static_cast<uint64_t>(realtime_ns() + delta); }
  uint64_t launch(const char* name, uint32_t device, uint32_t stream, uint64_t start,
                  uint64_t end) {
    return mspti_->launch_kernel(device, stream, start, end, name, "AI_CORE", start - 900,
                                 start - 100);
  }

  const HuoyanMsptiDoubleControl* mspti_ = nullptr;
  const HuoyanAclDoubleControl* acl_ = nullptr;
  TraceStore store_;
  ClockSync clocks_;
  CollectorContext context_;
};

TEST_F(CannCollectorTest, KernelsArriveOnNpuStreamsWithRealtimeMappedTimes) {
  auto c = make_cann_collector();
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  EXPECT_EQ(c->state().state, "running");
  EXPECT_TRUE(mspti_->subscribed());
  EXPECT_TRUE(mspti_->kind_enabled(kKernelKind));
  const uint64_t start = rt(1000);
  const uint64_t corr = launch("MatMulV2_kernel", 3, 9, start, start + 7000);
  EXPECT_EQ(mspti_->complete(HUOYAN_MSPTI_DEVICE_QUEUE), 1);
  EXPECT_EQ(mspti_->complete(HUOYAN_MSPTI_HOST_QUEUE), 1);
  c->stop();
  EXPECT_FALSE(mspti_->subscribed());

  ClockSync::Domain d;
  ASSERT_TRUE(clocks_.get("mspti", &d));
  const int64_t expected = monotonic_ns() - realtime_ns();
  EXPECT_LE(std::llabs(d.offset_ns - expected), d.uncertainty_ns + 100000);

  auto kernels = events_of_kind(store_, EventKind::kKernel);
  ASSERT_EQ(kernels.size(), 1u);
  const Found& k = kernels[0];
  EXPECT_EQ(k.name, "MatMulV2_kernel");
  EXPECT_EQ(k.track, "NPU 3 / Stream 9");
  EXPECT_EQ(k.event.ts, static_cast<int64_t>(start) + d.offset_ns);
  EXPECT_EQ(k.event.dur, 7000);
  EXPECT_EQ(k.event.id, corr);
  EXPECT_EQ(arg(k, "type"), "AI_CORE");
  EXPECT_EQ(arg(k, "correlation"), std::to_string(corr));
  const Snapshot snap = store_.snapshot();
  EXPECT_EQ(snap.process_of(k.event.track).device_type, DeviceType::kNpu);

  auto apis = events_of_kind(store_, EventKind::kHost);
  ASSERT_EQ(apis.size(), 1u);
  EXPECT_EQ(apis[0].name, "aclnnLaunch");
  EXPECT_EQ(apis[0].cat, "cann_api");
  EXPECT_EQ(apis[0].event.dur, 800);
  EXPECT_EQ(apis[0].pid, getpid());
  EXPECT_EQ(apis[0].tid, gettid());
  EXPECT_EQ(c->state().events, 2u);
}

TEST_F(CannCollectorTest, StepsResolveThroughExternalCorrelationWhenCompletedOutOfOrder) {
  auto c = make_cann_collector();
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  const uint64_t t = rt(0);
  c->on_step_begin(11);
  EXPECT_EQ(mspti_->external_depth(kCustom0), 1u);
  const uint64_t a = launch("a", 0, 2, t + 100, t + 200);
  const uint64_t copy = mspti_->memcpy_async(0, 2, 2 /*HTOD*/, 1 << 20, t + 300, t + 400);
  c->on_step_end(11);
  c->on_step_begin(12);
  const uint64_t b = launch("b", 0, 2, t + 500, t + 600);
  const uint64_t comm =
      mspti_->communication(0, 4, "hcom_allReduce_", "tp0", 4096, t + 700, t + 900);
  c->on_step_end(12);
  EXPECT_EQ(mspti_->external_depth(kCustom0), 0u);

  EXPECT_EQ(mspti_->complete(HUOYAN_MSPTI_DEVICE_QUEUE), 4);
  EXPECT_TRUE(events_of_kind(store_, EventKind::kKernel).empty());  // waiting for their step
  EXPECT_EQ(mspti_->complete(HUOYAN_MSPTI_HOST_QUEUE), 8);          // 4 external + 4 API records

  auto kernels = events_of_kind(store_, EventKind::kKernel);
  ASSERT_EQ(kernels.size(), 2u);
  for (const Found& k : kernels) EXPECT_EQ(k.event.step, k.event.id == a ? 11u : 12u) << k.name;
  EXPECT_EQ(kernels[0].event.id == b || kernels[1].event.id == b, true);
  auto copies = events_of_kind(store_, EventKind::kMemcpy);
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0].event.id, copy);
  EXPECT_EQ(copies[0].event.step, 11u);
  EXPECT_EQ(copies[0].name, "Memcpy HtoD");
  EXPECT_EQ(arg(copies[0], "bytes"), std::to_string(1 << 20));
  std::vector<Found> comms;
  for (auto& s : events_of_kind(store_, EventKind::kCollective)) {
    if (s.cat == "communication") comms.push_back(s);
  }
  ASSERT_EQ(comms.size(), 1u);
  EXPECT_EQ(comms[0].event.id, comm);
  EXPECT_EQ(comms[0].event.step, 12u);
  EXPECT_EQ(comms[0].track, "NPU 0 / Stream 4");
  EXPECT_EQ(arg(comms[0], "communicator"), "tp0");
  c->stop();
  EXPECT_EQ(store_.skips().get("mspti: step unresolved (no launch record)"), 0u);
}

TEST_F(CannCollectorTest, MarkersBecomeRangesAndInstants) {
  auto c = make_cann_collector();
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  const uint64_t t = rt(0);
  const uint32_t pid = static_cast<uint32_t>(getpid()), tid = static_cast<uint32_t>(gettid());
  mspti_->marker(2 /*START*/, 0, 1, t + 100, "prefill", pid, tid);
  mspti_->marker(16 /*START_WITH_DEVICE*/, 1, 1, t + 150, "prefill", 0, 3);
  mspti_->marker(1 /*INSTANTANEOUS*/, 0, 2, t + 200, "token", pid, tid);
  mspti_->marker(32 /*END_WITH_DEVICE*/, 1, 1, t + 250, nullptr, 0, 3);
  mspti_->marker(4 /*END*/, 0, 1, t + 300, nullptr, pid, tid);
  mspti_->marker(4 /*END*/, 0, 9, t + 310, nullptr, pid, tid);  // no start
  mspti_->marker(2 /*START*/, 0, 7, t + 320, "never_ends", pid, tid);
  c->stop();

  ClockSync::Domain d;
  ASSERT_TRUE(clocks_.get("mspti", &d));
  std::vector<Found> ranges;
  // A range marked on a device stream is a device annotation range, one on a thread host.
  for (EventKind k : {EventKind::kHost, EventKind::kDeviceRange}) {
    for (auto& s : events_of_kind(store_, k)) {
      if (s.cat == "mstx") ranges.push_back(s);
    }
  }
  ASSERT_EQ(ranges.size(), 2u);
  for (const Found& r : ranges) {
    EXPECT_EQ(r.name, "prefill");
    if (r.track == "NPU 0 / Stream 3") {
      EXPECT_EQ(r.event.ts, static_cast<int64_t>(t + 150) + d.offset_ns);
      EXPECT_EQ(r.event.dur, 100);
    } else {
      EXPECT_EQ(r.pid, pid);
      EXPECT_EQ(r.tid, tid);
      EXPECT_EQ(r.event.dur, 200);
    }
  }
  auto instants = events_of_kind(store_, EventKind::kInstant);
  ASSERT_EQ(instants.size(), 1u);
  EXPECT_EQ(instants[0].name, "token");
  EXPECT_EQ(store_.skips().get("mspti: marker end without start"), 1u);
  EXPECT_EQ(store_.skips().get("mspti: marker range without end"), 1u);
}

TEST_F(CannCollectorTest, DroppedRecordsAreReported) {
  CannOptions options;
  options.buffer_bytes = 1024;  // 18 kernel records
  options.max_buffers = 2;
  auto c = make_cann_collector(options);
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  const uint64_t t = rt(0);
  for (int i = 0; i < 40; ++i) launch("k", 0, 1, t + 10 * i, t + 10 * i + 5);
  const size_t refused = mspti_->records_dropped();
  EXPECT_GT(refused, 0u);
  mspti_->add_dropped(3);
  c->stop();
  EXPECT_EQ(c->state().dropped, refused + 3);
  EXPECT_EQ(events_of_kind(store_, EventKind::kKernel).size(), 18u);
  EXPECT_EQ(mspti_->buffers_outstanding(), 0u);
}

TEST_F(CannCollectorTest, UnknownKindsAndEmptyBuffersAreCountedNotFatal) {
  auto c = make_cann_collector();
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  mspti_->complete_empty();
  mspti_->emit_raw(HUOYAN_MSPTI_HOST_QUEUE, 13 /*OVERHEAD*/, 56);
  mspti_->emit_raw(HUOYAN_MSPTI_DEVICE_QUEUE, 0x7000, 32);
  const uint64_t t = rt(0);
  launch("after", 1, 1, t + 10, t + 20);
  c->stop();
  EXPECT_EQ(store_.skips().get("mspti: unknown record kind"), 2u);
  EXPECT_EQ(events_of_kind(store_, EventKind::kKernel).size(), 1u);
  EXPECT_EQ(mspti_->buffers_outstanding(), 0u);
}

TEST_F(CannCollectorTest, MissingLibrariesAreAClearErrorAndHarmless) {
  setenv("HUOYAN_MSPTI_LIBRARY", "/nonexistent/libmspti.so", 1);
  setenv("HUOYAN_ASCENDCL_LIBRARY", "/nonexistent/libascendcl.so", 1);
  auto c = make_cann_collector();
  const Status st = c->start(context_);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(contains(st.message(), "libmspti.so not found")) << st.message();
  EXPECT_TRUE(contains(st.message(), "HUOYAN_MSPTI_LIBRARY")) << st.message();
  EXPECT_TRUE(contains(st.message(), "libascendcl.so not found")) << st.message();
  EXPECT_TRUE(contains(st.message(), "HUOYAN_ASCENDCL_LIBRARY")) << st.message();
  EXPECT_EQ(c->state().state, "unavailable");
  c->on_step_begin(1);
  c->on_step_end(1);
  c->flush();
  c->stop();
  EXPECT_FALSE(c->subscribe_model(1).ok());
  EXPECT_EQ(store_.snapshot().size(), 0u);
}

TEST_F(CannCollectorTest, MsptiNeedingPreloadFallsBackToModelSubscription) {
  mspti_->set_enable_result(kKernelKind, 6 /*MSPTI_ERROR_WITHOUT_LD_PRELOAD*/);
  auto c = make_cann_collector();
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  EXPECT_TRUE(contains(c->state().message, "model subscription only")) << c->state().message;
  EXPECT_TRUE(contains(c->state().message, "LD_PRELOAD=" HUOYAN_DOUBLE_MSPTI))
      << c->state().message;
  EXPECT_FALSE(mspti_->subscribed());  // released after the failure
  c->on_step_begin(3);                 // no msPTI: nothing to push
  EXPECT_EQ(mspti_->external_depth(kCustom0), 0u);
  c->on_step_end(3);
  c->stop();

  setenv("HUOYAN_ASCENDCL_LIBRARY", "/nonexistent/libascendcl.so", 1);
  auto d = make_cann_collector();
  const Status st = d->start(context_);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(contains(st.message(), "LD_PRELOAD")) << st.message();
}

TEST_F(CannCollectorTest, SubscribedModelOpsArriveOnTheModelTrack) {
  auto c = make_cann_collector();
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  ASSERT_TRUE(c->subscribe_model(5, 1).ok());
  EXPECT_TRUE(acl_->subscribed(5));
  EXPECT_FALSE(c->subscribe_model(5, 1).ok());  // once per model
  const uint64_t t = acl_->device_now();
  ASSERT_EQ(acl_->emit_op(5, "layer0/MatMul", "MatMulV2", t - 3000, t - 2000, 1, 0), 0);
  ASSERT_EQ(acl_->emit_op(5, "layer0/Add", "Add", t - 1500, t - 1000, 1, /*split=*/1), 0);
  c->stop();  // unsubscribes; the library closes the pipe; the reader drains it
  EXPECT_FALSE(acl_->subscribed(5));
  EXPECT_EQ(acl_->strings_outstanding(), 0u);  // each name/type fetched exactly once

  auto ops = events_of_kind(store_, EventKind::kKernel);
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].name, "layer0/MatMul");
  EXPECT_EQ(arg(ops[0], "op type"), "MatMulV2");
  EXPECT_EQ(arg(ops[0], "model id"), "5");
  EXPECT_EQ(ops[0].event.dur, 1000);
  EXPECT_EQ(ops[1].name, "layer0/Add");
  EXPECT_EQ(ops[1].event.dur, 500);
  EXPECT_EQ(ops[1].event.ts - ops[0].event.ts, 1500);
  EXPECT_EQ(ops[0].track, "NPU 1 / Model 5 ops (subscription)");
  EXPECT_EQ(ops[0].event.step, 0u);

  // Estimated offset: device counter = monotonic + 5 s here, so about -5 s plus delivery delay.
  ClockSync::Domain d;
  ASSERT_TRUE(clocks_.get("acl_subscribe", &d));
  const int64_t late = d.offset_ns - (-5'000'000'000);
  EXPECT_GE(late, 0);
  EXPECT_LT(late, 1'000'000'000);
  bool method = false;
  for (const auto& [k, v] : store_.metadata()) {
    method = method || (k == "clock.acl_subscribe.method" && v == "estimated-from-delivery");
  }
  EXPECT_TRUE(method);
  EXPECT_EQ(store_.skips().get("acl subscribe: partial op record at end of stream"), 0u);
}

TEST_F(CannCollectorTest, SubscriptionErrorsAreReported) {
  auto c = make_cann_collector();
  EXPECT_FALSE(c->subscribe_model(1).ok());  // not running
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  acl_->set_subscribe_error(500002);
  const Status st = c->subscribe_model(1);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(contains(st.message(), "aclError 500002")) << st.message();
  EXPECT_FALSE(c->unsubscribe_model(1).ok());
  c->stop();
}

TEST_F(CannCollectorTest, LibraryThatKeepsThePipeOpenDoesNotHangStop) {
  CannOptions options;
  options.subscription_grace_ms = 100;
  auto c = make_cann_collector(options);
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  ASSERT_TRUE(c->subscribe_model(8).ok());
  acl_->set_keep_pipe_open(1);
  const uint64_t t = acl_->device_now();
  acl_->emit_op(8, "op", "Op", t - 20, t - 10, 0, 0);
  const auto before = std::chrono::steady_clock::now();
  c->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(2));
  EXPECT_EQ(events_of_kind(store_, EventKind::kKernel).size(), 1u);
  EXPECT_EQ(store_.skips().get("acl subscribe: pipe not closed by the library (fd kept open)"), 1u);
}

TEST_F(CannCollectorTest, OneMsptiCollectorPerProcess) {
  auto a = make_cann_collector();
  ASSERT_TRUE(a->start(context_).ok());
  auto b = make_cann_collector();
  CannOptions no_acl;
  no_acl.ascendcl_library = "/nonexistent/libascendcl.so";
  auto strict = make_cann_collector(no_acl);
  const Status st = strict->start(context_);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(contains(st.message(), "already active")) << st.message();
  a->stop();
  EXPECT_TRUE(b->start(context_).ok());
  b->stop();
}

}  // namespace
}  // namespace huoyan

#else

TEST(CannCollectorTest, NotBuilt) {
  FAIL() << "the test doubles are not built: tests/CMakeLists.txt must call huoyan_devices_tests()";
}

#endif
