// `huoyan analyze --format html` through the real binary (HUOYAN_BIN): the same verdict, checks
// and exit codes as the other formats, one self-contained file, and the usual failures (exit 2,
// no file left behind) for bad output paths and inputs.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "src/cli/cli_test_util.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(HUOYAN_SOURCE_DIR) / "tests/golden_analyze/data";
const fs::path kReal = HUOYAN_TESTDATA_REAL;

class CliAnalyzeHtml : public CliTest {
 protected:
  CliAnalyzeHtml() : CliTest("cli_analyze_html") {}
  CliOutcome analyze(const std::string& args) {
    return run_command("cd '" + kData.string() + "' && '" + bin_ + "' analyze " + args);
  }
  std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  // The JSON of the page's data block.
  static std::string data_of(const std::string& html) {
    const std::string open = "<script type=\"application/json\" id=\"huoyan-data\">";
    const size_t a = html.find(open);
    if (a == std::string::npos) return "";
    const size_t b = html.find("</script>", a);
    return html.substr(a + open.size(), b - a - open.size());
  }
};

TEST_F(CliAnalyzeHtml, SameVerdictChecksAndExitCodeAsJson) {
  for (const std::string gate : {"slow.json --baseline base.json --expect Int4Gemm",
                                 "same.json --baseline base.json --expect Int4Gemm"}) {
    const std::string html_path = (dir_ / "r.html").string();
    const CliOutcome json = analyze(gate + " --format json");
    const CliOutcome html = analyze(gate + " --format html -o '" + html_path + "'");
    ASSERT_TRUE(json.code == 0 || json.code == 1) << json.err;
    EXPECT_EQ(html.code, json.code) << gate << "\n" << html.err;
    EXPECT_NE(html.err.find("report in " + html_path), std::string::npos) << html.err;

    const std::string page = read(html_path);
    EXPECT_EQ(page.rfind("<!doctype html>", 0), 0u);
    simdjson::dom::parser p1, p2;
    simdjson::dom::element want, got;
    ASSERT_EQ(p1.parse(json.out).get(want), simdjson::SUCCESS);
    ASSERT_EQ(p2.parse(data_of(page)).get(got), simdjson::SUCCESS) << gate;
    // The embedded report is the JSON report itself.
    EXPECT_EQ(simdjson::minify(got["report"]), simdjson::minify(want)) << gate;
    EXPECT_FALSE(got["flame"].is_null());
    EXPECT_FALSE(got["diff"].is_null()) << "a baseline gives the differential flame graph";
    simdjson::dom::array requests;
    ASSERT_EQ(got["requests"].get(requests), simdjson::SUCCESS);
    EXPECT_GT(requests.size(), 0u);
  }
}

TEST_F(CliAnalyzeHtml, WithoutBaselineThereIsNoDiff) {
  const CliOutcome r = analyze("base.json --format html");  // to stdout
  ASSERT_EQ(r.code, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(data_of(r.out)).get(doc), simdjson::SUCCESS);
  EXPECT_TRUE(doc["diff"].is_null());
  EXPECT_TRUE(doc["baseline_run"].is_null());
  EXPECT_FALSE(doc["kernels"].is_null());
}

TEST_F(CliAnalyzeHtml, NoRequestInThePage) {
  const CliOutcome r = analyze("slow.json --baseline base.json --format html");
  ASSERT_EQ(r.code, 1) << r.err;  // Int4Gemm is slower
  // Everything is inline: no script, style, image or font is loaded from anywhere.
  for (const char* ref : {"src=\"", "href=\"http", "href=\"./", "@import", "url(http"}) {
    EXPECT_EQ(r.out.find(ref), std::string::npos) << ref;
  }
  EXPECT_NE(r.out.find("default-src 'none'"), std::string::npos) << "CSP forbids loading";
}

TEST_F(CliAnalyzeHtml, SeveralRunsAndBaselinesAreNamedAsCut) {
  const CliOutcome r =
      analyze("slow.json same.json --baseline base.json --baseline same.json --format html");
  ASSERT_TRUE(r.code == 0 || r.code == 1) << r.err;
  const std::string data = data_of(r.out);
  EXPECT_NE(data.find(R"({"what":"runs","kept":1,"total":2,"subject":"slow.json"})"),
            std::string::npos);
  EXPECT_NE(data.find(R"({"what":"baselines","kept":1,"total":2,"subject":"base.json"})"),
            std::string::npos);
}

TEST_F(CliAnalyzeHtml, RealKinetoTraceWithLongTemplateNames) {
  const fs::path trace = kReal / "kineto/hta/tests/data/timeline_analysis/sampled_rank-0.json";
  ASSERT_TRUE(fs::exists(trace)) << trace << ": the shared real-trace collection is missing";
  const CliOutcome r = analyze("'" + trace.string() + "' --format html");
  ASSERT_EQ(r.code, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(data_of(r.out)).get(doc), simdjson::SUCCESS);
  simdjson::dom::array kernels;
  ASSERT_EQ(doc["kernels"].get(kernels), simdjson::SUCCESS);
  EXPECT_GT(kernels.size(), 100u);
  for (simdjson::dom::element k : kernels) {
    std::string_view name;
    ASSERT_EQ(k["name"].get(name), simdjson::SUCCESS);
    EXPECT_LE(name.size(), 512u);
  }
  // Its CUTLASS-style kernel names run to about 2 kB: the page says they were cut.
  EXPECT_NE(data_of(r.out).find(R"({"what":"names","kept":512,)"), std::string::npos);
  EXPECT_LT(r.out.size(), size_t{1} << 20);
}

TEST_F(CliAnalyzeHtml, BadOutputOrInputIsExit2WithoutAFile) {
  CliOutcome r = analyze("base.json --format html -o /nonexistent-dir/report.html");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("huoyan: ", 0), 0u) << r.err;
  EXPECT_TRUE(r.out.empty());

  r = analyze("base.json --format html -o '" + dir_.string() + "'");  // a directory
  EXPECT_EQ(r.code, 2) << r.err;

  const fs::path out = dir_ / "report.html";
  r = analyze("missing.json --format html -o '" + out.string() + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_FALSE(fs::exists(out)) << "no partial report";
  r = analyze("empty.json --format html -o '" + out.string() + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_FALSE(fs::exists(out));
  r = analyze("base.json --baseline missing.json --format html -o '" + out.string() + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_FALSE(fs::exists(out));
  r = analyze("base.json --format htm");
  EXPECT_EQ(r.code, 2);
}

}  // namespace
}  // namespace huoyan
