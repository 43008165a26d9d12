#include "src/analysis/diagnosis_json.h"

#include "src/writers/json_out.h"

namespace huoyan {

void write_finding_json(const Finding& f, Lang lang, BufferedOut& out) {
  out.put("{\"id\":");
  json_string(out, f.id);
  out.put(",\"subject\":");
  json_string(out, f.subject);
  out.put(",\"severity\":");
  json_string(out, severity_name(f.severity));
  out.put(",\"title\":");
  json_string(out, f.title.in(lang));
  out.put(",\"evidence\":{");
  for (size_t i = 0; i < f.evidence.size(); ++i) {
    const Evidence& e = f.evidence[i];
    if (i > 0) out.put(',');
    json_string(out, e.key);
    out.put(':');
    switch (e.type) {
      case Evidence::Type::kInt:
        json_int(out, e.i);
        break;
      case Evidence::Type::kDouble:
        json_double(out, e.d);
        break;
      case Evidence::Type::kString:
        json_string(out, e.s);
        break;
    }
  }
  out.put("},\"cause\":");
  json_string(out, f.cause.in(lang));
  out.put(",\"suggestion\":");
  json_string(out, f.suggestion.in(lang));
  out.put(",\"saved_ns\":");
  json_int(out, f.saved_ns);
  out.put(",\"view\":{\"tab\":");
  json_string(out, f.view.tab);
  out.put(",\"search\":");
  json_string(out, f.view.search);
  out.put(",\"request_id\":");
  if (f.view.request_id) {
    json_string(out, *f.view.request_id);
  } else {
    out.put("null");
  }
  out.put("}}");
}

void write_findings_json(const std::vector<Finding>& findings, Lang lang, BufferedOut& out) {
  out.put('[');
  for (size_t i = 0; i < findings.size(); ++i) {
    if (i > 0) out.put(',');
    write_finding_json(findings[i], lang, out);
  }
  out.put(']');
}

void write_diagnosis_json(const DiagnosisView& v, Lang lang, BufferedOut& out) {
  const DiagnosisWindow& w = v.window;
  out.put("{\"window\":{\"live\":");
  out.put(v.live ? "true" : "false");
  out.put(",\"steps\":");
  json_uint(out, w.steps);
  out.put(",\"steps_total\":");
  json_uint(out, w.steps_total);
  out.put(",\"max_steps\":");
  json_uint(out, w.max_steps);
  out.put(",\"start_ns\":");
  if (w.start == kNoTime) {
    out.put("null");
  } else {
    json_int(out, w.start);
  }
  out.put(",\"end_ns\":");
  json_int(out, w.end);
  out.put("},\"peaks\":[");
  for (size_t i = 0; i < v.peaks.size(); ++i) {
    const PeakUse& p = v.peaks[i];
    out.put(i > 0 ? ",{\"device\":" : "{\"device\":");
    json_string(out, p.device);
    out.put(",\"model\":");
    json_string(out, p.spec.name);
    out.put(",\"source\":");
    json_string(out, p.spec.source);
    out.put(",\"method\":");
    json_string(out, p.spec.method);
    out.put(",\"bandwidth_gbps\":");
    json_double(out, p.spec.bandwidth_gbps);
    out.put(",\"gflops\":");
    json_double(out, p.spec.tflops * 1000);
    out.put(",\"trusted\":");
    out.put(p.trusted ? "true}" : "false}");
  }
  out.put("],\"findings\":");
  write_findings_json(v.findings, lang, out);
  out.put(",\"quiet\":[");
  for (size_t i = 0; i < v.quiet.size(); ++i) {
    const QuietRule& q = v.quiet[i];
    out.put(i > 0 ? ",{\"id\":" : "{\"id\":");
    json_string(out, q.id);
    out.put(",\"subject\":");
    json_string(out, q.subject);
    out.put(",\"why\":");
    json_string(out, q.why.in(lang));
    out.put('}');
  }
  out.put("]}");
}

}  // namespace huoyan
