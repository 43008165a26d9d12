// The report of `huoyan analyze` (the CI gate) and its four encodings: text for terminals and
// CI logs, JSON for scripts, JUnit XML for GitLab/Jenkins test reports, Markdown for merge
// request comments and GitHub job summaries. Output is deterministic (no timestamps) so it can
// be compared against golden files.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "src/analysis/diagnosis.h"
#include "src/analysis/regression.h"
#include "src/analysis/rules_check.h"
#include "src/io/sink.h"

namespace huoyan {

struct AnalyzeReport {
  std::vector<std::string> inputs;
  std::vector<std::string> baselines;
  std::vector<Check> checks;
  std::optional<RegressionResult> regression;
  bool diagnosed = true;           // false: diagnosis was not run (--no-diagnosis)
  std::vector<Finding> findings;   // ranked
  std::string method;              // regression method text; "" without a baseline
  std::vector<std::string> notes;  // skipped-event summaries and similar remarks
  Lang lang = Lang::kEn;

  bool passed() const { return !any_failed(checks); }
};

enum class ReportFormat { kText, kJson, kJunit, kMarkdown };
bool parse_report_format(std::string_view s, ReportFormat* format);

void write_report(const AnalyzeReport& report, ReportFormat format, BufferedOut& out);

void write_report_text(const AnalyzeReport& report, BufferedOut& out);
void write_report_json(const AnalyzeReport& report, BufferedOut& out);
void write_report_junit(const AnalyzeReport& report, BufferedOut& out);
void write_report_markdown(const AnalyzeReport& report, BufferedOut& out);

// XML 1.0 text/attribute escaping: & < > " ' escaped, characters XML forbids (C0 controls other
// than tab, LF, CR) replaced by U+FFFD, and so are bytes that are not valid UTF-8.
std::string xml_escape(std::string_view s);

}  // namespace huoyan
