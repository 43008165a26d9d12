#include "src/report/report_views.h"

#include <algorithm>
#include <optional>

#include "src/analysis/diff.h"
#include "src/analysis/kernel_stats.h"
#include "src/server/request_index.h"
#include "src/writers/json_out.h"

namespace huoyan {
namespace {

template <typename Fn>
std::string encode(Fn&& fn) {
  StringSink sink;
  {
    BufferedOut out(&sink, size_t{1} << 16);
    fn(out);
    out.flush();
  }
  return std::move(sink.str());
}

// Folds `tree` to `max_nodes`, recording the cut.
void fold(FlameTree* tree, size_t max_nodes, std::string what, std::string subject,
          std::vector<ReportCap>* caps) {
  const size_t total = tree->nodes.size();
  fold_small_nodes(tree, max_nodes);
  if (tree->nodes.size() < total) {
    caps->push_back({std::move(what), tree->nodes.size(), total, std::move(subject)});
  }
}

std::string kernel_table(const Snapshot& snapshot, const std::vector<TimedEvent>& events,
                         GroupBy by, size_t max_rows, std::vector<ReportCap>* caps) {
  std::vector<KernelStat> rows = kernel_stats(snapshot, events, by, KindSet::device_side());
  if (by == GroupBy::kName && rows.size() > max_rows) {  // rows come largest first
    caps->push_back({"kernels", max_rows, rows.size(), ""});
    rows.resize(max_rows);
  }
  return encode([&](BufferedOut& out) { write_kernel_stats_json(rows, out, by); });
}

std::optional<int64_t> latency(const server::RequestRow& r) {
  if (r.arrival == kNoTime || r.finish == kNoTime) return std::nullopt;
  return r.finish - r.arrival;
}

void time_or_null(BufferedOut& out, int64_t ns) {
  if (ns == kNoTime) {
    out.put("null");
  } else {
    json_int(out, ns);
  }
}

// The slowest requests: by end-to-end latency where arrival and finish are known (those
// first), else by device plus host time; each with its flame graph.
std::string slow_requests(const TraceStore& store, const Snapshot& snapshot,
                          const ReportLimits& limits, std::vector<ReportCap>* caps) {
  const std::shared_ptr<const server::RequestIndex> index = server::RequestIndex::build(store);
  std::vector<const server::RequestRow*> rows =
      index->query("", server::RequestSortKey::kId, false, 0, index->size()).rows;
  auto slower = [](const server::RequestRow* a, const server::RequestRow* b) {
    const std::optional<int64_t> la = latency(*a);
    const std::optional<int64_t> lb = latency(*b);
    if (la.has_value() != lb.has_value()) return la.has_value();
    if (la && *la != *lb) return *la > *lb;
    const int64_t ta = a->device_shared + a->host;
    const int64_t tb = b->device_shared + b->host;
    return ta != tb ? ta > tb : a->id_text < b->id_text;
  };
  const size_t n = std::min(rows.size(), limits.requests);
  std::partial_sort(rows.begin(), rows.begin() + static_cast<ptrdiff_t>(n), rows.end(), slower);
  if (rows.size() > n) caps->push_back({"requests", n, rows.size(), ""});
  rows.resize(n);
  return encode([&](BufferedOut& out) {
    out.put('[');
    for (size_t i = 0; i < rows.size(); ++i) {
      const server::RequestRow& r = *rows[i];
      out.put(i == 0 ? "\n{\"id\":" : ",\n{\"id\":");
      json_string(out, r.id_text);
      out.put(",\"arrival_ns\":");
      time_or_null(out, r.arrival);
      out.put(",\"first_token_ns\":");
      time_or_null(out, r.first_token);
      out.put(",\"finish_ns\":");
      time_or_null(out, r.finish);
      out.put(",\"latency_ns\":");
      time_or_null(out, latency(r).value_or(kNoTime));
      out.put(",\"tokens_in\":");
      json_uint(out, r.tokens_in);
      out.put(",\"tokens_out\":");
      json_uint(out, r.tokens_out);
      out.put(",\"steps\":");
      json_uint(out, r.steps);
      out.put(",\"device_ns_shared\":");
      json_int(out, r.device_shared);
      out.put(",\"device_ns_apportioned\":");
      json_int(out, r.device_apportioned);
      out.put(",\"host_ns\":");
      json_int(out, r.host);
      FlameOptions options;
      options.request = r.id;
      options.max_nodes = 0;
      FlameTree tree = build_flame_tree(store, snapshot, options);
      fold(&tree, limits.request_flame_nodes, "request_flame", std::string(r.id_text), caps);
      out.put(",\"flame\":");
      write_flame_json(tree, out);
      out.put('}');
    }
    out.put(rows.empty() ? "]" : "\n]");
  });
}

}  // namespace

FlameTree full_flame_tree(const TraceStore& store, const Snapshot& snapshot) {
  FlameOptions options;
  options.max_nodes = 0;
  FlameTree tree = build_flame_tree(store, snapshot, options);
  tree.nodes[0].name = "all";
  return tree;
}

RunView collect_run_view(const TraceStore& store, const Snapshot& snapshot, std::string source,
                         const ReportLimits& limits) {
  RunView v;
  v.source = std::move(source);
  v.events = store.held();
  v.full_tree = full_flame_tree(store, snapshot);
  FlameTree shown = v.full_tree;
  fold(&shown, limits.flame_nodes, "flame", "", &v.caps);
  v.flame_json = encode([&](BufferedOut& out) { write_flame_json(shown, out); });
  const std::vector<TimedEvent> events = device_events(snapshot);
  v.kernels_json = kernel_table(snapshot, events, GroupBy::kName, limits.kernel_rows, &v.caps);
  v.devices_json = kernel_table(snapshot, events, GroupBy::kDevice, limits.kernel_rows, &v.caps);
  v.requests_json = slow_requests(store, snapshot, limits, &v.caps);
  return v;
}

std::string diff_flame_json(const FlameTree& base, const FlameTree& now, const ReportLimits& limits,
                            std::vector<ReportCap>* caps) {
  DiffFlameTree diff = build_diff_flame_tree(base, now);
  const size_t total = diff.nodes.size();
  fold_small_diff_nodes(&diff, limits.flame_nodes);
  if (diff.nodes.size() < total) caps->push_back({"diff", diff.nodes.size(), total, ""});
  return encode([&](BufferedOut& out) { write_diff_flame_json(diff, out); });
}

}  // namespace huoyan
