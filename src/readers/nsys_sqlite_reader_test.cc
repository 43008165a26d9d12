// Nsight Systems SQLite reader: the real exports of testdata/real/nsys (both schema generations)
// imported through read_input and checked against SOURCES.md and against sqlite3 queries of the
// same files; synthetic databases for the wrong-schema cases.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <zlib.h>

#include "src/readers/nsys_sqlite_reader.h"
#include "src/readers/nsys_sqlite_testing.h"
#include "src/readers/sniff.h"
#include "src/readers/sqlite_db.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;

const fs::path kReal = HUOYAN_TESTDATA_REAL;

struct Expected {
  std::string path;
  std::map<std::string, uint64_t> rows;  // table → count(*)
  std::map<std::pair<int64_t, int64_t>, uint64_t> kernel_streams;
  int64_t min_start = 0, max_end = 0, kernel_ns = 0;
};

std::vector<Expected> load_expected() {
  std::ifstream in(kReal / "SOURCES.md");
  const std::regex line_re(R"(^\* `(nsys/[^`]+\.sqlite)`)");
  const std::regex rows_re(R"(rows (\w+)=(\d+))");
  const std::regex streams_re(R"(kernel \(deviceId,streamId\)->count=\[(.*?)\];)");
  const std::regex stream_re(R"(\[(\d+),(\d+),(\d+)\])");
  const std::regex span_re(R"(kernel min start/max end \(ns\)=\[(\d+),(\d+)\])");
  const std::regex sum_re(R"(kernel sum\(end-start\) ns=(\d+))");
  std::vector<Expected> out;
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (!std::regex_search(line, m, line_re)) continue;
    Expected e;
    e.path = m[1].str();
    for (std::sregex_iterator it(line.begin(), line.end(), rows_re), end; it != end; ++it) {
      e.rows[(*it)[1].str()] = std::stoull((*it)[2].str());
    }
    if (std::regex_search(line, m, streams_re)) {
      const std::string items = m[1].str();
      for (std::sregex_iterator it(items.begin(), items.end(), stream_re), end; it != end; ++it) {
        e.kernel_streams[{std::stoll((*it)[1].str()), std::stoll((*it)[2].str())}] =
            std::stoull((*it)[3].str());
      }
    }
    if (std::regex_search(line, m, span_re)) {
      e.min_start = std::stoll(m[1].str());
      e.max_end = std::stoll(m[2].str());
    }
    if (std::regex_search(line, m, sum_re)) e.kernel_ns = std::stoll(m[1].str());
    out.push_back(std::move(e));
  }
  return out;
}

struct Counts {
  std::map<std::string, uint64_t> by_cat;  // duration events by category
  std::map<std::pair<int64_t, int64_t>, uint64_t> kernel_streams;
  int64_t kernel_ns = 0, min_start = INT64_MAX, max_end = INT64_MIN;
  uint64_t flow_starts = 0, flow_ends = 0, instants = 0;
};

Counts count(const TraceStore& store) {
  Counts c;
  const Snapshot snap = store.snapshot();
  snap.for_each([&](const EventView& ev) {
    if (ev->kind == EventKind::kFlowStart) ++c.flow_starts;
    if (ev->kind == EventKind::kFlowEnd) ++c.flow_ends;
    if (ev->kind == EventKind::kInstant) ++c.instants;
    if (!has_duration(ev->kind)) return;
    ++c.by_cat[std::string(snap.str(ev->cat))];
    if (ev->kind != EventKind::kKernel) return;
    const Track& t = snap.track(ev->track);
    c.kernel_streams[{snap.process_of(ev->track).device, t.tid}]++;
    c.kernel_ns += ev->dur;
    c.min_start = std::min(c.min_start, ev->ts);
    c.max_end = std::max(c.max_end, ev->end());
  });
  return c;
}

int64_t query(const std::string& path, const std::string& sql) {
  auto db = SqliteDb::open(path);
  EXPECT_TRUE(db.ok());
  if (!db.ok()) return -1;
  auto v = db->scalar(sql);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? *v : -1;
}

TEST(NsysSqliteReaderReal, EveryExportMatchesSources) {
  const auto expected = load_expected();
  ASSERT_EQ(expected.size(), 2u) << "SOURCES.md lists two nsys exports";
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.path);
    const std::string path = (kReal / e.path).string();
    TraceStore store;
    InputReport report;
    auto r = read_input(path, store, {}, &report);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(report.read.size(), 1u);
    EXPECT_EQ(report.read[0].format, "nsys-sqlite");
    Counts c = count(store);
    EXPECT_EQ(c.by_cat["kernel"], e.rows.at("CUPTI_ACTIVITY_KIND_KERNEL"));
    EXPECT_EQ(c.by_cat["cuda_runtime"], e.rows.at("CUPTI_ACTIVITY_KIND_RUNTIME"));
    EXPECT_EQ(c.by_cat["gpu_memcpy"], e.rows.at("CUPTI_ACTIVITY_KIND_MEMCPY"));
    const auto memset = e.rows.find("CUPTI_ACTIVITY_KIND_MEMSET");
    EXPECT_EQ(c.by_cat["gpu_memset"], memset == e.rows.end() ? 0 : memset->second);
    EXPECT_EQ(c.kernel_streams, e.kernel_streams);
    EXPECT_EQ(c.kernel_ns, e.kernel_ns);  // integer ns, exactly
    EXPECT_EQ(c.min_start, e.min_start);
    EXPECT_EQ(c.max_end, e.max_end);
    // Same figure straight from SQLite, so the test does not only trust SOURCES.md.
    EXPECT_EQ(c.kernel_ns, query(path, "SELECT sum(end - start) FROM CUPTI_ACTIVITY_KIND_KERNEL"));
    // One flow per device activity whose correlationId has a runtime call.
    const int64_t linked =
        query(path,
              "SELECT (SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL k WHERE k.correlationId IN "
              "(SELECT correlationId FROM CUPTI_ACTIVITY_KIND_RUNTIME)) + (SELECT count(*) FROM "
              "CUPTI_ACTIVITY_KIND_MEMCPY k WHERE k.correlationId IN (SELECT correlationId FROM "
              "CUPTI_ACTIVITY_KIND_RUNTIME))");
    EXPECT_GT(linked, 0);
    EXPECT_EQ(c.flow_starts, static_cast<uint64_t>(linked));
    EXPECT_EQ(c.flow_ends, static_cast<uint64_t>(linked));
    const auto nvtx = e.rows.find("NVTX_EVENTS");
    if (nvtx != e.rows.end()) {
      const int64_t ranges = query(path,
                                   "SELECT count(*) FROM NVTX_EVENTS WHERE eventType IN "
                                   "(59, 60, 70, 71) AND end IS NOT NULL");
      const int64_t meta = query(path,
                                 "SELECT count(*) FROM NVTX_EVENTS WHERE eventType NOT IN "
                                 "(59, 60, 70, 71, 34, 65)");
      EXPECT_EQ(c.by_cat["nvtx"] + c.instants + static_cast<uint64_t>(meta), nvtx->second);
      EXPECT_EQ(c.by_cat["nvtx"], static_cast<uint64_t>(ranges));
    }
    EXPECT_EQ(store.skips().total(), 0u);
    EXPECT_EQ(r->events, store.appended());
  }
}

TEST(NsysSqliteReaderReal, NamesThreadsAndDevices) {
  const std::string path =
      (kReal / "nsys/pipit/pipit/tests/data/saxpy-mpi-cuda_nsys_perlmutter0.sqlite").string();
  TraceStore store;
  ASSERT_TRUE(read_input(path, store, {}).ok());
  const Snapshot snap = store.snapshot();
  std::map<std::string, uint64_t> names;
  std::string device_label, host_process;
  snap.for_each([&](const EventView& ev) {
    if (!has_duration(ev->kind)) return;
    names[std::string(snap.str(ev->name))]++;
    if (ev->kind == EventKind::kKernel) device_label = snap.device_label(ev->track);
    if (snap.str(ev->cat) == "cuda_runtime")
      host_process = snap.str(snap.process_of(ev->track).name);
  });
  EXPECT_EQ(names["saxpy(double *, double *, double *, double, int)"], 5u);
  EXPECT_EQ(names["saxpy"], 5u);  // NVTX ranges with inline text
  EXPECT_EQ(names["Memcpy HtoD"], 10u);
  EXPECT_EQ(device_label, "GPU 0");
  EXPECT_EQ(host_process, "./saxpy-mpi-cuda");
}

class NsysSqliteReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("huoyan_nsys_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string make(const std::string& name, const testing::NsysDbSpec& spec) {
    const std::string p = (dir_ / name).string();
    EXPECT_EQ(testing::make_nsys_db(p, spec), "");
    return p;
  }
  static void exec(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  fs::path dir_;
};

TEST_F(NsysSqliteReaderTest, GeneratedDatabase) {
  testing::NsysDbSpec spec;
  spec.kernels = 5000;
  const std::string path = make("gen.sqlite", spec);
  TraceStore store;
  auto r = read_input(path, store, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  Counts c = count(store);
  EXPECT_EQ(c.by_cat["kernel"], 5000u);
  EXPECT_EQ(c.by_cat["cuda_runtime"], 5000u);
  EXPECT_EQ(c.flow_starts, 5000u);
  EXPECT_EQ(c.kernel_ns, testing::nsys_db_kernel_ns(spec));
  EXPECT_EQ(c.kernel_streams.size(), 8u);  // 2 devices × 4 streams
}

TEST_F(NsysSqliteReaderTest, GzipCompressedExport) {
  const std::string real =
      (kReal / "nsys/pipit/pipit/tests/data/saxpy-mpi-cuda_nsys_perlmutter0.sqlite").string();
  const std::string gz = (dir_ / "saxpy.sqlite.gz").string();
  {
    std::ifstream in(real, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    gzFile f = gzopen(gz.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
    gzclose(f);
  }
  TraceStore a, b;
  InputReport report;
  ASSERT_TRUE(read_input(real, a, {}).ok());
  auto r = read_input(gz, b, {}, &report);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(report.read.at(0).format, "nsys-sqlite");
  EXPECT_EQ(a.appended(), b.appended());
  EXPECT_EQ(count(a).kernel_ns, count(b).kernel_ns);
}

TEST_F(NsysSqliteReaderTest, DroppedColumnIsAnErrorNamingIt) {
  const std::string path = make("drop.sqlite", {});
  exec(path, "ALTER TABLE CUPTI_ACTIVITY_KIND_KERNEL DROP COLUMN streamId");
  TraceStore store;
  auto r = read_input(path, store, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path), std::string::npos);
  EXPECT_NE(r.status().message().find("CUPTI_ACTIVITY_KIND_KERNEL has no column streamId"),
            std::string::npos)
      << r.status().message();
}

TEST_F(NsysSqliteReaderTest, DroppedOptionalColumnsAreNull) {
  const std::string path = make("opt.sqlite", {});
  exec(path,
       "ALTER TABLE CUPTI_ACTIVITY_KIND_KERNEL DROP COLUMN gridX;"
       "ALTER TABLE CUPTI_ACTIVITY_KIND_KERNEL DROP COLUMN correlationId;"
       "ALTER TABLE CUPTI_ACTIVITY_KIND_KERNEL DROP COLUMN demangledName;");
  TraceStore store;
  auto r = read_input(path, store, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  Counts c = count(store);
  EXPECT_EQ(c.by_cat["kernel"], 1000u);
  EXPECT_EQ(c.flow_starts, 0u);  // nothing to link without correlationId
}

TEST_F(NsysSqliteReaderTest, WrongTableIsNotClaimed) {
  const std::string path = make("wrong.sqlite", {});
  exec(path, "ALTER TABLE StringIds RENAME TO Strings");
  TraceStore store;
  auto r = read_input(path, store, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            path + ": not a recognised trace (tried " + file_format_names() + ")");
  // Read directly, the reader says why.
  auto direct = NsysSqliteReader().read_file(path, store, {});
  ASSERT_FALSE(direct.ok());
  EXPECT_NE(direct.status().message().find("not an Nsight Systems SQLite export"),
            std::string::npos);
}

TEST_F(NsysSqliteReaderTest, MissingStringIdsWithKernelsIsAnError) {
  const std::string path = make("nostrings.sqlite", {});
  exec(path, "DROP TABLE StringIds; CREATE TABLE META_DATA_EXPORT2 (x);");
  TraceStore store;
  auto r = NsysSqliteReader().read_file(path, store, {});
  ASSERT_FALSE(r.ok());
}

TEST_F(NsysSqliteReaderTest, BadRowsAreCountedNotFatal) {
  const std::string path = make("bad.sqlite", {});
  exec(path,
       "CREATE TABLE k2 AS SELECT * FROM CUPTI_ACTIVITY_KIND_KERNEL;"
       "DROP TABLE CUPTI_ACTIVITY_KIND_KERNEL;"
       "ALTER TABLE k2 RENAME TO CUPTI_ACTIVITY_KIND_KERNEL;"
       "UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET end = start - 1 WHERE rowid <= 3;"
       "UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET end = NULL WHERE rowid = 4;"
       "UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET demangledName = 999999 WHERE rowid = 5;");
  TraceStore store;
  auto r = read_input(path, store, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(store.skips().get("nsys: row with end before start"), 3u);
  EXPECT_EQ(store.skips().get("nsys: row without start or end"), 1u);
  EXPECT_EQ(store.skips().get("nsys: name id not in StringIds (named [unknown])"), 1u);
  EXPECT_EQ(r->skipped, 4u);
  EXPECT_EQ(count(store).by_cat.at("kernel"), 996u);
}

TEST_F(NsysSqliteReaderTest, TruncatedFileIsAClearError) {
  const std::string real =
      (kReal / "nsys/pipit/pipit/tests/data/cloverleaf-nsys/perlmutter-cloverleaf-cuda.sqlite")
          .string();
  std::ifstream in(real, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  for (size_t cut : {size_t{100}, size_t{4096}, bytes.size() / 3, bytes.size() - 4096}) {
    SCOPED_TRACE(cut);
    const std::string path = (dir_ / ("cut" + std::to_string(cut) + ".sqlite")).string();
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(cut));
    TraceStore store;
    auto r = read_input(path, store, {});
    if (r.ok()) {
      // Cut after the tables it reads: what was read is consistent.
      EXPECT_EQ(r->events, store.appended());
    } else {
      EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
    }
  }
}

TEST_F(NsysSqliteReaderTest, SeveralInputsDoNotShareTracks) {
  testing::NsysDbSpec spec;
  spec.kernels = 100;
  const std::string a = make("a.sqlite", spec), b = make("b.sqlite", spec);
  TraceStore store;
  ASSERT_TRUE(read_inputs({a, b}, store, {}).ok());
  const Snapshot snap = store.snapshot();
  std::map<TrackId, uint64_t> per_track;
  snap.for_each([&](const EventView& ev) {
    if (ev->kind == EventKind::kKernel) per_track[ev->track]++;
  });
  EXPECT_EQ(per_track.size(), 16u);  // 8 streams per input, kept apart
  uint64_t total = 0;
  for (const auto& [track, n] : per_track) {
    total += n;
    EXPECT_TRUE(n == 12 || n == 13) << snap.track_label(track) << ": " << n;
    EXPECT_TRUE(snap.is_device_track(track));
  }
  EXPECT_EQ(total, 200u);
}

}  // namespace
}  // namespace huoyan
