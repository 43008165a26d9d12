// PyTorch profiler (Kineto) specifics of the Chrome reader, on the real traces of
// testdata/real/kineto and on small hand-made ones: kernels of both schema generations, launch
// links by correlation and by External id (flame graphs put kernels under the ops that launched
// them), ProfilerStep markers as steps, ROCm and MTIA devices, the distributed rank.
#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "src/analysis/flame_tree.h"
#include "src/readers/chrome_json_reader.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(HUOYAN_TESTDATA_REAL) / "kineto/hta/tests/data";

std::string metadata(const TraceStore& store, std::string_view key) {
  for (const auto& [k, v] : store.metadata()) {
    if (k == key) return v;
  }
  return "";
}

void read(const fs::path& path, TraceStore& store) {
  auto r = read_chrome_json_file(path.string(), store);
  ASSERT_TRUE(r.ok()) << r.status().message();
}

// Every device frame of the flame graph: its name and its ancestors' names, innermost first.
std::vector<std::pair<std::string, std::vector<std::string>>> device_stacks(
    const TraceStore& store) {
  const Snapshot snap = store.snapshot();
  const FlameTree tree = build_flame_tree(store, snap, FlameOptions{});
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const FlameNode& n : tree.nodes) {
    if (!n.device) continue;
    std::vector<std::string> stack;
    for (uint32_t p = n.parent; p != 0; p = tree.nodes[p].parent) {
      stack.emplace_back(tree.nodes[p].name);
    }
    out.emplace_back(std::string(n.name), std::move(stack));
  }
  return out;
}

bool has_prefix(const std::vector<std::string>& stack, std::string_view prefix) {
  for (const auto& s : stack) {
    if (s.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

TEST(Kineto, KernelsSitUnderTheLaunchCallAndTheOp) {
  TraceStore store;
  read(kData / "critical_path/simple_add/benchmark_result_493459_1694039959_trace.json", store);
  size_t launched = 0;
  for (const auto& [name, stack] : device_stacks(store)) {
    ASSERT_FALSE(stack.empty()) << name;
    // Kernels, copies and syncs under the CUDA call that launched them (by correlation)...
    EXPECT_TRUE(stack[0].rfind("cuda", 0) == 0) << name << " under " << stack[0];
    // ...and launches under the aten op that made them.
    if (stack[0] == "cudaLaunchKernel") {
      ++launched;
      EXPECT_TRUE(has_prefix(stack, "aten::")) << name;
    }
  }
  EXPECT_GT(launched, 0u);
}

TEST(Kineto, OldSchemaKernelsAndRuntime) {
  TraceStore store;
  read(kData / "trace_file_list/inference_rank_1.json", store);
  uint64_t kernels = 0;
  store.snapshot().for_each(
      [&](const EventView& ev) { kernels += ev->kind == EventKind::kKernel; });
  EXPECT_EQ(kernels, 4u);  // cat "Kernel"
  for (const auto& [name, stack] : device_stacks(store)) {
    ASSERT_FALSE(stack.empty());
    EXPECT_EQ(stack[0], "cudaLaunchKernel") << name;  // cat "Runtime", linked by correlation
  }
  EXPECT_EQ(metadata(store, "rank"), "1");
}

TEST(Kineto, ProfilerStepsBecomeSteps) {
  TraceStore store;
  read(kData / "nccl_parser_config/nccl_data.json.gz", store);
  for (uint64_t id : {4, 5, 6}) {
    auto step = store.step(id);
    ASSERT_TRUE(step.has_value()) << id;
    EXPECT_LT(step->start, step->end);
    const Snapshot snap = store.snapshot();
    EXPECT_FALSE(snap.is_device_track(step->track));
  }
  EXPECT_EQ(store.step_count(), 3u);
  EXPECT_EQ(metadata(store, "rank"), "0");
  EXPECT_NE(metadata(store, "deviceProperties").find("\"name\""), std::string::npos);
}

TEST(Kineto, RocmKernelsOnTheirGpu) {
  TraceStore store;
  read(kData / "amd_trace/mi250_minitoy_train_ROCm6_2_kineto.json.gz", store);
  const Snapshot snap = store.snapshot();
  uint64_t kernels = 0;
  snap.for_each([&](const EventView& ev) {
    if (ev->kind != EventKind::kKernel) return;
    ++kernels;
    const Process& p = snap.process_of(ev->track);
    EXPECT_EQ(p.device_type, DeviceType::kGpu);
    EXPECT_EQ(p.device, 2);
    EXPECT_EQ(snap.track(ev->track).tid, 0);
  });
  EXPECT_EQ(kernels, 14u);
  // ProfilerStep#1 appears on the CPU and on the GPU ("gpu_user_annotation"): one step.
  EXPECT_EQ(store.step_count(), 2u);
  size_t under_hip = 0;
  for (const auto& [name, stack] : device_stacks(store)) under_hip += has_prefix(stack, "hip");
  EXPECT_GE(under_hip, 2u);  // kernel and copy frames (merged by name) under HIP calls
}

TEST(Kineto, MtiaDeviceEvents) {
  TraceStore store;
  read(kData / "mtia_inference_trace/mtia_inference_rank_0.json.gz", store);
  const Snapshot snap = store.snapshot();
  uint64_t on_mtia = 0, ccp = 0;
  snap.for_each([&](const EventView& ev) {
    const Process& p = snap.process_of(ev->track);
    if (p.device_type == DeviceType::kOther && p.device == 17 && snap.is_device_event(*ev)) {
      ++on_mtia;
      ccp += snap.str(ev->cat) == "mtia_ccp_events";
    }
  });
  // Process "MTIA 17": 1313 "mtia_ccp_events", of which 339 are waits and records
  // (event_wait 48, event_record 291) and not device work; its 113 "mtia_runtime" slices
  // (synchronize on a submission queue) are host runtime calls.
  EXPECT_EQ(on_mtia, 1313u - 339u);
  EXPECT_EQ(ccp, 1313u - 339u);
}

// A kernel without a correlation (its launch call not recorded) whose External id names the
// CPU op, and one launched through cudaLaunchKernel.
const char kTrimmed[] = R"({"traceEvents":[
{"ph":"X","cat":"cpu_op","name":"aten::mm","pid":1,"tid":1,"ts":100,"dur":50,"args":{"External id":5}},
{"ph":"X","cat":"cpu_op","name":"aten::relu","pid":1,"tid":1,"ts":200,"dur":50,"args":{"External id":6}},
{"ph":"X","cat":"kernel","name":"gemm","pid":0,"tid":7,"ts":120,"dur":30,"args":{"External id":5,"device":0,"stream":7}},
{"ph":"X","cat":"kernel","name":"relu_kernel","pid":0,"tid":7,"ts":220,"dur":30,"args":{"External id":6,"correlation":100,"device":0,"stream":7}},
{"ph":"X","cat":"cuda_runtime","name":"cudaLaunchKernel","pid":1,"tid":1,"ts":205,"dur":5,"args":{"External id":6,"correlation":100}},
{"ph":"X","cat":"user_annotation","name":"ProfilerStep#0","pid":1,"tid":1,"ts":90,"dur":200},
{"name":"process_labels","ph":"M","pid":0,"args":{"labels":"GPU 0"}}
],"distributedInfo":{"backend":"nccl","rank":3,"world_size":8}})";

TEST(Kineto, ExternalIdLinksKernelsWithoutTheirLaunchCall) {
  TraceStore store;
  auto src = ByteSource::from_string(kTrimmed, "trimmed.json");
  ChromeJsonReader reader;
  ASSERT_TRUE(reader.read(*src, store, {}).ok());
  std::map<std::string, std::vector<std::string>> parents;
  const Snapshot snap = store.snapshot();
  const FlameTree tree = build_flame_tree(store, snap, FlameOptions{});
  for (const FlameNode& n : tree.nodes) {
    if (n.device) parents[std::string(n.name)].emplace_back(tree.nodes[n.parent].name);
  }
  EXPECT_EQ(parents["gemm"], (std::vector<std::string>{"aten::mm"}));  // by External id
  // With a correlation, the launch call (read after the kernel here) is the parent.
  EXPECT_EQ(parents["relu_kernel"], (std::vector<std::string>{"cudaLaunchKernel"}));
  EXPECT_EQ(store.step_count(), 0u);  // ProfilerStep#0: 0 means "no step"
  EXPECT_EQ(metadata(store, "rank"), "3");
}

}  // namespace
}  // namespace huoyan
