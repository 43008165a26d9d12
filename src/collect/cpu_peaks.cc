#include "src/collect/cpu_peaks.h"

#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HUOYAN_X86 1
#endif

#include <fmt/format.h>
#include <simdjson.h>

#include "src/io/sink.h"
#include "src/writers/json_out.h"

namespace huoyan {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Runs fn(thread index) on `n` threads (the caller is thread 0) and returns when all are done.
template <typename Fn>
void on_threads(int n, Fn fn) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(n - 1));
  for (int t = 1; t < n; ++t) threads.emplace_back(fn, t);
  fn(0);
  for (auto& th : threads) th.join();
}

// ---- memory bandwidth ---------------------------------------------------------------------

// Triad a = b + s·c over float arrays, each thread on its own slice (first touched by that
// thread, so pages sit on its NUMA node). The arrays together are at least 4× the last-level
// caches of ordinary servers, so the figure is DRAM's, not a cache's.
double measure_bandwidth(int threads, int64_t* bytes_out) {
  constexpr size_t kElems = size_t{32} << 20 >> 2;  // 32 MiB per array (8 Mi floats)
  constexpr int kReps = 6;
  std::unique_ptr<float[]> a(new float[kElems]);
  std::unique_ptr<float[]> b(new float[kElems]);
  std::unique_ptr<float[]> c(new float[kElems]);
  *bytes_out = static_cast<int64_t>(3 * kElems * sizeof(float));
  const size_t per = (kElems + static_cast<size_t>(threads) - 1) / static_cast<size_t>(threads);
  std::barrier sync(threads);
  std::vector<double> rep_seconds(kReps, 0);
  Clock::time_point t0;
  on_threads(threads, [&](int t) {
    const size_t lo = std::min(kElems, per * static_cast<size_t>(t));
    const size_t hi = std::min(kElems, lo + per);
    for (size_t i = lo; i < hi; ++i) {
      a[i] = 0;
      b[i] = 1.0f;
      c[i] = 2.0f;
    }
    const float s = 3.0f;
    for (int r = 0; r < kReps; ++r) {
      sync.arrive_and_wait();
      if (t == 0) t0 = Clock::now();
      sync.arrive_and_wait();
      float* __restrict pa = a.get();
      const float* __restrict pb = b.get();
      const float* __restrict pc = c.get();
      for (size_t i = lo; i < hi; ++i) pa[i] = pb[i] + s * pc[i];
      sync.arrive_and_wait();
      if (t == 0) rep_seconds[static_cast<size_t>(r)] = seconds_since(t0);
    }
  });
  // The first repetition pays for page faults of `a`; the best of the rest is the peak.
  const double best = *std::min_element(rep_seconds.begin() + 1, rep_seconds.end());
  volatile float sink = a[kElems / 2];
  (void)sink;
  const double moved = 3.0 * static_cast<double>(kElems) * sizeof(float);
  return best > 0 ? moved / best / 1e9 : 0;
}

// ---- FMA throughput -----------------------------------------------------------------------

// Each kernel runs `iters` rounds of kChains independent FMA chains (enough to cover FMA
// latency × ports on current cores) and returns a value that depends on all of them, so the
// compiler keeps the work. Flops per round: kChains × lanes × 2.
constexpr int kChains = 12;

#ifdef HUOYAN_X86
__attribute__((target("avx512f"))) float fma_avx512(int64_t iters) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i) * 1e-3f);
  const __m512 m = _mm512_set1_ps(0.999999f);
  const __m512 k = _mm512_set1_ps(1e-7f);
  for (int64_t n = 0; n < iters; ++n) {
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], m, k);
  }
  __m512 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm512_add_ps(s, acc[i]);
  alignas(64) float out[16];
  _mm512_store_ps(out, s);
  float sum = 0;
  for (float v : out) sum += v;
  return sum;
}

__attribute__((target("avx2,fma"))) float fma_avx2(int64_t iters) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i) * 1e-3f);
  const __m256 m = _mm256_set1_ps(0.999999f);
  const __m256 k = _mm256_set1_ps(1e-7f);
  for (int64_t n = 0; n < iters; ++n) {
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, k);
  }
  __m256 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm256_add_ps(s, acc[i]);
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}
#endif

// Portable: GCC/Clang vectors of 4 floats; a multiply and an add (contracted to an FMA where
// the target has one).
float fma_generic(int64_t iters) {
  typedef float f4 __attribute__((vector_size(16)));
  f4 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = f4{} + static_cast<float>(i) * 1e-3f;
  const f4 m = f4{} + 0.999999f;
  const f4 k = f4{} + 1e-7f;
  for (int64_t n = 0; n < iters; ++n) {
    for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * m + k;
  }
  f4 s = acc[0];
  for (int i = 1; i < kChains; ++i) s += acc[i];
  return s[0] + s[1] + s[2] + s[3];
}

struct FmaKernel {
  const char* isa;
  int lanes;
  float (*fn)(int64_t);
};

FmaKernel best_fma_kernel() {
#ifdef HUOYAN_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {"avx512f", 16, &fma_avx512};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return {"avx2+fma", 8, &fma_avx2};
  }
#endif
  return {"generic", 4, &fma_generic};
}

double measure_fma(int threads, std::string* isa) {
  const FmaKernel k = best_fma_kernel();
  *isa = k.isa;
  // Calibrate the round count to ~40 ms on one thread, then run it on every thread, 3 times.
  int64_t iters = 1 << 14;
  volatile float sink = 0;
  for (;;) {
    const auto t0 = Clock::now();
    sink = sink + k.fn(iters);
    if (seconds_since(t0) > 0.02 || iters > (int64_t{1} << 34)) break;
    iters *= 2;
  }
  iters *= 2;
  double best = 0;
  std::barrier sync(threads);
  for (int r = 0; r < 3; ++r) {
    Clock::time_point t0;
    on_threads(threads, [&](int t) {
      sync.arrive_and_wait();
      if (t == 0) t0 = Clock::now();
      const float v = k.fn(iters);
      sync.arrive_and_wait();
      if (v == 12345.678f) std::abort();  // keeps v alive; never true
    });
    const double s = seconds_since(t0);
    const double flops = static_cast<double>(iters) * kChains * k.lanes * 2.0 * threads;
    if (s > 0) best = std::max(best, flops / s / 1e9);
  }
  return best;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon == std::string::npos) break;
      std::string v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  }
  return "";
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

int hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

std::string iso_time(int64_t unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%MZ", &tm);
  return buf;
}

}  // namespace

std::string CpuPeaks::method() const {
  return fmt::format(
      "triad over {} MiB, {} thread{}; fp32 FMA {}, {} thread{}; measured on {} ({}) at {}",
      triad_bytes >> 20, threads, threads == 1 ? "" : "s", isa, threads, threads == 1 ? "" : "s",
      host.empty() ? "this host" : host, cpu.empty() ? "unknown CPU" : cpu, iso_time(measured_at));
}

CpuPeaks measure_cpu_peaks(int threads) {
  CpuPeaks p;
  const auto t0 = Clock::now();
  p.threads = threads > 0 ? threads : hardware_threads();
  p.bandwidth_gbps = measure_bandwidth(p.threads, &p.triad_bytes);
  p.gflops = measure_fma(p.threads, &p.isa);
  p.cpu = cpu_model();
  p.host = host_name();
  p.measured_at = static_cast<int64_t>(std::time(nullptr));
  p.seconds = seconds_since(t0);
  return p;
}

std::string cpu_peaks_cache_path() {
  namespace fs = std::filesystem;
  if (const char* d = std::getenv("HUOYAN_CACHE_DIR"); d != nullptr && *d != 0) {
    return (fs::path(d) / "cpu_peaks.json").string();
  }
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d != nullptr && *d != 0) {
    return (fs::path(d) / "huoyan" / "cpu_peaks.json").string();
  }
  const char* home = std::getenv("HOME");
  return (fs::path(home != nullptr && *home != 0 ? home : "/tmp") / ".cache" / "huoyan" /
          "cpu_peaks.json")
      .string();
}

std::optional<CpuPeaks> cached_cpu_peaks(std::string* why) {
  auto no = [&](std::string reason) -> std::optional<CpuPeaks> {
    if (why != nullptr) *why = std::move(reason);
    return std::nullopt;
  };
  const std::string path = cpu_peaks_cache_path();
  std::ifstream in(path, std::ios::binary);
  if (!in) return no("no cache at " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > 65536) return no(path + " is too large to be a cache");
  std::optional<CpuPeaks> p = parse_cpu_peaks(text.str());
  if (!p) return no(path + " is not a valid cache");
  if (p->host != host_name() || p->cpu != cpu_model()) {
    return no(path + " was measured on another host or CPU");
  }
  if (p->bandwidth_gbps <= 0 || p->gflops <= 0) return no(path + " holds no figures");
  return p;
}

bool save_cpu_peaks(const CpuPeaks& peaks, std::string* error) {
  namespace fs = std::filesystem;
  const fs::path path = cpu_peaks_cache_path();
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.string() + fmt::format(".tmp{}", getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << cpu_peaks_json(peaks) << '\n';
    if (!out.good()) {
      if (error != nullptr) *error = "cannot write " + tmp.string();
      fs::remove(tmp, ec);
      return false;
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    if (error != nullptr) *error = "cannot rename to " + path.string() + ": " + ec.message();
    fs::remove(tmp, ec);
    return false;
  }
  return true;
}

CpuPeaks cpu_peaks() {
  if (std::optional<CpuPeaks> p = cached_cpu_peaks()) return *p;
  CpuPeaks p = measure_cpu_peaks();
  save_cpu_peaks(p);
  return p;
}

std::string cpu_peaks_json(const CpuPeaks& p) {
  StringSink sink;
  BufferedOut out(&sink, 256);
  auto key = [&](std::string_view k, bool first = false) {
    if (!first) out.put(',');
    json_string(out, k);
    out.put(':');
  };
  out.put('{');
  key("bandwidth_gbps", true);
  json_double(out, p.bandwidth_gbps);
  key("gflops");
  json_double(out, p.gflops);
  key("threads");
  json_int(out, p.threads);
  key("isa");
  json_string(out, p.isa);
  key("cpu");
  json_string(out, p.cpu);
  key("host");
  json_string(out, p.host);
  key("measured_at");
  json_int(out, p.measured_at);
  key("triad_bytes");
  json_int(out, p.triad_bytes);
  key("seconds");
  json_double(out, p.seconds);
  key("method");
  json_string(out, p.method());
  out.put('}');
  out.flush();
  return std::move(sink.str());
}

std::optional<CpuPeaks> parse_cpu_peaks(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::object o;
  if (root.get_object().get(o) != simdjson::SUCCESS) return std::nullopt;
  CpuPeaks p;
  auto number = [&](const char* k, double* v) {
    double d = 0;
    if (o[k].get_double().get(d) != simdjson::SUCCESS) {
      int64_t i = 0;
      if (o[k].get_int64().get(i) != simdjson::SUCCESS) return false;
      d = static_cast<double>(i);
    }
    if (!std::isfinite(d) || d < 0) return false;
    *v = d;
    return true;
  };
  auto text = [&](const char* k, std::string* v) {
    std::string_view s;
    if (o[k].get_string().get(s) != simdjson::SUCCESS) return false;
    *v = std::string(s);
    return true;
  };
  double threads = 0;
  double at = 0;
  double bytes = 0;
  if (!number("bandwidth_gbps", &p.bandwidth_gbps) || !number("gflops", &p.gflops) ||
      !number("threads", &threads) || !text("isa", &p.isa) || !text("cpu", &p.cpu) ||
      !text("host", &p.host) || !number("measured_at", &at)) {
    return std::nullopt;
  }
  if (threads > 1e6 || at > 1e13) return std::nullopt;
  p.threads = static_cast<int>(threads);
  p.measured_at = static_cast<int64_t>(at);
  if (number("triad_bytes", &bytes) && bytes < 1e15) p.triad_bytes = static_cast<int64_t>(bytes);
  number("seconds", &p.seconds);
  return p;
}

}  // namespace huoyan
