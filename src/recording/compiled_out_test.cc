// A translation unit built with HUOYAN_DISABLE: every macro must vanish and every function be an
// inline no-op. recording_test.cc runs compiled_out_workload() under a live profiler and checks
// that nothing was recorded; the install test links a program built this way without the
// library at all.
#define HUOYAN_DISABLE
#include "huoyan/huoyan.h"

#include <gtest/gtest.h>

#include "huoyan/fake_device.h"

namespace huoyan {

void compiled_out_workload() {
  set_thread_name("compiled-out");
  StepScope step({{"req", 3}});
  HUOYAN_SCOPE("a");
  HUOYAN_SCOPE_ATTRS("b", {"k", 1}, {"s", "text"});
  HUOYAN_REQUEST_SCOPE("c", "req");
  HUOYAN_COUNTER("d", 1.5);
  HUOYAN_INSTANT("e");
  request_arrival("req", 1);
  request_first_token("req");
  request_finish("req", 1);
  record_request_span("req", "queue_wait", 1, 2);
  record_kernel({.name = "k", .start_ns = 1, .end_ns = 2, .attrs = {{"flops", 1.0}}});
  const SpanName layer("layer.0");
  begin_span(layer);
  end_span();
}

namespace {

TEST(CompiledOut, ApiIsInertAndNeedsNoLibrary) {
  // The stubs live in an inline namespace of their own, so they cannot collide with the real
  // definitions linked into this same test binary.
  static_assert(sizeof(StepScope) == 1);
  Profiler profiler;
  std::string error;
  EXPECT_FALSE(profiler.start(&error));
  EXPECT_NE(error.find("HUOYAN_DISABLE"), std::string::npos);
  EXPECT_FALSE(profiler.running());
  EXPECT_EQ(profiler.snapshot().event_count(), 0u);
  EXPECT_FALSE(profiler.snapshot().write_chrome_json("/nonexistent/x.json"));
  FakeDevice device(profiler);
  EXPECT_FALSE(device.launch(0, "k", 1));
  EXPECT_EQ(current_step(), 0u);
  EXPECT_EQ(now_ns(), 0);
}

}  // namespace
}  // namespace huoyan
