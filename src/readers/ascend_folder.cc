#include "src/readers/ascend_folder.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "src/readers/ascend_csv_reader.h"
#include "src/readers/chrome_json_reader.h"
#include "src/readers/csv_reader.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}
bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// Entries of `dir` whose names start with `prefix` and end with `suffix`, sorted by name.
std::vector<fs::path> entries(const fs::path& dir, std::string_view prefix, std::string_view suffix,
                              bool dirs = false) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!starts_with(name, prefix) || !ends_with(name, suffix)) continue;
    if (dirs ? is_dir(it->path()) : is_file(it->path())) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string head_of(const fs::path& path, size_t n = 4096) {
  auto src = ByteSource::open(path.string());
  if (!src.ok()) return "";
  std::string head(n, '\0');
  size_t got = 0;
  while (got < n) {
    auto r = (*src)->read(head.data() + got, n - got);
    if (!r.ok() || *r == 0) break;
    got += *r;
  }
  head.resize(got);
  return head;
}

bool looks_like_json(const fs::path& path) {
  const std::string head = head_of(path, 512);
  for (const char c : head) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    return c == '[' || c == '{';
  }
  return false;
}

bool looks_like_table(const fs::path& path, AscendCsvKind kind) {
  return ascend_csv_kind(csv_header_of(head_of(path))) == kind;
}

// Calls f(Process&) for every process created since `first_process`, under one writer.
template <typename F>
void for_each_process_since(TraceStore& store, size_t first_process, F&& f) {
  const size_t n = store.snapshot().processes().size();  // before the writer: shared lock
  auto w = store.writer();
  for (size_t i = first_process; i < n; ++i) f(w.process_at(static_cast<uint32_t>(i)));
}

// Accumulates the per-file results of one folder import.
class FolderImport {
 public:
  FolderImport(TraceStore& store, const ReadOptions& options) : store_(store), options_(options) {}

  // A file that carries events: its failure fails the import.
  Status events(Result<ReadStats> r) {
    if (!r.ok()) return r.status();
    add(*r);
    return OkStatus();
  }
  // A side table: its failure is counted and the import goes on.
  void side(const fs::path& path, Result<ReadStats> r) {
    if (!r.ok()) {
      store_.skips().add(
          fmt::format("{} not imported: {}", path.filename().string(), r.status().message()));
      return;
    }
    add(*r);
  }

  Status chrome(const fs::path& path, int64_t pid_offset) {
    ReadOptions options = options_;
    options.pid_offset = pid_offset;
    return events(read_chrome_json_file(path.string(), store_, options));
  }
  Status chrome(const fs::path& path) { return chrome(path, options_.pid_offset); }

  size_t processes() const { return store_.snapshot().processes().size(); }

  // Marks the device and communication processes created since `first_process` as mirrors:
  // another file of the same folder holds their device work (Snapshot::kind_of).
  void mirror_device_processes(size_t first_process) {
    for_each_process_since(store_, first_process, [](Process& p) {
      if (p.device_type != DeviceType::kNone || p.role == ProcessRole::kDevice ||
          p.role == ProcessRole::kCommunication) {
        p.role = ProcessRole::kMirror;
      }
    });
  }

  // Names the device processes created since `first_process` after their rank and device.
  void label_processes(size_t first_process, int32_t rank, int32_t device) {
    for_each_process_since(store_, first_process, [&](Process& p) {
      if (p.device_type == DeviceType::kNpu && p.device < 0 && device >= 0) p.device = device;
      if (rank < 0) return;
      p.labels.emplace_back(store_.intern("rank"), store_.intern(std::to_string(rank)));
      if (p.device_type != DeviceType::kNpu) return;
      p.name = store_.intern(p.device >= 0 ? ascend_device_name(p.device, rank)
                                           : fmt::format("rank {}:{}", rank, store_.str(p.name)));
    });
  }

  TraceStore& store() { return store_; }
  const ReadOptions& options() const { return options_; }
  const ReadStats& total() const { return total_; }

 private:
  void add(const ReadStats& r) {
    total_.events += r.events;
    total_.skipped += r.skipped;
    total_.bytes += r.bytes;
  }

  TraceStore& store_;
  const ReadOptions& options_;
  ReadStats total_;
};

// --- torch_npu ------------------------------------------------------------------------------

constexpr std::string_view kOutput = "ASCEND_PROFILER_OUTPUT";
// Pid offset of rank r's trace_view.json when the caller gives none: above msprof's own pids
// (real pid << 10 | fields, below 2^42).
constexpr int64_t kRankPidStride = int64_t{1} << 44;

// `dir` without "." / ".." / trailing-slash spellings, so that its name and its parents are
// the folder's own ("ASCEND_PROFILER_OUTPUT/." is ASCEND_PROFILER_OUTPUT).
fs::path normal_dir(const fs::path& dir) {
  std::error_code ec;
  fs::path p = fs::absolute(dir, ec);
  if (ec) p = dir;
  p = p.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p;
}

bool is_prof_name(const fs::path& p) { return starts_with(p.filename().string(), "PROF_"); }

// The ASCEND_PROFILER_OUTPUT folder of the torch_npu output `dir` belongs to, whichever of its
// levels is named: the *_ascend_pt folder, ASCEND_PROFILER_OUTPUT itself, the PROF_* folder
// beside it, or that folder's mindstudio_profiler_output. Empty when `dir` is none of these.
fs::path output_dir_of(const fs::path& named) {
  const fs::path dir = normal_dir(named);
  if (dir.filename() == kOutput) return dir;
  if (is_dir(dir / kOutput)) return dir / kOutput;
  fs::path prof = dir;
  if (dir.filename() == "mindstudio_profiler_output") prof = dir.parent_path();
  if (is_prof_name(prof) && is_dir(prof.parent_path() / kOutput)) {
    return prof.parent_path() / kOutput;
  }
  return {};
}

// Rank from profiler_info_{rank}.json (its name, or "rank_id" inside), -1 when unknown; the
// versions it records go to the store's metadata.
int32_t read_profiler_info(const fs::path& pt_dir, TraceStore& store) {
  int32_t rank = -1;
  for (const fs::path& info : entries(pt_dir, "profiler_info", ".json")) {
    const std::string stem = info.stem().string();  // profiler_info or profiler_info_3
    if (starts_with(stem, "profiler_info_")) {
      const std::string_view digits = std::string_view(stem).substr(14);
      int32_t v = 0;
      auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (r.ec == std::errc() && r.ptr == digits.data() + digits.size()) rank = v;
    }
    auto text = read_all(info.string(), size_t{16} << 20);
    if (!text.ok()) continue;
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(*text).get(obj) != simdjson::SUCCESS) {
      store.skips().add(info.filename().string() + " is not valid JSON (rank from its name)");
      continue;
    }
    int64_t id;
    if (obj["rank_id"].get(id) == simdjson::SUCCESS && id >= 0 && id < (1 << 20)) {
      rank = static_cast<int32_t>(id);
    }
    auto w = store.writer();
    for (const char* key : {"torch_npu_version", "cann_version"}) {
      std::string_view v;
      if (obj[key].get(v) == simdjson::SUCCESS) w.set_metadata(std::string("ascend.") + key, v);
    }
    break;
  }
  if (rank >= 0) store.writer().set_metadata("ascend.rank", std::to_string(rank));
  return rank;
}

bool claims_ascend_output(const std::string& dir) {
  const fs::path out = output_dir_of(dir);
  if (out.empty()) return false;
  const fs::path trace = out / "trace_view.json";
  if (is_file(trace) && looks_like_json(trace)) return true;
  const fs::path kernels = out / "kernel_details.csv";
  return is_file(kernels) && looks_like_table(kernels, AscendCsvKind::kKernels);
}

}  // namespace

void mirror_communication_layers(TraceStore& store, size_t first_process) {
  const Snapshot snap = store.snapshot();
  bool hardware = false;
  for (size_t i = first_process; i < snap.processes().size(); ++i) {
    const Process& p = snap.processes()[i];
    hardware = hardware || (p.role == ProcessRole::kDevice && p.device_type == DeviceType::kNpu);
  }
  if (!hardware) return;
  for_each_process_since(store, first_process, [](Process& p) {
    if (p.role == ProcessRole::kCommunication) p.role = ProcessRole::kMirror;
  });
}

Result<ReadStats> read_ascend_profiler_output(const std::string& dir, TraceStore& store,
                                              const ReadOptions& options) {
  const fs::path out = output_dir_of(dir);
  if (out.empty()) {
    return Status::Error(dir + ": not a torch_npu profiler folder (no " + std::string(kOutput) +
                         ")");
  }
  FolderImport imp(store, options);
  const int32_t rank = read_profiler_info(out.parent_path(), store);
  AscendSource source;
  source.rank = rank;

  const fs::path trace = out / "trace_view.json";
  const fs::path kernels = out / "kernel_details.csv";
  // The kernel table is kernel_details.csv when there is one (what MindStudio Insight shows,
  // HCCL operators included); trace_view.json then adds host events, flows and the device
  // layers' detail, which stay on the timeline but are not counted a second time.
  const bool table = is_file(kernels) && looks_like_table(kernels, AscendCsvKind::kKernels);
  if (table) {
    HUOYAN_RETURN_IF_ERROR(
        imp.events(read_ascend_csv_file(kernels.string(), store, options, source)));
  }
  if (is_file(trace)) {
    const size_t first_process = imp.processes();
    // Ranks write the same pids for their device layers (and may for hosts, on other
    // machines): without a caller's offset, each rank gets its own pid range.
    const int64_t offset = options.pid_offset == 0 && rank >= 0
                               ? static_cast<int64_t>(rank) * kRankPidStride
                               : options.pid_offset;
    HUOYAN_RETURN_IF_ERROR(imp.chrome(trace, offset));
    imp.label_processes(first_process, rank, -1);
    if (table) imp.mirror_device_processes(first_process);
  }
  for (const char* table :
       {"step_trace_time.csv", "op_statistic.csv", "operator_details.csv", "api_statistic.csv"}) {
    const fs::path p = out / table;
    if (is_file(p)) imp.side(p, read_ascend_csv_file(p.string(), store, options, source));
  }
  if (!is_file(trace) && !is_file(kernels)) {
    return Status::Error(out.string() + ": neither trace_view.json nor kernel_details.csv");
  }
  return imp.total();
}

namespace {

// --- msprof ---------------------------------------------------------------------------------

// The PROF_* folders of `dir`: itself, or its children.
std::vector<fs::path> prof_dirs_of(const fs::path& dir) {
  fs::path d = normal_dir(dir);
  if (d.filename() == "mindstudio_profiler_output" && is_prof_name(d.parent_path())) {
    return {d.parent_path()};
  }
  if (is_prof_name(d)) return {d};
  return entries(d, "PROF_", "", true);
}

// Device of a device_<id> folder, -1 when the name does not say.
int32_t device_of(const fs::path& device_dir) {
  const std::string name = device_dir.filename().string();
  int32_t v = -1;
  const char* b = name.data() + 7;
  auto r = std::from_chars(b, name.data() + name.size(), v);
  return r.ec == std::errc() && r.ptr == name.data() + name.size() ? v : -1;
}

struct ProfFiles {
  std::vector<fs::path> timeline;                                       // msprof_*.json
  std::vector<std::pair<fs::path, int32_t>> op_summary, task_time_csv;  // with folder device
  std::vector<std::pair<fs::path, int32_t>> parts;  // task_time_/hccl_/step_trace_*.json
  std::vector<fs::path> statistics;                 // op_statistic_*, api_statistic_*
};

ProfFiles files_of(const fs::path& prof) {
  ProfFiles f;
  const fs::path out = prof / "mindstudio_profiler_output";
  auto add = [](std::vector<std::pair<fs::path, int32_t>>& to, std::vector<fs::path> from,
                int32_t device) {
    for (auto& p : from) to.emplace_back(std::move(p), device);
  };
  for (auto& p : entries(out, "msprof_", ".json")) f.timeline.push_back(p);
  add(f.op_summary, entries(out, "op_summary_", ".csv"), -1);
  add(f.task_time_csv, entries(out, "task_time_", ".csv"), -1);
  for (const char* s : {"op_statistic_", "api_statistic_"}) {
    for (auto& p : entries(out, s, ".csv")) f.statistics.push_back(p);
  }
  for (const fs::path& dev : entries(prof, "device_", "", true)) {
    const int32_t device = device_of(dev);
    for (auto& p : entries(dev / "timeline", "msprof_", ".json")) f.timeline.push_back(p);
    add(f.op_summary, entries(dev / "summary", "op_summary_", ".csv"), device);
    add(f.task_time_csv, entries(dev / "summary", "task_time_", ".csv"), device);
    for (const char* s : {"task_time_", "hccl_", "step_trace_"}) {
      add(f.parts, entries(dev / "timeline", s, ".json"), device);
    }
    for (const char* s : {"op_statistic_", "api_statistic_"}) {
      for (auto& p : entries(dev / "summary", s, ".csv")) f.statistics.push_back(p);
    }
  }
  return f;
}

bool claims_prof(const fs::path& prof) {
  const ProfFiles f = files_of(prof);
  for (const auto& p : f.timeline) {
    if (looks_like_json(p)) return true;
  }
  for (const auto& [p, d] : f.parts) {
    if (looks_like_json(p)) return true;
  }
  for (const auto& list : {f.op_summary, f.task_time_csv}) {
    for (const auto& [p, d] : list) {
      if (looks_like_table(p, AscendCsvKind::kKernels)) return true;
    }
  }
  return false;
}

bool claims_msprof(const std::string& dir) {
  if (!output_dir_of(dir).empty()) return false;  // a torch_npu folder holding a PROF_*
  const std::vector<fs::path> profs = prof_dirs_of(normal_dir(dir));
  return std::any_of(profs.begin(), profs.end(), claims_prof);
}

Status import_prof(const fs::path& prof, FolderImport& imp) {
  const ProfFiles f = files_of(prof);
  TraceStore& store = imp.store();
  auto csv_kernels = [&](const std::vector<std::pair<fs::path, int32_t>>& list) -> Status {
    for (const auto& [p, device] : list) {
      AscendSource source;
      source.device = device < 0 ? 0 : device;
      HUOYAN_RETURN_IF_ERROR(
          imp.events(read_ascend_csv_file(p.string(), store, imp.options(), source)));
    }
    return OkStatus();
  };
  auto chrome = [&](const fs::path& p, int32_t device) -> Status {
    const size_t first_process = imp.processes();
    HUOYAN_RETURN_IF_ERROR(imp.chrome(p));
    imp.label_processes(first_process, -1, device);
    return OkStatus();
  };
  // One source of device tasks; the files describing the same tasks again are passed over.
  size_t passed_over = 0;
  if (!f.timeline.empty()) {
    for (const fs::path& p : f.timeline) {
      const fs::path dev = p.parent_path().parent_path();
      const bool in_device = starts_with(dev.filename().string(), "device_");
      HUOYAN_RETURN_IF_ERROR(chrome(p, in_device ? device_of(dev) : -1));
    }
    passed_over = f.op_summary.size() + f.task_time_csv.size() + f.parts.size();
  } else if (!f.op_summary.empty()) {
    HUOYAN_RETURN_IF_ERROR(csv_kernels(f.op_summary));
    passed_over = f.task_time_csv.size();
  } else if (!f.task_time_csv.empty()) {
    HUOYAN_RETURN_IF_ERROR(csv_kernels(f.task_time_csv));
  }
  if (f.timeline.empty()) {
    // Parts of the missing timeline: the task files (task_time_, hccl_) only when no table
    // gave the tasks (op_summary holds the communication tasks too); step_trace_ always.
    const bool have_tasks = !f.op_summary.empty() || !f.task_time_csv.empty();
    for (const auto& [p, device] : f.parts) {
      if (have_tasks && !starts_with(p.filename().string(), "step_trace_")) {
        ++passed_over;
        continue;
      }
      HUOYAN_RETURN_IF_ERROR(chrome(p, device));
    }
  }
  if (passed_over > 0) {
    store.skips().add(
        "msprof files not imported: their tasks came from another file of the "
        "same PROF folder",
        passed_over);
  }
  for (const fs::path& p : f.statistics) {
    imp.side(p, read_ascend_csv_file(p.string(), store, imp.options()));
  }
  return OkStatus();
}

}  // namespace

Result<ReadStats> read_msprof_prof_folder(const std::string& dir, TraceStore& store,
                                          const ReadOptions& options) {
  const std::vector<fs::path> profs = prof_dirs_of(dir);
  FolderImport imp(store, options);
  size_t imported = 0;
  for (const fs::path& prof : profs) {
    if (!claims_prof(prof)) continue;
    HUOYAN_RETURN_IF_ERROR(import_prof(prof, imp));
    ++imported;
  }
  if (imported == 0) {
    return Status::Error(dir +
                         ": not an msprof output folder (no PROF_* folder with "
                         "msprof_*.json, op_summary_*.csv or task_time_* files)");
  }
  return imp.total();
}

namespace {

// msprof's analysis writes every time of its outputs as Unix epoch: it maps device and host
// counters onto CLOCK_MONOTONIC_RAW, then adds collectionTimeBegin − clockMonotonicRaw from the
// host's start_info (docs/formats.md, "Clocks of merged inputs"). torch_npu copies those times.
constexpr std::string_view kEpochBasis =
    "msprof output times are Unix epoch (collectionTimeBegin + t − clockMonotonicRaw)";

InputClock torch_npu_clock(const std::string& /*dir*/) {
  return InputClock::epoch("Unix epoch", std::string(kEpochBasis));
}

// mindstudio_profiler_output/ is the current export (epoch times); the older per-device
// device_*/timeline files record no time base.
InputClock msprof_clock(const std::string& dir) {
  bool current = false, older = false;
  for (const fs::path& prof : prof_dirs_of(dir)) {
    if (!claims_prof(prof)) continue;
    (is_dir(prof / "mindstudio_profiler_output") ? current : older) = true;
  }
  if (current && !older) return InputClock::epoch("Unix epoch", std::string(kEpochBasis));
  return InputClock::unknown(
      "no sync info (device_*/timeline files of an older msprof export record no time base)");
}

}  // namespace

const FolderFormat& ascend_profiler_output_format() {
  static const FolderFormat info{
      "torch-npu-folder",
      "torch_npu profiler output (*_ascend_pt/ASCEND_PROFILER_OUTPUT): trace_view.json or "
      "kernel_details.csv, step_trace_time.csv, statistics as metadata, rank from "
      "profiler_info_{rank}.json",
      [](const std::string& dir) { return claims_ascend_output(dir); },
      [](const std::string& dir, TraceStore& store, const ReadOptions& options) {
        return read_ascend_profiler_output(dir, store, options);
      },
      torch_npu_clock};
  return info;
}

const FolderFormat& msprof_prof_folder_format() {
  static const FolderFormat info{
      "msprof-folder",
      "msprof output PROF_* folders (one or several): msprof_*.json timeline, else "
      "op_summary_*.csv / task_time_* kernels; statistics as metadata",
      [](const std::string& dir) { return claims_msprof(dir); },
      [](const std::string& dir, TraceStore& store, const ReadOptions& options) {
        return read_msprof_prof_folder(dir, store, options);
      },
      msprof_clock};
  return info;
}

}  // namespace huoyan
