// What the HTML report shows of a run besides the checks: flame graphs of the whole run and of
// its slowest requests, the kernel tables, and the differential flame graph against a baseline.
// Computed while the run's store is alive (`huoyan analyze` drops each store once reduced) and
// kept as encoded JSON, bounded whatever the trace: every tree is folded to a node budget with
// "(other)" frames as /api/flamegraph does, the request list and the kernel table are cut to
// their largest rows, and each cut is recorded as a ReportCap for the page to state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "src/analysis/flame_tree.h"
#include "src/core/trace_store.h"
#include "src/io/sink.h"

namespace huoyan {

struct ReportLimits {
  size_t flame_nodes = 10000;         // whole run, and the differential tree
  size_t request_flame_nodes = 2000;  // each request's tree
  size_t requests = 10;               // the slowest ones get a flame graph
  size_t kernel_rows = 1000;          // of the kernel table, by total time
  size_t name_bytes = 512;            // longer frame and kernel names are cut (C++ templates)
};

// One cut: `kept` of `total` items of `what` ("flame", "diff", "request_flame", "requests",
// "kernels", "runs", "baselines"; "names": names cut to `kept` bytes, the longest had `total`);
// `subject` names the request or run concerned, if one.
struct ReportCap {
  std::string what;
  uint64_t kept = 0;
  uint64_t total = 0;
  std::string subject;
};

struct RunView {
  std::string source;  // the input(s) the run was read from
  uint64_t events = 0;
  std::string flame_json;     // d3-flame-graph tree, root "all"
  std::string kernels_json;   // rows of /api/kernels (by name, every device-side kind)
  std::string devices_json;   // rows of /api/kernels?group=device
  std::string requests_json;  // [{id, times, tokens, device/host ns, latency_ns, flame}, …]
  FlameTree full_tree;        // unfolded whole-run tree, for the comparison with a baseline
  std::vector<ReportCap> caps;
};

RunView collect_run_view(const TraceStore& store, const Snapshot& snapshot, std::string source,
                         const ReportLimits& limits);

// The whole-run tree with every frame and the root named "all" (both sides of a comparison
// must be built alike, then compared, then folded).
FlameTree full_flame_tree(const TraceStore& store, const Snapshot& snapshot);

// Differential tree JSON (widths from `now`, base and delta per frame), folded to
// `limits.flame_nodes`; a fold is appended to `caps`.
std::string diff_flame_json(const FlameTree& base, const FlameTree& now, const ReportLimits& limits,
                            std::vector<ReportCap>* caps);

}  // namespace huoyan
