#include "src/readers/msprof_db_reader.h"

#include <array>
#include <filesystem>
#include <unordered_map>

#include <fmt/format.h>

#include "src/readers/sqlite_db.h"

namespace huoyan {
namespace {

using Columns = std::set<std::string, std::less<>>;

// Device ids beyond this are not real devices (a damaged database): such rows are skipped.
constexpr int64_t kMaxDevice = 1 << 16;

constexpr std::string_view kUnknownName = "msprof: name id not in STRING_IDS (named [unknown])";

class Import {
 public:
  Import(const SqliteDb& db, TraceStore& store, const ReadOptions& options)
      : db_(db), store_(store), w_(store.writer()), options_(options) {}

  Result<ReadStats> run() {
    HUOYAN_RETURN_IF_ERROR(strings_.load(db_, "STRING_IDS", store_));
    HUOYAN_RETURN_IF_ERROR(load_labels());
    HUOYAN_RETURN_IF_ERROR(read_api());
    HUOYAN_RETURN_IF_ERROR(read_tasks());
    HUOYAN_RETURN_IF_ERROR(read_mstx());
    return stats_;
  }

 private:
  // Columns of `table`, or an error naming the first of `required` it lacks. Empty when the
  // table does not exist.
  Result<Columns> columns(const char* table, std::initializer_list<const char*> required) {
    auto cols = db_.columns(table);
    if (!cols.ok() || cols->empty()) return cols;
    for (const char* c : required) {
      if (!cols->count(c)) {
        return Status::Error(fmt::format(
            "{}: table {} has no column {} (not an msprof database schema this reader knows)",
            db_.path(), table, c));
      }
    }
    return cols;
  }

  static std::string col(const Columns& cols, const char* prefix, const char* name) {
    return cols.count(name) ? fmt::format("{}\"{}\"", prefix, name) : "NULL";
  }

  StringId name_of(int64_t id) { return strings_.get(id, store_, kUnknownName); }

  Status load_labels() {
    auto cols = columns("NPU_INFO", {"id", "name"});
    if (!cols.ok()) return cols.status();
    if (cols->empty()) return OkStatus();
    auto st = db_.prepare("SELECT id, name FROM NPU_INFO WHERE name IS NOT NULL");
    if (!st.ok()) return st.status();
    while (st->step() == SQLITE_ROW) npu_names_[st->i64(0)] = store_.intern(st->text(1));
    return OkStatus();
  }

  bool times(const SqliteStmt& st, int64_t* ts, int64_t* dur) {
    return row_times(st, "msprof", store_.skips(), &stats_, ts, dur);
  }

  void append(const Event& e, std::span<const Arg> args = {}) {
    w_.append(e, args);
    ++stats_.events;
  }

  TrackId host_track(int64_t global_tid) {
    auto it = host_tracks_.find(global_tid);
    if (it != host_tracks_.end()) return it->second;
    const int64_t pid = static_cast<int64_t>(static_cast<uint64_t>(global_tid) >> 32);
    const int64_t tid = global_tid & 0xFFFFFFFF;
    const TrackId id = w_.track(pid + options_.pid_offset, tid);
    host_tracks_.emplace(global_tid, id);
    return id;
  }

  TrackId device_track(int64_t device, int64_t stream) {
    const uint64_t key = (static_cast<uint64_t>(device) << 32) ^ static_cast<uint64_t>(stream);
    auto it = device_tracks_.find(key);
    if (it != device_tracks_.end()) return it->second;
    const TrackId id = offset_device_track(
        store_, w_, DeviceType::kNpu, static_cast<int32_t>(device), stream, options_.pid_offset);
    Process& p = w_.process_at(w_.track_at(id).process);
    auto n = npu_names_.find(device);
    if (p.labels.empty() && n != npu_names_.end()) {
      p.labels.emplace_back(store_.intern("process_labels"), n->second);
    }
    device_tracks_.emplace(key, id);
    return id;
  }

  Status read_api() {
    auto cols = columns("CANN_API", {"startNs", "endNs", "globalTid", "name"});
    if (!cols.ok()) return cols.status();
    if (cols->empty()) return OkStatus();
    std::unordered_map<int64_t, StringId> types;
    if (db_.has_table("ENUM_API_TYPE")) {
      auto st = db_.prepare("SELECT id, name FROM ENUM_API_TYPE WHERE name IS NOT NULL");
      if (!st.ok()) return st.status();
      while (st->step() == SQLITE_ROW) types[st->i64(0)] = store_.intern(st->text(1));
    }
    auto st =
        db_.prepare(fmt::format("SELECT startNs, endNs, globalTid, name, {}, {} FROM CANN_API",
                                col(*cols, "", "connectionId"), col(*cols, "", "type")));
    if (!st.ok()) return st.status();
    const StringId cat = store_.intern("cann_api");
    const StringId k_type = store_.intern("type");
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      Event e;
      if (!times(*st, &e.ts, &e.dur)) continue;
      e.kind = EventKind::kHost;
      e.cat = cat;
      e.track = host_track(st->i64(2));
      e.name = name_of(st->i64(3));
      e.id = st->is_null(4) ? 0 : static_cast<uint64_t>(st->i64(4));
      if (e.id != 0) {
        // The innermost call of a connection (nested calls share it) is the one that launched.
        auto [it, fresh] = launches_.try_emplace(e.id, e.track, e.ts);
        if (!fresh && e.ts >= it->second.second) it->second = {e.track, e.ts};
      }
      Arg arg;
      size_t n = 0;
      if (!st->is_null(5)) {
        auto t = types.find(st->i64(5));
        if (t != types.end()) {
          arg = {k_type, ArgValue::String(store_.str(t->second))};
          n = 1;
        }
      }
      append(e, {&arg, n});
    }
    if (rc != SQLITE_DONE) return db_.error("cannot read CANN_API");
    return OkStatus();
  }

  Status read_tasks() {
    auto task = columns("TASK", {"startNs", "endNs", "deviceId", "streamId"});
    if (!task.ok()) return task.status();
    if (task->empty()) {
      return Status::Error(fmt::format("{}: msprof database without a TASK table", db_.path()));
    }
    auto compute = columns("COMPUTE_TASK_INFO", {"globalTaskId", "name"});
    if (!compute.ok()) return compute.status();
    auto comm = columns("COMMUNICATION_TASK_INFO", {"globalTaskId", "name"});
    if (!comm.ok()) return comm.status();
    const bool join = task->count("globalTaskId") != 0;
    std::string sql = fmt::format(
        "SELECT t.startNs, t.endNs, t.deviceId, t.streamId, {}, {}, {}, {}, {}, {}, {} FROM TASK t",
        col(*task, "t.", "connectionId"), col(*task, "t.", "taskId"), col(*task, "t.", "taskType"),
        join && !compute->empty() ? "c.name" : "NULL",
        join && !compute->empty() ? col(*compute, "c.", "opType") : "NULL",
        join && !compute->empty() ? col(*compute, "c.", "blockDim") : "NULL",
        join && !comm->empty() ? "m.name" : "NULL");
    if (join && !compute->empty()) sql += " LEFT JOIN COMPUTE_TASK_INFO c USING (globalTaskId)";
    if (join && !comm->empty()) sql += " LEFT JOIN COMMUNICATION_TASK_INFO m USING (globalTaskId)";
    auto st = db_.prepare(sql);
    if (!st.ok()) return st.status();

    const StringId cat_kernel = store_.intern("kernel");
    const StringId cat_comm = store_.intern("communication");
    const StringId cat_task = store_.intern("task");
    const StringId cat_flow = store_.intern("async_npu");
    const StringId unnamed = store_.intern("task");
    const StringId k_device = store_.intern("device"), k_stream = store_.intern("stream"),
                   k_task_id = store_.intern("task id"), k_task_type = store_.intern("task type"),
                   k_op_type = store_.intern("op type"), k_block = store_.intern("block dim");
    std::array<Arg, 6> args;
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      Event e;
      if (!times(*st, &e.ts, &e.dur)) continue;
      const int64_t device = st->i64(2), stream = st->i64(3);
      if (device < 0 || device > kMaxDevice) {
        store_.skips().add("msprof: device id out of range");
        ++stats_.skipped;
        continue;
      }
      e.track = device_track(device, stream);
      e.id = st->is_null(4) ? 0 : static_cast<uint64_t>(st->i64(4));
      const StringId task_type = st->is_null(6) ? 0 : name_of(st->i64(6));
      if (!st->is_null(7)) {
        e.kind = EventKind::kKernel;
        e.cat = cat_kernel;
        e.name = name_of(st->i64(7));
      } else if (!st->is_null(10)) {
        e.cat = cat_comm;
        e.name = name_of(st->i64(10));
        e.kind = communication_slice_kind(store_.str(e.name));
      } else {
        e.cat = cat_task;
        e.name = task_type != 0 ? task_type : unnamed;
        e.kind = ascend_task_kind(task_type != 0 ? store_.str(task_type) : std::string_view());
      }
      size_t n = 0;
      args[n++] = {k_device, ArgValue::Int(device)};
      args[n++] = {k_stream, ArgValue::Int(stream)};
      if (!st->is_null(5)) args[n++] = {k_task_id, ArgValue::Int(st->i64(5))};
      if (task_type != 0) args[n++] = {k_task_type, ArgValue::String(store_.str(task_type))};
      if (!st->is_null(8))
        args[n++] = {k_op_type, ArgValue::String(store_.str(name_of(st->i64(8))))};
      if (!st->is_null(9)) args[n++] = {k_block, ArgValue::Int(st->i64(9))};
      append(e, {args.data(), n});
      link(e, cat_flow);
    }
    if (rc != SQLITE_DONE) return db_.error("cannot read TASK");
    return OkStatus();
  }

  void link(const Event& task, StringId cat) {
    if (task.id == 0) return;
    auto it = launches_.find(task.id);
    if (it == launches_.end()) return;
    Event s;
    s.kind = EventKind::kFlowStart;
    s.cat = cat;
    s.name = cat;
    s.id = task.id;
    s.track = it->second.first;
    s.ts = it->second.second;
    append(s);
    Event f = s;
    f.kind = EventKind::kFlowEnd;
    f.track = task.track;
    f.ts = task.ts;
    f.flags = event_flags::kBindEnclosing;
    append(f);
  }

  Status read_mstx() {
    auto cols = columns("MSTX_EVENTS", {"startNs", "endNs", "globalTid"});
    if (!cols.ok()) return cols.status();
    if (cols->empty()) return OkStatus();
    auto st = db_.prepare(fmt::format("SELECT startNs, endNs, globalTid, {} FROM MSTX_EVENTS",
                                      col(*cols, "", "message")));
    if (!st.ok()) return st.status();
    const StringId cat = store_.intern("mstx");
    const StringId unnamed = store_.intern("mstx");
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      Event e;
      if (st->is_null(0)) {
        store_.skips().add("msprof: row without start or end");
        ++stats_.skipped;
        continue;
      }
      e.ts = st->i64(0);
      const bool range = !st->is_null(1) && st->i64(1) != e.ts;
      if (range && !times(*st, &e.ts, &e.dur)) continue;
      e.kind = range ? EventKind::kHost : EventKind::kInstant;
      e.cat = cat;
      e.track = host_track(st->is_null(2) ? 0 : st->i64(2));
      e.name = st->is_null(3) ? unnamed : name_of(st->i64(3));
      append(e);
    }
    if (rc != SQLITE_DONE) return db_.error("cannot read MSTX_EVENTS");
    return OkStatus();
  }

  const SqliteDb& db_;
  TraceStore& store_;
  TraceStore::Writer w_;
  const ReadOptions& options_;
  ReadStats stats_;
  StringIdTable strings_;
  std::unordered_map<int64_t, StringId> npu_names_;
  std::unordered_map<int64_t, TrackId> host_tracks_;
  std::unordered_map<uint64_t, TrackId> device_tracks_;
  std::unordered_map<uint64_t, std::pair<TrackId, int64_t>> launches_;
};

}  // namespace

bool is_msprof_db_schema(const std::set<std::string, std::less<>>& tables) {
  return tables.count("TASK") && tables.count("STRING_IDS");
}

Result<ReadStats> MsprofDbReader::read_file(const std::string& path, TraceStore& store,
                                            const ReadOptions& options) {
  auto db = SqliteDb::open(path);
  if (!db.ok()) return db.status();
  if (!is_msprof_db_schema(db->tables())) {
    return Status::Error(
        fmt::format("{}: not an msprof database (no TASK and STRING_IDS tables)", path));
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

FormatInfo msprof_db_format() {
  return {"msprof-db",
          "msprof SQLite database (msprof_*.db of a PROF_* folder): NPU tasks with op names, CANN "
          "API calls with launch flows, mstx markers",
          [](std::string_view head, std::string_view path) {
            return looks_like_sqlite(head) && is_msprof_db_schema(sqlite_tables(std::string(path)));
          },
          [](const std::string& path, TraceStore& store, const ReadOptions& options) {
            return MsprofDbReader().read_file(path, store, options);
          }};
}

}  // namespace huoyan
