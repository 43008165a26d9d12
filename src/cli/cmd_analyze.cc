// `huoyan analyze`: diagnosis plus the CI gate (expected kernels, time budgets, regression
// against a baseline). Each input file is read once into its own store, reduced to the samples
// the checks need and a diagnosis, then dropped: memory is bounded by the largest run, and the
// whole analysis runs on what one read produced. The HTML report also keeps, of the first run
// and the first baseline, the bounded views it shows (src/report/report_views.h).
#include <cstdio>
#include <functional>
#include <memory>

#include <fmt/format.h>

#include "src/analysis/diagnosis.h"
#include "src/analysis/regression.h"
#include "src/analysis/regression_report.h"
#include "src/analysis/rules.h"
#include "src/analysis/rules_check.h"
#include "src/cli/cli_common.h"
#include "src/cli/commands_analysis.h"
#include "src/io/sink.h"
#include "src/report/html_report.h"

// The report page is part of the web UI (web/); a CLI built without it writes no HTML report.
#if __has_include(<huoyan_web/assets.h>)
#include <huoyan_web/assets.h>
#define HUOYAN_HAS_WEB_ASSETS 1
#endif

namespace huoyan::cli {
namespace {

std::string_view report_template() {
#ifdef HUOYAN_HAS_WEB_ASSETS
  return web::report_template();
#else
  return {};
#endif
}

// Called with a run's store before it is dropped.
using StoreVisitor = std::function<void(const TraceStore&, const Snapshot&)>;

struct RunResult {
  RunSamples samples;
  std::vector<Finding> findings;
};

// Reads `paths` into one store and reduces it. Returns a usage-style error for unreadable or
// empty input.
Result<RunResult> read_run(const std::vector<std::string>& paths, const std::string& label,
                           const AnalysisRules& rules, bool diagnose_run,
                           std::vector<std::string>* notes, const StoreVisitor& visit = {}) {
  TraceStore store(StoreOptions{.capacity_events = SIZE_MAX / 2});
  if (Status st = load_inputs(paths, store); !st.ok()) return st;
  if (store.held() == 0) {
    return Status::Error(
        fmt::format("{}: no trace events (empty trace, or not a trace file)", label));
  }
  const Snapshot snapshot = store.snapshot();
  RunResult r;
  r.samples = collect_run_samples(store, snapshot, label);
  if (diagnose_run) r.findings = diagnose(store, snapshot, rules.diagnosis);
  if (visit) visit(store, snapshot);
  if (const std::string s = skipped_summary(store); !s.empty()) {
    notes->push_back(fmt::format("{}: {}", label, s));
  }
  return r;
}

// Greedy word wrap for --help text.
std::string wrap(const std::string& text, size_t width) {
  std::string out;
  size_t line = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(pos, end - pos);
    if (line > 0 && line + 1 + word.size() > width) {
      out += '\n';
      line = 0;
    } else if (line > 0) {
      out += ' ';
      ++line;
    }
    out += word;
    line += word.size();
    pos = end + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " + ") + x;
  return s;
}

}  // namespace

std::string analyze_help_footer() {
  return wrap(
             "Exit codes: 0 every check passed, 1 a check failed, 2 bad usage or unreadable "
             "input. Several TRACE files are several runs of the same workload (pooled for "
             "checks, one diagnosis merged); with --merge they are parts (ranks) of one run, "
             "read into one store.",
             90) +
         "\n\n" +
         wrap("Regression method: " + regression_method_text(AnalysisRules{}) +
                  " Several --baseline runs let the interval include run-to-run variation.",
              90);
}

int run_analyze(const AnalyzeArgs& args) {
  ReportFormat format = ReportFormat::kText;
  const bool html = args.format == "html";
  if (!html && !parse_report_format(args.format, &format)) {
    return fail(fmt::format("--format: expected text, json, junit, markdown or html, got '{}'",
                            args.format));
  }
  if (html && report_template().find(kReportDataMarker) == std::string_view::npos) {
    return fail("--format html: this huoyan was built without its web UI, which holds the report");
  }
  Lang lang;
  if (!parse_lang(args.lang, &lang)) {
    return fail(fmt::format("--lang: expected en or zh, got '{}'", args.lang));
  }
  AnalysisRules rules;
  if (!args.rules.empty()) {
    if (Status st = load_rules_file(args.rules, &rules); !st.ok()) return fail(st.message());
  }
  if (!args.threshold.empty()) {
    Result<int64_t> t = parse_duration_text(args.threshold);
    if (!t.ok()) return fail("--threshold: " + t.status().message());
    rules.threshold_ns = *t;
  }
  if (!args.max_regression.empty()) {
    Result<double> m = parse_percent_text(args.max_regression);
    if (!m.ok()) return fail("--max-regression: " + m.status().message());
    rules.max_regression = *m;
  }
  for (const std::string& e : args.expect) {
    Result<NamePattern> p = NamePattern::parse(e);
    if (!p.ok()) return fail("--expect: " + p.status().message());
    rules.expect.push_back(std::move(*p));
  }
  if (args.inputs.empty()) return fail("no input trace");

  // Open the output before the (long) analysis so a bad path fails fast.
  std::unique_ptr<Sink> sink;
  const bool to_stdout = args.output.empty() || args.output == "-";
  {
    Result<std::unique_ptr<Sink>> s = open_file_sink(to_stdout ? "-" : args.output);
    if (!s.ok()) return fail(s.status().message());
    sink = std::move(*s);
  }

  AnalyzeReport report;
  report.lang = lang;
  report.inputs = args.inputs;
  report.baselines = args.baseline;
  std::vector<RunSamples> runs;
  std::vector<std::vector<Finding>> findings;
  std::vector<std::vector<std::string>> groups;
  if (args.merge) {
    groups.push_back(args.inputs);
  } else {
    for (const auto& p : args.inputs) groups.push_back({p});
  }
  HtmlReport page;
  page.report = &report;
  const ReportLimits limits;
  for (const auto& g : groups) {
    StoreVisitor visit;
    if (html && !page.run) {
      visit = [&](const TraceStore& store, const Snapshot& snapshot) {
        page.run = collect_run_view(store, snapshot, join(g), limits);
      };
    }
    Result<RunResult> r = read_run(g, join(g), rules, !args.no_diagnosis, &report.notes, visit);
    if (!r.ok()) return fail(r.status().message());
    runs.push_back(std::move(r->samples));
    findings.push_back(std::move(r->findings));
  }
  report.diagnosed = !args.no_diagnosis;
  if (report.diagnosed) report.findings = merge_run_findings(findings);
  report.checks = check_kernels(runs, rules);

  if (!args.baseline.empty()) {
    std::vector<RunSamples> base;
    for (const auto& p : args.baseline) {
      StoreVisitor visit;
      if (html && page.baseline_source.empty() && page.run) {
        visit = [&](const TraceStore& store, const Snapshot& snapshot) {
          page.baseline_source = p;
          page.baseline_events = store.held();
          page.diff_json = diff_flame_json(full_flame_tree(store, snapshot), page.run->full_tree,
                                           limits, &page.caps);
          page.run->full_tree = {};  // no longer needed
        };
      }
      Result<RunResult> r = read_run({p}, p, rules, false, &report.notes, visit);
      if (!r.ok()) return fail("baseline " + r.status().message());
      base.push_back(std::move(r->samples));
    }
    RegressionResult reg = compare_runs(base, runs, rules);
    for (Check& c : regression_checks(reg, rules)) report.checks.push_back(std::move(c));
    report.regression = std::move(reg);
    report.method = regression_method_text(rules);
  }

  if (html && groups.size() > 1) page.caps.push_back({"runs", 1, groups.size(), join(groups[0])});
  if (html && args.baseline.size() > 1) {
    page.caps.push_back({"baselines", 1, args.baseline.size(), args.baseline[0]});
  }
  {
    BufferedOut out(sink.get());
    if (html) {
      if (Status st = write_html_report(report_template(), page, out); !st.ok()) {
        return fail(st.message());
      }
    } else {
      write_report(report, format, out);
    }
    if (Status st = out.flush(); !st.ok()) return fail(st.message());
  }
  if (Status st = sink->finish(); !st.ok()) return fail(st.message());
  if (!to_stdout) {
    size_t failed = 0;
    for (const auto& c : report.checks) failed += c.status == CheckStatus::kFail ? 1 : 0;
    std::fprintf(stderr,
                 "huoyan analyze: %s (%zu of %zu checks failed, %zu findings; report in %s)\n",
                 report.passed() ? "passed" : "FAILED", failed, report.checks.size(),
                 report.findings.size(), args.output.c_str());
  }
  return report.passed() ? kExitOk : kExitCheckFailed;
}

}  // namespace huoyan::cli
