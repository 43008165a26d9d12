#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "src/analysis/attribution.h"
#include "src/analysis/kernel_stats.h"
#include "src/analysis/streaming_stats.h"
#include "src/cli/cli_common.h"
#include "src/cli/commands.h"
#include "src/io/sink.h"
#include "src/writers/json_out.h"

namespace huoyan::cli {
namespace {

void print_json(const std::vector<KernelStat>& rows, GroupBy by) {
  StringSink sink;
  {
    BufferedOut out(&sink);
    write_kernel_stats_json(rows, out, by);
    out.flush();
  }
  std::fwrite(sink.str().data(), 1, sink.str().size(), stdout);
}

void print_table(const std::vector<KernelStat>& rows, size_t total_rows, GroupBy by) {
  size_t width = 4;
  for (const auto& r : rows) width = std::max(width, std::min<size_t>(r.name.size(), 60));
  const char* head = by == GroupBy::kName ? "kernel" : by == GroupBy::kStream ? "stream" : "device";
  const bool kinds = by == GroupBy::kName;
  std::string out = fmt::format("{:<{}}  {}{:>8}  {:>12}  {:>12}  {:>12}  {:>12}  {:>12}  {:>6}\n",
                                head, width, kinds ? "kind        " : "", "count", "total", "mean",
                                "p50", "p99", "max", "share");
  for (const auto& r : rows) {
    std::string name = r.name.size() > 60 ? r.name.substr(0, 57) + "..." : r.name;
    out += fmt::format("{:<{}}  {}{:>8}  {:>12}  {:>12}  {:>12}  {:>12}  {:>12}  {:>5.1f}%\n", name,
                       width, kinds ? fmt::format("{:<12}", kind_name(r.kind)) : "", r.count,
                       format_duration(r.total_ns), format_duration(r.mean_ns),
                       format_duration(r.p50_ns), format_duration(r.p99_ns),
                       format_duration(r.max_ns), r.share * 100.0);
  }
  if (total_rows > rows.size())
    out += fmt::format("({} more rows; --limit 0 shows all)\n", total_rows - rows.size());
  if (rows.empty()) out += "(no device events of these kinds)\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
}

// The multi-device view: busy time (streams overlapping counted once), utilization over each
// device's active window, load against the busiest device, and its top kernels.
void print_devices(const std::vector<KernelStat>& rows, double imbalance) {
  if (rows.empty()) return;
  size_t width = 6;
  for (const auto& r : rows) width = std::max(width, std::min<size_t>(r.name.size(), 40));
  std::string out = fmt::format("\n{:<{}}  {:>12}  {:>6}  {:>8}  {}\n", "device", width, "busy",
                                "util", "vs max", "top kernels");
  for (const auto& r : rows) {
    std::string top;
    for (const auto& k : r.top) {
      if (!top.empty()) top += ", ";
      top += fmt::format("{} {:.0f}%", k.name.size() > 40 ? k.name.substr(0, 37) + "..." : k.name,
                         k.share * 100.0);
    }
    out +=
        fmt::format("{:<{}}  {:>12}  {:>5.1f}%  {:>7.1f}%  {}\n", r.name.substr(0, 40), width,
                    format_duration(r.busy_ns), r.utilization * 100.0, r.busy_vs_max * 100.0, top);
  }
  if (rows.size() > 1) {
    out +=
        fmt::format("imbalance: {:.1f}% (busiest − least busy, over busiest)\n", imbalance * 100.0);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

// Inputs this large are read in one streaming pass unless asked otherwise.
constexpr uint64_t kStreamBytes = uint64_t{2} << 30;
// Events the streaming store keeps while it reads (for readers that look back a little).
constexpr size_t kStreamWindowEvents = size_t{1} << 20;

// Total size of the regular files among the inputs (folders and stdin count 0).
uint64_t input_bytes(const std::vector<std::string>& inputs) {
  uint64_t total = 0;
  for (const std::string& path : inputs) {
    std::error_code ec;
    if (path != "-" && std::filesystem::is_regular_file(path, ec)) {
      total += std::filesystem::file_size(path, ec);
    }
  }
  return total;
}

void print_rows(const TopArgs& args, std::vector<KernelStat> rows, GroupBy by) {
  const size_t total_rows = rows.size();
  if (args.limit > 0 && rows.size() > args.limit) rows.resize(args.limit);
  if (args.json) {
    print_json(rows, by);
  } else {
    print_table(rows, total_rows, by);
  }
}

// The table in one pass: the store keeps a window of the latest events while every appended
// event goes into StreamingStats.
int run_top_streaming(const TopArgs& args, GroupBy by, KindSet kinds) {
  TraceStore store(StoreOptions{.capacity_events = kStreamWindowEvents});
  StreamingStats stats;
  store.set_append_observer([&stats](const Event& e) { stats.observe(e); });
  if (Status st = load_inputs(args.inputs, store, /*report_clocks=*/true); !st.ok()) {
    return fail(st.message());
  }
  print_rows(args, stats.rows(store.snapshot(), by, kinds), by);
  std::fprintf(stderr,
               "huoyan: one streaming pass over %llu events: count, total, mean and max exact; "
               "p50/p99 within %.0f%%\n",
               static_cast<unsigned long long>(stats.events()), LogHistogram::kRelativeError * 100);
  if (const std::string s = skipped_summary(store); !s.empty()) {
    std::fprintf(stderr, "huoyan: %s\n", s.c_str());
  }
  return kExitOk;
}

}  // namespace

int run_top(const TopArgs& args) {
  GroupBy by;
  if (!parse_group_by(args.by, &by)) {
    return fail(fmt::format("--by: expected name, stream or device, got '{}'", args.by));
  }
  KindSet kinds = by == GroupBy::kName ? KindSet::of(EventKind::kKernel) : KindSet::device_work();
  if (!args.kind.empty() && !parse_kind_set(args.kind, &kinds)) {
    return fail(
        fmt::format("--kind: expected kernel, memcpy, memset, collective, wait, work or all "
                    "(comma-separated), got '{}'",
                    args.kind));
  }
  AttributionMode mode;
  if (!parse_attribution_mode(args.mode, &mode)) {
    return fail(fmt::format("--mode: expected shared or apportioned, got '{}'", args.mode));
  }
  const bool can_stream = args.request_id.empty() && by != GroupBy::kDevice;
  if (args.stream && !can_stream) {
    return fail("--stream: rows by device and --request-id need the whole trace in memory");
  }
  const bool stream = args.stream || (can_stream && input_bytes(args.inputs) >= kStreamBytes);
  if (stream) return run_top_streaming(args, by, kinds);
  TraceStore store(StoreOptions{.capacity_events = SIZE_MAX / 2});
  if (Status st = load_inputs(args.inputs, store, /*report_clocks=*/true); !st.ok()) {
    return fail(st.message());
  }
  const Snapshot snapshot = store.snapshot();
  std::vector<TimedEvent> events;
  if (!args.request_id.empty()) {
    StringId request = 0;
    if (!store.strings()->find(args.request_id, &request) || !store.has_request(request)) {
      return fail(fmt::format("no request with id '{}'", args.request_id));
    }
    for (const auto& a : request_device_events(store, snapshot, request, mode)) {
      events.push_back({a.seq, a.ns});
    }
  } else {
    events = device_events(snapshot);
  }
  std::vector<KernelStat> rows = kernel_stats(snapshot, events, by, kinds);
  const size_t total_rows = rows.size();
  const double imbalance = by == GroupBy::kDevice ? device_imbalance(rows) : 0;
  if (args.limit > 0 && rows.size() > args.limit) rows.resize(args.limit);
  if (args.json) {
    print_json(rows, by);
  } else {
    print_table(rows, total_rows, by);
    if (by == GroupBy::kDevice) print_devices(rows, imbalance);
  }
  if (const std::string s = skipped_summary(store); !s.empty()) {
    std::fprintf(stderr, "huoyan: %s\n", s.c_str());
  }
  return kExitOk;
}

}  // namespace huoyan::cli
