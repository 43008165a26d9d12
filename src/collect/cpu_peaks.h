// Measured peaks of this host's CPU: memory bandwidth (a STREAM-like triad over arrays larger
// than the last-level cache) and fp32 FMA throughput (independent FMA chains in the widest
// vector ISA the CPU runs), both on every hardware thread. The diagnosis' roofline uses them for
// CPU devices instead of a guessed table row.
//
// Measuring takes a few hundred ms and disturbs whatever else runs, so the figures are cached per
// host in $HUOYAN_CACHE_DIR, else $XDG_CACHE_HOME/huoyan, else ~/.cache/huoyan
// (cpu_peaks.json), keyed by host name and CPU model: a cache written on another machine, or
// before a CPU change, is measured again. `huoyan calibrate --threads N` caches a measurement
// on N threads (e.g. a server's worker count) that the profiler then records as it is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace huoyan {

struct CpuPeaks {
  double bandwidth_gbps = 0;  // triad: 24 bytes per element (2 reads, 1 write), best of reps
  double gflops = 0;          // fp32, an FMA counted as 2 flops, best of reps
  int threads = 0;            // hardware threads used for both
  std::string isa;            // "avx512f", "avx2+fma", "generic"
  std::string cpu;            // model name from /proc/cpuinfo ("" if unknown)
  std::string host;           // host name
  int64_t measured_at = 0;    // Unix seconds
  int64_t triad_bytes = 0;    // size of the three arrays together
  double seconds = 0;         // time the measurement took

  // "triad over 96 MiB, 2 threads; fp32 FMA avx2+fma, 2 threads; measured on HOST at DATE".
  std::string method() const;
};

// Measures now. `threads` 0: every hardware thread. Never fails: on a machine where a part
// cannot run, its figure is 0.
CpuPeaks measure_cpu_peaks(int threads = 0);

// The cache file, and the figures in it when they were measured on this host (same host name
// and CPU model). `why` (optional) says why the cache was not usable.
std::string cpu_peaks_cache_path();
std::optional<CpuPeaks> cached_cpu_peaks(std::string* why = nullptr);
// Writes the cache atomically (temp file + rename); false with `error` set on failure.
bool save_cpu_peaks(const CpuPeaks& peaks, std::string* error = nullptr);

// The cached figures, else measures and caches them (a failure to cache is not an error).
CpuPeaks cpu_peaks();

// As one JSON object, and back. parse_cpu_peaks is strict about types and ranges (finite,
// non-negative figures) and returns nullopt on anything else.
std::string cpu_peaks_json(const CpuPeaks& peaks);
std::optional<CpuPeaks> parse_cpu_peaks(std::string_view json);

}  // namespace huoyan
