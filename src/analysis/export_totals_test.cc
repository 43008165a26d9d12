// Exports lose no time: on every trace of the corpus of real traces, each name's total in the
// speedscope file (as speedscope counts it) and in the Chrome JSON is the sum of its events'
// durations, the Chrome JSON's slices nest on every thread (so Perfetto keeps them), and each
// kernel's total in the folded stacks / flame tree equals `huoyan top`'s. Overlapping spans of
// one thread or stream go to lanes of their own instead of being clipped or nested.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "src/analysis/flame_tree.h"
#include "src/analysis/kernel_stats.h"
#include "src/io/sink.h"
#include "src/readers/sniff.h"
#include "src/writers/chrome_json_writer.h"
#include "src/writers/speedscope_writer.h"

namespace huoyan {
namespace {

using Totals = std::map<std::string, int64_t>;

size_t g_recursive_names = 0;          // names whose speedscope total is time on the stack
size_t g_crossings_without_lanes = 0;  // Chrome slices Perfetto would drop, written without lanes

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
  Totals durations;  // every duration event, by name
  Totals closed;     // the same without unclosed ones (Chrome JSON writes those as "B" again)
  Totals device;     // device events (what `huoyan top` counts), by name
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
    if (!(ev->flags & event_flags::kUnclosed)) x.closed[name] += std::max<int64_t>(ev->dur, 0);
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

// Per name, the total "dur" of the X events of a Chrome JSON document (ns from µs with three
// decimals); *crossings counts the slices that overlap one of their (pid, tid) without nesting.
Totals chrome_durations(const std::string& text, const std::string& what, size_t* crossings) {
  Totals totals;
  // Args keep the input's numbers verbatim, beyond 64 bits too (valid JSON that simdjson's DOM
  // does not take): outside strings, such integers become 0 here.
  std::string json;
  json.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      json += c;
      if (c == '\\' && i + 1 < text.size()) {
        json += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c >= '0' && c <= '9') {
      size_t j = i;
      while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
      const bool integer = j >= text.size() || (text[j] != '.' && text[j] != 'e' && text[j] != 'E');
      json.append(integer && j - i >= 20 ? std::string_view("0")
                                         : std::string_view(text).substr(i, j - i));
      i = j - 1;
      continue;
    }
    json += c;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto e = parser.parse(simdjson::padded_string(json)).get(doc); e != simdjson::SUCCESS) {
    ADD_FAILURE() << what << ": Chrome JSON does not parse: " << simdjson::error_message(e);
    return totals;
  }
  struct Slice {
    int64_t ts, end;
  };
  const auto ns = [](simdjson::dom::element v) {
    return static_cast<int64_t>(std::llround(double(v) * 1000.0));
  };
  for (simdjson::dom::element e : doc["traceEvents"].get_array()) {
    if (std::string_view(e["ph"]) != "X") continue;
    totals[std::string(std::string_view(e["name"]))] += std::max<int64_t>(ns(e["dur"]), 0);
  }
  // Exact times from the text (one event per line; a double cannot hold epoch µs to the ns):
  // the digits of "ts" and "dur" without their decimal point.
  const auto field = [](std::string_view line, std::string_view key) {
    const size_t at = line.find(key);
    if (at == std::string_view::npos) return std::string_view();
    const size_t b = at + key.size();
    size_t e = b;
    while (e < line.size() && line[e] != ',' && line[e] != '}') ++e;
    return line.substr(b, e - b);
  };
  const auto exact_ns = [](std::string_view v) {
    std::string digits;
    for (char c : v) {
      if (c != '.') digits += c;
    }
    return digits.empty() ? int64_t{0} : std::stoll(digits);
  };
  std::map<std::string, std::vector<Slice>> threads;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    if (line.find("\"ph\":\"X\"") == std::string_view::npos) continue;
    const int64_t ts = exact_ns(field(line, "\"ts\":"));
    const int64_t dur = std::max<int64_t>(exact_ns(field(line, "\"dur\":")), 0);
    const std::string thread =
        std::string(field(line, ",\"pid\":")) + "/" + std::string(field(line, ",\"tid\":"));
    threads[thread].push_back({ts, ts + dur});
  }
  *crossings = 0;
  for (auto& [thread, v] : threads) {
    std::sort(v.begin(), v.end(), [](const Slice& a, const Slice& b) {
      return a.ts != b.ts ? a.ts < b.ts : a.end > b.end;
    });
    std::vector<int64_t> open;
    for (const Slice& s : v) {
      while (!open.empty() && open.back() <= s.ts) open.pop_back();
      if (!open.empty() && s.end > open.back()) ++*crossings;
      open.push_back(s.end);
    }
  }
  return drop_zeros(totals);
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

  // Chrome JSON: every duration kept, and on each thread (lanes included) slices that nest or
  // are disjoint, which Perfetto needs to keep them.
  StringSink chrome;
  EXPECT_TRUE(write_chrome_trace(store, chrome).ok()) << what;
  size_t crossings = 0;
  EXPECT_EQ(chrome_durations(chrome.str(), what, &crossings), drop_zeros(x.closed)) << what;
  EXPECT_EQ(crossings, 0u) << what << ": slices that Perfetto would drop";
  // Without lanes the same file has them (counted over the corpus: the check can fail).
  StringSink plain;
  ChromeWriteOptions no_lanes;
  no_lanes.lanes = false;
  EXPECT_TRUE(write_chrome_trace(store, plain, no_lanes).ok()) << what;
  chrome_durations(plain.str(), what, &crossings);
  g_crossings_without_lanes += crossings;

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
  EXPECT_GT(g_crossings_without_lanes, 0u);  // … and Chrome JSON needs its lanes
  std::printf(
      "checked %zu traces, %zu names (%zu recursive), %llu overlap lanes, %zu Chrome slices "
      "that cross their thread without lanes\n",
      traces, names, g_recursive_names, static_cast<unsigned long long>(lanes),
      g_crossings_without_lanes);
}

}  // namespace
}  // namespace huoyan
