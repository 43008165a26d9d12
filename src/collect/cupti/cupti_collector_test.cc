// The CUPTI collector, loaded the production way (dlopen via HUOYAN_CUPTI_LIBRARY) against the
// libcupti test double, which fills buffers with the CUDA headers' own record structs.
#include "src/collect/cupti/cupti_collector.h"

#include <gtest/gtest.h>

#if defined(HUOYAN_HAVE_CUPTI) && defined(HUOYAN_DOUBLE_CUPTI)

#include <cupti_activity.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/doubles/cupti_double.h"

namespace huoyan {
namespace {

struct Found {
  Event event;
  std::string name;
  std::string track;
  std::vector<std::pair<std::string, std::string>> args;  // key -> rendered value
  DeviceType device_type = DeviceType::kNone;
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
    f.track = snap.track_label(v->track);
    f.device_type = snap.process_of(v->track).device_type;
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

class CuptiCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("HUOYAN_CUPTI_LIBRARY", HUOYAN_DOUBLE_CUPTI, 1);
    handle_ = dlopen(HUOYAN_DOUBLE_CUPTI, RTLD_NOW);
    ASSERT_NE(handle_, nullptr) << dlerror();
    auto fn =
        reinterpret_cast<HuoyanCuptiDoubleControlFn>(dlsym(handle_, "huoyan_cupti_double_control"));
    ASSERT_NE(fn, nullptr);
    ctl_ = fn();
    ctl_->reset();
    context_.store = &store_;
    context_.clocks = &clocks_;
  }
  void TearDown() override {
    unsetenv("HUOYAN_CUPTI_LIBRARY");
    if (ctl_ != nullptr) ctl_->reset();
  }

  // A time in CUPTI's base, `delta` ns after now.
  uint64_t cupti_time(int64_t delta) const {
    return static_cast<uint64_t>(monotonic_ns() + ctl_->timestamp_offset() + delta);
  }
  uint32_t launch(const char* name, uint32_t device, uint32_t stream, uint64_t start,
                  uint64_t end) {
    HuoyanCuptiDoubleKernel k{};
    k.device = device;
    k.context = 1;
    k.stream = stream;
    k.start = start;
    k.end = end;
    k.name = name;
    k.grid[0] = 4, k.grid[1] = 2, k.grid[2] = 1;
    k.block[0] = 128, k.block[1] = 1, k.block[2] = 1;
    k.registers = 32;
    k.static_shared = 1024;
    k.dynamic_shared = 512;
    return ctl_->launch_kernel(&k, start - 500, start - 100);
  }

  void* handle_ = nullptr;
  const HuoyanCuptiDoubleControl* ctl_ = nullptr;
  TraceStore store_;
  ClockSync clocks_;
  CollectorContext context_;
};

TEST_F(CuptiCollectorTest, KernelsArriveOnTheirDeviceStreamWithClockMappedTimes) {
  auto c = make_cupti_collector();
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  EXPECT_EQ(c->state().state, "running");
  EXPECT_TRUE(ctl_->kind_enabled(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL));
  EXPECT_TRUE(ctl_->kind_enabled(CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION));

  const uint64_t start = cupti_time(1000);
  const uint32_t corr = launch("_Z4gemmPfS_i", 1, 7, start, start + 5000);
  EXPECT_EQ(ctl_->complete(HUOYAN_CUPTI_HOST_QUEUE), 1);
  EXPECT_EQ(ctl_->complete(HUOYAN_CUPTI_DEVICE_QUEUE), 1);
  c->stop();

  ClockSync::Domain d;
  ASSERT_TRUE(clocks_.get("cupti", &d));
  // The double's clock is CLOCK_MONOTONIC + offset: calibration must find -offset.
  EXPECT_LE(std::llabs(d.offset_ns + ctl_->timestamp_offset()), d.uncertainty_ns + 1000);

  auto kernels = events_of_kind(store_, EventKind::kKernel);
  ASSERT_EQ(kernels.size(), 1u);
  const Found& k = kernels[0];
  EXPECT_EQ(k.name, "gemm(float*, float*, int)");
  EXPECT_EQ(k.track, "GPU 1 / Stream 7");
  EXPECT_EQ(k.device_type, DeviceType::kGpu);
  EXPECT_EQ(k.event.ts, static_cast<int64_t>(start) + d.offset_ns);
  EXPECT_EQ(k.event.dur, 5000);
  EXPECT_EQ(k.event.id, corr);
  EXPECT_EQ(k.event.step, 0u);
  EXPECT_EQ(arg(k, "grid"), "[4,2,1]");
  EXPECT_EQ(arg(k, "block"), "[128,1,1]");
  EXPECT_EQ(arg(k, "registers per thread"), "32");
  EXPECT_EQ(arg(k, "shared memory"), "1536");
  EXPECT_EQ(arg(k, "correlation"), std::to_string(corr));

  auto spans = events_of_kind(store_, EventKind::kHost);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].name, "cudaLaunchKernel");
  EXPECT_EQ(spans[0].event.id, corr);
  EXPECT_EQ(spans[0].event.dur, 400);
  const Snapshot snap = store_.snapshot();
  EXPECT_EQ(snap.track(spans[0].event.track).pid, getpid());
  EXPECT_EQ(snap.track(spans[0].event.track).tid, gettid());
  EXPECT_EQ(c->state().events, 2u);
  EXPECT_EQ(c->state().state, "stopped");
}

TEST_F(CuptiCollectorTest, StepsResolveThroughExternalCorrelationWhenCompletedOutOfOrder) {
  auto c = make_cupti_collector();
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  const uint64_t t = cupti_time(0);
  c->on_step_begin(42);
  EXPECT_EQ(ctl_->external_depth(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0), 1u);
  const uint32_t in_step = launch("in_step", 0, 1, t + 1000, t + 2000);
  c->on_step_end(42);
  EXPECT_EQ(ctl_->external_depth(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0), 0u);
  const uint32_t outside = launch("outside", 0, 1, t + 3000, t + 4000);

  // Kernels first: their external-correlation and launch records are in a later buffer.
  EXPECT_EQ(ctl_->complete(HUOYAN_CUPTI_DEVICE_QUEUE), 2);
  EXPECT_TRUE(events_of_kind(store_, EventKind::kKernel).empty());  // parked, not guessed
  EXPECT_EQ(ctl_->complete(HUOYAN_CUPTI_HOST_QUEUE), 3);            // 1 external + 2 API records

  auto kernels = events_of_kind(store_, EventKind::kKernel);  // resolved before stop
  ASSERT_EQ(kernels.size(), 2u);
  for (const Found& k : kernels) {
    if (k.event.id == in_step) {
      EXPECT_EQ(k.event.step, 42u);
    } else {
      EXPECT_EQ(k.event.id, outside);
      EXPECT_EQ(k.event.step, 0u);
    }
  }
  EXPECT_EQ(store_.events_of_step(42).size(), 2u);  // the kernel and its launch call
  c->stop();
  EXPECT_EQ(store_.skips().get("cupti: step unresolved (no launch record)"), 0u);
}

TEST_F(CuptiCollectorTest, StopFlushesEverythingAndReturnsAllBuffers) {
  auto c = make_cupti_collector();
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  const uint64_t t = cupti_time(0);
  c->on_step_begin(7);
  for (int i = 0; i < 5; ++i) launch("k", 0, 3, t + 1000 * i, t + 1000 * i + 500);
  const uint32_t copy =
      ctl_->memcpy_async(0, 3, CUPTI_ACTIVITY_MEMCPY_KIND_HTOD, 4096, t + 9000, t + 9900, t, t + 1);
  const uint32_t set = ctl_->memset_async(0, 3, 0xff, 256, t + 10000, t + 10100, t, t + 1);
  c->on_step_end(7);
  c->stop();  // the flush delivers device buffers before host ones

  EXPECT_EQ(ctl_->buffers_outstanding(), 0u);
  auto kernels = events_of_kind(store_, EventKind::kKernel);
  ASSERT_EQ(kernels.size(), 5u);
  for (const Found& k : kernels) EXPECT_EQ(k.event.step, 7u);
  auto copies = events_of_kind(store_, EventKind::kMemcpy);
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0].name, "Memcpy HtoD");
  EXPECT_EQ(copies[0].event.id, copy);
  EXPECT_EQ(copies[0].event.step, 7u);
  EXPECT_EQ(arg(copies[0], "bytes"), "4096");
  auto sets = events_of_kind(store_, EventKind::kMemset);
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].event.id, set);
  EXPECT_EQ(arg(sets[0], "value"), "255");
  EXPECT_EQ(sets[0].track, "GPU 0 / Stream 3");
  EXPECT_EQ(c->state().events, 14u);  // 7 device records + 7 API calls
}

TEST_F(CuptiCollectorTest, DroppedRecordsAreReported) {
  CuptiOptions options;
  options.buffer_bytes = 1024;  // 4 kernel records per buffer
  options.max_buffers = 2;      // one per queue: everything beyond is refused
  auto c = make_cupti_collector(options);
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  const uint64_t t = cupti_time(0);
  for (int i = 0; i < 12; ++i) launch("k", 0, 1, t + 100 * i, t + 100 * i + 50);
  const size_t refused = ctl_->records_dropped();
  EXPECT_GT(refused, 0u);
  ctl_->add_dropped(5);  // e.g. device-side buffer overflow
  c->stop();
  EXPECT_EQ(c->state().dropped, refused + 5);
  EXPECT_EQ(events_of_kind(store_, EventKind::kKernel).size(), 4u);
  EXPECT_EQ(ctl_->buffers_outstanding(), 0u);
}

TEST_F(CuptiCollectorTest, UnknownKindsAndEmptyBuffersAreCountedNotFatal) {
  auto c = make_cupti_collector();
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  ctl_->complete_empty();
  ctl_->emit_raw(HUOYAN_CUPTI_DEVICE_QUEUE, CUPTI_ACTIVITY_KIND_OVERHEAD, 40);
  ctl_->emit_raw(HUOYAN_CUPTI_HOST_QUEUE, 0x7000, 24);  // a kind newer than these headers
  const uint64_t t = cupti_time(0);
  launch("after_unknown", 2, 5, t + 10, t + 20);
  c->stop();
  EXPECT_EQ(store_.skips().get("cupti: unknown record kind"), 2u);
  EXPECT_EQ(events_of_kind(store_, EventKind::kKernel).size(), 1u);
  EXPECT_EQ(ctl_->buffers_outstanding(), 0u);
}

TEST_F(CuptiCollectorTest, KernelWithoutLaunchRecordIsKeptAndCountedAtStop) {
  CuptiOptions options;
  options.runtime_api = false;  // no API records: nothing can say "no step"
  options.driver_api = false;
  auto c = make_cupti_collector(options);
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  const uint64_t t = cupti_time(0);
  launch("orphan", 0, 2, t + 10, t + 20);
  ctl_->complete(HUOYAN_CUPTI_DEVICE_QUEUE);
  EXPECT_TRUE(events_of_kind(store_, EventKind::kKernel).empty());
  c->stop();
  auto kernels = events_of_kind(store_, EventKind::kKernel);
  ASSERT_EQ(kernels.size(), 1u);
  EXPECT_EQ(kernels[0].event.step, 0u);
  EXPECT_EQ(store_.skips().get("cupti: step unresolved (no launch record)"), 1u);
}

TEST_F(CuptiCollectorTest, IncompleteRecordsAreSkipped) {
  auto c = make_cupti_collector();
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  launch("still_running", 0, 1, 0, 0);  // a forced flush returns records without timestamps
  c->stop();
  EXPECT_TRUE(events_of_kind(store_, EventKind::kKernel).empty());
  EXPECT_EQ(store_.skips().get("cupti: incomplete record (no timestamps)"), 1u);
}

TEST_F(CuptiCollectorTest, MissingLibraryIsAClearErrorAndHarmless) {
  setenv("HUOYAN_CUPTI_LIBRARY", "/nonexistent/libcupti.so", 1);
  auto c = make_cupti_collector();
  const Status st = c->start(context_);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("libcupti.so not found"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("/nonexistent/libcupti.so"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("HUOYAN_CUPTI_LIBRARY"), std::string::npos) << st.message();
  EXPECT_EQ(c->state().state, "unavailable");
  c->on_step_begin(1);
  c->on_step_end(1);
  c->flush();
  c->stop();
  EXPECT_EQ(store_.snapshot().size(), 0u);
}

TEST_F(CuptiCollectorTest, EnableFailureIsReportedAndReleasesTheProcessSlot) {
  ctl_->set_enable_fails(1);
  auto c = make_cupti_collector();
  const Status st = c->start(context_);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cuptiActivityEnable(CONCURRENT_KERNEL)"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("CUPTI_ERROR_NOT_INITIALIZED"), std::string::npos);
  EXPECT_EQ(c->state().state, "unavailable");
  ctl_->set_enable_fails(0);
  auto other = make_cupti_collector();
  EXPECT_TRUE(other->start(context_).ok()) << other->state().message;
  other->stop();
}

TEST_F(CuptiCollectorTest, OneActiveCollectorPerProcess) {
  auto a = make_cupti_collector();
  auto b = make_cupti_collector();
  ASSERT_TRUE(a->start(context_).ok());
  const Status st = b->start(context_);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("already active"), std::string::npos) << st.message();
  a->stop();
  EXPECT_TRUE(b->start(context_).ok());
  b->stop();
}

}  // namespace
}  // namespace huoyan

#else

TEST(CuptiCollectorTest, NotBuilt) {
  GTEST_SKIP() << "built without CUPTI headers or without the test doubles "
                  "(huoyan_devices_tests() not called)";
}

#endif
