#include "src/cli/cli_common.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "src/readers/sniff.h"

namespace huoyan::cli {

Status load_inputs(const std::vector<std::string>& paths, TraceStore& store, bool report_clocks) {
  const bool tty = ::isatty(2) != 0;
  ReadOptions options;
  if (tty) {
    options.progress = [](uint64_t pos, uint64_t size) {
      if (size < (uint64_t{50} << 20)) return;
      std::fprintf(stderr, "\rreading: %5.1f%% (%llu MB)",
                   100.0 * static_cast<double>(pos) / static_cast<double>(size),
                   static_cast<unsigned long long>(pos >> 20));
      std::fflush(stderr);
    };
  }
  InputReport report;
  auto r = read_inputs(paths, store, options, &report);
  if (tty) std::fprintf(stderr, "\r\033[K");
  for (const std::string& path : report.unclaimed) {
    std::fprintf(stderr, "huoyan: skipped %s: not a recognised trace\n", path.c_str());
  }
  if (r.ok() && report_clocks && report.read.size() >= 2 && report.read.front().merged) {
    size_t aligned = 0;
    for (const InputReport::File& f : report.read) aligned += f.clock.aligned() ? 1 : 0;
    if (aligned == report.read.size()) {
      std::fprintf(stderr,
                   "huoyan: clocks of %zu merged inputs (common timeline: Unix epoch ns):\n",
                   report.read.size());
    } else {
      std::fprintf(stderr,
                   "huoyan: clocks of %zu merged inputs (%zu aligned on the Unix epoch; the "
                   "others keep their own clock, so their times do not line up):\n",
                   report.read.size(), aligned);
    }
    for (const InputReport::File& f : report.read) {
      std::fprintf(stderr, "huoyan:   %s\n",
                   clock_report_line(f.rank, f.path, f.clock, f.offset_ns).c_str());
    }
  }
  return r.status();
}

std::string skipped_summary(const TraceStore& store) {
  const auto all = store.skips().all();
  uint64_t total = 0;
  std::string detail;
  for (const auto& [reason, n] : all) {
    total += n;
    if (!detail.empty()) detail += ", ";
    detail += fmt::format("{} ({})", reason, n);
  }
  if (total == 0) return "";
  return fmt::format("{} event{} skipped or repaired: {}", total, total == 1 ? "" : "s", detail);
}

std::string format_duration(int64_t ns) {
  const double v = static_cast<double>(ns);
  const double a = v < 0 ? -v : v;
  if (a >= 1e9) return fmt::format("{:.3f} s", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.3f} ms", v / 1e6);
  if (a >= 1e3) return fmt::format("{:.3f} us", v / 1e3);
  return fmt::format("{} ns", ns);
}

int fail(const std::string& message) {
  std::fprintf(stderr, "huoyan: %s\n", message.c_str());
  return kExitUsage;
}

}  // namespace huoyan::cli
