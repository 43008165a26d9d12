// The Ascend tables that are not events (step_trace_time, statistics), the kind of a table from
// its header, and the file format the sniffer sees.
#include <algorithm>
#include <exception>
#include <map>
#include <new>

#include <fmt/format.h>

#include "src/readers/ascend_csv_reader.h"
#include "src/readers/ascend_csv_util.h"
#include "src/readers/csv_reader.h"

namespace huoyan {

using namespace ascend_csv;  // NOLINT(build/namespaces): helpers of this reader family

namespace ascend_csv {

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

}  // namespace ascend_csv

namespace {

bool has(const std::vector<std::string_view>& header, std::string_view name) {
  return std::any_of(header.begin(), header.end(),
                     [&](std::string_view h) { return iequal(h, name); });
}
bool has_any(const std::vector<std::string_view>& header,
             std::initializer_list<std::string_view> names) {
  return std::any_of(names.begin(), names.end(),
                     [&](std::string_view n) { return has(header, n); });
}

// Reads a whole table into a JSON array of row objects (header names as keys; numbers as
// numbers, "N/A"/empty as null). Shared by the step trace and statistic readers, whose tables
// are small (one row per step, per op type, per torch op).
class RowsAsJson {
 public:
  RowsAsJson(CsvParser& csv, TraceStore& store) : csv_(csv), store_(store) {}

  Status header(std::vector<std::string>* names) {
    const CsvParser::Next n = csv_.next();
    if (n == CsvParser::Next::kError) return csv_.status();
    if (n == CsvParser::Next::kEnd) {
      return Status::Error(csv_.name() + ": empty file, expected a CSV header line");
    }
    if (csv_.has_nul()) {
      return Status::Error(fmt::format("{}: line {}: NUL byte in the header: not a CSV table",
                                       csv_.name(), csv_.line()));
    }
    for (const std::string_view f : csv_.fields()) names->emplace_back(clean_cell(f));
    header_ = *names;
    return OkStatus();
  }

  // Calls on_row(fields) for every good row and adds it to the JSON text. Returns the rows
  // kept, or an error when none could be read but some were bad.
  template <typename OnRow>
  Result<uint64_t> rows(OnRow&& on_row) {
    json_ = "[";
    uint64_t kept = 0;
    while (true) {
      const CsvParser::Next n = csv_.next();
      if (n == CsvParser::Next::kEnd) break;
      if (n == CsvParser::Next::kError) {
        if (kept == 0) return finish(csv_.status());
        count("input cut short by a read error (" + csv_.status().message() + ")");
        break;
      }
      const auto& f = csv_.fields();
      if (csv_.repaired_bytes() > 0) count("invalid UTF-8 repaired");
      if (csv_.has_nul()) {
        skip("row with a NUL byte");
        continue;
      }
      if (csv_.unterminated_quote()) {
        skip("quoted field never closed at end of input");
        continue;
      }
      if (f.size() < header_.size() && !csv_.terminated()) {
        skip("row cut off at end of input");
        continue;
      }
      if (f.size() != header_.size()) count("rows whose field count differs from the header");
      if (!on_row(f)) continue;
      if (kept++ > 0) json_.push_back(',');
      json_.push_back('{');
      const size_t cells = std::min(f.size(), header_.size());
      for (size_t i = 0; i < cells; ++i) {
        if (i > 0) json_.push_back(',');
        append_json_string(json_, header_[i]);
        json_.push_back(':');
        const std::string_view v = clean_cell(f[i]);
        if (is_missing(v)) {
          json_ += "null";
        } else if (is_json_number(v)) {
          json_ += v;
        } else {
          append_json_string(json_, v);
        }
      }
      json_.push_back('}');
    }
    json_.push_back(']');
    if (kept == 0 && skipped_ > 0) {
      return finish(Status::Error(fmt::format("{}: no row could be read; line {}: {}", csv_.name(),
                                              first_bad_line_, first_bad_)));
    }
    finish(OkStatus());
    return kept;
  }

  void skip(std::string_view reason) {
    if (skipped_++ == 0) {
      first_bad_ = reason;
      first_bad_line_ = csv_.line();
    }
    count(reason);
  }
  void count(std::string_view reason) { ++counters_[std::string(reason)]; }
  const std::string& json() const { return json_; }
  uint64_t skipped() const { return skipped_; }

 private:
  Status finish(Status st) {
    for (const auto& [reason, n] : counters_) store_.skips().add(reason, n);
    counters_.clear();
    return st;
  }

  CsvParser& csv_;
  TraceStore& store_;
  std::vector<std::string> header_;
  std::string json_;
  std::map<std::string, uint64_t> counters_;
  uint64_t skipped_ = 0;
  std::string first_bad_;
  uint64_t first_bad_line_ = 0;
};

std::string metadata_key(std::string_view table, const AscendSource& source) {
  return source.rank < 0 ? fmt::format("ascend.{}", table)
                         : fmt::format("ascend.{}.rank{}", table, source.rank);
}

template <typename F>
Result<ReadStats> guarded(ByteSource& src, std::string_view what, F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return Status::Error(fmt::format("{}: out of memory while reading the {}", src.name(), what));
  } catch (const std::exception& e) {
    return Status::Error(fmt::format("{}: cannot read the {}: {}", src.name(), what, e.what()));
  }
}

}  // namespace

AscendCsvKind ascend_csv_kind(const std::vector<std::string_view>& header) {
  if (header.size() < 2) return AscendCsvKind::kUnknown;
  if (has_any(header, {"Name", "Op Name", "kernel_name"}) &&
      has_any(header, {"Start Time(us)", "Task Start Time(us)", "task_start(us)"}) &&
      has_any(header, {"Duration(us)", "Task Duration(us)", "task_time(us)"})) {
    return AscendCsvKind::kKernels;
  }
  if (has(header, "Step") && has(header, "Computing")) return AscendCsvKind::kStepTrace;
  if ((has(header, "OP Type") && has(header, "Count") && has(header, "Total Time(us)")) ||
      (has(header, "API Name") && has(header, "Count")) ||
      (has(header, "Name") && has(header, "Host Self Duration(us)"))) {
    return AscendCsvKind::kStatistic;
  }
  return AscendCsvKind::kUnknown;
}

Result<ReadStats> AscendStepTraceCsvReader::read(ByteSource& src, TraceStore& store,
                                                 const ReadOptions& options) {
  (void)options;
  return guarded(src, "step trace table", [&]() -> Result<ReadStats> {
    CsvParser csv(src);
    RowsAsJson table(csv, store);
    std::vector<std::string> header;
    HUOYAN_RETURN_IF_ERROR(table.header(&header));
    const int step_col = find_column(header, {"Step"});
    if (step_col < 0) {
      return Status::Error(
          fmt::format("{}: line 1: not a step trace table: no column Step", csv.name()));
    }
    std::vector<uint64_t> ids;
    auto rows = table.rows([&](const std::vector<std::string_view>& f) {
      if (step_col >= static_cast<int>(f.size())) {
        table.skip("row with too few fields");
        return false;
      }
      const std::string_view s = clean_cell(f[step_col]);
      uint64_t id = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), id);
      if (!s.empty() && (r.ec != std::errc() || r.ptr != s.data() + s.size())) {
        table.skip("bad Step");
        return false;
      }
      if (id != 0) ids.push_back(id);  // an empty Step: a run without a step schedule
      return true;
    });
    if (!rows.ok()) return rows.status();
    // Steps keep what the store knows of them already (times from kernels, members).
    std::vector<Step> steps;
    for (const uint64_t id : ids) {
      if (store.step(id + store.input_step_offset())) continue;
      Step s;
      s.id = id;
      steps.push_back(std::move(s));
    }
    auto w = store.writer();
    for (Step& s : steps) w.add_step(std::move(s));
    w.set_metadata(metadata_key("step_trace_time", source_), table.json());
    ReadStats stats;
    stats.skipped = table.skipped();
    stats.bytes = csv.bytes_read();
    return stats;
  });
}

Result<ReadStats> AscendStatisticCsvReader::read(ByteSource& src, TraceStore& store,
                                                 const ReadOptions& options) {
  (void)options;
  return guarded(src, "statistic table", [&]() -> Result<ReadStats> {
    CsvParser csv(src);
    RowsAsJson table(csv, store);
    std::vector<std::string> header;
    HUOYAN_RETURN_IF_ERROR(table.header(&header));
    std::vector<std::string_view> views(header.begin(), header.end());
    std::string_view name = "statistic";
    if (has(views, "API Name")) {
      name = "api_statistic";
    } else if (has(views, "Host Self Duration(us)")) {
      name = "operator_details";
    } else if (has(views, "OP Type") && has(views, "Core Type")) {
      name = "op_statistic";
    }
    auto rows = table.rows([](const std::vector<std::string_view>&) { return true; });
    if (!rows.ok()) return rows.status();
    store.writer().set_metadata(metadata_key(name, source_), table.json());
    ReadStats stats;
    stats.skipped = table.skipped();
    stats.bytes = csv.bytes_read();
    return stats;
  });
}

Result<ReadStats> read_ascend_csv_file(const std::string& path, TraceStore& store,
                                       const ReadOptions& options, AscendSource source) {
  auto opened = ByteSource::open(path);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<ByteSource> src = std::move(*opened);
  // The header decides the reader: read up to the first line break (or 64 KiB).
  std::string head;
  char buf[4096];
  while (head.size() < (size_t{64} << 10) && head.find('\n') == std::string::npos) {
    auto r = src->read(buf, sizeof buf);
    if (!r.ok()) return r.status();
    if (*r == 0) break;
    head.append(buf, *r);
  }
  const AscendCsvKind kind = ascend_csv_kind(csv_header_of(head));
  const auto all_source = ByteSource::with_prefix(std::move(head), std::move(src));
  ByteSource& all = *all_source;
  switch (kind) {
    case AscendCsvKind::kKernels:
      return AscendKernelCsvReader(source).read(all, store, options);
    case AscendCsvKind::kStepTrace:
      return AscendStepTraceCsvReader(source).read(all, store, options);
    case AscendCsvKind::kStatistic:
      return AscendStatisticCsvReader(source).read(all, store, options);
    case AscendCsvKind::kUnknown:
      break;
  }
  return Status::Error(fmt::format(
      "{}: line 1: not an Ascend CSV table: the header has none of the known column sets "
      "(kernels: Name, Start Time(us), Duration(us); step trace: Step, Computing; statistics: "
      "OP Type, Count…)",
      path));
}

const FormatInfo& ascend_csv_format() {
  static const FormatInfo info{
      "ascend-csv",
      "Ascend CSV tables: torch_npu kernel_details/step_trace_time/op_statistic/"
      "operator_details.csv, msprof op_summary_*/task_time_*.csv (kernels, steps; statistics as "
      "metadata)",
      [](std::string_view head, std::string_view) {
        const size_t nl = head.find('\n');
        const std::string_view line = head.substr(0, nl);
        if (line.find('\0') != std::string_view::npos) return false;
        return ascend_csv_kind(csv_header_of(line)) != AscendCsvKind::kUnknown;
      },
      [](const std::string& path, TraceStore& store, const ReadOptions& options) {
        return read_ascend_csv_file(path, store, options);
      }};
  return info;
}

}  // namespace huoyan
