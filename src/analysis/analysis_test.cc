#include <gtest/gtest.h>

#include "src/analysis/flame_tree.h"
#include "src/analysis/kernel_stats.h"
#include "src/io/sink.h"

namespace huoyan {
namespace {

// A scheduler thread runs step 1 = select_batch, then forward (which launches two kernels).
struct Fixture {
  TraceStore store;
  StringId req = 0;
  Fixture() {
    req = store.intern("req-1");
    auto w = store.writer();
    const TrackId host = w.track(100, 1);
    const TrackId s3 = w.device_track(DeviceType::kNpu, 0, 3);
    auto span = [&](const char* name, int64_t ts, int64_t dur) {
      Event e;
      e.kind = EventKind::kSpan;
      e.track = host;
      e.name = store.intern(name);
      e.ts = ts;
      e.dur = dur;
      e.step = 1;
      w.append(e);
    };
    auto kernel = [&](const char* name, int64_t ts, int64_t dur) {
      Event e;
      e.kind = EventKind::kKernel;
      e.track = s3;
      e.name = store.intern(name);
      e.ts = ts;
      e.dur = dur;
      e.step = 1;
      w.append(e);
    };
    span("step", 0, 1000);
    span("select_batch", 0, 100);
    span("forward", 100, 900);
    kernel("Int4Gemm", 150, 600);
    kernel("RMSNorm", 760, 100);
    kernel("Int4Gemm", 2000, 10);  // outside every host span: lands under the device
    w.add_step(Step{1, 0, 1000, host, {{req, 2}, {store.intern("req-2"), 2}}});
  }
};

TEST(KernelStatsTest, PercentilesAndShares) {
  Fixture f;
  const Snapshot snap = f.store.snapshot();
  const auto rows = kernel_stats(snap, device_events(snap), GroupBy::kName);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "Int4Gemm");
  EXPECT_EQ(rows[0].count, 2u);
  EXPECT_EQ(rows[0].total_ns, 610);
  EXPECT_EQ(rows[0].p50_ns, 10);
  EXPECT_EQ(rows[0].p99_ns, 600);
  EXPECT_EQ(rows[0].max_ns, 600);
  EXPECT_DOUBLE_EQ(rows[0].share, 610.0 / 710.0);
  const auto by_stream = kernel_stats(snap, device_events(snap), GroupBy::kStream);
  ASSERT_EQ(by_stream.size(), 1u);
  EXPECT_EQ(by_stream[0].name, "NPU 0 / Stream 3");
  EXPECT_EQ(percentile_sorted({1, 2, 3, 4}, 50), 2);
  EXPECT_EQ(percentile_sorted({}, 99), 0);
}

TEST(KernelStatsTest, DevicesWithBusyTimeTopKernelsAndImbalance) {
  TraceStore store;
  {
    auto w = store.writer();
    auto kernel = [&](TrackId t, const char* name, int64_t ts, int64_t dur) {
      Event e;
      e.kind = EventKind::kKernel;
      e.track = t;
      e.name = store.intern(name);
      e.ts = ts;
      e.dur = dur;
      w.append(e);
    };
    // NPU 0: two streams overlapping on [100, 150): busy = 300 − 50 over [0, 400).
    const TrackId a = w.device_track(DeviceType::kNpu, 0, 3);
    const TrackId b = w.device_track(DeviceType::kNpu, 0, 4);
    kernel(a, "Int4Gemm", 0, 150);
    kernel(b, "AllReduce", 100, 100);
    kernel(a, "RMSNorm", 350, 50);
    // NPU 1: one kernel of 125 ns.
    const TrackId c = w.device_track(DeviceType::kNpu, 1, 3);
    kernel(c, "Int4Gemm", 1000, 125);
  }
  const Snapshot snap = store.snapshot();
  const auto rows = kernel_stats(snap, device_events(snap), GroupBy::kDevice);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "NPU 0");
  EXPECT_EQ(rows[0].total_ns, 300);
  EXPECT_EQ(rows[0].busy_ns, 250);
  EXPECT_EQ(rows[0].active_ns, 400);
  EXPECT_DOUBLE_EQ(rows[0].utilization, 250.0 / 400.0);
  EXPECT_DOUBLE_EQ(rows[0].busy_vs_max, 1.0);
  ASSERT_EQ(rows[0].top.size(), 3u);
  EXPECT_EQ(rows[0].top[0].name, "Int4Gemm");
  EXPECT_EQ(rows[0].top[0].total_ns, 150);
  EXPECT_DOUBLE_EQ(rows[0].top[0].share, 0.5);
  EXPECT_EQ(rows[1].name, "NPU 1");
  EXPECT_EQ(rows[1].busy_ns, 125);
  EXPECT_DOUBLE_EQ(rows[1].busy_vs_max, 0.5);
  EXPECT_DOUBLE_EQ(device_imbalance(rows), 0.5);
  // Other groupings carry no device fields, and their JSON has none.
  const auto by_name = kernel_stats(snap, device_events(snap), GroupBy::kName);
  EXPECT_LT(by_name[0].busy_ns, 0);
  StringSink sink;
  {
    BufferedOut out(&sink);
    write_kernel_stats_json(rows, out);
    write_kernel_stats_json(by_name, out);
    ASSERT_TRUE(out.flush().ok());
  }
  EXPECT_NE(sink.str().find("\"busy_ns\":250,\"active_ns\":400,\"utilization\":0.625,"
                            "\"busy_vs_max\":1,\"top\":[{\"name\":\"Int4Gemm\",\"total_ns\":150,"
                            "\"share\":0.5}"),
            std::string::npos)
      << sink.str();
  EXPECT_EQ(sink.str().find("busy_ns", sink.str().find("RMSNorm\",\"count")), std::string::npos);
}

TEST(FlameTreeTest, KernelsSitUnderTheHostPhaseThatLaunchedThem) {
  Fixture f;
  const Snapshot snap = f.store.snapshot();
  FlameTree tree = build_flame_tree(f.store, snap, FlameOptions{});
  StringSink folded;
  ASSERT_TRUE(write_folded(tree, folded).ok());
  EXPECT_EQ(folded.str(),
            "step;select_batch 100\n"
            "step;forward 200\n"
            "step;forward;Int4Gemm 600\n"
            "step;forward;RMSNorm 100\n"
            "NPU 0;Int4Gemm 10\n");
  EXPECT_EQ(tree.root().value, 100 + 200 + 600 + 100 + 10);
}

// Request-owned spans recorded by the scheduler thread (queue waits, from arrival to being
// scheduled) overlap its own phases: they get lanes of their own, and the phases and kernels
// stay where they ran.
TEST(FlameTreeTest, RequestSpansOverlappingThePhasesGetTheirOwnLanes) {
  TraceStore store;
  {
    auto w = store.writer();
    const TrackId host = w.track(100, 1);
    const TrackId s3 = w.device_track(DeviceType::kNpu, 0, 3);
    auto add = [&](TrackId t, EventKind kind, const char* name, int64_t ts, int64_t dur,
                   uint64_t step, const char* request) {
      Event e;
      e.kind = kind;
      e.track = t;
      e.name = store.intern(name);
      e.ts = ts;
      e.dur = dur;
      e.step = step;
      if (request != nullptr) e.request = store.intern(request);
      w.append(e);
    };
    // req-a arrives between steps and waits through step 1; req-b arrives during step 1 and
    // waits into step 2, inside req-a's wait.
    add(host, EventKind::kSpan, "queue_wait", 950, 1100, 0, "req-a");
    add(host, EventKind::kSpan, "queue_wait", 1500, 520, 0, "req-b");
    add(host, EventKind::kSpan, "step", 1000, 1000, 1, nullptr);
    add(host, EventKind::kSpan, "forward", 1100, 800, 1, nullptr);
    add(s3, EventKind::kKernel, "Int4Gemm", 1200, 500, 1, nullptr);
    add(host, EventKind::kSpan, "step", 2000, 500, 2, nullptr);
    add(host, EventKind::kSpan, "select_batch", 2000, 100, 2, nullptr);
    w.add_step(Step{1, 1000, 2000, host, {}});
    w.add_step(Step{2, 2000, 2500, host, {}});
  }
  const Snapshot snap = store.snapshot();
  FlameTree tree = build_flame_tree(store, snap, FlameOptions{});
  StringSink folded;
  ASSERT_TRUE(write_folded(tree, folded).ok());
  EXPECT_EQ(folded.str(),
            "queue_wait 1620\n"
            "step 600\n"
            "step;forward 300\n"
            "step;forward;Int4Gemm 500\n"
            "step;select_batch 100\n")
      << folded.str();
}

TEST(FlameTreeTest, RequestModeApportionsAndFoldsSmallNodes) {
  Fixture f;
  const Snapshot snap = f.store.snapshot();
  FlameOptions opt;
  opt.request = f.req;
  opt.mode = AttributionMode::kApportioned;
  FlameTree tree = build_flame_tree(f.store, snap, opt);
  EXPECT_EQ(tree.root().name, "req-1");
  StringSink json;
  {
    BufferedOut out(&json);
    write_flame_json(tree, out);
    ASSERT_TRUE(out.flush().ok());
  }
  EXPECT_NE(json.str().find("{\"name\":\"Int4Gemm\",\"value\":300,\"calls\":1,\"device\":true}"),
            std::string::npos)
      << json.str();
  fold_small_nodes(&tree, 3);
  EXPECT_LE(tree.nodes.size(), 5u);
  int64_t sum = 0;
  for (uint32_t c : tree.root().children) sum += tree.nodes[c].value;
  EXPECT_EQ(sum, tree.root().value);  // folding keeps the totals
}

}  // namespace
}  // namespace huoyan
