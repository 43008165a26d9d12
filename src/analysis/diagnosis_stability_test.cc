#include "src/analysis/diagnosis_stability.h"

#include <gtest/gtest.h>

namespace huoyan {
namespace {

bool has(const std::vector<Finding>& v, std::string_view id) {
  for (const Finding& f : v) {
    if (f.id == id) return true;
  }
  return false;
}

// A serving loop whose lock waits take `share` of its time: lock-contention fires from 5 %.
DiagnosisContext lock_share(double share) {
  DiagnosisContext ctx;
  ctx.loop_ns = 1000000000;
  ctx.loop_steps = 100;
  ctx.loop_lock_waits = 100;
  ctx.loop_lock_name = "queue_lock_wait";
  ctx.loop_lock_wait_ns = static_cast<int64_t>(share * 1e9);
  return ctx;
}

TEST(StableDiagnosis, FindingsDoNotFlipAroundAThreshold) {
  const DiagnosisConfig cfg;
  // Without the tracker, 5.2 % and 4.8 % flip the finding.
  EXPECT_TRUE(has(diagnose(lock_share(0.052), cfg), "lock-contention"));
  EXPECT_FALSE(has(diagnose(lock_share(0.048), cfg), "lock-contention"));

  StableDiagnosis s(0.15);  // enters above 5.75 %, leaves below 4.25 %
  EXPECT_TRUE(has(s.update(lock_share(0.052), cfg), "lock-contention"));  // first: as diagnosed
  EXPECT_TRUE(has(s.update(lock_share(0.048), cfg), "lock-contention"));
  EXPECT_TRUE(has(s.update(lock_share(0.044), cfg), "lock-contention"));
  EXPECT_FALSE(has(s.update(lock_share(0.040), cfg), "lock-contention"));
  EXPECT_FALSE(has(s.update(lock_share(0.055), cfg), "lock-contention"));
  EXPECT_TRUE(has(s.update(lock_share(0.060), cfg), "lock-contention"));
}

TEST(StableDiagnosis, ConfigsMoveEveryThresholdTheRightWay) {
  const DiagnosisConfig cfg;
  const DiagnosisConfig loose = eased_config(cfg, 0.1);
  const DiagnosisConfig strict = tightened_config(cfg, 0.1);
  EXPECT_LT(loose.lock_share, cfg.lock_share);
  EXPECT_GT(strict.lock_share, cfg.lock_share);
  EXPECT_GT(loose.bandwidth_low, cfg.bandwidth_low);  // "far below the roof" fires under it
  EXPECT_LT(strict.bandwidth_low, cfg.bandwidth_low);
  EXPECT_NEAR(loose.tail_ratio, 2.8, 1e-12);            // the excess over 1 moves
  EXPECT_EQ(loose.group_size_min, cfg.group_size_min);  // knob limits are exact
  EXPECT_EQ(strict.block_size_max, cfg.block_size_max);
}

Finding finding(std::string id, Severity sev, int64_t saved) {
  Finding f;
  f.id = std::move(id);
  f.severity = sev;
  f.saved_ns = saved;
  return f;
}

TEST(StableDiagnosis, OrderKeptUnlessOutrankedByMoreThanTheMargin) {
  const std::vector<std::pair<std::string, std::string>> before = {{"a", ""}, {"b", ""}};
  std::vector<Finding> v = {finding("a", Severity::kWarning, 100),
                            finding("b", Severity::kWarning, 110)};
  rank_findings_stable(&v, before, 0.15);
  EXPECT_EQ(v[0].id, "a");  // b saves more, but within the margin
  v = {finding("a", Severity::kWarning, 100), finding("b", Severity::kWarning, 120)};
  rank_findings_stable(&v, before, 0.15);
  EXPECT_EQ(v[0].id, "b");
  v = {finding("a", Severity::kWarning, 100), finding("b", Severity::kCritical, 1)};
  rank_findings_stable(&v, before, 0.15);
  EXPECT_EQ(v[0].id, "b");  // severity first, whatever the saving
  // New findings come after the ones shown, unless they outrank them.
  v = {finding("c", Severity::kWarning, 105), finding("a", Severity::kWarning, 100)};
  rank_findings_stable(&v, before, 0.15);
  EXPECT_EQ(v[0].id, "a");
}

}  // namespace
}  // namespace huoyan
