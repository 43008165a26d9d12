// Findings as JSON, in GET /api/diagnosis?lang=en|zh (write_diagnosis_json) and in `huoyan
// analyze --format json`:
//
//   [{"id":"dominant-kernel","subject":"Int4Gemm","severity":"critical",
//     "title":"…","evidence":{"share":0.72,"group_size":32,…},"cause":"…","suggestion":"…",
//     "saved_ns":123456,"view":{"tab":"flame","search":"Int4Gemm","request_id":null}}, …]
//
// Findings are written in the order given (diagnose() ranks them by severity, then saved_ns);
// texts in `lang`.
#pragma once

#include <vector>

#include "src/analysis/diagnosis.h"
#include "src/analysis/diagnosis_context.h"
#include "src/io/sink.h"

namespace huoyan {

void write_finding_json(const Finding& finding, Lang lang, BufferedOut& out);
void write_findings_json(const std::vector<Finding>& findings, Lang lang, BufferedOut& out);

// GET /api/diagnosis: the findings with what they rest on — the window of the store they cover,
// the peaks the roofline used and where they come from, and why the knob rules stayed quiet.
struct DiagnosisView {
  DiagnosisWindow window;
  bool live = false;  // a live store: findings are kept stable between refreshes
  std::vector<PeakUse> peaks;
  std::vector<Finding> findings;
  std::vector<QuietRule> quiet;
};
// {"window":{…},"peaks":[…],"findings":[…],"quiet":[…]}
void write_diagnosis_json(const DiagnosisView& view, Lang lang, BufferedOut& out);

}  // namespace huoyan
