#include "src/analysis/diagnosis_stability.h"

#include <algorithm>
#include <limits>
#include <map>

namespace huoyan {
namespace {

// A "fires at or above t" share threshold moved by the factor (1 ± margin).
double scaled(double t, double factor) { return t * factor; }
// A ratio threshold (≥ 1) moved on its excess over 1: 3 → 3.3 for +15 %.
double scaled_ratio(double t, double factor) { return 1.0 + (t - 1.0) * factor; }

DiagnosisConfig moved(const DiagnosisConfig& cfg, double factor) {
  DiagnosisConfig c = cfg;
  c.min_share = scaled(cfg.min_share, factor);
  c.dominant_share = std::min(1.0, scaled(cfg.dominant_share, factor));
  c.min_saving = scaled(cfg.min_saving, factor);
  // "Far below the roof" fires under bandwidth_low: easing raises it. "At the roof" fires at or
  // above bandwidth_high: easing lowers it.
  c.bandwidth_low = scaled(cfg.bandwidth_low, 2.0 - factor);
  c.bandwidth_high = std::min(1.0, scaled(cfg.bandwidth_high, factor));
  c.host_share = scaled(cfg.host_share, factor);
  c.idle_share = scaled(cfg.idle_share, factor);
  c.lock_share = scaled(cfg.lock_share, factor);
  c.launch_short_fraction = std::min(1.0, scaled(cfg.launch_short_fraction, factor));
  c.tail_ratio = scaled_ratio(cfg.tail_ratio, factor);
  c.imbalance = scaled(cfg.imbalance, factor);
  c.straggler_ratio = scaled_ratio(cfg.straggler_ratio, factor);
  c.straggler_steps = scaled(cfg.straggler_steps, factor);
  c.comm_share = scaled(cfg.comm_share, factor);
  return c;
}

using Key = std::pair<std::string, std::string>;

Key key_of(const Finding& f) { return {f.id, f.subject}; }

const Finding* find(const std::vector<Finding>& v, const Key& k) {
  for (const Finding& f : v) {
    if (f.id == k.first && f.subject == k.second) return &f;
  }
  return nullptr;
}

}  // namespace

DiagnosisConfig eased_config(const DiagnosisConfig& cfg, double margin) {
  return moved(cfg, 1.0 - margin);
}
DiagnosisConfig tightened_config(const DiagnosisConfig& cfg, double margin) {
  return moved(cfg, 1.0 + margin);
}

void rank_findings_stable(std::vector<Finding>* findings, const std::vector<Key>& previous,
                          double margin) {
  rank_findings(findings);
  if (previous.empty()) return;
  std::map<Key, size_t> was;
  for (size_t i = 0; i < previous.size(); ++i) was.emplace(previous[i], i);
  auto beats = [margin](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    return static_cast<double>(a.saved_ns) > static_cast<double>(b.saved_ns) * (1.0 + margin);
  };
  // Repeatedly take, among the findings no other remaining one beats, the one shown earliest
  // (new ones after, in rank order). "Beats" is acyclic, so such a finding always exists.
  std::vector<Finding> rest = std::move(*findings);
  findings->clear();
  while (!rest.empty()) {
    size_t pick = rest.size();
    size_t pick_rank = std::numeric_limits<size_t>::max();
    for (size_t i = 0; i < rest.size(); ++i) {
      bool beaten = false;
      for (size_t j = 0; j < rest.size() && !beaten; ++j)
        beaten = j != i && beats(rest[j], rest[i]);
      if (beaten) continue;
      auto it = was.find(key_of(rest[i]));
      const size_t rank = it != was.end() ? it->second : previous.size() + i;
      if (pick == rest.size() || rank < pick_rank) {
        pick = i;
        pick_rank = rank;
      }
    }
    findings->push_back(std::move(rest[pick]));
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(pick));
  }
}

std::vector<Finding> StableDiagnosis::update(const DiagnosisContext& ctx,
                                             const DiagnosisConfig& cfg) {
  std::vector<Finding> normal = diagnose(ctx, cfg);
  if (first_) {
    first_ = false;
    shown_.clear();
    for (const Finding& f : normal) shown_.push_back({key_of(f), f.severity});
    return normal;
  }
  const std::vector<Finding> strict = diagnose(ctx, tightened_config(cfg, margin_));
  const std::vector<Finding> loose = diagnose(ctx, eased_config(cfg, margin_));
  std::map<Key, Severity> before;
  std::vector<Key> order;
  for (const auto& [k, sev] : shown_) {
    before.emplace(k, sev);
    order.push_back(k);
  }
  std::vector<Finding> out;
  for (const Finding& f : loose) {
    const Key k = key_of(f);
    const Finding* s = find(strict, k);
    auto was = before.find(k);
    // New findings must hold under the strict thresholds; shown ones until the loose drop them.
    if (s == nullptr && was == before.end()) continue;
    const Finding* n = find(normal, k);
    Finding shown = n != nullptr ? *n : (s != nullptr ? *s : f);
    // Severity: the strict one is the lowest the metric supports, the loose one the highest;
    // keep the previous one while it lies between them.
    const Severity low = s != nullptr ? s->severity : Severity::kInfo;
    const Severity high = f.severity;
    if (was != before.end() && was->second >= low && was->second <= high) {
      shown.severity = was->second;
    } else if (n == nullptr) {
      shown.severity = s != nullptr ? s->severity : f.severity;
    }
    out.push_back(std::move(shown));
  }
  rank_findings_stable(&out, order, margin_);
  shown_.clear();
  for (const Finding& f : out) shown_.push_back({key_of(f), f.severity});
  return out;
}

}  // namespace huoyan
