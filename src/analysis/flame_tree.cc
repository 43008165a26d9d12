#include "src/analysis/flame_tree.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <unordered_map>

#include "src/writers/json_out.h"

namespace huoyan {
namespace {

constexpr std::string_view kOther = "(other)";

class TreeBuilder {
 public:
  explicit TreeBuilder(FlameTree* tree) : tree_(tree) {
    tree_->nodes.emplace_back();
    tree_->nodes[0].name = "all";
  }

  uint32_t child(uint32_t parent, StringId name, std::string_view text, bool device) {
    const uint64_t key = (uint64_t{parent} << 32) | name;
    auto [it, inserted] = index_.emplace(key, 0);
    if (inserted) {
      it->second = static_cast<uint32_t>(tree_->nodes.size());
      FlameNode n;
      n.name = text;
      n.parent = parent;
      n.device = device;
      tree_->nodes.push_back(std::move(n));
      tree_->nodes[parent].children.push_back(it->second);
    }
    return it->second;
  }

 private:
  FlameTree* tree_;
  std::unordered_map<uint64_t, uint32_t> index_;
};

struct HostSpan {
  int64_t ts;
  int64_t end;
  EventSeq seq;
  StringId name;
  uint32_t node = 0;
  int32_t parent = -1;  // index of the enclosing span in the same track list
};

void finish_values(FlameTree* tree) {
  auto& nodes = tree->nodes;
  for (size_t i = nodes.size(); i-- > 0;) {
    FlameNode& n = nodes[i];
    if (n.self < 0) n.self = 0;
    int64_t v = n.self;
    for (uint32_t c : n.children) v += nodes[c].value;
    n.value = v;
  }
}

}  // namespace

FlameTree build_flame_tree(const TraceStore& store, const Snapshot& snapshot,
                           const FlameOptions& options) {
  FlameTree tree;
  tree.strings = std::shared_ptr<const StringTable>(store.strings());
  TreeBuilder builder(&tree);

  // 1. Select events.
  std::vector<EventSeq> host_seqs;
  std::vector<std::pair<EventSeq, int64_t>> device;  // (seq, attributed ns)
  if (options.request != 0) {
    tree.nodes[0].name = store.str(options.request);
    if (options.host) host_seqs = request_host_events(store, snapshot, options.request);
    for (const auto& a : request_device_events(store, snapshot, options.request, options.mode)) {
      device.emplace_back(a.seq, a.ns);
    }
  } else {
    snapshot.for_each([&](const EventView& ev) {
      if (snapshot.is_device_event(*ev)) {
        device.emplace_back(ev.seq, ev->dur);
      } else if (ev->kind == EventKind::kSpan && options.host) {
        host_seqs.push_back(ev.seq);
      }
    });
  }
  if (!options.device.empty()) {
    std::erase_if(device, [&](const auto& d) {
      return snapshot.device_label(snapshot.at(d.first)->track) != options.device;
    });
  }

  // 2. Host spans: nest per track by time.
  std::unordered_map<TrackId, std::vector<HostSpan>> by_track;
  for (EventSeq seq : host_seqs) {
    const EventView ev = snapshot.at(seq);
    by_track[ev->track].push_back({ev->ts, ev->end(), seq, ev->name});
  }
  std::unordered_map<uint64_t, uint32_t> node_of_correlation;
  std::unordered_map<uint64_t, std::pair<TrackId, uint32_t>> span_of_correlation;
  for (auto& [track, spans] : by_track) {
    std::sort(spans.begin(), spans.end(), [](const HostSpan& a, const HostSpan& b) {
      if (a.ts != b.ts) return a.ts < b.ts;
      if (a.end != b.end) return a.end > b.end;
      return a.seq < b.seq;
    });
    std::vector<uint32_t> stack;  // indexes into spans
    for (uint32_t i = 0; i < spans.size(); ++i) {
      HostSpan& s = spans[i];
      while (!stack.empty() && spans[stack.back()].end <= s.ts) stack.pop_back();
      const uint32_t parent_node = stack.empty() ? 0 : spans[stack.back()].node;
      s.parent = stack.empty() ? -1 : static_cast<int32_t>(stack.back());
      s.node = builder.child(parent_node, s.name, store.str(s.name), false);
      FlameNode& node = tree.nodes[s.node];
      node.self += s.end - s.ts;
      node.calls += 1;
      if (!stack.empty()) {
        const int64_t covered = std::min(s.end, spans[stack.back()].end) - s.ts;
        tree.nodes[parent_node].self -= covered;
      }
      stack.push_back(i);
      const EventView ev = snapshot.at(s.seq);
      if (ev->id != 0) span_of_correlation[ev->id] = {track, i};
    }
  }

  // 3. Device events under the host stack that launched them.
  std::unordered_map<uint64_t, std::optional<Step>> steps;
  for (const auto& [seq, ns] : device) {
    const EventView ev = snapshot.at(seq);
    uint32_t parent = 0;
    bool placed = false;
    if (ev->id != 0) {
      auto it = span_of_correlation.find(ev->id);
      if (it != span_of_correlation.end()) {
        parent = by_track[it->second.first][it->second.second].node;
        placed = true;
      }
    }
    if (!placed && ev->step != 0) {
      auto sit = steps.find(ev->step);
      if (sit == steps.end()) sit = steps.emplace(ev->step, store.step(ev->step)).first;
      if (sit->second) {
        auto tit = by_track.find(sit->second->track);
        if (tit != by_track.end()) {
          const auto& spans = tit->second;
          // Last span starting at or before the kernel; walk out to one that contains it.
          auto it = std::upper_bound(spans.begin(), spans.end(), ev->ts,
                                     [](int64_t t, const HostSpan& s) { return t < s.ts; });
          int32_t i = static_cast<int32_t>(it - spans.begin()) - 1;
          while (i >= 0 && spans[i].end <= ev->ts) i = spans[i].parent;
          if (i >= 0) {
            parent = spans[i].node;
            placed = true;
          }
        }
      }
    }
    if (!placed) {
      const Process& p = snapshot.process_of(ev->track);
      const StringId label = p.name != 0 ? p.name : p.label;
      parent = label != 0 ? builder.child(0, label, store.str(label), false)
                          : builder.child(0, 0, "(device)", false);
    }
    // The launching phase waited for (or overlapped) this kernel: count the kernel's time once,
    // as the kernel, not again as the phase's own host time.
    if (placed) tree.nodes[parent].self -= ns;
    const uint32_t k = builder.child(parent, ev->name, store.str(ev->name), true);
    tree.nodes[k].self += ns;
    tree.nodes[k].calls += 1;
  }

  finish_values(&tree);
  fold_small_nodes(&tree, options.max_nodes);
  return tree;
}

void fold_small_nodes(FlameTree* tree, size_t max_nodes) {
  auto& nodes = tree->nodes;
  if (max_nodes == 0 || nodes.size() <= max_nodes) return;
  // Keep the largest nodes; a parent's value is >= its child's, so ancestors of kept nodes are
  // kept too when ties are broken parents-first (lower index).
  std::vector<uint32_t> order(nodes.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return nodes[a].value != nodes[b].value ? nodes[a].value > nodes[b].value : a < b;
  });
  const size_t budget = std::max<size_t>(1, max_nodes * 3 / 4);  // room for "(other)" nodes
  std::vector<char> keep(nodes.size(), 0);
  for (size_t k = 0; k < budget && k < order.size(); ++k) keep[order[k]] = 1;
  keep[0] = 1;
  // Rebuild: kept nodes in their original order, dropped children summed into "(other)".
  std::vector<FlameNode> out;
  std::vector<uint32_t> remap(nodes.size(), UINT32_MAX);
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    if (!keep[i] || (i != 0 && remap[nodes[i].parent] == UINT32_MAX)) continue;
    remap[i] = static_cast<uint32_t>(out.size());
    FlameNode n = nodes[i];
    n.children.clear();
    if (i != 0) {
      n.parent = remap[nodes[i].parent];
      out[n.parent].children.push_back(remap[i]);
    }
    out.push_back(std::move(n));
    int64_t other_value = 0;
    uint64_t other_calls = 0;
    bool other_device = true;
    for (uint32_t c : nodes[i].children) {
      if (!keep[c]) {
        other_value += nodes[c].value;
        other_calls += nodes[c].calls;
        other_device = other_device && nodes[c].device;
      }
    }
    if (other_value > 0 || other_calls > 0) {
      FlameNode other;
      other.name = kOther;
      other.value = other_value;
      other.self = other_value;
      other.calls = other_calls;
      other.device = other_device;
      other.parent = remap[i];
      const uint32_t parent_index = remap[i];
      out.push_back(std::move(other));
      out[parent_index].children.push_back(static_cast<uint32_t>(out.size() - 1));
    }
  }
  nodes = std::move(out);
}

void write_flame_json(const FlameTree& tree, BufferedOut& out) {
  write_json_tree(tree.nodes, out, [&](const FlameNode& n) {
    out.put("\"name\":");
    json_string(out, n.name);
    out.put(",\"value\":");
    json_int(out, n.value);
    out.put(",\"calls\":");
    json_uint(out, n.calls);
    if (n.device) out.put(",\"device\":true");
  });
}

Status write_folded(const FlameTree& tree, Sink& sink) {
  BufferedOut out(&sink);
  std::vector<uint32_t> path;
  auto put_name = [&](std::string_view s) {
    for (char c : s) out.put(c == ';' ? ':' : (c == '\n' || c == '\r') ? ' ' : c);
  };
  // Iterative preorder with an explicit path of ancestors.
  struct Frame {
    uint32_t node;
    size_t next_child;
  };
  std::vector<Frame> stack{{0, 0}};
  char num[24];
  while (!stack.empty()) {
    Frame& f = stack.back();
    const FlameNode& n = tree.nodes[f.node];
    if (f.next_child == 0 && f.node != 0 && n.self > 0) {
      bool first = true;
      for (const Frame& a : stack) {
        if (a.node == 0) continue;
        if (!first) out.put(';');
        first = false;
        put_name(tree.nodes[a.node].name);
      }
      out.put(' ');
      auto r = std::to_chars(num, num + sizeof(num), n.self);
      out.put(std::string_view(num, static_cast<size_t>(r.ptr - num)));
      out.put('\n');
    }
    if (f.next_child < n.children.size()) {
      const uint32_t c = n.children[f.next_child++];
      stack.push_back({c, 0});
      continue;
    }
    stack.pop_back();
  }
  return out.flush();
}

}  // namespace huoyan
