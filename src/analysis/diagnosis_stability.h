// Findings that do not flip between refreshes of a live diagnosis while the workload does not
// change. A Schmitt trigger around every threshold: a finding appears when it fires with every
// threshold moved `margin` against it, and goes away only when it no longer fires with every
// threshold moved `margin` in its favour; a shown finding keeps its severity while both
// settings allow it. The order keeps the previous one unless a finding outranks another by more
// than the margin (a higher severity, or a saving larger by the factor 1 + margin).
//
// Not thread-safe: one tracker per live source, called under the caller's lock.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "src/analysis/diagnosis.h"
#include "src/analysis/diagnosis_context.h"

namespace huoyan {

// Every threshold of `cfg` moved by `margin` (0.15 = 15 %) towards more findings (eased) or
// fewer (tightened). Knob limits (group and block sizes) and minimum counts stay: they are
// exact values, not measurements.
DiagnosisConfig eased_config(const DiagnosisConfig& cfg, double margin);
DiagnosisConfig tightened_config(const DiagnosisConfig& cfg, double margin);

class StableDiagnosis {
 public:
  explicit StableDiagnosis(double margin = 0.15) : margin_(margin) {}

  // The findings for this context, given those shown last time.
  std::vector<Finding> update(const DiagnosisContext& ctx, const DiagnosisConfig& cfg);

 private:
  using Key = std::pair<std::string, std::string>;  // id, subject
  double margin_;
  bool first_ = true;
  std::vector<std::pair<Key, Severity>> shown_;  // in the order shown
};

// Orders findings as rank_findings() would, except that `previous` (keys in the order shown)
// is kept where no finding outranks another by more than `margin`.
void rank_findings_stable(std::vector<Finding>* findings,
                          const std::vector<std::pair<std::string, std::string>>& previous,
                          double margin);

}  // namespace huoyan
