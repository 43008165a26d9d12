#include "src/report/html_report.h"

#include "src/analysis/diagnosis_json.h"
#include "src/writers/json_out.h"

namespace huoyan {
namespace {

void raw_or_null(BufferedOut& out, std::string_view json) {
  out.put(json.empty() ? std::string_view("null") : json);
}

void source_json(BufferedOut& out, std::string_view source, uint64_t events) {
  out.put("{\"source\":");
  json_string(out, source);
  out.put(",\"events\":");
  json_uint(out, events);
  out.put('}');
}

void caps_json(BufferedOut& out, const std::vector<const ReportCap*>& caps) {
  out.put('[');
  for (size_t i = 0; i < caps.size(); ++i) {
    if (i > 0) out.put(',');
    out.put("{\"what\":");
    json_string(out, caps[i]->what);
    out.put(",\"kept\":");
    json_uint(out, caps[i]->kept);
    out.put(",\"total\":");
    json_uint(out, caps[i]->total);
    out.put(",\"subject\":");
    json_string(out, caps[i]->subject);
    out.put('}');
  }
  out.put(']');
}

}  // namespace

std::string script_safe_json(std::string_view json) {
  std::string out;
  out.reserve(json.size() + json.size() / 16);
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < json.size() && json[i + 1] == '\x80' &&
               (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
      out += json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string html_report_json(const HtmlReport& h) {
  StringSink sink;
  {
    BufferedOut out(&sink, size_t{1} << 16);
    const AnalyzeReport& r = *h.report;
    out.put("{\"format\":1,\"generator\":");
    json_string(out, "huoyan " HUOYAN_VERSION);
    out.put(",\"lang\":");
    json_string(out, r.lang == Lang::kZh ? "zh" : "en");
    out.put(",\n\"report\":");
    write_report_json(r, out);
    out.put(",\n\"findings\":{\"en\":");
    write_findings_json(r.findings, Lang::kEn, out);
    out.put(",\n\"zh\":");
    write_findings_json(r.findings, Lang::kZh, out);
    out.put("},\n\"run\":");
    std::vector<const ReportCap*> caps;
    if (h.run) {
      source_json(out, h.run->source, h.run->events);
      for (const ReportCap& c : h.run->caps) caps.push_back(&c);
    } else {
      out.put("null");
    }
    out.put(",\n\"baseline_run\":");
    if (h.baseline_source.empty()) {
      out.put("null");
    } else {
      source_json(out, h.baseline_source, h.baseline_events);
    }
    out.put(",\n\"flame\":");
    raw_or_null(out, h.run ? h.run->flame_json : "");
    out.put(",\n\"kernels\":");
    raw_or_null(out, h.run ? h.run->kernels_json : "");
    out.put(",\n\"devices\":");
    raw_or_null(out, h.run ? h.run->devices_json : "");
    out.put(",\n\"requests\":");
    out.put(h.run ? std::string_view(h.run->requests_json) : "[]");
    out.put(",\n\"diff\":");
    raw_or_null(out, h.diff_json);
    for (const ReportCap& c : h.caps) caps.push_back(&c);
    out.put(",\n\"caps\":");
    caps_json(out, caps);
    out.put("}\n");
    out.flush();
  }
  return std::move(sink.str());
}

Status write_html_report(std::string_view html_template, const HtmlReport& report,
                         BufferedOut& out) {
  const size_t at = html_template.find(kReportDataMarker);
  if (at == std::string_view::npos) {
    return Status::Error("the HTML report template has no data marker (built without it?)");
  }
  out.put(html_template.substr(0, at));
  out.put("<script type=\"application/json\" id=\"huoyan-data\">");
  out.put(script_safe_json(html_report_json(report)));
  out.put("</script>");
  out.put(html_template.substr(at + kReportDataMarker.size()));
  return out.status();
}

}  // namespace huoyan
