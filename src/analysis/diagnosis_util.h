// Helpers shared by the diagnosis rule files (not part of the analysis API).
#pragma once

#include <cstdint>
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

// The peak figures that apply to a device type: the configured model (config.device), else the
// trace's metadata model, else the type's default. `basis` says which ("configured",
// "metadata", "default for NPU"). Null when the type has no default and nothing matched.
const DeviceSpec* device_spec(const DiagnosisContext& ctx, const DiagnosisConfig& cfg,
                              DeviceType type, std::string* basis);

// Scale+zero bytes per weight byte at a group size.
double quant_overhead(const DiagnosisConfig& cfg, int64_t group_size);

inline int64_t scale_ns(int64_t ns, double factor) {
  return static_cast<int64_t>(static_cast<double>(ns) * factor);
}

}  // namespace huoyan::diag
