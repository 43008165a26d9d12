#include "src/analysis/diff.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>
#include <utility>

#include "src/writers/json_out.h"

namespace huoyan {

std::string_view diff_status_name(DiffStatus s) {
  switch (s) {
    case DiffStatus::kChanged:
      return "changed";
    case DiffStatus::kNew:
      return "new";
    case DiffStatus::kVanished:
      return "vanished";
  }
  return "changed";
}

std::vector<KernelDiff> diff_kernels(const std::vector<KernelStat>& base,
                                     const std::vector<KernelStat>& now) {
  std::map<std::string, KernelDiff> rows;
  for (const auto& b : base) {
    KernelDiff& d = rows[b.name];
    d.name = b.name;
    d.status = DiffStatus::kVanished;
    d.base_count = b.count;
    d.base_total_ns = b.total_ns;
    d.base_mean_ns = b.mean_ns;
  }
  for (const auto& n : now) {
    auto [it, inserted] = rows.try_emplace(n.name);
    KernelDiff& d = it->second;
    d.name = n.name;
    d.status = inserted ? DiffStatus::kNew : DiffStatus::kChanged;
    d.new_count = n.count;
    d.new_total_ns = n.total_ns;
    d.new_mean_ns = n.mean_ns;
  }
  std::vector<KernelDiff> out;
  out.reserve(rows.size());
  for (auto& [name, d] : rows) {
    d.delta_total_ns = d.new_total_ns - d.base_total_ns;
    d.relative = d.base_total_ns > 0
                     ? static_cast<double>(d.delta_total_ns) / static_cast<double>(d.base_total_ns)
                     : std::numeric_limits<double>::quiet_NaN();
    out.push_back(std::move(d));
  }
  std::stable_sort(out.begin(), out.end(), [](const KernelDiff& a, const KernelDiff& b) {
    const int64_t x = a.delta_total_ns < 0 ? -a.delta_total_ns : a.delta_total_ns;
    const int64_t y = b.delta_total_ns < 0 ? -b.delta_total_ns : b.delta_total_ns;
    return x > y;  // rows come from a map: ties stay in name order
  });
  return out;
}

DiffFlameTree build_diff_flame_tree(const FlameTree& base_tree, const FlameTree& new_tree) {
  DiffFlameTree out;
  out.base_strings = base_tree.strings;
  out.new_strings = new_tree.strings;
  auto add = [&](std::string_view name, uint32_t parent, bool device) {
    const auto index = static_cast<uint32_t>(out.nodes.size());
    DiffFlameNode n;
    n.name = name;
    n.parent = parent;
    n.device = device;
    out.nodes.push_back(std::move(n));
    if (index != 0) out.nodes[parent].children.push_back(index);
    return index;
  };
  // Walk both trees together from the roots; a work item pairs a diff node with the matching
  // node of each tree (-1 = absent on that side). Iterative: trees can be deep.
  struct Item {
    uint32_t node;
    int64_t base;
    int64_t now;
  };
  const bool has_base = !base_tree.nodes.empty();
  const bool has_new = !new_tree.nodes.empty();
  if (!has_base && !has_new) {
    add("all", 0, false);
    return out;
  }
  const std::string_view root_name = has_new ? new_tree.root().name : base_tree.root().name;
  std::vector<Item> stack;
  stack.push_back({add(root_name, 0, false), has_base ? 0 : -1, has_new ? 0 : -1});
  while (!stack.empty()) {
    const Item item = stack.back();
    stack.pop_back();
    DiffFlameNode& d = out.nodes[item.node];
    const FlameNode* b =
        item.base >= 0 ? &base_tree.nodes[static_cast<size_t>(item.base)] : nullptr;
    const FlameNode* n = item.now >= 0 ? &new_tree.nodes[static_cast<size_t>(item.now)] : nullptr;
    if (b != nullptr) {
      d.base = b->value;
      d.base_calls = b->calls;
    }
    if (n != nullptr) {
      d.value = n->value;
      d.calls = n->calls;
    }
    d.delta = d.value - d.base;
    // Children: NEW's order first (what the flame graph shows), then frames only in BASE.
    std::unordered_map<std::string_view, uint32_t> base_children;
    if (b != nullptr) {
      for (uint32_t c : b->children) base_children.emplace(base_tree.nodes[c].name, c);
    }
    std::vector<Item> pending;
    const uint32_t parent = item.node;
    if (n != nullptr) {
      for (uint32_t c : n->children) {
        const FlameNode& nc = new_tree.nodes[c];
        int64_t match = -1;
        if (auto it = base_children.find(nc.name); it != base_children.end()) {
          match = it->second;
          base_children.erase(it);
        }
        pending.push_back({add(nc.name, parent, nc.device), match, c});
      }
    }
    if (b != nullptr) {
      for (uint32_t c : b->children) {
        const FlameNode& bc = base_tree.nodes[c];
        if (base_children.count(bc.name) == 0) continue;  // matched above
        pending.push_back({add(bc.name, parent, bc.device), c, -1});
      }
    }
    // Reverse so the first child is processed first (keeps ids in preorder-ish order).
    for (auto it = pending.rbegin(); it != pending.rend(); ++it) stack.push_back(*it);
  }
  return out;
}

void fold_small_diff_nodes(DiffFlameTree* tree, size_t max_nodes) {
  auto& nodes = tree->nodes;
  // Ranked by the larger of the two runs' values: a frame that vanished still competes.
  bool any = false;
  fold_tree_nodes(
      nodes, max_nodes, [&](uint32_t i) { return std::max(nodes[i].value, nodes[i].base); },
      [&any](DiffFlameNode& other, const DiffFlameNode& n) {
        any = true;
        other.value += n.value;
        other.base += n.base;
        other.delta = other.value - other.base;
        other.calls += n.calls;
        other.base_calls += n.base_calls;
        other.device = other.device && n.device;
      },
      [&any](const DiffFlameNode&) { return std::exchange(any, false); });
}

void write_diff_flame_json(const DiffFlameTree& tree, BufferedOut& out) {
  write_json_tree(tree.nodes, out, [&](const DiffFlameNode& n) {
    out.put("\"name\":");
    json_string(out, n.name);
    out.put(",\"value\":");
    json_int(out, n.value);
    out.put(",\"base\":");
    json_int(out, n.base);
    out.put(",\"delta\":");
    json_int(out, n.delta);
    out.put(",\"calls\":");
    json_uint(out, n.calls);
    out.put(",\"base_calls\":");
    json_uint(out, n.base_calls);
    if (n.device) out.put(",\"device\":true");
  });
}

}  // namespace huoyan
