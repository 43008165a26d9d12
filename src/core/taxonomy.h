// The event taxonomy: which kind an event is, decided by what produced it. One place for the
// producer knowledge every reader and collector uses; docs/formats.md ("Event kinds: what counts
// as device time") is the same table in prose, and tests/data/real/expect.py an independent
// implementation of it that the corpus test compares against.
//
// Pure functions over strings; no store access.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "src/core/event.h"

namespace huoyan {

// What a process of a Chrome-format trace is, from its process_name metadata. Decides the kind
// of its slices whose own category says nothing (EventKind::kSpan, see Snapshot::kind_of).
enum class ProcessRole : uint8_t {
  kUnknown,  // no known producer: a host process, unless it is named as a device
  kDevice,   // "GPU 0", "NPU 1", "Ascend Hardware": slices are device tasks
  // torch_npu/msprof "HCCL", "Communication": collectives and their waits; a mirror (below)
  // when the same input has an "Ascend Hardware" layer, whose streams carry those tasks.
  kCommunication,
  kDerived,  // "Overlap Analysis", "Step Trace" (process or thread): an analysis tool's marks
  kHost,     // "CANN", "Python", "Python GC", "PID Name", "MsTx": host work
  // A device layer whose work another file of the same input describes (torch_npu's
  // trace_view.json beside kernel_details.csv): its device-side events are shown, not counted.
  kMirror,
};
ProcessRole process_role(std::string_view process_name);

// Device recognised from a process name or label: "GPU 0", "NPU 1", "CPU 0" (huoyan's CPU
// device), "MLU 2", "MTIA 17", "XPU n", "HPU n", "TPU n", "IPU n", "DCU n" (DeviceType::kOther
// for these), or "Ascend Hardware" (NPU, index unknown: -1). False for anything else, e.g.
// "python3.10", a bare "CPU" or Chrome's "GPU Process".
bool device_from_process_name(std::string_view name, DeviceType* type, int32_t* index);
// The role a thread's name gives it over its process's ("Step Trace(Model ID:1)" → kDerived),
// kUnknown for most.
ProcessRole thread_role(std::string_view thread_name);

// Kind of a slice from its Kineto-style category ("kernel", "gpu_memcpy", "cuda_sync",
// "python_function", old "Kernel"/"Runtime", vendor prefixes "mlu_", "xpu_"…); a comma list
// takes its first known item. kSpan when no item is known. The name decides only between a
// kernel and a collective (NCCL/RCCL kernels).
EventKind kind_from_category(std::string_view cat, std::string_view name);

// Kind of an Ascend device task (msprof / torch_npu "Ascend Hardware" layer, op_summary /
// kernel_details / task_time tables, msprof TASK rows) from its task type ("AI_CORE",
// "MEMCPY_ASYNC", "EVENT_WAIT", "HCCL"…). An empty type is a kernel.
EventKind ascend_task_kind(std::string_view task_type);

// Kind of a slice of unknown producer on a device-named process: a device's waits, records and
// resets, copies (memcpy, DMA) and sets by name, else a kernel.
EventKind device_slice_kind(std::string_view name);

// Kind of a slice of a communication process (kCommunication): waits by name, else collective.
EventKind communication_slice_kind(std::string_view name);

// NCCL/RCCL kernels run collectives: a kernel whose name contains "nccl" or "rccl" (any case).
bool is_collective_kernel_name(std::string_view name);

// A set of kinds, for filters (`top --kind`, /api/kernels?kind=).
class KindSet {
 public:
  constexpr KindSet() = default;
  static constexpr KindSet of(EventKind k) { return KindSet(uint32_t{1} << static_cast<int>(k)); }
  static KindSet device_work();  // kernel, memcpy, memset, collective
  static KindSet device_side();  // device work and waits (the rows `top --kind all` shows)
  constexpr bool has(EventKind k) const { return (bits_ >> static_cast<int>(k)) & 1; }
  constexpr KindSet operator|(KindSet o) const { return KindSet(bits_ | o.bits_); }
  constexpr bool empty() const { return bits_ == 0; }

 private:
  constexpr explicit KindSet(uint32_t bits) : bits_(bits) {}
  uint32_t bits_ = 0;
};

// Parses a filter: "kernel", "memcpy", "memset", "collective", "wait", "work" (device work) or
// "all" (device work and waits), several joined by commas. False on an unknown word.
bool parse_kind_set(std::string_view text, KindSet* out);

// `s` with ASCII letters in lower case: the case-insensitive matching of names and model strings.
std::string lower_ascii(std::string_view s);

}  // namespace huoyan
