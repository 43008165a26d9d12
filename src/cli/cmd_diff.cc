// `huoyan diff BASE NEW`: per-kernel count, total and mean before and after, sorted by the
// absolute change of total time.
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "src/analysis/diff.h"
#include "src/analysis/kernel_stats.h"
#include "src/cli/cli_common.h"
#include "src/cli/commands_analysis.h"
#include "src/io/sink.h"
#include "src/writers/json_out.h"

namespace huoyan::cli {
namespace {

Result<std::vector<KernelStat>> kernels_of(const std::string& path) {
  TraceStore store(StoreOptions{.capacity_events = SIZE_MAX / 2});
  if (Status st = load_inputs({path}, store); !st.ok()) return st;
  if (store.held() == 0) {
    return Status::Error(
        fmt::format("{}: no trace events (empty trace, or not a trace file)", path));
  }
  const Snapshot snapshot = store.snapshot();
  return kernel_stats(snapshot, device_events(snapshot), GroupBy::kName);
}

std::string relative_text(const KernelDiff& d) {
  if (d.status == DiffStatus::kNew) return "new";
  if (d.status == DiffStatus::kVanished) return "vanished";
  return fmt::format("{:+.1f}%", d.relative * 100.0);
}

void print_text(const std::vector<KernelDiff>& rows, size_t total_rows) {
  size_t width = 6;
  for (const auto& r : rows) width = std::max(width, std::min<size_t>(r.name.size(), 60));
  std::string out =
      fmt::format("{:<{}}  {:>8}  {:>8}  {:>12}  {:>12}  {:>13}  {:>9}  {:>12}  {:>12}\n", "kernel",
                  width, "count", "count", "total", "total", "change", "change", "mean", "mean");
  out += fmt::format("{:<{}}  {:>8}  {:>8}  {:>12}  {:>12}  {:>13}  {:>9}  {:>12}  {:>12}\n", "",
                     width, "base", "new", "base", "new", "", "", "base", "new");
  for (const auto& r : rows) {
    const std::string name = r.name.size() > 60 ? r.name.substr(0, 57) + "..." : r.name;
    // A side the kernel is absent from shows "-", not zeros.
    const bool b = r.status != DiffStatus::kNew;
    const bool n = r.status != DiffStatus::kVanished;
    auto count = [](bool present, uint64_t v) { return present ? std::to_string(v) : "-"; };
    auto time = [](bool present, int64_t v) { return present ? format_duration(v) : "-"; };
    const std::string delta = (r.delta_total_ns > 0 ? "+" : "") + format_duration(r.delta_total_ns);
    out += fmt::format("{:<{}}  {:>8}  {:>8}  {:>12}  {:>12}  {:>13}  {:>9}  {:>12}  {:>12}\n",
                       name, width, count(b, r.base_count), count(n, r.new_count),
                       time(b, r.base_total_ns), time(n, r.new_total_ns), delta, relative_text(r),
                       time(b, r.base_mean_ns), time(n, r.new_mean_ns));
  }
  if (total_rows > rows.size()) {
    out += fmt::format("({} more rows; --limit 0 shows all)\n", total_rows - rows.size());
  }
  if (rows.empty()) out += "(no device events in either trace)\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
}

void print_json(const std::vector<KernelDiff>& rows) {
  StringSink sink;
  {
    BufferedOut out(&sink);
    out.put('[');
    for (size_t i = 0; i < rows.size(); ++i) {
      const KernelDiff& r = rows[i];
      out.put(i > 0 ? ",\n  " : "\n  ");
      out.put("{\"name\":");
      json_string(out, r.name);
      out.put(",\"status\":");
      json_string(out, diff_status_name(r.status));
      out.put(",\"base_count\":");
      json_uint(out, r.base_count);
      out.put(",\"new_count\":");
      json_uint(out, r.new_count);
      out.put(",\"base_total_ns\":");
      json_int(out, r.base_total_ns);
      out.put(",\"new_total_ns\":");
      json_int(out, r.new_total_ns);
      out.put(",\"base_mean_ns\":");
      json_int(out, r.base_mean_ns);
      out.put(",\"new_mean_ns\":");
      json_int(out, r.new_mean_ns);
      out.put(",\"delta_total_ns\":");
      json_int(out, r.delta_total_ns);
      out.put(",\"relative\":");
      json_double(out, r.relative);  // null for new kernels
      out.put('}');
    }
    out.put(rows.empty() ? "]\n" : "\n]\n");
    out.flush();
  }
  std::fwrite(sink.str().data(), 1, sink.str().size(), stdout);
}

}  // namespace

int run_diff(const DiffArgs& args) {
  if (args.format != "text" && args.format != "json") {
    return fail(fmt::format("--format: expected text or json, got '{}'", args.format));
  }
  Result<std::vector<KernelStat>> base = kernels_of(args.base);
  if (!base.ok()) return fail(base.status().message());
  Result<std::vector<KernelStat>> now = kernels_of(args.now);
  if (!now.ok()) return fail(now.status().message());
  std::vector<KernelDiff> rows = diff_kernels(*base, *now);
  const size_t total_rows = rows.size();
  if (args.limit > 0 && rows.size() > args.limit) rows.resize(args.limit);
  if (args.format == "json") {
    print_json(rows);
  } else {
    print_text(rows, total_rows);
  }
  return kExitOk;
}

}  // namespace huoyan::cli
