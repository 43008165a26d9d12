// HTTP server benchmark over a store of ~10 M events and 100 k requests (300 k steps of 16
// requests, 30 kernels each, on 2 NPUs × 2 streams), served in-process on a loopback port.
//
//   server_bench                                   # every endpoint, p50/p99 per endpoint
//   server_bench --benchmark_filter=Profile        # Google Benchmark flags apply
//   server_bench --serve 18080                     # just serve the store (for wrk), Ctrl-C stops
//   wrk -t2 -c16 -d10s 'http://127.0.0.1:18080/api/requests?prefix=req-0123&limit=50'
//
// HUOYAN_BENCH_STEPS (default 300000) scales the store.
#include <benchmark/benchmark.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "src/analysis/flame_tree.h"
#include "src/analysis/kernel_stats.h"
#include "src/server/http_util.h"
#include "src/server/request_index.h"
#include "huoyan/server.h"
#include "src/server/server_test_util.h"
#include "src/server/timeline.h"

namespace huoyan::server {
namespace {

struct Fixture {
  TraceStore store;
  testing::SyntheticInfo info;
  std::unique_ptr<Server> server;
  double fill_s = 0;
};

size_t bench_steps() {
  const char* env = std::getenv("HUOYAN_BENCH_STEPS");
  return env != nullptr ? static_cast<size_t>(std::strtoull(env, nullptr, 10)) : 300'000;
}

Fixture& fixture(int port = 0) {
  static Fixture* f = [port] {
    auto* fx = new Fixture;
    testing::SyntheticTrace t;
    t.steps = bench_steps();
    t.batch = 16;
    t.steps_per_request = 48;
    t.kernels_per_step = 30;
    const auto start = std::chrono::steady_clock::now();
    fx->info = testing::fill_synthetic(fx->store, t);
    fx->fill_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ServerOptions o;
    o.port = port;
    o.index_refresh_ms = 0;  // cold figures below rebuild after every append
    o.prewarm = false;       // … and are measured, not built in the background
    fx->server = std::make_unique<Server>(fx->store, o);
    std::string error;
    if (!fx->server->start(&error)) {
      std::fprintf(stderr, "server_bench: %s\n", error.c_str());
      std::exit(1);
    }
    std::fprintf(stderr, "server_bench: %llu events, %zu requests, %zu steps (filled in %.1f s)\n",
                 static_cast<unsigned long long>(fx->store.held()), fx->store.request_count(),
                 fx->store.step_count(), fx->fill_s);
    return fx;
  }();
  return *f;
}

// Touches the store so that the next whole-store query rebuilds its index.
void invalidate(Fixture& f) {
  auto w = f.store.writer();
  Event e;
  e.track = f.info.scheduler;
  e.ts = testing::SyntheticTrace{}.t0;  // inside the trace: the extent does not change
  e.dur = 1;
  w.append(e);
}

void report(benchmark::State& state, std::vector<double>& ms, size_t bytes) {
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) {
    return ms.empty() ? 0.0 : ms[std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()))];
  };
  state.counters["p50_ms"] = pct(0.50);
  state.counters["p99_ms"] = pct(0.99);
  state.counters["max_ms"] = ms.empty() ? 0.0 : ms.back();
  state.counters["body_bytes"] = static_cast<double>(bytes);
}

// GETs `path(i)` once per iteration, timing the whole exchange (body received).
template <typename PathFn>
void run(benchmark::State& state, PathFn path, bool cold = false) {
  Fixture& f = fixture();
  httplib::Client c("127.0.0.1", f.server->port());
  c.set_read_timeout(600, 0);
  c.set_keep_alive(true);
  std::vector<double> ms;
  size_t bytes = 0;
  size_t i = 0;
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      invalidate(f);
      state.ResumeTiming();
    }
    const std::string p = path(i++);
    const auto start = std::chrono::steady_clock::now();
    auto r = c.Get(p.c_str());
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
    if (!r || r->status != 200) {
      state.SkipWithError(("GET " + p + " failed").c_str());
      return;
    }
    bytes = r->body.size();
  }
  report(state, ms, bytes);
}

std::string request_id(size_t i) {
  const auto& ids = fixture().info.request_ids;
  return ids[(i * 7919) % ids.size()];
}

void BM_Profile_Request(benchmark::State& state) {
  run(state, [](size_t i) { return "/api/profile?request_id=" + request_id(i); });
}
BENCHMARK(BM_Profile_Request)->Unit(benchmark::kMillisecond)->Iterations(200);

void BM_Flamegraph_Request(benchmark::State& state) {
  run(state,
      [](size_t i) { return "/api/flamegraph?mode=apportioned&request_id=" + request_id(i); });
}
BENCHMARK(BM_Flamegraph_Request)->Unit(benchmark::kMillisecond)->Iterations(200);

void BM_Flamegraph_All_Cold(benchmark::State& state) {
  run(
      state, [](size_t) { return std::string("/api/flamegraph"); }, true);
}
BENCHMARK(BM_Flamegraph_All_Cold)->Unit(benchmark::kMillisecond)->Iterations(5);

void BM_Flamegraph_All_Cached(benchmark::State& state) {
  run(state, [](size_t) { return std::string("/api/flamegraph"); });
}
BENCHMARK(BM_Flamegraph_All_Cached)->Unit(benchmark::kMillisecond)->Iterations(50);

void BM_Requests_IndexBuild_Cold(benchmark::State& state) {
  run(
      state, [](size_t) { return std::string("/api/requests?prefix=req-0123&limit=50"); }, true);
}
BENCHMARK(BM_Requests_IndexBuild_Cold)->Unit(benchmark::kMillisecond)->Iterations(5);

void BM_Requests_Prefix(benchmark::State& state) {
  run(state, [](size_t i) {
    char prefix[16];
    std::snprintf(prefix, sizeof(prefix), "req-%04zu", (i * 37) % 1000);
    return "/api/requests?limit=50&prefix=" + std::string(prefix);
  });
}
BENCHMARK(BM_Requests_Prefix)->Unit(benchmark::kMillisecond)->Iterations(500);

void BM_Requests_SortedByDevice(benchmark::State& state) {
  run(state, [](size_t) { return std::string("/api/requests?limit=50&sort=-device_ns"); });
}
BENCHMARK(BM_Requests_SortedByDevice)->Unit(benchmark::kMillisecond)->Iterations(200);

void BM_Kernels_All_Cold(benchmark::State& state) {
  run(
      state, [](size_t) { return std::string("/api/kernels"); }, true);
}
BENCHMARK(BM_Kernels_All_Cold)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Timeline_Index_Cold(benchmark::State& state) {
  run(
      state, [](size_t) { return std::string("/api/timeline?width=1600"); }, true);
}
BENCHMARK(BM_Timeline_Index_Cold)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Timeline_All(benchmark::State& state) {
  run(state, [](size_t) { return std::string("/api/timeline?width=1600"); });
}
BENCHMARK(BM_Timeline_All)->Unit(benchmark::kMillisecond)->Iterations(20);

void BM_Timeline_Zoomed(benchmark::State& state) {
  // A 50 ms window somewhere in the middle.
  run(state, [](size_t i) {
    const int64_t t0 =
        testing::SyntheticTrace{}.t0 + static_cast<int64_t>((i * 7919) % 200'000) * 1'000'000;
    return "/api/timeline?width=1600&start_ns=" + std::to_string(t0) +
           "&end_ns=" + std::to_string(t0 + 50'000'000);
  });
}
BENCHMARK(BM_Timeline_Zoomed)->Unit(benchmark::kMillisecond)->Iterations(200);

void BM_Timeline_Request(benchmark::State& state) {
  run(state, [](size_t i) { return "/api/timeline?request_id=" + request_id(i); });
}
BENCHMARK(BM_Timeline_Request)->Unit(benchmark::kMillisecond)->Iterations(200);

// The whole-store builders called directly, for their CPU time (the "CPU" column): on a
// loaded machine the wall-clock figures above include time spent waiting for a core.
void BM_Build_RequestIndex(benchmark::State& state) {
  Fixture& f = fixture();
  for (auto _ : state) benchmark::DoNotOptimize(RequestIndex::build(f.store));
}
BENCHMARK(BM_Build_RequestIndex)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Build_TimelineIndex(benchmark::State& state) {
  Fixture& f = fixture();
  for (auto _ : state) benchmark::DoNotOptimize(TimelineIndex::build(f.store.snapshot()));
}
BENCHMARK(BM_Build_TimelineIndex)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Build_FlameTreeAll(benchmark::State& state) {
  Fixture& f = fixture();
  for (auto _ : state) {
    benchmark::DoNotOptimize(build_flame_tree(f.store, f.store.snapshot(), FlameOptions{}));
  }
}
BENCHMARK(BM_Build_FlameTreeAll)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Build_KernelStatsAll(benchmark::State& state) {
  Fixture& f = fixture();
  for (auto _ : state) {
    const Snapshot snap = f.store.snapshot();
    benchmark::DoNotOptimize(kernel_stats(snap, device_events(snap), GroupBy::kName));
  }
}
BENCHMARK(BM_Build_KernelStatsAll)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Status(benchmark::State& state) {
  run(state, [](size_t) { return std::string("/api/status"); });
}
BENCHMARK(BM_Status)->Unit(benchmark::kMillisecond)->Iterations(500);

}  // namespace
}  // namespace huoyan::server

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--serve") == 0) {
      sigset_t signals;
      sigemptyset(&signals);
      sigaddset(&signals, SIGINT);
      sigaddset(&signals, SIGTERM);
      pthread_sigmask(SIG_BLOCK, &signals, nullptr);
      auto& f = huoyan::server::fixture(std::atoi(argv[i + 1]));
      std::fprintf(stderr, "server_bench: serving %s (Ctrl-C stops)\n", f.server->url().c_str());
      int sig = 0;
      sigwait(&signals, &sig);
      f.server->stop();
      return 0;
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
