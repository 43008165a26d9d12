// Whole-run diagnosis rules: host-bound serving loop, launch-bound execution, device imbalance
// and stragglers. Pure functions of the context (see diagnosis.h).
#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "src/analysis/diagnosis.h"
#include "src/analysis/diagnosis_context.h"
#include "src/analysis/diagnosis_util.h"
#include "src/analysis/kernel_stats.h"

namespace huoyan {
namespace {

using diag::dur;
using diag::num;
using diag::pct;

// Mean over devices of the time no kernel of that device ran within the serving window.
int64_t mean_device_idle(const DiagnosisContext& ctx) {
  const int64_t window = ctx.window_end - ctx.window_start;
  if (window <= 0 || ctx.devices.empty()) return 0;
  __extension__ __int128 idle = 0;
  for (const auto& d : ctx.devices)
    idle += std::max<int64_t>(0, window - std::min(window, d.busy_ns));
  return static_cast<int64_t>(idle / static_cast<int64_t>(ctx.devices.size()));
}

// Time of the serving loop: every step, plus the host phases run between steps.
int64_t serving_loop_ns(const DiagnosisContext& ctx, uint64_t* steps) {
  *steps = ctx.loop_steps;
  return ctx.loop_ns;
}

// "output processing" → "输出处理".
std::string_view label_zh(std::string_view label) {
  if (label == "scheduling") return "调度";
  if (label == "input preparation") return "输入准备";
  if (label == "output processing") return "输出处理";
  if (label == "sampling") return "采样";
  if (label == "tokenization") return "分词";
  return label;
}

}  // namespace

std::vector<Finding> rule_lock_contention(const DiagnosisContext& ctx, const DiagnosisConfig& cfg) {
  uint64_t steps = 0;
  const int64_t loop = serving_loop_ns(ctx, &steps);
  if (loop <= 0 || ctx.loop_lock_waits < cfg.lock_min_waits) return {};
  const double share = static_cast<double>(ctx.loop_lock_wait_ns) / static_cast<double>(loop);
  if (share < cfg.lock_share) return {};

  // A lock the serving loop waits for is a defect with a known fix: the thing to do first.
  Finding f = diag::make_finding("lock-contention", ctx.loop_lock_name, Severity::kCritical);
  // Every wait on the loop thread delays the next step by as much.
  f.saved_ns = ctx.loop_lock_wait_ns;
  f.evidence.push_back(Evidence::String("saved_basis", "the serving loop's lock-wait time"));
  f.view.tab = "timeline";
  f.view.search = ctx.loop_lock_name;
  const int64_t mean = ctx.loop_lock_wait_ns / static_cast<int64_t>(ctx.loop_lock_waits);
  f.evidence.push_back(Evidence::String("lock_span", ctx.loop_lock_name));
  f.evidence.push_back(Evidence::Int("lock_waits", static_cast<int64_t>(ctx.loop_lock_waits)));
  f.evidence.push_back(Evidence::Int("lock_wait_ns", ctx.loop_lock_wait_ns));
  f.evidence.push_back(Evidence::Int("mean_lock_wait_ns", mean));
  f.evidence.push_back(Evidence::Int("loop_time_ns", loop));
  f.evidence.push_back(Evidence::Double("lock_wait_share", share));
  f.evidence.push_back(Evidence::Int("steps", static_cast<int64_t>(steps)));
  const std::vector<int64_t>& sel = ctx.select_batch_sorted_ns;
  if (!sel.empty()) {
    __extension__ __int128 sum = 0;
    for (int64_t v : sel) sum += v;
    f.evidence.push_back(
        Evidence::Int("mean_select_batch_ns", static_cast<int64_t>(sum / sel.size())));
    f.evidence.push_back(Evidence::Int("p99_select_batch_ns", percentile_sorted(sel, 99)));
  }

  f.title.en = fmt::format("The serving loop waits for a lock {} of its time", pct(share));
  f.title.zh = fmt::format("服务循环有 {} 的时间在等锁", pct(share));
  f.cause.en = fmt::format(
      "The thread that schedules the steps waited {} times for a lock ({}, mean {}, {} in "
      "all): other threads (request handlers) hold it, and the next step cannot start until "
      "they let go. With more threads than cores a holder is often preempted while holding it.",
      ctx.loop_lock_waits, ctx.loop_lock_name, dur(mean), dur(ctx.loop_lock_wait_ns));
  f.cause.zh = fmt::format(
      "调度 step 的线程等锁 {} 次({},平均 {},共 {}):锁被其他线程(请求处理线程)持有,下一个 "
      "step 要等它们释放才能开始。线程数多于核数时,持锁线程常在持锁期间被抢占。",
      ctx.loop_lock_waits, ctx.loop_lock_name, dur(mean), dur(ctx.loop_lock_wait_ns));
  f.suggestion.en = fmt::format(
      "Take the scheduler off the shared lock: hand new requests over a lock-free queue "
      "(moodycamel::ConcurrentQueue), give each request its own output channel, and never do "
      "I/O (socket writes, JSON formatting) while holding a lock the scheduler needs. Expected "
      "saving: up to {}.",
      dur(f.saved_ns));
  f.suggestion.zh = fmt::format(
      "让调度线程不再依赖共享锁:新请求经无锁队列(moodycamel::ConcurrentQueue)交接,每个请求"
      "使用独立的输出通道,并且不要在持有调度线程所需的锁时做 I/O(写 socket、格式化 "
      "JSON)。预计最多节省 {}。",
      dur(f.saved_ns));
  return {std::move(f)};
}

std::vector<Finding> rule_host_bound(const DiagnosisContext& ctx, const DiagnosisConfig& cfg) {
  uint64_t steps = 0;
  const int64_t wall = serving_loop_ns(ctx, &steps);
  if (wall <= 0 || ctx.host_phases.empty()) return {};
  const int64_t host = ctx.host_phase_ns;
  const double w = static_cast<double>(wall);
  const double host_share = static_cast<double>(host) / w;
  const double lock_share = static_cast<double>(ctx.phase_lock_ns) / w;
  const int64_t window = ctx.window_end - ctx.window_start;
  const int64_t idle = mean_device_idle(ctx);
  const double idle_share =
      window > 0 ? static_cast<double>(idle) / static_cast<double>(window) : 0;
  const bool host_heavy = host_share >= cfg.host_share;
  const bool idle_explained = idle_share >= cfg.idle_share && host * 2 >= idle && host > 0;
  if (!host_heavy && !idle_explained) return {};

  // Lock waits inside the phases: a phase that holds or waits for a lock the other threads use.
  const bool lock_evidence = ctx.phase_lock_waits > 0 && ctx.phase_lock_ns > 0;
  double select_tail = 0;
  if (ctx.select_batch_sorted_ns.size() >= 10) {
    const int64_t p50 = percentile_sorted(ctx.select_batch_sorted_ns, 50);
    const int64_t p99 = percentile_sorted(ctx.select_batch_sorted_ns, 99);
    if (p50 > 0) select_tail = static_cast<double>(p99) / static_cast<double>(p50);
  }
  const bool erratic = select_tail >= cfg.tail_ratio;
  const bool critical = host_share >= 2 * cfg.host_share || (host_heavy && lock_evidence);
  Finding f =
      diag::make_finding("host-bound", "", critical ? Severity::kCritical : Severity::kWarning);
  // Overlapping host work with execution can hide host time only where the device idles.
  f.saved_ns = idle > 0 ? std::min(host, idle) : host;
  f.evidence.push_back(Evidence::String(
      "saved_basis", "host phase time the device waited for, capped by the device's idle time"));
  const HostPhase& top = ctx.host_phases.front();
  f.view.tab = "timeline";
  f.view.search = top.name;
  f.evidence.push_back(Evidence::Int("steps", static_cast<int64_t>(steps)));
  f.evidence.push_back(Evidence::Int("loop_time_ns", wall));
  f.evidence.push_back(Evidence::Int("host_phase_ns", host));
  f.evidence.push_back(Evidence::Double("host_share", host_share));
  f.evidence.push_back(Evidence::String("top_phase", top.name));
  f.evidence.push_back(Evidence::Double("top_phase_share", static_cast<double>(top.ns) / w));
  f.evidence.push_back(Evidence::Double("device_idle_share", idle_share));
  f.evidence.push_back(Evidence::Double("lock_wait_share", lock_share));
  if (lock_evidence) f.evidence.push_back(Evidence::String("lock_span", ctx.phase_lock_name));
  if (select_tail > 0) {
    f.evidence.push_back(Evidence::Double("select_batch_p99_over_p50", select_tail));
  }
  if (ctx.request_queue_waits > 0) {
    f.evidence.push_back(
        Evidence::Int("mean_request_queue_wait_ns",
                      ctx.request_queue_wait_ns / static_cast<int64_t>(ctx.request_queue_waits)));
  }

  // The biggest phases by name (with their role when the name is a known one), up to four.
  std::string parts_en;
  std::string parts_zh;
  for (size_t i = 0; i < ctx.host_phases.size() && i < 4; ++i) {
    const HostPhase& p = ctx.host_phases[i];
    const double share = static_cast<double>(p.ns) / w;
    if (i > 0 && share < 0.01) break;
    f.evidence.push_back(Evidence::Double("phase." + p.name, share));
    const std::string role_en = p.label.empty() ? "" : fmt::format(" ({})", p.label);
    const std::string role_zh = p.label.empty() ? "" : fmt::format("({})", label_zh(p.label));
    parts_en += fmt::format("{}{}{} {}", parts_en.empty() ? "" : ", ", p.name, role_en, pct(share));
    parts_zh += fmt::format("{}{}{} {}", parts_zh.empty() ? "" : ",", p.name, role_zh, pct(share));
  }
  f.title.en =
      fmt::format("Host phases take {} of the serving loop ({})", pct(host_share), parts_en);
  f.title.zh = fmt::format("主机阶段占服务循环的 {}({})", pct(host_share), parts_zh);

  f.cause.en = fmt::format(
      "The serving loop's thread works on the host while no device works: {} of {} in {} "
      "steps. The device is idle {} of the serving window.",
      dur(host), dur(wall), steps, pct(idle_share));
  f.cause.zh = fmt::format(
      "服务循环线程在主机上工作时设备无事可做:{} 个 step 共 {},其中主机阶段 {}。设备在服务期间"
      "空闲 {}。",
      steps, dur(wall), dur(host), pct(idle_share));
  if (lock_evidence) {
    f.cause.en += fmt::format(
        " Inside these phases the loop waits for a lock ({}, {} times, {}): it shares the lock "
        "with the request threads, and whatever runs under it (writing to the clients' "
        "channels) runs on the loop's time.",
        ctx.phase_lock_name, ctx.phase_lock_waits, dur(ctx.phase_lock_ns));
    f.cause.zh += fmt::format(
        "在这些阶段中循环线程还要等锁({},{} 次,共 {}):它与请求线程共用这把锁,持锁期间做的事"
        "(写入客户端通道)都占用循环的时间。",
        ctx.phase_lock_name, ctx.phase_lock_waits, dur(ctx.phase_lock_ns));
  } else if (erratic) {
    f.cause.en += fmt::format(
        " {} is erratic (p99 is {}x p50), the signature of contention on the request queue "
        "lock.",
        cfg.select_batch, num(select_tail));
    f.cause.zh += fmt::format("{} 耗时波动大(p99 是 p50 的 {} 倍),这是请求队列锁竞争的典型特征。",
                              cfg.select_batch, num(select_tail));
  }
  const std::string queue_en =
      "take the loop off the shared lock: hand requests over a lock-free queue "
      "(moodycamel::ConcurrentQueue) and give each request its own output channel, so that "
      "delivering tokens never blocks on, or holds, a lock the request threads use";
  const std::string queue_zh =
      "让服务循环摆脱共享锁:请求经无锁队列(moodycamel::ConcurrentQueue)交接,每个请求使用独立"
      "的输出通道,使投递 token 时既不等待、也不持有请求线程使用的锁";
  const std::string overlap_en = fmt::format(
      "overlap {} with device execution (run it for one step while the device runs the next; "
      "double-buffer inputs and outputs), or move it off the loop thread",
      top.name);
  const std::string overlap_zh = fmt::format(
      "让 {} 与设备执行重叠(设备执行下一个 step 时处理当前 step;输入输出双缓冲),或将其移出"
      "服务循环线程",
      top.name);
  if (lock_evidence || erratic) {
    f.suggestion.en = fmt::format("First {}; then {}. Expected saving: up to {}.", queue_en,
                                  overlap_en, dur(f.saved_ns));
    f.suggestion.zh =
        fmt::format("首先{};其次{}。预计最多节省 {}。", queue_zh, overlap_zh, dur(f.saved_ns));
  } else {
    f.suggestion.en = fmt::format("{}{}. Expected saving: up to {}.",
                                  static_cast<char>(std::toupper(overlap_en[0])),
                                  overlap_en.substr(1), dur(f.saved_ns));
    f.suggestion.zh = fmt::format("{}。预计最多节省 {}。", overlap_zh, dur(f.saved_ns));
  }
  return {std::move(f)};
}

std::vector<Finding> rule_launch_bound(const DiagnosisContext& ctx, const DiagnosisConfig& cfg) {
  const LaunchFacts& l = ctx.launch;
  if (l.kernels < cfg.launch_min_kernels || l.kernels == 0) return {};
  const double short_fraction =
      static_cast<double>(l.short_kernels) / static_cast<double>(l.kernels);
  // Launch-bound: most kernels are short, and the device waits at least as long between them
  // as they run.
  if (short_fraction < cfg.launch_short_fraction || l.small_gaps_ns < l.short_ns ||
      l.small_gaps_ns <= 0) {
    return {};
  }
  Finding f = diag::make_finding("launch-bound", "", Severity::kWarning);
  f.saved_ns = l.small_gaps_ns;
  f.evidence.push_back(Evidence::String("saved_basis", "the device's gaps after short kernels"));
  f.view.tab = "timeline";
  f.evidence.push_back(Evidence::Int("kernels", static_cast<int64_t>(l.kernels)));
  f.evidence.push_back(Evidence::Int("short_kernels", static_cast<int64_t>(l.short_kernels)));
  f.evidence.push_back(Evidence::Double("short_fraction", short_fraction));
  f.evidence.push_back(Evidence::Int("short_threshold_ns", cfg.launch_short_ns));
  f.evidence.push_back(Evidence::Int("median_kernel_ns", l.median_ns));
  f.evidence.push_back(Evidence::Int("median_gap_ns", l.median_gap_ns));
  f.evidence.push_back(Evidence::Int("short_kernel_ns", l.short_ns));
  f.evidence.push_back(Evidence::Int("gaps_after_short_ns", l.small_gaps_ns));
  f.title.en = fmt::format("Launch-bound: {} of {} kernels run shorter than {}",
                           pct(short_fraction), l.kernels, dur(cfg.launch_short_ns));
  f.title.zh = fmt::format("受限于内核启动:{} 个内核中 {} 的耗时短于 {}", l.kernels,
                           pct(short_fraction), dur(cfg.launch_short_ns));
  f.cause.en = fmt::format(
      "Short kernels finish before the next one arrives: the device idles {} in gaps after them "
      "but computes only {} in them (median kernel {}, median gap {}). Launch overhead, not "
      "compute, sets the pace.",
      dur(l.small_gaps_ns), dur(l.short_ns), dur(l.median_ns), dur(l.median_gap_ns));
  f.cause.zh = fmt::format(
      "短内核在下一个内核到达之前就已结束:设备在它们之后的间隙中空闲 {},而实际计算只有 {}"
      "(内核中位数 {},间隙中位数 {})。节奏由启动开销而非计算决定。",
      dur(l.small_gaps_ns), dur(l.short_ns), dur(l.median_ns), dur(l.median_gap_ns));
  f.suggestion.en = fmt::format(
      "Launch less: capture the decode step as a graph (CUDA Graphs, torch.compile "
      "mode=\"reduce-overhead\", Ascend aclgraph/torchair), fuse small element-wise kernels "
      "(RMSNorm+RoPE, bias+activation), and batch more tokens per kernel. Removing the gaps saves "
      "up to {}.",
      dur(l.small_gaps_ns));
  f.suggestion.zh = fmt::format(
      "减少启动次数:将 decode step 捕获为图(CUDA Graphs、torch.compile "
      "mode=\"reduce-overhead\"、昇腾 aclgraph/torchair),融合小的逐元素内核(RMSNorm+RoPE、"
      "bias+激活),并让每个内核处理更多 token。消除这些间隙最多可节省 {}。",
      dur(l.small_gaps_ns));
  return {std::move(f)};
}

std::vector<Finding> rule_device_imbalance(const DiagnosisContext& ctx,
                                           const DiagnosisConfig& cfg) {
  std::vector<const DeviceFacts*> devs;
  for (const auto& d : ctx.devices) {
    if (d.compute_busy_ns > 0) devs.push_back(&d);
  }
  if (devs.size() < 2) return {};
  const auto [mn, mx] =
      std::minmax_element(devs.begin(), devs.end(), [](const DeviceFacts* a, const DeviceFacts* b) {
        return a->compute_busy_ns < b->compute_busy_ns;
      });
  const int64_t max_ns = (*mx)->compute_busy_ns;
  const int64_t min_ns = (*mn)->compute_busy_ns;
  const double spread = static_cast<double>(max_ns - min_ns) / static_cast<double>(max_ns);
  if (spread < cfg.imbalance) return {};
  __extension__ __int128 sum = 0;
  int64_t busy = 0;
  for (const DeviceFacts* d : devs) {
    sum += d->compute_busy_ns;
    busy += d->busy_ns;
  }
  const int64_t mean = static_cast<int64_t>(sum / static_cast<int64_t>(devs.size()));
  int64_t collective = 0;
  for (const DeviceFacts* d : devs) collective += d->busy_ns - d->compute_busy_ns;
  Finding f =
      diag::make_finding("device-imbalance", (*mx)->label,
                         spread >= 2 * cfg.imbalance ? Severity::kCritical : Severity::kWarning);
  f.saved_ns = max_ns - mean;
  f.evidence.push_back(
      Evidence::String("saved_basis", "the busiest device's compute time above the mean"));
  f.view.tab = "timeline";
  f.view.search = (*mx)->label;
  f.evidence.push_back(Evidence::Int("devices", static_cast<int64_t>(devs.size())));
  f.evidence.push_back(Evidence::String("max_device", (*mx)->label));
  f.evidence.push_back(Evidence::Int("max_busy_ns", max_ns));
  f.evidence.push_back(Evidence::String("min_device", (*mn)->label));
  f.evidence.push_back(Evidence::Int("min_busy_ns", min_ns));
  f.evidence.push_back(Evidence::Int("mean_busy_ns", mean));
  f.evidence.push_back(Evidence::Double("spread", spread));
  f.evidence.push_back(
      Evidence::Double("collective_share",
                       busy > 0 ? static_cast<double>(collective) / static_cast<double>(busy) : 0));
  const double over =
      static_cast<double>(max_ns) / static_cast<double>(std::max<int64_t>(1, min_ns)) - 1;
  f.title.en = fmt::format("Devices are unbalanced: {} computes {} longer than {}", (*mx)->label,
                           pct(over), (*mn)->label);
  f.title.zh =
      fmt::format("设备负载不均:{} 的计算时间比 {} 长 {}", (*mx)->label, (*mn)->label, pct(over));
  f.cause.en = fmt::format(
      "Compute time (without collectives) ranges from {} on {} to {} on {}. With tensor or "
      "pipeline parallelism every step waits for the slowest device, so the others idle in "
      "collectives.",
      dur(min_ns), (*mn)->label, dur(max_ns), (*mx)->label);
  f.cause.zh = fmt::format(
      "不含集合通信的计算时间从 {}({})到 {}({})不等。在张量并行或流水线并行下,每个 step 都要"
      "等最慢的设备,其他设备只能在集合通信中空等。",
      dur(min_ns), (*mn)->label, dur(max_ns), (*mx)->label);
  f.suggestion.en = fmt::format(
      "Balance the work: split heads, experts or layers evenly, check that {} does not run extra "
      "work (embedding, sampling, logging), and that all devices are the same model at the same "
      "clocks. Balancing to the mean saves {} per device.",
      (*mx)->label, dur(f.saved_ns));
  f.suggestion.zh = fmt::format(
      "均衡负载:均匀切分注意力头、专家或层,确认 {} 没有承担额外工作(embedding、采样、日志),"
      "并确认所有设备型号和频率一致。均衡到平均值可为每个设备节省 {}。",
      (*mx)->label, dur(f.saved_ns));
  return {std::move(f)};
}

std::vector<Finding> rule_stragglers(const DiagnosisContext& ctx, const DiagnosisConfig& cfg) {
  uint64_t considered = 0;
  uint64_t straggling = 0;
  int64_t lag = 0;
  std::vector<uint64_t> times_last(ctx.devices.size(), 0);
  for (const StepFacts& s : ctx.steps) {
    std::vector<std::pair<int64_t, size_t>> busy;
    for (size_t d = 0; d < s.device_compute_ns.size(); ++d) {
      if (s.device_compute_ns[d] > 0) busy.emplace_back(s.device_compute_ns[d], d);
    }
    if (busy.size() < 2) continue;
    ++considered;
    std::sort(busy.begin(), busy.end());
    const auto [top, who] = busy.back();
    // Median of the other devices (lower median for an even count).
    const int64_t others_median = busy[(busy.size() - 2) / 2].first;
    if (static_cast<double>(top) >= cfg.straggler_ratio * static_cast<double>(others_median)) {
      ++straggling;
      lag += top - others_median;
      ++times_last[who];
    }
  }
  if (considered < cfg.straggler_min_steps || straggling == 0) return {};
  const double fraction = static_cast<double>(straggling) / static_cast<double>(considered);
  if (fraction < cfg.straggler_steps) return {};
  const size_t worst = static_cast<size_t>(std::max_element(times_last.begin(), times_last.end()) -
                                           times_last.begin());
  const std::string& label = ctx.devices[worst].label;
  Finding f = diag::make_finding("stragglers", label, Severity::kWarning);
  f.saved_ns = lag;
  f.evidence.push_back(
      Evidence::String("saved_basis", "the straggler's lag over the others' median"));
  f.view.tab = "timeline";
  f.view.search = label;
  f.evidence.push_back(Evidence::Int("steps", static_cast<int64_t>(considered)));
  f.evidence.push_back(Evidence::Int("straggler_steps", static_cast<int64_t>(straggling)));
  f.evidence.push_back(Evidence::Double("straggler_fraction", fraction));
  f.evidence.push_back(Evidence::String("most_frequent_straggler", label));
  f.evidence.push_back(
      Evidence::Int("most_frequent_count", static_cast<int64_t>(times_last[worst])));
  f.evidence.push_back(Evidence::Int("lag_ns", lag));
  f.title.en = fmt::format(
      "Stragglers: in {} of steps one device computes {}x longer than the others ({} in {} of "
      "them)",
      pct(fraction), num(cfg.straggler_ratio), label, times_last[worst]);
  f.title.zh = fmt::format(
      "掉队设备:{} 的 step 中有一个设备的计算时间是其他设备的 {} 倍以上"
      "(其中 {} 次是 {})",
      pct(fraction), num(cfg.straggler_ratio), times_last[worst], label);
  f.cause.en = fmt::format(
      "In those steps the other devices wait {} in total for the straggler at the next "
      "collective. Lag that comes and goes points to interference on that device or its host "
      "thread (other processes, preemption, throttling, link errors) rather than a static "
      "imbalance.",
      dur(lag));
  f.cause.zh = fmt::format(
      "在这些 step 中,其他设备在下一次集合通信处共等待掉队设备 {}。时有时无的滞后通常来自该设备或"
      "其主机线程受到的干扰(其他进程、抢占、降频、链路错误),而不是静态的负载不均。",
      dur(lag));
  f.suggestion.en = fmt::format(
      "Inspect {} in the straggler steps on the timeline; pin its host thread to a core, keep "
      "other jobs off the device, and check its clocks, temperature and interconnect counters.",
      label);
  f.suggestion.zh = fmt::format(
      "在时间线上查看 {} 在掉队 step 中的情况;将其主机线程绑核,避免其他任务占用该设备,并检查其"
      "频率、温度和互联错误计数。",
      label);
  return {std::move(f)};
}

// Collectives (NCCL/RCCL kernels, HCCL operators: EventKind::kCollective) over comm_share of
// the device time of a trace with several devices. The saving is the exposed communication:
// time a device is busy with collectives and nothing else, which overlapping them with compute
// would hide (the busiest device's, since every step waits for it).
std::vector<Finding> rule_communication_share(const DiagnosisContext& ctx,
                                              const DiagnosisConfig& cfg) {
  if (ctx.devices.size() < 2 || ctx.device_total_ns <= 0) return {};
  int64_t collective = 0;
  const DeviceFacts* most_exposed = nullptr;
  for (const DeviceFacts& d : ctx.devices) {
    collective += d.collective_ns;
    if (most_exposed == nullptr ||
        d.busy_ns - d.compute_busy_ns > most_exposed->busy_ns - most_exposed->compute_busy_ns) {
      most_exposed = &d;
    }
  }
  const double share = static_cast<double>(collective) / static_cast<double>(ctx.device_total_ns);
  if (share < cfg.comm_share) return {};
  const int64_t exposed = most_exposed->busy_ns - most_exposed->compute_busy_ns;
  Finding f =
      diag::make_finding("communication-share", most_exposed->label,
                         share >= 2 * cfg.comm_share ? Severity::kCritical : Severity::kWarning);
  f.saved_ns = std::max<int64_t>(0, exposed);
  f.view.tab = "kernels";
  f.evidence.push_back(Evidence::Int("devices", static_cast<int64_t>(ctx.devices.size())));
  f.evidence.push_back(Evidence::Int("collective_ns", collective));
  f.evidence.push_back(Evidence::Int("device_total_ns", ctx.device_total_ns));
  f.evidence.push_back(Evidence::Double("collective_share", share));
  f.evidence.push_back(Evidence::String("most_exposed_device", most_exposed->label));
  f.evidence.push_back(Evidence::Int("exposed_ns", exposed));
  f.evidence.push_back(Evidence::String(
      "saved_basis", "communication not overlapped with compute on the most exposed device"));
  f.title.en = fmt::format("Communication takes {} of device time across {} devices", pct(share),
                           ctx.devices.size());
  f.title.zh = fmt::format("集合通信占 {} 个设备总设备时间的 {}", ctx.devices.size(), pct(share));
  f.cause.en = fmt::format(
      "Collectives total {} of {} device time. On {} they run with no compute beside them for "
      "{}: the devices wait on each other or on the interconnect instead of computing.",
      dur(collective), dur(ctx.device_total_ns), most_exposed->label, dur(exposed));
  f.cause.zh = fmt::format(
      "集合通信共 {},设备总时间 {}。在 {} 上有 {} 的通信没有与计算重叠:设备在互相等待或等待"
      "互联链路,而不是在计算。",
      dur(collective), dur(ctx.device_total_ns), most_exposed->label, dur(exposed));
  f.suggestion.en = fmt::format(
      "Overlap communication with computation (separate communication streams, bucketed "
      "all-reduce, async tensor-parallel collectives), fuse small collectives, and check the "
      "device-imbalance and stragglers findings: waiting for a slow device shows up as "
      "collective time. Hiding the exposed part saves up to {} on {}.",
      dur(f.saved_ns), most_exposed->label);
  f.suggestion.zh = fmt::format(
      "让通信与计算重叠(独立的通信流、分桶 all-reduce、异步张量并行集合通信),合并小的集合"
      "通信,并查看设备负载不均与掉队设备诊断:等待慢设备的时间会表现为集合通信时间。隐藏未重叠"
      "部分最多可在 {} 上节省 {}。",
      most_exposed->label, dur(f.saved_ns));
  return {std::move(f)};
}

}  // namespace huoyan
