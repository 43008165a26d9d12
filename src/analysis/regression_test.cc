#include "src/analysis/regression.h"

#include <gtest/gtest.h>

#include "src/analysis/diagnosis_testing.h"
#include "src/analysis/rules_check.h"

namespace huoyan {
namespace {

using testing::ServingSpec;

RunSamples samples_of(const ServingSpec& spec, const std::string& name = "run.json") {
  TraceStore store;
  testing::make_serving_trace(store, spec);
  return collect_run_samples(store, store.snapshot(), name);
}

SampleRuns constant_runs(std::vector<std::vector<double>> values) {
  SampleRuns out;
  for (const auto& run : values) {
    std::vector<RatioSample> v;
    for (double x : run) v.push_back({x, 1.0});
    out.push_back(std::move(v));
  }
  return out;
}

TEST(CollectRunSamples, StepsKernelsAndRequests) {
  TraceStore store;
  ServingSpec spec;
  spec.steps = 10;
  spec.noise = 0;
  testing::make_serving_trace(store, spec);
  testing::TraceBuilder b(store);
  b.request("req-0", 1000000, 2000000, 40);
  b.request("req-1", 1500000, 3000000, 20);
  const RunSamples r = collect_run_samples(store, store.snapshot(), "x.json");
  EXPECT_EQ(r.source, "x.json");
  ASSERT_EQ(r.kernels.size(), 3u);
  EXPECT_EQ(r.kernels[0].name, "Int4Gemm");  // by name
  EXPECT_EQ(r.kernels[0].ns.size(), 10u);
  EXPECT_EQ(r.kernels[0].total_ns, 600000);
  EXPECT_EQ(r.device_total_ns, 850000);
  ASSERT_EQ(r.step_generated.size(), 10u);
  EXPECT_DOUBLE_EQ(r.step_generated[0].num, 4);  // four members, one token each
  EXPECT_DOUBLE_EQ(r.step_generated[0].den, 96000);
  ASSERT_EQ(r.step_device.size(), 10u);
  EXPECT_DOUBLE_EQ(r.step_device[0].num, 85000);
  EXPECT_EQ(r.requests, 4u);  // req-0..3 are step members; req-0 and req-1 have records
  EXPECT_DOUBLE_EQ(*r.request_tokens_per_s(), 60.0 * 1e9 / 2000000.0);
  EXPECT_NE(r.kernel("RMSNorm"), nullptr);
  EXPECT_EQ(r.kernel("Nope"), nullptr);
}

TEST(Bootstrap, DeterministicAndCentred) {
  std::vector<double> a;
  std::vector<double> b;
  for (int i = 0; i < 500; ++i) {
    a.push_back(100 + (i * 37 % 21) - 10);
    b.push_back(100 + (i * 53 % 21) - 10);
  }
  const SampleRuns base = constant_runs({a});
  const SampleRuns now = constant_runs({b});
  const RatioEstimate e1 = bootstrap_ratio(base, now, BootstrapOptions{});
  const RatioEstimate e2 = bootstrap_ratio(base, now, BootstrapOptions{});
  EXPECT_EQ(e1.low, e2.low);
  EXPECT_EQ(e1.high, e2.high);
  EXPECT_LT(e1.low, e1.ratio);
  EXPECT_GT(e1.high, e1.ratio);
  EXPECT_LT(e1.low, 1.0);
  EXPECT_GT(e1.high, 1.0);
  EXPECT_LT(e1.high - e1.low, 0.02);
  BootstrapOptions other;
  other.seed = 99;
  EXPECT_NE(bootstrap_ratio(base, now, other).low, e1.low);
}

TEST(Bootstrap, LargeRunsAreBatched) {
  std::vector<double> a(200000, 10.0);
  std::vector<double> b(300000, 11.0);
  a[5] = 1000;  // a single outlier moves nothing much
  const RatioEstimate e = bootstrap_ratio(constant_runs({a}), constant_runs({b}), {});
  EXPECT_NEAR(e.ratio, 11.0 / (10.0 + 990.0 / 200000), 1e-12);
  EXPECT_GT(e.low, 1.09);
  EXPECT_LT(e.high, 1.11);
}

TEST(Compare, VerdictsAndDirections) {
  AnalysisRules rules;
  std::vector<double> base(200);
  std::vector<double> slow(200);
  std::vector<double> same(200);
  for (int i = 0; i < 200; ++i) {
    base[static_cast<size_t>(i)] = 100 + (i % 7);
    slow[static_cast<size_t>(i)] = (100 + (i % 7)) * 1.2;
    same[static_cast<size_t>(i)] = 100 + ((i + 3) % 7);
  }
  Comparison c =
      compare_samples("k", "ns", false, constant_runs({base}), constant_runs({slow}), rules);
  EXPECT_EQ(c.verdict, Verdict::kRegressed);
  EXPECT_NEAR(c.regression, 0.2, 1e-9);
  EXPECT_GT(c.regression_low, 0.05);
  c = compare_samples("k", "ns", false, constant_runs({slow}), constant_runs({base}), rules);
  EXPECT_EQ(c.verdict, Verdict::kImproved);
  c = compare_samples("k", "ns", false, constant_runs({base}), constant_runs({same}), rules);
  EXPECT_EQ(c.verdict, Verdict::kWithinLimit);
  // Higher is better: the same slowdown in time is a throughput gain.
  c = compare_samples("t", "tokens/s", true, constant_runs({base}), constant_runs({slow}), rules);
  EXPECT_EQ(c.verdict, Verdict::kImproved);
  EXPECT_NEAR(c.regression, -0.2, 1e-9);
  // Too few samples: not judged.
  c = compare_samples("k", "ns", false, constant_runs({{1, 2}}), constant_runs({{5, 6}}), rules);
  EXPECT_EQ(c.verdict, Verdict::kInsufficient);
  // Over the limit but inside the noise: flagged, not failed.
  std::vector<double> noisy_base;
  std::vector<double> noisy_new;
  for (int i = 0; i < 12; ++i) {
    noisy_base.push_back(i % 2 ? 50 : 150);
    noisy_new.push_back(i % 2 ? 57 : 157);
  }
  c = compare_samples("k", "ns", false, constant_runs({noisy_base}), constant_runs({noisy_new}),
                      rules);
  EXPECT_EQ(c.verdict, Verdict::kNotSignificant);
  EXPECT_GT(c.regression, 0.05);
  EXPECT_LT(c.regression_low, 0.05);
}

// The noise test of the CI gate: two runs drawn from the same distribution, with 5–10 %
// per-step noise, must never fail a 5 % gate.
TEST(RegressionGate, SameDistributionNeverFails) {
  AnalysisRules rules;  // 5 %, 2000 resamples, 95 %
  int failures = 0;
  int flagged = 0;
  for (int pair = 0; pair < 200; ++pair) {
    ServingSpec spec;
    spec.steps = 120;
    spec.noise = 0.05 + 0.05 * pair / 199.0;
    spec.seed = 1000 + 2 * static_cast<uint64_t>(pair);
    const RunSamples base = samples_of(spec, "base.json");
    spec.seed += 1;
    const RunSamples now = samples_of(spec, "new.json");
    const RegressionResult r = compare_runs({base}, {now}, rules);
    ASSERT_TRUE(r.throughput.has_value());
    ASSERT_EQ(r.kernels.size(), 3u);
    const auto checks = regression_checks(r, rules);
    if (any_failed(checks)) ++failures;
    for (const auto& k : r.kernels) flagged += k.verdict == Verdict::kNotSignificant ? 1 : 0;
  }
  EXPECT_EQ(failures, 0);
  RecordProperty("not_significant_flags", flagged);
}

// ... and a real 10 % slowdown must always fail it.
TEST(RegressionGate, TenPercentSlowdownAlwaysFails) {
  AnalysisRules rules;
  int detected = 0;
  const int pairs = 40;
  for (int pair = 0; pair < pairs; ++pair) {
    ServingSpec spec;
    spec.steps = 400;
    spec.noise = 0.10;
    spec.seed = 5000 + 2 * static_cast<uint64_t>(pair);
    const RunSamples base = samples_of(spec, "base.json");
    spec.seed += 1;
    spec.slowdown = 1.10;
    const RunSamples now = samples_of(spec, "new.json");
    const RegressionResult r = compare_runs({base}, {now}, rules);
    bool kernel_regressed = false;
    for (const auto& k : r.kernels) kernel_regressed |= k.verdict == Verdict::kRegressed;
    if (any_failed(regression_checks(r, rules)) && kernel_regressed) ++detected;
  }
  EXPECT_EQ(detected, pairs);
}

TEST(RegressionGate, SeveralBaselineRunsWidenTheIntervalWithRunToRunSpread) {
  // Three baseline runs on machines 4 % apart; the new run sits 6 % above their mean. With one
  // baseline run the difference looks significant; with all three it is within the noise.
  AnalysisRules rules;
  std::vector<RunSamples> base;
  for (int i = 0; i < 3; ++i) {
    ServingSpec spec;
    spec.steps = 300;
    spec.noise = 0.02;
    spec.slowdown = 1.0 + 0.04 * (i - 1);
    spec.seed = 77 + static_cast<uint64_t>(i);
    base.push_back(samples_of(spec, "base" + std::to_string(i)));
  }
  ServingSpec spec;
  spec.steps = 300;
  spec.noise = 0.02;
  spec.slowdown = 1.06;
  spec.seed = 90;
  const RunSamples now = samples_of(spec);
  const RegressionResult one = compare_runs({base[0]}, {now}, rules);
  const RegressionResult three = compare_runs(base, {now}, rules);
  const Comparison* k1 = nullptr;
  const Comparison* k3 = nullptr;
  for (const auto& k : one.kernels) k1 = k.metric == "Int4Gemm" ? &k : k1;
  for (const auto& k : three.kernels) k3 = k.metric == "Int4Gemm" ? &k : k3;
  ASSERT_NE(k1, nullptr);
  ASSERT_NE(k3, nullptr);
  EXPECT_EQ(k1->verdict, Verdict::kRegressed);
  EXPECT_NE(k3->verdict, Verdict::kRegressed);
  EXPECT_GT(k3->regression_high - k3->regression_low,
            3 * (k1->regression_high - k1->regression_low));
}

TEST(CompareRuns, ThroughputBasisFallsBack) {
  AnalysisRules rules;
  ServingSpec spec;
  spec.steps = 50;
  RunSamples a = samples_of(spec);
  RunSamples b = samples_of(spec);
  RegressionResult r = compare_runs({a}, {b}, rules);
  EXPECT_EQ(r.throughput->unit, "tokens/s");
  EXPECT_EQ(r.throughput_basis, "generated tokens (step members) / step duration");
  EXPECT_NEAR(r.throughput->base_value, 4 * 1e9 / 96000.0, 1000);
  // Without step records: device time per step.
  a.step_generated.clear();
  r = compare_runs({a}, {b}, rules);
  EXPECT_EQ(r.throughput->unit, "ns/step");
  EXPECT_FALSE(r.throughput->higher_is_better);
  // Without step ids either: no throughput, kernels still compared.
  a.step_device.clear();
  r = compare_runs({a}, {b}, rules);
  EXPECT_FALSE(r.throughput.has_value());
  EXPECT_EQ(r.kernels.size(), 3u);
  EXPECT_EQ(regression_checks(r, rules).size(), 3u);
}

TEST(CompareRuns, NewAndVanishedKernels) {
  AnalysisRules rules;
  ServingSpec spec;
  spec.steps = 30;
  const RunSamples a = samples_of(spec);
  spec.kernels = {{"Int4Gemm", 60000}, {"FusedNormRope", 8000}};
  const RunSamples b = samples_of(spec);
  RegressionResult r = compare_runs({a}, {b}, rules);
  EXPECT_EQ(r.new_kernels, std::vector<std::string>{"FusedNormRope"});
  EXPECT_EQ(r.vanished_kernels, (std::vector<std::string>{"PagedAttention", "RMSNorm"}));
  auto checks = regression_checks(r, rules);
  EXPECT_FALSE(any_failed(checks));
  rules.fail_on_vanished = true;
  checks = regression_checks(r, rules);
  EXPECT_TRUE(any_failed(checks));
  EXPECT_EQ(checks.back().name, "kernel RMSNorm");
  EXPECT_EQ(checks.back().message, "present in the baseline, absent from the new run");
}

TEST(CompareRuns, MethodIsStated) {
  const std::string m = regression_method_text(AnalysisRules{});
  EXPECT_NE(m.find("bootstrap"), std::string::npos);
  EXPECT_NE(m.find("2000 resamples"), std::string::npos);
  EXPECT_NE(m.find("95% confidence interval"), std::string::npos);
  EXPECT_NE(m.find("5.0% limit"), std::string::npos);
}

}  // namespace
}  // namespace huoyan
