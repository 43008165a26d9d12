#include "src/analysis/rules_check.h"
#include "src/core/taxonomy.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace huoyan {

std::string_view check_status_name(CheckStatus s) {
  switch (s) {
    case CheckStatus::kPass:
      return "pass";
    case CheckStatus::kFail:
      return "fail";
    case CheckStatus::kSkip:
      return "skip";
  }
  return "pass";
}

std::string format_ns(int64_t ns) {
  const double v = static_cast<double>(ns);
  const double a = std::fabs(v);
  if (a >= 1e9) return fmt::format("{:.3f} s", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.3f} ms", v / 1e6);
  if (a >= 1e3) return fmt::format("{:.3f} us", v / 1e3);
  return fmt::format("{} ns", ns);
}

std::string format_change(double fraction) { return fmt::format("{:+.1f}%", fraction * 100.0); }

bool any_failed(const std::vector<Check>& checks) {
  return std::any_of(checks.begin(), checks.end(),
                     [](const Check& c) { return c.status == CheckStatus::kFail; });
}

namespace {

// Kernel samples of every run, pooled by name. The samples stay in the runs (no copy, no
// sort): thresholds need a count, budgets a max and sometimes a p99 (computed on demand).
struct Pooled {
  std::string name;
  std::vector<const KernelSamples*> parts;
  uint64_t count = 0;
  int64_t total_ns = 0;
  const KernelSamples* longest = nullptr;  // the run sample holding the longest instance
  std::string longest_source;

  int64_t max_ns() const { return longest->max_ns; }
  uint64_t count_over(int64_t limit) const {
    uint64_t n = 0;
    for (const auto* k : parts) {
      for (int64_t v : k->ns) n += v > limit ? 1 : 0;
    }
    return n;
  }
  // Nearest-rank percentile, as percentile_sorted().
  int64_t percentile(double p) const {
    std::vector<int64_t> all;
    all.reserve(count);
    for (const auto* k : parts) all.insert(all.end(), k->ns.begin(), k->ns.end());
    if (all.empty()) return 0;
    const double rank = std::ceil(p / 100.0 * static_cast<double>(all.size()));
    const size_t index = std::min(rank < 1 ? 0 : static_cast<size_t>(rank) - 1, all.size() - 1);
    std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(index), all.end());
    return all[index];
  }
};

std::vector<Pooled> pool(const std::vector<RunSamples>& runs, int64_t* device_total) {
  std::map<std::string, Pooled> by_name;
  *device_total = 0;
  for (const auto& r : runs) {
    *device_total += r.device_total_ns;
    for (const auto& k : r.kernels) {
      if (k.ns.empty()) continue;
      Pooled& p = by_name[k.name];
      p.name = k.name;
      p.parts.push_back(&k);
      p.count += k.ns.size();
      p.total_ns += k.total_ns;
      if (p.longest == nullptr || k.max_ns > p.longest->max_ns) {
        p.longest = &k;
        p.longest_source = r.source;
      }
    }
  }
  std::vector<Pooled> out;
  for (auto& [name, p] : by_name) out.push_back(std::move(p));
  return out;
}

// Names a missing exact pattern may have meant: case-insensitive substring either way.
std::vector<std::string> near_names(const std::vector<Pooled>& kernels, const NamePattern& p) {
  std::vector<std::string> out;
  if (p.is_regex()) return out;
  const std::string want = lower_ascii(p.text());
  for (const auto& k : kernels) {
    const std::string n = lower_ascii(k.name);
    if (n.find(want) != std::string::npos || want.find(n) != std::string::npos) {
      out.push_back(k.name);
      if (out.size() == 3) break;
    }
  }
  return out;
}

std::string where(const Pooled& p, size_t runs) {
  const KernelSamples& k = *p.longest;
  std::string s = fmt::format("on {}", k.max_track);
  if (k.max_step != 0) s += fmt::format(", step {}", k.max_step);
  if (runs > 1) s += fmt::format(", in {}", p.longest_source);
  return s;
}

Check expect_check(const NamePattern& pattern, const std::vector<RunSamples>& runs,
                   const std::vector<Pooled>& pooled) {
  Check c;
  c.kind = "expect";
  c.name = pattern.text();
  uint64_t instances = 0;
  std::vector<std::string> matched;
  for (const auto& p : pooled) {
    if (pattern.matches(p.name)) {
      instances += p.count;
      matched.push_back(p.name);
    }
  }
  std::vector<std::string> missing_in;
  for (const auto& r : runs) {
    const bool found = std::any_of(r.kernels.begin(), r.kernels.end(),
                                   [&](const KernelSamples& k) { return pattern.matches(k.name); });
    if (!found) missing_in.push_back(r.source);
  }
  if (missing_in.empty()) {
    c.message = matched.size() == 1 && matched[0] == pattern.text()
                    ? fmt::format("found: {} instances", instances)
                    : fmt::format("found: {} instances of {} kernel{}", instances, matched.size(),
                                  matched.size() == 1 ? "" : "s");
    if (pattern.is_regex()) {
      for (size_t i = 0; i < matched.size() && i < 10; ++i) c.details.push_back(matched[i]);
    }
    return c;
  }
  c.status = CheckStatus::kFail;
  if (runs.size() == 1) {
    c.message = fmt::format("no kernel {} in the trace", pattern.is_regex() ? "matches" : "named");
  } else {
    c.message = fmt::format("missing in {} of {} runs", missing_in.size(), runs.size());
    for (const auto& m : missing_in) c.details.push_back("missing in " + m);
  }
  const auto near = matched.empty() ? near_names(pooled, pattern) : std::vector<std::string>{};
  if (!near.empty()) {
    std::string list;
    for (const auto& n : near) list += (list.empty() ? "" : ", ") + n;
    c.message += fmt::format(" (similar: {})", list);
  }
  return c;
}

}  // namespace

std::vector<Check> check_kernels(const std::vector<RunSamples>& runs, const AnalysisRules& rules) {
  std::vector<Check> checks;
  int64_t device_total = 0;
  const std::vector<Pooled> kernels = pool(runs, &device_total);

  for (const NamePattern& p : rules.expect) checks.push_back(expect_check(p, runs, kernels));
  for (const KernelBudget& b : rules.kernels) {
    if (b.expect) checks.push_back(expect_check(b.pattern, runs, kernels));
  }

  if (rules.threshold_ns) {
    const int64_t limit = *rules.threshold_ns;
    Check c;
    c.kind = "threshold";
    c.name = fmt::format("every kernel instance <= {}", format_ns(limit));
    struct Over {
      const Pooled* k;
      uint64_t count;
    };
    std::vector<Over> over;
    const Pooled* longest = nullptr;
    for (const auto& k : kernels) {
      if (longest == nullptr || k.max_ns() > longest->max_ns()) longest = &k;
      const uint64_t n = k.max_ns() > limit ? k.count_over(limit) : 0;
      if (n > 0) over.push_back({&k, n});
    }
    std::sort(over.begin(), over.end(),
              [](const Over& a, const Over& b) { return a.k->max_ns() > b.k->max_ns(); });
    if (over.empty()) {
      c.message = longest == nullptr
                      ? "no kernel instances"
                      : fmt::format("longest: {} {} ({})", longest->name,
                                    format_ns(longest->max_ns()), where(*longest, runs.size()));
    } else {
      c.status = CheckStatus::kFail;
      uint64_t total = 0;
      for (const auto& o : over) total += o.count;
      const Pooled& w = *over[0].k;
      c.message =
          fmt::format("{} instance{} over {}: longest {} {} ({})", total, total == 1 ? "" : "s",
                      format_ns(limit), w.name, format_ns(w.max_ns()), where(w, runs.size()));
      for (const auto& o : over) {
        c.details.push_back(fmt::format("{}: {} of {} instances over, max {}", o.k->name, o.count,
                                        o.k->count, format_ns(o.k->max_ns())));
      }
    }
    checks.push_back(std::move(c));
  }

  for (const KernelBudget& b : rules.kernels) {
    if (!b.max_ns && !b.p99_ns && !b.total_ns && !b.max_share) continue;
    bool matched = false;
    for (const auto& k : kernels) {
      if (!b.pattern.matches(k.name)) continue;
      matched = true;
      Check c;
      c.kind = "budget";
      c.name = b.pattern.is_regex() ? fmt::format("{} ({})", k.name, b.pattern.text()) : k.name;
      std::vector<std::string> ok;
      std::vector<std::string> bad;
      auto judge = [&](const char* what, bool within, const std::string& value,
                       const std::string& lim) {
        (within ? ok : bad)
            .push_back(fmt::format("{} {} {} {}", what, value, within ? "<=" : ">", lim));
      };
      if (b.max_ns) {
        judge("max", k.max_ns() <= *b.max_ns, format_ns(k.max_ns()), format_ns(*b.max_ns));
      }
      if (b.p99_ns) {
        const int64_t p99 = k.percentile(99);
        judge("p99", p99 <= *b.p99_ns, format_ns(p99), format_ns(*b.p99_ns));
      }
      if (b.total_ns) {
        judge("total", k.total_ns <= *b.total_ns, format_ns(k.total_ns), format_ns(*b.total_ns));
      }
      if (b.max_share) {
        const double share =
            device_total > 0 ? static_cast<double>(k.total_ns) / static_cast<double>(device_total)
                             : 0;
        judge("share", share <= *b.max_share + 1e-12, fmt::format("{:.1f}%", share * 100),
              fmt::format("{:.1f}%", *b.max_share * 100));
      }
      std::string msg;
      for (const auto& s : bad) msg += (msg.empty() ? "" : "; ") + s;
      for (const auto& s : ok) msg += (msg.empty() ? "" : "; ") + s;
      c.message = msg;
      if (!bad.empty()) c.status = CheckStatus::kFail;
      checks.push_back(std::move(c));
    }
    if (!matched && !b.expect) {
      Check c;
      c.kind = "budget";
      c.name = b.pattern.text();
      c.status = CheckStatus::kSkip;
      c.message = "no kernel matches";
      checks.push_back(std::move(c));
    }
  }
  return checks;
}

namespace {

std::string value_text(const Comparison& c, double v) {
  if (c.unit == "tokens/s") return fmt::format("{:.1f} tokens/s", v);
  return format_ns(static_cast<int64_t>(std::llround(v))) + (c.unit == "ns/step" ? "/step" : "");
}

Check comparison_check(const Comparison& c, const std::string& kind_label) {
  Check k;
  k.kind = "regression";
  k.name = kind_label;
  const std::string what = c.higher_is_better ? "drop" : "slowdown";
  const std::string values =
      fmt::format("{} -> {}", value_text(c, c.base_value), value_text(c, c.new_value));
  switch (c.verdict) {
    case Verdict::kInsufficient:
      k.status = CheckStatus::kSkip;
      k.message = fmt::format("{} ({} vs {} samples: too few to judge)", values, c.base_samples,
                              c.new_samples);
      return k;
    case Verdict::kRegressed:
      k.status = CheckStatus::kFail;
      k.message = fmt::format("{} {} (CI {} .. {}) exceeds the {} limit: {}", what,
                              format_change(c.regression), format_change(c.regression_low),
                              format_change(c.regression_high),
                              fmt::format("{:.1f}%", c.limit * 100), values);
      break;
    case Verdict::kNotSignificant:
      k.message =
          fmt::format("{} {} is over the {} limit but not significant (CI {} .. {}): {}", what,
                      format_change(c.regression), fmt::format("{:.1f}%", c.limit * 100),
                      format_change(c.regression_low), format_change(c.regression_high), values);
      break;
    case Verdict::kImproved:
    case Verdict::kWithinLimit:
      k.message =
          fmt::format("{} {} (CI {} .. {}), limit {}: {}", what, format_change(c.regression),
                      format_change(c.regression_low), format_change(c.regression_high),
                      fmt::format("{:.1f}%", c.limit * 100), values);
      break;
  }
  return k;
}

}  // namespace

std::vector<Check> regression_checks(const RegressionResult& result, const AnalysisRules& rules) {
  std::vector<Check> checks;
  if (result.throughput) {
    Check c = comparison_check(*result.throughput, result.throughput->metric);
    c.details.push_back("basis: " + result.throughput_basis);
    if (result.base_request_tokens_per_s && result.new_request_tokens_per_s) {
      c.details.push_back(fmt::format(
          "request records: {:.1f} -> {:.1f} generated tokens/s ({}; one value per run, not "
          "gated)",
          *result.base_request_tokens_per_s, *result.new_request_tokens_per_s,
          format_change(*result.new_request_tokens_per_s / *result.base_request_tokens_per_s - 1)));
    }
    checks.push_back(std::move(c));
  }
  for (const Comparison& k : result.kernels) {
    checks.push_back(comparison_check(k, "kernel " + k.metric));
  }
  for (const std::string& name : result.vanished_kernels) {
    Check c;
    c.kind = "regression";
    c.name = "kernel " + name;
    c.status = rules.fail_on_vanished ? CheckStatus::kFail : CheckStatus::kSkip;
    c.message = "present in the baseline, absent from the new run";
    checks.push_back(std::move(c));
  }
  return checks;
}

}  // namespace huoyan
