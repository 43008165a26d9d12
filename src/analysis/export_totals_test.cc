// Exports lose no time: on every trace of the corpus of real traces, each name's total in the
// speedscope file (as speedscope counts it) is the sum of its events' durations, and each
// kernel's total in the folded stacks / flame tree equals `huoyan top`'s. Overlapping spans of
// one thread or stream go to lanes of their own instead of being clipped or nested.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "src/analysis/flame_tree.h"
#include "src/analysis/kernel_stats.h"
#include "src/io/sink.h"
#include "src/readers/sniff.h"
#include "src/writers/speedscope_writer.h"

namespace huoyan {
namespace {

using Totals = std::map<std::string, int64_t>;

size_t g_recursive_names = 0;  // names whose speedscope total is time on the stack

// Per frame name, the time speedscope counts for it: the time it is open in some profile, once
// however deeply it is open there (speedscope's own rule for recursion).
Totals speedscope_totals(const std::string& text, std::string* error) {
  Totals totals;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto e = parser.parse(simdjson::padded_string(text)).get(doc); e != simdjson::SUCCESS) {
    *error = simdjson::error_message(e);
    return totals;
  }
  std::vector<std::string> frames;
  for (simdjson::dom::element f : doc["shared"]["frames"].get_array()) {
    frames.emplace_back(std::string_view(f["name"].get_string()));
  }
  for (simdjson::dom::element p : doc["profiles"].get_array()) {
    std::map<uint64_t, int> open;
    uint64_t last = p["startValue"].get_uint64();
    for (simdjson::dom::element e : p["events"].get_array()) {
      const uint64_t at = e["at"].get_uint64();
      const uint64_t frame = e["frame"].get_uint64();
      for (const auto& [f, n] : open) {
        if (n > 0 && at > last) totals[frames.at(f)] += static_cast<int64_t>(at - last);
      }
      last = at;
      open[frame] += std::string_view(e["type"].get_string()) == "O" ? 1 : -1;
    }
  }
  return totals;
}

struct Expected {
  Totals durations;                            // every duration event, by name
  Totals device;                               // device events (what `huoyan top` counts), by name
  std::map<std::string, uint64_t> host_spans;  // host spans, by name: how many
  // Host spans (not request-owned) found inside another of their name on their track: a
  // recursive call, whose time a profiler counts once, not as the sum of the calls.
  std::set<std::string> recursive;
};

Expected expected_totals(const Snapshot& snap) {
  Expected x;
  std::map<std::pair<TrackId, StringId>, std::vector<std::pair<int64_t, int64_t>>> calls;
  snap.for_each([&](const EventView& ev) {
    if (!has_duration(ev->kind)) return;
    const std::string name(snap.str(ev->name));
    x.durations[name] += std::max<int64_t>(ev->dur, 0);
    const EventKind kind = snap.kind_of(*ev);
    if (is_device_work(kind)) {
      x.device[name] += ev->dur;
    } else if (kind == EventKind::kHost) {
      x.host_spans[name] += 1;
      if (ev->request == 0) {
        calls[{ev->track, ev->name}].emplace_back(ev->ts, ev->ts + std::max<int64_t>(ev->dur, 0));
      }
    }
  });
  for (auto& [key, list] : calls) {
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second > b.second;
    });
    int64_t max_end = INT64_MIN;
    for (const auto& [ts, end] : list) {
      if (end <= max_end) x.recursive.insert(std::string(snap.str(key.second)));
      max_end = std::max(max_end, end);
    }
  }
  return x;
}

Totals drop_zeros(Totals t) {
  std::erase_if(t, [](const auto& kv) { return kv.second == 0; });
  return t;
}

// Checks every export of one store; returns the number of names checked. *lanes counts the
// extra speedscope profiles that overlapping events needed.
size_t check_exports(const TraceStore& store, const std::string& what, uint64_t* lanes = nullptr) {
  const Snapshot snap = store.snapshot();
  const Expected x = expected_totals(snap);

  // huoyan top.
  Totals top;
  for (const KernelStat& row : kernel_stats(snap, device_events(snap), GroupBy::kName)) {
    top[row.name] += row.total_ns;  // a name of two kinds (a copy and a kernel) is two rows
  }
  EXPECT_EQ(drop_zeros(top), drop_zeros(x.device)) << what;

  // speedscope.
  StringSink sink;
  auto written = write_speedscope(snap, sink, what);
  EXPECT_TRUE(written.ok()) << what;
  if (lanes != nullptr && written.ok()) *lanes += written->lanes;
  std::string error;
  const Totals speedscope = speedscope_totals(sink.str(), &error);
  EXPECT_EQ(error, "") << what;
  // Recursive names count their time on the stack; the others the sum of their durations.
  Totals speedscope_checked = drop_zeros(speedscope), durations_checked = drop_zeros(x.durations);
  g_recursive_names += x.recursive.size();
  for (const std::string& name : x.recursive) {
    const int64_t on_stack = speedscope_checked[name];
    EXPECT_LE(on_stack, durations_checked[name]) << what << ": " << name;
    speedscope_checked.erase(name);
    durations_checked.erase(name);
  }
  EXPECT_EQ(speedscope_checked, durations_checked) << what;
  for (const auto& [name, ns] : drop_zeros(top)) {
    auto it = speedscope.find(name);
    // A name that is both a kernel and a host span sums both in speedscope.
    if (x.durations.at(name) == x.device.at(name)) {
      EXPECT_TRUE(it != speedscope.end() && it->second == ns) << what << ": " << name;
    }
  }

  // Flame tree (what the folded stacks, the flame graph and /api/flamegraph show).
  FlameOptions options;
  options.max_nodes = 0;
  const FlameTree tree = build_flame_tree(store, snap, options);
  Totals kernels;
  std::map<std::string, uint64_t> host_calls;
  for (size_t i = 1; i < tree.nodes.size(); ++i) {
    const FlameNode& n = tree.nodes[i];
    const std::string name(n.name);
    if (n.device) {
      kernels[name] += n.self;
      continue;
    }
    if (n.parent == 0 && n.calls == 0) continue;  // the frame named after a device's process
    host_calls[name] += n.calls;
  }
  EXPECT_EQ(host_calls, x.host_spans) << what;
  // A host span and a kernel of one name under one parent share a node: compare the others.
  Totals top_kernels_only = drop_zeros(top);
  for (const auto& [name, n] : x.host_spans) {
    kernels.erase(name);
    top_kernels_only.erase(name);
  }
  EXPECT_EQ(drop_zeros(kernels), top_kernels_only) << what;

  // Folded stacks: each line's last frame holds its node's self time, so a kernel's lines add
  // up to its total.
  StringSink folded;
  EXPECT_TRUE(write_folded(tree, folded).ok()) << what;
  Totals folded_kernels;
  std::map<std::string, bool> is_kernel;
  for (const FlameNode& n : tree.nodes) {
    if (n.device) is_kernel[std::string(n.name)] = true;
  }
  const std::string& text = folded.str();
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    const size_t space = line.rfind(' ');
    const size_t semi = line.rfind(';', space);
    const std::string leaf(line.substr(semi == std::string_view::npos ? 0 : semi + 1,
                                       space - (semi == std::string_view::npos ? 0 : semi + 1)));
    if (is_kernel.count(leaf) && x.device.count(leaf) && !x.host_spans.count(leaf)) {
      folded_kernels[leaf] += std::stoll(std::string(line.substr(space + 1)));
    }
  }
  for (const auto& [name, ns] : drop_zeros(top)) {
    // ';' and line breaks in names are rewritten in folded stacks; such names are skipped.
    if (name.find_first_of(";\n\r") != std::string::npos || x.host_spans.count(name)) continue;
    EXPECT_EQ(folded_kernels[name], ns) << what << ": " << name;
  }
  return x.durations.size();
}

TEST(ExportTotals, SyntheticOverlapsOnAThreadAndAStream) {
  TraceStore store;
  {
    auto w = store.writer();
    const TrackId thread = w.track(1, 1);
    const TrackId stream = w.device_track(DeviceType::kNpu, 0, 3);
    auto add = [&](TrackId t, const char* name, int64_t ts, int64_t dur, EventKind kind,
                   const std::string& request = "") {
      Event e;
      e.kind = kind;
      e.track = t;
      e.name = store.intern(name);
      if (!request.empty()) e.request = store.intern(request);
      e.ts = ts;
      e.dur = dur;
      w.append(e);
    };
    // The serving loop's own phases, and request-owned queue waits that overlap them and each
    // other (recorded from arrival to scheduling).
    for (int step = 0; step < 20; ++step) {
      const int64_t t = step * 1000;
      add(thread, "step", t, 900, EventKind::kSpan);
      add(thread, "forward", t + 100, 700, EventKind::kSpan);
      add(thread, "queue_wait", t + 450, 1300 + (step % 3) * 700, EventKind::kSpan,
          "req-" + std::to_string(step));
      add(stream, "gemm", t + 150, 300, EventKind::kKernel);
      add(stream, "gemm", t + 400, 300, EventKind::kKernel);  // overlaps the previous gemm
      add(stream, "attention", t + 420, 100, EventKind::kKernel);
      add(stream, "gemm", t + 430, 50, EventKind::kKernel);  // inside both gemms
    }
  }
  uint64_t lanes = 0;
  EXPECT_EQ(check_exports(store, "synthetic", &lanes), 5u);
  EXPECT_GT(lanes, 0u);
}

TEST(ExportTotals, RealTracesLoseNothing) {
  const std::filesystem::path root = HUOYAN_TESTDATA_REAL;
  // The shared collection sits beside every checkout (CI too): its absence is a failure.
  ASSERT_TRUE(std::filesystem::is_directory(root)) << "no shared test data at " << root;
  std::vector<std::string> inputs;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    const std::string path = entry.path().string();
    if (entry.is_regular_file() && entry.path().filename() != "SOURCES.md") inputs.push_back(path);
    // Vendor folders are read as a whole.
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && (name == "ASCEND_PROFILER_OUTPUT" || name.starts_with("PROF_"))) {
      inputs.push_back(path);
    }
  }
  std::sort(inputs.begin(), inputs.end());
  size_t traces = 0, names = 0;
  uint64_t lanes = 0;
  for (const std::string& path : inputs) {
    TraceStore store;
    auto read = read_input(path, store, {});
    if (!read.ok() || store.held() == 0) continue;  // not a trace, or one without events
    ++traces;
    names += check_exports(store, path, &lanes);
  }
  EXPECT_GE(traces, 50u);
  EXPECT_GE(names, 1000u);
  EXPECT_GT(lanes, 0u);  // the corpus has overlapping events, so the lanes were exercised
  std::printf("checked %zu traces, %zu names (%zu recursive), %llu overlap lanes\n", traces, names,
              g_recursive_names, static_cast<unsigned long long>(lanes));
}

}  // namespace
}  // namespace huoyan
