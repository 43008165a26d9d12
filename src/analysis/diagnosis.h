// Automatic diagnosis: rules that read a trace and say, in plain words, what limits it, why, what
// to change and how much time the change should save.
//
// Every rule is a pure function of a DiagnosisContext (facts extracted once from a store and a
// snapshot, see diagnosis_context.h) and a DiagnosisConfig (thresholds, device peaks). Rules
// never touch the store, so they can be tested on hand-made facts and run from any thread.
// diagnose() runs them all and ranks the findings by the time they would save.
//
// Each finding is bilingual (English and Chinese): the HTTP server and the CLI pick the language
// at output time, so one diagnosis serves both.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/trace_store.h"

namespace huoyan {

enum class Severity { kInfo, kWarning, kCritical };
std::string_view severity_name(Severity s);  // "info", "warning", "critical"

enum class Lang { kEn, kZh };
bool parse_lang(std::string_view s, Lang* lang);  // "en" | "zh" (also "zh-CN", "zh_CN")

struct Text {
  std::string en;
  std::string zh;
  const std::string& in(Lang lang) const { return lang == Lang::kZh ? zh : en; }
};

// One number (or label) that supports a finding. Keys are stable snake_case identifiers: the
// web UI and CI scripts may read them.
struct Evidence {
  enum class Type { kInt, kDouble, kString };
  std::string key;
  Type type = Type::kInt;
  int64_t i = 0;
  double d = 0;
  std::string s;

  static Evidence Int(std::string key, int64_t v);
  static Evidence Double(std::string key, double v);
  static Evidence String(std::string key, std::string v);
};

// Where the UI should take the user to see the problem.
struct ViewHint {
  std::string tab = "flame";  // flame | timeline | kernels | requests
  std::string search;         // text to put in the search box ("" = none)
  std::optional<std::string> request_id;
};

struct Finding {
  std::string id;       // rule id, e.g. "dominant-kernel"
  std::string subject;  // what it is about: a kernel name, a device label, "" for the whole trace
  Severity severity = Severity::kInfo;
  Text title;
  Text cause;
  Text suggestion;
  std::vector<Evidence> evidence;
  int64_t saved_ns = 0;  // estimated device/step time the suggestion saves; ranks findings
  ViewHint view;

  const Evidence* find(std::string_view key) const;
};

// Peak figures of a device model. Bandwidth is the memory (HBM/DRAM) peak; TFLOPS the dense
// 16-bit peak, used only for the roofline ridge point.
struct DeviceSpec {
  std::string name;           // "Ascend 910B", "A100", "CPU"
  double bandwidth_gbps = 0;  // GB/s (1e9 bytes per second)
  double tflops = 0;          // 1e12 FLOP/s
  // Where the figures come from: "datasheet" (the built-in table), "rules file", "measured"
  // (huoyan calibrate / the profiler on the host that ran the trace), "assumed" (a generic row
  // used because nothing named the model: findings that depend on it are info only).
  std::string source = "datasheet";
  std::string method;  // for "measured": how and where
};

// The peak table huoyan ships with (public datasheet figures; override in the rules file).
const std::vector<DeviceSpec>& builtin_device_specs();

// Thresholds of every rule. Defaults are documented in docs/rules.md; the rules file overrides
// them one by one.
struct DiagnosisConfig {
  // Kernels below this share of device time are ignored by per-kernel rules: too small to matter
  // and too noisy to judge.
  double min_share = 0.05;

  // Warnings whose estimated saving is under this share of device time are information: real,
  // but not what to do first.
  double min_saving = 0.01;

  // dominant-kernel / quant-group-size
  double dominant_share = 0.5;
  int64_t group_size_min = 128;  // group_size below this is "small"
  int64_t group_size_suggested = 256;
  double quant_param_bytes = 4;  // bytes of scale + zero point per group (fp16 + fp16)
  double weight_bits = 4;        // bits per quantized weight

  // roofline / small-kv-blocks: the kernel's time at its roofline (bytes at peak bandwidth or
  // flops at peak compute, whichever is longer) over its measured time
  double bandwidth_low = 0.3;   // below this: far below its roof (warning)
  double bandwidth_high = 0.7;  // at or above: at its roof (info: only less work helps)
  int64_t block_size_max = 8;   // block_size at or below this is "small"
  int64_t block_size_suggested = 32;
  double block_overhead_max = 0.3;  // most of a kernel's time blamed on per-block costs

  // host-bound
  double host_share = 0.2;   // host phases of the serving loop over this share of its time
  double idle_share = 0.3;   // device idle over this share of the serving window
  double lock_share = 0.05;  // lock waits over this share of step time are reported as contention
  // lock-contention: lock waits of the serving loop over lock_share of its time, at least this
  // many of them
  uint64_t lock_min_waits = 10;

  // launch-bound
  int64_t launch_short_ns = 5000;  // kernels shorter than this are "short"
  double launch_short_fraction = 0.5;
  uint64_t launch_min_kernels = 100;
  int64_t launch_gap_max_ns = 100000;  // gaps longer than this are not launch overhead

  // long-tail
  double tail_ratio = 3.0;  // p99 / p50 within one shape
  uint64_t tail_min_count = 20;

  // imbalance / stragglers
  double imbalance = 0.15;        // (max - min) / max of compute busy time across devices
  double straggler_ratio = 1.3;   // a device's step time over this × the step's median device
  double straggler_steps = 0.05;  // share of steps with a straggler that triggers the rule
  uint64_t straggler_min_steps = 10;
  // communication-share: collectives over this share of the device time of a multi-device trace
  double comm_share = 0.2;

  // Device peaks: the model named by `device` (else the metadata, else the default of the
  // device type: NPU → Ascend 910B, GPU → A100, CPU → CPU) is looked up in `devices`.
  std::string device;
  std::vector<DeviceSpec> devices = builtin_device_specs();

  // Host span names of the serving loop.
  std::string select_batch = "select_batch";
  std::string queue_wait = "queue_wait";
};

struct DiagnosisContext;

// A rule: a pure function of the facts and the thresholds.
using RuleFn = std::vector<Finding> (*)(const DiagnosisContext&, const DiagnosisConfig&);
struct Rule {
  std::string_view id;
  RuleFn fn;
};
// Every rule, in a fixed order (also the order of docs/rules.md).
const std::vector<Rule>& diagnosis_rules();

std::vector<Finding> rule_dominant_kernel(const DiagnosisContext& ctx, const DiagnosisConfig& cfg);
std::vector<Finding> rule_quant_group_size(const DiagnosisContext& ctx, const DiagnosisConfig& cfg);
std::vector<Finding> rule_roofline(const DiagnosisContext& ctx, const DiagnosisConfig& cfg);
std::vector<Finding> rule_small_kv_blocks(const DiagnosisContext& ctx, const DiagnosisConfig& cfg);
std::vector<Finding> rule_host_bound(const DiagnosisContext& ctx, const DiagnosisConfig& cfg);
std::vector<Finding> rule_lock_contention(const DiagnosisContext& ctx, const DiagnosisConfig& cfg);
std::vector<Finding> rule_launch_bound(const DiagnosisContext& ctx, const DiagnosisConfig& cfg);
std::vector<Finding> rule_long_tail(const DiagnosisContext& ctx, const DiagnosisConfig& cfg);
std::vector<Finding> rule_device_imbalance(const DiagnosisContext& ctx, const DiagnosisConfig& cfg);
std::vector<Finding> rule_stragglers(const DiagnosisContext& ctx, const DiagnosisConfig& cfg);
std::vector<Finding> rule_communication_share(const DiagnosisContext& ctx,
                                              const DiagnosisConfig& cfg);

// Runs every rule on the context and ranks the findings: severity first (what to do first),
// then saved_ns descending, then id and subject (a total order, so output is deterministic).
std::vector<Finding> diagnose(const DiagnosisContext& ctx, const DiagnosisConfig& config);
// Convenience: extracts the context from the store and runs every rule.
std::vector<Finding> diagnose(const TraceStore& store, const Snapshot& snapshot,
                              const DiagnosisConfig& config);

// Sorts findings into the ranking diagnose() uses.
void rank_findings(std::vector<Finding>* findings);

// A knob rule that did not fire, and why ("group size 128: at or above group_size_min 128"):
// the user who suspects a knob sees that it was checked.
struct QuietRule {
  std::string id;
  std::string subject;
  Text why;
};
std::vector<QuietRule> quiet_knob_rules(const DiagnosisContext& ctx, const DiagnosisConfig& cfg,
                                        const std::vector<Finding>& findings);

// The peak figures the roofline uses for each device of the context, and where they come from.
struct PeakUse {
  std::string device;  // "CPU 0"
  DeviceSpec spec;
  bool trusted = false;  // false for "assumed": findings on it stay info
};
std::vector<PeakUse> peaks_in_use(const DiagnosisContext& ctx, const DiagnosisConfig& cfg);

// Merges the findings of several runs of the same workload: one finding per (id, subject), the
// one with the largest saved_ns, with evidence "runs_affected" / "runs" when runs > 1.
std::vector<Finding> merge_run_findings(const std::vector<std::vector<Finding>>& per_run);

}  // namespace huoyan
