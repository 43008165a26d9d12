#include "src/analysis/flame_tree.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <unordered_map>

#include "src/writers/json_out.h"

namespace huoyan {
namespace {

class TreeBuilder {
 public:
  TreeBuilder(FlameTree* tree, const TraceStore& store) : tree_(tree), store_(store) {
    tree_->nodes.emplace_back();
    tree_->nodes[0].name = "all";
  }

  // The child `name` of `parent`, created on first use. `fallback` names it when `name` is 0.
  uint32_t child(uint32_t parent, StringId name, bool device, std::string_view fallback = {}) {
    const uint64_t key = (uint64_t{parent} << 32) | name;
    // A direct-mapped cache in front of the map: a serving loop repeats the same few hundred
    // (phase, kernel) pairs millions of times.
    Slot& slot = cache_[(key * 0x9E3779B97F4A7C15ull) >> (64 - kCacheBits)];
    if (slot.key == key) return slot.node;
    auto [it, inserted] = index_.emplace(key, 0);
    if (inserted) {
      it->second = static_cast<uint32_t>(tree_->nodes.size());
      FlameNode n;
      n.name = name != 0 ? store_.str(name) : fallback;
      n.parent = parent;
      n.device = device;
      tree_->nodes.push_back(std::move(n));
      tree_->nodes[parent].children.push_back(it->second);
    }
    slot = {key, it->second};
    return it->second;
  }

 private:
  static constexpr int kCacheBits = 12;
  struct Slot {
    uint64_t key = UINT64_MAX;  // no (parent, name) pair has this key: parent < 2^32 − 1
    uint32_t node = 0;
  };
  FlameTree* tree_;
  const TraceStore& store_;
  std::unordered_map<uint64_t, uint32_t> index_;
  std::vector<Slot> cache_ = std::vector<Slot>(size_t{1} << kCacheBits);
};

struct HostSpan {
  int64_t ts;
  int64_t end;
  EventSeq seq;
  StringId name;
  uint64_t id = 0;     // correlation id
  bool owned = false;  // owned by a request (queueing, tokenization…)
  uint32_t node = 0;
  int32_t parent = -1;  // index of the enclosing span in the same track list (and lane)
};

// The spans of one host track, sorted by start, with a search hint: device events arrive in
// roughly time order, so the next lookup is usually at or just after the previous one.
struct TrackSpans {
  std::vector<HostSpan> spans;
  size_t hint = 0;
  // When the track's spans needed more than one lane: for each span index, the last index at or
  // before it whose span is in lane 0 (the thread's own stack), -1 if none. Empty otherwise.
  std::vector<int32_t> lane0_at;

  // Index of the last span starting at or before t, or -1.
  int32_t last_starting_by(int64_t t) {
    const size_t n = spans.size();
    if (n == 0 || spans[0].ts > t) return -1;
    size_t lo = 0, hi = n;  // answer in [lo, hi)
    if (hint < n && spans[hint].ts <= t) {
      // Gallop forward from the hint.
      lo = hint;
      size_t step = 1;
      while (lo + step < n && spans[lo + step].ts <= t) {
        lo += step;
        step *= 2;
      }
      hi = std::min(n, lo + step + 1);
    } else if (hint < n) {
      hi = hint;  // spans[hint].ts > t
    }
    // spans[lo].ts <= t; find the last such index in [lo, hi).
    auto it = std::upper_bound(spans.begin() + static_cast<std::ptrdiff_t>(lo),
                               spans.begin() + static_cast<std::ptrdiff_t>(hi), t,
                               [](int64_t v, const HostSpan& s) { return v < s.ts; });
    hint = static_cast<size_t>(it - spans.begin()) - 1;
    return static_cast<int32_t>(hint);
  }
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
  TreeBuilder builder(&tree, store);

  // Device filter by track, decided once per track.
  std::vector<int8_t> track_ok;  // -1 unknown, 0 no, 1 yes
  auto device_ok = [&](TrackId t) {
    if (options.device.empty()) return true;
    if (t >= track_ok.size()) track_ok.resize(t + 1, -1);
    if (track_ok[t] < 0) track_ok[t] = snapshot.device_label(t) == options.device ? 1 : 0;
    return track_ok[t] == 1;
  };

  // 1. Select events, copying what the passes below need.
  std::unordered_map<TrackId, TrackSpans> by_track;
  TrackId last_track = UINT32_MAX;
  TrackSpans* last_spans = nullptr;
  auto add_span = [&](const Event& e, EventSeq seq) {
    if (e.track != last_track || last_spans == nullptr) {
      last_track = e.track;
      last_spans = &by_track[e.track];
    }
    last_spans->spans.push_back({e.ts, e.end(), seq, e.name, e.id, e.request != 0});
  };
  if (options.request != 0) {
    tree.nodes[0].name = store.str(options.request);
    if (options.host) {
      for (EventSeq seq : request_host_events(store, snapshot, options.request)) {
        add_span(*snapshot.at(seq), seq);
      }
    }
  } else if (options.host) {
    snapshot.for_each([&](const EventView& ev) {
      if (snapshot.kind_of(*ev) == EventKind::kHost) add_span(*ev, ev.seq);
    });
  }

  // 2. Host spans: nest per track by time. A span that starts inside an open one but ends after
  // it goes to another lane of the track (the first where it nests, else a new one), whose
  // stack starts at the root: so each span's time is counted once, whole. A request-owned span
  // whose name is open already moves too: spans of different requests (queue_wait) overlap
  // without being calls of one another, unlike a recursive function's spans, which nest. And
  // the thread's own spans do not nest in a request-owned one, nor are kernels placed in one.
  std::unordered_map<uint64_t, std::pair<TrackSpans*, uint32_t>> span_of_correlation;
  std::vector<std::vector<uint32_t>> lanes;  // per lane, the open spans (indexes into spans)
  std::vector<uint8_t> lane_of;
  for (auto& [track, list] : by_track) {
    auto& spans = list.spans;
    std::sort(spans.begin(), spans.end(), [](const HostSpan& a, const HostSpan& b) {
      if (a.ts != b.ts) return a.ts < b.ts;
      if (a.end != b.end) return a.end > b.end;
      return a.seq < b.seq;
    });
    lanes.assign(1, {});
    lane_of.assign(spans.size(), 0);
    for (uint32_t i = 0; i < spans.size(); ++i) {
      HostSpan& s = spans[i];
      std::vector<uint32_t>* stack = nullptr;
      for (size_t li = 0; li < lanes.size() && stack == nullptr; ++li) {
        std::vector<uint32_t>& lane = lanes[li];
        while (!lane.empty() && spans[lane.back()].end <= s.ts) lane.pop_back();
        if (!lane.empty() && s.end > spans[lane.back()].end) continue;  // would cross
        // The thread's own phases never nest in a request's span (a queue wait that began
        // between two steps): the request does not run them.
        if (!s.owned && !lane.empty() && spans[lane.back()].owned) continue;
        if (s.owned && std::any_of(lane.begin(), lane.end(),
                                   [&](uint32_t o) { return spans[o].name == s.name; })) {
          continue;
        }
        stack = &lane;
        lane_of[i] = static_cast<uint8_t>(std::min<size_t>(li, 255));
      }
      if (stack == nullptr) {
        stack = &lanes.emplace_back();
        lane_of[i] = static_cast<uint8_t>(std::min<size_t>(lanes.size() - 1, 255));
      }
      const uint32_t parent_node = stack->empty() ? 0 : spans[stack->back()].node;
      s.parent = stack->empty() ? -1 : static_cast<int32_t>(stack->back());
      s.node = builder.child(parent_node, s.name, false);
      FlameNode& node = tree.nodes[s.node];
      node.self += s.end - s.ts;
      node.calls += 1;
      if (!stack->empty()) tree.nodes[parent_node].self -= s.end - s.ts;
      stack->push_back(i);
      if (s.id != 0) span_of_correlation[s.id] = {&list, i};
    }
    if (lanes.size() > 1) {
      list.lane0_at.resize(spans.size());
      int32_t last = -1;
      for (uint32_t i = 0; i < spans.size(); ++i) {
        if (lane_of[i] == 0) last = static_cast<int32_t>(i);
        list.lane0_at[i] = last;
      }
    }
  }

  // 3. Device events under the host stack that launched them: the span with the same
  // correlation id, else the innermost span of the step's thread that contains the kernel's
  // start, else a frame named after the device's process.
  std::unordered_map<uint64_t, TrackSpans*> step_spans;  // step id → its thread's spans
  const bool whole_store = options.request == 0;
  if (whole_store && !by_track.empty()) {
    // Every step will be asked for: one pass under the store's lock beats a lookup per step.
    store.for_each_step([&](const Step& st) {
      auto tit = by_track.find(st.track);
      step_spans.emplace(st.id, tit != by_track.end() ? &tit->second : nullptr);
    });
  }
  uint64_t last_step = 0;
  TrackSpans* last_step_spans = nullptr;
  auto place = [&](const Event& d, int64_t ns) {
    if (!device_ok(d.track)) return;
    uint32_t parent = 0;
    bool placed = false;
    if (d.id != 0 && !span_of_correlation.empty()) {
      auto it = span_of_correlation.find(d.id);
      if (it != span_of_correlation.end()) {
        parent = it->second.first->spans[it->second.second].node;
        placed = true;
      }
    }
    if (!placed && d.step != 0 && !by_track.empty()) {
      if (d.step != last_step || last_step == 0) {
        auto sit = step_spans.find(d.step);
        if (sit == step_spans.end()) {
          TrackSpans* spans = nullptr;
          if (!whole_store) {
            if (const auto track = store.step_track(d.step)) {
              auto tit = by_track.find(*track);
              if (tit != by_track.end()) spans = &tit->second;
            }
          }
          sit = step_spans.emplace(d.step, spans).first;
        }
        last_step = d.step;
        last_step_spans = sit->second;
      }
      if (last_step_spans != nullptr) {
        // Last span starting at or before the kernel; walk out to one that contains it. With
        // several lanes, the thread's own stack (lane 0) first, then the lane of that span.
        const int32_t last = last_step_spans->last_starting_by(d.ts);
        const auto& spans = last_step_spans->spans;
        const auto& lane0_at = last_step_spans->lane0_at;
        auto containing = [&](int32_t i) {
          while (i >= 0 && (spans[i].end <= d.ts || spans[i].owned)) i = spans[i].parent;
          return i;
        };
        int32_t i = -1;
        if (!lane0_at.empty() && last >= 0) i = containing(lane0_at[last]);
        if (i < 0) i = containing(last);
        if (i >= 0) {
          parent = spans[i].node;
          placed = true;
        }
      }
    }
    if (!placed) {
      const Process& p = snapshot.process_of(d.track);
      const StringId label = p.name != 0 ? p.name : p.label;
      parent = builder.child(0, label, false, "(device)");
    }
    // The launching phase waited for (or overlapped) this kernel: count the kernel's time once,
    // as the kernel, not again as the phase's own host time.
    if (placed) tree.nodes[parent].self -= ns;
    const uint32_t k = builder.child(parent, d.name, true);
    tree.nodes[k].self += ns;
    tree.nodes[k].calls += 1;
  };
  if (whole_store) {
    snapshot.for_each([&](const EventView& ev) {
      if (snapshot.is_device_event(*ev)) place(*ev, ev->dur);
    });
  } else {
    for (const auto& a : request_device_events(store, snapshot, options.request, options.mode)) {
      place(*snapshot.at(a.seq), a.ns);
    }
  }

  finish_values(&tree);
  fold_small_nodes(&tree, options.max_nodes);
  return tree;
}

void fold_small_nodes(FlameTree* tree, size_t max_nodes) {
  auto& nodes = tree->nodes;
  fold_tree_nodes(
      nodes, max_nodes, [&](uint32_t i) { return nodes[i].value; },
      [](FlameNode& other, const FlameNode& n) {
        other.value += n.value;
        other.self += n.value;
        other.calls += n.calls;
        other.device = other.device && n.device;
      },
      [](const FlameNode& other) { return other.value > 0 || other.calls > 0; });
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
