// The facts diagnosis rules read, extracted from a store and a snapshot in one pass over the
// events (plus sorting). Plain data: tests build contexts from small synthetic stores, and the
// rules never look at events themselves.
//
// Conventions: times are ns; "device time" follows Snapshot::is_device_event (the `top` table's
// definition: device work only); host facts come from host slices (EventKind::kHost), so device
// annotation ranges, waits and analysis pseudo-events are neither; per-kernel facts are grouped
// by kernel name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/analysis/diagnosis.h"
#include "src/core/trace_store.h"

namespace huoyan {

struct KernelFacts {
  std::string name;
  uint64_t count = 0;
  int64_t total_ns = 0;
  double share = 0;                // of all device time
  std::vector<int64_t> sorted_ns;  // instance durations, ascending
  // Instance durations grouped by shape (the `tokens` and `batch` args, when present): the
  // long-tail rule compares instances of one shape only, so a prefill is not a "tail" of decode.
  struct Shape {
    int64_t tokens = -1;  // -1 = arg absent
    int64_t batch = -1;
    std::vector<int64_t> sorted_ns;
  };
  std::vector<Shape> shapes;  // largest first
  // Work args, summed over the instances that carry them, with those instances' duration.
  double bytes = 0;
  int64_t bytes_ns = 0;
  double flops = 0;
  int64_t flops_ns = 0;
  // Union of its instances' intervals: with instances running side by side on several streams
  // (a CPU device's worker threads), the device-level rate is the work over this time.
  int64_t busy_ns = 0;
  int64_t group_size = 0;                      // smallest `group_size` arg seen (0 = none)
  int64_t block_size = 0;                      // smallest `block_size` arg seen (0 = none)
  DeviceType device_type = DeviceType::kNone;  // of the first instance's device
  int32_t device = -1;                         // index into DiagnosisContext::devices
  bool collective = false;  // AllReduce, AllGather, HCCL/NCCL…: time partly spent waiting
  bool copy = false;        // memcpy/memset: bound by the link (PCIe…), not device memory

  int64_t p50() const;
  int64_t p99() const;
};

struct DeviceFacts {
  std::string label;  // "NPU 0", "CPU 1"
  // The model the trace names for it (nsys TARGET_INFO_GPU, msprof NPU_INFO, Kineto
  // deviceProperties), else the trace-wide `device` metadata; "" when nothing says.
  std::string model;
  DeviceType type = DeviceType::kNone;
  uint64_t kernels = 0;
  int64_t busy_ns = 0;          // union of its device intervals (streams overlap)
  int64_t compute_busy_ns = 0;  // same without collectives
  int64_t collective_ns = 0;  // total time of its collectives (EventKind::kCollective or named so)
  int64_t copy_exposed_ns = 0;  // time only copies/sets ran (nothing else overlapped them)
  int64_t first_ts = 0;
  int64_t last_end = 0;
};

struct StepFacts {
  uint64_t id = 0;
  int64_t start = kNoTime;  // from the step record, else the span of its events
  int64_t end = kNoTime;
  uint64_t tokens = 0;
  uint32_t members = 0;
  std::vector<int64_t> device_compute_ns;  // per device index: non-collective kernel time
  int64_t wall() const { return start != kNoTime && end != kNoTime ? end - start : 0; }
};

struct LaunchFacts {
  uint64_t kernels = 0;        // device events considered (kernels and copies)
  uint64_t short_kernels = 0;  // shorter than the launch threshold
  int64_t short_ns = 0;
  int64_t median_ns = 0;      // of all device events
  int64_t median_gap_ns = 0;  // between consecutive events of a stream (gaps > 0 only)
  int64_t small_gaps_ns = 0;  // gaps up to the launch gap limit, after a short kernel
  uint64_t small_gaps = 0;
};

// A phase of the serving loop that the host runs while the device waits: a span on a loop
// thread (one that records stepped host spans or `select_batch`) mostly outside device work,
// outermost such span; named by its span name, whatever the engine calls it.
struct HostPhase {
  std::string name;
  std::string label;  // role from the known-engine table ("output processing"), "" if unknown
  int64_t ns = 0;     // its time not overlapped by device work
  uint64_t count = 0;
};

// What the diagnosis looked at: the whole store, or its last `steps` steps (live servers).
struct DiagnosisWindow {
  uint64_t steps = 0;        // steps inside the window
  uint64_t steps_total = 0;  // steps the store holds
  uint64_t max_steps = 0;    // the limit asked for (0: none)
  int64_t start = 0;         // events before this are left out (kNoTime: none left out)
  int64_t end = 0;
};

struct DiagnosisContext {
  int64_t device_total_ns = 0;
  std::vector<KernelFacts> kernels;  // total descending, then name
  std::vector<DeviceFacts> devices;  // by label
  std::vector<StepFacts> steps;      // by id
  LaunchFacts launch;
  // Serving window: first step start to last step end, else first to last device event.
  int64_t window_start = 0;
  int64_t window_end = 0;
  std::vector<int64_t> select_batch_sorted_ns;  // every select_batch span, ascending
  int64_t request_queue_wait_ns = 0;            // queue_wait spans owned by requests without a step
  uint64_t request_queue_waits = 0;
  // Lock waits on the serving loop's threads (those that record select_batch or stepped host
  // spans): the waits that hold back the next step. The name is the lock span with most time.
  int64_t loop_lock_wait_ns = 0;
  uint64_t loop_lock_waits = 0;
  std::string loop_lock_name;
  std::string device_model;  // from trace metadata ("device", "device_name"), "" if none
  // Measured peaks recorded with the trace (metadata "device_peaks", written by the profiler
  // from `huoyan calibrate`'s measurement): source "measured", name = the device type ("CPU").
  std::vector<DeviceSpec> measured_peaks;
  // Host phases of the serving loop, most time first, and what they add up to.
  std::vector<HostPhase> host_phases;
  int64_t host_phase_ns = 0;
  // Serving-loop time: every step plus the host phases run between steps.
  int64_t loop_ns = 0;
  uint64_t loop_steps = 0;
  // Lock waits inside (or as) host phases: the lock that holds the loop back.
  int64_t phase_lock_ns = 0;
  uint64_t phase_lock_waits = 0;
  std::string phase_lock_name;  // the lock span with most time among them
  DiagnosisWindow window;

  const KernelFacts* kernel(std::string_view name) const;
};

// The launch threshold is a fact-extraction parameter (which kernels count as short and which
// gaps as launch gaps), so it is passed here rather than read by the rule.
struct ContextOptions {
  int64_t launch_short_ns = 5000;
  int64_t launch_gap_max_ns = 100000;
  std::string select_batch = "select_batch";
  std::string queue_wait = "queue_wait";
  // Only the last `window_steps` steps (and the events from the first of them on); 0: all.
  uint64_t window_steps = 0;
};

DiagnosisContext build_diagnosis_context(const TraceStore& store, const Snapshot& snapshot,
                                         const ContextOptions& options = {});

// True for span names that denote waiting on a lock ("queue_lock_wait", "MutexWait").
bool is_lock_name(std::string_view name);

// The role a known engine's span name plays in the serving loop ("scheduling", "input
// preparation", "output processing", "sampling"), "" if the name is not in the table. Labels
// only: host phases are found by where they run, never by name.
std::string_view host_phase_label(std::string_view name);

// Parses the "device_peaks" metadata value ({"CPU": {"bandwidth_gbps": …, "gflops": …,
// "method": …}}); entries that do not parse are left out.
std::vector<DeviceSpec> parse_device_peaks(std::string_view json);

// True for collective-communication kernel names (allreduce, all_gather, reduce_scatter,
// broadcast, hccl*, nccl*, any case).
bool is_collective_kernel(std::string_view name);

}  // namespace huoyan
