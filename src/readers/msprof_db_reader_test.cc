// msprof database reader: the real msprof_0.db of testdata/real/ascend (checked against
// SOURCES.md and sqlite3 queries of the file) and databases built here with the documented
// schema (cann.md §2.1) for the wrong-schema cases.
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "src/readers/msprof_db_reader.h"
#include "src/readers/sniff.h"
#include "src/readers/sqlite_db.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;

const fs::path kReal = HUOYAN_TESTDATA_REAL;
const std::string kRealDb =
    (kReal / "ascend/msinsight/server/src/test/test_data/full_db/msprof_0.db").string();

int64_t query(const std::string& path, const std::string& sql) {
  auto db = SqliteDb::open(path);
  EXPECT_TRUE(db.ok());
  if (!db.ok()) return -1;
  auto v = db->scalar(sql);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? *v : -1;
}

struct Counts {
  std::map<std::string, uint64_t> by_cat;
  std::map<std::pair<int64_t, int64_t>, uint64_t> device_streams;  // all device tasks
  int64_t device_ns = 0;
  uint64_t flows = 0, instants = 0;
  std::map<std::string, uint64_t> names;
};

Counts count(const TraceStore& store) {
  Counts c;
  const Snapshot snap = store.snapshot();
  snap.for_each([&](const EventView& ev) {
    if (ev->kind == EventKind::kFlowStart) ++c.flows;
    if (ev->kind == EventKind::kInstant) ++c.instants;
    if (!has_duration(ev->kind)) return;
    ++c.by_cat[std::string(snap.str(ev->cat))];
    ++c.names[std::string(snap.str(ev->name))];
    if (!snap.is_device_event(*ev)) return;
    c.device_streams[{snap.process_of(ev->track).device, snap.track(ev->track).tid}]++;
    c.device_ns += ev->dur;
  });
  return c;
}

TEST(MsprofDbReaderReal, MatchesSourcesAndSqlite) {
  TraceStore store;
  InputReport report;
  auto r = read_input(kRealDb, store, {}, &report);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(report.read.size(), 1u);
  EXPECT_EQ(report.read[0].format, "msprof-db");
  Counts c = count(store);
  // SOURCES.md: TASK=24, (deviceId,streamId)->count=[[2,8,1],[2,16,14],[2,18,9]], CANN_API=4.
  using K = std::pair<int64_t, int64_t>;
  EXPECT_EQ(c.device_streams, (std::map<K, uint64_t>{{{2, 8}, 1}, {{2, 16}, 14}, {{2, 18}, 9}}));
  EXPECT_EQ(c.by_cat.at("cann_api"), 4u);
  EXPECT_EQ(c.device_ns, query(kRealDb, "SELECT sum(endNs - startNs) FROM TASK"));
  EXPECT_EQ(c.by_cat.at("kernel"),
            static_cast<uint64_t>(query(kRealDb,
                                        "SELECT count(*) FROM TASK JOIN COMPUTE_TASK_INFO "
                                        "USING (globalTaskId)")));
  EXPECT_EQ(c.by_cat.at("communication"),
            static_cast<uint64_t>(query(kRealDb,
                                        "SELECT count(*) FROM TASK JOIN COMMUNICATION_TASK_INFO "
                                        "USING (globalTaskId)")));
  EXPECT_EQ(c.by_cat.at("kernel") + c.by_cat.at("communication") + c.by_cat.at("task"), 24u);
  EXPECT_EQ(c.by_cat["mstx"] + c.instants,
            static_cast<uint64_t>(query(kRealDb, "SELECT count(*) FROM MSTX_EVENTS")));
  EXPECT_EQ(c.names.at("aclnnInplaceZero_ZerosLikeAiCore_ZerosLike"), 1u);
  EXPECT_EQ(c.names.at("hcom_allGather__305_879_1"), 8u);
  // Launch flows: tasks whose connectionId (non-zero) has a CANN_API call.
  EXPECT_EQ(c.flows, static_cast<uint64_t>(query(
                         kRealDb,
                         "SELECT count(*) FROM TASK WHERE connectionId != 0 AND connectionId IN "
                         "(SELECT connectionId FROM CANN_API)")));
  EXPECT_EQ(store.skips().total(), 0u);
}

class MsprofDbReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("huoyan_msprofdb_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "msprof_20260605161734.db").string();
    exec(
        "CREATE TABLE STRING_IDS (id INTEGER PRIMARY KEY, value TEXT);"
        "INSERT INTO STRING_IDS VALUES (1, 'MatMul_1'), (2, 'AI_CORE'), (3, 'MatMul'),"
        " (4, 'aclnnMatmul'), (5, 'hcom_allReduce_1'), (6, 'EVENT_RECORD');"
        "CREATE TABLE TASK (startNs INTEGER, endNs INTEGER, deviceId INTEGER, connectionId "
        "INTEGER, globalTaskId INTEGER PRIMARY KEY, globalPid INTEGER, taskType INTEGER, "
        "contextId INTEGER, streamId INTEGER, taskId INTEGER, modelId INTEGER);"
        "INSERT INTO TASK VALUES (1780676244313289000, 1780676244400428380, 0, 33, 1, 7, 2,"
        " 4294967295, 1756, 10, 4294967295),"
        " (1780676244400500000, 1780676244400600001, 0, 34, 2, 7, 2, 0, 1756, 11, 0),"
        " (1780676244400700000, 1780676244400800000, 1, 0, 3, 7, 6, 0, 5, 12, 0);"
        "CREATE TABLE COMPUTE_TASK_INFO (name INTEGER, globalTaskId INTEGER PRIMARY KEY, "
        "blockNum INTEGER, taskType INTEGER, opType INTEGER);"
        "INSERT INTO COMPUTE_TASK_INFO VALUES (1, 1, 24, 2, 3);"
        "CREATE TABLE COMMUNICATION_TASK_INFO (name INTEGER, globalTaskId INTEGER PRIMARY KEY);"
        "INSERT INTO COMMUNICATION_TASK_INFO VALUES (5, 2);"
        "CREATE TABLE CANN_API (startNs INTEGER, endNs INTEGER, type INTEGER, globalTid "
        "INTEGER, connectionId INTEGER, name INTEGER);"
        "INSERT INTO CANN_API VALUES (1780676244313000000, 1780676244313100000, 20000,"
        " (12345 << 32) | 678, 33, 4);");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void exec(const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(MsprofDbReaderTest, DocumentedSchema) {
  TraceStore store;
  auto r = read_input(path_, store, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Snapshot snap = store.snapshot();
  int seen = 0;
  snap.for_each([&](const EventView& ev) {
    const std::string name(snap.str(ev->name));
    if (name == "MatMul_1") {
      ++seen;
      EXPECT_EQ(ev->kind, EventKind::kKernel);
      EXPECT_EQ(ev->ts, 1780676244313289000);  // Unix ns, exact
      EXPECT_EQ(ev->dur, 87139380);
      EXPECT_EQ(snap.device_label(ev->track), "NPU 0");
      EXPECT_EQ(snap.track(ev->track).tid, 1756);
      EXPECT_EQ(ev->id, 33u);
    } else if (name == "hcom_allReduce_1") {
      ++seen;
      EXPECT_EQ(snap.str(ev->cat), "communication");
      EXPECT_EQ(ev->dur, 100001);
      EXPECT_TRUE(snap.is_device_event(*ev));
    } else if (name == "EVENT_RECORD") {
      ++seen;
      EXPECT_EQ(snap.str(ev->cat), "task");
      EXPECT_EQ(snap.device_label(ev->track), "NPU 1");
    } else if (name == "aclnnMatmul") {
      ++seen;
      EXPECT_EQ(snap.track(ev->track).tid, 678);
      EXPECT_EQ(snap.process_of(ev->track).pid, 12345);
    }
  });
  EXPECT_EQ(seen, 4);
  EXPECT_EQ(r->events, 6u);  // 3 tasks, 1 API call, 1 flow (start + end)
}

TEST_F(MsprofDbReaderTest, DroppedColumnIsAnErrorNamingIt) {
  exec("ALTER TABLE TASK DROP COLUMN streamId");
  TraceStore store;
  auto r = read_input(path_, store, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path_ + ": table TASK has no column streamId"),
            std::string::npos)
      << r.status().message();
}

TEST_F(MsprofDbReaderTest, WithoutStringIdsItIsNotClaimed) {
  exec("DROP TABLE STRING_IDS");
  TraceStore store;
  auto r = read_input(path_, store, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a recognised trace"), std::string::npos);
}

TEST_F(MsprofDbReaderTest, BadRowsAreCounted) {
  exec(
      "UPDATE TASK SET endNs = startNs - 1 WHERE globalTaskId = 1;"
      "UPDATE TASK SET startNs = NULL WHERE globalTaskId = 3;");
  TraceStore store;
  auto r = read_input(path_, store, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(store.skips().get("msprof: row with end before start"), 1u);
  EXPECT_EQ(store.skips().get("msprof: row without start or end"), 1u);
  EXPECT_EQ(r->skipped, 2u);
}

}  // namespace
}  // namespace huoyan
