// Regression comparison of a new run against a baseline, noise-aware.
//
// What is compared:
//  - throughput, with the best basis both sides support:
//      1. generated tokens per second of the serving loop: Σ step members / Σ step duration,
//         one sample per step (steps with members and a start and end; every member of a step
//         generates one token);
//      2. else device time per step (kernels grouped by their step id; lower is better);
//      3. else none (the per-kernel comparison below still runs);
//    plus, for information, generated tokens/s from request records (Σ tokens_out / (last
//    finish − first arrival)), which is one number per run and so carries no noise estimate;
//  - the mean duration of every kernel over `regression_min_share` of device time on either
//    side, one sample per kernel instance.
//
// Method: the statistic of a side is a ratio of sums (Σ tokens / Σ ns, or the mean Σ ns / n).
// Its uncertainty comes from a bootstrap: `resamples` times (default 2000, fixed seed) the
// samples of each side are drawn with replacement — first whole runs, when a side has several
// runs, then samples within each drawn run — and the ratio new/base of the resampled statistics
// is recorded; the confidence interval (default 95 %) is the percentile interval of those
// ratios. A regression fails the gate only when the whole interval lies beyond the limit: it is
// then both larger than allowed and larger than the run-to-run noise of these samples. Runs
// with more samples than `kMaxBatches` are resampled in consecutive batches (batch means),
// which keeps the cost bounded and respects correlation between neighbouring steps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "src/analysis/rules.h"
#include "src/core/trace_store.h"

namespace huoyan {

// One sample of a ratio statistic: the statistic of a set is Σ num / Σ den.
struct RatioSample {
  double num = 0;
  double den = 1;
};

struct KernelSamples {
  std::string name;
  std::vector<int64_t> ns;  // instance durations, in event order
  int64_t total_ns = 0;
  int64_t max_ns = 0;  // the longest instance and where it ran
  int64_t max_ts = 0;
  uint64_t max_step = 0;
  std::string max_track;
};

// Everything the CI gate needs from one run, so the run's store can be dropped before the next
// is read.
struct RunSamples {
  std::string source;   // file name, for messages
  uint64_t events = 0;  // events held by the store
  int64_t device_total_ns = 0;
  std::vector<KernelSamples> kernels;       // by name
  std::vector<RatioSample> step_generated;  // per step: members (tokens generated), ns
  std::vector<RatioSample> step_device;     // per step id: device ns, 1
  // Request records.
  uint64_t requests = 0;
  uint64_t tokens_out = 0;
  int64_t first_arrival = kNoTime;
  int64_t last_finish = kNoTime;

  const KernelSamples* kernel(std::string_view name) const;
  // Generated tokens per second from request records, or nullopt when they lack times/tokens.
  std::optional<double> request_tokens_per_s() const;
};

RunSamples collect_run_samples(const TraceStore& store, const Snapshot& snapshot,
                               std::string source);

// ---------------------------------------------------------------------------------------------
// Bootstrap

inline constexpr size_t kMaxBatches = 1000;

struct BootstrapOptions {
  uint32_t resamples = 2000;
  double confidence = 0.95;
  uint64_t seed = 0x6875'6f79'616eULL;
};

struct RatioEstimate {
  double ratio = 1;  // statistic(new) / statistic(base) on all samples
  double low = 1;    // confidence interval of the ratio
  double high = 1;
};

// Samples of one side, grouped by run.
using SampleRuns = std::vector<std::vector<RatioSample>>;

double ratio_statistic(const SampleRuns& side);  // Σ num / Σ den over every run
uint64_t sample_count(const SampleRuns& side);

// Bootstrap confidence interval of statistic(now) / statistic(base). Deterministic for a seed.
// Both sides need at least one sample with a positive denominator.
RatioEstimate bootstrap_ratio(const SampleRuns& base, const SampleRuns& now,
                              const BootstrapOptions& options);

// ---------------------------------------------------------------------------------------------
// Comparison

enum class Verdict {
  kRegressed,       // the whole interval is beyond the limit: fails the gate
  kNotSignificant,  // the estimate is beyond the limit, the interval is not: passes, flagged
  kWithinLimit,
  kImproved,      // the whole interval is on the better side of no change
  kInsufficient,  // too few samples to judge: passes, flagged
};
std::string_view verdict_name(Verdict v);  // "regressed", "not-significant", …

struct Comparison {
  std::string metric;  // "throughput", "device time per step", or a kernel name
  std::string unit;    // "tokens/s", "ns/step", "ns"
  bool higher_is_better = false;
  double base_value = 0;  // statistic of each side (tokens/s, ns/step or mean ns)
  double new_value = 0;
  uint64_t base_samples = 0;
  uint64_t new_samples = 0;
  RatioEstimate ratio;
  // Signed regression (positive = worse) and its interval: 1 − ratio when higher is better,
  // ratio − 1 when lower is better.
  double regression = 0;
  double regression_low = 0;
  double regression_high = 0;
  double limit = 0;
  Verdict verdict = Verdict::kWithinLimit;
};

Comparison compare_samples(std::string metric, std::string unit, bool higher_is_better,
                           const SampleRuns& base, const SampleRuns& now,
                           const AnalysisRules& rules);

struct RegressionResult {
  std::optional<Comparison> throughput;
  std::string throughput_basis;  // how throughput was measured, or why it was not
  std::optional<double> base_request_tokens_per_s;  // information only
  std::optional<double> new_request_tokens_per_s;
  std::vector<Comparison> kernels;            // by |regression| descending
  std::vector<std::string> new_kernels;       // over min share in new, absent in base
  std::vector<std::string> vanished_kernels;  // over min share in base, absent in new
  uint32_t resamples = 0;
  double confidence = 0;
};

RegressionResult compare_runs(const std::vector<RunSamples>& base,
                              const std::vector<RunSamples>& now, const AnalysisRules& rules);

// One paragraph stating the method, for --help and reports.
std::string regression_method_text(const AnalysisRules& rules);

}  // namespace huoyan
