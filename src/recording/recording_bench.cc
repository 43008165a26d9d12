// Cost of the recording path.
//
//   recording_bench --benchmark_filter='Scope|Clock|Tsc'   hot-path costs (median of 5 × 10 M)
//   recording_bench --benchmark_filter=Drain               drain throughput into the store
//
// The hot-path benchmarks measure the producer alone (the drain's cost is BM_Drain). Report CPU
// time: on a shared machine wall time also counts the time the thread was not scheduled.
// BM_ClockGettimeTwice and BM_CycleCounterTwice run in the same process for comparison: a scope
// reads the clock twice.
#include <benchmark/benchmark.h>
#include <time.h>

#include <thread>

#include "huoyan/huoyan.h"
#include "src/collect/clock.h"
#include "src/recording/host_collector.h"
#include "src/recording/profiler_internal.h"
#include "src/recording/thread_buffer.h"

namespace huoyan {
namespace {

constexpr int64_t kSpans = 10'000'000;

// A running global profiler whose drain thread is paused: the benchmark empties the buffers
// itself between timed blocks, so no record is dropped (a dropped record costs less and would
// flatter the figure) and the ring stays as warm as under a drain that keeps up.
class PausedProfiler {
 public:
  explicit PausedProfiler(ClockSource clock = ClockSource::kAuto) : profiler_(options(clock)) {
    profiler_.start();
    ProfilerAccess::host(profiler_)->set_paused(true);
  }
  ~PausedProfiler() {
    ProfilerAccess::host(profiler_)->set_paused(false);
    profiler_.stop();
  }
  // Gives every buffer back to its producer, as the drain would (untimed).
  static void discard() {
    for (const auto& b : recording::Registry::get().buffers()) b->release(b->head());
  }
  void report(benchmark::State& state) {
    const ProfilerStats s = profiler_.stats();
    state.counters["dropped"] = static_cast<double>(s.dropped_events);
    state.counters["clock_tsc"] = s.clock == "tsc";
  }

 private:
  static ProfilerOptions options(ClockSource clock) {
    ProfilerOptions o;
    o.capacity_events = 1 << 16;
    o.thread_buffer_events = 1 << 16;
    o.clock = clock;
    return o;
  }
  Profiler profiler_;
};

// Runs `body` in blocks that fit the ring, emptying it between blocks (untimed).
template <typename Body>
void run_blocks(benchmark::State& state, int64_t block, Body&& body) {
  while (state.KeepRunningBatch(block)) {
    for (int64_t i = 0; i < block; ++i) body(i);
    state.PauseTiming();
    PausedProfiler::discard();
    state.ResumeTiming();
  }
}

constexpr int64_t kBlock = 1 << 13;  // records of up to 8 slots fit a 2^16-slot ring

void BM_ScopeEnabled(benchmark::State& state) {
  PausedProfiler p;
  run_blocks(state, kBlock, [](int64_t) { HUOYAN_SCOPE("bench_scope"); });
  p.report(state);
}
BENCHMARK(BM_ScopeEnabled)->Iterations(kSpans)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_ScopeEnabledMonotonicClock(benchmark::State& state) {
  PausedProfiler p(ClockSource::kMonotonic);
  run_blocks(state, kBlock, [](int64_t) { HUOYAN_SCOPE("bench_scope_mono"); });
  p.report(state);
}
BENCHMARK(BM_ScopeEnabledMonotonicClock)
    ->Iterations(kSpans)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_ScopeDisabled(benchmark::State& state) {
  for (auto _ : state) {
    HUOYAN_SCOPE("bench_disabled");
  }
}
BENCHMARK(BM_ScopeDisabled)->Iterations(kSpans * 10)->Repetitions(5)->ReportAggregatesOnly(true);

// The benchmark loop alone, same iterations: subtract it from BM_ScopeDisabled for the cost of
// the disabled scope itself.
void BM_EmptyLoop(benchmark::State& state) {
  for (auto _ : state) benchmark::ClobberMemory();
}
BENCHMARK(BM_EmptyLoop)->Iterations(kSpans * 10)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_ScopeWithAttrs(benchmark::State& state) {
  PausedProfiler p;
  run_blocks(state, kBlock, [](int64_t i) {
    HUOYAN_SCOPE_ATTRS("bench_attrs", {"m", i}, {"dtype", "int4"});
  });
  p.report(state);
}
BENCHMARK(BM_ScopeWithAttrs)->Iterations(kSpans / 2)->Repetitions(3)->ReportAggregatesOnly(true);

void BM_RecordKernel(benchmark::State& state) {
  PausedProfiler p;
  run_blocks(state, kBlock, [](int64_t i) {
    record_kernel({.name = "Int4Gemm",
                   .stream = 3,
                   .start_ns = i,
                   .end_ns = i + 100,
                   .step = 7,
                   .attrs = {{"flops", 1.5e9}, {"group_size", 32}}});
  });
  p.report(state);
}
BENCHMARK(BM_RecordKernel)->Iterations(kSpans / 2)->Repetitions(3)->ReportAggregatesOnly(true);

void BM_Step(benchmark::State& state) {
  PausedProfiler p;
  run_blocks(state, kBlock, [](int64_t) {
    StepScope step({{"req-1", 12}, {"req-2", 1}, {"req-3", 1}, {"req-4", 1}});
  });
  p.report(state);
}
BENCHMARK(BM_Step)->Iterations(kSpans / 10)->Repetitions(3)->ReportAggregatesOnly(true);

void BM_ClockGettimeTwice(benchmark::State& state) {
  for (auto _ : state) {
    timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_MONOTONIC, &b);
    benchmark::DoNotOptimize(a);
    benchmark::DoNotOptimize(b);
  }
}
BENCHMARK(BM_ClockGettimeTwice)->Iterations(kSpans)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_CycleCounterTwice(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(read_cycle_counter());
    benchmark::DoNotOptimize(read_cycle_counter());
  }
}
BENCHMARK(BM_CycleCounterTwice)->Iterations(kSpans)->Repetitions(5)->ReportAggregatesOnly(true);

// Records moved from a thread buffer into the store per second (decode, tick conversion,
// interning, TraceStore appends with indexes and eviction). Filling is not timed.
void BM_Drain(benchmark::State& state) {
  const auto records = static_cast<int64_t>(state.range(0));
  ProfilerOptions o;
  o.capacity_events = size_t{4} << 20;
  o.thread_buffer_events = static_cast<size_t>(records);
  Profiler profiler(o);
  profiler.start();
  auto* host = ProfilerAccess::host(profiler);
  host->set_paused(true);
  const bool in_step = state.range(1) != 0;
  for (auto _ : state) {
    state.PauseTiming();
    // A fresh thread: a thread's buffer size is fixed by its first record.
    std::thread producer([&] {
      StepScope step({{"req", 1}});
      for (int64_t i = 0; i < records - 8; ++i) {
        if (in_step) {
          HUOYAN_SCOPE("drained_in_step");
        } else {
          HUOYAN_SCOPE("drained");
        }
      }
    });
    producer.join();
    state.ResumeTiming();
    host->flush();
  }
  state.SetItemsProcessed(state.iterations() * records);
  const ProfilerStats s = profiler.stats();
  state.counters["dropped"] = static_cast<double>(s.dropped_events);
  state.counters["store_bytes_per_event"] =
      static_cast<double>(s.store_bytes) / static_cast<double>(s.held_events);
  state.counters["buffer_bytes_per_event"] = static_cast<double>(recording::kSlotBytes);
  host->set_paused(false);
}
BENCHMARK(BM_Drain)
    ->Args({1 << 20, 0})
    ->Args({1 << 20, 1})
    ->Iterations(10)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace huoyan

BENCHMARK_MAIN();
