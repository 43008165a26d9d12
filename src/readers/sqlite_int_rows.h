// The integer columns of one rowid table of an SQLite database, row by row in rowid order (the
// order of a plain SELECT), with the values sqlite3_column_int64 / sqlite3_column_type give.
//
// Why not SQLite's own scan: its virtual machine spends ~20 ns on every column of every row,
// which caps an Nsight Systems export (15 integer columns a kernel) near 3 M rows/s on a core.
// When the database has an image (SqliteDb::image), the table's leaf pages are decoded here
// directly, at ~4 ns a column (bench/README.md). A row that path cannot read exactly (a value that
// is not an integer or NULL, a record spilled onto overflow pages, a column added later with a
// default) is read through SQLite by its rowid; a table it cannot walk (WITHOUT ROWID, generated or
// key columns, damaged interior pages) is scanned by SQLite; a damaged leaf hands the rest of the
// table, after the last rowid read, to SQLite, which then reports the damage (as does a rowid that
// does not grow). Either way the caller sees SQLite's values.
//
// Threading: the caller uses the object from one thread. Tables of more than one batch of leaves
// are decoded ahead by one helper thread, a few batches at most (bounded memory); the caller
// decodes a batch itself when the helper has not claimed it, so a helper that is not scheduled
// delays the caller by one batch at most.
// Ownership: the object must not outlive its SqliteDb.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "src/readers/sqlite_db.h"

namespace huoyan {

class SqliteIntRows {
 public:
  static constexpr size_t kMaxColumns = 16;
  struct Row {
    int64_t rowid = 0;   // 0 when SQLite scans the whole table
    uint32_t nulls = 0;  // bit i: column i is NULL (its value reads 0)
    bool slow = false;   // internal: still to be read through SQLite
    int64_t v[kMaxColumns];
    bool is_null(size_t i) const { return (nulls >> i) & 1; }
  };

  // `columns` of `table` (at most kMaxColumns); one the table does not have reads NULL.
  // `decode_ahead`: allow the helper thread.
  static Result<SqliteIntRows> open(const SqliteDb& db, const std::string& table,
                                    std::span<const char* const> columns, bool decode_ahead = true);
  SqliteIntRows(SqliteIntRows&&) noexcept;
  SqliteIntRows& operator=(SqliteIntRows&&) noexcept;
  ~SqliteIntRows();

  // The next rows (valid until the next call), empty once the table is done. An SQLite error is
  // "<path>: cannot read <table>: <message>".
  Result<std::span<const Row>> next();
  // Rows decoded from pages (the others were read through SQLite); for tests.
  uint64_t direct_rows() const { return direct_rows_; }

 private:
  struct Pages;
  SqliteIntRows();
  Result<std::span<const Row>> next_direct(bool* switched);
  Status start_sqlite(bool after_last);
  Status read_slow(Row* row);

  const SqliteDb* db_ = nullptr;
  std::string table_;
  std::string select_;  // "SELECT <column or NULL>, … FROM <table>"
  size_t ncolumns_ = 0;
  std::unique_ptr<Pages> pages_;  // the direct path; null once SQLite scans
  bool decode_ahead_ = true;      // start the helper at the first batch
  bool holding_ = false;          // the caller still has the current batch
  bool have_last_ = false;
  int64_t last_rowid_ = 0;
  bool scan_has_rowid_ = false;  // scan_'s column 0 is the rowid
  bool scan_done_ = false;       // scan_ returned SQLITE_DONE (stepping again would restart it)
  uint64_t direct_rows_ = 0;
  SqliteStmt by_rowid_, scan_;
  std::vector<Row> buffer_;  // rows read through scan_
};

// row_times (sqlite_db.h) on columns 0 and 1 of `row`; the usual row is decided inline.
inline bool row_times(const SqliteIntRows::Row& row, std::string_view format, SkipCounters& skips,
                      ReadStats* stats, int64_t* ts, int64_t* dur) {
  if ((row.nulls & 3) == 0 && row.v[1] >= row.v[0] &&
      !__builtin_sub_overflow(row.v[1], row.v[0], dur)) {
    *ts = row.v[0];
    return true;
  }
  return row_times((row.nulls & 3) != 0, row.v[0], row.v[1], format, skips, stats, ts, dur);
}

}  // namespace huoyan
