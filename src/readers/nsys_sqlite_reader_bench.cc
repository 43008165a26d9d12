// Read throughput of the Nsight Systems SQLite reader on a generated export (target: ≥ 5 M
// kernels/s).
//
//   nsys_sqlite_reader_bench               Google Benchmark: a database of 1 M kernels, each
//                                          with its cudaLaunchKernel runtime call (so 1 M
//                                          kernels + 1 M runtime spans + 2 M flow events are
//                                          stored), and the same without runtime calls.
//                                          Counters: kernels/s (of the whole read), events/s,
//                                          bytes/s of the database file. Baselines on the
//                                          kernels-only file: SQLite's own scan of the 15
//                                          columns the reader uses (sqlite3_step +
//                                          sqlite3_column_int64, the floor of a reader built on
//                                          it), and SqliteIntRows alone, with and without its
//                                          decode-ahead thread.
//   nsys_sqlite_reader_bench --kernels=N [--runtime=0] --write=PATH
//                                          writes such a database (for /usr/bin/time -v runs).
//   nsys_sqlite_reader_bench --read=PATH [--repeat=N]
//                                          reads PATH (N times, each into a new store) and
//                                          prints kernels/s, MB/s of the file and peak RSS.
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
#include "src/readers/sqlite_int_rows.h"

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
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(std::filesystem::file_size(path)));
}

void BM_NsysKernelsWithRuntime(benchmark::State& state) { read_db(state, true); }
void BM_NsysKernelsOnly(benchmark::State& state) { read_db(state, false); }
BENCHMARK(BM_NsysKernelsWithRuntime)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_NsysKernelsOnly)->Unit(benchmark::kMillisecond)->UseRealTime();

constexpr const char* kKernelColumns[] = {"start",
                                          "end",
                                          "deviceId",
                                          "streamId",
                                          "correlationId",
                                          "demangledName",
                                          "gridX",
                                          "gridY",
                                          "gridZ",
                                          "blockX",
                                          "blockY",
                                          "blockZ",
                                          "registersPerThread",
                                          "staticSharedMemory",
                                          "dynamicSharedMemory"};

void scan_counters(benchmark::State& state, const std::string& path, int64_t checksum) {
  benchmark::DoNotOptimize(checksum);
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(kKernels),
                                                benchmark::Counter::kIsIterationInvariantRate);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(std::filesystem::file_size(path)));
}

void BM_SqliteStepKernelColumns(benchmark::State& state) {
  const std::string& path = database(false);
  auto db = SqliteDb::open(path);
  std::string sql = "SELECT ";
  for (const char* c : kKernelColumns) sql += std::string(sql.size() > 7 ? ", " : "") + c;
  sql += " FROM CUPTI_ACTIVITY_KIND_KERNEL";
  int64_t sum = 0;
  for (auto _ : state) {
    auto st = db->prepare(sql);
    while (st->step() == SQLITE_ROW) {
      for (int i = 0; i < 15; ++i) sum += st->i64(i);
    }
  }
  scan_counters(state, path, sum);
}
BENCHMARK(BM_SqliteStepKernelColumns)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_IntRowsKernelColumns(benchmark::State& state) {
  const std::string& path = database(false);
  auto db = SqliteDb::open(path);
  int64_t sum = 0;
  for (auto _ : state) {
    auto rows = SqliteIntRows::open(*db, "CUPTI_ACTIVITY_KIND_KERNEL", kKernelColumns,
                                    /*decode_ahead=*/state.range(0) != 0);
    for (;;) {
      auto batch = rows->next();
      if (batch->empty()) break;
      for (const SqliteIntRows::Row& r : *batch) {
        for (int i = 0; i < 15; ++i) sum += r.v[i];
      }
    }
  }
  scan_counters(state, path, sum);
}
BENCHMARK(BM_IntRowsKernelColumns)
    ->ArgName("decode_ahead")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

int read_file(const std::string& path) {
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
  std::printf(
      "%llu events (%llu kernels) in %.3f s: %.2f M kernels/s, %.0f MB/s; peak RSS %ld MB\n",
      static_cast<unsigned long long>(r->events), static_cast<unsigned long long>(kernels), s,
      static_cast<double>(kernels) / s / 1e6, static_cast<double>(r->bytes) / s / 1e6,
      ru.ru_maxrss / 1024);
  return 0;
}

}  // namespace
}  // namespace huoyan

int main(int argc, char** argv) {
  std::string write, read;
  uint64_t kernels = huoyan::kKernels;
  bool runtime = true;
  int repeat = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--write=", 8) == 0) write = argv[i] + 8;
    if (std::strncmp(argv[i], "--read=", 7) == 0) read = argv[i] + 7;
    if (std::strncmp(argv[i], "--kernels=", 10) == 0) kernels = std::stoull(argv[i] + 10);
    if (std::strcmp(argv[i], "--runtime=0") == 0) runtime = false;
    if (std::strncmp(argv[i], "--repeat=", 9) == 0) repeat = std::stoi(argv[i] + 9);
  }
  if (!write.empty()) {
    huoyan::testing::NsysDbSpec spec;
    spec.kernels = kernels;
    spec.runtime = runtime;
    const std::string err = huoyan::testing::make_nsys_db(write, spec);
    if (!err.empty()) std::fprintf(stderr, "%s\n", err.c_str());
    return err.empty() ? 0 : 1;
  }
  for (int i = 0; !read.empty() && i < repeat; ++i) {
    if (huoyan::read_file(read) != 0) return 1;
  }
  if (!read.empty()) return 0;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  for (bool rt : {false, true}) std::filesystem::remove(huoyan::database(rt));
  return 0;
}
