// The kernel tables: kernel_details.csv (torch_npu), op_summary_*.csv and task_time_*.csv
// (msprof). One device task per row.
#include "src/readers/ascend_csv_reader.h"

#include <exception>
#include <map>
#include <new>
#include <optional>
#include <span>
#include <unordered_map>

#include <fmt/format.h>

#include "src/core/time_format.h"
#include "src/readers/ascend_csv_util.h"
#include "src/readers/csv_reader.h"
#include "src/readers/intern_cache.h"

namespace huoyan {

using namespace ascend_csv;  // NOLINT(build/namespaces): helpers of this reader family

int64_t ascend_device_pid(int32_t device, int32_t rank, int64_t pid_offset) {
  // Ranks move the device into its own block of 4096 ids inside the NPU pid range.
  const int32_t slot = rank < 0 ? device : device + (rank + 1) * 4096;
  return device_pid(DeviceType::kNpu, slot) + pid_offset;
}

std::string ascend_device_name(int32_t device, int32_t rank) {
  return rank < 0 ? fmt::format("NPU {}", device) : fmt::format("rank {}:NPU {}", rank, device);
}

namespace {

constexpr uint32_t kBatchRows = 4096;
constexpr uint64_t kProgressEvery = uint64_t{4} << 20;
constexpr int64_t kNoStream = -1;

class KernelTable {
 public:
  KernelTable(CsvParser& csv, TraceStore& store, const ReadOptions& options, AscendSource source)
      : csv_(csv), store_(store), options_(options), source_(source), interned_(store) {
    cat_kernel_ = store.intern("kernel");
    k_device_ = store.intern("device");
    k_stream_ = store.intern("stream");
  }

  Result<ReadStats> run() {
    HUOYAN_RETURN_IF_ERROR(header());
    while (true) {
      const CsvParser::Next n = csv_.next();
      if (n == CsvParser::Next::kEnd) break;
      if (n == CsvParser::Next::kError) {
        if (stored_ == 0) return finish_error(csv_.status());
        count("input cut short by a read error (" + csv_.status().message() + ")");
        break;
      }
      row();
      if (options_.progress && csv_.bytes_read() >= next_progress_) {
        writer_.reset();
        options_.progress(csv_.bytes_read(), 0);
        next_progress_ = csv_.bytes_read() + kProgressEvery;
      }
    }
    if (stored_ == 0 && skipped_ > 0) {
      return finish_error(
          Status::Error(fmt::format("{}: no row of the kernel table could be read; "
                                    "line {}: {}",
                                    csv_.name(), first_bad_line_, first_bad_)));
    }
    add_steps();
    writer_.reset();
    flush_counters();
    ReadStats stats;
    stats.events = stored_;
    stats.skipped = skipped_;
    stats.bytes = csv_.bytes_read();
    return stats;
  }

 private:
  Status header() {
    const CsvParser::Next n = csv_.next();
    if (n == CsvParser::Next::kError) return csv_.status();
    if (n == CsvParser::Next::kEnd) {
      return Status::Error(csv_.name() + ": empty file, expected a CSV header line");
    }
    if (csv_.has_nul()) {
      return Status::Error(fmt::format("{}: line {}: NUL byte in the header: not a CSV table",
                                       csv_.name(), csv_.line()));
    }
    for (const std::string_view f : csv_.fields()) header_.emplace_back(clean_cell(f));
    name_ = find_column(header_, {"Name", "Op Name", "kernel_name"});
    start_ = find_column(
        header_, {"Start Time(us)", "Task Start Time(us)", "task_start(us)", "Task Start Time"});
    dur_ = find_column(header_, {"Duration(us)", "Task Duration(us)", "task_time(us)"});
    type_ = find_column(header_, {"Type", "OP Type", "kernel_type"});
    core_ = find_column(header_, {"Accelerator Core", "Task Type", "kernel_type"});
    stream_ = find_column(header_, {"Stream ID", "Stream Id", "Physic Stream Id", "stream_id"});
    device_ = find_column(header_, {"Device_id", "Device Id", "Device ID"});
    step_ = find_column(header_, {"Step Id", "Step ID"});
    const int stop = find_column(header_, {"task_stop(us)"});
    const std::pair<int, std::string_view> required[] = {
        {name_, "Name (or Op Name, kernel_name)"},
        {start_, "Start Time(us) (or Task Start Time(us), task_start(us))"},
        {dur_, "Duration(us) (or Task Duration(us), task_time(us))"}};
    for (const auto& [col, what] : required) {
      if (col < 0) {
        return Status::Error(fmt::format("{}: line {}: not a kernel table: no column {}",
                                         csv_.name(), csv_.line(), what));
      }
    }
    start_label_ = "bad " + header_[start_];
    dur_label_ = "bad " + header_[dur_];
    needed_ = std::max({name_, start_, dur_}) + 1;
    // Every other column is an arg under its own name; device and stream under the names the
    // other device readers use; task_stop(us) is start + duration.
    columns_.assign(header_.size(), Column{});
    std::vector<std::string_view> pmu_names;
    for (size_t i = 0; i < header_.size(); ++i) {
      const int c = static_cast<int>(i);
      if (c == name_ || c == start_ || c == dur_ || c == step_ || c == stop) continue;
      if (c == device_) {
        columns_[i].key = k_device_;
      } else if (c == stream_) {
        columns_[i].key = k_stream_;
      } else if (!header_[i].empty()) {
        columns_[i].key = store_.intern(header_[i]);
        columns_[i].metric = !is_attribute_column(header_[i]);
        if (columns_[i].metric) pmu_names.push_back(header_[i]);
      }
    }
    if (!pmu_names.empty()) {
      std::string key = "PMU [";
      for (size_t i = 0; i < pmu_names.size(); ++i) {
        if (i > 0) key += ", ";
        key += pmu_names[i];
      }
      key += "]";
      pmu_key_ = store_.intern(key);
    }
    args_.resize(header_.size() + 2);
    return OkStatus();
  }

  void row() {
    const auto& f = csv_.fields();
    if (csv_.repaired_bytes() > 0) count("invalid UTF-8 repaired");
    if (csv_.has_nul()) return skip("row with a NUL byte");
    if (csv_.unterminated_quote()) return skip("quoted field never closed at end of input");
    if (f.size() < header_.size()) {
      if (!csv_.terminated()) return skip("row cut off at end of input");
      if (static_cast<int>(f.size()) < needed_) return skip("row with too few fields");
      count("rows with fewer fields than the header (missing cells left empty)");
    } else if (f.size() > header_.size()) {
      count("rows with more fields than the header (extra cells ignored)");
    }
    Event e;
    if (!parse_decimal_to_ns(clean_cell(f[start_]), 1000, &e.ts)) return skip(start_label_);
    if (!parse_decimal_to_ns(clean_cell(f[dur_]), 1000, &e.dur)) return skip(dur_label_);
    if (e.dur < 0) return skip("negative " + header_[dur_]);
    int64_t end;
    if (__builtin_add_overflow(e.ts, e.dur, &end)) return skip(dur_label_);

    int32_t device = source_.device;
    int64_t stream = kNoStream;
    if (device_ >= 0 && device_ < static_cast<int>(f.size())) {
      const std::string_view d = clean_cell(f[device_]);
      int64_t v;
      if (!is_missing(d) && parse_int(d, &v) && v >= 0 && v < 4096)
        device = static_cast<int32_t>(v);
    }
    if (stream_ >= 0 && stream_ < static_cast<int>(f.size())) {
      int64_t v;
      if (parse_int(clean_cell(f[stream_]), &v) && v >= 0) stream = v;
    }
    if (step_ >= 0 && step_ < static_cast<int>(f.size())) {
      int64_t v;
      if (parse_int(clean_cell(f[step_]), &v) && v > 0) e.step = static_cast<uint64_t>(v);
    }
    std::string_view name = clean_cell(f[name_]);
    const std::string_view core =
        core_ >= 0 && core_ < static_cast<int>(f.size()) ? clean_cell(f[core_]) : "";
    // The task type (Accelerator Core / Task Type / kernel_type) says what a row is: HCCL
    // rows are collectives, copies and waits are not kernels (docs/formats.md).
    e.kind = ascend_task_kind(is_missing(core) ? std::string_view() : core);
    if (is_missing(name)) {
      // task_time rows of non-kernel tasks: named after the task type.
      name = type_ >= 0 && type_ < static_cast<int>(f.size()) ? clean_cell(f[type_]) : "";
    } else if (e.kind == EventKind::kKernel) {
      e.cat = cat_kernel_;
    }
    e.name = interned_.get(name);
    e.track = track(device, stream);

    // Filled in place (args_ is sized for every column in header()): no per-arg growth check.
    Arg* out = args_.data();
    const size_t n = std::min(f.size(), columns_.size());
    pmu_.assign(1, '[');
    bool any_pmu = false;
    for (size_t i = 0; i < n; ++i) {
      const Column& col = columns_[i];
      if (col.key == 0) continue;
      const std::string_view v = clean_cell(f[i]);
      if (col.metric) {
        if (pmu_.size() > 1) pmu_.push_back(',');
        if (is_missing(v)) {
          pmu_ += "null";
          continue;
        }
        any_pmu = true;
        if (is_json_number(v)) {
          pmu_ += v;
        } else {
          append_json_string(pmu_, v);
        }
        continue;
      }
      if (is_missing(v)) continue;
      out->key = col.key;
      typed_cell(v, &out->value);
      ++out;
    }
    if (any_pmu) {
      // Cells of missing trailing columns: the array keeps one value per PMU column.
      for (size_t i = n; i < columns_.size(); ++i) {
        if (columns_[i].metric) pmu_ += ",null";
      }
      pmu_.push_back(']');
      *out++ = Arg{pmu_key_, ArgValue::Json(pmu_)};
    }
    if (device_ < 0) *out++ = Arg{k_device_, ArgValue::Int(device)};

    w().append(e, std::span<const Arg>(args_.data(), static_cast<size_t>(out - args_.data())));
    ++stored_;
    if (e.step != 0) {
      auto [it, fresh] = steps_.try_emplace(e.step);
      StepSpan& s = it->second;
      if (fresh || e.ts < s.start) s.start = e.ts;
      if (fresh || end > s.end) s.end = end;
      if (fresh) s.track = e.track;
    }
    if (++batch_ >= kBatchRows) {
      writer_.reset();
      batch_ = 0;
    }
  }

  // The descriptive columns of op_summary/kernel_details; the others are PMU metrics
  // (aicore_time(us), aic_*, aiv_*, cube_utilization(%)…), packed into one array arg.
  static bool is_attribute_column(std::string_view h) {
    static constexpr std::string_view kAttributes[] = {"Model ID",
                                                       "Model Name",
                                                       "Infer ID",
                                                       "Task ID",
                                                       "Type",
                                                       "OP Type",
                                                       "OP State",
                                                       "Accelerator Core",
                                                       "Task Type",
                                                       "kernel_type",
                                                       "task_id",
                                                       "Wait Time(us)",
                                                       "Task Wait Time(us)",
                                                       "Block Dim",
                                                       "Block Num",
                                                       "Mix Block Dim",
                                                       "Mix Block Num",
                                                       "HF32 Eligible",
                                                       "Input Shapes",
                                                       "Input Data Types",
                                                       "Input Formats",
                                                       "Output Shapes",
                                                       "Output Data Types",
                                                       "Output Formats",
                                                       "Context ID"};
    for (const std::string_view a : kAttributes) {
      if (iequal(h, a)) return true;
    }
    return false;
  }

  static bool parse_int(std::string_view s, int64_t* v) {
    if (s.empty()) return false;
    auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
  }

  TraceStore::Writer& w() {
    if (!writer_) writer_.emplace(store_.writer());
    return *writer_;
  }

  TrackId track(int32_t device, int64_t stream) {
    const uint64_t key = (static_cast<uint64_t>(device) << 40) ^ static_cast<uint64_t>(stream);
    if (have_last_ && key == last_key_) return last_track_;
    auto it = tracks_.find(key);
    TrackId id;
    if (it != tracks_.end()) {
      id = it->second;
    } else {
      const int64_t pid = ascend_device_pid(device, source_.rank, options_.pid_offset);
      id = w().track(pid, stream);
      Track& t = w().track_at(id);
      Process& p = w().process_at(t.process);
      if (p.name == 0) {
        p.name = store_.intern(ascend_device_name(device, source_.rank));
        p.device_type = DeviceType::kNpu;
        p.device = device;
        p.sort_index = static_cast<int32_t>(DeviceType::kNpu) * 1000 + device;
        p.has_sort_index = true;
        if (source_.rank >= 0) {
          p.labels.emplace_back(store_.intern("rank"), store_.intern(std::to_string(source_.rank)));
        }
      }
      if (t.name == 0) {
        t.name = store_.intern(stream == kNoStream ? std::string("Stream N/A")
                                                   : fmt::format("Stream {}", stream));
        t.sort_index = static_cast<int32_t>(stream);
        t.has_sort_index = true;
      }
      tracks_.emplace(key, id);
    }
    have_last_ = true;
    last_key_ = key;
    last_track_ = id;
    return id;
  }

  // Each step seen becomes a Step spanning its kernels; a step already in the store (another
  // table of the same run) keeps its members and widens to cover these kernels.
  void add_steps() {
    if (steps_.empty()) return;
    writer_.reset();  // store.step() takes the shared lock
    std::vector<Step> out;
    for (const auto& [id, span] : steps_) {
      Step step;
      if (auto existing = store_.step(id + store_.input_step_offset())) {
        step = std::move(*existing);
      } else {
        step.track = span.track;
      }
      step.id = id;
      if (step.start == kNoTime || span.start < step.start) step.start = span.start;
      if (step.end == kNoTime || span.end > step.end) step.end = span.end;
      out.push_back(std::move(step));
    }
    for (Step& step : out) w().add_step(std::move(step));
  }

  void count(const std::string& reason, uint64_t n = 1) { counters_[reason] += n; }
  void skip(const std::string& reason) {
    if (skipped_++ == 0) {
      first_bad_ = reason;
      first_bad_line_ = csv_.line();
    }
    count(reason);
  }
  void flush_counters() {
    for (const auto& [reason, n] : counters_) store_.skips().add(reason, n);
    counters_.clear();
  }
  Status finish_error(Status st) {
    writer_.reset();
    flush_counters();
    return st;
  }

  struct StepSpan {
    int64_t start = 0;
    int64_t end = 0;
    TrackId track = 0;
  };

  CsvParser& csv_;
  TraceStore& store_;
  const ReadOptions& options_;
  AscendSource source_;
  InternCache interned_;
  std::optional<TraceStore::Writer> writer_;
  uint32_t batch_ = 0;
  StringId cat_kernel_, k_device_, k_stream_;

  std::vector<std::string> header_;
  struct Column {
    StringId key = 0;     // arg key, 0 = not an arg
    bool metric = false;  // a PMU counter column: its value goes into the PMU array
  };
  std::vector<Column> columns_;
  StringId pmu_key_ = 0;
  std::string pmu_;  // the PMU array of the current row
  int name_ = -1, start_ = -1, dur_ = -1, type_ = -1, core_ = -1, stream_ = -1, device_ = -1,
      step_ = -1, needed_ = 0;
  std::string start_label_, dur_label_;
  std::vector<Arg> args_;

  std::unordered_map<uint64_t, TrackId> tracks_;
  bool have_last_ = false;
  uint64_t last_key_ = 0;
  TrackId last_track_ = 0;
  std::map<uint64_t, StepSpan> steps_;

  std::map<std::string, uint64_t, std::less<>> counters_;
  uint64_t stored_ = 0, skipped_ = 0;
  std::string first_bad_;
  uint64_t first_bad_line_ = 0;
  uint64_t next_progress_ = kProgressEvery;
};

}  // namespace

Result<ReadStats> AscendKernelCsvReader::read(ByteSource& src, TraceStore& store,
                                              const ReadOptions& options) {
  try {
    CsvParser csv(src, block_bytes_);
    KernelTable table(csv, store, options, source_);
    return table.run();
  } catch (const std::bad_alloc&) {
    return Status::Error(src.name() + ": out of memory while reading the kernel table");
  } catch (const std::exception& e) {
    return Status::Error(src.name() + ": cannot read the kernel table: " + e.what());
  }
}

}  // namespace huoyan
