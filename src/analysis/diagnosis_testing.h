// Synthetic traces for the tests of diagnosis, rules and regression: a small builder over a
// TraceStore and a generator of serving-loop traces with controlled noise. Test-only.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "src/core/trace_store.h"

namespace huoyan::testing {

class TraceBuilder {
 public:
  explicit TraceBuilder(TraceStore& store) : store_(store) {}

  TrackId host() {
    auto w = store_.writer();
    return w.track(100, 1);
  }
  TrackId stream(int device, int64_t stream, DeviceType type = DeviceType::kNpu) {
    auto w = store_.writer();
    return w.device_track(type, device, stream);
  }

  void kernel(TrackId track, const std::string& name, int64_t ts, int64_t dur, uint64_t step = 0,
              std::initializer_list<std::pair<const char*, double>> args = {}) {
    Event e;
    e.kind = EventKind::kKernel;
    e.track = track;
    e.name = store_.intern(name);
    e.ts = ts;
    e.dur = dur;
    e.step = step;
    append(e, args);
  }

  void copy(TrackId track, const std::string& name, int64_t ts, int64_t dur,
            std::initializer_list<std::pair<const char*, double>> args = {}) {
    Event e;
    e.kind = EventKind::kMemcpy;
    e.track = track;
    e.name = store_.intern(name);
    e.ts = ts;
    e.dur = dur;
    append(e, args);
  }

  // A Kineto "gpu_user_annotation" slice (a range over kernels, on a device stream), with the
  // kind the Chrome reader gives that category.
  void annotation(TrackId track, const std::string& name, int64_t ts, int64_t dur) {
    Event e;
    e.kind = kind_from_category("gpu_user_annotation", name);
    e.track = track;
    e.name = store_.intern(name);
    e.cat = store_.intern("gpu_user_annotation");
    e.ts = ts;
    e.dur = dur;
    append(e, {});
  }

  void span(TrackId track, const std::string& name, int64_t ts, int64_t dur, uint64_t step = 0,
            std::initializer_list<std::pair<const char*, double>> args = {}) {
    Event e;
    e.kind = EventKind::kSpan;
    e.track = track;
    e.name = store_.intern(name);
    e.ts = ts;
    e.dur = dur;
    e.step = step;
    append(e, args);
  }

  void step(uint64_t id, int64_t start, int64_t end,
            std::vector<std::pair<std::string, uint32_t>> members, TrackId track = 0) {
    Step s;
    s.id = id;
    s.start = start;
    s.end = end;
    s.track = track;
    for (const auto& [req, tokens] : members) s.members.push_back({store_.intern(req), tokens});
    auto w = store_.writer();
    w.add_step(std::move(s));
  }

  void request(const std::string& id, int64_t arrival, int64_t finish, uint64_t tokens_out) {
    const StringId r = store_.intern(id);
    auto w = store_.writer();
    w.add_request_tokens(r, 0, tokens_out);
    w.mark_request(r, RequestMark::kArrival, arrival);
    w.mark_request(r, RequestMark::kFinish, finish);
  }

 private:
  void append(const Event& e, std::initializer_list<std::pair<const char*, double>> args) {
    std::vector<Arg> a;
    for (const auto& [k, v] : args) a.push_back({store_.intern(k), ArgValue::Double(v)});
    auto w = store_.writer();
    w.append(e, a);
  }

  TraceStore& store_;
};

// A serving loop: each step runs select_batch and prepare_inputs on the host, then the kernels
// in order on one device stream. Kernel durations are base × slowdown × (1 + noise·N(0,1)),
// per step, so the whole step varies together as on a shared machine.
struct ServingSpec {
  int steps = 200;
  int members = 4;  // requests per step
  std::vector<std::pair<std::string, int64_t>> kernels = {
      {"Int4Gemm", 60000}, {"PagedAttention", 20000}, {"RMSNorm", 5000}};
  int64_t select_ns = 5000;
  int64_t prepare_ns = 3000;
  int64_t gap_ns = 1000;  // between kernels
  double noise = 0.05;    // relative standard deviation per step
  double slowdown = 1.0;
  uint64_t seed = 1;
};

inline void make_serving_trace(TraceStore& store, const ServingSpec& spec) {
  TraceBuilder b(store);
  const TrackId host = b.host();
  const TrackId s0 = b.stream(0, 1);
  std::mt19937_64 rng(spec.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  int64_t t = 1000000;
  for (int i = 1; i <= spec.steps; ++i) {
    const auto step = static_cast<uint64_t>(i);
    const double factor = spec.slowdown * std::max(0.5, 1.0 + spec.noise * normal(rng));
    const int64_t start = t;
    b.span(host, "select_batch", t, spec.select_ns, step);
    t += spec.select_ns;
    b.span(host, "prepare_inputs", t, spec.prepare_ns, step);
    t += spec.prepare_ns;
    for (const auto& [name, base] : spec.kernels) {
      const auto dur = static_cast<int64_t>(std::llround(static_cast<double>(base) * factor));
      b.kernel(s0, name, t, dur, step);
      t += dur + spec.gap_ns;
    }
    std::vector<std::pair<std::string, uint32_t>> members;
    for (int m = 0; m < spec.members; ++m) members.emplace_back("req-" + std::to_string(m), 1);
    b.step(step, start, t, members, host);
    t += 2000;
  }
}

}  // namespace huoyan::testing
