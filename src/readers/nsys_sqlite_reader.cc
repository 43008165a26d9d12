#include "src/readers/nsys_sqlite_reader.h"

#include <array>
#include <charconv>
#include <filesystem>
#include <initializer_list>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "src/readers/sqlite_db.h"
#include "src/readers/sqlite_int_rows.h"

namespace huoyan {
namespace {

using Columns = std::set<std::string, std::less<>>;

constexpr const char* kKernel = "CUPTI_ACTIVITY_KIND_KERNEL";
constexpr const char* kMemcpy = "CUPTI_ACTIVITY_KIND_MEMCPY";
constexpr const char* kMemset = "CUPTI_ACTIVITY_KIND_MEMSET";
constexpr const char* kRuntime = "CUPTI_ACTIVITY_KIND_RUNTIME";
constexpr const char* kSync = "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION";

// CUpti_ActivitySynchronizationType, as nsys stores it in syncType, named as Kineto names them.
std::string_view sync_name(int64_t t) {
  switch (t) {
    case 1:
      return "Event Sync";
    case 2:
      return "Stream Wait Event";
    case 3:
      return "Stream Sync";
    case 4:
      return "Context Sync";
    default:
      return "Sync";
  }
}
constexpr const char* kNvtx = "NVTX_EVENTS";

// CUpti_ActivityMemcpyKind, as nsys stores it in copyKind (ENUM_CUDA_MEMCPY_OPER).
std::string_view memcpy_kind_name(int64_t k) {
  static constexpr std::array<std::string_view, 14> kNames = {
      "Unknown", "HtoD", "DtoH", "HtoA", "AtoH",       "AtoA",       "AtoD",
      "DtoA",    "DtoD", "HtoH", "PtoP", "HtoD (UVM)", "DtoH (UVM)", "DtoD (UVM)"};
  return k >= 0 && k < static_cast<int64_t>(kNames.size()) ? kNames[k] : "Unknown";
}

// Device ids beyond this are not real devices (a damaged export): such rows are skipped.
constexpr int64_t kMaxDevice = 1 << 16;

// "[a, b, c]", a Kineto-style grid/block arg. Consecutive kernels mostly repeat their launch
// shape, so the text of the last triple is kept.
class Triple {
 public:
  std::string_view text(int64_t a, int64_t b, int64_t c) {
    if (len_ != 0 && a == a_ && b == b_ && c == c_) return {buf_, len_};
    a_ = a, b_ = b, c_ = c;
    char* p = buf_;
    *p++ = '[';
    p = std::to_chars(p, buf_ + 24, a).ptr;
    *p++ = ',';
    *p++ = ' ';
    p = std::to_chars(p, p + 20, b).ptr;
    *p++ = ',';
    *p++ = ' ';
    p = std::to_chars(p, p + 20, c).ptr;
    *p++ = ']';
    len_ = static_cast<size_t>(p - buf_);
    return {buf_, len_};
  }

 private:
  char buf_[72];
  size_t len_ = 0;
  int64_t a_ = 0, b_ = 0, c_ = 0;
};

// NVTX event types (ENUM_NSYS_EVENT_TYPE).
bool is_nvtx_range(int64_t t) { return t == 59 || t == 60 || t == 70 || t == 71; }
bool is_nvtx_mark(int64_t t) { return t == 34 || t == 65; }

class Import {
 public:
  Import(const SqliteDb& db, TraceStore& store, const ReadOptions& options)
      : db_(db), store_(store), w_(store.writer()), options_(options) {
    k_device_ = store.intern("device");
    k_stream_ = store.intern("stream");
    k_grid_ = store.intern("grid");
    k_block_ = store.intern("block");
    k_registers_ = store.intern("registers per thread");
    k_shared_ = store.intern("shared memory");
    k_bytes_ = store.intern("bytes");
    k_copy_kind_ = store.intern("copy kind");
    cat_kernel_ = store.intern("kernel");
    cat_memcpy_ = store.intern("gpu_memcpy");
    cat_memset_ = store.intern("gpu_memset");
    cat_runtime_ = store.intern("cuda_runtime");
    cat_sync_ = store.intern("cuda_sync");
    sync_track_name_ = store.intern("Synchronization");
    cat_nvtx_ = store.intern("nvtx");
    cat_flow_ = store.intern("ac2g");
    memset_name_ = store.intern("Memset");
  }

  Result<ReadStats> run() {
    HUOYAN_RETURN_IF_ERROR(check_schema());
    HUOYAN_RETURN_IF_ERROR(load_strings());
    HUOYAN_RETURN_IF_ERROR(load_names());
    HUOYAN_RETURN_IF_ERROR(read_runtime());
    HUOYAN_RETURN_IF_ERROR(read_device(kKernel, EventKind::kKernel));
    HUOYAN_RETURN_IF_ERROR(read_device(kMemcpy, EventKind::kMemcpy));
    HUOYAN_RETURN_IF_ERROR(read_device(kMemset, EventKind::kMemset));
    HUOYAN_RETURN_IF_ERROR(read_sync());
    HUOYAN_RETURN_IF_ERROR(read_nvtx());
    return stats_;
  }

 private:
  // Every table we read must have these columns; optional ones are selected as NULL if absent.
  Status check_schema() {
    struct Required {
      const char* table;
      std::array<const char*, 4> columns;  // nullptr-padded
    };
    static constexpr Required kRequired[] = {{kKernel, {"start", "end", "deviceId", "streamId"}},
                                             {kMemcpy, {"start", "end", "deviceId", "streamId"}},
                                             {kMemset, {"start", "end", "deviceId", "streamId"}},
                                             {kRuntime, {"start", "end", "nameId", nullptr}},
                                             {kSync, {"start", "end", "deviceId", "syncType"}},
                                             {kNvtx, {"start", "end", "eventType", nullptr}}};
    for (const auto& [table, cols] : kRequired) {
      auto have = db_.columns(table);
      if (!have.ok()) return have.status();
      columns_[table] = *have;
      if (have->empty()) continue;  // tables are created lazily: absent = no such activity
      for (const char* c : cols) {
        if (c != nullptr && !have->count(c)) return missing(table, c);
      }
    }
    const Columns& k = columns_[kKernel];
    if (!k.empty() && !k.count("demangledName") && !k.count("shortName")) {
      return missing(kKernel, "demangledName");
    }
    const bool names_needed = !columns_[kKernel].empty() || !columns_[kRuntime].empty() ||
                              columns_[kNvtx].count("textId");
    if (names_needed && !db_.has_table("StringIds")) {
      return Status::Error(fmt::format(
          "{}: Nsight Systems export without a StringIds table: names cannot be resolved",
          db_.path()));
    }
    return OkStatus();
  }

  Status missing(const char* table, const char* column) const {
    return Status::Error(
        fmt::format("{}: table {} has no column {} (not an Nsight Systems "
                    "export schema this reader knows)",
                    db_.path(), table, column));
  }

  // "col" when the table has it, else "NULL" (so column positions stay fixed).
  std::string col(const char* table, const char* name) {
    return columns_[table].count(name) ? fmt::format("\"{}\"", name) : "NULL";
  }

  Status load_strings() {
    if (!db_.has_table("StringIds")) return OkStatus();
    return strings_.load(db_, "StringIds", store_);
  }

  StringId name_of(int64_t id) {
    return strings_.get(id, store_, "nsys: name id not in StringIds (named [unknown])");
  }

  Status load_names() {
    if (db_.has_table("PROCESSES")) {
      auto cols = db_.columns("PROCESSES");
      if (cols.ok() && cols->count("pid") && cols->count("name")) {
        auto st = db_.prepare("SELECT pid, name FROM PROCESSES WHERE name IS NOT NULL");
        if (!st.ok()) return st.status();
        while (st->step() == SQLITE_ROW) process_names_[st->i64(0)] = store_.intern(st->text(1));
      }
    }
    if (db_.has_table("ThreadNames")) {
      auto cols = db_.columns("ThreadNames");
      if (cols.ok() && cols->count("nameId") && cols->count("globalTid")) {
        auto st = db_.prepare("SELECT globalTid, nameId FROM ThreadNames");
        if (!st.ok()) return st.status();
        while (st->step() == SQLITE_ROW) thread_names_[st->i64(0)] = st->i64(1);
      }
    }
    if (db_.has_table("TARGET_INFO_GPU")) {
      auto cols = db_.columns("TARGET_INFO_GPU");
      if (cols.ok() && cols->count("id") && cols->count("name")) {
        auto st = db_.prepare("SELECT id, name FROM TARGET_INFO_GPU WHERE name IS NOT NULL");
        if (!st.ok()) return st.status();
        while (st->step() == SQLITE_ROW) gpu_names_[st->i64(0)] = store_.intern(st->text(1));
      }
    }
    return OkStatus();
  }

  TrackId host_track(int64_t global_tid) {
    auto it = host_tracks_.find(global_tid);
    if (it != host_tracks_.end()) return it->second;
    const int64_t pid = (global_tid >> 24) & 0xFFFFFF;
    const int64_t tid = global_tid & 0xFFFFFF;
    const TrackId id = w_.track(pid + options_.pid_offset, tid);
    Track& t = w_.track_at(id);
    auto tn = thread_names_.find(global_tid);
    if (t.name == 0 && tn != thread_names_.end()) t.name = name_of(tn->second);
    Process& p = w_.process_at(t.process);
    auto pn = process_names_.find(pid);
    if (p.name == 0 && pn != process_names_.end()) p.name = pn->second;
    host_tracks_.emplace(global_tid, id);
    return id;
  }

  TrackId device_track(int64_t device, int64_t stream) {
    const uint64_t key = (static_cast<uint64_t>(device) << 32) ^ static_cast<uint64_t>(stream);
    if (key == last_device_key_ && have_last_device_) return last_device_track_;
    auto it = device_tracks_.find(key);
    TrackId id;
    if (it != device_tracks_.end()) {
      id = it->second;
    } else {
      id = offset_device_track(store_, w_, DeviceType::kGpu, static_cast<int32_t>(device), stream,
                               options_.pid_offset);
      Process& p = w_.process_at(w_.track_at(id).process);
      auto gn = gpu_names_.find(device);
      if (p.labels.empty() && gn != gpu_names_.end()) {
        p.labels.emplace_back(store_.intern("process_labels"), gn->second);
      }
      device_tracks_.emplace(key, id);
    }
    last_device_key_ = key;
    last_device_track_ = id;
    have_last_device_ = true;
    return id;
  }

  bool times(const SqliteStmt& st, int64_t* ts, int64_t* dur) {
    return row_times(st, "nsys", store_.skips(), &stats_, ts, dur);
  }
  bool times(const SqliteIntRows::Row& r, int64_t* ts, int64_t* dur) {
    return row_times(r, "nsys", store_.skips(), &stats_, ts, dur);
  }

  void append(const Event& e, std::span<const Arg> args = {}) {
    w_.append(e, args);
    ++stats_.events;
  }

  // Calls row(r) for every row of `columns` of `table` (see SqliteIntRows), in rowid order.
  template <typename F>
  Status for_each_row(const char* table, std::span<const char* const> columns, F&& row) {
    auto rows = SqliteIntRows::open(db_, table, columns);
    if (!rows.ok()) return rows.status();
    for (;;) {
      auto batch = rows->next();
      if (!batch.ok()) return batch.status();
      if (batch->empty()) return OkStatus();
      for (const SqliteIntRows::Row& r : *batch) row(r);
    }
  }

  Status read_runtime() {
    if (columns_[kRuntime].empty()) return OkStatus();
    auto count = db_.scalar(fmt::format("SELECT count(*) FROM {}", kRuntime));
    if (count.ok() && *count > 0) launches_.reserve(static_cast<size_t>(*count));
    static constexpr const char* kColumns[] = {"start", "end", "nameId", "globalTid",
                                               "correlationId"};
    return for_each_row(kRuntime, kColumns, [&](const SqliteIntRows::Row& r) {
      Event e;
      if (!times(r, &e.ts, &e.dur)) return;
      e.kind = EventKind::kHost;
      e.cat = cat_runtime_;
      e.name = name_of(r.v[2]);
      e.track = host_track(r.v[3]);
      e.id = static_cast<uint64_t>(r.v[4]);  // NULL reads 0: no launch
      if (e.id != 0) launches_[e.id] = {e.track, e.ts};
      append(e);
    });
  }

  Status read_device(const char* table, EventKind kind) {
    if (columns_[table].empty()) return OkStatus();
    const bool demangled = columns_[table].count("demangledName") != 0;
    const char* const kernel_columns[] = {"start",
                                          "end",
                                          "deviceId",
                                          "streamId",
                                          "correlationId",
                                          demangled ? "demangledName" : "shortName",
                                          "gridX",
                                          "gridY",
                                          "gridZ",
                                          "blockX",
                                          "blockY",
                                          "blockZ",
                                          "registersPerThread",
                                          "staticSharedMemory",
                                          "dynamicSharedMemory"};
    static constexpr const char* kCopyColumns[] = {"start",         "end",   "deviceId", "streamId",
                                                   "correlationId", "bytes", "copyKind"};
    const std::span<const char* const> columns =
        kind == EventKind::kKernel   ? std::span<const char* const>(kernel_columns)
        : kind == EventKind::kMemcpy ? std::span<const char* const>(kCopyColumns)
                                     : std::span<const char* const>(kCopyColumns).first(6);

    // Which optional columns exist is known once: an absent one is no arg, a NULL in a present
    // one reads 0.
    const Columns& have = columns_[table];
    const auto all = [&have](std::initializer_list<const char*> cs) {
      for (const char* c : cs) {
        if (!have.count(c)) return false;
      }
      return true;
    };
    const bool has_grid = all({"gridX", "gridY", "gridZ"});
    const bool has_block = all({"blockX", "blockY", "blockZ"});
    const bool has_regs = all({"registersPerThread"});
    const bool has_shared = all({"staticSharedMemory", "dynamicSharedMemory"});
    const bool has_bytes = all({"bytes"});
    std::vector<StringId> memcpy_names;
    std::array<Arg, 6> args;
    Triple grid, block;
    return for_each_row(table, columns, [&](const SqliteIntRows::Row& r) {
      Event e;
      if (!times(r, &e.ts, &e.dur)) return;
      const int64_t device = r.v[2], stream = r.v[3];
      if (device < 0 || device > kMaxDevice) {
        store_.skips().add("nsys: device id out of range");
        ++stats_.skipped;
        return;
      }
      e.kind = kind;
      e.track = device_track(device, stream);
      e.id = static_cast<uint64_t>(r.v[4]);
      size_t n = 0;
      args[n++] = {k_device_, ArgValue::Int(device)};
      args[n++] = {k_stream_, ArgValue::Int(stream)};
      if (kind == EventKind::kKernel) {
        e.cat = cat_kernel_;
        e.name = name_of(r.v[5]);
        if (is_collective_kernel_name(store_.str(e.name))) e.kind = EventKind::kCollective;
        if (has_grid) args[n++] = {k_grid_, ArgValue::Json(grid.text(r.v[6], r.v[7], r.v[8]))};
        if (has_block) {
          args[n++] = {k_block_, ArgValue::Json(block.text(r.v[9], r.v[10], r.v[11]))};
        }
        if (has_regs) args[n++] = {k_registers_, ArgValue::Int(r.v[12])};
        if (has_shared) {
          const uint64_t bytes = static_cast<uint64_t>(r.v[13]) + static_cast<uint64_t>(r.v[14]);
          args[n++] = {k_shared_, ArgValue::Int(static_cast<int64_t>(bytes))};
        }
      } else {
        if (has_bytes) args[n++] = {k_bytes_, ArgValue::Int(r.v[5])};
        if (kind == EventKind::kMemcpy) {
          e.cat = cat_memcpy_;
          const int64_t k = r.v[6];
          const size_t slot = k >= 0 && k < 14 ? static_cast<size_t>(k) : 0;
          if (memcpy_names.empty()) memcpy_names.assign(14, 0);
          if (memcpy_names[slot] == 0) {
            memcpy_names[slot] = store_.intern(fmt::format("Memcpy {}", memcpy_kind_name(k)));
          }
          e.name = memcpy_names[slot];
          args[n++] = {k_copy_kind_, ArgValue::String(memcpy_kind_name(k))};
        } else {
          e.cat = cat_memset_;
          e.name = memset_name_;
        }
      }
      append(e, {args.data(), n});
      link(e);
    });
  }

  // Synchronisations (cudaEventSynchronize, cudaStreamWaitEvent…): waits, on their stream, or
  // on a "Synchronization" row of the device when they have none (streamId 2^32 − 1).
  Status read_sync() {
    if (columns_[kSync].empty()) return OkStatus();
    static constexpr const char* kColumns[] = {"start",    "end",           "deviceId",
                                               "streamId", "correlationId", "syncType"};
    std::array<StringId, 5> names{};
    return for_each_row(kSync, kColumns, [&](const SqliteIntRows::Row& r) {
      Event e;
      if (!times(r, &e.ts, &e.dur)) return;
      const int64_t device = r.v[2];
      if (device < 0 || device > kMaxDevice) {
        store_.skips().add("nsys: device id out of range");
        ++stats_.skipped;
        return;
      }
      const int64_t stream = r.v[3] < 0 || r.v[3] >= 0xFFFFFFFF ? -1 : r.v[3];
      e.kind = EventKind::kWait;
      e.cat = cat_sync_;
      e.track = device_track(device, stream);
      if (stream < 0) {
        Track& t = w_.track_at(e.track);
        if (t.name != sync_track_name_) t.name = sync_track_name_;
      }
      e.id = static_cast<uint64_t>(r.v[4]);
      const size_t slot = r.v[5] >= 1 && r.v[5] <= 4 ? static_cast<size_t>(r.v[5]) : 0;
      if (names[slot] == 0) names[slot] = store_.intern(sync_name(r.v[5]));
      e.name = names[slot];
      append(e);
    });
  }

  // Flow from the runtime call that launched `device_event` to it.
  void link(const Event& device_event) {
    if (device_event.id == 0 || launches_.empty()) return;
    auto it = launches_.find(device_event.id);
    if (it == launches_.end()) return;
    Event s;
    s.kind = EventKind::kFlowStart;
    s.cat = cat_flow_;
    s.name = cat_flow_;
    s.id = device_event.id;
    s.track = it->second.first;
    s.ts = it->second.second;
    append(s);
    Event f = s;
    f.kind = EventKind::kFlowEnd;
    f.track = device_event.track;
    f.ts = device_event.ts;
    f.flags = event_flags::kBindEnclosing;
    append(f);
  }

  Status read_nvtx() {
    if (columns_[kNvtx].empty()) return OkStatus();
    auto st = db_.prepare(fmt::format("SELECT start, end, eventType, {}, {}, {} FROM {}",
                                      col(kNvtx, "text"), col(kNvtx, "textId"),
                                      col(kNvtx, "globalTid"), kNvtx));
    if (!st.ok()) return st.status();
    const StringId unnamed = store_.intern("NVTX range");
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      const int64_t type = st->i64(2);
      const bool range = is_nvtx_range(type);
      if (!range && !is_nvtx_mark(type)) continue;  // domains, categories, thread names
      Event e;
      e.ts = st->i64(0);
      if (range) {
        if (!times(*st, &e.ts, &e.dur)) continue;
        e.kind = EventKind::kHost;
      } else {
        e.kind = EventKind::kInstant;
      }
      e.cat = cat_nvtx_;
      e.name = !st->is_null(3)   ? store_.intern(st->text(3))
               : !st->is_null(4) ? name_of(st->i64(4))
                                 : unnamed;
      e.track = host_track(st->is_null(5) ? 0 : st->i64(5));
      append(e);
    }
    if (rc != SQLITE_DONE) return db_.error(fmt::format("cannot read {}", kNvtx));
    return OkStatus();
  }

  const SqliteDb& db_;
  TraceStore& store_;
  TraceStore::Writer w_;
  const ReadOptions& options_;
  ReadStats stats_;
  std::unordered_map<std::string, Columns> columns_;
  StringIdTable strings_;
  std::unordered_map<int64_t, StringId> process_names_;
  std::unordered_map<int64_t, int64_t> thread_names_;
  std::unordered_map<int64_t, StringId> gpu_names_;
  std::unordered_map<int64_t, TrackId> host_tracks_;
  std::unordered_map<uint64_t, TrackId> device_tracks_;
  std::unordered_map<uint64_t, std::pair<TrackId, int64_t>> launches_;
  uint64_t last_device_key_ = 0;
  TrackId last_device_track_ = 0;
  bool have_last_device_ = false;
  StringId k_device_, k_stream_, k_grid_, k_block_, k_registers_, k_shared_, k_bytes_, k_copy_kind_;
  StringId cat_kernel_, cat_memcpy_, cat_memset_, cat_runtime_, cat_nvtx_, cat_flow_, memset_name_;
  StringId cat_sync_, sync_track_name_;
};

}  // namespace

bool is_nsys_schema(const std::set<std::string, std::less<>>& tables) {
  if (!tables.count("StringIds")) return false;
  for (const char* t :
       {"META_DATA_EXPORT", "EXPORT_META_DATA", kKernel, kRuntime, kMemcpy, kMemset, kNvtx}) {
    if (tables.count(t)) return true;
  }
  return false;
}

Result<ReadStats> NsysSqliteReader::read_file(const std::string& path, TraceStore& store,
                                              const ReadOptions& options) {
  auto db = SqliteDb::open(path);
  if (!db.ok()) return db.status();
  if (!is_nsys_schema(db->tables())) {
    return Status::Error(fmt::format(
        "{}: not an Nsight Systems SQLite export (no StringIds / CUPTI_ACTIVITY_KIND_* tables)",
        path));
  }
  Import import(*db, store, options);
  auto stats = import.run();
  if (stats.ok()) {
    std::error_code ec;
    stats->bytes = std::filesystem::file_size(path, ec);
    if (options.progress) options.progress(stats->bytes, stats->bytes);
  }
  return stats;
}

FormatInfo nsys_sqlite_format() {
  return {"nsys-sqlite",
          "Nsight Systems SQLite export (nsys export --type sqlite): CUDA kernels, memcpy, memset, "
          "runtime calls with launch flows, NVTX ranges",
          [](std::string_view head, std::string_view path) {
            return looks_like_sqlite(head) && is_nsys_schema(sqlite_tables(std::string(path)));
          },
          [](const std::string& path, TraceStore& store, const ReadOptions& options) {
            return NsysSqliteReader().read_file(path, store, options);
          }};
}

}  // namespace huoyan
