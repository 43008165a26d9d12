// Read throughput of the Ascend kernel table reader on a generated torch_npu kernel_details.csv
// (Level1 header with PMU columns, TAB-suffixed quoted start times, quoted shapes).
//
//   ascend_csv_reader_bench                      Google Benchmark: 1 M rows (~420 MB) read from
//                                                a temporary file into a store (MB/s, rows/s),
//                                                plus the CSV tokenizer alone.
//   ascend_csv_reader_bench --write=PATH --mb=N  writes a ~N MB table of the same shape.
//   ascend_csv_reader_bench --read=PATH [--capacity=EVENTS]
//                                                reads PATH once and prints rows, MB/s and the
//                                                peak RSS.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "src/readers/ascend_csv_reader.h"
#include "src/readers/csv_reader.h"

namespace huoyan {
namespace {

constexpr int kRows = 1000000;

const char kHeader[] =
    "Step Id,Model ID,Task ID,Stream ID,Name,Type,OP State,Accelerator Core,Start Time(us),"
    "Duration(us),Wait Time(us),Block Dim,Mix Block Dim,HF32 Eligible,Input Shapes,Input Data "
    "Types,Input Formats,Output Shapes,Output Data Types,Output Formats,Context ID,"
    "aicore_time(us),aic_total_cycles,aic_mac_time(us),aic_mac_ratio,aic_scalar_time(us),"
    "aic_scalar_ratio,aic_mte1_time(us),aic_mte1_ratio,aic_mte2_time(us),aic_mte2_ratio,"
    "aic_fixpipe_time(us),aic_fixpipe_ratio,aic_icache_miss_rate,aiv_time(us),aiv_total_cycles,"
    "aiv_vec_time(us),aiv_vec_ratio,aiv_scalar_time(us),aiv_scalar_ratio,aiv_mte2_time(us),"
    "aiv_mte2_ratio,aiv_mte3_time(us),aiv_mte3_ratio,aiv_icache_miss_rate,cube_utilization(%)"
    "\r\n";

struct Op {
  const char* name;
  const char* type;
  const char* core;
  const char* in_shapes;
  const char* out_shapes;
};
const Op kOps[] = {
    {"aclnnMatmul_MatMulCommon_MatMulV2", "MatMulV2", "AI_CORE", "81920,4096;8192,512", "4096,512"},
    {"aclnnMatmul_MatMulV3Common_MatMulV3", "MatMulV3", "AI_CORE", "81920,1536;8192,4096",
     "1536,4096"},
    {"aclnnFlashAttentionScore_FlashAttentionScore_FlashAttentionScore", "FlashAttentionScore",
     "MIX_AIC", "8192,2,640;8192,2,640;8192,2,640;;83886112;;1,1,8192,8192",
     "655360;655360;;10485760"},
    {"aclnnAdd_AddAiCore_Add", "Add", "AI_VECTOR_CORE", "8192,4096;8192,4096", "8192,4096"},
    {"aclnnRmsNorm_RmsNorm_RmsNorm", "RmsNorm", "AI_VECTOR_CORE", "8192,4096;4096",
     "8192,4096;8192,1"},
};

void append_row(std::string& out, int i, int64_t* ts_ns) {
  const Op& op = kOps[(i * 7 + i / 3) % std::size(kOps)];
  const int64_t dur_ns = 1500 + (i * 37) % 900000;
  *ts_ns += dur_ns + 800 + (i % 5) * 130;
  fmt::format_to(std::back_inserter(out),
                 "{},4294967295,{},2,{},{},dynamic,{},\"{}.{:03}\t\",{}.{:03},{}.{:03},{},0,NO,"
                 "\"\"\"{}\"\"\",DT_BF16;DT_BF16,ND;ND,\"\"\"{}\"\"\",DT_BF16,ND,N/A,{}.{:03},{},"
                 "{}.{:03},0.{:03},88.03,0.479,119.148,0.648,177.314,0.964,5.736,0.031,0.001,0,0,"
                 "0,0,0,0,0,0,0,0,0,{}.{:03}\r\n",
                 1 + i / 20000, 60000 + i, op.name, op.type, op.core, *ts_ns / 1000, *ts_ns % 1000,
                 dur_ns / 1000, dur_ns % 1000, (i % 3000) / 1000, i % 1000, 8 + i % 40,
                 op.in_shapes, op.out_shapes, dur_ns / 1000, (dur_ns * 7) % 1000, dur_ns * 28,
                 dur_ns / 1200, i % 1000, i % 1000, i % 100, i % 1000);
}

// Writes a kernel_details.csv of about `target_bytes` (or `rows` rows) to `path`.
uint64_t write_table(const std::string& path, uint64_t target_bytes, int rows) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::string buf = kHeader;
  uint64_t written = 0;
  int64_t ts = int64_t{1736413971558972} * 1000;
  for (int i = 0; rows > 0 ? i < rows : written + buf.size() < target_bytes; ++i) {
    append_row(buf, i, &ts);
    if (buf.size() > (1 << 20)) {
      written += std::fwrite(buf.data(), 1, buf.size(), f);
      buf.clear();
    }
  }
  written += std::fwrite(buf.data(), 1, buf.size(), f);
  std::fclose(f);
  return written;
}

struct TableFile {
  std::string path;
  uint64_t bytes = 0;
  TableFile() {
    path = (std::filesystem::temp_directory_path() /
            fmt::format("huoyan_bench_kernel_details_{}.csv", ::getpid()))
               .string();
    bytes = write_table(path, 0, kRows);
  }
  ~TableFile() { std::filesystem::remove(path); }
};

const TableFile& table_file() {
  static const TableFile file;
  return file;
}

void BM_ReadKernelTable(benchmark::State& state) {
  const TableFile& file = table_file();
  uint64_t rows = 0;
  for (auto _ : state) {
    auto store = std::make_unique<TraceStore>();
    auto r = read_ascend_csv_file(file.path, *store);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      break;
    }
    rows += r->events;
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(file.bytes * state.iterations()));
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
  state.counters["bytes/row"] = static_cast<double>(file.bytes) / kRows;
}
BENCHMARK(BM_ReadKernelTable)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);

// The tokenizer alone: every row cut out and split, nothing stored.
void BM_TokenizeKernelTable(benchmark::State& state) {
  const TableFile& file = table_file();
  for (auto _ : state) {
    auto src = ByteSource::open(file.path);
    CsvParser csv(**src);
    uint64_t fields = 0;
    while (csv.next() == CsvParser::Next::kRow) fields += csv.fields().size();
    benchmark::DoNotOptimize(fields);
  }
  state.SetBytesProcessed(static_cast<int64_t>(file.bytes * state.iterations()));
}
BENCHMARK(BM_TokenizeKernelTable)->Unit(benchmark::kMillisecond)->UseRealTime();

long peak_rss_kb() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

int read_once(const std::string& path, size_t capacity) {
  StoreOptions options;
  if (capacity > 0) options.capacity_events = capacity;
  TraceStore store(options);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = read_ascend_csv_file(path, store);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().message().c_str());
    return 1;
  }
  std::printf(
      "%s: %llu rows (%llu held), %.1f MB in %.2f s = %.0f MB/s, %.2f M rows/s, peak RSS %.1f "
      "MB, store %.1f MB\n",
      path.c_str(), static_cast<unsigned long long>(r->events),
      static_cast<unsigned long long>(store.held()), r->bytes / 1e6, s, r->bytes / 1e6 / s,
      r->events / 1e6 / s, peak_rss_kb() / 1024.0, store.memory_bytes() / 1048576.0);
  return 0;
}

}  // namespace
}  // namespace huoyan

int main(int argc, char** argv) {
  std::string write_path, read_path;
  uint64_t mb = 1024;
  size_t capacity = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--write=", 0) == 0) write_path = a.substr(8);
    if (a.rfind("--read=", 0) == 0) read_path = a.substr(7);
    if (a.rfind("--mb=", 0) == 0) mb = std::stoull(a.substr(5));
    if (a.rfind("--capacity=", 0) == 0) capacity = std::stoull(a.substr(11));
  }
  if (!write_path.empty()) {
    const uint64_t n = huoyan::write_table(write_path, mb << 20, 0);
    std::printf("wrote %s: %.1f MB\n", write_path.c_str(), n / 1e6);
    return n > 0 ? 0 : 1;
  }
  if (!read_path.empty()) return huoyan::read_once(read_path, capacity);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
