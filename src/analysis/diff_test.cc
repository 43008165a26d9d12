#include "src/analysis/diff.h"

#include <cmath>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "src/analysis/diagnosis_testing.h"

namespace huoyan {
namespace {

KernelStat stat(std::string name, uint64_t count, int64_t total) {
  KernelStat s;
  s.name = std::move(name);
  s.count = count;
  s.total_ns = total;
  s.mean_ns = total / static_cast<int64_t>(count);
  return s;
}

TEST(DiffKernels, JoinedSortedByAbsoluteChange) {
  const auto rows =
      diff_kernels({stat("Int4Gemm", 10, 1000), stat("RMSNorm", 10, 100), stat("Softmax", 5, 400)},
                   {stat("Int4Gemm", 10, 1500), stat("RMSNorm", 10, 90), stat("Fused", 4, 200)});
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].name, "Int4Gemm");
  EXPECT_EQ(rows[0].status, DiffStatus::kChanged);
  EXPECT_EQ(rows[0].delta_total_ns, 500);
  EXPECT_DOUBLE_EQ(rows[0].relative, 0.5);
  EXPECT_EQ(rows[0].base_mean_ns, 100);
  EXPECT_EQ(rows[0].new_mean_ns, 150);
  EXPECT_EQ(rows[1].name, "Softmax");
  EXPECT_EQ(rows[1].status, DiffStatus::kVanished);
  EXPECT_EQ(rows[1].delta_total_ns, -400);
  EXPECT_DOUBLE_EQ(rows[1].relative, -1.0);
  EXPECT_EQ(rows[1].new_count, 0u);
  EXPECT_EQ(rows[2].name, "Fused");
  EXPECT_EQ(rows[2].status, DiffStatus::kNew);
  EXPECT_TRUE(std::isnan(rows[2].relative));
  EXPECT_EQ(rows[3].name, "RMSNorm");
  EXPECT_EQ(rows[3].delta_total_ns, -10);
  EXPECT_EQ(diff_status_name(DiffStatus::kVanished), "vanished");
}

// A tree by hand: paths with values (inclusive values are computed).
FlameTree tree_of(const std::vector<std::pair<std::vector<std::string>, int64_t>>& stacks,
                  std::shared_ptr<StringTable> strings) {
  FlameTree t;
  t.strings = strings;
  t.nodes.emplace_back();
  t.nodes[0].name = "all";
  for (const auto& [path, self] : stacks) {
    uint32_t cur = 0;
    for (const auto& frame : path) {
      const std::string_view name = strings->str(strings->intern(frame));
      uint32_t next = 0;
      for (uint32_t c : t.nodes[cur].children) {
        if (t.nodes[c].name == name) next = c;
      }
      if (next == 0) {
        next = static_cast<uint32_t>(t.nodes.size());
        FlameNode n;
        n.name = name;
        n.parent = cur;
        t.nodes.push_back(n);
        t.nodes[cur].children.push_back(next);
      }
      cur = next;
    }
    t.nodes[cur].self += self;
    t.nodes[cur].calls += 1;
  }
  for (size_t i = t.nodes.size(); i-- > 0;) {
    int64_t v = t.nodes[i].self;
    for (uint32_t c : t.nodes[i].children) v += t.nodes[c].value;
    t.nodes[i].value = v;
  }
  return t;
}

TEST(DiffFlameTree, WidthsFromNewDeltasAgainstBase) {
  auto base_strings = std::make_shared<StringTable>();
  auto new_strings = std::make_shared<StringTable>();
  const FlameTree base = tree_of({{{"step", "forward", "Int4Gemm"}, 100},
                                  {{"step", "forward", "Softmax"}, 30},
                                  {{"step", "select_batch"}, 20}},
                                 base_strings);
  const FlameTree now = tree_of({{{"step", "forward", "Int4Gemm"}, 150},
                                 {{"step", "forward", "Fused"}, 10},
                                 {{"step", "select_batch"}, 20}},
                                new_strings);
  const DiffFlameTree d = build_diff_flame_tree(base, now);
  EXPECT_EQ(d.root().value, 180);
  EXPECT_EQ(d.root().base, 150);
  EXPECT_EQ(d.root().delta, 30);
  auto find = [&](std::string_view name) -> const DiffFlameNode* {
    for (const auto& n : d.nodes) {
      if (n.name == name) return &n;
    }
    return nullptr;
  };
  ASSERT_NE(find("Int4Gemm"), nullptr);
  EXPECT_EQ(find("Int4Gemm")->delta, 50);
  EXPECT_EQ(find("Int4Gemm")->base, 100);
  EXPECT_EQ(find("Fused")->base, 0);
  EXPECT_EQ(find("Fused")->delta, 10);
  EXPECT_EQ(find("Softmax")->value, 0);  // only in BASE: kept, zero width
  EXPECT_EQ(find("Softmax")->delta, -30);
  EXPECT_EQ(find("select_batch")->delta, 0);
  // Children of a node: NEW's order first, then BASE-only frames; parents precede children.
  const DiffFlameNode* forward = find("forward");
  ASSERT_EQ(forward->children.size(), 3u);
  EXPECT_EQ(d.nodes[forward->children[0]].name, "Int4Gemm");
  EXPECT_EQ(d.nodes[forward->children[1]].name, "Fused");
  EXPECT_EQ(d.nodes[forward->children[2]].name, "Softmax");
  for (size_t i = 1; i < d.nodes.size(); ++i) EXPECT_LT(d.nodes[i].parent, i);
  // Every node's delta is the sum of its children's plus its own self delta: at the root,
  // the sum of the leaves' deltas.
  int64_t leaves = 0;
  for (const auto& n : d.nodes) {
    if (n.children.empty()) leaves += n.delta;
  }
  EXPECT_EQ(leaves, d.root().delta);

  StringSink sink;
  {
    BufferedOut out(&sink);
    write_diff_flame_json(d, out);
    ASSERT_TRUE(out.flush().ok());
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(sink.str()).get(doc), simdjson::SUCCESS) << sink.str();
  EXPECT_EQ(int64_t(doc["value"].get_int64()), 180);
  EXPECT_EQ(int64_t(doc["delta"].get_int64()), 30);
  EXPECT_EQ(int64_t(doc["base"].get_int64()), 150);
  EXPECT_NE(sink.str().find("{\"name\":\"Softmax\",\"value\":0,\"base\":30,\"delta\":-30,"
                            "\"calls\":0,\"base_calls\":1}"),
            std::string::npos)
      << sink.str();
}

TEST(DiffFlameTree, FoldKeepsTotalsAndShrunkFrames) {
  auto base_strings = std::make_shared<StringTable>();
  auto new_strings = std::make_shared<StringTable>();
  std::vector<std::pair<std::vector<std::string>, int64_t>> base_stacks;
  std::vector<std::pair<std::vector<std::string>, int64_t>> new_stacks;
  for (int i = 0; i < 40; ++i) {
    base_stacks.push_back({{"step", "k" + std::to_string(i)}, 10 + i});
    new_stacks.push_back({{"step", "k" + std::to_string(i)}, 10 + 2 * i});
  }
  base_stacks.push_back({{"step", "Gone"}, 5000});  // large in BASE, absent in NEW
  const DiffFlameTree full =
      build_diff_flame_tree(tree_of(base_stacks, base_strings), tree_of(new_stacks, new_strings));
  DiffFlameTree d = full;
  fold_small_diff_nodes(&d, 10);
  EXPECT_LE(d.nodes.size(), 12u);
  EXPECT_EQ(d.root().value, full.root().value);
  EXPECT_EQ(d.root().base, full.root().base);
  int64_t value = 0, base = 0, delta = 0;
  bool gone = false, other = false;
  for (uint32_t c : d.nodes[d.root().children[0]].children) {
    value += d.nodes[c].value;
    base += d.nodes[c].base;
    delta += d.nodes[c].delta;
    gone = gone || d.nodes[c].name == "Gone";
    other = other || d.nodes[c].name == "(other)";
  }
  EXPECT_TRUE(gone);  // ranked by its BASE size
  EXPECT_TRUE(other);
  EXPECT_EQ(value, full.root().value);
  EXPECT_EQ(base, full.root().base);
  EXPECT_EQ(delta, full.root().delta);
  for (size_t i = 1; i < d.nodes.size(); ++i) EXPECT_LT(d.nodes[i].parent, i);
}

TEST(DiffFlameTree, FromRealTreesOfTwoStores) {
  TraceStore a;
  TraceStore b;
  testing::ServingSpec spec;
  spec.steps = 5;
  spec.noise = 0;
  testing::make_serving_trace(a, spec);
  spec.slowdown = 2.0;
  testing::make_serving_trace(b, spec);
  const FlameTree ta = build_flame_tree(a, a.snapshot(), FlameOptions{});
  const FlameTree tb = build_flame_tree(b, b.snapshot(), FlameOptions{});
  const DiffFlameTree d = build_diff_flame_tree(ta, tb);
  EXPECT_EQ(d.root().value, tb.root().value);
  EXPECT_EQ(d.root().base, ta.root().value);
  EXPECT_EQ(d.root().delta, 5 * 85000);  // every kernel twice as long
  // Empty trees on both sides: a lone root.
  const DiffFlameTree e = build_diff_flame_tree(FlameTree{}, FlameTree{});
  ASSERT_EQ(e.nodes.size(), 1u);
  EXPECT_EQ(e.root().value, 0);
}

}  // namespace
}  // namespace huoyan
