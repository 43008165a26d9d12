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

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include "src/readers/nsys_sqlite_reader.h"
#include "src/readers/nsys_sqlite_testing.h"
#include "src/readers/sniff.h"
#include "src/readers/sqlite_db.h"
#include "src/readers/sqlite_int_rows.h"

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

// Every row of `columns` of `table` as SqliteIntRows gives it and as SQLite's own scan does
// (rowid, then per column is-NULL and value); equal, or the first difference. Returns how many
// rows came from decoded pages, -1 on an error.
int64_t expect_rows_as_sqlite(const std::string& path, const std::string& table,
                              const std::vector<const char*>& columns, bool decode_ahead = true) {
  auto db = SqliteDb::open(path);
  EXPECT_TRUE(db.ok());
  if (!db.ok()) return -1;
  auto rows = SqliteIntRows::open(*db, table, columns, decode_ahead);
  EXPECT_TRUE(rows.ok()) << rows.status().message();
  if (!rows.ok()) return -1;
  std::string sql = "SELECT rowid";
  auto have = db->columns(table);
  EXPECT_TRUE(have.ok());
  if (!have.ok()) return -1;
  for (const char* c : columns) sql += have->count(c) ? fmt::format(", \"{}\"", c) : ", NULL";
  auto st = db->prepare(sql + fmt::format(" FROM \"{}\"", table));
  EXPECT_TRUE(st.ok());
  if (!st.ok()) return -1;
  uint64_t n = 0;
  for (;;) {
    auto batch = rows->next();
    EXPECT_TRUE(batch.ok()) << batch.status().message();
    if (!batch.ok()) return -1;
    if (batch->empty()) break;
    for (const SqliteIntRows::Row& r : *batch) {
      EXPECT_EQ(st->step(), SQLITE_ROW) << "row " << n << " beyond SQLite's";
      EXPECT_EQ(r.rowid, st->i64(0)) << "row " << n;
      for (size_t i = 0; i < columns.size(); ++i) {
        const int col = static_cast<int>(i) + 1;
        EXPECT_EQ(r.is_null(i), st->is_null(col)) << "row " << n << " " << columns[i];
        EXPECT_EQ(r.v[i], st->i64(col)) << "row " << n << " " << columns[i];
      }
      if (::testing::Test::HasFailure()) return -1;
      ++n;
    }
  }
  EXPECT_EQ(st->step(), SQLITE_DONE) << "SQLite has rows beyond row " << n;
  return static_cast<int64_t>(rows->direct_rows());
}

const std::vector<const char*> kKernelColumns = {"start",
                                                 "end",
                                                 "deviceId",
                                                 "streamId",
                                                 "correlationId",
                                                 "demangledName",
                                                 "gridX",
                                                 "gridY",
                                                 "gridZ",
                                                 "blockX",
                                                 "blockY",
                                                 "blockZ",
                                                 "registersPerThread",
                                                 "staticSharedMemory",
                                                 "dynamicSharedMemory"};

TEST(SqliteIntRowsReal, KernelAndRuntimeRowsAreSqlitesFromPages) {
  for (const char* name :
       {"nsys/pipit/pipit/tests/data/cloverleaf-nsys/perlmutter-cloverleaf-cuda.sqlite",
        "nsys/pipit/pipit/tests/data/saxpy-mpi-cuda_nsys_perlmutter0.sqlite"}) {
    SCOPED_TRACE(name);
    const std::string path = (kReal / name).string();
    const int64_t kernels = query(path, "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL");
    EXPECT_EQ(expect_rows_as_sqlite(path, "CUPTI_ACTIVITY_KIND_KERNEL", kKernelColumns), kernels);
    const int64_t runtime = query(path, "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_RUNTIME");
    EXPECT_EQ(expect_rows_as_sqlite(
                  path, "CUPTI_ACTIVITY_KIND_RUNTIME",
                  {"start", "end", "nameId", "globalTid", "correlationId", "no such column"}),
              runtime);
  }
}

TEST_F(NsysSqliteReaderTest, IntRowsOfGeneratedKernelsComeFromPages) {
  testing::NsysDbSpec spec;
  spec.kernels = 50000;  // many batches of leaves: the decode-ahead thread runs
  const std::string path = make("many.sqlite", spec);
  for (bool ahead : {false, true}) {
    EXPECT_EQ(expect_rows_as_sqlite(path, "CUPTI_ACTIVITY_KIND_KERNEL", kKernelColumns, ahead),
              50000);
  }
}

// In WAL mode the newest rows may live only in the -wal file: the rows must come from SQLite.
TEST_F(NsysSqliteReaderTest, IntRowsOfAWalDatabaseAreSqlites) {
  testing::NsysDbSpec spec;
  spec.kernels = 3000;
  const std::string path = make("wal.sqlite", spec);
  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &writer), SQLITE_OK);
  // Kept open with checkpoints off, so the new rows stay in the -wal file.
  ASSERT_EQ(sqlite3_exec(writer,
                         "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
                         "INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL SELECT * FROM "
                         "CUPTI_ACTIVITY_KIND_KERNEL LIMIT 500;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(writer);
  auto db = SqliteDb::open(path);
  ASSERT_TRUE(db.ok());
  auto rows = SqliteIntRows::open(*db, "CUPTI_ACTIVITY_KIND_KERNEL", kKernelColumns, true);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  uint64_t n = 0;
  int64_t start_sum = 0;
  for (;;) {
    auto batch = rows->next();
    ASSERT_TRUE(batch.ok()) << batch.status().message();
    if (batch->empty()) break;
    for (const SqliteIntRows::Row& r : *batch) {
      start_sum += r.v[0];
      ++n;
    }
  }
  EXPECT_EQ(rows->direct_rows(), 0u) << "pages of a WAL database were read directly";
  EXPECT_EQ(n, 3500u);
  EXPECT_EQ(start_sum, query(path, "SELECT sum(start) FROM CUPTI_ACTIVITY_KIND_KERNEL"));
  sqlite3_close(writer);
}

// Values the direct path cannot read itself (reals, text, blobs, records on overflow pages,
// columns added later with a default) and integers of every width come out as SQLite's.
TEST_F(NsysSqliteReaderTest, IntRowsOfEveryValueTypeAreSqlites) {
  const std::string path = (dir_ / "types.sqlite").string();
  exec(path,
       "CREATE TABLE t (a INTEGER, b, c INTEGER NOT NULL, big TEXT);"
       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)"
       " INSERT INTO t SELECT"
       "  CASE i % 11 WHEN 0 THEN NULL WHEN 1 THEN -i WHEN 2 THEN i * 1000003"
       "   WHEN 3 THEN -i * 1099511627 WHEN 4 THEN 9223372036854775807 - i"
       "   WHEN 5 THEN -9223372036854775807 + i WHEN 6 THEN 0 WHEN 7 THEN 1"
       "   WHEN 8 THEN i * 65537 ELSE i * 131 END,"
       "  CASE i % 7 WHEN 0 THEN 2.75 WHEN 1 THEN '42abc' WHEN 2 THEN x'0102' WHEN 3 THEN NULL"
       "   WHEN 4 THEN -1e300 ELSE i END,"
       "  i,"
       "  CASE WHEN i % 997 = 0 THEN hex(zeroblob(4500)) ELSE 'k' END"
       " FROM n;"
       "ALTER TABLE t ADD COLUMN d INTEGER DEFAULT 7;"
       "ALTER TABLE t ADD COLUMN e INTEGER;"
       "INSERT INTO t VALUES (1, 2, 3, 'x', 4, 5);");
  const int64_t direct = expect_rows_as_sqlite(path, "t", {"c", "a", "b", "e"});
  EXPECT_GT(direct, 30000 / 7 * 2);  // b is an integer or NULL in 3 rows of 7
  EXPECT_LT(direct, 30000 / 7 * 4);
  EXPECT_EQ(expect_rows_as_sqlite(path, "t", {"c", "a", "big", "d"}), 0);  // text; a default
  EXPECT_EQ(expect_rows_as_sqlite(path, "t", {"a", "c", "e", "absent"}), 30001 - 30);  // overflow
}

// A damaged leaf: the rows before it come from pages, then SQLite takes over and reports the
// damage (or reads on); never a crash or a row twice.
TEST_F(NsysSqliteReaderTest, IntRowsOfADamagedLeafEndThroughSqlite) {
  testing::NsysDbSpec spec;
  spec.kernels = 20000;
  spec.runtime = false;
  const std::string path = make("damaged.sqlite", spec);
  const auto size = fs::file_size(path);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2 / 4096 * 4096 + 8));  // a cell pointer array
    const std::string junk(64, '\xff');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto db = SqliteDb::open(path);
  ASSERT_TRUE(db.ok());
  auto rows = SqliteIntRows::open(*db, "CUPTI_ACTIVITY_KIND_KERNEL", kKernelColumns);
  ASSERT_TRUE(rows.ok());
  int64_t last = 0;
  for (;;) {
    auto batch = rows->next();
    if (!batch.ok()) {
      EXPECT_NE(batch.status().message().find(path), std::string::npos);
      break;
    }
    if (batch->empty()) break;
    for (const SqliteIntRows::Row& r : *batch) {
      ASSERT_GT(r.rowid, last);
      last = r.rowid;
    }
  }
  EXPECT_GT(rows->direct_rows(), 0u);
  EXPECT_LT(rows->direct_rows(), 20000u);
}

// Bytes flipped anywhere in the file: the read succeeds or fails naming the file, and the
// rowids it returns still grow.
TEST_F(NsysSqliteReaderTest, IntRowsOfFlippedBytesStayInBounds) {
  testing::NsysDbSpec spec;
  spec.kernels = 3000;
  const std::string clean = make("clean.sqlite", spec);
  std::ifstream in(clean, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  uint64_t seed = 42;
  for (int round = 0; round < 200; ++round) {
    std::string damaged = bytes;
    for (int k = 0; k < 8; ++k) {
      seed = seed * 6364136223846793005u + 1442695040888963407u;
      damaged[(seed >> 33) % damaged.size()] ^= static_cast<char>(1 + (seed >> 20) % 255);
    }
    const std::string path = (dir_ / "flipped.sqlite").string();
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(damaged.data(), static_cast<std::streamsize>(damaged.size()));
    auto db = SqliteDb::open(path);
    if (!db.ok()) continue;
    auto rows = SqliteIntRows::open(*db, "CUPTI_ACTIVITY_KIND_KERNEL", kKernelColumns);
    if (!rows.ok()) continue;
    int64_t last = INT64_MIN;
    for (;;) {
      auto batch = rows->next();
      if (!batch.ok()) {
        EXPECT_NE(batch.status().message().find(path), std::string::npos);
        break;
      }
      if (batch->empty()) break;
      for (const SqliteIntRows::Row& r : *batch) {
        if (r.rowid == 0) continue;  // scanned by SQLite from the start: no rowids
        ASSERT_GT(r.rowid, last) << "round " << round;
        last = r.rowid;
      }
    }
    TraceStore store;
    auto r = NsysSqliteReader().read_file(path, store, {});
    if (r.ok()) {
      EXPECT_EQ(r->events, store.appended());
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
