// `huoyan analyze --format html`: one self-contained HTML file, the CI artifact a reader opens
// from disk. The page is the report UI of web/ (its scripts and styles already inlined in the
// template, web/vite.report.config.js); this writer only splices the report's data into it, as
// one JSON block:
//
//   <script type="application/json" id="huoyan-data">{"format":1,"report":…}</script>
//
// so the page never fetches anything. Every string of the data comes from traces and is
// untrusted: the JSON is escaped for a <script> element (script_safe_json) and the page
// renders it as text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/analysis/regression_report.h"
#include "src/core/status.h"
#include "src/io/sink.h"
#include "src/report/report_views.h"

namespace huoyan {

// Where the data goes in the template.
inline constexpr std::string_view kReportDataMarker = "<!--huoyan:data-->";

struct HtmlReport {
  const AnalyzeReport* report = nullptr;  // checks, regression, findings (both languages)
  std::optional<RunView> run;             // views of the first run; absent if none was read
  std::string baseline_source;            // "" without a baseline
  uint64_t baseline_events = 0;
  std::string diff_json;        // differential flame graph, "" without a baseline
  std::vector<ReportCap> caps;  // cuts beyond those of `run`
};

// JSON made safe inside <script>…</script>: '<', '>' and '&' become \u003c, \u003e and
// \u0026, U+2028 and U+2029 become \u2028 and \u2029. These characters only occur inside
// JSON strings, where the escapes mean the same, so the text still parses to the same value;
// and no "</script", "<!--" or line separator remains to end or confuse the element.
std::string script_safe_json(std::string_view json);

// The report's data as one JSON document (what the page reads).
std::string html_report_json(const HtmlReport& report);

// Writes `html_template` with the data block at kReportDataMarker. Fails when the template
// lacks the marker (a build without the report UI).
Status write_html_report(std::string_view html_template, const HtmlReport& report,
                         BufferedOut& out);

}  // namespace huoyan
