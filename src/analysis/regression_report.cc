#include "src/analysis/regression_report.h"

#include <cmath>

#include <fmt/format.h>

#include "src/analysis/diagnosis_json.h"
#include "src/writers/json_out.h"

namespace huoyan {

bool parse_report_format(std::string_view s, ReportFormat* format) {
  if (s == "text") {
    *format = ReportFormat::kText;
  } else if (s == "json") {
    *format = ReportFormat::kJson;
  } else if (s == "junit") {
    *format = ReportFormat::kJunit;
  } else if (s == "markdown" || s == "md") {
    *format = ReportFormat::kMarkdown;
  } else {
    return false;
  }
  return true;
}

void write_report(const AnalyzeReport& report, ReportFormat format, BufferedOut& out) {
  switch (format) {
    case ReportFormat::kText:
      write_report_text(report, out);
      break;
    case ReportFormat::kJson:
      write_report_json(report, out);
      break;
    case ReportFormat::kJunit:
      write_report_junit(report, out);
      break;
    case ReportFormat::kMarkdown:
      write_report_markdown(report, out);
      break;
  }
}

namespace {

struct Counts {
  size_t total = 0;
  size_t failed = 0;
  size_t skipped = 0;
};

Counts count(const std::vector<Check>& checks) {
  Counts c;
  c.total = checks.size();
  for (const auto& k : checks) {
    if (k.status == CheckStatus::kFail) ++c.failed;
    if (k.status == CheckStatus::kSkip) ++c.skipped;
  }
  return c;
}

std::string evidence_value(const Evidence& e) {
  switch (e.type) {
    case Evidence::Type::kInt:
      return std::to_string(e.i);
    case Evidence::Type::kDouble:
      return fmt::format("{:.4g}", e.d);
    case Evidence::Type::kString:
      return e.s;
  }
  return "";
}

std::string evidence_line(const Finding& f) {
  std::string s;
  for (const auto& e : f.evidence) {
    s += fmt::format("{}{}={}", s.empty() ? "" : ", ", e.key, evidence_value(e));
  }
  return s;
}

struct Labels {
  const char* diagnosis;
  const char* none;
  const char* cause;
  const char* suggestion;
  const char* saving;
  const char* evidence;
};

const Labels& labels(Lang lang) {
  static const Labels en{"diagnosis (ranked by severity, then estimated saving)",
                         "no findings",
                         "cause",
                         "suggestion",
                         "saving",
                         "evidence"};
  static const Labels zh{
      "诊断(按严重程度、再按预计节省时间排序)", "未发现问题", "原因", "建议", "预计节省", "证据"};
  return lang == Lang::kZh ? zh : en;
}

// Severity as shown to people (JSON keeps the identifiers).
std::string_view severity_label(Severity s, Lang lang) {
  if (lang == Lang::kEn) return severity_name(s);
  switch (s) {
    case Severity::kInfo:
      return "提示";
    case Severity::kWarning:
      return "警告";
    case Severity::kCritical:
      return "严重";
  }
  return "";
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

std::string headline(const AnalyzeReport& r) {
  const Counts c = count(r.checks);
  if (c.total == 0) return "PASSED: no checks requested";
  if (c.failed > 0) {
    return fmt::format("FAILED: {} of {} checks failed", c.failed, c.total);
  }
  return fmt::format("PASSED: {} checks passed{}", c.total - c.skipped,
                     c.skipped > 0 ? fmt::format(", {} skipped", c.skipped) : "");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Text

void write_report_text(const AnalyzeReport& r, BufferedOut& out) {
  out.put(fmt::format("huoyan analyze: {}\n", headline(r)));
  out.put(fmt::format("inputs: {}\n", join(r.inputs, ", ")));
  if (!r.baselines.empty()) out.put(fmt::format("baseline: {}\n", join(r.baselines, ", ")));
  if (!r.checks.empty()) {
    out.put("\nchecks\n");
    size_t kind_w = 0;
    size_t name_w = 0;
    for (const auto& c : r.checks) {
      kind_w = std::max(kind_w, c.kind.size());
      name_w = std::max(name_w, std::min<size_t>(c.name.size(), 40));
    }
    for (const auto& c : r.checks) {
      const char* status = c.status == CheckStatus::kFail   ? "FAIL"
                           : c.status == CheckStatus::kSkip ? "SKIP"
                                                            : "PASS";
      out.put(fmt::format("  {}  {:<{}}  {:<{}}  {}\n", status, c.kind, kind_w, c.name, name_w,
                          c.message));
      for (const auto& d : c.details) out.put(fmt::format("        {}\n", d));
    }
  }
  if (r.regression) {
    if (!r.regression->new_kernels.empty()) {
      out.put(fmt::format("new kernels: {}\n", join(r.regression->new_kernels, ", ")));
    }
    if (!r.regression->vanished_kernels.empty()) {
      out.put(fmt::format("vanished kernels: {}\n", join(r.regression->vanished_kernels, ", ")));
    }
  }
  const Labels& l = labels(r.lang);
  if (r.diagnosed) out.put(fmt::format("\n{}\n", l.diagnosis));
  if (r.diagnosed && r.findings.empty()) out.put(fmt::format("  {}\n", l.none));
  for (size_t i = 0; i < r.findings.size(); ++i) {
    const Finding& f = r.findings[i];
    out.put(fmt::format("  {}. [{}] {}\n", i + 1, severity_label(f.severity, r.lang),
                        f.title.in(r.lang)));
    out.put(fmt::format("     {}: {}\n", l.cause, f.cause.in(r.lang)));
    out.put(fmt::format("     {}: {}\n", l.suggestion, f.suggestion.in(r.lang)));
    if (f.saved_ns > 0) out.put(fmt::format("     {}: ~{}\n", l.saving, format_ns(f.saved_ns)));
    out.put(fmt::format("     {}: {}\n", l.evidence, evidence_line(f)));
  }
  for (const auto& n : r.notes) out.put(fmt::format("\nnote: {}\n", n));
  if (!r.method.empty()) out.put(fmt::format("\nmethod: {}\n", r.method));
}

// ---------------------------------------------------------------------------------------------
// JSON

namespace {

void json_strings(BufferedOut& out, const std::vector<std::string>& v) {
  out.put('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out.put(',');
    json_string(out, v[i]);
  }
  out.put(']');
}

void json_comparison(BufferedOut& out, const Comparison& c) {
  out.put("{\"metric\":");
  json_string(out, c.metric);
  out.put(",\"unit\":");
  json_string(out, c.unit);
  out.put(",\"higher_is_better\":");
  out.put(c.higher_is_better ? "true" : "false");
  out.put(",\"base\":");
  json_double(out, c.base_value);
  out.put(",\"new\":");
  json_double(out, c.new_value);
  out.put(",\"base_samples\":");
  json_uint(out, c.base_samples);
  out.put(",\"new_samples\":");
  json_uint(out, c.new_samples);
  out.put(",\"ratio\":");
  json_double(out, c.ratio.ratio);
  out.put(",\"ratio_low\":");
  json_double(out, c.ratio.low);
  out.put(",\"ratio_high\":");
  json_double(out, c.ratio.high);
  out.put(",\"regression\":");
  json_double(out, c.regression);
  out.put(",\"regression_low\":");
  json_double(out, c.regression_low);
  out.put(",\"regression_high\":");
  json_double(out, c.regression_high);
  out.put(",\"limit\":");
  json_double(out, c.limit);
  out.put(",\"verdict\":");
  json_string(out, verdict_name(c.verdict));
  out.put('}');
}

}  // namespace

void write_report_json(const AnalyzeReport& r, BufferedOut& out) {
  const Counts c = count(r.checks);
  out.put("{\"passed\":");
  out.put(r.passed() ? "true" : "false");
  out.put(",\"summary\":{\"checks\":");
  json_uint(out, c.total);
  out.put(",\"failed\":");
  json_uint(out, c.failed);
  out.put(",\"skipped\":");
  json_uint(out, c.skipped);
  out.put("},\n\"inputs\":");
  json_strings(out, r.inputs);
  out.put(",\"baselines\":");
  json_strings(out, r.baselines);
  out.put(",\n\"checks\":[");
  for (size_t i = 0; i < r.checks.size(); ++i) {
    const Check& k = r.checks[i];
    out.put(i > 0 ? ",\n  " : "\n  ");
    out.put("{\"kind\":");
    json_string(out, k.kind);
    out.put(",\"name\":");
    json_string(out, k.name);
    out.put(",\"status\":");
    json_string(out, check_status_name(k.status));
    out.put(",\"message\":");
    json_string(out, k.message);
    out.put(",\"details\":");
    json_strings(out, k.details);
    out.put('}');
  }
  out.put(r.checks.empty() ? "]" : "\n]");
  out.put(",\n\"regression\":");
  if (!r.regression) {
    out.put("null");
  } else {
    const RegressionResult& g = *r.regression;
    out.put("{\"basis\":");
    json_string(out, g.throughput_basis);
    out.put(",\"throughput\":");
    if (g.throughput) {
      json_comparison(out, *g.throughput);
    } else {
      out.put("null");
    }
    out.put(",\"request_tokens_per_s\":{\"base\":");
    if (g.base_request_tokens_per_s) {
      json_double(out, *g.base_request_tokens_per_s);
    } else {
      out.put("null");
    }
    out.put(",\"new\":");
    if (g.new_request_tokens_per_s) {
      json_double(out, *g.new_request_tokens_per_s);
    } else {
      out.put("null");
    }
    out.put("},\"kernels\":[");
    for (size_t i = 0; i < g.kernels.size(); ++i) {
      out.put(i > 0 ? ",\n  " : "\n  ");
      json_comparison(out, g.kernels[i]);
    }
    out.put(g.kernels.empty() ? "]" : "\n]");
    out.put(",\"new_kernels\":");
    json_strings(out, g.new_kernels);
    out.put(",\"vanished_kernels\":");
    json_strings(out, g.vanished_kernels);
    out.put(",\"resamples\":");
    json_uint(out, g.resamples);
    out.put(",\"confidence\":");
    json_double(out, g.confidence);
    out.put(",\"method\":");
    json_string(out, r.method);
    out.put('}');
  }
  out.put(",\n\"diagnosed\":");
  out.put(r.diagnosed ? "true" : "false");
  out.put(",\n\"findings\":[");
  for (size_t i = 0; i < r.findings.size(); ++i) {
    out.put(i > 0 ? ",\n  " : "\n  ");
    write_finding_json(r.findings[i], r.lang, out);
  }
  out.put(r.findings.empty() ? "]" : "\n]");
  out.put(",\n\"notes\":");
  json_strings(out, r.notes);
  out.put("}\n");
}

// ---------------------------------------------------------------------------------------------
// JUnit XML

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&apos;";
          break;
        case '\t':
        case '\n':
        case '\r':
          out += static_cast<char>(c);
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out += kReplacement;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    const std::string_view seq = s.substr(i, len);
    if (len > 1 && seq.size() == len && is_valid_utf8(seq)) {
      // U+FFFE and U+FFFF are not XML characters either.
      if (seq == "\xEF\xBF\xBE" || seq == "\xEF\xBF\xBF") {
        out += kReplacement;
      } else {
        out += seq;
      }
      i += len;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

void write_report_junit(const AnalyzeReport& r, BufferedOut& out) {
  const Counts c = count(r.checks);
  const std::string totals = fmt::format(R"(tests="{}" failures="{}" errors="0" skipped="{}")",
                                         c.total, c.failed, c.skipped);
  out.put("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  out.put(fmt::format("<testsuites name=\"huoyan analyze\" {} time=\"0\">\n", totals));
  out.put(fmt::format("  <testsuite name=\"huoyan analyze\" {} time=\"0\">\n", totals));
  for (const auto& k : r.checks) {
    out.put(fmt::format("    <testcase classname=\"huoyan.{}\" name=\"{}\" time=\"0\">\n",
                        xml_escape(k.kind), xml_escape(k.name)));
    std::string body = k.message;
    for (const auto& d : k.details) body += "\n" + d;
    if (k.status == CheckStatus::kFail) {
      out.put(fmt::format("      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                          xml_escape(k.message), xml_escape(k.kind), xml_escape(body)));
    } else if (k.status == CheckStatus::kSkip) {
      out.put(fmt::format("      <skipped message=\"{}\"/>\n", xml_escape(k.message)));
    } else {
      out.put(fmt::format("      <system-out>{}</system-out>\n", xml_escape(body)));
    }
    out.put("    </testcase>\n");
  }
  // The diagnosis and the method travel in the suite's output: shown by GitLab and Jenkins
  // without turning findings into failures.
  StringSink text;
  {
    BufferedOut t(&text);
    const Labels& l = labels(r.lang);
    if (r.diagnosed) t.put(fmt::format("{}\n", l.diagnosis));
    if (r.diagnosed && r.findings.empty()) t.put(fmt::format("  {}\n", l.none));
    for (size_t i = 0; i < r.findings.size(); ++i) {
      const Finding& f = r.findings[i];
      t.put(fmt::format("{}. [{}] {}\n   {}: {}\n   {}: {}\n", i + 1,
                        severity_label(f.severity, r.lang), f.title.in(r.lang), l.cause,
                        f.cause.in(r.lang), l.suggestion, f.suggestion.in(r.lang)));
      if (f.saved_ns > 0) t.put(fmt::format("   {}: ~{}\n", l.saving, format_ns(f.saved_ns)));
    }
    for (const auto& n : r.notes) t.put(fmt::format("note: {}\n", n));
    if (!r.method.empty()) t.put(fmt::format("method: {}\n", r.method));
    t.flush();
  }
  out.put(fmt::format("    <system-out>{}</system-out>\n", xml_escape(text.str())));
  out.put("  </testsuite>\n</testsuites>\n");
}

// ---------------------------------------------------------------------------------------------
// Markdown

namespace {

// One table cell: pipes escaped, line breaks flattened.
std::string md_cell(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|') {
      out += "\\|";
    } else if (ch == '\n' || ch == '\r') {
      out += ' ';
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace

void write_report_markdown(const AnalyzeReport& r, BufferedOut& out) {
  out.put(fmt::format("## huoyan analyze: {} {}\n\n", r.passed() ? "✅" : "❌", headline(r)));
  out.put(fmt::format("Inputs: {}", md_cell(join(r.inputs, ", "))));
  if (!r.baselines.empty())
    out.put(fmt::format(" · baseline: {}", md_cell(join(r.baselines, ", "))));
  out.put("\n\n");
  if (!r.checks.empty()) {
    out.put("| | check | name | result |\n|---|---|---|---|\n");
    for (const auto& k : r.checks) {
      const char* mark = k.status == CheckStatus::kFail   ? "❌"
                         : k.status == CheckStatus::kSkip ? "⏭️"
                                                          : "✅";
      std::string result = md_cell(k.message);
      for (const auto& d : k.details) result += "<br>" + md_cell(d);
      out.put(fmt::format("| {} | {} | `{}` | {} |\n", mark, k.kind, md_cell(k.name), result));
    }
    out.put("\n");
  }
  const Labels& l = labels(r.lang);
  if (r.diagnosed) out.put(fmt::format("### {}\n\n", l.diagnosis));
  if (r.diagnosed && r.findings.empty()) out.put(fmt::format("{}\n\n", l.none));
  for (size_t i = 0; i < r.findings.size(); ++i) {
    const Finding& f = r.findings[i];
    out.put(fmt::format("{}. **{}** — {}\n", i + 1, severity_label(f.severity, r.lang),
                        f.title.in(r.lang)));
    out.put(fmt::format("   - {}: {}\n", l.cause, f.cause.in(r.lang)));
    out.put(fmt::format("   - {}: {}\n", l.suggestion, f.suggestion.in(r.lang)));
    if (f.saved_ns > 0) out.put(fmt::format("   - {}: ~{}\n", l.saving, format_ns(f.saved_ns)));
  }
  if (!r.findings.empty()) out.put("\n");
  for (const auto& n : r.notes) out.put(fmt::format("> {}\n\n", n));
  if (!r.method.empty()) {
    out.put(fmt::format("<details><summary>Method</summary>\n\n{}\n\n</details>\n", r.method));
  }
}

}  // namespace huoyan
