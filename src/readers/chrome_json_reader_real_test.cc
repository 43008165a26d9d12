// Every Chrome-format JSON file of the shared real-trace collection (chrome/, kineto/ and the
// JSON files of ascend/, gzip included) is imported and checked against the expected counts
// recorded per file in SOURCES.md, which this test parses so the two cannot drift apart.
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/core/time_format.h"
#include "src/readers/chrome_event_decoder.h"
#include "src/readers/chrome_json_reader.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;

const fs::path kReal = HUOYAN_TESTDATA_REAL;

struct Expected {
  std::string path;  // relative to kReal
  uint64_t events = 0;
  std::map<std::string, uint64_t> ph;
  uint64_t kernels = 0;  // cat~kernel when listed (old "Kernel" schema), else cat==kernel
  std::map<std::pair<int64_t, int64_t>, uint64_t> kernel_streams;
  bool has_kernel_streams = false;
  uint64_t be_matched = 0, unmatched_b = 0, unmatched_e = 0;
  std::string min_ts;                            // as printed (a Python float)
  std::map<std::string, std::string> processes;  // pid → process_name
  uint64_t hw_x = 0;
  bool has_hw_x = false;
};

uint64_t num(const std::smatch& m, int i) { return std::stoull(m[i].str()); }

std::vector<Expected> load_expected() {
  std::ifstream in(kReal / "SOURCES.md");
  std::vector<Expected> out;
  const std::regex line_re(R"(^\* `((chrome|kineto|ascend)/[^`]+\.(json|gz))` \(.*parse=)");
  const std::regex events_re(R"(; events=(\d+);)");
  const std::regex ph_re(R"(ph=\{([^}]*)\})");
  const std::regex ph_item_re(R"re("([^"]+)":(\d+))re");
  const std::regex kernel_re(R"(cat==kernel=(\d+))");
  const std::regex kernel_ci_re(R"(cat~kernel=(\d+))");
  const std::regex streams_re(R"(kernel \(device,stream\)->n: ([^;]*) \(\d+ distinct)");
  const std::regex stream_item_re(R"(\((-?\d+), (-?\d+)\):(\d+))");
  const std::regex be_re(R"(matched=(\d+), unmatched B=(\d+), unmatched E=(\d+))");
  const std::regex min_re(R"(min ts=([-0-9.e+]+))");
  const std::regex proc_re(R"(process_name: \{([^}]*)\})");
  const std::regex proc_item_re(R"re("([^"]+)": "([^"]*)")re");
  const std::regex hw_re(R"(hw X=(\d+))");
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (!std::regex_search(line, m, line_re)) continue;
    Expected e;
    e.path = m[1].str();
    if (std::regex_search(line, m, events_re)) e.events = num(m, 1);
    if (std::regex_search(line, m, ph_re)) {
      const std::string items = m[1].str();
      for (std::sregex_iterator it(items.begin(), items.end(), ph_item_re), end; it != end; ++it) {
        e.ph[(*it)[1].str()] = std::stoull((*it)[2].str());
      }
    }
    if (std::regex_search(line, m, kernel_re)) e.kernels = num(m, 1);
    if (std::regex_search(line, m, kernel_ci_re)) e.kernels = num(m, 1);
    if (std::regex_search(line, m, streams_re)) {
      e.has_kernel_streams = true;
      const std::string items = m[1].str();
      for (std::sregex_iterator it(items.begin(), items.end(), stream_item_re), end; it != end;
           ++it) {
        e.kernel_streams[{std::stoll((*it)[1].str()), std::stoll((*it)[2].str())}] =
            std::stoull((*it)[3].str());
      }
    }
    if (std::regex_search(line, m, be_re)) {
      e.be_matched = num(m, 1);
      e.unmatched_b = num(m, 2);
      e.unmatched_e = num(m, 3);
    }
    if (std::regex_search(line, m, min_re)) e.min_ts = m[1].str();
    if (std::regex_search(line, m, proc_re)) {
      const std::string items = m[1].str();
      for (std::sregex_iterator it(items.begin(), items.end(), proc_item_re), end; it != end;
           ++it) {
        e.processes[(*it)[1].str()] = (*it)[2].str();
      }
    }
    if (std::regex_search(line, m, hw_re)) {
      e.has_hw_x = true;
      e.hw_x = num(m, 1);
    }
    out.push_back(std::move(e));
  }
  return out;
}

uint64_t ph(const Expected& e, const char* p) {
  auto it = e.ph.find(p);
  return it == e.ph.end() ? 0 : it->second;
}

// An arg of a stored event as an integer, if present and integral.
bool int_arg(const Snapshot& snap, const EventView& ev, std::string_view key, int64_t* v) {
  for (const StoredArg& a : ev.args()) {
    if (snap.str(a.key) != key) continue;
    const ArgValue val = a.value();
    if (val.type == ArgType::kInt)
      *v = val.i;
    else if (val.type == ArgType::kUint)
      *v = static_cast<int64_t>(val.u);
    else
      return false;
    return true;
  }
  return false;
}

// The double nearest to our exact ns value in µs, as Python would print-parse it.
double us_double(int64_t ns) {
  char buf[32];
  const size_t n = format_ns_as_us(ns, buf);
  buf[n] = '\0';
  return std::strtod(buf, nullptr);
}

TEST(ChromeJsonReaderReal, TestdataIsPresent) {
  ASSERT_TRUE(fs::is_directory(kReal)) << kReal << " is missing: the real-trace tests need it";
  ASSERT_TRUE(fs::exists(kReal / "SOURCES.md"));
}

TEST(ChromeJsonReaderReal, EveryFileIsListed) {
  ASSERT_TRUE(fs::is_directory(kReal));
  std::set<std::string> listed;
  for (const Expected& e : load_expected()) listed.insert(e.path);
  size_t files = 0;
  for (const char* dir : {"chrome", "kineto", "ascend"}) {
    for (const auto& entry : fs::recursive_directory_iterator(kReal / dir)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".json" && ext != ".gz")) continue;
      ++files;
      EXPECT_TRUE(listed.count(fs::relative(entry.path(), kReal).string()))
          << entry.path() << " has no expected counts in SOURCES.md";
    }
  }
  EXPECT_GE(files, 60u);
}

TEST(ChromeJsonReaderReal, CountsMatchSources) {
  const std::vector<Expected> all = load_expected();
  ASSERT_GE(all.size(), 60u) << "SOURCES.md format changed?";
  for (const Expected& x : all) {
    SCOPED_TRACE(x.path);
    TraceStore store;
    auto r = read_chrome_json_file((kReal / x.path).string(), store);
    ASSERT_TRUE(r.ok()) << r.status().message();
    const Snapshot snap = store.snapshot();
    const SkipCounters& skips = store.skips();

    // Stored: every timed event of a supported phase; B/E as pairs plus unclosed Bs.
    const uint64_t supported = ph(x, "X") + ph(x, "i") + ph(x, "I") + ph(x, "C") + ph(x, "s") +
                               ph(x, "t") + ph(x, "f") + ph(x, "b") + ph(x, "e") + ph(x, "n");
    EXPECT_EQ(r->events, supported + x.be_matched + x.unmatched_b);
    EXPECT_EQ(snap.size(), r->events);
    uint64_t unsupported = 0;
    for (const auto& [p, n] : x.ph) {
      if (std::string("XBEiICstfbenM").find(p) != std::string::npos) continue;
      EXPECT_EQ(skips.get("unsupported phase '" + p + "'"), n) << "phase " << p;
      unsupported += n;
    }
    EXPECT_EQ(r->skipped, unsupported + x.unmatched_e);
    EXPECT_EQ(skips.get("unmatched E"), x.unmatched_e);
    EXPECT_EQ(skips.get("unclosed B"), x.unmatched_b);
    for (const char* bad : {"malformed event JSON", "missing ts", "bad ts", "bad dur",
                            "negative dur", "missing ph", "truncated event at end of input"}) {
      EXPECT_EQ(skips.get(bad), 0u) << bad;
    }

    std::map<EventKind, uint64_t> kinds;
    uint64_t unclosed = 0;
    std::map<std::pair<int64_t, int64_t>, uint64_t> streams;
    int64_t min_ts = INT64_MAX;
    uint64_t kernel_cat = 0;  // SOURCES.md's "cat~kernel": kernels and NCCL kernels alike
    snap.for_each([&](const EventView& ev) {
      ++kinds[ev->kind];
      if (ev->flags & event_flags::kUnclosed) ++unclosed;
      min_ts = std::min(min_ts, ev->ts);
      std::string cat(snap.str(ev->cat));
      for (char& c : cat) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (kind_from_category(cat, "") == EventKind::kKernel &&
          cat.find("kernel") != std::string::npos) {
        ++kernel_cat;
        int64_t dev = -1, stream = -1;
        int_arg(snap, ev, "device", &dev);
        if (!int_arg(snap, ev, "stream", &stream)) int_arg(snap, ev, "streamId", &stream);
        ++streams[{dev, stream}];
      }
    });
    uint64_t durations = 0;
    for (const auto& [k, n] : kinds) {
      if (has_duration(k)) durations += n;
    }
    EXPECT_EQ(durations, ph(x, "X") + x.be_matched + x.unmatched_b);
    EXPECT_EQ(unclosed, x.unmatched_b);
    EXPECT_EQ(kinds[EventKind::kInstant], ph(x, "i") + ph(x, "I"));
    EXPECT_EQ(kinds[EventKind::kCounter], ph(x, "C"));
    EXPECT_EQ(kinds[EventKind::kFlowStart], ph(x, "s"));
    EXPECT_EQ(kinds[EventKind::kFlowStep], ph(x, "t"));
    EXPECT_EQ(kinds[EventKind::kFlowEnd], ph(x, "f"));
    EXPECT_EQ(kinds[EventKind::kAsyncBegin], ph(x, "b"));
    EXPECT_EQ(kinds[EventKind::kAsyncEnd], ph(x, "e"));
    EXPECT_EQ(kinds[EventKind::kAsyncInstant], ph(x, "n"));
    if (x.has_hw_x) {
      // Ascend device tasks have no "cat": their kinds come from "Task Type" (checked per
      // file in msprof_json_reader_test.cc); all of them are on the hardware layer.
      EXPECT_LE(kinds[EventKind::kKernel] + kinds[EventKind::kMemcpy] + kinds[EventKind::kMemset] +
                    kinds[EventKind::kCollective] + kinds[EventKind::kWait],
                x.hw_x);
    } else {
      EXPECT_EQ(kernel_cat, x.kernels);
    }
    if (x.has_kernel_streams) {
      EXPECT_EQ(streams, x.kernel_streams);
    }

    if (!x.min_ts.empty() && r->events > 0) {
      // SOURCES.md prints Python floats: either the decimal is exact (rounded to ns, as we
      // store it) or it is the double nearest to the file's value, which ours must round to.
      int64_t expected_ns = 0;
      ASSERT_TRUE(parse_decimal_to_ns(x.min_ts, 1000, &expected_ns)) << x.min_ts;
      EXPECT_TRUE(min_ts == expected_ns ||
                  us_double(min_ts) == std::strtod(x.min_ts.c_str(), nullptr))
          << "min ts " << min_ts << " ns, expected " << x.min_ts << " us";
    }

    // Processes named like devices are devices; their pids may be strings in SOURCES.md.
    for (const auto& [pid, name] : x.processes) {
      DeviceType type;
      int32_t index;
      const bool device = device_from_process_name(name, &type, &index);
      bool found = false;
      for (const Process& p : snap.processes()) {
        if (snap.str(p.name) != name || std::to_string(p.pid) != pid) continue;
        found = true;
        EXPECT_EQ(p.device_type, device ? type : DeviceType::kNone) << name;
      }
      EXPECT_TRUE(found) << "process " << pid << " " << name;
    }
    if (x.has_hw_x) {
      uint64_t hw = 0;
      snap.for_each([&](const EventView& ev) {
        const Process& p = snap.process_of(ev->track);
        if (p.device_type == DeviceType::kNpu && has_duration(ev->kind)) ++hw;
      });
      EXPECT_EQ(hw, x.hw_x);
    }
  }
}

}  // namespace
}  // namespace huoyan
