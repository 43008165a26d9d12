#include "src/readers/sqlite_int_rows.h"

#include <algorithm>
#include <array>
#include <bit>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>

#include <fmt/format.h>

namespace huoyan {

// The file format (https://www.sqlite.org/fileformat.html): pages of page_size bytes, the last
// `reserved` of each unused; page 1 starts with the 100-byte file header. A table is a B-tree of
// interior pages (type 5: child page numbers) above leaf pages (type 13: cells of payload size,
// rowid and record). A record is a header (its size, then one serial type per column) followed
// by the values; integers are big-endian, 1 to 8 bytes. Every read below is bounds-checked: a
// damaged image hands the table back to SQLite and is never read outside.

namespace {

uint32_t be16(const uint8_t* p) { return uint32_t{p[0]} << 8 | p[1]; }
uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | be16(p + 2);
}

// An SQLite varint (1 to 9 bytes) at *p, not reading at or past `end`.
inline bool varint(const uint8_t** p, const uint8_t* end, uint64_t* v) {
  const uint8_t* q = *p;
  if (q < end && *q < 0x80) {
    *v = *q;
    *p = q + 1;
    return true;
  }
  uint64_t x = 0;
  for (int i = 0; i < 8; ++i, ++q) {
    if (q >= end) return false;
    x = x << 7 | (*q & 0x7f);
    if (*q < 0x80) {
      *v = x;
      *p = q + 1;
      return true;
    }
  }
  if (q >= end) return false;
  *v = x << 8 | *q;
  *p = q + 1;
  return true;
}

// Bytes of a value of serial type `t`.
inline uint64_t serial_size(uint64_t t) {
  static constexpr uint8_t kSize[12] = {0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0};
  return t < 12 ? kSize[t] : (t - 12) / 2;
}

// The big-endian two's complement integer of serial type 1-6 at p.
inline int64_t be_int(const uint8_t* p, uint64_t type) {
  switch (type) {
    case 1:
      return static_cast<int8_t>(p[0]);
    case 2:
      return static_cast<int16_t>(be16(p));
    case 3:
      return static_cast<int64_t>(static_cast<uint64_t>(be16(p) << 8 | p[2]) << 40) >> 40;
    case 4:
      return static_cast<int32_t>(be32(p));
    case 5:
      return static_cast<int64_t>(uint64_t{be16(p)} << 48 | uint64_t{be32(p + 2)} << 16) >> 16;
    default:
      return static_cast<int64_t>(uint64_t{be32(p)} << 32 | be32(p + 4));
  }
}

constexpr uint8_t kInteriorTable = 5, kLeafTable = 13;
constexpr int kMaxDepth = 32;           // B-trees of 2^32 pages are far shallower
constexpr size_t kLeavesPerBatch = 16;  // ~1 400 kernel rows of a 4 KiB-page export
constexpr size_t kSlots = 8;            // batches decoded ahead at most

}  // namespace

// The direct path: what decoding needs (fixed once open() returns, so the helper reads it without
// locks) and the decode-ahead state. Batch b is leaves [b * kLeavesPerBatch, …), kept in slot
// b % kSlots; batches are claimed in order by whoever comes first, the caller or the helper.
struct SqliteIntRows::Pages {
  using Row = SqliteIntRows::Row;

  const uint8_t* image = nullptr;
  size_t page_size = 0, usable = 0, pages = 0;
  std::vector<uint32_t> leaves;      // in key order
  std::vector<int8_t> slot_of;       // record column → index in Row::v, -1: not read
  std::vector<uint8_t> has_default;  // record column has a DEFAULT (a short record needs SQLite)
  uint32_t absent = 0;               // Row::v indices of columns the table does not have

  struct Batch {
    std::vector<Row> rows;  // [0, count) decoded; grown, never shrunk (no re-initialising)
    size_t count = 0;
    size_t slow = 0;  // rows to be read through SQLite
    bool ok = true;   // false: damage (a page that does not parse, a rowid not above the last)
                      // ends the batch
    bool ready = false;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::array<Batch, kSlots> slots;
  size_t batches = 0;
  size_t claimed = 0;   // batches [0, claimed) are claimed
  size_t consumed = 0;  // the caller is done with batches [0, consumed)
  bool stop = false;
  std::thread helper;

  ~Pages() { stop_helper(); }

  void stop_helper() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv.notify_all();
    if (helper.joinable()) helper.join();
  }

  void run_helper() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stop || claimed == batches || claimed < consumed + kSlots; });
      if (stop || claimed == batches) return;
      const size_t b = claimed++;
      Batch& slot = slots[b % kSlots];
      lock.unlock();
      slot.ok = decode_batch(b, &slot);
      lock.lock();
      slot.ready = true;
      cv.notify_all();
    }
  }

  bool decode_batch(size_t b, Batch* out) const {
    out->count = 0;
    out->slow = 0;
    const size_t last = std::min(leaves.size(), (b + 1) * kLeavesPerBatch);
    for (size_t i = b * kLeavesPerBatch; i < last; ++i) {
      if (!decode_leaf(leaves[i], out)) return false;
    }
    return true;
  }

  // Appends the leaves under `page`; false when the tree is not a table B-tree inside the image
  // (a cycle runs out of `budget`, one visit per page).
  bool collect_leaves(uint32_t page, int depth, size_t* budget) {
    if (page == 0 || page > pages || depth > kMaxDepth || *budget == 0) return false;
    --*budget;
    const uint8_t* p = image + size_t{page - 1} * page_size;
    const size_t h = page == 1 ? 100 : 0;
    if (p[h] == kLeafTable) {
      leaves.push_back(page);
      return true;
    }
    if (p[h] != kInteriorTable) return false;  // an index B-tree: WITHOUT ROWID
    const uint32_t cells = be16(p + h + 3);
    if (h + 12 + 2 * size_t{cells} > usable) return false;
    for (uint32_t i = 0; i < cells; ++i) {
      const uint32_t off = be16(p + h + 12 + 2 * i);
      if (off + 4 > usable) return false;
      if (!collect_leaves(be32(p + off), depth + 1, budget)) return false;
    }
    return collect_leaves(be32(p + h + 8), depth + 1, budget);
  }

  // Appends the rows of leaf `page`; false when it is damaged (the rows before are kept).
  bool decode_leaf(uint32_t page, Batch* out) const {
    const uint8_t* p = image + size_t{page - 1} * page_size;
    const uint8_t* const end = p + usable;
    const size_t h = page == 1 ? 100 : 0;
    const uint32_t cells = be16(p + h + 3);
    if (h + 8 + 2 * size_t{cells} > usable) return false;
    const size_t max_local = usable - 35;  // larger payloads spill onto overflow pages
    size_t n = out->count;
    if (out->rows.size() < n + cells) out->rows.resize(n + cells);
    bool ok = true;
    for (uint32_t cell = 0; cell < cells; ++cell) {
      const uint32_t off = be16(p + h + 8 + 2 * cell);
      const uint8_t* q = p + off;
      uint64_t payload, rowid;
      if (off >= usable || !varint(&q, end, &payload) || !varint(&q, end, &rowid)) {
        ok = false;
        break;
      }
      Row& row = out->rows[n];
      row.rowid = static_cast<int64_t>(rowid);
      row.nulls = absent;
      row.slow = payload > max_local;
      for (uint32_t a = absent; a != 0; a &= a - 1) row.v[std::countr_zero(a)] = 0;
      if (!row.slow && !decode_record(q, payload, end, &row)) {
        ok = false;
        break;
      }
      if (n > 0 && row.rowid <= out->rows[n - 1].rowid) {  // rowids grow along the leaves
        ok = false;
        break;
      }
      out->slow += row.slow;
      ++n;
    }
    out->count = n;
    return ok;
  }

  bool decode_record(const uint8_t* q, uint64_t payload, const uint8_t* end, Row* row) const {
    if (payload > static_cast<uint64_t>(end - q)) return false;
    const uint8_t* const rec_end = q + payload;
    const uint8_t* t = q;
    uint64_t header;
    if (!varint(&t, rec_end, &header) || header > payload || q + header < t) return false;
    const uint8_t* const header_end = q + header;
    const uint8_t* body = header_end;
    size_t i = 0;
    for (; i < slot_of.size() && t < header_end; ++i) {
      uint64_t type;
      if (!varint(&t, header_end, &type)) return false;
      const uint64_t size = serial_size(type);
      if (size > static_cast<uint64_t>(rec_end - body)) return false;
      const int slot = slot_of[i];
      if (slot >= 0) {
        if (type == 0) {
          row->nulls |= 1u << slot;
          row->v[slot] = 0;
        } else if (type <= 6) {
          row->v[slot] = be_int(body, type);
        } else if (type == 8 || type == 9) {
          row->v[slot] = static_cast<int64_t>(type - 8);
        } else {
          row->slow = true;  // a real, text or blob: SQLite converts it
        }
      }
      body += size;
    }
    for (; i < slot_of.size(); ++i) {  // columns the record predates
      const int slot = slot_of[i];
      if (slot < 0) continue;
      if (has_default[i]) row->slow = true;
      row->nulls |= 1u << slot;
      row->v[slot] = 0;
    }
    return true;
  }
};

SqliteIntRows::SqliteIntRows() = default;
SqliteIntRows::SqliteIntRows(SqliteIntRows&&) noexcept = default;
SqliteIntRows& SqliteIntRows::operator=(SqliteIntRows&&) noexcept = default;
SqliteIntRows::~SqliteIntRows() = default;

Result<SqliteIntRows> SqliteIntRows::open(const SqliteDb& db, const std::string& table,
                                          std::span<const char* const> columns, bool decode_ahead) {
  if (columns.size() > kMaxColumns) {
    return Status::Error(fmt::format("{}: too many columns read from {}", db.path(), table));
  }
  SqliteIntRows rows;
  rows.db_ = &db;
  rows.table_ = table;
  rows.ncolumns_ = columns.size();
  rows.decode_ahead_ = decode_ahead;
  auto pages = std::make_unique<Pages>();

  // The table's columns in record order, and whether the direct path can read them.
  struct Column {
    std::string name;
    bool has_default = false, key = false, hidden = false;
  };
  std::vector<Column> have;
  {
    auto st = db.prepare(fmt::format(
        "SELECT name, dflt_value IS NOT NULL, pk, hidden FROM pragma_table_xinfo('{}')", table));
    if (!st.ok()) return st.status();
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      have.push_back({std::string(st->text(0)), st->i64(1) != 0, st->i64(2) != 0, st->i64(3) != 0});
    }
    if (rc != SQLITE_DONE) return db.error(fmt::format("cannot read the columns of {}", table));
  }
  bool direct = !db.image().empty();
  rows.select_ = "SELECT ";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) rows.select_ += ", ";
    auto it = std::find_if(have.begin(), have.end(),
                           [&](const Column& c) { return c.name == columns[i]; });
    if (it == have.end()) {
      rows.select_ += "NULL";
      pages->absent |= 1u << i;
      continue;
    }
    rows.select_ += fmt::format("\"{}\"", columns[i]);
    direct = direct && !it->key;  // an INTEGER PRIMARY KEY is the rowid, not in the record
    const size_t record_column = static_cast<size_t>(it - have.begin());
    if (pages->slot_of.size() <= record_column) pages->slot_of.resize(record_column + 1, -1);
    pages->slot_of[record_column] = static_cast<int8_t>(i);
  }
  rows.select_ += fmt::format(" FROM \"{}\"", table);
  for (const Column& c : have) {
    direct = direct && !c.hidden;  // generated columns are not stored in column order
    pages->has_default.push_back(c.has_default);
  }

  if (direct) {
    // The header: page size (1 means 65536) and reserved bytes; then the table's root page.
    const std::span<const uint8_t> image = db.image();
    direct =
        image.size() >= 512 && looks_like_sqlite({reinterpret_cast<const char*>(image.data()), 16});
    if (direct) {
      const uint32_t raw = be16(image.data() + 16);
      pages->page_size = raw == 1 ? 65536 : raw;
      const size_t reserved = image[20];
      // Bytes 18-19 are 1 in rollback-journal mode, 2 in WAL mode, where the newest pages may
      // still be in the -wal file rather than here: only SQLite reads those right.
      direct = pages->page_size >= 512 && std::has_single_bit(pages->page_size) &&
               pages->page_size >= reserved + 480 && image[18] == 1 && image[19] == 1;
      pages->usable = pages->page_size - reserved;
      pages->pages = direct ? image.size() / pages->page_size : 0;
      pages->image = image.data();
    }
    auto root = db.scalar(fmt::format(
        "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = '{}'", table));
    size_t budget = pages->pages;
    direct = direct && root.ok() && *root > 0 && *root <= UINT32_MAX &&
             pages->collect_leaves(static_cast<uint32_t>(*root), 0, &budget);
  }
  if (direct) {
    pages->batches = (pages->leaves.size() + kLeavesPerBatch - 1) / kLeavesPerBatch;
    rows.pages_ = std::move(pages);
  } else {
    HUOYAN_RETURN_IF_ERROR(rows.start_sqlite(false));
  }
  return rows;
}

Status SqliteIntRows::start_sqlite(bool after_last) {
  // After a handover the table is known to have rowids: they are read too, as on pages.
  scan_has_rowid_ = after_last;
  const std::string sql =
      after_last ? fmt::format("SELECT rowid, {} WHERE rowid > {}", select_.substr(7), last_rowid_)
                 : select_;
  auto st = db_->prepare(sql);
  if (!st.ok()) return st.status();
  scan_ = std::move(*st);
  scan_done_ = false;
  buffer_.resize(1024);
  return OkStatus();
}

Status SqliteIntRows::read_slow(Row* row) {
  if (by_rowid_.get() == nullptr) {
    auto st = db_->prepare(select_ + " WHERE rowid = ?");
    if (!st.ok()) return st.status();
    by_rowid_ = std::move(*st);
  }
  sqlite3_reset(by_rowid_.get());
  sqlite3_bind_int64(by_rowid_.get(), 1, row->rowid);
  if (by_rowid_.step() != SQLITE_ROW) return db_->error(fmt::format("cannot read {}", table_));
  row->nulls = 0;
  for (size_t i = 0; i < ncolumns_; ++i) {
    if (by_rowid_.is_null(static_cast<int>(i))) row->nulls |= 1u << i;
    row->v[i] = by_rowid_.i64(static_cast<int>(i));
  }
  row->slow = false;
  return OkStatus();
}

Result<std::span<const SqliteIntRows::Row>> SqliteIntRows::next() {
  if (pages_) {
    bool switched = false;
    auto rows = next_direct(&switched);
    if (!rows.ok() || !rows->empty() || !switched) return rows;
  }
  if (scan_done_) return std::span<const Row>();
  size_t n = 0;
  int rc = SQLITE_ROW;
  const int first = scan_has_rowid_ ? 1 : 0;
  while (n < buffer_.size() && (rc = scan_.step()) == SQLITE_ROW) {
    Row& row = buffer_[n++];
    row.rowid = first ? scan_.i64(0) : 0;
    if (first && row.rowid <= last_rowid_) {  // SQLite does not notice every damaged page
      return Status::Error(fmt::format("{}: cannot read {}: damaged table (rowids out of order)",
                                       db_->path(), table_));
    }
    last_rowid_ = row.rowid;
    row.nulls = 0;
    for (size_t i = 0; i < ncolumns_; ++i) {
      const int col = first + static_cast<int>(i);
      if (scan_.is_null(col)) row.nulls |= 1u << i;
      row.v[i] = scan_.i64(col);
    }
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return db_->error(fmt::format("cannot read {}", table_));
  }
  scan_done_ = rc == SQLITE_DONE;
  return std::span<const Row>(buffer_.data(), n);
}

// The next batch of decoded leaves, checked and completed here: rowids must grow (anything else
// is damage), slow rows are read through SQLite. At damage, the rows before it are returned and
// SQLite takes over (*switched).
Result<std::span<const SqliteIntRows::Row>> SqliteIntRows::next_direct(bool* switched) {
  Pages& p = *pages_;
  std::unique_lock<std::mutex> lock(p.mu);
  if (holding_) {
    p.slots[p.consumed % kSlots].ready = false;
    ++p.consumed;
    holding_ = false;
    p.cv.notify_all();
  }
  const size_t c = p.consumed;
  if (c == p.batches) return std::span<const Row>();
  if (decode_ahead_) {  // once, at the first batch
    decode_ahead_ = false;
    if (p.batches > 1 && std::thread::hardware_concurrency() > 1) {
      try {
        p.helper = std::thread([&p] { p.run_helper(); });
      } catch (const std::system_error&) {
        // No thread: every batch is decoded here.
      }
    }
  }
  Pages::Batch& batch = p.slots[c % kSlots];
  if (p.claimed == c) {
    ++p.claimed;
    lock.unlock();
    batch.ok = p.decode_batch(c, &batch);
    lock.lock();
    batch.ready = true;
  } else {
    p.cv.wait(lock, [&] { return batch.ready; });
  }
  holding_ = true;
  lock.unlock();

  std::vector<Row>& rows = batch.rows;
  bool ok = batch.ok;
  size_t n = batch.count;
  if (n > 0 && have_last_ && rows[0].rowid <= last_rowid_) {  // the batch after
    ok = false;
    n = 0;
  }
  if (n > 0) {
    have_last_ = true;
    last_rowid_ = rows[n - 1].rowid;
    direct_rows_ += n - batch.slow;
    for (size_t i = 0; i < n && batch.slow > 0; ++i) {
      if (rows[i].slow) HUOYAN_RETURN_IF_ERROR(read_slow(&rows[i]));
    }
  }
  if (!ok) {
    // The rows before the damage are returned from buffer_, which SQLite fills from the next
    // call on.
    std::vector<Row> kept = std::move(rows);
    pages_.reset();  // stops the helper
    holding_ = false;
    *switched = true;
    HUOYAN_RETURN_IF_ERROR(start_sqlite(have_last_));
    kept.resize(std::max(kept.size(), buffer_.size()));
    buffer_ = std::move(kept);
    return std::span<const Row>(buffer_.data(), n);
  }
  return std::span<const Row>(rows.data(), n);
}

}  // namespace huoyan
