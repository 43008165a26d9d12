// Per-kernel diagnosis rules: dominant kernel, quantization group size, memory-bound kernels,
// small KV-cache blocks, long tails. Pure functions of the context (see diagnosis.h).
#include <algorithm>
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

ViewHint flame_view(const std::string& name) {
  ViewHint v;
  v.tab = "flame";
  v.search = name;
  return v;
}

bool small_group(const KernelFacts& k, const DiagnosisConfig& cfg) {
  return k.group_size > 0 && k.group_size < cfg.group_size_min;
}

bool small_blocks(const KernelFacts& k, const DiagnosisConfig& cfg) {
  return k.block_size > 0 && k.block_size <= cfg.block_size_max;
}

// Time the kernel would take at `fraction` of the peak bandwidth, scaled from the instances that
// carry a `bytes` arg to all instances. Returns the time saved compared with now (>= 0), or -1
// when bandwidth cannot be judged.
int64_t saved_at_bandwidth(const KernelFacts& k, const DeviceSpec* spec, double fraction) {
  if (spec == nullptr || spec->bandwidth_gbps <= 0 || k.bytes <= 0 || k.bytes_ns <= 0) return -1;
  const double target_ns = k.bytes / (spec->bandwidth_gbps * fraction);  // GB/s = bytes/ns
  const double saved = static_cast<double>(k.bytes_ns) - target_ns;
  if (saved <= 0) return 0;
  return static_cast<int64_t>(saved * static_cast<double>(k.total_ns) /
                              static_cast<double>(k.bytes_ns));
}

void add_bandwidth_evidence(Finding* f, const KernelFacts& k, const DeviceSpec* spec,
                            const std::string& basis) {
  if (k.bytes <= 0 || k.bytes_ns <= 0) return;
  const double achieved = k.bytes / static_cast<double>(k.bytes_ns);
  f->evidence.push_back(Evidence::Double("achieved_gbps", achieved));
  if (spec != nullptr) {
    f->evidence.push_back(Evidence::String("device_model", spec->name));
    f->evidence.push_back(Evidence::String("device_model_basis", basis));
    f->evidence.push_back(Evidence::Double("peak_gbps", spec->bandwidth_gbps));
    f->evidence.push_back(Evidence::Double("bandwidth_fraction", achieved / spec->bandwidth_gbps));
  }
}

// The group-size diagnosis shared by dominant-kernel and quant-group-size: evidence, cause,
// suggestion and saved time. The model: a group of g weights at b bits carries
// quant_param_bytes of scale and zero point, so parameters add P/(g·b/8) bytes per weight byte;
// a weight-streaming GEMM's time follows its bytes.
void explain_group_size(const KernelFacts& k, const DiagnosisConfig& cfg, Finding* f) {
  const int64_t g = k.group_size;
  const int64_t s = cfg.group_size_suggested;
  const double cur = diag::quant_overhead(cfg, g);
  const double sug = diag::quant_overhead(cfg, s);
  const double saved_fraction = (cur - sug) / (1.0 + cur);
  const double param_cut = cur > 0 ? (cur - sug) / cur : 0;
  f->saved_ns = diag::scale_ns(k.total_ns, saved_fraction);
  f->evidence.push_back(Evidence::Int("group_size", g));
  f->evidence.push_back(Evidence::Int("suggested_group_size", s));
  f->evidence.push_back(Evidence::Double("scale_zero_bytes_per_weight_byte", cur));
  f->evidence.push_back(Evidence::Double("suggested_scale_zero_bytes_per_weight_byte", sug));
  f->evidence.push_back(Evidence::Double("traffic_saved_fraction", saved_fraction));
  if (k.bytes > 0) {
    // Of the bytes the kernel reports, the parameter part (treating all of it as weight
    // traffic, which dominates a decode GEMM).
    f->evidence.push_back(Evidence::Double("scale_zero_bytes", k.bytes * cur / (1.0 + cur)));
  }
  f->cause.en = fmt::format(
      "With group_size {0}, every {0} weights carry their own scale and zero point: {1} bytes "
      "of scales+zeros per weight byte (vs {2} at {3}). The kernel loads these parameters and "
      "folds a partial sum for every group, so a small group inflates its memory traffic and "
      "work.",
      g, num(cur), num(sug), s);
  f->cause.zh = fmt::format(
      "group_size 为 {0} 时,每 {0} 个权重就带一组 scale 和 zero:每字节权重附带 {1} 字节的 "
      "scale+zero({3} 时为 {2})。内核要为每个分组读取这些参数并累加一次部分和,分组过小会放大"
      "访存量和计算量。",
      g, num(cur), num(sug), s);
  f->suggestion.en = fmt::format(
      "Re-quantize the weights with group_size {0} (e.g. --group-size {0} on the reference "
      "server) and check accuracy: scale/zero traffic drops by {1}, which should save about {2} "
      "of {3} time (~{4} in this trace).",
      s, pct(param_cut), pct(saved_fraction), k.name, dur(f->saved_ns));
  f->suggestion.zh = fmt::format(
      "用 group_size {0} 重新量化权重(参考服务器:--group-size {0}),并验证精度:scale/zero "
      "访存减少 {1},预计节省约 {2} 的 {3} 时间(本 trace 中约 {4})。",
      s, pct(param_cut), pct(saved_fraction), k.name, dur(f->saved_ns));
}

}  // namespace

std::vector<Finding> rule_dominant_kernel(const DiagnosisContext& ctx, const DiagnosisConfig& cfg) {
  std::vector<Finding> out;
  for (const KernelFacts& k : ctx.kernels) {
    if (k.share < cfg.dominant_share || k.total_ns <= 0) continue;
    Finding f = diag::make_finding("dominant-kernel", k.name,
                                   k.share >= 0.7 ? Severity::kCritical : Severity::kWarning);
    f.view = flame_view(k.name);
    f.evidence.push_back(Evidence::Double("share", k.share));
    f.evidence.push_back(Evidence::Int("total_ns", k.total_ns));
    f.evidence.push_back(Evidence::Int("count", static_cast<int64_t>(k.count)));
    f.evidence.push_back(Evidence::Int("device_total_ns", ctx.device_total_ns));
    if (small_group(k, cfg)) {
      f.title.en = fmt::format("{} takes {} of device time; its quantization group is {}", k.name,
                               pct(k.share), k.group_size);
      f.title.zh = fmt::format("{} 占设备时间的 {};其量化分组 group_size 为 {}", k.name,
                               pct(k.share), k.group_size);
      explain_group_size(k, cfg, &f);
    } else if (k.copy) {
      f.title.en = fmt::format("Memory copies ({}) take {} of device time", k.name, pct(k.share));
      f.title.zh = fmt::format("内存拷贝({})占设备时间的 {}", k.name, pct(k.share));
      f.cause.en =
          "Data moves between host and device (or within the device) more than the device "
          "computes; host-device copies are limited by the link (PCIe, HCCS), far below device "
          "memory bandwidth.";
      f.cause.zh =
          "数据在主机与设备之间(或设备内部)搬运的时间超过了计算时间;主机与设备间的拷贝受限于"
          "链路(PCIe、HCCS)带宽,远低于设备内存带宽。";
      f.suggestion.en =
          "Keep data on the device between steps, copy from pinned (page-locked) host memory, "
          "overlap copies with compute on a separate stream, and copy fewer, larger buffers.";
      f.suggestion.zh =
          "在 step 之间让数据常驻设备,从锁页(pinned)内存拷贝,在独立的流上让拷贝与计算重叠,"
          "并合并为更少、更大的拷贝。";
    } else if (k.collective) {
      f.title.en = fmt::format("Collective {} takes {} of device time", k.name, pct(k.share));
      f.title.zh = fmt::format("集合通信 {} 占设备时间的 {}", k.name, pct(k.share));
      f.cause.en =
          "Devices spend most of their time in communication, which includes waiting for the "
          "slowest device to reach the collective.";
      f.cause.zh = "设备大部分时间花在集合通信上,其中包括等待最慢的设备到达同步点。";
      f.suggestion.en =
          "Check device balance and stragglers (see those findings), overlap communication "
          "with computation, and use fewer, larger collectives (fuse small all-reduces).";
      f.suggestion.zh =
          "检查设备间负载均衡与掉队设备(见相应诊断),让通信与计算重叠,并合并小的 all-reduce,"
          "减少集合通信次数。";
    } else {
      f.title.en = fmt::format("{} takes {} of device time", k.name, pct(k.share));
      f.title.zh = fmt::format("{} 占设备时间的 {}", k.name, pct(k.share));
      f.cause.en = fmt::format(
          "One kernel bounds the whole run: even making every other kernel free would save at "
          "most {} (Amdahl's law).",
          pct(1.0 - k.share));
      f.cause.zh = fmt::format(
          "单个内核决定了整体耗时:即使其他内核全部耗时为零,最多也只能节省 {}(阿姆达尔定律)。",
          pct(1.0 - k.share));
      f.suggestion.en = fmt::format(
          "Optimize {} first: check its shapes and arguments, whether it is memory- or "
          "compute-bound (see the memory-bound finding if any), and whether it can be fused with "
          "its neighbours. Halving it would save {}.",
          k.name, dur(k.total_ns / 2));
      f.suggestion.zh = fmt::format(
          "优先优化 {}:检查它的形状与参数、属于访存受限还是计算受限(如有访存受限诊断请参考),"
          "以及能否与相邻内核融合。耗时减半可节省 {}。",
          k.name, dur(k.total_ns / 2));
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> rule_quant_group_size(const DiagnosisContext& ctx,
                                           const DiagnosisConfig& cfg) {
  std::vector<Finding> out;
  for (const KernelFacts& k : ctx.kernels) {
    // A dominant kernel gets this explanation in its dominant-kernel finding.
    if (!small_group(k, cfg) || k.share < cfg.min_share || k.share >= cfg.dominant_share) continue;
    Finding f = diag::make_finding("quant-group-size", k.name, Severity::kWarning);
    f.view = flame_view(k.name);
    f.evidence.push_back(Evidence::Double("share", k.share));
    f.evidence.push_back(Evidence::Int("total_ns", k.total_ns));
    f.title.en = fmt::format("{} uses quantization group {} ({} of device time)", k.name,
                             k.group_size, pct(k.share));
    f.title.zh = fmt::format("{} 的量化分组 group_size 为 {}(占设备时间 {})", k.name, k.group_size,
                             pct(k.share));
    explain_group_size(k, cfg, &f);
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> rule_memory_bound(const DiagnosisContext& ctx, const DiagnosisConfig& cfg) {
  std::vector<Finding> out;
  for (const KernelFacts& k : ctx.kernels) {
    // Kernels with a specific cause (small groups, small blocks) are diagnosed by those rules.
    if (k.share < cfg.min_share || k.bytes <= 0 || k.bytes_ns <= 0 || k.collective || k.copy) {
      continue;
    }
    if (small_group(k, cfg) || small_blocks(k, cfg)) continue;
    std::string basis;
    const DeviceSpec* spec = diag::device_spec(ctx, cfg, k.device_type, &basis);
    if (spec == nullptr || spec->bandwidth_gbps <= 0) continue;
    const double achieved = k.bytes / static_cast<double>(k.bytes_ns);
    const double fraction = achieved / spec->bandwidth_gbps;
    const bool has_flops = k.flops > 0 && k.flops_ns > 0;
    const double intensity = has_flops ? k.flops / k.bytes : 0;
    const double ridge = spec->tflops > 0 ? spec->tflops * 1000.0 / spec->bandwidth_gbps : 0;
    if (has_flops && ridge > 0 && intensity >= ridge) continue;  // compute-bound: not this rule
    const bool at_roof = fraction >= cfg.bandwidth_high;
    const bool inefficient = fraction < cfg.bandwidth_low;
    if (!at_roof && !inefficient) continue;

    Finding f =
        diag::make_finding("memory-bound", k.name, at_roof ? Severity::kInfo : Severity::kWarning);
    f.view = flame_view(k.name);
    f.evidence.push_back(Evidence::Double("share", k.share));
    f.evidence.push_back(Evidence::Int("total_ns", k.total_ns));
    f.evidence.push_back(Evidence::Double("bytes", k.bytes));
    add_bandwidth_evidence(&f, k, spec, basis);
    if (has_flops) {
      f.evidence.push_back(Evidence::Double("arithmetic_intensity", intensity));
      f.evidence.push_back(Evidence::Double("ridge_point", ridge));
    }
    const std::string where = fmt::format("{} GB/s, {} of the {} GB/s peak of {}", num(achieved),
                                          pct(fraction), num(spec->bandwidth_gbps), spec->name);
    const std::string where_zh = fmt::format("{} GB/s,为 {} 峰值 {} GB/s 的 {}", num(achieved),
                                             spec->name, num(spec->bandwidth_gbps), pct(fraction));
    const std::string ai_en =
        has_flops ? fmt::format(
                        " Its arithmetic intensity ({} flop/byte) is below the ridge "
                        "point ({} flop/byte): memory, not compute, limits it.",
                        num(intensity), num(ridge))
                  : std::string(" (No flops arg: compute-bound cannot be ruled out.)");
    const std::string ai_zh = has_flops
                                  ? fmt::format(
                                        "其算术强度({} flop/字节)低于屋顶线拐点({} flop/字节):"
                                        "受限于访存而非计算。",
                                        num(intensity), num(ridge))
                                  : std::string("(缺少 flops 参数,无法排除计算受限。)");
    if (at_roof) {
      f.title.en =
          fmt::format("{} is memory-bound at the bandwidth roof ({})", k.name, pct(fraction));
      f.title.zh = fmt::format("{} 访存受限,已接近带宽上限({})", k.name, pct(fraction));
      f.cause.en = fmt::format("It moves data at {}.{}", where, ai_en);
      f.cause.zh = fmt::format("其访存带宽达到 {}。{}", where_zh, ai_zh);
      f.suggestion.en =
          "Only moving fewer bytes helps: fuse it with its producer or consumer, use a smaller "
          "data type (fp16/int8 KV cache, int4 weights), or batch more tokens per step so each "
          "weight byte serves more tokens.";
      f.suggestion.zh =
          "只有减少搬运的数据量才有效:与上下游内核融合、使用更小的数据类型(fp16/int8 KV "
          "cache、int4 权重),或每个 step 合并更多 token,让每字节权重服务更多 token。";
    } else {
      // An upper bound: all of the shortfall blamed on the access pattern.
      f.saved_ns = std::max<int64_t>(0, saved_at_bandwidth(k, spec, cfg.bandwidth_high));
      f.evidence.push_back(Evidence::String(
          "saved_basis", fmt::format("upper bound: bytes at {} of peak", pct(cfg.bandwidth_high))));
      f.title.en = fmt::format("{} is memory-bound but reaches only {} of peak bandwidth", k.name,
                               pct(fraction));
      f.title.zh = fmt::format("{} 访存受限,但只达到峰值带宽的 {}", k.name, pct(fraction));
      f.cause.en = fmt::format(
          "It moves data at only {}.{} Loads that are small, strided or random are limited by "
          "latency rather than bandwidth.",
          where, ai_en);
      f.cause.zh = fmt::format("其访存带宽只有 {}。{}小块、跨步或随机的访存受延迟而非带宽限制。",
                               where_zh, ai_zh);
      f.suggestion.en = fmt::format(
          "Make loads contiguous and larger: vectorize and coalesce accesses, use larger tiles or "
          "blocks, prefetch the next tile. At {} of peak it would save about {}.",
          pct(cfg.bandwidth_high), dur(f.saved_ns));
      f.suggestion.zh = fmt::format(
          "让访存连续且粒度更大:向量化/合并访存、使用更大的 tile 或 block、预取下一块数据。"
          "达到峰值的 {} 时约可节省 {}。",
          pct(cfg.bandwidth_high), dur(f.saved_ns));
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> rule_small_kv_blocks(const DiagnosisContext& ctx, const DiagnosisConfig& cfg) {
  std::vector<Finding> out;
  for (const KernelFacts& k : ctx.kernels) {
    if (!small_blocks(k, cfg) || k.share < cfg.min_share) continue;
    const int64_t b = k.block_size;
    const int64_t s = cfg.block_size_suggested;
    Finding f = diag::make_finding("small-kv-blocks", k.name, Severity::kWarning);
    f.view = flame_view(k.name);
    f.evidence.push_back(Evidence::Double("share", k.share));
    f.evidence.push_back(Evidence::Int("total_ns", k.total_ns));
    f.evidence.push_back(Evidence::Int("block_size", b));
    f.evidence.push_back(Evidence::Int("suggested_block_size", s));
    f.evidence.push_back(
        Evidence::Double("block_loads_ratio", static_cast<double>(b) / static_cast<double>(s)));
    std::string basis;
    const DeviceSpec* spec = diag::device_spec(ctx, cfg, k.device_type, &basis);
    add_bandwidth_evidence(&f, k, spec, basis);
    // Saving model: a fixed cost per block (table lookup, a new scattered address) on top of
    // streaming its bytes. Going from b to s tokens per block removes (1 − b/s) of those costs.
    // The share of time they take is the shortfall from the attainable bandwidth when bytes are
    // known, capped by block_overhead_max (the shortfall has other causes too), else the cap.
    const double fewer = 1.0 - static_cast<double>(b) / static_cast<double>(s);
    double overhead = cfg.block_overhead_max;
    std::string bw_en;
    std::string bw_zh;
    const bool measured =
        spec != nullptr && spec->bandwidth_gbps > 0 && k.bytes > 0 && k.bytes_ns > 0;
    if (measured) {
      const double achieved = k.bytes / static_cast<double>(k.bytes_ns);
      const double attainable = spec->bandwidth_gbps * cfg.bandwidth_high;
      overhead = std::clamp(1.0 - achieved / attainable, 0.0, cfg.block_overhead_max);
      bw_en =
          fmt::format(" It reaches {} GB/s, {} of the {} GB/s peak of {}.", num(achieved),
                      pct(achieved / spec->bandwidth_gbps), num(spec->bandwidth_gbps), spec->name);
      bw_zh =
          fmt::format("其带宽为 {} GB/s,只有 {} 峰值 {} GB/s 的 {}。", num(achieved), spec->name,
                      num(spec->bandwidth_gbps), pct(achieved / spec->bandwidth_gbps));
    }
    f.saved_ns = diag::scale_ns(k.total_ns, fewer * overhead);
    const int64_t saved = f.saved_ns;
    f.evidence.push_back(Evidence::Double("block_overhead_share", overhead));
    f.evidence.push_back(Evidence::String(
        "saved_basis", measured ? "bandwidth shortfall, capped" : "assumed block overhead"));
    f.title.en = fmt::format("{} loads the KV cache in blocks of {} tokens ({} of device time)",
                             k.name, b, pct(k.share));
    f.title.zh =
        fmt::format("{} 以每块 {} 个 token 加载 KV cache(占设备时间 {})", k.name, b, pct(k.share));
    f.cause.en = fmt::format(
        "Each block is a separate small load at a scattered address (a block-table lookup, then "
        "{} rows): many short random accesses instead of long contiguous ones, so caches and "
        "prefetchers help little.{}",
        b, bw_en);
    f.cause.zh = fmt::format(
        "每个块都是一次独立的小粒度访存,地址分散(先查块表,再读 {} 行):大量短小的随机访问取代了"
        "连续的长访问,缓存和预取几乎无效。{}",
        b, bw_zh);
    const std::string saving_en = fmt::format(
        " If per-block costs take {} of its time, this saves about {}.", pct(overhead), dur(saved));
    const std::string saving_zh =
        fmt::format("若每块的固定开销占其耗时的 {},预计可节省约 {}。", pct(overhead), dur(saved));
    f.suggestion.en = fmt::format(
        "Use block_size {0} (e.g. --block-size {0} on the reference server): {1}x fewer block "
        "loads, each {1}x longer and contiguous, which raises cache hit rates; the cost is up to "
        "{2} unused KV slots per sequence.{3}",
        s, num(static_cast<double>(s) / static_cast<double>(b)), s - 1, saving_en);
    f.suggestion.zh = fmt::format(
        "将 block_size 调整为 {0}(参考服务器:--block-size {0}):块加载次数减少到 1/{1},每次"
        "访问长 {1} 倍且连续,可提升缓存命中率;代价是每个序列最多浪费 {2} 个 KV 槽位。{3}",
        s, num(static_cast<double>(s) / static_cast<double>(b)), s - 1, saving_zh);
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> rule_long_tail(const DiagnosisContext& ctx, const DiagnosisConfig& cfg) {
  std::vector<Finding> out;
  for (const KernelFacts& k : ctx.kernels) {
    if (k.share < cfg.min_share) continue;
    const KernelFacts::Shape* worst = nullptr;
    double worst_ratio = 0;
    for (const auto& shape : k.shapes) {
      if (shape.sorted_ns.size() < cfg.tail_min_count) continue;
      const int64_t p50 = percentile_sorted(shape.sorted_ns, 50);
      const int64_t p99 = percentile_sorted(shape.sorted_ns, 99);
      if (p50 <= 0) continue;
      const double ratio = static_cast<double>(p99) / static_cast<double>(p50);
      if (ratio >= cfg.tail_ratio && ratio > worst_ratio) {
        worst = &shape;
        worst_ratio = ratio;
      }
    }
    if (worst == nullptr) continue;
    const int64_t p50 = percentile_sorted(worst->sorted_ns, 50);
    const int64_t p99 = percentile_sorted(worst->sorted_ns, 99);
    const double limit = cfg.tail_ratio * static_cast<double>(p50);
    int64_t excess = 0;
    uint64_t slow = 0;
    for (int64_t v : worst->sorted_ns) {
      if (static_cast<double>(v) > limit) {
        excess += v - p50;
        ++slow;
      }
    }
    std::string shape_text;
    if (worst->tokens >= 0) shape_text += fmt::format("tokens={}", worst->tokens);
    if (worst->batch >= 0) {
      shape_text += fmt::format("{}batch={}", shape_text.empty() ? "" : ", ", worst->batch);
    }
    Finding f = diag::make_finding("long-tail", k.name, Severity::kWarning);
    f.saved_ns = excess;
    f.view.tab = "timeline";
    f.view.search = k.name;
    f.evidence.push_back(Evidence::Int("p50_ns", p50));
    f.evidence.push_back(Evidence::Int("p99_ns", p99));
    f.evidence.push_back(Evidence::Int("max_ns", worst->sorted_ns.back()));
    f.evidence.push_back(Evidence::Double("p99_over_p50", worst_ratio));
    f.evidence.push_back(Evidence::Int("count", static_cast<int64_t>(worst->sorted_ns.size())));
    f.evidence.push_back(Evidence::Int("slow_instances", static_cast<int64_t>(slow)));
    if (!shape_text.empty()) f.evidence.push_back(Evidence::String("shape", shape_text));
    const std::string in_shape = shape_text.empty() ? "" : " (" + shape_text + ")";
    f.title.en =
        fmt::format("{} has a long tail: p99 is {}x p50{}", k.name, num(worst_ratio), in_shape);
    f.title.zh =
        fmt::format("{} 存在长尾:p99 是 p50 的 {} 倍{}", k.name, num(worst_ratio), in_shape);
    f.cause.en = fmt::format(
        "Instances of the same shape vary widely (p50 {}, p99 {}, max {}; {} instances over "
        "{}x p50). Typical causes: interference from other work on the device or host, frequency "
        "changes, cache/TLB misses, waits inside the kernel, or one-off slow paths (first call, "
        "JIT, allocation).",
        dur(p50), dur(p99), dur(worst->sorted_ns.back()), slow, num(cfg.tail_ratio));
    f.cause.zh = fmt::format(
        "同一形状的实例耗时差异很大(p50 {},p99 {},最大 {};{} 个实例超过 p50 的 {} 倍)。"
        "常见原因:设备或主机上的其他任务干扰、频率变化、缓存/TLB 未命中、内核内部等待,或首次调用、"
        "JIT、内存分配等偶发慢路径。",
        dur(p50), dur(p99), dur(worst->sorted_ns.back()), slow, num(cfg.tail_ratio));
    f.suggestion.en = fmt::format(
        "Look at the slow instances on the timeline and what runs beside them; warm up before "
        "measuring, pin server threads to cores, keep other jobs off the device, and avoid "
        "allocations inside the step. Bringing the slow instances to p50 saves {}.",
        dur(excess));
    f.suggestion.zh = fmt::format(
        "在时间线上查看慢实例及其同时运行的任务;测量前先预热,将服务线程绑核,避免其他任务占用设备,"
        "并避免在 step 内分配内存。将慢实例降到 p50 可节省 {}。",
        dur(excess));
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace huoyan
