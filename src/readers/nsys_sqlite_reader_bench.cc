// Read throughput of the Nsight Systems SQLite reader on a generated export (target: ≥ 5 M
// kernels/s).
//
//   nsys_sqlite_reader_bench               Google Benchmark: a database of 1 M kernels, each
//                                          with its cudaLaunchKernel runtime call (so 1 M
//                                          kernels + 1 M runtime spans + 2 M flow events are
//                                          stored), and the same without runtime calls.
//                                          Counters: kernels/s (of the whole read) and rows/s.
//   nsys_sqlite_reader_bench --kernels=N --write=PATH
//                                          writes such a database (for /usr/bin/time -v runs).
//   nsys_sqlite_reader_bench --read=PATH   reads PATH once and prints kernels/s and peak RSS.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include <benchmark/benchmark.h>

#include "src/readers/nsys_sqlite_reader.h"
#include "src/readers/nsys_sqlite_testing.h"

namespace huoyan {
namespace {

constexpr uint64_t kKernels = 1'000'000;

const std::string& database(bool runtime) {
  static std::string paths[2];
  std::string& p = paths[runtime];
  if (p.empty()) {
    p = (std::filesystem::temp_directory_path() /
         ("huoyan_nsys_bench_" + std::to_string(::getpid()) + (runtime ? "_rt" : "") + ".sqlite"))
            .string();
    std::filesystem::remove(p);
    testing::NsysDbSpec spec;
    spec.kernels = kKernels;
    spec.runtime = runtime;
    const std::string err = testing::make_nsys_db(p, spec);
    if (!err.empty()) {
      std::fprintf(stderr, "cannot write %s: %s\n", p.c_str(), err.c_str());
      std::exit(1);
    }
  }
  return p;
}

void read_db(benchmark::State& state, bool runtime) {
  const std::string& path = database(runtime);
  uint64_t events = 0;
  for (auto _ : state) {
    StoreOptions options;
    options.capacity_events = size_t{8} << 20;
    TraceStore store(options);
    auto r = NsysSqliteReader().read_file(path, store, {});
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      return;
    }
    events = r->events;
    benchmark::DoNotOptimize(store.appended());
  }
  state.counters["kernels/s"] = benchmark::Counter(static_cast<double>(kKernels),
                                                   benchmark::Counter::kIsIterationInvariantRate);
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

void BM_NsysKernelsWithRuntime(benchmark::State& state) { read_db(state, true); }
void BM_NsysKernelsOnly(benchmark::State& state) { read_db(state, false); }
BENCHMARK(BM_NsysKernelsWithRuntime)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_NsysKernelsOnly)->Unit(benchmark::kMillisecond)->UseRealTime();

int read_once(const std::string& path) {
  StoreOptions options;
  options.capacity_events = SIZE_MAX / 2;
  TraceStore store(options);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = NsysSqliteReader().read_file(path, store, {});
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().message().c_str());
    return 1;
  }
  uint64_t kernels = 0;
  store.snapshot().for_each(
      [&](const EventView& ev) { kernels += ev->kind == EventKind::kKernel; });
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  std::printf("%llu events (%llu kernels) in %.3f s: %.2f M kernels/s; peak RSS %ld MB\n",
              static_cast<unsigned long long>(r->events), static_cast<unsigned long long>(kernels),
              s, static_cast<double>(kernels) / s / 1e6, ru.ru_maxrss / 1024);
  return 0;
}

}  // namespace
}  // namespace huoyan

int main(int argc, char** argv) {
  std::string write, read;
  uint64_t kernels = huoyan::kKernels;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--write=", 8) == 0) write = argv[i] + 8;
    if (std::strncmp(argv[i], "--read=", 7) == 0) read = argv[i] + 7;
    if (std::strncmp(argv[i], "--kernels=", 10) == 0) kernels = std::stoull(argv[i] + 10);
  }
  if (!write.empty()) {
    huoyan::testing::NsysDbSpec spec;
    spec.kernels = kernels;
    const std::string err = huoyan::testing::make_nsys_db(write, spec);
    if (!err.empty()) std::fprintf(stderr, "%s\n", err.c_str());
    return err.empty() ? 0 : 1;
  }
  if (!read.empty()) return huoyan::read_once(read);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  for (bool rt : {false, true}) std::filesystem::remove(huoyan::database(rt));
  return 0;
}
