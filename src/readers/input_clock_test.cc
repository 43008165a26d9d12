// Clock alignment of merged inputs: each input's sync fields (Kineto baseTimeNanoseconds, Nsight
// Systems utcEpochNs, msprof/torch_npu epoch times, huoyan's own metadata) move its times onto
// the Unix epoch as it is read; inputs without usable sync fields are reported and left alone.
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/readers/chrome_json_reader.h"
#include "src/readers/nsys_sqlite_testing.h"
#include "src/readers/nsys_sync_info.h"
#include "src/readers/sniff.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;

const fs::path kReal = HUOYAN_TESTDATA_REAL;

class InputClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("huoyan_clock_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& rel, const std::string& content) {
    const fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

  // A Kineto trace: one kernel at `ts_us` (a JSON number), the root key written after the
  // events as Kineto does, unless `root` is empty.
  std::string kineto(const std::string& rel, const std::string& ts_us, const std::string& root) {
    return write(rel, R"({"schemaVersion":1,"traceEvents":[
      {"name":"Gemm","cat":"kernel","ph":"X","ts":)" +
                          ts_us + R"(,"dur":2,"pid":0,"tid":7,"args":{"device":0,"stream":7}}])" +
                          (root.empty() ? "" : "," + root) + "}");
  }

  fs::path dir_;
};

std::string meta(const TraceStore& store, const std::string& key) {
  for (const auto& [k, v] : store.metadata()) {
    if (k == key) return v;
  }
  return "<none>";
}

// Start times of the kernels of input i (pids moved by i * kInputPidStride), sorted.
std::vector<int64_t> kernel_starts(const TraceStore& store, int64_t input) {
  std::vector<int64_t> out;
  const Snapshot snap = store.snapshot();
  snap.for_each([&](const EventView& v) {
    const int64_t pid = snap.track(v->track).pid;
    if (v->kind == EventKind::kKernel && pid >= input * kInputPidStride &&
        pid < (input + 1) * kInputPidStride) {
      out.push_back(v->ts);
    }
  });
  std::sort(out.begin(), out.end());
  return out;
}

// Earliest event of input i.
int64_t first_ts(const TraceStore& store, int64_t input) {
  int64_t first = std::numeric_limits<int64_t>::max();
  const Snapshot snap = store.snapshot();
  snap.for_each([&](const EventView& v) {
    const int64_t pid = snap.track(v->track).pid;
    if (pid >= input * kInputPidStride && pid < (input + 1) * kInputPidStride) {
      first = std::min(first, v->ts);
    }
  });
  return first;
}

TEST_F(InputClockTest, TwoRanksLandOnOneWallClock) {
  // Rank 1's capture began 500 µs after rank 0's: the kernel at 1000 µs on rank 0 and the one
  // at 500 µs on rank 1 ran at the same wall time.
  const std::string r0 =
      kineto("r0.json", "1000.000",
             R"("distributedInfo":{"rank":0},"baseTimeNanoseconds":1700000000000000000)");
  const std::string r1 =
      kineto("r1.json", "500.000",
             R"("distributedInfo":{"rank":1},"baseTimeNanoseconds":1700000000000500000)");
  TraceStore store;
  InputReport report;
  ASSERT_TRUE(read_inputs({r0, r1}, store, {}, &report).ok());
  EXPECT_EQ(kernel_starts(store, 0), std::vector<int64_t>{1700000000001000000});
  EXPECT_EQ(kernel_starts(store, 1), std::vector<int64_t>{1700000000001000000});

  EXPECT_EQ(meta(store, "clock.input0.offset_ns"), "1700000000000000000");
  EXPECT_EQ(meta(store, "clock.input1.offset_ns"), "1700000000000500000");
  EXPECT_EQ(meta(store, "clock.input1.rank"), "1");
  EXPECT_EQ(meta(store, "clock.input1.file"), r1);
  EXPECT_EQ(meta(store, "clock.input1.basis"), "baseTimeNanoseconds=1700000000000500000");
  EXPECT_EQ(meta(store, "clock.timeline"), "Unix epoch ns");
  ASSERT_EQ(report.read.size(), 2u);
  EXPECT_TRUE(report.read[1].merged);
  EXPECT_EQ(report.read[1].offset_ns, 1700000000000500000);
  EXPECT_EQ(clock_report_line(report.read[1].rank, "r1.json", report.read[1].clock,
                              report.read[1].offset_ns),
            "rank 1 r1.json: Kineto, relative to baseTimeNanoseconds, offset "
            "+1700000000000500000 ns (baseTimeNanoseconds=1700000000000500000)");
}

TEST_F(InputClockTest, StepsAndRequestMarksMoveWithTheirInput) {
  const std::string r0 = kineto("r0.json", "1.000", R"("baseTimeNanoseconds":1000000000000000000)");
  const std::string r1 = write("r1.json", R"({"traceEvents":[
    {"name":"step","ph":"X","ts":0,"dur":10,"pid":1,"tid":1,"args":{"step":1}}],
    "baseTimeNanoseconds":2000000000000000000,
    "huoyan":{"steps":[{"id":1,"start":0,"end":10000,"track":[1,1],"members":[["r1",4]]}],
              "requests":[{"id":"r1","arrival":5,"first_token":null,"finish":9000}]}})");
  TraceStore store;
  ASSERT_TRUE(read_inputs({r0, r1}, store, {}).ok());
  const auto step = store.step((uint64_t{1} << kInputStepShift) + 1);
  ASSERT_TRUE(step.has_value());
  EXPECT_EQ(step->start, 2000000000000000000);
  EXPECT_EQ(step->end, 2000000000000010000);
  const auto req = store.request(store.intern("r1"));
  ASSERT_TRUE(req.has_value());
  EXPECT_EQ(req->arrival, 2000000000000000005);
  EXPECT_EQ(req->first_token, kNoTime);
  EXPECT_EQ(req->finish, 2000000000000009000);
}

TEST_F(InputClockTest, InputWithoutSyncInfoIsReportedAndNotMoved) {
  const std::string r0 = kineto("r0.json", "1.000", R"("baseTimeNanoseconds":1000000000000000000)");
  const std::string r1 =
      write("r1.json", R"([{"name":"k","ph":"X","ts":7,"dur":2,"pid":1,"tid":1,"cat":"kernel"}])");
  TraceStore store;
  InputReport report;
  ASSERT_TRUE(read_inputs({r0, r1}, store, {}, &report).ok());
  EXPECT_EQ(kernel_starts(store, 0), std::vector<int64_t>{1000000000000001000});
  EXPECT_EQ(kernel_starts(store, 1), std::vector<int64_t>{7000});
  EXPECT_EQ(meta(store, "clock.input1.unaligned"), "no sync info (array-form trace)");
  EXPECT_EQ(meta(store, "clock.input1.offset_ns"), "<none>");
  EXPECT_EQ(meta(store, "clock.timeline"), "<none>");
  EXPECT_EQ(clock_report_line("1", "r1.json", report.read[1].clock, report.read[1].offset_ns),
            "rank 1 r1.json: unaligned: no sync info (array-form trace) (offset 0 ns)");
}

TEST_F(InputClockTest, SingleInputIsNeverShifted) {
  const std::string r0 = kineto("r0.json", "1.000", R"("baseTimeNanoseconds":1000000000000000000)");
  TraceStore store;
  InputReport report;
  ASSERT_TRUE(read_inputs({r0}, store, {}, &report).ok());
  EXPECT_EQ(kernel_starts(store, 0), std::vector<int64_t>{1000});
  EXPECT_FALSE(report.read[0].merged);
  EXPECT_EQ(meta(store, "clock.input0.rank"), "<none>");
}

TEST_F(InputClockTest, BadSyncFieldsLeaveTheInputUnaligned) {
  const std::map<std::string, std::string> cases = {
      {R"("baseTimeNanoseconds":-5)", "baseTimeNanoseconds negative (-5)"},
      {R"("baseTimeNanoseconds":"1700000000000000000")",
       "baseTimeNanoseconds is a string (\"1700000000000000000\")"},
      {R"("baseTimeNanoseconds":1.7e18)", "baseTimeNanoseconds not an integer (1.7e18)"},
      {R"("baseTimeNanoseconds":99999999999999999999999)",
       "baseTimeNanoseconds out of range (99999999999999999999999)"},
      {R"("baseTimeNanoseconds":0)", "baseTimeNanoseconds zero"},
      {R"("baseTimeNanoseconds":true)", "baseTimeNanoseconds not an integer (true)"},
      {R"("baseTimeNanoseconds":1000000000000000000,"baseTimeNanoseconds":1000000000000000001)",
       "contradictory sync fields: baseTimeNanoseconds=1000000000000000000 vs "
       "baseTimeNanoseconds=1000000000000000001"},
      {R"("metadata":{"clock.mspti.offset_ns":"12"})", "clock.mspti.offset_ns not below zero (12)"},
  };
  const std::string good =
      kineto("good.json", "1.000", R"("baseTimeNanoseconds":1000000000000000000)");
  int n = 0;
  for (const auto& [root, reason] : cases) {
    SCOPED_TRACE(root);
    const std::string bad = kineto("bad" + std::to_string(n++) + ".json", "3.000", root);
    TraceStore store;
    ASSERT_TRUE(read_inputs({good, bad}, store, {}).ok());
    EXPECT_EQ(meta(store, "clock.input1.unaligned"), reason);
    EXPECT_EQ(kernel_starts(store, 1), std::vector<int64_t>{3000});
    EXPECT_EQ(kernel_starts(store, 0), std::vector<int64_t>{1000000000000001000});
  }
}

TEST_F(InputClockTest, HuoyanOutputCarriesItsRealtimeOffset) {
  // The msPTI collector measured store time − CLOCK_REALTIME = −1.6e18 ns.
  const std::string own = write("own.json", R"({"traceEvents":[
    {"name":"k","cat":"kernel","ph":"X","ts":2.000,"dur":1,"pid":3,"tid":1}],
    "displayTimeUnit":"ns","metadata":{"clock.mspti.offset_ns":"-1600000000000000000"}})");
  const std::string other =
      kineto("k.json", "1.000", R"("baseTimeNanoseconds":1600000000000000000)");
  TraceStore store;
  ASSERT_TRUE(read_inputs({own, other}, store, {}).ok());
  EXPECT_EQ(kernel_starts(store, 0), std::vector<int64_t>{1600000000000002000});
  EXPECT_EQ(meta(store, "clock.input0.basis"),
            "metadata clock.mspti.offset_ns=-1600000000000000000");
}

// A synthetic Nsight Systems export whose TARGET_INFO_SESSION_START_TIME holds `rows`.
std::string nsys_db(const fs::path& path, const std::string& rows) {
  testing::NsysDbSpec spec;
  spec.kernels = 3;
  spec.devices = 1;
  spec.streams = 1;
  EXPECT_EQ(testing::make_nsys_db(path.string(), spec), "");
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  std::string sql =
      "CREATE TABLE TARGET_INFO_SESSION_START_TIME (utcEpochNs INTEGER, utcTime TEXT, localTime "
      "TEXT);" +
      rows;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  return path.string();
}

TEST_F(InputClockTest, NsysSessionStart) {
  const auto ins = [](const std::string& v) {
    return "INSERT INTO TARGET_INFO_SESSION_START_TIME VALUES (" + v + ", 't', 't');";
  };
  InputClock c = nsys_input_clock(nsys_db(dir_ / "a.sqlite", ins("1696392839587175550")));
  EXPECT_EQ(c.kind, InputClock::Kind::kAnchored);
  EXPECT_EQ(c.to_epoch_ns, 1696392839587175550);
  EXPECT_EQ(nsys_input_clock(nsys_db(dir_ / "b.sqlite", ins("NULL"))).reason, "utcEpochNs is NULL");
  EXPECT_EQ(nsys_input_clock(nsys_db(dir_ / "c.sqlite", ins("-3"))).reason,
            "utcEpochNs negative (-3)");
  EXPECT_EQ(nsys_input_clock(nsys_db(dir_ / "d.sqlite", ins("'soon'"))).reason,
            "utcEpochNs is not an integer (soon)");
  EXPECT_EQ(nsys_input_clock(nsys_db(dir_ / "e.sqlite", ins("1.5"))).reason,
            "utcEpochNs is not an integer (1.5)");
  EXPECT_EQ(nsys_input_clock(nsys_db(dir_ / "f.sqlite", ins("1") + ins("2"))).reason,
            "contradictory sync fields: TARGET_INFO_SESSION_START_TIME.utcEpochNs=1 vs "
            "TARGET_INFO_SESSION_START_TIME.utcEpochNs=2");
  EXPECT_EQ(nsys_input_clock(nsys_db(dir_ / "g.sqlite", "")).reason,
            "no sync info (TARGET_INFO_SESSION_START_TIME is empty)");
  EXPECT_EQ(nsys_input_clock(nsys_db(dir_ / "h.sqlite", ins("1") + ins("1"))).to_epoch_ns, 1);

  // Merged with a Kineto rank that started 1 s later: both kernels' own times move by their
  // anchors.
  const std::string k = kineto("k.json", "1.000", R"("baseTimeNanoseconds":1696392840587175550)");
  TraceStore store;
  ASSERT_TRUE(read_inputs({(dir_ / "a.sqlite").string(), k}, store, {}).ok());
  TraceStore alone;
  ASSERT_TRUE(read_inputs({(dir_ / "a.sqlite").string()}, alone, {}).ok());
  std::vector<int64_t> expected = kernel_starts(alone, 0);
  for (int64_t& t : expected) t += 1696392839587175550;
  EXPECT_EQ(kernel_starts(store, 0), expected);
  EXPECT_EQ(kernel_starts(store, 1), std::vector<int64_t>{1696392840587176550});
}

// The real samples, merged: the offsets are the files' own fields, read by hand with sqlite3
// and python (testdata/real/SOURCES.md lists the files).
TEST(InputClockReal, SamplesMergedWithEachOther) {
  const fs::path nsys = kReal / "nsys/pipit/pipit/tests/data";
  const fs::path hta = kReal / "kineto/hta/tests/data";
  const std::vector<std::string> inputs = {
      (nsys / "cloverleaf-nsys/perlmutter-cloverleaf-cuda.sqlite").string(),
      (hta / "cpu_only/rank-34.Jul_15_10_52_41.1074.pt.trace.json.gz").string(),
      (kReal / "ascend/msinsight/server/src/test/test_data/test_rank_0").string(),
      (nsys / "saxpy-mpi-cuda_nsys_perlmutter0.sqlite").string(),
      (hta / "critical_path/simple_add/benchmark_result_493459_1694039959_trace.json").string(),
  };
  TraceStore store;
  InputReport report;
  ASSERT_TRUE(read_inputs(inputs, store, {}, &report).ok());
  ASSERT_EQ(report.read.size(), 5u);
  // TARGET_INFO_SESSION_START_TIME.utcEpochNs (2023-10-04T04:13:59 UTC).
  EXPECT_EQ(report.read[0].offset_ns, 1696392839587175550);
  // Kineto "baseTimeNanoseconds", written after "traceEvents"; its rank is 34.
  EXPECT_EQ(report.read[1].offset_ns, 1719853884000000000);
  EXPECT_EQ(report.read[1].rank, "34");
  // torch_npu kernel_details.csv: already Unix epoch µs.
  EXPECT_EQ(report.read[2].clock.kind, InputClock::Kind::kEpoch);
  EXPECT_EQ(report.read[2].offset_ns, 0);
  // utcEpochNs of the older export (2023-06-26T21:00:57 UTC).
  EXPECT_EQ(report.read[3].offset_ns, 1687813257637297504);
  // Old Kineto: absolute ts, but no baseTimeNanoseconds to say so.
  EXPECT_FALSE(report.read[4].clock.aligned());
  EXPECT_EQ(report.read[4].offset_ns, 0);
  EXPECT_EQ(meta(store, "clock.input4.unaligned"), "no sync info (no baseTimeNanoseconds)");

  // The earliest kernel of cloverleaf: start 533338240 ns into the session.
  EXPECT_EQ(kernel_starts(store, 0).front(), 1696392839587175550 + 533338240);
  // The earliest event of the CPU-only Kineto trace's process 1074 (its "Spans" pseudo-process
  // gets a pid outside the range): ProfilerStep#551 at ts 1212075529876.817 µs after the base,
  // 2024-07-15 17:52:39 UTC (the file name says Jul_15_10_52_41, Pacific time).
  EXPECT_EQ(first_ts(store, 1), 1719853884000000000 + 1212075529876817);
  // saxpy: earliest kernel start 924922186 ns into its session.
  EXPECT_EQ(kernel_starts(store, 3).front(), 1687813257637297504 + 924922186);
  // Kernel start of the first torch_npu row: "1695115378713661" µs, unshifted.
  EXPECT_EQ(kernel_starts(store, 2).front(), 1695115378713661000);
}

}  // namespace
}  // namespace huoyan
