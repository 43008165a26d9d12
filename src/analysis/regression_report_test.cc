#include "src/analysis/regression_report.h"

#include <gtest/gtest.h>
#include <simdjson.h>

namespace huoyan {
namespace {

std::string render(const AnalyzeReport& r, ReportFormat f) {
  StringSink sink;
  {
    BufferedOut out(&sink);
    write_report(r, f, out);
    EXPECT_TRUE(out.flush().ok());
  }
  return sink.str();
}

AnalyzeReport sample_report() {
  AnalyzeReport r;
  r.inputs = {"trace.json"};
  Check pass;
  pass.kind = "expect";
  pass.name = "Int4Gemm";
  pass.message = "found: 3 instances";
  Check failed;
  failed.kind = "threshold";
  failed.name = "every kernel instance <= 50 ns";
  failed.status = CheckStatus::kFail;
  failed.message = "1 instance over 50 ns: longest A<B>&\"C'|D 70 ns";
  failed.details = {"A<B>&\"C'|D: 1 of 3 instances over, max 70 ns"};
  Check skipped;
  skipped.kind = "budget";
  skipped.name = "Softmax";
  skipped.status = CheckStatus::kSkip;
  skipped.message = "no kernel matches";
  r.checks = {pass, failed, skipped};
  Finding f;
  f.id = "dominant-kernel";
  f.subject = "Int4Gemm";
  f.severity = Severity::kCritical;
  f.title = {"Int4Gemm takes 72% of device time", "Int4Gemm 占设备时间的 72%"};
  f.cause = {"cause", "原因文本"};
  f.suggestion = {"suggestion", "建议文本"};
  f.saved_ns = 1500;
  f.evidence = {Evidence::Double("share", 0.72), Evidence::Int("group_size", 32)};
  r.findings = {f};
  return r;
}

TEST(XmlEscape, SpecialsControlsAndInvalidUtf8) {
  EXPECT_EQ(xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(xml_escape("tab\tnl\ncr\r"), "tab\tnl\ncr\r");
  EXPECT_EQ(xml_escape(std::string("x\x01y\x1Fz", 5)), "x\xEF\xBF\xBDy\xEF\xBF\xBDz");
  EXPECT_EQ(xml_escape("火眼"), "火眼");
  EXPECT_EQ(xml_escape("bad\xC3(\xFF"), "bad\xEF\xBF\xBD(\xEF\xBF\xBD");
  EXPECT_EQ(xml_escape("\xEF\xBF\xBF"), "\xEF\xBF\xBD");
}

TEST(Report, JunitOneTestcasePerCheck) {
  const std::string x = render(sample_report(), ReportFormat::kJunit);
  EXPECT_EQ(x.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites ", 0), 0u);
  EXPECT_NE(x.find(R"(tests="3" failures="1" errors="0" skipped="1")"), std::string::npos);
  EXPECT_NE(x.find(R"(<testcase classname="huoyan.expect" name="Int4Gemm" time="0">)"),
            std::string::npos);
  EXPECT_NE(x.find("<failure message=\"1 instance over 50 ns: longest "
                   "A&lt;B&gt;&amp;&quot;C&apos;|D 70 ns\" type=\"threshold\">"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find(R"(<skipped message="no kernel matches"/>)"), std::string::npos);
  EXPECT_NE(x.find("1. [critical] Int4Gemm takes 72% of device time"), std::string::npos);
  size_t cases = 0;
  for (size_t p = x.find("<testcase "); p != std::string::npos; p = x.find("<testcase ", p + 1)) {
    ++cases;
  }
  EXPECT_EQ(cases, 3u);
}

TEST(Report, JsonParsesAndCarriesEverything) {
  AnalyzeReport r = sample_report();
  r.lang = Lang::kZh;
  const std::string j = render(r, ReportFormat::kJson);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(j).get(doc), simdjson::SUCCESS) << j;
  EXPECT_FALSE(bool(doc["passed"].get_bool()));
  EXPECT_EQ(uint64_t(doc["summary"]["failed"].get_uint64()), 1u);
  EXPECT_EQ(std::string_view(doc["checks"].at(1)["status"].get_string()), "fail");
  EXPECT_TRUE(doc["regression"].is_null());
  EXPECT_EQ(std::string_view(doc["findings"].at(0)["title"].get_string()),
            "Int4Gemm 占设备时间的 72%");
}

TEST(Report, TextAndMarkdown) {
  AnalyzeReport r = sample_report();
  std::string t = render(r, ReportFormat::kText);
  EXPECT_EQ(t.rfind("huoyan analyze: FAILED: 1 of 3 checks failed\n", 0), 0u) << t;
  EXPECT_NE(t.find("  FAIL  threshold"), std::string::npos);
  EXPECT_NE(t.find("     saving: ~1.500 us\n"), std::string::npos) << t;
  EXPECT_NE(t.find("evidence: share=0.72, group_size=32"), std::string::npos);
  r.lang = Lang::kZh;
  t = render(r, ReportFormat::kText);
  EXPECT_NE(t.find("原因: 原因文本"), std::string::npos) << t;
  const std::string m = render(r, ReportFormat::kMarkdown);
  EXPECT_NE(m.find("| ❌ | threshold | `every kernel instance <= 50 ns` | 1 instance over 50 ns: "
                   "longest A<B>&\"C'\\|D 70 ns<br>"),
            std::string::npos)
      << m;
  ReportFormat f;
  EXPECT_TRUE(parse_report_format("junit", &f));
  EXPECT_EQ(f, ReportFormat::kJunit);
  EXPECT_FALSE(parse_report_format("xml", &f));
}

TEST(Report, NoChecksPasses) {
  AnalyzeReport r;
  r.inputs = {"t.json"};
  EXPECT_TRUE(r.passed());
  EXPECT_EQ(
      render(r, ReportFormat::kText).rfind("huoyan analyze: PASSED: no checks requested\n", 0), 0u);
  const std::string x = render(r, ReportFormat::kJunit);
  EXPECT_NE(x.find(R"(tests="0" failures="0")"), std::string::npos);
}

}  // namespace
}  // namespace huoyan
