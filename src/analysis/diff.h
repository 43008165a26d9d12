// Differences between two traces (`huoyan diff BASE NEW`): a per-kernel table and a
// differential flame tree. Pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/analysis/flame_tree.h"
#include "src/analysis/kernel_stats.h"
#include "src/io/sink.h"

namespace huoyan {

enum class DiffStatus { kChanged, kNew, kVanished };
std::string_view diff_status_name(DiffStatus s);  // "changed", "new", "vanished"

struct KernelDiff {
  std::string name;
  DiffStatus status = DiffStatus::kChanged;
  uint64_t base_count = 0;
  uint64_t new_count = 0;
  int64_t base_total_ns = 0;
  int64_t new_total_ns = 0;
  int64_t base_mean_ns = 0;
  int64_t new_mean_ns = 0;
  int64_t delta_total_ns = 0;  // new − base
  // delta_total / base_total; NaN when the kernel is new (no base to relate to).
  double relative = 0;
};

// Rows of both tables joined by name, sorted by |delta_total_ns| descending, then name.
// Inputs are kernel_stats() rows grouped by name.
std::vector<KernelDiff> diff_kernels(const std::vector<KernelStat>& base,
                                     const std::vector<KernelStat>& now);

// A flame tree whose widths are the NEW run's values, with each node's BASE value and the
// difference. Nodes are matched by their path of names from the root; a frame only in BASE is
// kept with value 0 (invisible in a flame graph, but its negative delta is reported).
struct DiffFlameNode {
  std::string_view name;  // points into one of the trees' string tables (kept alive below)
  int64_t value = 0;      // NEW inclusive value
  int64_t base = 0;       // BASE inclusive value
  int64_t delta = 0;      // value − base
  uint64_t calls = 0;
  uint64_t base_calls = 0;
  bool device = false;
  uint32_t parent = 0;
  std::vector<uint32_t> children;
};

struct DiffFlameTree {
  std::vector<DiffFlameNode> nodes;  // nodes[0] is the root; parents precede children
  std::shared_ptr<const StringTable> base_strings;
  std::shared_ptr<const StringTable> new_strings;
  const DiffFlameNode& root() const { return nodes[0]; }
};

DiffFlameTree build_diff_flame_tree(const FlameTree& base_tree, const FlameTree& new_tree);

// Folds the smallest nodes (by the larger of value and base, so a frame that shrank to nothing
// still competes with what it was) into one "(other)" child per parent, keeping about
// max_nodes; 0 keeps all.
void fold_small_diff_nodes(DiffFlameTree* tree, size_t max_nodes);

// d3-flame-graph JSON plus the difference: {"name","value","base","delta","calls",
// "base_calls","children"} (+ "device": true on kernels).
void write_diff_flame_json(const DiffFlameTree& tree, BufferedOut& out);

}  // namespace huoyan
