// Fuzzing support for the SQLite importers: turns fuzz input into a database with a reader's
// tables, where each column may be missing and each value may be NULL, a small or extreme
// integer, a real, text (including invalid UTF-8) or a blob. Fuzzing the database file bytes
// would mostly fuzz SQLite itself; this fuzzes what the reader does with odd schemas and values.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

namespace huoyan::fuzzing {

struct TableSpec {
  const char* name;
  std::vector<const char*> columns;
};

// A file path private to this process, on tmpfs when there is one.
inline std::string fuzz_db_path(const char* tag) {
  const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/huoyan-fuzz-" + tag + "-" + std::to_string(::getpid()) + ".sqlite";
}

inline void bind_value(FuzzedDataProvider& in, sqlite3_stmt* st, int i) {
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0:
      sqlite3_bind_null(st, i);
      break;
    case 1:
    case 2:
      sqlite3_bind_int64(st, i, in.ConsumeIntegralInRange<int64_t>(-2, 64));
      break;
    case 3:
      sqlite3_bind_int64(st, i, in.ConsumeIntegral<int64_t>());
      break;
    case 4: {
      const int64_t extremes[] = {std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max(), int64_t{1} << 32,
                                  (int64_t{1} << 24) - 1, -(int64_t{1} << 40)};
      sqlite3_bind_int64(st, i, extremes[in.ConsumeIntegralInRange<int>(0, 4)]);
      break;
    }
    case 5:
      sqlite3_bind_double(st, i, in.ConsumeFloatingPoint<double>());
      break;
    case 6: {
      const std::string s = in.ConsumeRandomLengthString(64);
      sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      break;
    }
    default: {
      const std::string s = in.ConsumeRandomLengthString(16);
      sqlite3_bind_blob(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      break;
    }
  }
}

// Writes a database with some of `tables` (each present with probability ~7/8, each column
// with ~7/8) and up to 64 rows each to `path`. False when SQLite refused something.
inline bool make_fuzz_db(FuzzedDataProvider& in, const std::vector<TableSpec>& tables,
                         const std::string& path) {
  ::unlink(path.c_str());
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return false;
  }
  sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;", nullptr, nullptr,
               nullptr);
  bool ok = true;
  for (const TableSpec& t : tables) {
    if (in.ConsumeIntegralInRange<int>(0, 7) == 0) continue;
    std::vector<const char*> cols;
    for (const char* c : t.columns) {
      if (in.ConsumeIntegralInRange<int>(0, 7) != 0) cols.push_back(c);
    }
    if (cols.empty()) continue;
    std::string create = std::string("CREATE TABLE \"") + t.name + "\" (";
    std::string insert = std::string("INSERT INTO \"") + t.name + "\" VALUES (";
    for (size_t i = 0; i < cols.size(); ++i) {
      create += (i ? ", \"" : "\"") + std::string(cols[i]) + "\"";
      insert += i ? ", ?" : "?";
    }
    create += ")";
    insert += ")";
    if (sqlite3_exec(db, create.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      ok = false;
      break;
    }
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, insert.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      ok = false;
      break;
    }
    const int rows = in.ConsumeIntegralInRange<int>(0, 64);
    for (int r = 0; r < rows && in.remaining_bytes() > 0; ++r) {
      for (size_t i = 0; i < cols.size(); ++i) bind_value(in, st, static_cast<int>(i + 1));
      sqlite3_step(st);
      sqlite3_reset(st);
    }
    sqlite3_finalize(st);
  }
  sqlite3_exec(db, "COMMIT;", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return ok;
}

}  // namespace huoyan::fuzzing
