// Write throughput of the Chrome JSON writer on a Kineto-like kernel trace (2^20 events by
// default, HUOYAN_BENCH_EVENTS to change; each with name, cat, pid, tid, ts, dur and six stored
// args — device, stream, grid, block, registers, shared memory — plus step and correlation),
// against a baseline that builds one nlohmann::json object per event, pushes them into a
// nlohmann::json array and dumps it. Also measures real files, plain and gzip. Bytes/s are
// uncompressed JSON bytes; after the runs the speed-up over the baseline is printed.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "src/writers/chrome_json_writer.h"

namespace huoyan {
namespace {

size_t event_count() {
  const char* env = std::getenv("HUOYAN_BENCH_EVENTS");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : size_t{1} << 20;
}

// Kernel names as seen in PyTorch/vLLM traces: long and templated (escaping cost grows with them).
const char* const kNames[] = {
    "ampere_fp16_s16816gemm_fp16_128x128_ldg8_f2f_stages_32x5_nn",
    "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<c10::Half>, "
    "at::detail::Array<char*, 3> >(int, at::native::CUDAFunctor_add<c10::Half>, "
    "at::detail::Array<char*, 3>)",
    "void flash_fwd_splitkv_kernel<Flash_fwd_kernel_traits<128, 64, 128, 4, false, false, "
    "cutlass::half_t>, false, false, false, false, true, false, false>(Flash_fwd_params)",
    "void vllm::rms_norm_kernel<c10::Half>(c10::Half*, c10::Half const*, c10::Half const*, float, "
    "int, int)",
    "void vllm::paged_attention_v2_kernel<unsigned short, unsigned short, 128, 16, 128, "
    "(vllm::Fp8KVCacheDataType)0, 512>(float*, float*, unsigned short*, unsigned short const*)",
    "sm80_xmma_gemm_f16f16_f16f32_f32_nn_n_tilesize96x64x32_stage5_warpsize2x2x1_tensor16x8x16",
    "void at::native::(anonymous namespace)::cunn_SoftMaxForward<4, float, float, float, "
    "at::native::(anonymous namespace)::SoftMaxForwardEpilogue>(float*, float const*, int)",
    "Memcpy HtoD (Pinned -> Device)",
};

struct BenchTrace {
  TraceStore store;
  size_t events = 0;
};

void fill(BenchTrace& t) {
  TraceStore& s = t.store;
  auto w = s.writer();
  TrackId tracks[4];
  for (int i = 0; i < 4; ++i) tracks[i] = w.device_track(DeviceType::kGpu, i / 2, 7 + i % 2);
  StringId names[8];
  for (int i = 0; i < 8; ++i) names[i] = s.intern(kNames[i]);
  const StringId cat = s.intern("kernel");
  const StringId k_device = s.intern("device"), k_stream = s.intern("stream");
  const StringId k_grid = s.intern("grid"), k_block = s.intern("block");
  const StringId k_regs = s.intern("registers per thread");
  const StringId k_smem = s.intern("shared memory");
  const int64_t t0 = 1704161511420306491;
  for (size_t i = 0; i < t.events; ++i) {
    Event e;
    e.kind = EventKind::kKernel;
    e.name = names[(i * 7 + i / 3) % 8];
    e.cat = cat;
    e.track = tracks[i % 4];
    e.ts = t0 + static_cast<int64_t>(i) * 1537;
    e.dur = 900 + static_cast<int64_t>(i % 613);
    e.id = 100000 + i;  // correlation
    e.step = 1 + i / 300;
    const Arg args[] = {{k_device, ArgValue::Int(static_cast<int64_t>(i % 4 / 2))},
                        {k_stream, ArgValue::Int(static_cast<int64_t>(7 + i % 2))},
                        {k_grid, ArgValue::Json(i % 3 ? "[128, 1, 1]" : "[1024, 8, 1]")},
                        {k_block, ArgValue::Json("[256, 1, 1]")},
                        {k_regs, ArgValue::Int(static_cast<int64_t>(32 + i % 96))},
                        {k_smem, ArgValue::Int(static_cast<int64_t>(i % 2 ? 16384 : 0))}};
    w.append(e, args);
  }
  for (uint64_t step = 1; step <= t.events / 300 + 1; ++step) {
    w.add_step(Step{step, t0, t0 + 1000, 0, {{s.intern("req-" + std::to_string(step % 64)), 4}}});
  }
}

const BenchTrace& trace() {
  static const BenchTrace* t = [] {
    auto* t = new BenchTrace;
    t->events = event_count();
    fill(*t);
    return t;
  }();
  return *t;
}

class NullSink : public Sink {
 public:
  Status write(std::string_view data) override {
    bytes_ += data.size();
    benchmark::DoNotOptimize(data.data());
    return OkStatus();
  }
  uint64_t bytes() const { return bytes_; }

 private:
  uint64_t bytes_ = 0;
};

// Best wall and CPU seconds per iteration, by benchmark, for the summary printed after the
// runs. CPU time is the fairer comparison on a busy machine; wall time includes file I/O.
struct Timing {
  double wall = 1e300;
  double cpu = 1e300;
};

std::map<std::string, Timing>& best_times() {
  static std::map<std::string, Timing> m;
  return m;
}

double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

class Stopwatch {
 public:
  Stopwatch() : wall_(std::chrono::steady_clock::now()), cpu_(thread_cpu_seconds()) {}
  void record(const std::string& name) const {
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_).count();
    const double cpu = thread_cpu_seconds() - cpu_;
    Timing& t = best_times()[name];
    t.wall = std::min(t.wall, wall);
    t.cpu = std::min(t.cpu, cpu);
  }

 private:
  std::chrono::steady_clock::time_point wall_;
  double cpu_;
};

void report(benchmark::State& state, uint64_t bytes_per_iteration) {
  const auto n = static_cast<int64_t>(trace().events);
  state.SetBytesProcessed(static_cast<int64_t>(bytes_per_iteration) * state.iterations());
  state.SetItemsProcessed(n * state.iterations());
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(n) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["MB"] = static_cast<double>(bytes_per_iteration) / 1e6;
}

void BM_Huoyan_NullSink(benchmark::State& state) {
  const BenchTrace& t = trace();
  uint64_t bytes = 0;
  for (auto _ : state) {
    const Stopwatch watch;
    NullSink sink;
    if (!write_chrome_trace(t.store, sink).ok()) state.SkipWithError("write failed");
    bytes = sink.bytes();
    watch.record("huoyan null sink");
  }
  report(state, bytes);
}
BENCHMARK(BM_Huoyan_NullSink)->Unit(benchmark::kMillisecond);

void BM_Huoyan_StringSink(benchmark::State& state) {
  const BenchTrace& t = trace();
  uint64_t bytes = 0;
  // One untimed write first: the string keeps its capacity, so the runs measure the writer
  // rather than the string's reallocations and first-touch page faults of ~400 MB.
  StringSink sink;
  (void)write_chrome_trace(t.store, sink);
  for (auto _ : state) {
    sink.str().clear();
    const Stopwatch watch;
    if (!write_chrome_trace(t.store, sink).ok()) state.SkipWithError("write failed");
    watch.record("huoyan string sink");
    bytes = sink.str().size();
  }
  report(state, bytes);
}
BENCHMARK(BM_Huoyan_StringSink)->Unit(benchmark::kMillisecond);

// Forwards to a file sink, counting the uncompressed bytes.
class CountingSink : public Sink {
 public:
  explicit CountingSink(Sink& inner) : inner_(inner) {}
  Status write(std::string_view data) override {
    bytes_ += data.size();
    return inner_.write(data);
  }
  uint64_t bytes() const { return bytes_; }

 private:
  Sink& inner_;
  uint64_t bytes_ = 0;
};

// Wall time, including the final fsync and rename of the file sink.
void write_file(benchmark::State& state, const std::string& path, const std::string& label) {
  const BenchTrace& t = trace();
  uint64_t bytes = 0;
  for (auto _ : state) {
    const Stopwatch watch;
    auto sink = open_file_sink(path);
    if (!sink.ok()) {
      state.SkipWithError(sink.status().message().c_str());
      return;
    }
    CountingSink counting(**sink);
    if (!write_chrome_trace(t.store, counting).ok() || !(*sink)->finish().ok()) {
      state.SkipWithError("write failed");
    }
    bytes = counting.bytes();
    watch.record(label);
  }
  ::unlink(path.c_str());
  report(state, bytes);
}

void BM_Huoyan_File(benchmark::State& state) {
  write_file(state, "/tmp/huoyan-bench-trace.json", "huoyan file");
}
BENCHMARK(BM_Huoyan_File)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Huoyan_FileGzip(benchmark::State& state) {
  write_file(state, "/tmp/huoyan-bench-trace.json.gz", "huoyan file .gz");
}
BENCHMARK(BM_Huoyan_FileGzip)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

// The baseline: one nlohmann::json object per event (args converted by type; raw JSON args
// parsed, as nlohmann has no way to embed raw text), pushed into an array, then dump().
void BM_Nlohmann_Baseline(benchmark::State& state) {
  const BenchTrace& t = trace();
  const Snapshot snap = t.store.snapshot();
  uint64_t bytes = 0;
  for (auto _ : state) {
    const Stopwatch watch;
    nlohmann::json events = nlohmann::json::array();
    snap.for_each([&](const EventView& ev) {
      const Event& e = *ev;
      const Track& track = snap.track(e.track);
      nlohmann::json j;
      j["name"] = snap.str(e.name);
      j["cat"] = snap.str(e.cat);
      j["ph"] = "X";
      j["ts"] = static_cast<double>(e.ts) / 1000.0;
      j["dur"] = static_cast<double>(e.dur) / 1000.0;
      j["pid"] = track.pid;
      j["tid"] = track.tid;
      nlohmann::json args = nlohmann::json::object();
      for (const StoredArg& a : ev.args()) {
        const ArgValue v = a.value();
        auto& slot = args[std::string(snap.str(a.key))];
        switch (v.type) {
          case ArgType::kNull:
            slot = nullptr;
            break;
          case ArgType::kBool:
            slot = v.b;
            break;
          case ArgType::kInt:
            slot = v.i;
            break;
          case ArgType::kUint:
            slot = v.u;
            break;
          case ArgType::kDouble:
            slot = v.d;
            break;
          case ArgType::kString:
            slot = v.s;
            break;
          case ArgType::kJson:
            slot = nlohmann::json::parse(v.s);
            break;
        }
      }
      if (e.step != 0) args["step"] = e.step;
      if (e.id != 0) args["correlation"] = e.id;
      j["args"] = std::move(args);
      events.push_back(std::move(j));
    });
    nlohmann::json doc;
    doc["traceEvents"] = std::move(events);
    doc["displayTimeUnit"] = "ns";
    const std::string out = doc.dump();
    bytes = out.size();
    benchmark::DoNotOptimize(out.data());
    watch.record("nlohmann baseline");
  }
  report(state, bytes);
}
BENCHMARK(BM_Nlohmann_Baseline)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace huoyan

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  const auto& best = huoyan::best_times();
  const auto base = best.find("nlohmann baseline");
  if (base != best.end()) {
    for (const auto& [name, t] : best) {
      if (name == base->first) continue;
      std::printf(
          "speed-up of %s over the nlohmann baseline: %.1fx CPU (%.3f s vs %.3f s), "
          "%.1fx wall (%.3f s vs %.3f s)\n",
          name.c_str(), base->second.cpu / t.cpu, t.cpu, base->second.cpu,
          base->second.wall / t.wall, t.wall, base->second.wall);
    }
  }
  return 0;
}
