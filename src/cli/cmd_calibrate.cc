// `huoyan calibrate`: measures this host's CPU peaks for the diagnosis' roofline and caches them
// where the profiler finds them (src/collect/cpu_peaks.h).
#include <cstdio>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "src/cli/cli_common.h"
#include "src/cli/commands.h"
#include "src/collect/cpu_peaks.h"

namespace huoyan::cli {

int run_calibrate(const CalibrateArgs& args) {
  std::optional<CpuPeaks> peaks;
  bool from_cache = false;
  if (args.cached) {
    peaks = cached_cpu_peaks();
    from_cache = peaks.has_value();
  }
  if (!peaks) peaks = measure_cpu_peaks(args.threads);
  std::string saved;
  if (!from_cache && !args.no_save) {
    std::string error;
    if (!save_cpu_peaks(*peaks, &error)) {
      std::fprintf(stderr, "huoyan: calibrate: %s\n", error.c_str());
      return kExitCheckFailed;
    }
    saved = cpu_peaks_cache_path();
  }
  if (args.json) {
    std::printf("%s\n", cpu_peaks_json(*peaks).c_str());
    return kExitOk;
  }
  const CpuPeaks& p = *peaks;
  std::printf(
      "%s", fmt::format("CPU peaks of {} ({}, {} thread{}){}:\n"
                        "  memory bandwidth  {:8.1f} GB/s   (triad over {} MiB)\n"
                        "  fp32 compute      {:8.1f} GFLOPS (FMA, {})\n"
                        "  ridge point       {:8.2f} flop/byte\n",
                        p.host.empty() ? "this host" : p.host,
                        p.cpu.empty() ? "unknown CPU" : p.cpu, p.threads, p.threads == 1 ? "" : "s",
                        from_cache ? " (cached)" : "", p.bandwidth_gbps, p.triad_bytes >> 20,
                        p.gflops, p.isa, p.bandwidth_gbps > 0 ? p.gflops / p.bandwidth_gbps : 0.0)
                .c_str());
  if (!from_cache) std::printf("%s", fmt::format("measured in {:.2f} s\n", p.seconds).c_str());
  if (!saved.empty()) std::printf("cached in %s\n", saved.c_str());
  return kExitOk;
}

}  // namespace huoyan::cli
