#include "src/readers/ascend_csv_reader.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

namespace huoyan {
namespace {

// The first rows of a real torch_npu Level1 kernel_details.csv (cann.md §4 S1b), PMU columns cut.
const char kKernelDetails[] =
    "Step Id,Model ID,Task ID,Stream ID,Name,Type,OP State,Accelerator Core,Start Time(us),"
    "Duration(us),Wait Time(us),Block Dim,Mix Block Dim,HF32 Eligible,Input Shapes,Input Data "
    "Types,Input Formats,Output Shapes,Output Data Types,Output Formats,Context ID\r\n"
    "19,4294967295,61653,2,aclnnMatmul_MatMulCommon_MatMulV2,MatMulV2,dynamic,AI_CORE,"
    "\"1736413971558972.912\t\",185.504,1.087,16,0,NO,\"\"\"81920,4096;8192,512\"\"\",DT_BF16;"
    "DT_BF16,ND;ND,\"\"\"4096,512\"\"\",DT_BF16,ND,N/A\r\n"
    "19,4294967295,N/A,N/A,hcom_allReduce__1_0,hcom_allReduce_,N/A,HCCL,"
    "\"1736413971560588.764\t\",501.17,2.2,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\r\n";

std::vector<EventView> events_of(const Snapshot& snap) {
  std::vector<EventView> out;
  snap.for_each([&](const EventView& ev) { out.push_back(ev); });
  return out;
}

const StoredArg* arg(const Snapshot& snap, const EventView& ev, std::string_view key) {
  for (const StoredArg& a : ev.args()) {
    if (snap.str(a.key) == key) return &a;
  }
  return nullptr;
}

Result<ReadStats> read_text(const std::string& text, TraceStore& store, AscendSource source = {},
                            size_t block = 4u << 20) {
  auto src = ByteSource::from_string(text, "kernel_details.csv");
  AscendKernelCsvReader reader(source, block);
  return reader.read(*src, store, {});
}

TEST(AscendKernelCsv, KernelDetailsRowsBecomeKernelsOnStreams) {
  for (size_t block : {size_t{3}, size_t{4} << 20}) {
    SCOPED_TRACE(block);
    TraceStore store;
    auto r = read_text(kKernelDetails, store, {}, block);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->events, 2u);
    EXPECT_EQ(r->skipped, 0u);
    const Snapshot snap = store.snapshot();
    auto ev = events_of(snap);
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0]->kind, EventKind::kKernel);
    EXPECT_EQ(snap.str(ev[0]->cat), "kernel");
    EXPECT_EQ(snap.str(ev[0]->name), "aclnnMatmul_MatMulCommon_MatMulV2");
    EXPECT_EQ(ev[0]->ts, 1736413971558972912);  // exact, through the TAB and the quotes
    EXPECT_EQ(ev[0]->dur, 185504);
    EXPECT_EQ(ev[0]->step, 19u);
    EXPECT_EQ(snap.track_label(ev[0]->track), "NPU 0 / Stream 2");
    EXPECT_EQ(snap.process_of(ev[0]->track).device_type, DeviceType::kNpu);
    EXPECT_EQ(snap.track_label(ev[1]->track), "NPU 0 / Stream N/A");
    ASSERT_NE(arg(snap, ev[0], "Type"), nullptr);
    EXPECT_EQ(arg(snap, ev[0], "Type")->value().s, "MatMulV2");
    EXPECT_EQ(arg(snap, ev[0], "Accelerator Core")->value().s, "AI_CORE");
    EXPECT_EQ(arg(snap, ev[0], "Block Dim")->value().i, 16);
    EXPECT_EQ(arg(snap, ev[0], "Input Shapes")->value().s, "81920,4096;8192,512");
    EXPECT_EQ(arg(snap, ev[0], "stream")->value().i, 2);
    EXPECT_EQ(arg(snap, ev[0], "device")->value().i, 0);
    EXPECT_EQ(arg(snap, ev[0], "Wait Time(us)")->value().d, 1.087);
    EXPECT_EQ(arg(snap, ev[0], "Context ID"), nullptr);  // N/A cells are left out
    EXPECT_EQ(arg(snap, ev[1], "stream"), nullptr);
    auto step = store.step(19);
    ASSERT_TRUE(step.has_value());
    EXPECT_EQ(step->start, 1736413971558972912);
    EXPECT_EQ(step->end, 1736413971560588764 + 501170);
  }
}

TEST(AscendKernelCsv, OpSummaryAliasesAndDeviceColumn) {
  // msprof op_summary (CANN 8.x): Op Name / OP Type / Task Type / Task Start Time(us), raw TAB.
  const std::string text =
      "Device_id,Model ID,Task ID,Stream ID,Op Name,OP Type,OP State,Task Type,Task Start "
      "Time(us),Task Duration(us),Task Wait Time(us),Block Num,Mix Block Num\n"
      "3,4294967295,0,1756,main_kernel,main_kernel,dynamic,MIX_AIC,1780676244313289.000\t,"
      "87139.380,0,256,512\n"
      "3,4294967295,1,1756,main_kernel,main_kernel,dynamic,MIX_AIC,1780676244407387.120\t,"
      "86808.420,6958.620000,256,512\n";
  TraceStore store;
  auto r = read_text(text, store);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 2u);
  const Snapshot snap = store.snapshot();
  auto ev = events_of(snap);
  EXPECT_EQ(ev[1]->ts, 1780676244407387120);
  EXPECT_EQ(ev[1]->dur, 86808420);
  EXPECT_EQ(snap.track_label(ev[0]->track), "NPU 3 / Stream 1756");
  EXPECT_EQ(arg(snap, ev[0], "device")->value().i, 3);
  EXPECT_EQ(arg(snap, ev[0], "Block Num")->value().i, 256);
  EXPECT_EQ(arg(snap, ev[0], "Task Type")->value().s, "MIX_AIC");
}

TEST(AscendKernelCsv, PmuColumnsArePackedIntoOneArray) {
  const std::string text =
      "Name,Start Time(us),Duration(us),Block Dim,aicore_time(us),aic_total_cycles,aiv_time(us),"
      "cube_utilization(%)\n"
      "MatMulV2,1,2,16,183.87,5295467,N/A,79.295\n"
      "Cast,3,4,8,0,0,0\n";  // a short row: the missing PMU cell is null too
  TraceStore store;
  auto r = read_text(text, store);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Snapshot snap = store.snapshot();
  auto ev = events_of(snap);
  ASSERT_EQ(ev.size(), 2u);
  const char* key = "PMU [aicore_time(us), aic_total_cycles, aiv_time(us), cube_utilization(%)]";
  ASSERT_NE(arg(snap, ev[0], key), nullptr);
  EXPECT_EQ(arg(snap, ev[0], key)->value().type, ArgType::kJson);
  EXPECT_EQ(arg(snap, ev[0], key)->value().s, "[183.87,5295467,null,79.295]");
  EXPECT_EQ(arg(snap, ev[1], key)->value().s, "[0,0,0,null]");
  EXPECT_EQ(arg(snap, ev[0], "Block Dim")->value().i, 16);  // descriptive: an arg of its own
  EXPECT_EQ(arg(snap, ev[0], "aicore_time(us)"), nullptr);
}

TEST(AscendKernelCsv, TaskTimeNonKernelTasksKeepTheirTaskTypesKind) {
  // msprof task_time_*.csv (cann.md §2.3, real sample S3).
  const std::string text =
      "Device_id,kernel_name,kernel_type,stream_id,task_id,task_time(us),task_start(us),"
      "task_stop(us)\n"
      "0,N/A,PROFILING_ENABLE,1754,4,0.020,1780676228921483.380\t,1780676228921483.400\t\n"
      "0,main_kernel,MIX_AIC,1756,0,87141.960,1780676244313287.420\t,1780676244400429.380\t\n";
  TraceStore store;
  auto r = read_text(text, store);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Snapshot snap = store.snapshot();
  auto ev = events_of(snap);
  ASSERT_EQ(ev.size(), 2u);
  // A control task is device work of its own type (docs/formats.md: neither copy, wait nor
  // communication).
  EXPECT_EQ(ev[0]->kind, EventKind::kKernel);
  EXPECT_EQ(snap.str(ev[0]->name), "PROFILING_ENABLE");
  EXPECT_EQ(ev[0]->dur, 20);
  EXPECT_TRUE(snap.is_device_event(*ev[0]));
  EXPECT_EQ(ev[1]->kind, EventKind::kKernel);
  EXPECT_EQ(ev[1]->ts + ev[1]->dur, 1780676244400429380);  // = task_stop(us)
  EXPECT_EQ(arg(snap, ev[1], "task_stop(us)"), nullptr);
}

TEST(AscendKernelCsv, RanksGetTheirOwnDevices) {
  TraceStore store;
  ASSERT_TRUE(read_text(kKernelDetails, store, {0, 0}).ok());
  ASSERT_TRUE(read_text(kKernelDetails, store, {0, 1}).ok());
  const Snapshot snap = store.snapshot();
  std::map<std::string, int> labels;
  for (TrackId t = 0; t < snap.tracks().size(); ++t) ++labels[snap.track_label(t)];
  EXPECT_EQ(labels, (std::map<std::string, int>{{"rank 0:NPU 0 / Stream 2", 1},
                                                {"rank 0:NPU 0 / Stream N/A", 1},
                                                {"rank 1:NPU 0 / Stream 2", 1},
                                                {"rank 1:NPU 0 / Stream N/A", 1}}));
}

// --- bad input: clear errors naming the file and line, or counted skips -------------------

std::string without_column(std::string text, std::string_view column) {
  const size_t at = text.find(column);
  text.erase(at, column.size() + 1);
  return text;
}

TEST(AscendKernelCsv, MissingColumnIsAnErrorNamingFileAndLine) {
  TraceStore store;
  auto r = read_text(without_column(kKernelDetails, "Start Time(us)"), store);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "kernel_details.csv: line 1: not a kernel table: no column Start Time(us) (or Task "
            "Start Time(us), task_start(us))");
}

TEST(AscendKernelCsv, SwappedHeaderGivesAnErrorWithTheFirstBadLine) {
  std::string text = kKernelDetails;
  // Name and Start Time(us) trade places in the header only.
  text.replace(text.find(",Name,"), 6, ",Start Time(us),");
  text.replace(text.find("Core,Start Time(us)"), 19, "Core,Name");
  TraceStore store;
  auto r = read_text(text, store);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "kernel_details.csv: no row of the kernel table could be read; line 2: bad Start "
            "Time(us)");
  EXPECT_EQ(store.skips().get("bad Start Time(us)"), 2u);
}

TEST(AscendKernelCsv, FileCutMidRowKeepsTheCompleteRows) {
  std::string text = kKernelDetails;
  text.resize(text.size() - 40);  // inside the last row
  TraceStore store;
  auto r = read_text(text, store);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 1u);
  EXPECT_EQ(r->skipped, 1u);
  EXPECT_EQ(store.skips().get("row cut off at end of input"), 1u);
  // Cut inside the quoted start time: the quote never closes.
  text = kKernelDetails;
  text.resize(text.find("1736413971560588") + 5);
  TraceStore store2;
  r = read_text(text, store2);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 1u);
  EXPECT_EQ(store2.skips().get("quoted field never closed at end of input"), 1u);
}

TEST(AscendKernelCsv, NulBytesAndBadEncoding) {
  std::string text = kKernelDetails;
  text[text.find("hcom_allReduce__1_0") + 2] = '\0';
  text[text.find("MatMulCommon") + 3] = '\xe9';  // Latin-1 é: not UTF-8
  TraceStore store;
  auto r = read_text(text, store);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 1u);
  EXPECT_EQ(store.skips().get("row with a NUL byte"), 1u);
  EXPECT_EQ(store.skips().get("invalid UTF-8 repaired"), 1u);
  const Snapshot snap = store.snapshot();
  EXPECT_EQ(snap.str(events_of(snap)[0]->name), "aclnnMatmul_Mat?ulCommon_MatMulV2");

  TraceStore store2;
  r = read_text(std::string("Na\0me,Start Time(us),Duration(us)\n", 34), store2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "kernel_details.csv: line 1: NUL byte in the header: not a CSV table");
  TraceStore store3;
  r = read_text("", store3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "kernel_details.csv: empty file, expected a CSV header line");
}

TEST(AscendKernelCsv, BadTimesAreSkippedAndCounted) {
  const std::string text =
      "Name,Start Time(us),Duration(us)\n"
      "a,1.5,2\n"
      "b,abc,2\n"
      "c,1,-3\n"
      "d,1,1e400\n"
      ",1,1\n";
  TraceStore store;
  auto r = read_text(text, store);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 2u);  // "a", and the nameless row as a span
  EXPECT_EQ(r->skipped, 3u);
  EXPECT_EQ(store.skips().get("bad Start Time(us)"), 1u);
  EXPECT_EQ(store.skips().get("negative Duration(us)"), 1u);
  EXPECT_EQ(store.skips().get("bad Duration(us)"), 1u);
}

// --- step trace and statistics -------------------------------------------------------------

Result<ReadStats> read_file_text(const std::string& text, TraceStore& store) {
  const std::string path = ::testing::TempDir() + "/ascend_table.csv";
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  return read_ascend_csv_file(path, store);
}

std::string metadata(const TraceStore& store, std::string_view key) {
  for (const auto& [k, v] : store.metadata()) {
    if (k == key) return v;
  }
  return "";
}

TEST(AscendCsvTables, StepTraceRowsBecomeStepsWithKernelTimes) {
  TraceStore store;
  ASSERT_TRUE(read_file_text(kKernelDetails, store).ok());
  auto r = read_file_text(
      "Device_id,Step,Computing,Communication(Not Overlapped),Overlapped,Communication,Free,"
      "Stage,Bubble,Communication(Not Overlapped and Exclude Receive),Preparing\n"
      "0,19,75174.57464453117,146614.02,6987.3,153601.3,69909.5,291698.0,0,146614.02,N/A\n"
      "0,20,1,2,3,4,5,6,7,8,9\n",
      store);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 0u);
  ASSERT_TRUE(store.step(19).has_value());
  EXPECT_EQ(store.step(19)->start, 1736413971558972912);  // kept from the kernels
  ASSERT_TRUE(store.step(20).has_value());
  EXPECT_EQ(store.step(20)->start, kNoTime);
  const std::string json = metadata(store, "ascend.step_trace_time");
  EXPECT_NE(json.find("{\"Device_id\":0,\"Step\":19,\"Computing\":75174.57464453117,"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"Preparing\":null}"), std::string::npos) << json;
}

TEST(AscendCsvTables, OpStatisticIsMetadataOnly) {
  TraceStore store;
  auto r = read_file_text(
      "Device_id,OP Type,Core Type,Count,Total Time(us),Min Time(us),Avg Time(us),Max "
      "Time(us),Ratio(%)\n0,main_kernel,MIX_AIC,3,249604.48,83082.44,83201.493,83401.66,100\n",
      store);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 0u);
  EXPECT_EQ(store.appended(), 0u);
  EXPECT_EQ(metadata(store, "ascend.op_statistic"),
            "[{\"Device_id\":0,\"OP Type\":\"main_kernel\",\"Core Type\":\"MIX_AIC\",\"Count\":3,"
            "\"Total Time(us)\":249604.48,\"Min Time(us)\":83082.44,\"Avg Time(us)\":83201.493,"
            "\"Max Time(us)\":83401.66,\"Ratio(%)\":100}]");
}

TEST(AscendCsvTables, UnknownHeaderIsAnError) {
  TraceStore store;
  auto r = read_file_text("a,b,c\n1,2,3\n", store);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("ascend_table.csv: line 1: not an Ascend CSV table"),
            std::string::npos)
      << r.status().message();
}

TEST(AscendCsvFormat, SniffsByHeader) {
  const FormatInfo& f = ascend_csv_format();
  EXPECT_EQ(f.name, "ascend-csv");
  EXPECT_TRUE(f.sniff(kKernelDetails, "x.csv"));
  EXPECT_TRUE(f.sniff("\xEF\xBB\xBFStep,Computing,Free\n1,2,3", "x"));
  EXPECT_TRUE(
      f.sniff("Device_id,kernel_name,kernel_type,stream_id,task_id,task_time(us),"
              "task_start(us),task_stop(us)\n",
              ""));
  EXPECT_TRUE(f.sniff("Device_id,Level,API Name,Time(us),Count,Avg(us)\n", ""));
  EXPECT_FALSE(f.sniff("[{\"ph\":\"X\",\"name\":\"Name\"}]", "trace.json"));
  EXPECT_FALSE(f.sniff("a,b,c\n", "kernel_details.csv"));
  EXPECT_FALSE(f.sniff(std::string_view("Name\0,Start Time(us),Duration(us)\n", 34), ""));
}

}  // namespace
}  // namespace huoyan
