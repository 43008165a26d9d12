// Folded-stack reader: every folded file of testdata/real through read_input, checked against
// SOURCES.md (samples, valid and invalid lines, depth); encodings, bad lines, NUL bytes; the
// flame graph of what was read is the input again.
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/analysis/flame_tree.h"
#include "src/io/input.h"
#include "src/io/sink.h"
#include "src/readers/folded_reader.h"
#include "src/readers/sniff.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;       // NOLINT(build/namespaces)
using namespace std::string_view_literals;  // NOLINT(build/namespaces)

const fs::path kReal = HUOYAN_TESTDATA_REAL;

struct Expected {
  std::string path;
  uint64_t valid = 0, invalid = 0, samples = 0, depth = 0, stacks = 0;
};

std::vector<Expected> load_expected() {
  std::ifstream in(kReal / "SOURCES.md");
  const std::regex line_re(R"(^\* `(folded/[^`]+)`)");
  const std::regex valid_re(R"(valid sample lines=(\d+); invalid lines=(\d+))");
  const std::regex samples_re(R"(total samples \(sum of counts\)=(\d+))");
  const std::regex depth_re(R"(max depth=(\d+))");
  const std::regex stacks_re(R"(distinct stacks=(\d+))");
  std::vector<Expected> out;
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (!std::regex_search(line, m, line_re)) continue;
    Expected e;
    e.path = m[1].str();
    if (std::regex_search(line, m, valid_re)) {
      e.valid = std::stoull(m[1].str());
      e.invalid = std::stoull(m[2].str());
    }
    if (std::regex_search(line, m, samples_re)) e.samples = std::stoull(m[1].str());
    if (std::regex_search(line, m, depth_re)) e.depth = std::stoull(m[1].str());
    if (std::regex_search(line, m, stacks_re)) e.stacks = std::stoull(m[1].str());
    out.push_back(std::move(e));
  }
  return out;
}

// Samples per distinct stack, from the folded text huoyan writes for the store's flame graph
// (values in ns of self time).
std::map<std::string, uint64_t> flame_stacks(const TraceStore& store) {
  const Snapshot snap = store.snapshot();
  const FlameTree tree = build_flame_tree(store, snap, {});
  StringSink sink;
  EXPECT_TRUE(write_folded(tree, sink).ok());
  std::map<std::string, uint64_t> out;
  std::istringstream lines(sink.str());
  std::string line;
  while (std::getline(lines, line)) {
    const size_t sp = line.rfind(' ');
    const uint64_t ns = std::stoull(line.substr(sp + 1));
    EXPECT_EQ(ns % FoldedReader::kSampleNs, 0u) << line;
    out[line.substr(0, sp)] += ns / FoldedReader::kSampleNs;
  }
  return out;
}

// Samples per distinct stack of a folded file, by the reference definition of SOURCES.md.
std::map<std::string, uint64_t> reference_stacks(const std::string& utf8) {
  std::map<std::string, uint64_t> out;
  std::istringstream lines(utf8);
  std::string line;
  const std::regex valid(R"(^(.*\S)\s+(\d+)\s*$)");
  std::smatch m;
  while (std::getline(lines, line)) {
    if (!std::regex_match(line, m, valid)) continue;
    const uint64_t n = std::stoull(m[2].str());
    if (n > 0) out[m[1].str()] += n;
  }
  return out;
}

TEST(FoldedReaderReal, EveryFileMatchesSources) {
  const auto expected = load_expected();
  ASSERT_EQ(expected.size(), 23u);
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.path);
    const std::string path = (kReal / e.path).string();
    TraceStore store;
    InputReport report;
    auto r = read_input(path, store, {}, &report);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(report.read.size(), 1u);
    EXPECT_EQ(report.read[0].format, "folded");
    EXPECT_EQ(store.skips().get("folded: invalid line"), e.invalid);
    EXPECT_EQ(r->skipped, e.invalid);
    // Samples: the top-level spans cover the whole track, one sample = kSampleNs.
    const Snapshot snap = store.snapshot();
    int64_t end = 0;
    snap.for_each([&](const EventView& ev) { end = std::max(end, ev->end()); });
    EXPECT_EQ(static_cast<uint64_t>(end), e.samples * FoldedReader::kSampleNs);
    // The flame graph: same total, same deepest stack, one node with self time per stack.
    const FlameTree tree = build_flame_tree(store, snap, {});
    EXPECT_EQ(static_cast<uint64_t>(tree.root().value), e.samples * FoldedReader::kSampleNs);
    std::vector<uint64_t> depth(tree.nodes.size(), 0);
    uint64_t max_depth = 0, stacks = 0;
    for (size_t i = 1; i < tree.nodes.size(); ++i) {
      depth[i] = depth[tree.nodes[i].parent] + 1;
      max_depth = std::max(max_depth, depth[i]);
      stacks += tree.nodes[i].self > 0;
    }
    EXPECT_EQ(max_depth, e.depth);
    EXPECT_EQ(stacks, e.stacks);
  }
}

TEST(FoldedReaderReal, FlameGraphIsTheInput) {
  for (const char* rel :
       {"folded/flamegraph/test/results/perf-vertx-stacks-01-collapsed-all.txt",
        "folded/speedscope/sample/profiles/stackcollapse/recursion.txt",
        "folded/speedscope/sample/profiles/stackcollapse/alternating.txt",
        "folded/speedscope/sample/profiles/stackcollapse/simple-with-invalids.txt"}) {
    SCOPED_TRACE(rel);
    TraceStore store;
    ASSERT_TRUE(read_input((kReal / rel).string(), store, {}).ok());
    auto text = read_all((kReal / rel).string());
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(flame_stacks(store), reference_stacks(*text));
  }
}

TEST(FoldedReaderReal, EncodingsReadTheSame) {
  const fs::path dir = kReal / "folded/speedscope/sample/profiles/stackcollapse";
  TraceStore plain;
  ASSERT_TRUE(read_input((dir / "simple.txt").string(), plain, {}).ok());
  const auto want = flame_stacks(plain);
  EXPECT_EQ(want.size(), 3u);
  for (const char* f : {"simple-crlf.txt", "simple-utf16-le.txt", "simple-utf16-be.txt"}) {
    SCOPED_TRACE(f);
    TraceStore store;
    InputReport report;
    ASSERT_TRUE(read_input((dir / f).string(), store, {}, &report).ok());
    EXPECT_EQ(report.read.at(0).format, "folded");
    EXPECT_EQ(store.skips().total(), 0u);
    EXPECT_EQ(flame_stacks(store), want);
  }
}

Result<ReadStats> read_string(const std::string& text, TraceStore& store) {
  auto src = ByteSource::from_string(text, "t.folded");
  FoldedReader reader;
  return reader.read(*src, store, {});
}

TEST(FoldedReader, NestedSpansLaidEndToEnd) {
  TraceStore store;
  auto r = read_string("a;b;c 2\na;b 1\na;d 3\nx 1\n", store);
  ASSERT_TRUE(r.ok()) << r.status().message();
  // a [0,6) b [0,3) c [0,2) d [3,6) x [6,7) in ms.
  std::map<std::string, std::pair<int64_t, int64_t>> spans;
  const Snapshot snap = store.snapshot();
  snap.for_each([&](const EventView& ev) {
    spans[std::string(snap.str(ev->name))] = {ev->ts / FoldedReader::kSampleNs,
                                              ev->end() / FoldedReader::kSampleNs};
  });
  using P = std::pair<int64_t, int64_t>;
  EXPECT_EQ(spans["a"], P(0, 6));
  EXPECT_EQ(spans["b"], P(0, 3));
  EXPECT_EQ(spans["c"], P(0, 2));
  EXPECT_EQ(spans["d"], P(3, 6));
  EXPECT_EQ(spans["x"], P(6, 7));
  EXPECT_EQ(r->events, 5u);
}

TEST(FoldedReader, BadLinesAreCounted) {
  TraceStore store;
  const std::string text =
      "a;b 1\n"s
      "# comment\n"
      "no count\n"
      "a;b 1.5\n"
      "; 3\n"
      "a\0b 2\n"
      "a;b 99999999999999999999\n"
      "\n"
      "   \n"
      "a;b 0\n"
      "c 2";
  auto r = read_string(text, store);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(store.skips().get("folded: invalid line"), 6u);
  EXPECT_EQ(r->skipped, 6u);
}

TEST(FoldedReader, NulBytesEverywhereIsAnError) {
  TraceStore store;
  auto r = read_string("a;b 1\n" + std::string(100, '\0'), store);
  // The first line is fine; the NUL-only rest is one more invalid line.
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(store.skips().get("folded: invalid line"), 1u);
  TraceStore empty;
  auto bad = read_string(std::string(64, '\0'), empty);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("t.folded"), std::string::npos);
  EXPECT_NE(bad.status().message().find("line 1"), std::string::npos);
  EXPECT_FALSE(read_string("", empty).ok());
}

TEST(FoldedReader, InvalidUtf8IsRepaired) {
  TraceStore store;
  ASSERT_TRUE(read_string("a;\xff\xfe 1\n", store).ok());
  EXPECT_EQ(store.skips().get("folded: invalid UTF-8 repaired"), 2u);
}

TEST(FoldedReader, Sniff) {
  EXPECT_TRUE(sniff_folded("a;b;c 1\n"));
  EXPECT_TRUE(sniff_folded("# header\na;b 1\nx 2"));
  EXPECT_TRUE(
      sniff_folded("\xFF\xFE"
                   "a\0 \0"
                   "1\0"sv));
  EXPECT_FALSE(sniff_folded("Step Id,Model ID,Name\n1,2,x\n"));
  EXPECT_FALSE(sniff_folded("[{\"ph\":\"X\"}]"));
  EXPECT_FALSE(sniff_folded(std::string("a;b 1\n\0\0", 8)));
  EXPECT_FALSE(sniff_folded("hello world\nthis is text 1\n"));
  EXPECT_FALSE(sniff_folded(""));
}

}  // namespace
}  // namespace huoyan
