// msprof timeline JSON (msprof_*.json, task_time_*.json) and torch_npu trace_view.json are read
// by the Chrome reader; these tests pin down the Ascend specifics: device task kinds from
// "Task Type", the "Ascend Hardware" device and its index, string ts, flow ids, and the
// connection_id launch link.
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "src/analysis/flame_tree.h"
#include "src/readers/chrome_json_reader.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;

const fs::path kReal = HUOYAN_TESTDATA_REAL;
const fs::path kTimeline = kReal /
                           "ascend/mindinsight/tests/utils/resource/profiler/"
                           "PROF_000001_20230818142704322_COJGGGCANRMICFBC/device_0/timeline";
const fs::path kTraceView =
    kReal / "ascend/mstt/profiler/msprof_analyze/test/ut/advisor/timeline_advice/trace_view.json";

struct Kinds {
  std::map<EventKind, uint64_t> on_npu;  // duration events on NPU processes, by kind
  std::set<int64_t> streams;
  uint64_t elsewhere_device = 0;  // device-kind events off NPU processes
};

Kinds kinds_of(const Snapshot& snap) {
  Kinds k;
  snap.for_each([&](const EventView& ev) {
    const Process& p = snap.process_of(ev->track);
    if (p.device_type == DeviceType::kNpu && has_duration(ev->kind)) {
      ++k.on_npu[snap.kind_of(*ev)];
      k.streams.insert(snap.track(ev->track).tid);
    } else if (is_device_work(ev->kind)) {
      ++k.elsewhere_device;
    }
  });
  return k;
}

TEST(MsprofJson, TaskTimeTimelineKindsFromTaskType) {
  TraceStore store;
  auto r = read_chrome_json_file((kTimeline / "task_time_0_2_1.json").string(), store);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Kinds k = kinds_of(store.snapshot());
  // 490 hardware tasks by task type: AI_CORE 137 + AI_CPU 2 kernels, MEMCPY_ASYNC 29 copies,
  // REDUCE_ASYNC_V2 30 collectives, NOTIFY_WAIT/RECORD 280 and EVENT_WAIT/RECORD/RESET 12 waits.
  EXPECT_EQ(k.on_npu.at(EventKind::kKernel), 139u);
  EXPECT_EQ(k.on_npu.at(EventKind::kMemcpy), 29u);
  EXPECT_EQ(k.on_npu.at(EventKind::kCollective), 30u);
  EXPECT_EQ(k.on_npu.at(EventKind::kWait), 292u);
  EXPECT_EQ(k.on_npu.count(EventKind::kSpan), 0u);
  EXPECT_EQ(k.streams, (std::set<int64_t>{2, 3, 4, 10, 12, 13}));
  EXPECT_EQ(k.elsewhere_device, 0u);
}

TEST(MsprofJson, MsprofTimelineHasTheSameTasksPlusIterationMarks) {
  TraceStore store;
  auto r = read_chrome_json_file((kTimeline / "msprof_0_2_1.json").string(), store);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Kinds k = kinds_of(store.snapshot());
  EXPECT_EQ(k.on_npu.at(EventKind::kKernel), 139u);
  EXPECT_EQ(k.on_npu.at(EventKind::kMemcpy), 29u);
  // HCCL's process is labelled "NPU" without an index: not a device by name, so its tasks
  // count only through the "Ascend Hardware" process (494 hw X, SOURCES.md): the 490 tasks
  // above and the 4 marks of its "Step Trace" thread, which are derived.
  EXPECT_EQ(k.on_npu.at(EventKind::kCollective), 30u);
  EXPECT_EQ(k.on_npu.at(EventKind::kWait), 292u);
  EXPECT_EQ(k.on_npu.at(EventKind::kDerived), 4u);
}

TEST(MsprofJson, TorchNpuTraceViewHardwareLayer) {
  TraceStore store;
  auto r = read_chrome_json_file(kTraceView.string(), store);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Snapshot snap = store.snapshot();
  const Kinds k = kinds_of(snap);
  EXPECT_EQ(k.on_npu.at(EventKind::kKernel), 276u);  // Task Type "Other" 274 + AI_CPU 2
  EXPECT_EQ(k.on_npu.count(EventKind::kSpan), 0u);
  // async_npu flow ids are the kernel's start in ns, above 2^53: kept exactly.
  uint64_t big = 0;
  snap.for_each([&](const EventView& ev) {
    if (ev->kind == EventKind::kFlowStart && ev->id == 1704161511422904204ull) ++big;
  });
  EXPECT_EQ(big, 1u);
}

// A CANN 8.x msprof_*.json (cann.md §4 S3, compacted): string ts, pids with bit fields,
// "Ascend Hardware" labelled "NPU 0", a HostToDevice flow with a string id.
const char kMsprof[] = R"([
{"args":{"name":"CANN"},"name":"process_name","ph":"M","pid":2717763839,"tid":0},
{"args":{"Mode":"launch","Thread Id":2654066,"connection_id":33,"id":"0","item_id":"main_kernel","level":"node"},"dur":140.25,"name":"Node@launch","ph":"X","pid":2717763839,"tid":2654066,"ts":"1780676244312933.930"},
{"cat":"HostToDevice","id":"141733920768","name":"HostToDevice141733920768","ph":"s","pid":2717763839,"tid":2654066,"ts":"1780676244312933.930"},
{"args":{"Batch Id":0,"Model Id":4294967295,"Physic Stream Id":1756,"Subtask Id":0,"Task Id":0,"Task Type":"MIX_AIC","connection_id":33},"dur":87139.38,"name":"main_kernel","ph":"X","pid":2717764000,"tid":1756,"ts":"1780676244313289.000"},
{"bp":"e","cat":"HostToDevice","id":"141733920768","name":"HostToDevice141733920768","ph":"f","pid":2717764000,"tid":1756,"ts":"1780676244313289.000"},
{"args":{"name":"Ascend Hardware"},"name":"process_name","ph":"M","pid":2717764000,"tid":0},
{"args":{"labels":"NPU 0"},"name":"process_labels","ph":"M","pid":2717764000,"tid":0},
{"args":{"MHz":1800},"name":"AI Core Freq","ph":"C","pid":2717764032,"tid":0,"ts":"1780676228898322.000"}
])";

TEST(MsprofJson, CannEightTimeline) {
  TraceStore store;
  auto src = ByteSource::from_string(kMsprof, "msprof_20260605161734.json");
  ChromeJsonReader reader;
  auto r = reader.read(*src, store, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 5u);
  const Snapshot snap = store.snapshot();
  std::map<std::string, EventView> by_name;
  snap.for_each([&](const EventView& ev) { by_name.emplace(std::string(snap.str(ev->name)), ev); });
  const EventView kernel = by_name.at("main_kernel");
  EXPECT_EQ(kernel->kind, EventKind::kKernel);
  EXPECT_EQ(kernel->ts, 1780676244313289000);
  EXPECT_EQ(kernel->dur, 87139380);
  const Process& npu = snap.process_of(kernel->track);
  EXPECT_EQ(npu.device_type, DeviceType::kNpu);
  EXPECT_EQ(npu.device, 0);  // from "NPU 0"
  // The launch link: kernel and Node@launch share connection_id 33.
  EXPECT_EQ(kernel->id, 33u);
  EXPECT_EQ(by_name.at("Node@launch")->id, 33u);
  EXPECT_EQ(by_name.at("HostToDevice141733920768")->id, 141733920768u);

  // So the flame graph puts the kernel under the API call that launched it.
  FlameOptions options;
  const FlameTree tree = build_flame_tree(store, snap, options);
  bool under_launch = false;
  for (const FlameNode& n : tree.nodes) {
    if (n.name == "main_kernel" && n.device)
      under_launch = tree.nodes[n.parent].name == "Node@launch";
  }
  EXPECT_TRUE(under_launch);
}

}  // namespace
}  // namespace huoyan
