// Per-kernel statistics (the `huoyan top` table and /api/kernels): count, total, mean, p50, p99,
// max and share of device time, grouped by (kind, name), stream or device. Pure functions.
//
// Device time is device work only (kernels, copies, sets, collectives; docs/formats.md, "Event
// kinds"): every share is a row's time over the device work of the events given, whichever
// kinds the rows are filtered to. A wait row's share is over that same time.
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
  std::string name;                     // kernel name, "NPU 0 / Stream 3", or "NPU 0"
  EventKind kind = EventKind::kKernel;  // grouped by name: the kind of every event of the row
  uint64_t count = 0;
  int64_t total_ns = 0;
  int64_t mean_ns = 0;
  int64_t p50_ns = 0;  // nearest-rank percentiles
  int64_t p99_ns = 0;
  int64_t max_ns = 0;
  double share = 0;  // total / device time of the selection, 0..1

  // Grouped by device only (the multi-device view); busy_ns < 0 otherwise.
  struct TopKernel {
    std::string name;
    int64_t total_ns = 0;
    double share = 0;  // of this device's kernel time
  };
  int64_t busy_ns = -1;        // union of the device's kernel intervals (overlapping streams once)
  int64_t active_ns = 0;       // first kernel start to last kernel end on this device
  double utilization = 0;      // busy / active
  double busy_vs_max = 0;      // busy / the busiest device's busy: 1 for the busiest
  std::vector<TopKernel> top;  // its kernels by time, at most kDeviceTopKernels
};
inline constexpr size_t kDeviceTopKernels = 5;

// Imbalance of device rows: (max busy − min busy) / max busy, 0 with fewer than two devices.
double device_imbalance(const std::vector<KernelStat>& device_rows);

// One device event and the time it counts for (its duration, or a request's attributed part).
struct TimedEvent {
  EventSeq seq = 0;
  int64_t ns = 0;
};

// The device-side events of the snapshot, at full duration: device work and waits (device
// annotation ranges, host and derived events are not).
std::vector<TimedEvent> device_events(const Snapshot& snapshot);

// Rows of the events whose kind is in `kinds`, sorted by total time (descending), then name;
// shares over the device work among all of `events`.
std::vector<KernelStat> kernel_stats(const Snapshot& snapshot,
                                     const std::vector<TimedEvent>& events, GroupBy by,
                                     KindSet kinds = KindSet::device_work());

// The JSON array of `huoyan top --json` and GET /api/kernels: objects with the keys name,
// kind (rows by name), count, total_ns, mean_ns, p50_ns, p99_ns, max_ns, share; device rows
// add busy_ns, active_ns,
// utilization, busy_vs_max and top ([{name, total_ns, share}]).
void write_kernel_stats_json(const std::vector<KernelStat>& rows, BufferedOut& out,
                             GroupBy by = GroupBy::kName);

// Nearest-rank percentile of sorted values (p in 0..100).
int64_t percentile_sorted(const std::vector<int64_t>& sorted, double p);

}  // namespace huoyan
