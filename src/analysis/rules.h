// The rules of `huoyan analyze`: which kernels must exist, their time budgets, the regression
// limit and the diagnosis thresholds, from the command line and from a rules file (JSON,
// documented in docs/rules.md). Parsing only: checks live in rules_check.h, diagnosis in
// diagnosis.h.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "src/analysis/diagnosis.h"
#include "src/core/status.h"

namespace huoyan {

// "50ms", "1.5 s", "200us", "200µs", "10ns" → ns. A unit is required; negative values, unknown
// units, non-numbers and values beyond int64 are errors (the message says which).
Result<int64_t> parse_duration_text(std::string_view text);
// "5%", "5", "0.5%" → a fraction (0.05, 0.05, 0.005): a bare number is a percentage too.
// Negative values and non-numbers are errors.
Result<double> parse_percent_text(std::string_view text);

// A kernel name pattern: the exact name, or /regex/ (ECMAScript, searched anywhere in the name
// unless anchored).
class NamePattern {
 public:
  static Result<NamePattern> parse(std::string_view text);
  bool matches(std::string_view name) const;
  const std::string& text() const { return text_; }
  bool is_regex() const { return regex_ != nullptr; }

 private:
  std::string text_;
  std::shared_ptr<const std::regex> regex_;  // null: exact match
};

// Budget of the kernels matching a pattern; each matching kernel name is checked on its own.
struct KernelBudget {
  NamePattern pattern;
  std::optional<int64_t> max_ns;    // every instance at most this long
  std::optional<int64_t> p99_ns;    // nearest-rank p99 at most this
  std::optional<int64_t> total_ns;  // total time at most this
  std::optional<double> max_share;  // share of device time at most this (0..1)
  bool expect = false;              // the pattern must match at least one kernel
};

struct AnalysisRules {
  std::vector<NamePattern> expect;      // --expect and "expect"
  std::optional<int64_t> threshold_ns;  // --threshold and "threshold": any instance longer fails
  double max_regression = 0.05;         // --max-regression and "max_regression"
  std::vector<KernelBudget> kernels;
  // Regression comparison of kernels: kernels under this share of device time (in the baseline
  // and the new run) are not compared (too small to matter, too noisy to judge).
  double regression_min_share = 0.01;
  uint64_t regression_min_samples = 5;  // instances (or steps) needed on each side
  bool fail_on_vanished = false;        // a baseline kernel over min share missing → failure
  uint32_t bootstrap_resamples = 2000;
  double confidence = 0.95;
  uint64_t bootstrap_seed = 0x6875'6f79'616eULL;  // "huoyan"
  DiagnosisConfig diagnosis;
};

// Parses a rules file's text onto `base` (fields present override, absent keep their value).
// Unknown keys are errors, so a typo never silently disables a check. `source` names the file
// in messages.
Status parse_rules_json(std::string_view json, std::string_view source, AnalysisRules* rules);
Status load_rules_file(const std::string& path, AnalysisRules* rules);

}  // namespace huoyan
