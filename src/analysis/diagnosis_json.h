// Findings as JSON, the body of GET /api/diagnosis?lang=en|zh and of `huoyan analyze --format
// json`:
//
//   [{"id":"dominant-kernel","subject":"Int4Gemm","severity":"critical",
//     "title":"…","evidence":{"share":0.72,"group_size":32,…},"cause":"…","suggestion":"…",
//     "saved_ns":123456,"view":{"tab":"flame","search":"Int4Gemm","request_id":null}}, …]
//
// Findings are written in the order given (diagnose() ranks them by saved_ns); texts in `lang`.
#pragma once

#include <vector>

#include "src/analysis/diagnosis.h"
#include "src/io/sink.h"

namespace huoyan {

void write_finding_json(const Finding& finding, Lang lang, BufferedOut& out);
void write_findings_json(const std::vector<Finding>& findings, Lang lang, BufferedOut& out);

}  // namespace huoyan
