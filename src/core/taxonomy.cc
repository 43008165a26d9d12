#include "src/core/taxonomy.h"

#include <array>
#include <utility>

namespace huoyan {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool icontains(std::string_view s, std::string_view word) {
  if (word.size() > s.size()) return false;
  for (size_t i = 0; i + word.size() <= s.size(); ++i) {
    if (iequals(s.substr(i, word.size()), word)) return true;
  }
  return false;
}

// `item` is `word`, or `<vendor>_word` ("gpu_memcpy", "mlu_memcpy"), ignoring case.
bool is_or_ends_with(std::string_view item, std::string_view word) {
  if (iequals(item, word)) return true;
  return item.size() > word.size() + 1 && item[item.size() - word.size() - 1] == '_' &&
         iequals(item.substr(item.size() - word.size()), word);
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

// Host categories of Kineto (every ActivityType that runs on the host, and the capitalised
// ones of old traces), of torch_npu, and of huoyan's own readers (nvtx, cann_api, mstx, sample).
constexpr std::array<std::string_view, 32> kHostCategories = {
    "cpu_op",
    "user_annotation",
    "python_function",
    "cuda_runtime",
    "cuda_driver",
    "xpu_runtime",
    "xpu_driver",
    "mtia_runtime",
    "privateuse1_runtime",
    "privateuse1_driver",
    "hpu_op",
    "glow_runtime",
    "cpu_instant_event",
    "overhead",
    "external_correlation",
    "runtime",
    "operator",
    "python",
    "trace",
    "enqueue",
    "dequeue",
    "nvtx",
    "cann_api",
    "mstx",
    "sample",
    "host",
    "cuda_api",
    "osrt",
    "driver",
    "api",
    "fwdbwd",
    "ac2g",
};

// One comma-separated category item; kSpan when unknown.
EventKind kind_of_item(std::string_view item, std::string_view name) {
  if (is_or_ends_with(item, "kernel")) {
    return is_collective_kernel_name(name) ? EventKind::kCollective : EventKind::kKernel;
  }
  if (is_or_ends_with(item, "memcpy")) return EventKind::kMemcpy;
  if (is_or_ends_with(item, "memset")) return EventKind::kMemset;
  if (iequals(item, "collective_comm") || iequals(item, "collective")) {
    return EventKind::kCollective;
  }
  if (is_or_ends_with(item, "sync") || iequals(item, "wait")) return EventKind::kWait;
  // A device-side copy of a host range ("gpu_user_annotation"); plain user_annotation is host.
  if (item.size() > 16 && is_or_ends_with(item, "user_annotation")) return EventKind::kDeviceRange;
  if (iequals(item, "cuda_profiler_range") || iequals(item, "cuda_event") ||
      iequals(item, "xpu_scope_profiler") || iequals(item, "device-range")) {
    return EventKind::kDeviceRange;
  }
  // MTIA's command-processor events: waits and records, DMA copies, executions.
  if (iequals(item, "mtia_ccp_events")) return device_slice_kind(name);
  if (iequals(item, "derived")) return EventKind::kDerived;
  for (std::string_view h : kHostCategories) {
    if (iequals(item, h)) return EventKind::kHost;
  }
  if (is_or_ends_with(item, "runtime") || is_or_ends_with(item, "driver")) return EventKind::kHost;
  return EventKind::kSpan;
}

}  // namespace

ProcessRole process_role(std::string_view name) {
  name = trim(name);
  if (name == "HCCL" || name == "Communication") return ProcessRole::kCommunication;
  if (name == "Overlap Analysis" || name == "Step Trace") return ProcessRole::kDerived;
  static constexpr std::array<std::string_view, 6> kHost = {"CANN",     "Python", "Python GC",
                                                            "PID Name", "MsTx",   "Python3"};
  for (std::string_view h : kHost) {
    if (name == h) return ProcessRole::kHost;
  }
  DeviceType type;
  int32_t index;
  if (device_from_process_name(name, &type, &index)) return ProcessRole::kDevice;
  return ProcessRole::kUnknown;
}

bool device_from_process_name(std::string_view name, DeviceType* type, int32_t* index) {
  name = trim(name);
  if (name == "Ascend Hardware") {
    *type = DeviceType::kNpu;
    *index = -1;
    return true;
  }
  static constexpr std::pair<std::string_view, DeviceType> kPrefixes[] = {
      {"GPU ", DeviceType::kGpu},   {"NPU ", DeviceType::kNpu},    {"CPU ", DeviceType::kCpu},
      {"MLU ", DeviceType::kOther}, {"MTIA ", DeviceType::kOther}, {"XPU ", DeviceType::kOther},
      {"HPU ", DeviceType::kOther}, {"TPU ", DeviceType::kOther},  {"IPU ", DeviceType::kOther},
      {"DCU ", DeviceType::kOther},
  };
  for (const auto& [prefix, t] : kPrefixes) {
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) continue;
    const std::string_view digits = name.substr(prefix.size());
    if (digits.size() > 9) return false;
    int32_t n = 0;
    for (const char c : digits) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + (c - '0');
    }
    *type = t;
    *index = n;
    return true;
  }
  return false;
}

ProcessRole thread_role(std::string_view name) {
  name = trim(name);
  return name.substr(0, 10) == "Step Trace" ? ProcessRole::kDerived : ProcessRole::kUnknown;
}

EventKind kind_from_category(std::string_view cat, std::string_view name) {
  while (!cat.empty()) {
    const size_t comma = cat.find(',');
    const std::string_view item = trim(cat.substr(0, comma));
    cat = comma == std::string_view::npos ? std::string_view() : cat.substr(comma + 1);
    if (item.empty()) continue;
    const EventKind k = kind_of_item(item, name);
    if (k != EventKind::kSpan) return k;
  }
  return EventKind::kSpan;
}

EventKind ascend_task_kind(std::string_view t) {
  t = trim(t);
  if (icontains(t, "MEMCPY")) return EventKind::kMemcpy;
  if (icontains(t, "WAIT") || icontains(t, "RECORD") || icontains(t, "RESET")) {
    return EventKind::kWait;
  }
  if (iequals(t, "HCCL") || iequals(t, "COMMUNICATION") || icontains(t, "REDUCE") ||
      icontains(t, "HCCL")) {
    return EventKind::kCollective;
  }
  return EventKind::kKernel;
}

EventKind device_slice_kind(std::string_view name) {
  if (icontains(name, "wait") || icontains(name, "record") || icontains(name, "reset")) {
    return EventKind::kWait;
  }
  if (icontains(name, "memcpy") || icontains(name, "dma")) return EventKind::kMemcpy;
  if (icontains(name, "memset")) return EventKind::kMemset;
  return EventKind::kKernel;
}

EventKind communication_slice_kind(std::string_view name) {
  if (icontains(name, "wait")) return EventKind::kWait;
  return EventKind::kCollective;
}

bool is_collective_kernel_name(std::string_view name) {
  return icontains(name, "nccl") || icontains(name, "rccl");
}

KindSet KindSet::device_work() {
  return of(EventKind::kKernel) | of(EventKind::kMemcpy) | of(EventKind::kMemset) |
         of(EventKind::kCollective);
}

KindSet KindSet::device_side() { return device_work() | of(EventKind::kWait); }

bool parse_kind_set(std::string_view text, KindSet* out) {
  static constexpr std::array<std::pair<std::string_view, EventKind>, 5> kWords = {{
      {"kernel", EventKind::kKernel},
      {"memcpy", EventKind::kMemcpy},
      {"memset", EventKind::kMemset},
      {"collective", EventKind::kCollective},
      {"wait", EventKind::kWait},
  }};
  KindSet set;
  bool any = false;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view word = trim(text.substr(0, comma));
    bool known = false;
    if (word == "all") {
      set = set | KindSet::device_side();
      known = true;
    } else if (word == "work") {
      set = set | KindSet::device_work();
      known = true;
    }
    for (const auto& [w, k] : kWords) {
      if (word == w) {
        set = set | KindSet::of(k);
        known = true;
      }
    }
    if (!known) return false;
    any = true;
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
  }
  if (!any) return false;
  *out = set;
  return true;
}

std::string_view kind_name(EventKind k) {
  switch (k) {
    case EventKind::kKernel:
      return "kernel";
    case EventKind::kMemcpy:
      return "memcpy";
    case EventKind::kMemset:
      return "memset";
    case EventKind::kCollective:
      return "collective";
    case EventKind::kWait:
      return "wait";
    case EventKind::kDeviceRange:
      return "device-range";
    case EventKind::kHost:
      return "host";
    case EventKind::kDerived:
      return "derived";
    case EventKind::kCounter:
      return "counter";
    case EventKind::kSpan:
      return "span";
    case EventKind::kInstant:
      return "instant";
    case EventKind::kFlowStart:
    case EventKind::kFlowStep:
    case EventKind::kFlowEnd:
      return "flow";
    case EventKind::kAsyncBegin:
    case EventKind::kAsyncEnd:
    case EventKind::kAsyncInstant:
      return "async";
  }
  return "span";
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

}  // namespace huoyan
