// Flame graph trees: build (a pure function of a store and a snapshot), then fold and encode.
//
// Host spans nest by time on their thread; a span that overlaps an open one without nesting in
// it, or a request-owned span whose name is open already (queue waits of two requests), starts
// a stack of its own (a lane) at the root, so no span is cut or counted inside an unrelated one
// of its name; nor do the thread's own spans nest in a request-owned one. Recursion (a span
// inside one of its name) stays nested. Device kernels are placed under the host stack that
// launched them: the API call with the same correlation id when there is one (CUPTI, Kineto),
// else the innermost host span (not request-owned) of the launching step's thread that contains
// the kernel's start (the thread's own stack first), else under a node named after their
// device. A node's value is its self time plus its children's values, in ns; device kernels
// count their (attributed) device time, host spans their host time not covered by nested host
// spans.
#pragma once

#include <algorithm>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/analysis/attribution.h"
#include "src/core/trace_store.h"
#include "src/io/sink.h"

namespace huoyan {

struct FlameNode {
  std::string_view name;  // points into the tree's string table (or a static literal)
  int64_t self = 0;
  int64_t value = 0;      // inclusive
  uint64_t calls = 0;
  bool device = false;    // a device kernel frame
  uint32_t parent = 0;
  std::vector<uint32_t> children;
};

struct FlameTree {
  std::vector<FlameNode> nodes;  // nodes[0] is the root; parents precede children
  std::shared_ptr<const StringTable> strings;  // keeps node names alive
  const FlameNode& root() const { return nodes[0]; }
};

struct FlameOptions {
  StringId request = 0;  // 0: every event of the snapshot
  AttributionMode mode = AttributionMode::kShared;
  std::string device;    // keep only device events of this device label ("NPU 0"); "" = all
  size_t max_nodes = 20000;  // beyond it the smallest siblings fold into "(other)"
  bool host = true;      // include host span time
};

FlameTree build_flame_tree(const TraceStore& store, const Snapshot& snapshot,
                           const FlameOptions& options);

// Folds the smallest nodes so at most about max_nodes remain: each parent's dropped children
// become one "(other)" child carrying their value and calls.
void fold_small_nodes(FlameTree* tree, size_t max_nodes);

// The folding behind fold_small_nodes, for any tree of nodes with `parent` and `children`
// (nodes[0] the root, parents before children). Keeps the largest nodes by `size(i)`; a parent
// is at least as large as its children, so ties broken parents-first keep the ancestors of every
// kept node. `add(other, node)` sums a dropped child into its parent's new "(other)" node
// (default-constructed with `name` = "(other)"); `any(other)` says whether it is worth keeping.
template <typename Node, typename Size, typename Add, typename Any>
void fold_tree_nodes(std::vector<Node>& nodes, size_t max_nodes, Size&& size, Add&& add,
                     Any&& any) {
  if (max_nodes == 0 || nodes.size() <= max_nodes) return;
  std::vector<uint32_t> order(nodes.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return size(a) != size(b) ? size(a) > size(b) : a < b;
  });
  const size_t budget = std::max<size_t>(1, max_nodes * 3 / 4);  // room for "(other)" nodes
  std::vector<char> keep(nodes.size(), 0);
  for (size_t k = 0; k < budget && k < order.size(); ++k) keep[order[k]] = 1;
  keep[0] = 1;
  // Rebuild: kept nodes in their original order, dropped children summed into "(other)".
  std::vector<Node> out;
  std::vector<uint32_t> remap(nodes.size(), UINT32_MAX);
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    if (!keep[i] || (i != 0 && remap[nodes[i].parent] == UINT32_MAX)) continue;
    remap[i] = static_cast<uint32_t>(out.size());
    Node n = nodes[i];
    n.children.clear();
    if (i != 0) {
      n.parent = remap[nodes[i].parent];
      out[n.parent].children.push_back(remap[i]);
    }
    out.push_back(std::move(n));
    Node other;
    other.name = "(other)";
    other.device = true;
    for (uint32_t c : nodes[i].children) {
      if (!keep[c]) add(other, nodes[c]);
    }
    if (any(other)) {
      other.parent = remap[i];
      const uint32_t parent_index = remap[i];
      out.push_back(std::move(other));
      out[parent_index].children.push_back(static_cast<uint32_t>(out.size() - 1));
    }
  }
  nodes = std::move(out);
}

// Writes nodes[0] and its descendants (`children` are indexes into `nodes`) as nested JSON
// objects. Iterative, because input nesting depth is unbounded (deeply nested B/E traces).
// `fields(node)` writes the node's own members right after its '{'; "children" follows.
template <typename Node, typename Fields>
void write_json_tree(const std::vector<Node>& nodes, BufferedOut& out, Fields&& fields) {
  if (nodes.empty()) return;
  struct Frame {
    uint32_t node;
    size_t next_child;
  };
  std::vector<Frame> stack;
  auto open = [&](uint32_t i) {
    out.put('{');
    fields(nodes[i]);
    if (!nodes[i].children.empty()) out.put(",\"children\":[");
    stack.push_back({i, 0});
  };
  open(0);
  while (!stack.empty()) {
    Frame& f = stack.back();
    const Node& n = nodes[f.node];
    if (f.next_child < n.children.size()) {
      if (f.next_child > 0) out.put(',');
      open(n.children[f.next_child++]);
      continue;
    }
    out.put(n.children.empty() ? "}" : "]}");
    stack.pop_back();
  }
}

// d3-flame-graph JSON: {"name","value","calls","children"} (+ "device": true on kernels).
void write_flame_json(const FlameTree& tree, BufferedOut& out);

// Folded stacks ("a;b;c <self ns>" per line, accepted by flamegraph.pl). ';' and line breaks in
// names are replaced by ':' and ' ' so every line stays one stack.
Status write_folded(const FlameTree& tree, Sink& sink);

}  // namespace huoyan
