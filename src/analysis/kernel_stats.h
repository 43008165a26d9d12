// Per-kernel statistics (the `huoyan top` table and /api/kernels): count, total, mean, p50, p99,
// max and share of device time, grouped by kernel name, stream or device. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/trace_store.h"
#include "src/io/sink.h"

namespace huoyan {

enum class GroupBy { kName, kStream, kDevice };
bool parse_group_by(std::string_view s, GroupBy* by);

struct KernelStat {
  std::string name;  // kernel name, "NPU 0 / Stream 3", or "NPU 0"
  uint64_t count = 0;
  int64_t total_ns = 0;
  int64_t mean_ns = 0;
  int64_t p50_ns = 0;  // nearest-rank percentiles
  int64_t p99_ns = 0;
  int64_t max_ns = 0;
  double share = 0;    // total / device time of the selection, 0..1
};

// One device event and the time it counts for (its duration, or a request's attributed part).
struct TimedEvent {
  EventSeq seq = 0;
  int64_t ns = 0;
};

// All device events of the snapshot (see Snapshot::is_device_event), at full duration.
std::vector<TimedEvent> device_events(const Snapshot& snapshot);

// Rows sorted by total time (descending), then name.
std::vector<KernelStat> kernel_stats(const Snapshot& snapshot, const std::vector<TimedEvent>& events,
                                     GroupBy by);

// The JSON array of `huoyan top --json` and GET /api/kernels: objects with exactly the keys
// name, count, total_ns, mean_ns, p50_ns, p99_ns, max_ns, share.
void write_kernel_stats_json(const std::vector<KernelStat>& rows, BufferedOut& out);

// Nearest-rank percentile of sorted values (p in 0..100).
int64_t percentile_sorted(const std::vector<int64_t>& sorted, double p);

}  // namespace huoyan
