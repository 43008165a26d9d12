// CLI verbs of the analysis stage: `huoyan analyze` (diagnosis and the CI gate) and
// `huoyan diff`. main.cc declares their options (CLI11) and dispatches to run_analyze/run_diff.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace huoyan::cli {

struct AnalyzeArgs {
  std::vector<std::string> inputs;    // each file is one run (or, with merge, one store)
  std::vector<std::string> expect;    // kernel names or /regex/
  std::string threshold;              // "50ms"; "" = none (or the rules file's)
  std::string rules;                  // rules file (JSON, docs/rules.md)
  std::vector<std::string> baseline;  // baseline runs
  std::string max_regression;         // "5%"; "" = the rules file's, else 5%
  std::string format = "text";        // text | json | junit | markdown | html
  std::string output;                 // "" or "-" = stdout
  std::string lang = "en";            // en | zh
  bool merge = false;                 // inputs are parts (ranks) of one run: one store
  bool no_diagnosis = false;
};
int run_analyze(const AnalyzeArgs& args);

// Footer of `huoyan analyze --help`: exit codes and the regression method.
std::string analyze_help_footer();

struct DiffArgs {
  std::string base;
  std::string now;
  std::string format = "text";  // text | json
  size_t limit = 0;             // rows to show, 0 = all
};
int run_diff(const DiffArgs& args);

}  // namespace huoyan::cli
