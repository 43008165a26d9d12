// The checks of `huoyan analyze`: expected kernels, the per-instance threshold, per-kernel
// budgets and the regression gate, evaluated on the samples of one or more runs. Pure
// functions: inputs are RunSamples (regression.h) and AnalysisRules (rules.h).
#pragma once

#include <string>
#include <vector>

#include "src/analysis/regression.h"
#include "src/analysis/rules.h"

namespace huoyan {

enum class CheckStatus { kPass, kFail, kSkip };
std::string_view check_status_name(CheckStatus s);  // "pass", "fail", "skip"

struct Check {
  std::string kind;  // "expect" | "threshold" | "budget" | "regression"
  std::string name;  // what is checked: "Int4Gemm", "max instance <= 50ms", "throughput"
  CheckStatus status = CheckStatus::kPass;
  std::string message;               // one line: the measured value against the limit
  std::vector<std::string> details;  // more lines (offending kernels, per-run figures)
};

// Expected kernels (rules.expect and budgets with expect): each pattern must match a kernel of
// every run. Threshold: no instance longer than rules.threshold_ns. Budgets: for every kernel
// name a budget's pattern matches, its pooled max, p99, total and share stay within limits.
std::vector<Check> check_kernels(const std::vector<RunSamples>& runs, const AnalysisRules& rules);

// Regression checks from a comparison: throughput (when measured), one per compared kernel, and
// vanished kernels when rules.fail_on_vanished.
std::vector<Check> regression_checks(const RegressionResult& result, const AnalysisRules& rules);

bool any_failed(const std::vector<Check>& checks);

// "1.235 ms" (same format as the CLI tables).
std::string format_ns(int64_t ns);
// "+12.3%" / "-4.0%".
std::string format_change(double fraction);

}  // namespace huoyan
