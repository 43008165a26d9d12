// The library's own view of a Profiler: its store, clocks and collectors. For code inside
// huoyan (the HTTP server, tests, benchmarks), never for embedders.
#pragma once

#include <string_view>
#include <vector>

#include "huoyan/huoyan.h"
#include "src/collect/clock.h"
#include "src/collect/collector.h"
#include "src/core/trace_store.h"

namespace huoyan {

class FakeCollector;
namespace recording {
class HostCollector;
}

class ProfilerAccess {
 public:
  // Valid for the profiler's lifetime; thread-safe like any TraceStore.
  static TraceStore& store(Profiler& profiler);
  static ClockSync& clocks(Profiler& profiler);
  // Collectors created by start() (empty before the first start), in the options' order.
  static std::vector<Collector*> collectors(Profiler& profiler);
  static Collector* collector(Profiler& profiler, std::string_view name);
  static recording::HostCollector* host(Profiler& profiler);
  static FakeCollector* fake(Profiler& profiler);
  // Moves everything buffered (thread buffers, collectors) into the store now.
  static void flush(Profiler& profiler);

  // Selects from any store what Profiler::snapshot() would (no flush); `metadata` is written
  // into the trace after the store's own.
  static ProfileSnapshot make_snapshot(
      TraceStore& store, const SnapshotOptions& options,
      std::vector<std::pair<std::string, std::string>> metadata = {});
  // What a ProfileSnapshot holds (nullptr for an empty one).
  static const Snapshot* snapshot(const ProfileSnapshot& snapshot);
};

}  // namespace huoyan
