#include "src/report/html_report.h"

#include <string>

#include <gtest/gtest.h>
#include <simdjson.h>

namespace huoyan {
namespace {

// A name built to escape a <script> element, run markup, and break JavaScript string literals
// (U+2028 / U+2029 were line terminators inside JS strings before ES2019).
const std::string kEvil = "</script><img src=x onerror=alert(1)>&amp;<!--\u2028\u2029";

constexpr std::string_view kTemplate =
    "<!doctype html><html><head><script type=\"module\">app()</script></head>"
    "<body><div id=\"app\"></div><!--huoyan:data--></body></html>";

// One step of one request; `kernels` distinct kernels under a host span, the first named kEvil.
struct ServingRun {
  TraceStore store;
  explicit ServingRun(int kernels) {
    const StringId req = store.intern(kEvil);
    auto w = store.writer();
    const TrackId host = w.track(100, 1);
    const TrackId dev = w.device_track(DeviceType::kNpu, 0, 3);
    Event span;
    span.kind = EventKind::kSpan;
    span.track = host;
    span.name = store.intern("forward");
    span.ts = 0;
    span.dur = 100000;
    span.step = 1;
    w.append(span);
    for (int i = 0; i < kernels; ++i) {
      Event e;
      e.kind = EventKind::kKernel;
      e.track = dev;
      e.name = store.intern(i == 0 ? kEvil : "kernel_" + std::to_string(i));
      e.ts = 10 + i * 100;
      e.dur = 90 - i % 50;
      e.step = 1;
      w.append(e);
    }
    w.add_step(Step{1, 0, 100000, host, {{req, 4}}});
  }
};

// The text between the data block's tags, as written.
std::string data_block(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"huoyan-data\">";
  const size_t a = html.find(open);
  EXPECT_NE(a, std::string::npos);
  const size_t b = html.find("</script>", a);
  EXPECT_NE(b, std::string::npos);
  return html.substr(a + open.size(), b - a - open.size());
}

std::string render(const HtmlReport& page, std::string_view tmpl = kTemplate) {
  StringSink sink;
  {
    BufferedOut out(&sink);
    EXPECT_TRUE(write_html_report(tmpl, page, out).ok());
    EXPECT_TRUE(out.flush().ok());
  }
  return sink.str();
}

TEST(ScriptSafeJson, EscapesWhatEndsOrConfusesAScriptElement) {
  EXPECT_EQ(script_safe_json(R"({"a":"</script>&"})"), R"({"a":"\u003c/script\u003e\u0026"})");
  EXPECT_EQ(script_safe_json("[\"\u2028\u2029\"]"), R"(["\u2028\u2029"])");
  EXPECT_EQ(script_safe_json("[\"火眼 \\\\<\"]"),
            "[\"火眼 \\\\\\u003c\"]");  // after an escaped '\'
  EXPECT_EQ(script_safe_json("[1,2.5e3,true,null]"), "[1,2.5e3,true,null]");
  // Other characters of the E2 80 xx range stay as they are.
  EXPECT_EQ(script_safe_json("[\"\u2026\"]"), "[\"\u2026\"]");
}

TEST(ScriptSafeJson, ParsesToTheSameValue) {
  const std::string json = "{\"name\":\"" + std::string("</script><img src=x>&\u2028") + "\"}";
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(script_safe_json(json)).get(doc), simdjson::SUCCESS);
  std::string_view name;
  ASSERT_EQ(doc["name"].get(name), simdjson::SUCCESS);
  EXPECT_EQ(name, "</script><img src=x>&\u2028");
}

TEST(HtmlReport, TraceStringsStayInsideTheDataBlock) {
  ServingRun run(3);
  AnalyzeReport report;
  report.inputs = {kEvil};
  Check c;
  c.kind = "expect";
  c.name = kEvil;
  c.status = CheckStatus::kFail;
  c.message = "no kernel named " + kEvil;
  report.checks = {c};
  HtmlReport page;
  page.report = &report;
  page.run = collect_run_view(run.store, run.store.snapshot(), kEvil, ReportLimits{});
  const std::string html = render(page);

  // The template around the block is intact, and the block is the only addition.
  const std::string block = data_block(html);
  EXPECT_EQ(html.size(),
            kTemplate.size() - kReportDataMarker.size() +
                std::string("<script type=\"application/json\" id=\"huoyan-data\">").size() +
                block.size() + std::string("</script>").size());
  for (const char* bad : {"<", ">", "&", "\u2028", "\u2029"}) {
    EXPECT_EQ(block.find(bad), std::string::npos) << bad;
  }

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(block).get(doc), simdjson::SUCCESS);
  bool passed = true;
  ASSERT_EQ(doc["report"]["passed"].get(passed), simdjson::SUCCESS);
  EXPECT_FALSE(passed);
  std::string_view s;
  ASSERT_EQ(doc["report"]["checks"].at(0)["name"].get(s), simdjson::SUCCESS);
  EXPECT_EQ(s, kEvil);
  ASSERT_EQ(doc["kernels"].at(0)["name"].get(s), simdjson::SUCCESS);
  EXPECT_EQ(s, kEvil);
  ASSERT_EQ(doc["requests"].at(0)["id"].get(s), simdjson::SUCCESS);
  EXPECT_EQ(s, kEvil);
  ASSERT_EQ(doc["run"]["source"].get(s), simdjson::SUCCESS);
  EXPECT_EQ(s, kEvil);
  simdjson::dom::array caps;
  ASSERT_EQ(doc["caps"].get(caps), simdjson::SUCCESS);
  EXPECT_EQ(caps.size(), 0u) << "a small run is shown whole";
  simdjson::dom::object findings;
  ASSERT_EQ(doc["findings"].get(findings), simdjson::SUCCESS);
  EXPECT_EQ(findings.size(), 2u);  // en and zh
}

TEST(HtmlReport, BoundedTreesAndTablesSayWhatWasCut) {
  ServingRun run(400);
  ReportLimits limits;
  limits.flame_nodes = 50;
  limits.request_flame_nodes = 20;
  limits.kernel_rows = 30;
  RunView v = collect_run_view(run.store, run.store.snapshot(), "run.json", limits);
  ASSERT_EQ(v.caps.size(), 3u);
  EXPECT_EQ(v.caps[0].what, "flame");
  EXPECT_LE(v.caps[0].kept, 50u);
  EXPECT_GT(v.caps[0].total, 400u);
  EXPECT_EQ(v.caps[1].what, "kernels");
  EXPECT_EQ(v.caps[1].kept, 30u);
  EXPECT_EQ(v.caps[1].total, 400u);
  EXPECT_EQ(v.caps[2].what, "request_flame");
  EXPECT_EQ(v.caps[2].subject, kEvil);
  EXPECT_LE(v.caps[2].kept, 20u);

  // The differential tree of a run against itself: same cut, every delta zero.
  std::vector<ReportCap> caps;
  const std::string diff = diff_flame_json(v.full_tree, v.full_tree, limits, &caps);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].what, "diff");
  EXPECT_EQ(diff.find("\"delta\":-"), std::string::npos);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(diff).get(doc), simdjson::SUCCESS);
}

TEST(HtmlReport, LongNamesAreCutAtACharacterBoundary) {
  TraceStore store;
  std::string name(99, 'x');
  for (int i = 0; i < 100; ++i) name += "火";  // 3 bytes each: the cut at 100 falls inside one
  {
    auto w = store.writer();
    Event e;
    e.kind = EventKind::kKernel;
    e.track = w.device_track(DeviceType::kGpu, 0, 7);
    e.name = store.intern(name);
    e.ts = 10;
    e.dur = 5;
    w.append(e);
  }
  ReportLimits limits;
  limits.name_bytes = 100;
  const RunView v = collect_run_view(store, store.snapshot(), "run.json", limits);
  ASSERT_EQ(v.caps.size(), 1u);
  EXPECT_EQ(v.caps[0].what, "names");
  EXPECT_EQ(v.caps[0].kept, 100u);
  EXPECT_EQ(v.caps[0].total, name.size());
  const std::string shown = "\"" + name.substr(0, 99) + "\"";  // 'x' × 99, no partial 火
  EXPECT_NE(v.kernels_json.find(shown), std::string::npos);
  EXPECT_NE(v.flame_json.find(shown), std::string::npos);
  EXPECT_EQ(v.flame_json.find(name.substr(0, 102)), std::string::npos);
  // The tree kept for a comparison still has the whole name.
  bool whole = false;
  for (const FlameNode& n : v.full_tree.nodes) whole = whole || n.name == name;
  EXPECT_TRUE(whole);
}

TEST(HtmlReport, TemplateWithoutMarkerIsAnError) {
  AnalyzeReport report;
  HtmlReport page;
  page.report = &report;
  StringSink sink;
  BufferedOut out(&sink);
  EXPECT_FALSE(write_html_report("<html></html>", page, out).ok());
  EXPECT_FALSE(write_html_report("", page, out).ok());
}

TEST(HtmlReport, WithoutRunOrBaselineTheViewsAreNull) {
  AnalyzeReport report;
  HtmlReport page;
  page.report = &report;
  const std::string block = data_block(render(page));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(block).get(doc), simdjson::SUCCESS);
  EXPECT_TRUE(doc["flame"].is_null());
  EXPECT_TRUE(doc["diff"].is_null());
  EXPECT_TRUE(doc["baseline_run"].is_null());
  simdjson::dom::array requests;
  ASSERT_EQ(doc["requests"].get(requests), simdjson::SUCCESS);
  EXPECT_EQ(requests.size(), 0u);
}

}  // namespace
}  // namespace huoyan
