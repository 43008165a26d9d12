// Synthetic serving traces for the server's tests and benchmark: a scheduler thread running
// steps (continuous batching, staggered requests: a prefill step then decode steps), kernels on
// several NPUs and streams carrying the step id, request-owned host spans, request marks.
#pragma once

#include <cstdint>
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "src/core/trace_store.h"

namespace huoyan::server::testing {

struct SyntheticTrace {
  size_t steps = 200;
  size_t batch = 4;              // requests per step (lanes)
  size_t steps_per_request = 8;  // decode length
  size_t kernels_per_step = 6;
  int devices = 2;
  int streams_per_device = 2;
  // Above 2^53 on purpose: times must survive JSON readers that use doubles.
  int64_t t0 = int64_t{1'700'000'000'000'000'000};
  int64_t step_ns = 1'000'000;
  uint64_t first_step = 1;  // step ids are first_step, first_step + 1, …
  std::string request_prefix = "req-";
  size_t first_request = 0;  // request ids are <prefix><6 digits> from this number on
};

struct SyntheticInfo {
  std::vector<std::string> request_ids;  // in arrival order
  uint64_t events = 0;
  TrackId scheduler = 0;
};

inline const char* const kSyntheticKernels[] = {
    "Int4Gemm", "PagedAttention", "RMSNorm",   "RoPE",
    "Softmax",  "Sampling",       "AllReduce", "<img src=x onerror=alert(1)>"};

// Appends the trace to `store`, one writer lock per step so that readers interleave.
inline SyntheticInfo fill_synthetic(TraceStore& store, const SyntheticTrace& o) {
  SyntheticInfo info;
  const StringId s_step = store.intern("step"), s_prepare = store.intern("prepare_inputs"),
                 s_forward = store.intern("forward"), s_queue = store.intern("queue"),
                 s_tokenize = store.intern("tokenize"), s_kernel = store.intern("kernel"),
                 s_flops = store.intern("flops"), s_group = store.intern("group_size");
  std::vector<StringId> kernel_names;
  for (const char* k : kSyntheticKernels) kernel_names.push_back(store.intern(k));
  TrackId scheduler, frontend;
  std::vector<TrackId> device_tracks;
  {
    auto w = store.writer();
    scheduler = w.track(100, 1);
    frontend = w.track(100, 2);
    w.process_at(w.track_at(scheduler).process).name = store.intern("llm_server");
    w.track_at(scheduler).name = store.intern("scheduler");
    w.track_at(frontend).name = store.intern("frontend");
    for (int d = 0; d < o.devices; ++d) {
      for (int s = 0; s < o.streams_per_device; ++s) {
        device_tracks.push_back(w.device_track(DeviceType::kNpu, d, 3 + s));
      }
    }
  }
  info.scheduler = scheduler;
  struct Lane {
    StringId request = 0;
    size_t left = 0;
    uint32_t prompt = 0;
    bool first = true;
  };
  std::vector<Lane> lanes(o.batch);
  size_t next_request = o.first_request;
  for (size_t s = 0; s < o.steps; ++s) {
    const int64_t t = o.t0 + static_cast<int64_t>(s) * o.step_ns;
    const uint64_t step_id = o.first_step + s;
    auto w = store.writer();
    Step step;
    step.id = step_id;
    step.start = t;
    step.end = t + o.step_ns * 9 / 10;
    step.track = scheduler;
    for (size_t l = 0; l < lanes.size(); ++l) {
      Lane& lane = lanes[l];
      if (lane.left == 0) {
        char digits[32];
        std::snprintf(digits, sizeof(digits), "%06zu", next_request);
        const std::string id = o.request_prefix + digits;
        const size_t r = next_request++;
        info.request_ids.push_back(id);
        lane.request = store.intern(id);
        // Stagger: the first requests of the lanes are shorter, so requests do not all turn
        // over together.
        lane.left = s == 0 ? 1 + (l * o.steps_per_request) / std::max<size_t>(1, o.batch)
                           : o.steps_per_request;
        lane.first = true;
        lane.prompt = static_cast<uint32_t>(100 + (r * 37) % 400);
        const int64_t arrival = t - 400'000;
        w.add_request_tokens(lane.request, lane.prompt, lane.left);
        w.mark_request(lane.request, RequestMark::kArrival, arrival);
        Event tok;
        tok.ts = arrival - 50'000;
        tok.dur = 50'000;
        tok.name = s_tokenize;
        tok.track = frontend;
        tok.request = lane.request;
        w.append(tok);
        Event queue;
        queue.ts = arrival;
        queue.dur = t - arrival;
        queue.name = s_queue;
        queue.track = frontend;
        queue.request = lane.request;
        w.append(queue);
        info.events += 2;
      }
      step.members.push_back({lane.request, lane.first ? lane.prompt : 1u});
    }
    Event e;
    e.step = step_id;
    e.track = scheduler;
    e.ts = t;
    e.dur = o.step_ns * 9 / 10;
    e.name = s_step;
    w.append(e);
    e.dur = o.step_ns / 10;
    e.name = s_prepare;
    w.append(e);
    e.ts = t + o.step_ns / 10;
    e.dur = o.step_ns * 3 / 4;
    e.name = s_forward;
    w.append(e);
    info.events += 3;
    const int64_t slot =
        (o.step_ns * 7 / 10) / static_cast<int64_t>(std::max<size_t>(1, o.kernels_per_step));
    for (size_t k = 0; k < o.kernels_per_step; ++k) {
      Event kernel;
      kernel.kind = EventKind::kKernel;
      kernel.cat = s_kernel;
      kernel.step = step_id;
      kernel.name = kernel_names[k % std::size(kSyntheticKernels)];
      kernel.track = device_tracks[k % device_tracks.size()];
      kernel.ts = t + o.step_ns * 12 / 100 + static_cast<int64_t>(k) * slot;
      kernel.dur = slot * 8 / 10 + static_cast<int64_t>((s * 7 + k * 13) % 997);
      if (k % std::size(kSyntheticKernels) == 0) {
        const Arg args[] = {{s_flops, ArgValue::Uint(uint64_t{1} << 33)},
                            {s_group, ArgValue::Int(32)}};
        w.append(kernel, args);
      } else {
        w.append(kernel);
      }
      ++info.events;
    }
    w.add_step(step);
    for (Lane& lane : lanes) {
      if (lane.first) w.mark_request(lane.request, RequestMark::kFirstToken, step.end);
      lane.first = false;
      if (--lane.left == 0) w.mark_request(lane.request, RequestMark::kFinish, step.end);
    }
  }
  return info;
}

}  // namespace huoyan::server::testing
