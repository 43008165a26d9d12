#include "src/readers/ascend_folder.h"

#include "src/readers/sniff.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace huoyan {
namespace {

namespace fs = std::filesystem;

const fs::path kReal = HUOYAN_TESTDATA_REAL;
const fs::path kRank0 =
    kReal / "ascend/msinsight/server/src/test/test_data/test_rank_0/ASCEND_PROFILER_OUTPUT";
const fs::path kRank1 =
    kReal / "ascend/msinsight/server/src/test/test_data/test_rank_1/ASCEND_PROFILER_OUTPUT";
const fs::path kProf = kReal /
                       "ascend/mindinsight/tests/utils/resource/profiler/"
                       "PROF_000001_20230818142704322_COJGGGCANRMICFBC";

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Events whose kind (as every analysis sees it: Snapshot::kind_of) is `kind`.
uint64_t count_kind(const Snapshot& snap, EventKind kind) {
  uint64_t n = 0;
  snap.for_each([&](const EventView& ev) { n += snap.kind_of(*ev) == kind; });
  return n;
}

std::string metadata(const TraceStore& store, std::string_view key) {
  for (const auto& [k, v] : store.metadata()) {
    if (k == key) return v;
  }
  return "";
}

TEST(AscendFolder, TorchNpuOutputWithTablesOnly) {
  const FolderFormat& f = ascend_profiler_output_format();
  EXPECT_TRUE(f.claims(kRank0.string()));
  EXPECT_TRUE(f.claims(kRank0.parent_path().string()));  // the *_ascend_pt level
  EXPECT_FALSE(f.claims(kProf.string()));
  EXPECT_FALSE(msprof_prof_folder_format().claims(kRank0.string()));
  TraceStore store;
  auto r = f.read_dir(kRank0.parent_path().string(), store, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 21u);  // kernel_details.csv rows (SOURCES.md)
  EXPECT_EQ(r->skipped, 0u);
  const Snapshot snap = store.snapshot();
  // 17 operators and 4 HCCL operators (hcom_broadcast ×2, hcom_allReduce, hcom_allGather).
  EXPECT_EQ(count_kind(snap, EventKind::kKernel), 17u);
  EXPECT_EQ(count_kind(snap, EventKind::kCollective), 4u);
  std::set<std::string> tracks;
  for (TrackId t = 0; t < snap.tracks().size(); ++t) tracks.insert(snap.track_label(t));
  EXPECT_EQ(tracks, (std::set<std::string>{"NPU 0 / Stream 16", "NPU 0 / Stream 17",
                                           "NPU 0 / Stream N/A"}));
  auto step = store.step(2);  // step_trace_time.csv, timed by the kernels of step 2
  ASSERT_TRUE(step.has_value());
  EXPECT_NE(step->start, kNoTime);
  EXPECT_NE(metadata(store, "ascend.step_trace_time").find("\"Step\":2"), std::string::npos);
  EXPECT_NE(metadata(store, "ascend.operator_details").find("aten::empty"), std::string::npos);
}

TEST(AscendFolder, TwoRanksIntoOneStore) {
  const fs::path root = fresh_dir("ranks");
  for (int rank : {0, 1}) {
    const fs::path pt = root / ("worker" + std::to_string(rank) + "_ascend_pt");
    fs::create_directories(pt);
    fs::copy(rank == 0 ? kRank0 : kRank1, pt / "ASCEND_PROFILER_OUTPUT");
    write(pt / ("profiler_info_" + std::to_string(rank) + ".json"),
          "{\"torch_npu_version\": \"2.1.0.post3\", \"cann_version\": \"8.0.RC1\"}");
  }
  TraceStore store;
  for (int rank : {0, 1}) {
    auto r = read_ascend_profiler_output(
        (root / ("worker" + std::to_string(rank) + "_ascend_pt")).string(), store);
    ASSERT_TRUE(r.ok()) << r.status().message();
  }
  const Snapshot snap = store.snapshot();
  EXPECT_EQ(count_kind(snap, EventKind::kKernel) + count_kind(snap, EventKind::kCollective),
            21u + 22u);
  std::set<std::string> devices;
  for (TrackId t = 0; t < snap.tracks().size(); ++t) devices.insert(snap.device_label(t));
  EXPECT_EQ(devices, (std::set<std::string>{"rank 0:NPU 0", "rank 1:NPU 0"}));
  EXPECT_EQ(metadata(store, "ascend.cann_version"), "8.0.RC1");
  EXPECT_FALSE(metadata(store, "ascend.step_trace_time.rank0").empty());
  EXPECT_FALSE(metadata(store, "ascend.step_trace_time.rank1").empty());
}

// A trace_view.json with one hardware task and the kernel_details.csv describing it again.
const char kTraceView[] =
    "[{\"ph\":\"X\",\"name\":\"aten::add\",\"pid\":7,\"tid\":7,\"ts\":\"1000.000\",\"dur\":5,"
    "\"cat\":\"cpu_op\"},"
    "{\"name\":\"add_kernel\",\"pid\":800,\"tid\":3,\"ts\":\"1002.500\",\"dur\":1.25,\"ph\":\"X\","
    "\"args\":{\"Task Type\":\"AI_CORE\",\"Stream Id\":3,\"Task Id\":1}},"
    "{\"name\":\"process_name\",\"pid\":800,\"tid\":0,\"args\":{\"name\":\"Ascend Hardware\"},"
    "\"ph\":\"M\"},"
    "{\"name\":\"process_labels\",\"pid\":800,\"tid\":0,\"args\":{\"labels\":\"NPU 2\"},"
    "\"ph\":\"M\"}]";
const char kKernelCsv[] =
    "Device_id,Name,Type,Accelerator Core,Start Time(us),Duration(us)\n"
    "2,add_kernel,Add,AI_CORE,1002.500\t,1.25\n";

TEST(AscendFolder, KernelDetailsIsTheKernelSourceTraceViewAddsTheRest) {
  const fs::path pt = fresh_dir("host_1_ascend_pt");
  write(pt / "profiler_info_3.json", "{\"rank_id\": 3}");
  write(pt / "ASCEND_PROFILER_OUTPUT/trace_view.json", kTraceView);
  write(pt / "ASCEND_PROFILER_OUTPUT/kernel_details.csv", kKernelCsv);
  TraceStore store;
  auto r = read_ascend_profiler_output(pt.string(), store);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 3u);  // the table's kernel, trace_view's host op and its task
  const Snapshot snap = store.snapshot();
  EXPECT_EQ(count_kind(snap, EventKind::kKernel), 1u);       // once, from kernel_details.csv
  EXPECT_EQ(count_kind(snap, EventKind::kDeviceRange), 1u);  // trace_view's copy: shown only
  EXPECT_EQ(count_kind(snap, EventKind::kHost), 1u);
  bool found = false;
  for (const Process& p : snap.processes()) {
    if (p.pid != 800 + 3 * (int64_t{1} << 44)) continue;  // rank 3: its own pid range
    found = true;
    EXPECT_EQ(snap.str(p.name), "rank 3:NPU 2");
    EXPECT_EQ(p.device, 2);
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(metadata(store, "ascend.rank"), "3");

  // A second rank with the same pids: its own processes.
  const fs::path pt4 = fresh_dir("host_2_ascend_pt");
  write(pt4 / "profiler_info_4.json", "{}");
  write(pt4 / "ASCEND_PROFILER_OUTPUT/trace_view.json", kTraceView);
  ASSERT_TRUE(read_ascend_profiler_output(pt4.string(), store).ok());
  std::set<std::string> devices;
  const Snapshot both = store.snapshot();
  both.for_each([&](const EventView& ev) {
    if (both.kind_of(*ev) == EventKind::kKernel) devices.insert(both.device_label(ev->track));
  });
  // Rank 3's kernel from its table (CSV device pids), rank 4's from trace_view.json (no table).
  EXPECT_EQ(devices, (std::set<std::string>{"rank 3:NPU 2", "rank 4:NPU 2"}));
}

// Every level of one torch_npu output names the same rank and the same kernels; its side files
// never become inputs of their own.
TEST(AscendFolder, EveryLevelOfOneOutputGivesTheSameRank) {
  const fs::path pt = fresh_dir("host_9_ascend_pt");
  write(pt / "profiler_info_5.json", "{\"rank_id\": 5}");
  write(pt / "ASCEND_PROFILER_OUTPUT/trace_view.json", kTraceView);
  write(pt / "ASCEND_PROFILER_OUTPUT/kernel_details.csv", kKernelCsv);
  write(pt / "ASCEND_PROFILER_OUTPUT/step_trace_time.csv", "Device_id,Step,Computing\n2,1,3\n");
  write(pt / "PROF_000001_20250101000000000_ABCDEFGHIJKLMNOP/mindstudio_profiler_output/"
             "op_summary_20250101000001.csv",
        "Device_id,Op Name,OP Type,Task Type,Task Start Time(us),Task Duration(us)\n"
        "2,other_kernel,Add,AI_CORE,1002.500\t,9.0\n");
  const fs::path prof = pt / "PROF_000001_20250101000000000_ABCDEFGHIJKLMNOP";
  for (const fs::path& level :
       {pt, pt / "ASCEND_PROFILER_OUTPUT", pt / "ASCEND_PROFILER_OUTPUT" / ".",
        fs::path(pt.string() + "/ASCEND_PROFILER_OUTPUT/"), prof,
        prof / "mindstudio_profiler_output"}) {
    SCOPED_TRACE(level.string());
    TraceStore store;
    InputReport report;
    ASSERT_TRUE(read_input(level.string(), store, {}, &report).ok());
    ASSERT_EQ(report.read.size(), 1u);
    EXPECT_EQ(report.read[0].format, "torch-npu-folder");
    const Snapshot snap = store.snapshot();
    EXPECT_EQ(count_kind(snap, EventKind::kKernel), 1u);
    std::set<std::string> devices;
    snap.for_each([&](const EventView& ev) {
      if (snap.is_device_event(*ev)) devices.insert(snap.device_label(ev->track));
    });
    EXPECT_EQ(devices, (std::set<std::string>{"rank 5:NPU 2"}));
  }
}

TEST(AscendFolder, BrokenKernelSourceIsAnErrorNamingTheFile) {
  const fs::path pt = fresh_dir("broken_ascend_pt");
  write(pt / "ASCEND_PROFILER_OUTPUT/kernel_details.csv",
        "Device_id,Name,Type,Start Time(us),Duration(us)\n0,k,T,abc,1\n");
  TraceStore store;
  auto r = read_ascend_profiler_output(pt.string(), store);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("kernel_details.csv: no row of the kernel table could be "
                                      "read; line 2: bad Start Time(us)"),
            std::string::npos)
      << r.status().message();
}

TEST(AscendFolder, MsprofOldLayoutReadsTheTimelineOnly) {
  const FolderFormat& f = msprof_prof_folder_format();
  EXPECT_TRUE(f.claims(kProf.string()));
  EXPECT_TRUE(f.claims(kProf.parent_path().string()));  // a folder of PROF_* folders
  TraceStore store;
  auto r = f.read_dir(kProf.string(), store, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  // msprof_0_2_1.json (SOURCES.md): X 1049 + s 1 + t 1; task_time, hccl and step_trace JSON
  // are parts of it.
  EXPECT_EQ(r->events, 1051u);
  EXPECT_EQ(store.skips().get("msprof files not imported: their tasks came from another file "
                              "of the same PROF folder"),
            3u);
  const Snapshot snap = store.snapshot();
  for (const Process& p : snap.processes()) {
    if (snap.str(p.name) == "Ascend Hardware") {
      EXPECT_EQ(p.device, 0);  // from device_0/
    }
  }
}

TEST(AscendFolder, MsprofNewLayoutPrefersOpSummaryOverTaskTime) {
  const fs::path prof = fresh_dir("PROF_000001_20260605161708478_FRJKORBPFMHQMGLA");
  const fs::path out = prof / "mindstudio_profiler_output";
  write(out / "op_summary_20260605161737.csv",
        "Device_id,Model ID,Task ID,Stream ID,Op Name,OP Type,OP State,Task Type,Task Start "
        "Time(us),Task Duration(us),Task Wait Time(us),Block Dim,Mix Block Dim\n"
        "0,4294967295,0,1756,main_kernel,main_kernel,dynamic,MIX_AIC,1780676244313289.000\t,"
        "87139.380,0,256,512\n");
  write(out / "task_time_20260605161737.csv",
        "Device_id,kernel_name,kernel_type,stream_id,task_id,task_time(us),task_start(us),"
        "task_stop(us)\n"
        "0,main_kernel,MIX_AIC,1756,0,87141.960,1780676244313287.420\t,1780676244400429.380\t\n");
  write(out / "op_statistic_20260605161737.csv",
        "Device_id,OP Type,Core Type,Count,Total Time(us),Min Time(us),Avg Time(us),Max "
        "Time(us),Ratio(%)\n0,main_kernel,MIX_AIC,1,87139.38,87139.38,87139.38,87139.38,100\n");
  EXPECT_TRUE(msprof_prof_folder_format().claims(prof.string()));
  EXPECT_FALSE(ascend_profiler_output_format().claims(prof.string()));
  TraceStore store;
  auto r = read_msprof_prof_folder(prof.string(), store);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 1u);
  EXPECT_EQ(store.snapshot().at(0)->dur, 87139380);
  EXPECT_FALSE(metadata(store, "ascend.op_statistic").empty());
}

TEST(AscendFolder, NotAFolderOfThisKind) {
  const fs::path dir = fresh_dir("empty");
  EXPECT_FALSE(ascend_profiler_output_format().claims(dir.string()));
  EXPECT_FALSE(msprof_prof_folder_format().claims(dir.string()));
  TraceStore store;
  auto r = read_msprof_prof_folder(dir.string(), store);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not an msprof output folder"), std::string::npos);
}

}  // namespace
}  // namespace huoyan
