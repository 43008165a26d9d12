#include "src/analysis/rules.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "src/analysis/rules_check.h"

namespace huoyan {
namespace {

template <typename T>
T v(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(r).value();
}

TEST(ParseDuration, UnitsAndErrors) {
  EXPECT_EQ(v(parse_duration_text("50ms")), 50'000'000);
  EXPECT_EQ(v(parse_duration_text("1.5 s")), 1'500'000'000);
  EXPECT_EQ(v(parse_duration_text("200us")), 200'000);
  EXPECT_EQ(v(parse_duration_text("200\xC2\xB5s")), 200'000);
  EXPECT_EQ(v(parse_duration_text("10ns")), 10);
  EXPECT_EQ(v(parse_duration_text("0ms")), 0);
  EXPECT_EQ(v(parse_duration_text("0.0015ms")), 1500);
  auto err = [](std::string_view s) { return parse_duration_text(s).status().message(); };
  EXPECT_EQ(err("5kg"), "'5kg': unknown unit 'kg' (expected ns, us, ms or s)");
  EXPECT_EQ(err("-5ms"), "'-5ms': a duration cannot be negative");
  EXPECT_EQ(err("abc"), "'abc' is not a duration (expected a number and a unit, e.g. 50ms)");
  EXPECT_EQ(err("50"), "'50': missing unit (ns, us, ms or s)");
  EXPECT_FALSE(parse_duration_text("").ok());
  EXPECT_FALSE(parse_duration_text("ms").ok());
  EXPECT_FALSE(parse_duration_text("1.2.3ms").ok());
  EXPECT_FALSE(parse_duration_text("99999999999999999999s").ok());
}

TEST(ParsePercent, PercentOrBareNumber) {
  EXPECT_DOUBLE_EQ(v(parse_percent_text("5%")), 0.05);
  EXPECT_DOUBLE_EQ(v(parse_percent_text("5")), 0.05);
  EXPECT_DOUBLE_EQ(v(parse_percent_text(" 0.5 %")), 0.005);
  EXPECT_DOUBLE_EQ(v(parse_percent_text("0%")), 0);
  EXPECT_EQ(parse_percent_text("-1%").status().message(), "'-1%': a percentage cannot be negative");
  EXPECT_FALSE(parse_percent_text("five").ok());
  EXPECT_FALSE(parse_percent_text("%").ok());
}

TEST(NamePatternTest, ExactAndRegex) {
  auto exact = NamePattern::parse("Int4Gemm");
  ASSERT_TRUE(exact.ok());
  EXPECT_TRUE(exact->matches("Int4Gemm"));
  EXPECT_FALSE(exact->matches("Int4GemmV2"));
  EXPECT_FALSE(exact->is_regex());
  auto re = NamePattern::parse("/^Paged.*Attention$/");
  ASSERT_TRUE(re.ok());
  EXPECT_TRUE(re->matches("PagedAttention"));
  EXPECT_FALSE(re->matches("FlashAttentionPaged"));
  auto search = NamePattern::parse("/Gemm/");
  EXPECT_TRUE(search->matches("Int4GemmKernel"));
  EXPECT_NE(NamePattern::parse("/[/").status().message().find("invalid regular expression"),
            std::string::npos);
  EXPECT_FALSE(NamePattern::parse("//").ok());
  EXPECT_FALSE(NamePattern::parse("").ok());
}

constexpr const char* kExample = R"({
  "_comment": "huoyan rules for the reference server",
  "expect": ["Int4Gemm", "/Attention/"],
  "threshold": "50ms",
  "max_regression": "3%",
  "device": "Ascend 910B",
  "kernels": [
    {"name": "Int4Gemm", "max": "20ms", "p99": "5ms", "total": "2s", "share": "80%",
     "expect": true},
    {"name": "/Norm$/", "share": 0.1}
  ],
  "regression": {"min_share": "2%", "min_samples": 10, "fail_on_vanished": true,
                 "resamples": 500, "confidence": "90%", "seed": 7},
  "diagnosis": {"dominant_share": "60%", "group_size_min": 64, "block_size_suggested": 64,
                "launch_short": "3us", "quant_param_bytes": 8},
  "devices": [{"name": "Ascend 910B", "bandwidth_gbps": 1800, "tflops": 350},
              {"name": "MyNPU", "bandwidth_gbps": 900}]
})";

TEST(RulesFile, ParsesEveryField) {
  AnalysisRules r;
  ASSERT_TRUE(parse_rules_json(kExample, "rules.json", &r).ok());
  ASSERT_EQ(r.expect.size(), 2u);
  EXPECT_TRUE(r.expect[1].is_regex());
  EXPECT_EQ(*r.threshold_ns, 50'000'000);
  EXPECT_DOUBLE_EQ(r.max_regression, 0.03);
  EXPECT_EQ(r.diagnosis.device, "Ascend 910B");
  ASSERT_EQ(r.kernels.size(), 2u);
  EXPECT_EQ(*r.kernels[0].max_ns, 20'000'000);
  EXPECT_EQ(*r.kernels[0].p99_ns, 5'000'000);
  EXPECT_EQ(*r.kernels[0].total_ns, 2'000'000'000);
  EXPECT_DOUBLE_EQ(*r.kernels[0].max_share, 0.8);
  EXPECT_TRUE(r.kernels[0].expect);
  EXPECT_DOUBLE_EQ(*r.kernels[1].max_share, 0.1);
  EXPECT_FALSE(r.kernels[1].max_ns.has_value());
  EXPECT_DOUBLE_EQ(r.regression_min_share, 0.02);
  EXPECT_EQ(r.regression_min_samples, 10u);
  EXPECT_TRUE(r.fail_on_vanished);
  EXPECT_EQ(r.bootstrap_resamples, 500u);
  EXPECT_DOUBLE_EQ(r.confidence, 0.9);
  EXPECT_EQ(r.bootstrap_seed, 7u);
  EXPECT_DOUBLE_EQ(r.diagnosis.dominant_share, 0.6);
  EXPECT_EQ(r.diagnosis.group_size_min, 64);
  EXPECT_EQ(r.diagnosis.block_size_suggested, 64);
  EXPECT_EQ(r.diagnosis.launch_short_ns, 3000);
  EXPECT_DOUBLE_EQ(r.diagnosis.quant_param_bytes, 8);
  // Same name replaces the built-in peak; a new name is added.
  int ascend = 0;
  bool mine = false;
  for (const auto& d : r.diagnosis.devices) {
    if (d.name == "Ascend 910B") {
      ++ascend;
      EXPECT_DOUBLE_EQ(d.bandwidth_gbps, 1800);
    }
    mine |= d.name == "MyNPU";
  }
  EXPECT_EQ(ascend, 1);
  EXPECT_TRUE(mine);
}

TEST(RulesFile, ErrorsNameThePathAndLeaveRulesUnchanged) {
  auto err = [](const char* json) {
    AnalysisRules r;
    r.max_regression = 0.07;
    Status st = parse_rules_json(json, "rules.json", &r);
    EXPECT_DOUBLE_EQ(r.max_regression, 0.07);  // untouched on error
    return st.ok() ? std::string("ok") : st.message();
  };
  EXPECT_EQ(err(R"({"max_regression":"3%","diagnosis":{"dominat_share":0.5}})"),
            "rules.json: diagnosis.dominat_share: unknown key (see docs/rules.md)");
  EXPECT_EQ(err(R"({"kernels":[{"name":"A","max":"5kg"}]})"),
            "rules.json: kernels[0].max: '5kg': unknown unit 'kg' (expected ns, us, ms or s)");
  EXPECT_EQ(err(R"({"kernels":[{"max":"5ms"}]})"), "rules.json: kernels[0]: missing \"name\"");
  EXPECT_EQ(err(R"({"threshold":50})"),
            "rules.json: threshold: expected a duration string with a unit, e.g. \"50ms\"");
  EXPECT_EQ(err(R"({"diagnosis":{"min_share":5}})"),
            "rules.json: diagnosis.min_share: a fraction must be within 0..1 (or write \"50%\")");
  EXPECT_EQ(err(R"({"expect":["/[/"]})").rfind("rules.json: expect: '/[/': invalid regular", 0),
            0u);
  EXPECT_EQ(err(R"([1,2])"), "rules.json: top level: expected an object");
  EXPECT_EQ(err(R"({"regression":{"confidence":"40%"}})"),
            "rules.json: regression.confidence: confidence must be above 50% and below 100%");
  EXPECT_EQ(err("{\"threshold\":").rfind("rules.json: not valid JSON (", 0), 0u);
}

#ifdef HUOYAN_SOURCE_DIR
// The example of docs/rules.md must stay a valid rules file.
TEST(RulesFile, DocumentedExampleParses) {
  std::ifstream in(std::string(HUOYAN_SOURCE_DIR) + "/docs/rules.md");
  ASSERT_TRUE(in) << "docs/rules.md";
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const size_t begin = doc.find("```json\n");
  ASSERT_NE(begin, std::string::npos);
  const size_t end = doc.find("```", begin + 8);
  AnalysisRules r;
  const Status st = parse_rules_json(doc.substr(begin + 8, end - begin - 8), "docs/rules.md", &r);
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(r.kernels.size(), 3u);
  EXPECT_EQ(r.diagnosis.device, "Ascend 910B");
}
#endif

TEST(RulesFile, MissingFile) {
  AnalysisRules r;
  EXPECT_EQ(load_rules_file("/nonexistent/rules.json", &r).message(),
            "/nonexistent/rules.json: cannot open rules file");
}

// ---------------------------------------------------------------------------------------------
// Kernel checks

RunSamples run_of(std::string source,
                  std::vector<std::pair<std::string, std::vector<int64_t>>> kernels) {
  RunSamples r;
  r.source = std::move(source);
  for (auto& [name, ns] : kernels) {
    KernelSamples k;
    k.name = name;
    k.ns = ns;
    for (size_t i = 0; i < ns.size(); ++i) {
      k.total_ns += ns[i];
      if (i == 0 || ns[i] > k.max_ns) {
        k.max_ns = ns[i];
        k.max_step = i + 1;
      }
    }
    k.max_track = "NPU 0 / Stream 1";
    r.device_total_ns += k.total_ns;
    r.kernels.push_back(std::move(k));
  }
  std::sort(r.kernels.begin(), r.kernels.end(),
            [](const KernelSamples& a, const KernelSamples& b) { return a.name < b.name; });
  return r;
}

TEST(CheckKernels, ExpectThresholdAndBudgets) {
  AnalysisRules rules;
  rules.expect.push_back(v(NamePattern::parse("Int4Gemm")));
  rules.expect.push_back(v(NamePattern::parse("Int4gemm")));
  rules.expect.push_back(v(NamePattern::parse("/Attn/")));
  rules.threshold_ns = 50;
  KernelBudget b;
  b.pattern = v(NamePattern::parse("Int4Gemm"));
  b.p99_ns = 60;
  b.max_share = 0.5;
  rules.kernels.push_back(b);
  KernelBudget missing;
  missing.pattern = v(NamePattern::parse("Softmax"));
  missing.max_ns = 5;
  rules.kernels.push_back(missing);
  const auto runs =
      std::vector<RunSamples>{run_of("a.json", {{"Int4Gemm", {10, 20, 70}}, {"RMSNorm", {5, 5}}})};
  const auto checks = check_kernels(runs, rules);
  ASSERT_EQ(checks.size(), 6u);
  EXPECT_EQ(checks[0].status, CheckStatus::kPass);
  EXPECT_EQ(checks[0].message, "found: 3 instances");
  EXPECT_EQ(checks[1].status, CheckStatus::kFail);
  EXPECT_EQ(checks[1].message, "no kernel named in the trace (similar: Int4Gemm)");
  EXPECT_EQ(checks[2].status, CheckStatus::kFail);
  EXPECT_EQ(checks[2].message, "no kernel matches in the trace");
  EXPECT_EQ(checks[3].kind, "threshold");
  EXPECT_EQ(checks[3].status, CheckStatus::kFail);
  EXPECT_EQ(checks[3].message,
            "1 instance over 50 ns: longest Int4Gemm 70 ns (on NPU 0 / Stream 1, step 3)");
  ASSERT_EQ(checks[3].details.size(), 1u);
  EXPECT_EQ(checks[3].details[0], "Int4Gemm: 1 of 3 instances over, max 70 ns");
  EXPECT_EQ(checks[4].kind, "budget");
  EXPECT_EQ(checks[4].status, CheckStatus::kFail);
  EXPECT_EQ(checks[4].message, "p99 70 ns > 60 ns; share 90.9% > 50.0%");
  EXPECT_EQ(checks[5].status, CheckStatus::kSkip);
  EXPECT_TRUE(any_failed(checks));
}

TEST(CheckKernels, EveryRunMustHaveTheExpectedKernel) {
  AnalysisRules rules;
  rules.expect.push_back(v(NamePattern::parse("Int4Gemm")));
  rules.threshold_ns = 1000;
  const auto runs = std::vector<RunSamples>{run_of("a.json", {{"Int4Gemm", {10}}}),
                                            run_of("b.json", {{"RMSNorm", {10}}})};
  const auto checks = check_kernels(runs, rules);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].status, CheckStatus::kFail);
  EXPECT_EQ(checks[0].message, "missing in 1 of 2 runs");
  EXPECT_EQ(checks[0].details, std::vector<std::string>{"missing in b.json"});
  EXPECT_EQ(checks[1].status, CheckStatus::kPass);
  EXPECT_EQ(checks[1].message, "longest: Int4Gemm 10 ns (on NPU 0 / Stream 1, step 1, in a.json)");
  EXPECT_FALSE(any_failed({checks[1]}));
}

}  // namespace
}  // namespace huoyan
