// Per-kernel diagnosis rules: dominant kernel, quantization group size, the roofline,
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

// A wrong knob (a group or block size below its limit, on a kernel over min_share) is the thing
// to fix first, whatever the saving estimate says: the estimate rests on a model, the knob's
// value does not.
constexpr Severity kKnobSeverity = Severity::kCritical;

// The roofline and its peak as evidence: which peak, where it came from, how close the kernel is.
void add_roofline_evidence(Finding* f, const diag::Roofline& r) {
  if (r.achieved_gbps > 0)
    f->evidence.push_back(Evidence::Double("achieved_gbps", r.achieved_gbps));
  if (r.achieved_gflops > 0) {
    f->evidence.push_back(Evidence::Double("achieved_gflops", r.achieved_gflops));
  }
  f->evidence.push_back(Evidence::String("device_model", r.spec.name));
  f->evidence.push_back(Evidence::String("peak_source", r.spec.source));
  if (!r.spec.method.empty()) f->evidence.push_back(Evidence::String("peak_method", r.spec.method));
  f->evidence.push_back(Evidence::Double("peak_gbps", r.spec.bandwidth_gbps));
  if (r.spec.tflops > 0)
    f->evidence.push_back(Evidence::Double("peak_gflops", r.spec.tflops * 1000));
  f->evidence.push_back(Evidence::String("bound", r.compute_bound ? "compute" : "memory"));
  f->evidence.push_back(Evidence::Double("roofline_fraction", r.fraction));
  if (r.intensity > 0) f->evidence.push_back(Evidence::Double("arithmetic_intensity", r.intensity));
  if (r.ridge > 0) f->evidence.push_back(Evidence::Double("ridge_point", r.ridge));
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
  f->evidence.push_back(Evidence::String(
      "saved_basis", "traffic model: scale/zero bytes per weight byte at the two group sizes"));
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
    // A kernel that takes most of the device time is what most LLM steps look like: by itself it
    // is information. It is a finding when a knob is wrong (group size), or when it is a copy or
    // a collective (time not spent computing).
    Finding f = diag::make_finding("dominant-kernel", k.name, Severity::kInfo);
    f.view = flame_view(k.name);
    f.evidence.push_back(Evidence::Double("share", k.share));
    f.evidence.push_back(Evidence::Int("total_ns", k.total_ns));
    f.evidence.push_back(Evidence::Int("count", static_cast<int64_t>(k.count)));
    f.evidence.push_back(Evidence::Int("device_total_ns", ctx.device_total_ns));
    const DeviceFacts* dev = k.device >= 0 ? &ctx.devices[static_cast<size_t>(k.device)] : nullptr;
    if (small_group(k, cfg)) {
      f.title.en = fmt::format("{} takes {} of device time; its quantization group is {}", k.name,
                               pct(k.share), k.group_size);
      f.title.zh = fmt::format("{} 占设备时间的 {};其量化分组 group_size 为 {}", k.name,
                               pct(k.share), k.group_size);
      explain_group_size(k, cfg, &f);
      f.severity = kKnobSeverity;
    } else if (k.copy) {
      f.severity = Severity::kWarning;
      f.saved_ns = dev != nullptr ? std::min(k.total_ns, dev->copy_exposed_ns) : 0;
      f.evidence.push_back(Evidence::String(
          "saved_basis",
          "copy time with no other work beside it on the device (overlap hides it)"));
      f.title.en = fmt::format("Memory copies ({}) take {} of device time", k.name, pct(k.share));
      f.title.zh = fmt::format("内存拷贝({})占设备时间的 {}", k.name, pct(k.share));
      f.cause.en =
          "Data moves between host and device (or within the device) more than the device "
          "computes; host-device copies are limited by the link (PCIe, HCCS), far below device "
          "memory bandwidth.";
      f.cause.zh =
          "数据在主机与设备之间(或设备内部)搬运的时间超过了计算时间;主机与设备间的拷贝受限于"
          "链路(PCIe、HCCS)带宽,远低于设备内存带宽。";
      f.suggestion.en = fmt::format(
          "Keep data on the device between steps, copy from pinned (page-locked) host memory, "
          "overlap copies with compute on a separate stream, and copy fewer, larger buffers. "
          "Hiding the copies that run alone saves up to {}.",
          dur(f.saved_ns));
      f.suggestion.zh = fmt::format(
          "在 step 之间让数据常驻设备,从锁页(pinned)内存拷贝,在独立的流上让拷贝与计算重叠,"
          "并合并为更少、更大的拷贝。隐藏单独运行的拷贝最多可节省 {}。",
          dur(f.saved_ns));
    } else if (k.collective) {
      f.severity = Severity::kWarning;
      f.saved_ns = dev != nullptr ? std::max<int64_t>(0, dev->busy_ns - dev->compute_busy_ns) : 0;
      f.evidence.push_back(Evidence::String(
          "saved_basis", "collective time with no compute beside it on the device"));
      f.title.en = fmt::format("Collective {} takes {} of device time", k.name, pct(k.share));
      f.title.zh = fmt::format("集合通信 {} 占设备时间的 {}", k.name, pct(k.share));
      f.cause.en =
          "Devices spend most of their time in communication, which includes waiting for the "
          "slowest device to reach the collective.";
      f.cause.zh = "设备大部分时间花在集合通信上,其中包括等待最慢的设备到达同步点。";
      f.suggestion.en = fmt::format(
          "Check device balance and stragglers (see those findings), overlap communication "
          "with computation, and use fewer, larger collectives (fuse small all-reduces). Hiding "
          "the exposed part saves up to {}.",
          dur(f.saved_ns));
      f.suggestion.zh = fmt::format(
          "检查设备间负载均衡与掉队设备(见相应诊断),让通信与计算重叠,并合并小的 all-reduce,"
          "减少集合通信次数。隐藏未重叠部分最多可节省 {}。",
          dur(f.saved_ns));
    } else {
      f.title.en = fmt::format("{} takes {} of device time", k.name, pct(k.share));
      f.title.zh = fmt::format("{} 占设备时间的 {}", k.name, pct(k.share));
      f.cause.en = fmt::format(
          "One kernel bounds the whole run: even making every other kernel free would save at "
          "most {} (Amdahl's law). That alone is normal for LLM serving, where weight GEMMs "
          "dominate a decode step.",
          pct(1.0 - k.share));
      f.cause.zh = fmt::format(
          "单个内核决定了整体耗时:即使其他内核全部耗时为零,最多也只能节省 {}(阿姆达尔定律)。"
          "这在 LLM 推理中很常见:权重 GEMM 本就主导 decode step。",
          pct(1.0 - k.share));
      const std::optional<diag::Roofline> r = diag::roofline(ctx, cfg, k);
      if (r) {
        add_roofline_evidence(&f, *r);
        const Text peak = diag::peak_clause(*r);
        if (r->fraction >= cfg.bandwidth_high) {
          f.suggestion.en = fmt::format(
              "Expected: it runs at {} of its roofline against {}. Only less work helps: fewer "
              "bytes (smaller types, fusion) or more tokens per weight byte (larger batches).",
              pct(r->fraction), peak.en);
          f.suggestion.zh = fmt::format(
              "属于正常:它达到屋顶线的 {}(依据 {})。只有减少工作量才有效:更少的字节(更小的数据"
              "类型、融合)或让每字节权重服务更多 token(更大的批次)。",
              pct(r->fraction), peak.zh);
        } else if (r->fraction < cfg.bandwidth_low) {
          f.suggestion.en = fmt::format(
              "It runs at {} of its roofline against {}: see the roofline finding for what "
              "holds it back.",
              pct(r->fraction), peak.en);
          f.suggestion.zh = fmt::format("它只达到屋顶线的 {}(依据 {}):原因见屋顶线诊断。",
                                        pct(r->fraction), peak.zh);
        } else {
          f.suggestion.en = fmt::format(
              "It runs at {} of its roofline against {}: near enough that fewer bytes or flops "
              "(smaller types, fusion, larger batches) help as much as a faster kernel.",
              pct(r->fraction), peak.en);
          f.suggestion.zh = fmt::format(
              "它达到屋顶线的 {}(依据 {}):已较接近,减少字节或计算量(更小的数据类型、融合、"
              "更大的批次)与优化内核同样有效。",
              pct(r->fraction), peak.zh);
        }
      } else {
        f.suggestion.en =
            "The trace gives no bytes or flops for it, so how close it runs to the device's "
            "limits cannot be judged: compare its time with the work it does, check its shapes "
            "and whether it can be fused with its neighbours.";
        f.suggestion.zh =
            "trace 中没有它的 bytes 或 flops 参数,无法判断它离设备极限有多远:请对比其耗时与工作量,"
            "检查形状参数以及能否与相邻内核融合。";
      }
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
    f.severity = kKnobSeverity;
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> rule_roofline(const DiagnosisContext& ctx, const DiagnosisConfig& cfg) {
  std::vector<Finding> out;
  for (const KernelFacts& k : ctx.kernels) {
    // Kernels with a specific cause (small groups, small blocks) are diagnosed by those rules;
    // copies and collectives are bound by links and peers, not by this device's roofs.
    if (k.share < cfg.min_share || k.collective || k.copy) continue;
    if (small_group(k, cfg) || small_blocks(k, cfg)) continue;
    const std::optional<diag::Roofline> r = diag::roofline(ctx, cfg, k);
    if (!r) continue;
    const bool at_roof = r->fraction >= cfg.bandwidth_high;
    const bool far = r->fraction < cfg.bandwidth_low;
    if (!at_roof && !far) continue;
    // A verdict against a guessed peak is information only: it would flip with the guess.
    const Severity severity = far && r->trusted ? Severity::kWarning : Severity::kInfo;
    Finding f = diag::make_finding("roofline", k.name, severity);
    f.view = flame_view(k.name);
    f.evidence.push_back(Evidence::Double("share", k.share));
    f.evidence.push_back(Evidence::Int("total_ns", k.total_ns));
    if (k.bytes > 0) f.evidence.push_back(Evidence::Double("bytes", k.bytes));
    if (k.flops > 0) f.evidence.push_back(Evidence::Double("flops", k.flops));
    add_roofline_evidence(&f, *r);
    const Text peak = diag::peak_clause(*r);
    const bool compute = r->compute_bound;
    const std::string roof_en = compute ? "compute" : "memory";
    const std::string roof_zh = compute ? "计算" : "访存";
    std::string rates_en;
    std::string rates_zh;
    if (r->achieved_gbps > 0) {
      rates_en = fmt::format("{} GB/s", num(r->achieved_gbps));
      rates_zh = rates_en;
    }
    if (r->achieved_gflops > 0) {
      rates_en +=
          fmt::format("{}{} GFLOPS", rates_en.empty() ? "" : " and ", num(r->achieved_gflops));
      rates_zh += fmt::format("{}{} GFLOPS", rates_zh.empty() ? "" : "、", num(r->achieved_gflops));
    }
    std::string ai_en;
    std::string ai_zh;
    if (r->intensity > 0 && r->ridge > 0) {
      ai_en = fmt::format(" Its arithmetic intensity is {} flop/byte, {} the ridge point ({}).",
                          num(r->intensity), compute ? "above" : "below", num(r->ridge));
      ai_zh = fmt::format("其算术强度为 {} flop/字节,{}屋顶线拐点({})。", num(r->intensity),
                          compute ? "高于" : "低于", num(r->ridge));
    }
    if (at_roof) {
      // Above the roof: a memory-bound kernel's data comes from caches, not the memory the peak
      // measures; a compute-bound one beats the compute peak, which was then measured low.
      const bool above = r->fraction > 1.05;
      const std::string why_en = compute ? "the compute peak was measured low (calibrate on a "
                                           "quiet machine)"
                                         : "its data comes from caches";
      const std::string why_zh =
          compute ? "计算峰值测得偏低(请在空闲机器上重新 calibrate)" : "数据来自缓存";
      f.title.en = above ? fmt::format("{} runs above its {} roof ({} of the roofline): {}", k.name,
                                       roof_en, pct(r->fraction), why_en)
                         : fmt::format("{} runs at its {} roof ({} of the roofline)", k.name,
                                       roof_en, pct(r->fraction));
      f.title.zh =
          above ? fmt::format("{} 超过{}屋顶线(屋顶线的 {}):{}", k.name, roof_zh, pct(r->fraction),
                              why_zh)
                : fmt::format("{} 已达{}屋顶线(屋顶线的 {})", k.name, roof_zh, pct(r->fraction));
      f.cause.en = fmt::format("It reaches {} against {}.{}", rates_en, peak.en, ai_en);
      f.cause.zh = fmt::format("它达到 {},依据 {}。{}", rates_zh, peak.zh, ai_zh);
      f.suggestion.en =
          compute ? "Expected: only less work helps — fewer flops (a cheaper algorithm, skipping "
                    "padding) or a faster data type (int8/fp8 where accuracy allows)."
                  : "Expected: only fewer bytes help — fuse it with its producer or consumer, use "
                    "a smaller data type (fp16/int8 KV cache, int4 weights), or batch more tokens "
                    "per step so each weight byte serves more tokens.";
      f.suggestion.zh =
          compute ? "属于正常:只有减少工作量才有效——更少的计算(更省的算法、跳过填充)或更快的数据"
                    "类型(精度允许时用 int8/fp8)。"
                  : "属于正常:只有减少字节才有效——与上下游内核融合、使用更小的数据类型(fp16/int8 "
                    "KV cache、int4 权重),或每个 step 合并更多 token,让每字节权重服务更多 token。";
    } else {
      // An upper bound: all of the shortfall blamed on the kernel, none on the peak.
      f.saved_ns =
          std::max<int64_t>(0, diag::scale_ns(k.total_ns, 1.0 - r->fraction / cfg.bandwidth_high));
      f.evidence.push_back(Evidence::String(
          "saved_basis",
          fmt::format("upper bound: the kernel at {} of its roofline", pct(cfg.bandwidth_high))));
      f.title.en =
          fmt::format("{} runs at only {} of its {} roof", k.name, pct(r->fraction), roof_en);
      f.title.zh = fmt::format("{} 只达到{}屋顶线的 {}", k.name, roof_zh, pct(r->fraction));
      const std::string why_en =
          compute ? " Compute limits it, yet it issues few of the fused multiply-adds the peak "
                    "counts: other instructions take the time — unpacking quantized weights, "
                    "scalar or narrow-vector code, poor register reuse."
                  : " Loads that are small, strided or random are limited by latency rather "
                    "than bandwidth.";
      const std::string why_zh =
          compute ? "受限于计算,但它执行的乘加指令远少于峰值所计:时间花在其他指令上——量化权重"
                    "解包、标量或窄向量代码、寄存器复用差。"
                  : "小块、跨步或随机的访存受延迟而非带宽限制。";
      const std::string trust_en =
          r->trusted ? "" : " The peak is assumed, so this is information until it is measured.";
      const std::string trust_zh = r->trusted ? "" : "峰值为假定值,测得实际峰值之前仅供参考。";
      f.cause.en = fmt::format("It reaches {} against {}.{}{}{}", rates_en, peak.en, ai_en, why_en,
                               trust_en);
      f.cause.zh =
          fmt::format("它只达到 {},依据 {}。{}{}{}", rates_zh, peak.zh, ai_zh, why_zh, trust_zh);
      const std::string saving_en =
          r->trusted ? fmt::format(" At {} of its roofline it would save up to {}.",
                                   pct(cfg.bandwidth_high), dur(f.saved_ns))
                     : "";
      const std::string saving_zh = r->trusted
                                        ? fmt::format("达到屋顶线的 {} 时最多可节省 {}。",
                                                      pct(cfg.bandwidth_high), dur(f.saved_ns))
                                        : "";
      f.suggestion.en = fmt::format(
          "{}{}",
          compute ? "Use the widest vector instructions the device has (the measured peak uses "
                    "them), a tuned kernel library, and dequantize once per tile into registers."
                  : "Make loads contiguous and larger: vectorize and coalesce accesses, use "
                    "larger tiles or blocks, prefetch the next tile.",
          saving_en);
      f.suggestion.zh = fmt::format(
          "{}{}",
          compute
              ? "使用设备支持的最宽向量指令(实测峰值即用这些指令)、经过调优的内核库,并在寄存器中"
                "按 tile 一次性反量化。"
              : "让访存连续且粒度更大:向量化/合并访存、使用更大的 tile 或 block、预取下一块数据。",
          saving_zh);
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
    const std::optional<diag::Roofline> r = diag::roofline(ctx, cfg, k);
    if (r) add_roofline_evidence(&f, *r);
    // Saving model: a fixed cost per block (table lookup, a new scattered address) on top of
    // streaming its bytes. Going from b to s tokens per block removes (1 − b/s) of those costs.
    // The share of time they take is the shortfall from the attainable bandwidth when bytes are
    // known, capped by block_overhead_max (the shortfall has other causes too), else the cap.
    const double fewer = 1.0 - static_cast<double>(b) / static_cast<double>(s);
    double overhead = cfg.block_overhead_max;
    std::string bw_en;
    std::string bw_zh;
    // At or above the memory roof the KV blocks come from caches, whose bandwidth the peak
    // does not measure: the shortfall then says nothing, and the assumed share applies.
    const double fraction =
        r && r->achieved_gbps > 0 ? r->achieved_gbps / r->spec.bandwidth_gbps : 0;
    const bool measured = fraction > 0 && fraction < cfg.bandwidth_high;
    if (measured) {
      overhead = std::clamp(1.0 - fraction / cfg.bandwidth_high, 0.0, cfg.block_overhead_max);
    }
    if (fraction > 0) {
      const Text peak = diag::peak_clause(*r);
      bw_en = fmt::format(" It reaches {} GB/s, {} of {}.", num(r->achieved_gbps), pct(fraction),
                          peak.en);
      bw_zh = fmt::format("其带宽为 {} GB/s,为{}的 {}。", num(r->achieved_gbps), peak.zh,
                          pct(fraction));
    }
    f.saved_ns = diag::scale_ns(k.total_ns, fewer * overhead);
    const int64_t saved = f.saved_ns;
    f.evidence.push_back(Evidence::Double("block_overhead_share", overhead));
    f.evidence.push_back(Evidence::String(
        "saved_basis", measured       ? "per-block costs: bandwidth shortfall, capped"
                       : fraction > 0 ? "per-block costs: assumed share of the kernel's time (at "
                                        "the memory roof: from caches)"
                                      : "per-block costs: assumed share of the kernel's time"));
    f.severity = kKnobSeverity;
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
    f.evidence.push_back(
        Evidence::String("saved_basis", "slow instances brought down to the shape's p50"));
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
