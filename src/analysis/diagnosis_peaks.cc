// Device peaks and the roofline: which figures apply to a device and where they come from, and
// how far a kernel runs from its roof.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <simdjson.h>

#include "src/analysis/diagnosis.h"
#include "src/analysis/diagnosis_context.h"
#include "src/analysis/diagnosis_util.h"
#include "src/core/taxonomy.h"

namespace huoyan {

const std::vector<DeviceSpec>& builtin_device_specs() {
  // Public datasheet peaks: memory bandwidth and dense FP16/BF16 tensor throughput. Variants
  // differ (SXM/PCIe, memory size, bins): name the exact one in the rules file when it matters.
  // The CPU row is a generic guess used only when no measurement came with the trace.
  static const std::vector<DeviceSpec> specs = {
      {"Ascend 910B", 1600, 320},  // 910B3-class: HBM2e 64 GB
      {"Ascend 910", 1200, 256},
      {"Ascend 310P", 204.8, 22},
      {"A100", 2039, 312},  // SXM4 80 GB
      {"A100-40GB", 1555, 312},
      {"H100", 3350, 989},  // SXM5
      {"H100-PCIe", 2000, 756},
      {"H200", 4800, 989},
      {"H20", 4000, 148},
      {"L40S", 864, 362},
      {"L4", 300, 121},
      {"A10", 600, 125},
      {"T4", 320, 65},
      {"V100", 900, 125},
      {"RTX 4090", 1008, 165},
      {"MI250X", 3277, 383},
      {"MI300X", 5300, 1307},
      {"CPU", 50, 1},  // generic 2-channel DDR5 desktop/server slice
  };
  return specs;
}

namespace {

std::string squash(std::string s) {
  s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == ' ' || c == '-'; }), s.end());
  return s;
}

// The entry named `name` exactly (any case), else the longest entry name contained in it
// ("Ascend910B3" → "Ascend 910B", "NVIDIA A100-SXM4-80GB" → "A100"), ignoring spaces and dashes.
// Only entries `accept`ed are considered.
template <typename Accept>
const DeviceSpec* find_spec(const std::vector<DeviceSpec>& specs, std::string_view name,
                            Accept accept) {
  const std::string n = lower_ascii(name);
  if (n.empty()) return nullptr;
  for (const auto& s : specs) {
    if (accept(s) && lower_ascii(s.name) == n) return &s;
  }
  const std::string sn = squash(n);
  const DeviceSpec* best = nullptr;
  size_t best_len = 0;
  for (const auto& s : specs) {
    if (!accept(s)) continue;
    const std::string t = squash(lower_ascii(s.name));
    if (!t.empty() && sn.find(t) != std::string::npos && t.size() > best_len) {
      best = &s;
      best_len = t.size();
    }
  }
  return best;
}

const DeviceSpec* find_any(const std::vector<DeviceSpec>& specs, std::string_view name) {
  return find_spec(specs, name, [](const DeviceSpec&) { return true; });
}

}  // namespace

std::vector<DeviceSpec> parse_device_peaks(std::string_view json) {
  std::vector<DeviceSpec> out;
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) return out;
  for (auto field : root) {
    simdjson::dom::object o;
    if (field.value.get_object().get(o) != simdjson::SUCCESS) continue;
    auto number = [&](const char* k) {
      double d = 0;
      if (o[k].get_double().get(d) != simdjson::SUCCESS) {
        int64_t i = 0;
        if (o[k].get_int64().get(i) != simdjson::SUCCESS) return 0.0;
        d = static_cast<double>(i);
      }
      return std::isfinite(d) && d > 0 ? d : 0.0;
    };
    DeviceSpec spec;
    spec.name = std::string(field.key);
    spec.bandwidth_gbps = number("bandwidth_gbps");
    spec.tflops = number("gflops") / 1000.0;
    if (spec.tflops <= 0) spec.tflops = number("tflops");
    spec.source = "measured";
    std::string_view method;
    if (o["method"].get_string().get(method) == simdjson::SUCCESS) spec.method = method;
    if (!spec.name.empty() && spec.bandwidth_gbps > 0) out.push_back(std::move(spec));
  }
  return out;
}

namespace diag {

std::optional<DeviceSpec> device_spec(const DiagnosisContext& ctx, const DiagnosisConfig& cfg,
                                      int32_t device, DeviceType type) {
  const DeviceFacts* d = nullptr;
  if (device >= 0 && static_cast<size_t>(device) < ctx.devices.size()) {
    d = &ctx.devices[static_cast<size_t>(device)];
    type = d->type;
  }
  const std::string model = d != nullptr && !d->model.empty() ? d->model : ctx.device_model;
  auto with_source = [](DeviceSpec s, const char* source) {
    s.source = source;
    return s;
  };
  // 1. The rules file names the model for the whole trace.
  if (const DeviceSpec* s = find_any(cfg.devices, cfg.device)) return with_source(*s, "rules file");
  // 2. A rules-file entry for this model (or for "CPU") overrides measurements and the table.
  auto from_rules = [](const DeviceSpec& s) { return s.source == "rules file"; };
  if (const DeviceSpec* s = find_spec(cfg.devices, model, from_rules)) return *s;
  if (type == DeviceType::kCpu) {
    if (const DeviceSpec* s = find_spec(cfg.devices, "CPU", from_rules)) return *s;
  }
  // 3. Peaks measured on the host that recorded the trace (CPU devices).
  const std::string type_name(device_type_name(type));
  for (const DeviceSpec& s : ctx.measured_peaks) {
    if (lower_ascii(s.name) == lower_ascii(type_name)) return s;
  }
  // 4. The datasheet row of the model the trace names.
  auto datasheet = [](const DeviceSpec& s) { return s.source != "rules file" && s.name != "CPU"; };
  if (const DeviceSpec* s = find_spec(cfg.devices, model, datasheet)) return *s;
  // 5. A generic row for the type: a guess.
  std::string_view fallback;
  switch (type) {
    case DeviceType::kNpu:
      fallback = "Ascend 910B";
      break;
    case DeviceType::kGpu:
      fallback = "A100";
      break;
    case DeviceType::kCpu:
      fallback = "CPU";
      break;
    default:
      return std::nullopt;
  }
  const DeviceSpec* s = find_any(cfg.devices, fallback);
  if (s == nullptr) return std::nullopt;
  DeviceSpec guess = with_source(*s, "assumed");
  guess.method = model.empty() ? fmt::format("no {} model named in the trace", type_name)
                               : fmt::format("model '{}' is not in the table", model);
  return guess;
}

std::optional<Roofline> roofline(const DiagnosisContext& ctx, const DiagnosisConfig& cfg,
                                 const KernelFacts& k) {
  const bool has_bytes = k.bytes > 0 && k.bytes_ns > 0;
  const bool has_flops = k.flops > 0 && k.flops_ns > 0;
  if (!has_bytes && !has_flops) return std::nullopt;
  std::optional<DeviceSpec> spec = device_spec(ctx, cfg, k.device, k.device_type);
  if (!spec || spec->bandwidth_gbps <= 0) return std::nullopt;
  Roofline r;
  r.spec = std::move(*spec);
  r.trusted = r.spec.source != "assumed";
  r.measured_ns = k.total_ns;
  // Instances side by side on several streams: the device-level time is the busy union.
  const double concurrency =
      k.busy_ns > 0
          ? std::max(1.0, static_cast<double>(k.total_ns) / static_cast<double>(k.busy_ns))
          : 1.0;
  // Each roof's fraction over the instances that report its work: time at the roof over the
  // time taken. The longer roof (the larger fraction) binds.
  double memory_fraction = 0;
  double compute_fraction = 0;
  if (has_bytes) {
    const double t = static_cast<double>(k.bytes_ns) / concurrency;
    r.achieved_gbps = k.bytes / t;  // bytes/ns = GB/s
    memory_fraction = r.achieved_gbps / r.spec.bandwidth_gbps;
  }
  if (has_flops) {
    const double t = static_cast<double>(k.flops_ns) / concurrency;
    r.achieved_gflops = k.flops / t;  // flop/ns = GFLOP/s
    if (r.spec.tflops > 0) compute_fraction = r.achieved_gflops / (r.spec.tflops * 1000.0);
  }
  if (has_bytes && has_flops) r.intensity = k.flops / k.bytes;
  if (r.spec.tflops > 0) r.ridge = r.spec.tflops * 1000.0 / r.spec.bandwidth_gbps;
  r.compute_bound = compute_fraction > memory_fraction;
  r.fraction = std::max(memory_fraction, compute_fraction);
  if (r.fraction <= 0) return std::nullopt;
  return r;
}

Text peak_clause(const Roofline& r) {
  const DeviceSpec& s = r.spec;
  std::string compute;
  if (s.tflops >= 1) {
    compute = fmt::format("{} TFLOPS", num(s.tflops));
  } else if (s.tflops > 0) {
    compute = fmt::format("{} GFLOPS", num(s.tflops * 1000));
  }
  const std::string bandwidth = fmt::format("{} GB/s", num(s.bandwidth_gbps));
  const std::string figures = compute.empty() ? bandwidth : bandwidth + " and " + compute;
  const std::string figures_zh = compute.empty() ? bandwidth : bandwidth + "、" + compute;
  Text t;
  if (s.source == "measured") {
    t.en = fmt::format("the measured peaks of this {} ({}; {})", s.name, figures, s.method);
    t.zh = fmt::format("本机 {} 的实测峰值({};{})", s.name, figures_zh, s.method);
  } else if (s.source == "rules file") {
    t.en = fmt::format("the peaks of {} from the rules file ({})", s.name, figures);
    t.zh = fmt::format("规则文件给出的 {} 峰值({})", s.name, figures_zh);
  } else if (s.source == "assumed") {
    t.en = fmt::format(
        "the assumed peaks of a generic {} ({}; {}: run `huoyan calibrate` on that machine, or "
        "name the device in the rules file)",
        s.name, figures, s.method);
    t.zh = fmt::format(
        "通用 {} 的假定峰值({};trace 未给出可识别的设备型号:请在该机器上运行 `huoyan "
        "calibrate`,或在规则文件中指定设备)",
        s.name, figures_zh);
  } else {
    t.en = fmt::format("the datasheet peaks of {} ({})", s.name, figures);
    t.zh = fmt::format("{} 的标称峰值({})", s.name, figures_zh);
  }
  return t;
}

}  // namespace diag

std::vector<PeakUse> peaks_in_use(const DiagnosisContext& ctx, const DiagnosisConfig& cfg) {
  std::vector<PeakUse> out;
  for (size_t i = 0; i < ctx.devices.size(); ++i) {
    std::optional<DeviceSpec> s =
        diag::device_spec(ctx, cfg, static_cast<int32_t>(i), ctx.devices[i].type);
    if (!s) continue;
    PeakUse u;
    u.device = ctx.devices[i].label;
    u.trusted = s->source != "assumed";
    u.spec = std::move(*s);
    out.push_back(std::move(u));
  }
  return out;
}

}  // namespace huoyan
