// Helpers shared by the diagnosis rule files (not part of the analysis API).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "src/analysis/diagnosis.h"
#include "src/analysis/diagnosis_context.h"

namespace huoyan::diag {

// "12.345 ms", "850 ns": the same in both languages.
std::string dur(int64_t ns);
// 0.724 → "72.4%" (one decimal below 10 %, none above 10 % — "72%", "4.2%").
std::string pct(double fraction);
// A ratio: two decimals from 1 to 10 ("5.20"), three significant digits below 1 ("0.0312").
std::string num(double v);

Finding make_finding(std::string id, std::string subject, Severity severity);

// The peak figures that apply to a device (index into ctx.devices; -1: the first of `type`), in
// this order: the rules file's `device`; a rules-file `devices` entry for the device's model (or
// "CPU" for CPUs); the measured peaks recorded with the trace; the built-in row of the model the
// trace names; else the type's generic row, marked "assumed". Null when nothing applies.
// `spec.source` says which.
std::optional<DeviceSpec> device_spec(const DiagnosisContext& ctx, const DiagnosisConfig& cfg,
                                      int32_t device, DeviceType type);

// A kernel against its device's roofline, from the instances that carry `bytes`/`flops` args.
// Rates are device-level: work over the kernel's busy time (instances side by side on several
// streams count once).
struct Roofline {
  DeviceSpec spec;
  bool trusted = false;        // spec is not "assumed"
  double achieved_gbps = 0;    // 0 without bytes
  double achieved_gflops = 0;  // 0 without flops
  double intensity = 0;        // flop/byte (0 unless both)
  double ridge = 0;            // flop/byte where the two roofs meet (0 without a compute peak)
  bool compute_bound = false;  // the compute roof is the longer one
  double fraction = 0;         // time at the roof / measured time (1 = at the roof)
  int64_t measured_ns = 0;     // the kernel's device time (all instances)
};
std::optional<Roofline> roofline(const DiagnosisContext& ctx, const DiagnosisConfig& cfg,
                                 const KernelFacts& k);
// "the measured 27.0 GB/s / 300 GFLOPS of CPU (triad …)", "the datasheet 2039 GB/s of A100": a
// clause naming the peak and its source, in each language.
Text peak_clause(const Roofline& r);

// Scale+zero bytes per weight byte at a group size.
double quant_overhead(const DiagnosisConfig& cfg, int64_t group_size);

inline int64_t scale_ns(int64_t ns, double factor) {
  return static_cast<int64_t>(static_cast<double>(ns) * factor);
}

}  // namespace huoyan::diag
