#include "src/readers/sqlite_db.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "src/io/input.h"

namespace huoyan {

namespace {

// `path` percent-encoded for a file: URI (everything but unreserved characters and '/').
std::string uri_path(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

SqliteStmt& SqliteStmt::operator=(SqliteStmt&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(stmt_);
    stmt_ = o.stmt_;
    o.stmt_ = nullptr;
  }
  return *this;
}

SqliteStmt::~SqliteStmt() { sqlite3_finalize(stmt_); }

std::string_view SqliteStmt::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (p == nullptr) return {};
  return {p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
}

SqliteDb::SqliteDb(SqliteDb&& o) noexcept
    : path_(std::move(o.path_)),
      db_(o.db_),
      tables_(std::move(o.tables_)),
      image_(o.image_),
      mapped_(o.mapped_) {
  o.db_ = nullptr;
  o.image_ = {};
  o.mapped_ = false;
}

SqliteDb& SqliteDb::operator=(SqliteDb&& o) noexcept {
  if (this != &o) {
    sqlite3_close_v2(db_);
    unmap();
    path_ = std::move(o.path_);
    db_ = o.db_;
    tables_ = std::move(o.tables_);
    image_ = o.image_;
    mapped_ = o.mapped_;
    o.db_ = nullptr;
    o.image_ = {};
    o.mapped_ = false;
  }
  return *this;
}

SqliteDb::~SqliteDb() {
  sqlite3_close_v2(db_);
  unmap();
}

void SqliteDb::unmap() {
  if (mapped_) ::munmap(const_cast<uint8_t*>(image_.data()), image_.size());
  image_ = {};
  mapped_ = false;
}

Status SqliteDb::error(std::string_view what) const {
  return Status::Error(
      fmt::format("{}: {}: {}", path_, what, db_ ? sqlite3_errmsg(db_) : "cannot open"));
}

Result<SqliteDb> SqliteDb::open(const std::string& path) {
  SqliteDb db;
  db.path_ = path;
  if (is_gzip_file(path)) {
    // SQLite needs random access: decompress into a buffer that SQLite owns and frees.
    auto bytes = read_all(path);
    if (!bytes.ok()) return bytes.status();
    if (!looks_like_sqlite(*bytes)) {
      return Status::Error(fmt::format("{}: not an SQLite database", path));
    }
    if (sqlite3_open_v2(":memory:", &db.db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      return db.error("cannot open");
    }
    auto* buf = static_cast<unsigned char*>(sqlite3_malloc64(bytes->size()));
    if (buf == nullptr) return Status::Error(fmt::format("{}: out of memory", path));
    std::memcpy(buf, bytes->data(), bytes->size());
    const int rc =
        sqlite3_deserialize(db.db_, "main", buf, bytes->size(), bytes->size(),
                            SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY);
    if (rc != SQLITE_OK) return db.error("cannot load the decompressed database");
    sqlite3_int64 size = 0;
    const unsigned char* image = sqlite3_serialize(db.db_, "main", &size, SQLITE_SERIALIZE_NOCOPY);
    if (image != nullptr) db.image_ = {image, static_cast<size_t>(size)};
  } else {
    // immutable=1: no locks and no -shm/-wal files next to the input (a WAL-mode database opened
    // read-only otherwise creates them, even in a shared read-only collection). Only when a
    // non-empty -wal exists (a database still being written) is SQLite left to read it.
    std::error_code ec;
    const bool live_wal = std::filesystem::file_size(path + "-wal", ec) > 0 && !ec;
    const std::string uri = "file:" + uri_path(path) + (live_wal ? "?mode=ro" : "?immutable=1");
    if (sqlite3_open_v2(uri.c_str(), &db.db_,
                        SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
                        nullptr) != SQLITE_OK) {
      return db.error("cannot open");
    }
    // Map the file instead of read() into the page cache: the scans are sequential and large.
    sqlite3_exec(db.db_, "PRAGMA mmap_size=1099511627776", nullptr, nullptr, nullptr);
    // Our own read-only map for SqliteIntRows (not with a live log: the file's pages are stale).
    const int fd = live_wal ? -1 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat sb {};
    if (fd >= 0 && ::fstat(fd, &sb) == 0 && sb.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<size_t>(sb.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        db.image_ = {static_cast<const uint8_t*>(p), static_cast<size_t>(sb.st_size)};
        db.mapped_ = true;
      }
    }
    if (fd >= 0) ::close(fd);
  }
  auto st = db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')");
  if (!st.ok()) {
    return Status::Error(
        fmt::format("{}: not a readable SQLite database ({})", path, st.status().message()));
  }
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) db.tables_.emplace(st->text(0));
  if (rc != SQLITE_DONE) return db.error("cannot read the schema");
  return db;
}

Result<SqliteStmt> SqliteDb::prepare(const std::string& sql) const {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &s, nullptr) !=
      SQLITE_OK) {
    sqlite3_finalize(s);
    return error("bad query");
  }
  return SqliteStmt(s);
}

Result<std::set<std::string, std::less<>>> SqliteDb::columns(const std::string& table) const {
  std::set<std::string, std::less<>> out;
  if (!has_table(table)) return out;
  auto st = prepare(fmt::format("SELECT name FROM pragma_table_info('{}')", table));
  if (!st.ok()) return st.status();
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) out.emplace(st->text(0));
  if (rc != SQLITE_DONE) return error(fmt::format("cannot read the columns of {}", table));
  return out;
}

Result<int64_t> SqliteDb::scalar(const std::string& sql) const {
  auto st = prepare(sql);
  if (!st.ok()) return st.status();
  if (st->step() != SQLITE_ROW) return error(sql);
  return st->i64(0);
}

Status StringIdTable::load(const SqliteDb& db, const std::string& table, TraceStore& store) {
  auto st = db.prepare(fmt::format("SELECT id, value FROM \"{}\"", table));
  if (!st.ok()) return st.status();
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) {
    const int64_t id = st->i64(0);
    const StringId s = store.intern(st->text(1));
    if (id >= 0 && id < (int64_t{1} << 20)) {
      if (static_cast<size_t>(id) >= dense_.size()) dense_.resize(id + 1, kNone);
      dense_[id] = s;
    } else {
      sparse_[id] = s;
    }
  }
  if (rc != SQLITE_DONE) return db.error(fmt::format("cannot read {}", table));
  return OkStatus();
}

std::set<std::string, std::less<>> sqlite_tables(const std::string& path) {
  auto db = SqliteDb::open(path);
  if (!db.ok()) return {};
  return db->tables();
}

TrackId offset_device_track(TraceStore& store, TraceStore::Writer& w, DeviceType type,
                            int32_t device, int64_t stream, int64_t pid_offset) {
  if (pid_offset == 0) return w.device_track(type, device, stream);
  const TrackId id = w.track(device_pid(type, device) + pid_offset, stream);
  Process& p = w.process_at(w.track_at(id).process);
  if (p.device_type == DeviceType::kNone) {
    p.device_type = type;
    p.device = device;
    p.name = store.intern(fmt::format("{} {}", device_type_name(type), device));
    p.sort_index = static_cast<int32_t>(type) * 1000 + device;
    p.has_sort_index = true;
  }
  Track& t = w.track_at(id);
  if (t.name == 0) {
    t.name = store.intern(fmt::format("Stream {}", stream));
    t.sort_index = static_cast<int32_t>(stream);
    t.has_sort_index = true;
  }
  return id;
}

bool row_times(bool no_time, int64_t start, int64_t end, std::string_view format,
               SkipCounters& skips, ReadStats* stats, int64_t* ts, int64_t* dur) {
  const char* problem = nullptr;
  if (no_time) {
    problem = "row without start or end";
  } else if (end < start) {
    problem = "row with end before start";
  } else if (__builtin_sub_overflow(end, start, dur)) {  // start < 0 and end near INT64_MAX
    problem = "row with a duration beyond int64";
  }
  if (problem == nullptr) {
    *ts = start;
    return true;
  }
  skips.add(fmt::format("{}: {}", format, problem));
  ++stats->skipped;
  return false;
}

bool row_times(const SqliteStmt& st, std::string_view format, SkipCounters& skips, ReadStats* stats,
               int64_t* ts, int64_t* dur) {
  const bool no_time = st.is_null(0) || st.is_null(1);
  return row_times(no_time, no_time ? 0 : st.i64(0), no_time ? 0 : st.i64(1), format, skips, stats,
                   ts, dur);
}

}  // namespace huoyan
