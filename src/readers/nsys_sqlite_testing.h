// Test and benchmark support: writes a synthetic Nsight Systems SQLite export with the columns
// of the 2024 schema generation that the reader uses (the real samples are small).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace huoyan::testing {

struct NsysDbSpec {
  uint64_t kernels = 1000;
  uint32_t devices = 2;
  uint32_t streams = 4;  // per device
  uint32_t names = 50;   // distinct kernel names
  bool runtime = true;   // one cudaLaunchKernel per kernel, same correlationId
};

// Sum of the kernels' durations the spec produces (kernel i lasts 1000 + i % 977 ns).
inline int64_t nsys_db_kernel_ns(const NsysDbSpec& spec) {
  int64_t sum = 0;
  for (uint64_t i = 0; i < spec.kernels; ++i) sum += 1000 + static_cast<int64_t>(i % 977);
  return sum;
}

// Creates the database at `path` (which must not exist). Returns "" or SQLite's error message.
inline std::string make_nsys_db(const std::string& path, const NsysDbSpec& spec) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::string e = sqlite3_errmsg(db);
    sqlite3_close(db);
    return e;
  }
  auto exec = [db](const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); };
  int rc = exec(
      "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;"
      "CREATE TABLE META_DATA_EXPORT (name TEXT, value TEXT);"
      "INSERT INTO META_DATA_EXPORT VALUES ('EXPORT_SCHEMA_VERSION', '3.13.2');"
      "CREATE TABLE StringIds (id INTEGER NOT NULL PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER NOT NULL, end INTEGER NOT NULL,"
      " deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, greenContextId INTEGER,"
      " streamId INTEGER NOT NULL, correlationId INTEGER, globalPid INTEGER,"
      " demangledName INTEGER NOT NULL, shortName INTEGER NOT NULL, mangledName INTEGER,"
      " registersPerThread INTEGER NOT NULL, gridX INTEGER NOT NULL, gridY INTEGER NOT NULL,"
      " gridZ INTEGER NOT NULL, blockX INTEGER NOT NULL, blockY INTEGER NOT NULL,"
      " blockZ INTEGER NOT NULL, staticSharedMemory INTEGER NOT NULL,"
      " dynamicSharedMemory INTEGER NOT NULL);"
      "CREATE TABLE CUPTI_ACTIVITY_KIND_RUNTIME (start INTEGER NOT NULL, end INTEGER NOT NULL,"
      " eventClass INTEGER NOT NULL, globalTid INTEGER, correlationId INTEGER,"
      " nameId INTEGER NOT NULL, returnValue INTEGER NOT NULL, callchainId INTEGER);");
  sqlite3_stmt* str = nullptr;
  sqlite3_stmt* ker = nullptr;
  sqlite3_stmt* run = nullptr;
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db, "INSERT INTO StringIds VALUES (?, ?)", -1, &str, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_prepare_v2(db,
                            "INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES (?, ?, ?, 1, NULL, ?, ?,"
                            " 1, ?, ?, NULL, 32, 128, 1, 1, 256, 1, 1, 0, 1024)",
                            -1, &ker, nullptr);
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_prepare_v2(db,
                            "INSERT INTO CUPTI_ACTIVITY_KIND_RUNTIME VALUES (?, ?, 0, ?, ?, 1, 0,"
                            " NULL)",
                            -1, &run, nullptr);
  }
  for (uint32_t n = 0; rc == SQLITE_OK && n <= spec.names; ++n) {
    const std::string name =
        n == 0 ? "cudaLaunchKernel" : "void gemm_kernel<" + std::to_string(n) + ">(float*, int)";
    sqlite3_bind_int64(str, 1, n + 1);
    sqlite3_bind_text(str, 2, name.c_str(), -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(str) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_reset(str);
  }
  const int64_t global_tid = (int64_t{4242} << 24) | 4243;
  for (uint64_t i = 0; rc == SQLITE_OK && i < spec.kernels; ++i) {
    const int64_t start = 1'000'000 + static_cast<int64_t>(i) * 2000;
    const int64_t corr = static_cast<int64_t>(i) + 1;
    sqlite3_bind_int64(ker, 1, start);
    sqlite3_bind_int64(ker, 2, start + 1000 + static_cast<int64_t>(i % 977));
    sqlite3_bind_int64(ker, 3, static_cast<int64_t>(i % spec.devices));
    sqlite3_bind_int64(ker, 4, 7 + static_cast<int64_t>((i / spec.devices) % spec.streams));
    sqlite3_bind_int64(ker, 5, corr);
    sqlite3_bind_int64(ker, 6, 2 + static_cast<int64_t>(i % spec.names));
    sqlite3_bind_int64(ker, 7, 2 + static_cast<int64_t>(i % spec.names));
    rc = sqlite3_step(ker) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_reset(ker);
    if (rc != SQLITE_OK || !spec.runtime) continue;
    sqlite3_bind_int64(run, 1, start - 500);
    sqlite3_bind_int64(run, 2, start - 100);
    sqlite3_bind_int64(run, 3, global_tid);
    sqlite3_bind_int64(run, 4, corr);
    rc = sqlite3_step(run) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_reset(run);
  }
  sqlite3_finalize(str);
  sqlite3_finalize(ker);
  sqlite3_finalize(run);
  if (rc == SQLITE_OK) rc = exec("COMMIT;");
  std::string err = rc == SQLITE_OK ? "" : sqlite3_errmsg(db);
  if (rc != SQLITE_OK && err.empty()) err = "insert failed";
  sqlite3_close(db);
  return err;
}

}  // namespace huoyan::testing
