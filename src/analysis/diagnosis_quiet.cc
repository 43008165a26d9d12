// Why the knob rules did not fire: a user who suspects the group size, the KV block size or the
// request-queue lock sees that it was checked, with the value and the threshold.
#include <algorithm>

#include <fmt/format.h>

#include "src/analysis/diagnosis.h"
#include "src/analysis/diagnosis_context.h"
#include "src/analysis/diagnosis_util.h"

namespace huoyan {
namespace {

using diag::pct;

bool fired(const std::vector<Finding>& findings, std::string_view id, std::string_view subject) {
  return std::any_of(findings.begin(), findings.end(), [&](const Finding& f) {
    return f.id == id && (subject.empty() || f.subject == subject);
  });
}

bool fired_group(const std::vector<Finding>& findings, const std::string& kernel) {
  return std::any_of(findings.begin(), findings.end(), [&](const Finding& f) {
    return f.subject == kernel && f.find("group_size") != nullptr &&
           (f.id == "quant-group-size" || f.id == "dominant-kernel");
  });
}

}  // namespace

std::vector<QuietRule> quiet_knob_rules(const DiagnosisContext& ctx, const DiagnosisConfig& cfg,
                                        const std::vector<Finding>& findings) {
  std::vector<QuietRule> out;
  auto add = [&](std::string id, std::string subject, std::string en, std::string zh) {
    out.push_back({std::move(id), std::move(subject), {std::move(en), std::move(zh)}});
  };

  // Quantization group size, per kernel that reports one.
  bool any_group = false;
  for (const KernelFacts& k : ctx.kernels) {
    if (k.group_size <= 0) continue;
    any_group = true;
    if (fired_group(findings, k.name)) continue;
    if (k.group_size >= cfg.group_size_min) {
      add("quant-group-size", k.name,
          fmt::format("{}: group size {} is at or above group_size_min ({})", k.name, k.group_size,
                      cfg.group_size_min),
          fmt::format("{}:group_size {} 不小于 group_size_min({})", k.name, k.group_size,
                      cfg.group_size_min));
    } else {
      add("quant-group-size", k.name,
          fmt::format("{}: group size {} is small, but the kernel takes only {} of device time "
                      "(under min_share {})",
                      k.name, k.group_size, pct(k.share), pct(cfg.min_share)),
          fmt::format("{}:group_size {} 偏小,但该内核只占设备时间的 {}(低于 min_share {})", k.name,
                      k.group_size, pct(k.share), pct(cfg.min_share)));
    }
  }
  if (!any_group) {
    add("quant-group-size", "", "No kernel reports a group_size arg.",
        "没有内核带有 group_size 参数。");
  }

  // KV-cache block size.
  bool any_block = false;
  for (const KernelFacts& k : ctx.kernels) {
    if (k.block_size <= 0) continue;
    any_block = true;
    if (fired(findings, "small-kv-blocks", k.name)) continue;
    if (k.block_size > cfg.block_size_max) {
      add("small-kv-blocks", k.name,
          fmt::format("{}: block size {} is above block_size_max ({})", k.name, k.block_size,
                      cfg.block_size_max),
          fmt::format("{}:block_size {} 大于 block_size_max({})", k.name, k.block_size,
                      cfg.block_size_max));
    } else {
      add("small-kv-blocks", k.name,
          fmt::format("{}: block size {} is small, but the kernel takes only {} of device time "
                      "(under min_share {}): contexts are short",
                      k.name, k.block_size, pct(k.share), pct(cfg.min_share)),
          fmt::format("{}:block_size {} 偏小,但该内核只占设备时间的 {}(低于 min_share {}):"
                      "上下文较短",
                      k.name, k.block_size, pct(k.share), pct(cfg.min_share)));
    }
  }
  if (!any_block) {
    add("small-kv-blocks", "", "No kernel reports a block_size arg.",
        "没有内核带有 block_size 参数。");
  }

  // The serving loop's lock.
  if (!fired(findings, "lock-contention", "")) {
    if (ctx.loop_ns <= 0) {
      add("lock-contention", "", "No serving loop (no steps) to check for lock waits.",
          "没有服务循环(没有 step),无法检查锁等待。");
    } else if (ctx.loop_lock_waits == 0) {
      add("lock-contention", "", "The serving loop records no lock waits.",
          "服务循环没有记录锁等待。");
    } else {
      const double share =
          static_cast<double>(ctx.loop_lock_wait_ns) / static_cast<double>(ctx.loop_ns);
      add("lock-contention", ctx.loop_lock_name,
          fmt::format("Lock waits ({}) take {} of the serving loop, under lock_share ({}), or are "
                      "fewer than lock_min_waits ({}: {} seen)",
                      ctx.loop_lock_name, pct(share), pct(cfg.lock_share), cfg.lock_min_waits,
                      ctx.loop_lock_waits),
          fmt::format("锁等待({})占服务循环的 {},低于 lock_share({}),或次数少于 "
                      "lock_min_waits({};实际 {} 次)",
                      ctx.loop_lock_name, pct(share), pct(cfg.lock_share), cfg.lock_min_waits,
                      ctx.loop_lock_waits));
    }
  }

  // Host phases.
  if (!fired(findings, "host-bound", "") && ctx.loop_ns > 0) {
    const double share = static_cast<double>(ctx.host_phase_ns) / static_cast<double>(ctx.loop_ns);
    const std::string top = ctx.host_phases.empty() ? "" : ctx.host_phases.front().name;
    add("host-bound", top,
        fmt::format("Host phases take {} of the serving loop{}, under host_share ({})", pct(share),
                    top.empty() ? "" : fmt::format(" (most: {})", top), pct(cfg.host_share)),
        fmt::format("主机阶段占服务循环的 {}{},低于 host_share({})", pct(share),
                    top.empty() ? "" : fmt::format("(最多:{})", top), pct(cfg.host_share)));
  }
  return out;
}

}  // namespace huoyan
