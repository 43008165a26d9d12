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

// `s` cut to at most `max` bytes, at a UTF-8 character boundary.
std::string_view cut(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

// Longest name seen over the limit, for the one "names" cap of a report.
struct NameCut {
  size_t limit;
  size_t longest = 0;
  void see(size_t n) { longest = n > limit ? std::max(longest, n) : longest; }
};

// Shortens the names of an encoded tree's nodes (views, so nothing is copied): applied after
// folding and comparing, which see the whole names.
template <typename Node>
void cut_names(std::vector<Node>& nodes, NameCut* names) {
  for (Node& n : nodes) {
    names->see(n.name.size());
    n.name = cut(n.name, names->limit);
  }
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

void cut_row_names(std::vector<KernelStat>& rows, NameCut* names) {
  for (KernelStat& r : rows) {
    names->see(r.name.size());
    r.name.resize(cut(r.name, names->limit).size());
    for (KernelStat::TopKernel& k : r.top) {
      names->see(k.name.size());
      k.name.resize(cut(k.name, names->limit).size());
    }
  }
}

void add_names_cap(const NameCut& names, std::vector<ReportCap>* caps) {
  if (names.longest > 0) caps->push_back({"names", names.limit, names.longest, ""});
}

std::string kernel_table(const Snapshot& snapshot, const std::vector<TimedEvent>& events,
                         GroupBy by, size_t max_rows, NameCut* names,
                         std::vector<ReportCap>* caps) {
  std::vector<KernelStat> rows = kernel_stats(snapshot, events, by, KindSet::device_side());
  if (by == GroupBy::kName && rows.size() > max_rows) {  // rows come largest first
    caps->push_back({"kernels", max_rows, rows.size(), ""});
    rows.resize(max_rows);
  }
  cut_row_names(rows, names);
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
                          const ReportLimits& limits, NameCut* names,
                          std::vector<ReportCap>* caps) {
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
      json_string(out, cut(r.id_text, limits.name_bytes));
      out.put(",\"arrival_ns\":");
      time_or_null(out, r.arrival);
      out.put(",\"first_token_ns\":");
      time_or_null(out, r.first_token);
      out.put(",\"finish_ns\":");
      time_or_null(out, r.finish);
      out.put(",\"latency_ns\":");
      time_or_null(out, latency(r).value_or(kNoTime));
      server::write_request_totals_json(out, r);
      FlameOptions options;
      options.request = r.id;
      options.max_nodes = 0;
      FlameTree tree = build_flame_tree(store, snapshot, options);
      fold(&tree, limits.request_flame_nodes, "request_flame",
           std::string(cut(r.id_text, limits.name_bytes)), caps);
      cut_names(tree.nodes, names);
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
  NameCut names{limits.name_bytes};
  FlameTree shown = v.full_tree;
  fold(&shown, limits.flame_nodes, "flame", "", &v.caps);
  cut_names(shown.nodes, &names);
  v.flame_json = encode([&](BufferedOut& out) { write_flame_json(shown, out); });
  const std::vector<TimedEvent> events = device_events(snapshot);
  v.kernels_json =
      kernel_table(snapshot, events, GroupBy::kName, limits.kernel_rows, &names, &v.caps);
  v.devices_json =
      kernel_table(snapshot, events, GroupBy::kDevice, limits.kernel_rows, &names, &v.caps);
  v.requests_json = slow_requests(store, snapshot, limits, &names, &v.caps);
  add_names_cap(names, &v.caps);
  return v;
}

std::string diff_flame_json(const FlameTree& base, const FlameTree& now, const ReportLimits& limits,
                            std::vector<ReportCap>* caps) {
  DiffFlameTree diff = build_diff_flame_tree(base, now);
  const size_t total = diff.nodes.size();
  fold_small_diff_nodes(&diff, limits.flame_nodes);
  if (diff.nodes.size() < total) caps->push_back({"diff", diff.nodes.size(), total, ""});
  NameCut names{limits.name_bytes};
  cut_names(diff.nodes, &names);
  if (names.longest > 0) caps->push_back({"names", names.limit, names.longest, "diff"});
  return encode([&](BufferedOut& out) { write_diff_flame_json(diff, out); });
}

}  // namespace huoyan
