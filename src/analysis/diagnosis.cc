#include "src/analysis/diagnosis.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "src/analysis/diagnosis_context.h"
#include "src/analysis/diagnosis_util.h"

namespace huoyan {

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kCritical:
      return "critical";
  }
  return "info";
}

bool parse_lang(std::string_view s, Lang* lang) {
  if (s == "en" || s == "en-US" || s == "en_US") {
    *lang = Lang::kEn;
  } else if (s == "zh" || s == "zh-CN" || s == "zh_CN" || s == "cn") {
    *lang = Lang::kZh;
  } else {
    return false;
  }
  return true;
}

Evidence Evidence::Int(std::string key, int64_t v) {
  Evidence e;
  e.key = std::move(key);
  e.type = Type::kInt;
  e.i = v;
  return e;
}
Evidence Evidence::Double(std::string key, double v) {
  Evidence e;
  e.key = std::move(key);
  e.type = Type::kDouble;
  e.d = v;
  return e;
}
Evidence Evidence::String(std::string key, std::string v) {
  Evidence e;
  e.key = std::move(key);
  e.type = Type::kString;
  e.s = std::move(v);
  return e;
}

const Evidence* Finding::find(std::string_view key) const {
  for (const auto& e : evidence) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

namespace diag {

std::string dur(int64_t ns) {
  const double v = static_cast<double>(ns);
  const double a = std::fabs(v);
  if (a >= 1e9) return fmt::format("{:.3f} s", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.3f} ms", v / 1e6);
  if (a >= 1e3) return fmt::format("{:.3f} us", v / 1e3);
  return fmt::format("{} ns", ns);
}

std::string pct(double fraction) {
  const double p = fraction * 100.0;
  if (std::fabs(p) >= 10 || p == 0) return fmt::format("{:.0f}%", p);
  return fmt::format("{:.1f}%", p);
}

std::string num(double v) {
  const double a = std::fabs(v);
  if (a >= 100 || (v == std::floor(v) && a < 1e15)) return fmt::format("{:.0f}", v);
  if (a >= 10) return fmt::format("{:.1f}", v);
  if (a >= 1 || a == 0) return fmt::format("{:.2f}", v);
  return fmt::format("{:.3g}", v);
}

Finding make_finding(std::string id, std::string subject, Severity severity) {
  Finding f;
  f.id = std::move(id);
  f.subject = std::move(subject);
  f.severity = severity;
  return f;
}

double quant_overhead(const DiagnosisConfig& cfg, int64_t group_size) {
  if (group_size <= 0 || cfg.weight_bits <= 0) return 0;
  return cfg.quant_param_bytes / (static_cast<double>(group_size) * cfg.weight_bits / 8.0);
}

}  // namespace diag

const std::vector<Rule>& diagnosis_rules() {
  static const std::vector<Rule> rules = {
      {"dominant-kernel", &rule_dominant_kernel},
      {"quant-group-size", &rule_quant_group_size},
      {"roofline", &rule_roofline},
      {"small-kv-blocks", &rule_small_kv_blocks},
      {"host-bound", &rule_host_bound},
      {"lock-contention", &rule_lock_contention},
      {"launch-bound", &rule_launch_bound},
      {"long-tail", &rule_long_tail},
      {"device-imbalance", &rule_device_imbalance},
      {"stragglers", &rule_stragglers},
      {"communication-share", &rule_communication_share},
  };
  return rules;
}

namespace {

// Position of a rule in diagnosis_rules(): the order information is listed in.
size_t rule_order(std::string_view id) {
  const auto& rules = diagnosis_rules();
  for (size_t i = 0; i < rules.size(); ++i) {
    if (rules[i].id == id) return i;
  }
  return rules.size();
}

}  // namespace

void rank_findings(std::vector<Finding>* findings) {
  std::stable_sort(findings->begin(), findings->end(), [](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.saved_ns != b.saved_ns) return a.saved_ns > b.saved_ns;
    const size_t ra = rule_order(a.id);
    const size_t rb = rule_order(b.id);
    if (ra != rb) return ra < rb;
    if (a.id != b.id) return a.id < b.id;
    return a.subject < b.subject;
  });
}

std::vector<Finding> diagnose(const DiagnosisContext& ctx, const DiagnosisConfig& config) {
  std::vector<Finding> out;
  const double floor = config.min_saving * static_cast<double>(ctx.device_total_ns);
  for (const Rule& r : diagnosis_rules()) {
    for (Finding& f : r.fn(ctx, config)) {
      // Information claims no saving (it is not a thing to do); the negligible estimate stays
      // in the evidence.
      if (f.severity == Severity::kWarning && static_cast<double>(f.saved_ns) < floor) {
        f.severity = Severity::kInfo;
      }
      if (f.severity == Severity::kInfo && f.saved_ns != 0) {
        f.evidence.push_back(Evidence::Int("negligible_saved_ns", f.saved_ns));
        f.saved_ns = 0;
      }
      out.push_back(std::move(f));
    }
  }
  rank_findings(&out);
  return out;
}

std::vector<Finding> diagnose(const TraceStore& store, const Snapshot& snapshot,
                              const DiagnosisConfig& config) {
  ContextOptions options;
  options.launch_short_ns = config.launch_short_ns;
  options.launch_gap_max_ns = config.launch_gap_max_ns;
  options.select_batch = config.select_batch;
  options.queue_wait = config.queue_wait;
  return diagnose(build_diagnosis_context(store, snapshot, options), config);
}

std::vector<Finding> merge_run_findings(const std::vector<std::vector<Finding>>& per_run) {
  if (per_run.size() == 1) return per_run[0];
  std::map<std::pair<std::string, std::string>, std::pair<Finding, int64_t>> merged;
  for (const auto& run : per_run) {
    for (const Finding& f : run) {
      auto key = std::make_pair(f.id, f.subject);
      auto it = merged.find(key);
      if (it == merged.end()) {
        merged.emplace(key, std::make_pair(f, 1));
      } else {
        ++it->second.second;
        if (f.saved_ns > it->second.first.saved_ns) it->second.first = f;
      }
    }
  }
  std::vector<Finding> out;
  for (auto& [key, v] : merged) {
    Finding f = std::move(v.first);
    f.evidence.push_back(Evidence::Int("runs_affected", v.second));
    f.evidence.push_back(Evidence::Int("runs", static_cast<int64_t>(per_run.size())));
    out.push_back(std::move(f));
  }
  rank_findings(&out);
  return out;
}

}  // namespace huoyan
