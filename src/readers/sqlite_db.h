// Read-only access to the SQLite databases some profilers export (Nsight Systems, msprof): open a
// file (plain, or gzip-compressed: then decompressed into memory), list its tables and columns,
// and step through prepared statements (big tables of integers: sqlite_int_rows.h). Every error
// names the file.
//
// Ownership: SqliteDb owns the connection and the mapped image, SqliteStmt the statement; a
// statement must not outlive its database. Not thread-safe (one reader thread per database).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/core/status.h"
#include "src/core/trace_store.h"
#include "src/readers/reader.h"

namespace huoyan {

// The 16-byte magic every SQLite 3 database file starts with.
inline constexpr std::string_view kSqliteMagic{"SQLite format 3\0", 16};

inline bool looks_like_sqlite(std::string_view head) { return head.starts_with(kSqliteMagic); }

class SqliteStmt {
 public:
  SqliteStmt() = default;
  SqliteStmt(sqlite3_stmt* s) : stmt_(s) {}  // NOLINT(google-explicit-constructor)
  SqliteStmt(SqliteStmt&& o) noexcept : stmt_(o.stmt_) { o.stmt_ = nullptr; }
  SqliteStmt& operator=(SqliteStmt&& o) noexcept;
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;
  ~SqliteStmt();

  sqlite3_stmt* get() const { return stmt_; }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string_view text(int col) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteDb {
 public:
  // Opens `path` read-only. A gzip file is decompressed into memory first. Fails with
  // "<path>: not an SQLite database" (or SQLite's own message) when it cannot be read.
  static Result<SqliteDb> open(const std::string& path);

  SqliteDb(SqliteDb&& o) noexcept;
  SqliteDb& operator=(SqliteDb&& o) noexcept;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  const std::string& path() const { return path_; }
  // Table names (sqlite_master), read once at open.
  const std::set<std::string, std::less<>>& tables() const { return tables_; }
  bool has_table(std::string_view name) const { return tables_.count(name) != 0; }
  // Column names of `table` (empty when the table does not exist).
  Result<std::set<std::string, std::less<>>> columns(const std::string& table) const;
  Result<SqliteStmt> prepare(const std::string& sql) const;
  // "<path>: <what>: <sqlite message>".
  Status error(std::string_view what) const;
  // Single integer of a query ("select count(*) …"), or an error.
  Result<int64_t> scalar(const std::string& sql) const;
  // The bytes of the database file when they can be read directly (SqliteIntRows): a plain file
  // with no live write-ahead log (mapped read-only), or the decompressed copy of a gzip file.
  // Empty otherwise. Safe to read from any thread while the database lives.
  std::span<const uint8_t> image() const { return image_; }

 private:
  SqliteDb() = default;
  void unmap();
  std::string path_;
  sqlite3* db_ = nullptr;
  std::set<std::string, std::less<>> tables_;
  std::span<const uint8_t> image_;
  bool mapped_ = false;  // image_ is our mmap of the file (else SQLite's own memory, or empty)
};

// Start and end of the current row in columns 0 and 1, as ts and duration. A row without
// either, with its end before its start, or with a duration beyond int64 is unusable: counted
// in `skips` ("<format>: row without start or end", …) and in stats->skipped, and false.
bool row_times(const SqliteStmt& st, std::string_view format, SkipCounters& skips, ReadStats* stats,
               int64_t* ts, int64_t* dur);
// The same check on values already read (`no_time`: start or end is NULL).
bool row_times(bool no_time, int64_t start, int64_t end, std::string_view format,
               SkipCounters& skips, ReadStats* stats, int64_t* ts, int64_t* dur);

// A profiler's string table (nsys StringIds, msprof STRING_IDS: id → text) interned into a store.
class StringIdTable {
 public:
  // Reads `SELECT id, value FROM <table>`.
  Status load(const SqliteDb& db, const std::string& table, TraceStore& store);
  // The interned text of `id`; an id missing from the table is named "[unknown]" and counted
  // under `skip_reason`.
  StringId get(int64_t id, TraceStore& store, std::string_view skip_reason) const {
    if (id >= 0 && static_cast<uint64_t>(id) < dense_.size() && dense_[id] != kNone) {
      return dense_[id];
    }
    auto it = sparse_.find(id);
    if (it != sparse_.end()) return it->second;
    store.skips().add(skip_reason);
    return store.intern("[unknown]");
  }

 private:
  static constexpr StringId kNone = ~StringId{0};
  std::vector<StringId> dense_;  // ids below 2^20
  std::unordered_map<int64_t, StringId> sparse_;
};

// Table names of the SQLite database at `path` without keeping it open; empty when it is not a
// readable database. For sniffers (they see the magic in the head, then look at the schema).
std::set<std::string, std::less<>> sqlite_tables(const std::string& path);

// TraceStore::Writer::device_track, moved by `pid_offset` (ReadOptions) so that the devices of
// several inputs (ranks) stay apart: the process is named "GPU 0"/"NPU 1" and typed like the
// store's own device processes.
TrackId offset_device_track(TraceStore& store, TraceStore::Writer& w, DeviceType type,
                            int32_t device, int64_t stream, int64_t pid_offset);

}  // namespace huoyan
