// Read throughput of the Chrome JSON reader on a generated Kineto-style kernel trace.
//
//   chrome_json_reader_bench                      Google Benchmark: 1 M kernel events read
//                                                 from a temporary file into a store (MB/s,
//                                                 events/s), plus the scanner alone.
//   chrome_json_reader_bench --write=PATH --mb=N  writes a ~N MB trace of the same shape.
//   chrome_json_reader_bench --read=PATH [--capacity=EVENTS]
//                                                 reads PATH once and prints events, MB/s and
//                                                 the peak RSS (run it under /usr/bin/time -v
//                                                 for the kernel's own figure).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "src/readers/chrome_json_reader.h"
#include "src/readers/json_stream.h"

namespace huoyan {
namespace {

constexpr int kEvents = 1000000;

const char* const kKernelNames[] = {
    "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>, "
    "at::detail::Array<char*, 3> >(int, at::native::CUDAFunctor_add<float>, "
    "at::detail::Array<char*, 3>)",
    "ampere_sgemm_128x64_tn",
    "void cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x64_64x4_tn_align8>("
    "cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x64_64x4_tn_align8::Params)",
    "void flash_fwd_kernel<Flash_fwd_kernel_traits<128, 128, 64, 4, false, false, "
    "cutlass::bfloat16_t, Flash_kernel_traits<128, 128, 64, 4, cutlass::bfloat16_t> >, false, "
    "true, false, false, true, true, false>(Flash_fwd_params)",
    "ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevComm*, unsigned long, ncclWork*)",
    "void at::native::(anonymous namespace)::cunn_SoftMaxForward<4, float, float, float, "
    "at::native::(anonymous namespace)::SoftMaxForwardEpilogue>(float*, float const*, int)",
    "void rms_norm_kernel<c10::BFloat16>(c10::BFloat16*, c10::BFloat16 const*, "
    "c10::BFloat16 const*, float, int, int)",
    "void vllm::paged_attention_v2_kernel<__nv_bfloat16, __nv_bfloat16, 128, 16, 128, "
    "(vllm::Fp8KVCacheDataType)0, true, 512>(float*, float*, __nv_bfloat16*, "
    "__nv_bfloat16 const*, __nv_bfloat16 const*, __nv_bfloat16 const*, int, float, int const*, "
    "int const*, int, float const*, int, int, int, float, float)",
};

// Appends event i in the layout Kineto writes (pretty-printed, one arg block per kernel).
void append_kernel(std::string& out, int i, int64_t* ts_ns) {
  const int stream = 7 + (i % 4) * 4;
  const char* name = kKernelNames[(i * 7 + i / 3) % std::size(kKernelNames)];
  const int64_t dur_ns = 1500 + (i * 37) % 90000;
  *ts_ns += dur_ns + 800 + (i % 5) * 130;
  fmt::format_to(std::back_inserter(out),
                 "  {{\n    \"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"{}\", \"pid\": 0, "
                 "\"tid\": {},\n    \"ts\": {}.{:03}, \"dur\": {}.{:03},\n    \"args\": {{\n"
                 "      \"External id\": {}, \"queued\": 0, \"device\": 0, \"context\": 1,\n"
                 "      \"stream\": {}, \"correlation\": {}, \"registers per thread\": {},\n"
                 "      \"shared memory\": {}, \"blocks per SM\": {}.5, \"warps per SM\": 2,\n"
                 "      \"grid\": [{}, 1, 1], \"block\": [128, 1, 1], "
                 "\"est. achieved occupancy %\": {}\n    }}\n  }}",
                 name, stream, *ts_ns / 1000, *ts_ns % 1000, dur_ns / 1000, dur_ns % 1000, i + 1000,
                 stream, i + 500000, 16 + i % 112, (i % 4) * 4096, i % 9, 64 + i % 4000, i % 100);
}

// Writes a Kineto-style trace of about `target_bytes` (or `events` events) to `path`.
uint64_t write_trace(const std::string& path, uint64_t target_bytes, int events) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::string buf =
      "{\n  \"schemaVersion\": 1,\n  \"deviceProperties\": [{\"id\": 0, \"name\": \"NVIDIA "
      "H100\", \"totalGlobalMem\": 85029158912}],\n  \"distributedInfo\": {\"rank\": 0},\n"
      "  \"traceEvents\": [\n"
      "  {\"name\": \"process_name\", \"ph\": \"M\", \"ts\": 0, \"pid\": 0, \"tid\": 0, "
      "\"args\": {\"name\": \"python3.10\"}},\n"
      "  {\"name\": \"process_labels\", \"ph\": \"M\", \"ts\": 0, \"pid\": 0, \"tid\": 0, "
      "\"args\": {\"labels\": \"GPU 0\"}}";
  uint64_t written = 0;
  int64_t ts = int64_t{1694039996493417} * 1000;
  for (int i = 0; events > 0 ? i < events : written + buf.size() < target_bytes; ++i) {
    buf += ",\n";
    append_kernel(buf, i, &ts);
    if (buf.size() > (1 << 20)) {
      written += std::fwrite(buf.data(), 1, buf.size(), f);
      buf.clear();
    }
  }
  buf +=
      "\n  ],\n  \"traceName\": \"bench\",\n  \"displayTimeUnit\": \"ms\",\n"
      "  \"baseTimeNanoseconds\": 1735632360000000000\n}\n";
  written += std::fwrite(buf.data(), 1, buf.size(), f);
  std::fclose(f);
  return written;
}

struct TraceFile {
  std::string path;
  uint64_t bytes = 0;
  TraceFile() {
    path = (std::filesystem::temp_directory_path() /
            fmt::format("huoyan_bench_kernels_{}.json", ::getpid()))
               .string();
    bytes = write_trace(path, 0, kEvents);
  }
  ~TraceFile() { std::filesystem::remove(path); }
};

const TraceFile& trace_file() {
  static const TraceFile file;
  return file;
}

void BM_ReadKernelTrace(benchmark::State& state) {
  const TraceFile& file = trace_file();
  uint64_t events = 0;
  for (auto _ : state) {
    auto store = std::make_unique<TraceStore>();
    auto r = read_chrome_json_file(file.path, *store);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      break;
    }
    events += r->events;
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(file.bytes * state.iterations()));
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["bytes/event"] = static_cast<double>(file.bytes) / kEvents;
}
BENCHMARK(BM_ReadKernelTrace)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);

// The scanner alone: cutting every event object out of the file, no parsing.
void BM_ScanKernelTrace(benchmark::State& state) {
  const TraceFile& file = trace_file();
  for (auto _ : state) {
    auto src = ByteSource::open(file.path);
    JsonStream in(**src, ChromeJsonReader::kDefaultBlockBytes, ChromeJsonReader::kMaxEventBytes);
    uint64_t values = 0;
    while (true) {
      const int c = in.peek();
      if (c < 0) break;
      if (c == '{' && values++ == 0) {  // into the top-level object, then member by member
        in.consume();
        continue;
      }
      if (c == '[' || c == ',' || c == ':' || c == ']' || c == '}') {
        in.consume();
        continue;
      }
      JsonStream::Value v;
      in.scan(false, &v);
    }
    benchmark::DoNotOptimize(values);
  }
  state.SetBytesProcessed(static_cast<int64_t>(file.bytes * state.iterations()));
}
BENCHMARK(BM_ScanKernelTrace)->Unit(benchmark::kMillisecond)->UseRealTime();

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
  auto r = read_chrome_json_file(path, store);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().message().c_str());
    return 1;
  }
  std::printf(
      "%s: %llu events (%llu held), %.1f MB in %.2f s = %.0f MB/s, %.2f M events/s, "
      "peak RSS %.1f MB, store %.1f MB\n",
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
    const uint64_t n = huoyan::write_trace(write_path, mb << 20, 0);
    std::printf("wrote %s: %.1f MB\n", write_path.c_str(), n / 1e6);
    return n > 0 ? 0 : 1;
  }
  if (!read_path.empty()) return huoyan::read_once(read_path, capacity);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
