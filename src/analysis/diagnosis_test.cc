// Every diagnosis rule on synthetic stores built to trigger it and built not to.
#include "src/analysis/diagnosis.h"

#include <functional>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "src/analysis/diagnosis_context.h"
#include "src/analysis/diagnosis_json.h"
#include "src/analysis/diagnosis_testing.h"
#include "src/analysis/regression.h"
#include "src/io/sink.h"

namespace huoyan {
namespace {

using testing::TraceBuilder;

DiagnosisContext context_of(const TraceStore& store, const DiagnosisConfig& cfg = {}) {
  ContextOptions o;
  o.launch_short_ns = cfg.launch_short_ns;
  o.launch_gap_max_ns = cfg.launch_gap_max_ns;
  return build_diagnosis_context(store, store.snapshot(), o);
}

const Finding* find(const std::vector<Finding>& v, std::string_view id) {
  for (const auto& f : v) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

double ev(const Finding& f, std::string_view key) {
  const Evidence* e = f.find(key);
  EXPECT_NE(e, nullptr) << key;
  if (e == nullptr) return -1;
  return e->type == Evidence::Type::kInt ? static_cast<double>(e->i) : e->d;
}

// `share` of device time in `name` (100 instances), the rest in "Other".
void two_kernels(TraceStore& store, const std::string& name, double share,
                 std::initializer_list<std::pair<const char*, double>> args,
                 DeviceType type = DeviceType::kNpu) {
  TraceBuilder b(store);
  const TrackId s = b.stream(0, 1, type);
  const int64_t a = static_cast<int64_t>(share * 1000);
  const int64_t o = 1000 - a;
  int64_t t = 0;
  for (int i = 0; i < 100; ++i) {
    b.kernel(s, name, t, a * 1000, 0, args);
    t += a * 1000 + 100;
    b.kernel(s, "Other", t, o * 1000);
    t += o * 1000 + 100;
  }
}

// ---------------------------------------------------------------------------------------------
// dominant-kernel / quant-group-size

TEST(DominantKernelRule, SmallQuantGroupIsExplainedAndQuantified) {
  TraceStore store;
  two_kernels(store, "Int4Gemm", 0.72, {{"group_size", 32}});
  const auto ctx = context_of(store);
  const auto out = rule_dominant_kernel(ctx, DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  const Finding& f = out[0];
  EXPECT_EQ(f.id, "dominant-kernel");
  EXPECT_EQ(f.subject, "Int4Gemm");
  EXPECT_EQ(f.severity, Severity::kCritical);
  EXPECT_EQ(f.title.en, "Int4Gemm takes 72% of device time; its quantization group is 32");
  EXPECT_NE(f.title.zh.find("group_size 为 32"), std::string::npos);
  EXPECT_DOUBLE_EQ(ev(f, "share"), 0.72);
  EXPECT_EQ(ev(f, "group_size"), 32);
  EXPECT_EQ(ev(f, "suggested_group_size"), 256);
  // fp16 scale + fp16 zero per group of int4 weights: 4 / (g / 2) bytes per weight byte.
  EXPECT_DOUBLE_EQ(ev(f, "scale_zero_bytes_per_weight_byte"), 0.25);
  EXPECT_DOUBLE_EQ(ev(f, "suggested_scale_zero_bytes_per_weight_byte"), 0.03125);
  EXPECT_DOUBLE_EQ(ev(f, "traffic_saved_fraction"), (0.25 - 0.03125) / 1.25);
  EXPECT_NEAR(static_cast<double>(f.saved_ns), 72000000 * 0.175, 1);
  EXPECT_NE(f.suggestion.en.find("group_size 256"), std::string::npos);
  EXPECT_NE(f.suggestion.zh.find("group_size 256"), std::string::npos);
  EXPECT_EQ(f.view.tab, "flame");
  EXPECT_EQ(f.view.search, "Int4Gemm");
}

TEST(DominantKernelRule, GenericWhenNoGroupOrLargeGroup) {
  TraceStore store;
  two_kernels(store, "FlashAttention", 0.6, {{"group_size", 128}});
  const auto out = rule_dominant_kernel(context_of(store), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  // Most of the device time in one kernel is what LLM steps look like: information.
  EXPECT_EQ(out[0].severity, Severity::kInfo);
  EXPECT_EQ(out[0].title.en, "FlashAttention takes 60% of device time");
  EXPECT_EQ(out[0].find("group_size"), nullptr);
  EXPECT_EQ(out[0].saved_ns, 0);
}

TEST(DominantKernelRule, NotTriggeredBelowTheShareAndConfigurable) {
  TraceStore store;
  two_kernels(store, "Int4Gemm", 0.4, {{"group_size", 32}});  // "Other" holds the other 60 %
  const auto ctx = context_of(store);
  auto out = rule_dominant_kernel(ctx, DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].subject, "Other");
  DiagnosisConfig low;
  low.dominant_share = 0.35;
  out = rule_dominant_kernel(ctx, low);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].subject, "Int4Gemm");
  EXPECT_NE(out[1].find("group_size"), nullptr);
}

TEST(QuantGroupSizeRule, TriggersForNonDominantKernelsOverMinShare) {
  TraceStore store;
  two_kernels(store, "Int4Gemm", 0.3, {{"group_size", 64}});
  const auto ctx = context_of(store);
  const auto out = rule_quant_group_size(ctx, DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, "quant-group-size");
  EXPECT_EQ(ev(out[0], "group_size"), 64);
  EXPECT_GT(out[0].saved_ns, 0);
  // Dominant: left to dominant-kernel. Tiny: ignored. Large group: fine.
  TraceStore dominant;
  two_kernels(dominant, "Int4Gemm", 0.8, {{"group_size", 64}});
  EXPECT_TRUE(rule_quant_group_size(context_of(dominant), DiagnosisConfig{}).empty());
  TraceStore tiny;
  two_kernels(tiny, "Int4Gemm", 0.02, {{"group_size", 64}});
  EXPECT_TRUE(rule_quant_group_size(context_of(tiny), DiagnosisConfig{}).empty());
  TraceStore large;
  two_kernels(large, "Int4Gemm", 0.3, {{"group_size", 128}});
  EXPECT_TRUE(rule_quant_group_size(context_of(large), DiagnosisConfig{}).empty());
}

// ---------------------------------------------------------------------------------------------
// roofline / small-kv-blocks

// Peaks measured on the host that recorded the trace, as the profiler writes them.
void measured_cpu(TraceStore& store, double gbps, double gflops) {
  store.writer().set_metadata(
      "device_peaks", fmt::format("{{\"CPU\":{{\"bandwidth_gbps\":{},\"gflops\":{},\"method\":"
                                  "\"triad and FMA on the test host\"}}}}",
                                  gbps, gflops));
}

TEST(RooflineRule, AtTheRoofAndFarBelowItAgainstMeasuredPeaks) {
  // Measured 50 GB/s = 50 bytes/ns. A 300 µs kernel moving 13.5 MB runs at 45 GB/s (90 %).
  TraceStore roof;
  measured_cpu(roof, 50, 1000);
  two_kernels(roof, "Gemv", 0.3, {{"bytes", 13.5e6}}, DeviceType::kCpu);
  auto out = rule_roofline(context_of(roof), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].severity, Severity::kInfo);
  EXPECT_NEAR(ev(out[0], "achieved_gbps"), 45.0, 1e-9);
  EXPECT_NEAR(ev(out[0], "roofline_fraction"), 0.9, 1e-9);
  EXPECT_EQ(out[0].find("bound")->s, "memory");
  EXPECT_EQ(out[0].find("peak_source")->s, "measured");
  EXPECT_EQ(out[0].find("peak_method")->s, "triad and FMA on the test host");
  EXPECT_NE(out[0].cause.en.find("the measured peaks of this CPU"), std::string::npos);
  EXPECT_EQ(out[0].saved_ns, 0);

  // 1.5 MB in 300 µs: 5 GB/s, 10 % of peak. At 70 % of the roof it would take 1/7 of the time.
  TraceStore slow;
  measured_cpu(slow, 50, 1000);
  two_kernels(slow, "Gather", 0.3, {{"bytes", 1.5e6}}, DeviceType::kCpu);
  out = rule_roofline(context_of(slow), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].severity, Severity::kWarning);
  EXPECT_NEAR(static_cast<double>(out[0].saved_ns), 30000000.0 * (1 - 0.1 / 0.7), 100);
  EXPECT_NE(out[0].find("saved_basis"), nullptr);

  // 25 GB/s: neither at the roof nor far below it.
  TraceStore middle;
  measured_cpu(middle, 50, 1000);
  two_kernels(middle, "Gemv", 0.3, {{"bytes", 7.5e6}}, DeviceType::kCpu);
  EXPECT_TRUE(rule_roofline(context_of(middle), DiagnosisConfig{}).empty());
}

TEST(RooflineRule, AGuessedPeakGivesInformationOnly) {
  // No measurement and no model: the generic CPU row is a guess, so far below it is info.
  TraceStore slow;
  two_kernels(slow, "Gather", 0.3, {{"bytes", 1.5e6}}, DeviceType::kCpu);
  const auto out = rule_roofline(context_of(slow), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].severity, Severity::kInfo);
  EXPECT_EQ(out[0].find("peak_source")->s, "assumed");
  EXPECT_NE(out[0].cause.en.find("huoyan calibrate"), std::string::npos);
}

TEST(RooflineRule, ComputeRoofAndOverrides) {
  // 1.5 GFLOP in 300 µs = 5000 GFLOPS against a measured 10 TFLOPS and 50 GB/s: intensity 1000
  // flop/byte is above the ridge (200), so the compute roof binds, at 50 %: neither case.
  TraceStore compute;
  measured_cpu(compute, 50, 10000);
  two_kernels(compute, "Gemm", 0.3, {{"bytes", 1.5e6}, {"flops", 1.5e9}}, DeviceType::kCpu);
  EXPECT_TRUE(rule_roofline(context_of(compute), DiagnosisConfig{}).empty());
  // Against 100 TFLOPS and 500 GB/s it runs at 5 % of the compute roof (1 % of the memory
  // roof): far below.
  TraceStore far;
  measured_cpu(far, 500, 100000);
  two_kernels(far, "Gemm", 0.3, {{"bytes", 1.5e6}, {"flops", 1.5e9}}, DeviceType::kCpu);
  auto out = rule_roofline(context_of(far), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].find("bound")->s, "compute");
  EXPECT_EQ(out[0].severity, Severity::kWarning);
  EXPECT_NEAR(ev(out[0], "roofline_fraction"), 0.05, 1e-9);

  // Above the compute roof: the peak was measured low, not "from caches" (that is memory's).
  TraceStore beyond;
  measured_cpu(beyond, 500, 4000);
  two_kernels(beyond, "Gemm", 0.3, {{"bytes", 1.5e6}, {"flops", 1.5e9}}, DeviceType::kCpu);
  out = rule_roofline(context_of(beyond), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].title.en.find("the compute peak was measured low"), std::string::npos)
      << out[0].title.en;

  // The rules file's `device` replaces everything: 45 GB/s on an H100 is far below.
  TraceStore roof;
  measured_cpu(roof, 50, 1000);
  two_kernels(roof, "Gemv", 0.3, {{"bytes", 13.5e6}}, DeviceType::kCpu);
  DiagnosisConfig h100;
  h100.device = "H100";
  out = rule_roofline(context_of(roof), h100);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].find("device_model")->s, "H100");
  EXPECT_EQ(out[0].find("peak_source")->s, "rules file");
  EXPECT_EQ(out[0].severity, Severity::kWarning);

  // A rules-file "CPU" entry overrides the measurement.
  DiagnosisConfig mine;
  DeviceSpec cpu{"CPU", 45, 1, "rules file", ""};
  mine.devices.push_back(cpu);
  out = rule_roofline(context_of(roof), mine);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].find("peak_source")->s, "rules file");
  EXPECT_NEAR(ev(out[0], "roofline_fraction"), 1.0, 1e-9);
}

TEST(RooflineRule, InstancesSideBySideCountOnceAtDeviceLevel) {
  // Two worker streams of one CPU each run half of a GEMV at the same time: each instance moves
  // 6.75 MB in 300 µs (22.5 GB/s), the device 45 GB/s.
  TraceStore store;
  measured_cpu(store, 50, 1000);
  TraceBuilder b(store);
  const TrackId w0 = b.stream(0, 1, DeviceType::kCpu);
  const TrackId w1 = b.stream(0, 2, DeviceType::kCpu);
  for (int i = 0; i < 100; ++i) {
    b.kernel(w0, "Gemv", i * 400000, 300000, 0, {{"bytes", 6.75e6}});
    b.kernel(w1, "Gemv", i * 400000, 300000, 0, {{"bytes", 6.75e6}});
  }
  const auto out = rule_roofline(context_of(store), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(ev(out[0], "achieved_gbps"), 45.0, 1e-9);
  EXPECT_EQ(out[0].severity, Severity::kInfo);
}

TEST(DeviceModels, FromDevicePropertiesAndProcessLabels) {
  TraceStore store;
  store.writer().set_metadata("deviceProperties",
                              R"([{"id":0,"name":"NVIDIA H100 80GB HBM3"},{"id":1,"name":"x"}])");
  two_kernels(store, "Gemv", 0.3, {{"bytes", 13.5e6}}, DeviceType::kGpu);
  const auto ctx = context_of(store);
  ASSERT_FALSE(ctx.devices.empty());
  EXPECT_EQ(ctx.devices[0].model, "NVIDIA H100 80GB HBM3");
  const auto peaks = peaks_in_use(ctx, DiagnosisConfig{});
  ASSERT_EQ(peaks.size(), 1u);
  EXPECT_EQ(peaks[0].spec.name, "H100");
  EXPECT_EQ(peaks[0].spec.source, "datasheet");
  EXPECT_TRUE(peaks[0].trusted);
}

TEST(RooflineRule, CopiesAreLinkBoundAndAnnotationsAreNotKernels) {
  TraceStore store;
  TraceBuilder b(store);
  const TrackId s = b.stream(0, 7, DeviceType::kGpu);
  b.annotation(s, "ProfilerStep#1", 0, 1000000);  // covers everything below
  for (int i = 0; i < 10; ++i) {
    b.copy(s, "Memcpy HtoD (Pageable -> Device)", i * 100000, 80000, {{"bytes", 1e6}});
    b.kernel(s, "add", i * 100000 + 80000, 20000);
  }
  const auto ctx = context_of(store);
  EXPECT_EQ(ctx.device_total_ns, 1000000);  // the annotation is not device time
  EXPECT_EQ(ctx.kernel("ProfilerStep#1"), nullptr);
  EXPECT_TRUE(ctx.kernel("Memcpy HtoD (Pageable -> Device)")->copy);
  // 12.5 GB/s is 0.6 % of an A100's HBM, but a copy is bound by PCIe: not this rule's case.
  EXPECT_TRUE(rule_roofline(ctx, DiagnosisConfig{}).empty());
  const auto out = rule_dominant_kernel(ctx, DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].title.en,
            "Memory copies (Memcpy HtoD (Pageable -> Device)) take 80% of device time");
  EXPECT_NE(out[0].suggestion.en.find("pinned"), std::string::npos);
  const RunSamples samples = collect_run_samples(store, store.snapshot(), "t");
  EXPECT_EQ(samples.device_total_ns, 1000000);
  EXPECT_EQ(samples.kernel("ProfilerStep#1"), nullptr);
}

TEST(SmallKvBlocksRule, SuggestsLargerBlocksWithOrWithoutBandwidth) {
  TraceStore store;
  two_kernels(store, "PagedAttention", 0.25, {{"block_size", 8}, {"bytes", 1e6}}, DeviceType::kCpu);
  auto out = rule_small_kv_blocks(context_of(store), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  const Finding& f = out[0];
  EXPECT_EQ(f.id, "small-kv-blocks");
  EXPECT_EQ(ev(f, "block_size"), 8);
  EXPECT_EQ(ev(f, "suggested_block_size"), 32);
  EXPECT_DOUBLE_EQ(ev(f, "block_loads_ratio"), 0.25);
  // 4 GB/s against 35 attainable: the shortfall (89 %) is capped at 30 %; 3/4 of the block
  // costs go away.
  EXPECT_EQ(f.find("saved_basis")->s, "per-block costs: bandwidth shortfall, capped");
  EXPECT_DOUBLE_EQ(ev(f, "block_overhead_share"), 0.3);
  EXPECT_NEAR(static_cast<double>(f.saved_ns), 25000000 * 0.75 * 0.3, 1);
  EXPECT_NE(f.suggestion.en.find("block_size 32"), std::string::npos);
  EXPECT_NE(f.suggestion.zh.find("block_size 调整为 32"), std::string::npos);
  // The roofline rule leaves it to this one.
  EXPECT_TRUE(rule_roofline(context_of(store), DiagnosisConfig{}).empty());

  TraceStore no_bytes;
  two_kernels(no_bytes, "PagedAttention", 0.25, {{"block_size", 4}});
  out = rule_small_kv_blocks(context_of(no_bytes), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(static_cast<double>(out[0].saved_ns), 25000000 * 0.875 * 0.3, 1);
  EXPECT_EQ(out[0].find("saved_basis")->s, "per-block costs: assumed share of the kernel's time");

  TraceStore fine;
  two_kernels(fine, "PagedAttention", 0.25, {{"block_size", 16}});
  EXPECT_TRUE(rule_small_kv_blocks(context_of(fine), DiagnosisConfig{}).empty());
}

// ---------------------------------------------------------------------------------------------
// host-bound

TEST(HostBoundRule, SchedulingShareAndLockEvidence) {
  TraceStore store;
  testing::ServingSpec spec;
  spec.steps = 50;
  spec.select_ns = 40000;
  spec.prepare_ns = 10000;
  spec.noise = 0;
  testing::make_serving_trace(store, spec);
  {
    // Lock waits inside select_batch on every step.
    TraceBuilder b(store);
    const TrackId host = b.host();
    for (uint64_t s = 1; s <= 50; ++s) {
      const int64_t start = store.step(s)->start;
      b.span(host, "queue_lock_wait", start + 1000, 20000, s);
    }
  }
  const auto out = rule_host_bound(context_of(store), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  const Finding& f = out[0];
  EXPECT_EQ(f.id, "host-bound");
  // Step: 50 µs host + 3 kernels (85 µs) + 3 gaps (3 µs) = 138 µs.
  EXPECT_NEAR(ev(f, "host_share"), 50.0 / 138.0, 1e-9);
  EXPECT_NEAR(ev(f, "phase.select_batch"), 40.0 / 138.0, 1e-9);
  EXPECT_NEAR(ev(f, "phase.prepare_inputs"), 10.0 / 138.0, 1e-9);
  EXPECT_NEAR(ev(f, "lock_wait_share"), 20.0 / 138.0, 1e-9);
  EXPECT_GT(ev(f, "device_idle_share"), 0.3);
  EXPECT_EQ(f.find("lock_span")->s, "queue_lock_wait");
  EXPECT_EQ(f.severity, Severity::kCritical);  // host-heavy with a lock inside
  EXPECT_NE(f.title.en.find("select_batch (scheduling) 29%"), std::string::npos) << f.title.en;
  EXPECT_NE(f.cause.en.find("waits for a lock (queue_lock_wait"), std::string::npos);
  EXPECT_NE(f.suggestion.en.find("moodycamel::ConcurrentQueue"), std::string::npos);
  EXPECT_NE(f.suggestion.zh.find("moodycamel::ConcurrentQueue"), std::string::npos);
  EXPECT_NE(f.suggestion.en.find("double-buffer"), std::string::npos);
  EXPECT_EQ(f.view.tab, "timeline");
  EXPECT_EQ(f.view.search, "select_batch");
  EXPECT_GT(f.saved_ns, 0);
  EXPECT_LE(f.saved_ns, 50 * 50000);
}

TEST(HostBoundRule, NotTriggeredWhenTheDeviceIsBusy) {
  TraceStore store;
  testing::ServingSpec spec;
  spec.steps = 50;
  spec.noise = 0;
  spec.select_ns = 3000;
  spec.prepare_ns = 2000;
  testing::make_serving_trace(store, spec);
  EXPECT_TRUE(rule_host_bound(context_of(store), DiagnosisConfig{}).empty());
  // No steps at all: nothing to say.
  TraceStore bare;
  two_kernels(bare, "Gemm", 0.5, {});
  EXPECT_TRUE(rule_host_bound(context_of(bare), DiagnosisConfig{}).empty());
}

// A loop that schedules outside its steps (as llm_server does): select_batch, with step id 0,
// runs before each step opens; each step holds one 100 µs kernel. `lock_ns` of every
// select_batch is spent in a "queue_lock_wait" span on the loop thread.
void unstepped_loop(TraceStore& store, int steps, int64_t select_ns, int64_t lock_ns) {
  TraceBuilder b(store);
  const TrackId host = b.host();
  const TrackId s0 = b.stream(0, 1);
  int64_t t = 1000000;
  for (int i = 1; i <= steps; ++i) {
    b.span(host, "select_batch", t, select_ns);
    if (lock_ns > 0) b.span(host, "queue_lock_wait", t + 100, lock_ns);
    t += select_ns;
    const auto step = static_cast<uint64_t>(i);
    b.kernel(s0, "Gemm", t, 100000, step);
    b.step(step, t, t + 100000, {{"r" + std::to_string(i), 1}}, host);
    t += 100000;
  }
}

TEST(HostBoundRule, CountsSchedulingBetweenSteps) {
  TraceStore store;
  unstepped_loop(store, 40, 50000, 0);
  const auto out = rule_host_bound(context_of(store), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  // 50 µs of select_batch per 150 µs of loop, though no select_batch span is in a step.
  EXPECT_NEAR(ev(out[0], "phase.select_batch"), 50.0 / 150.0, 1e-9);
  EXPECT_EQ(ev(out[0], "loop_time_ns"), 40 * 150000);
}

TEST(HostBoundRule, LockWaitArgsInsideAPhaseLeadToTheLockAdvice) {
  // A loop that reports its lock waits as `lock_wait_ns` args of its delivery phase.
  TraceStore store;
  TraceBuilder b(store);
  const TrackId host = b.host();
  const TrackId s0 = b.stream(0, 1);
  int64_t t = 1000000;
  for (int i = 1; i <= 40; ++i) {
    const auto step = static_cast<uint64_t>(i);
    b.kernel(s0, "Gemm", t, 60000, step);
    b.span(host, "process_output", t + 60000, 40000, step, {{"lock_wait_ns", 15000}});
    b.step(step, t, t + 100000, {{"r" + std::to_string(i), 1}}, host);
    t += 100000;
  }
  const auto out = rule_host_bound(context_of(store), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].severity, Severity::kCritical);
  EXPECT_EQ(out[0].find("top_phase")->s, "process_output");
  EXPECT_EQ(out[0].find("lock_span")->s, "process_output (lock_wait_ns)");
  EXPECT_NEAR(ev(out[0], "lock_wait_share"), 0.15, 1e-9);
  EXPECT_NE(out[0].suggestion.en.find("moodycamel::ConcurrentQueue"), std::string::npos);
  EXPECT_NE(out[0].title.en.find("process_output (output processing) 40%"), std::string::npos)
      << out[0].title.en;
}

// ---------------------------------------------------------------------------------------------
// lock-contention

TEST(LockContentionRule, WaitsOfTheLoopThread) {
  TraceStore store;
  unstepped_loop(store, 40, 12000, 10000);
  const auto out = rule_lock_contention(context_of(store), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  const Finding& f = out[0];
  EXPECT_EQ(f.id, "lock-contention");
  EXPECT_EQ(f.subject, "queue_lock_wait");
  EXPECT_EQ(f.severity, Severity::kCritical);  // a lock the loop waits for: fix it first
  EXPECT_EQ(ev(f, "lock_waits"), 40);
  EXPECT_EQ(ev(f, "lock_wait_ns"), 400000);
  EXPECT_EQ(ev(f, "mean_lock_wait_ns"), 10000);
  EXPECT_EQ(ev(f, "loop_time_ns"), 40 * 112000);
  EXPECT_NEAR(ev(f, "lock_wait_share"), 10.0 / 112.0, 1e-9);
  EXPECT_EQ(ev(f, "mean_select_batch_ns"), 12000);
  EXPECT_EQ(f.saved_ns, 400000);
  EXPECT_EQ(f.view.tab, "timeline");
  EXPECT_EQ(f.view.search, "queue_lock_wait");
  EXPECT_NE(f.suggestion.en.find("moodycamel::ConcurrentQueue"), std::string::npos);
  EXPECT_NE(f.suggestion.zh.find("moodycamel::ConcurrentQueue"), std::string::npos);
  EXPECT_NE(f.title.zh.find("等锁"), std::string::npos);

  TraceStore heavy;
  unstepped_loop(heavy, 40, 40000, 38000);
  const auto crit = rule_lock_contention(context_of(heavy), DiagnosisConfig{});
  ASSERT_EQ(crit.size(), 1u);
  EXPECT_EQ(crit[0].severity, Severity::kCritical);
}

TEST(LockContentionRule, NotTriggered) {
  // No waits.
  TraceStore none;
  unstepped_loop(none, 40, 12000, 0);
  EXPECT_TRUE(rule_lock_contention(context_of(none), DiagnosisConfig{}).empty());
  // Short waits: 2 µs per 102 µs of loop, under lock_share (5 %).
  TraceStore small;
  unstepped_loop(small, 40, 2000, 1500);
  EXPECT_TRUE(rule_lock_contention(context_of(small), DiagnosisConfig{}).empty());
  // Too few waits to say anything (lock_min_waits).
  TraceStore few;
  unstepped_loop(few, 5, 40000, 38000);
  EXPECT_TRUE(rule_lock_contention(context_of(few), DiagnosisConfig{}).empty());
  DiagnosisConfig low;
  low.lock_min_waits = 5;
  EXPECT_EQ(rule_lock_contention(context_of(few), low).size(), 1u);
  // Long waits, but on a request thread, not the serving loop's.
  TraceStore other;
  unstepped_loop(other, 40, 12000, 0);
  {
    TrackId worker;
    {
      auto w = other.writer();
      worker = w.track(100, 2);
    }
    TraceBuilder b(other);
    for (int i = 0; i < 40; ++i) b.span(worker, "queue_lock_wait", 1000000 + i * 112000, 50000);
  }
  EXPECT_TRUE(rule_lock_contention(context_of(other), DiagnosisConfig{}).empty());
}

// ---------------------------------------------------------------------------------------------
// launch-bound

TEST(LaunchBoundRule, ManyShortKernelsWithGaps) {
  TraceStore store;
  TraceBuilder b(store);
  const TrackId s = b.stream(0, 1, DeviceType::kGpu);
  int64_t t = 0;
  for (int i = 0; i < 300; ++i) {
    b.kernel(s, i % 2 ? "Add" : "Mul", t, 2000);
    t += 2000 + 8000;
  }
  const auto out = rule_launch_bound(context_of(store), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ev(out[0], "short_kernels"), 300);
  EXPECT_EQ(ev(out[0], "median_gap_ns"), 8000);
  EXPECT_EQ(out[0].saved_ns, 299 * 8000);
  EXPECT_NE(out[0].suggestion.en.find("CUDA Graphs"), std::string::npos);
}

TEST(LaunchBoundRule, NotTriggeredForLongKernelsOrFewKernels) {
  TraceStore store;
  TraceBuilder b(store);
  const TrackId s = b.stream(0, 1, DeviceType::kGpu);
  int64_t t = 0;
  for (int i = 0; i < 300; ++i) {
    b.kernel(s, "Gemm", t, 50000);
    t += 51000;
  }
  EXPECT_TRUE(rule_launch_bound(context_of(store), DiagnosisConfig{}).empty());
  TraceStore few;
  TraceBuilder f(few);
  const TrackId s2 = f.stream(0, 1, DeviceType::kGpu);
  for (int i = 0; i < 50; ++i) f.kernel(s2, "Add", i * 10000, 2000);
  EXPECT_TRUE(rule_launch_bound(context_of(few), DiagnosisConfig{}).empty());
  // Short kernels back to back: the device is busy, not waiting for launches.
  TraceStore packed;
  TraceBuilder p(packed);
  const TrackId s3 = p.stream(0, 1, DeviceType::kGpu);
  for (int i = 0; i < 300; ++i) p.kernel(s3, "Add", i * 2100, 2000);
  EXPECT_TRUE(rule_launch_bound(context_of(packed), DiagnosisConfig{}).empty());
}

// ---------------------------------------------------------------------------------------------
// long-tail

TEST(LongTailRule, OutliersWithinOneShape) {
  TraceStore store;
  TraceBuilder b(store);
  const TrackId s = b.stream(0, 1);
  int64_t t = 0;
  for (int i = 0; i < 100; ++i) {
    const int64_t d = i % 25 == 0 ? 100000 : 10000;  // 4 slow instances of 100
    b.kernel(s, "Int4Gemm", t, d, 0, {{"tokens", 1}});
    t += d + 100;
  }
  const auto out = rule_long_tail(context_of(store), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ev(out[0], "p50_ns"), 10000);
  EXPECT_EQ(ev(out[0], "p99_ns"), 100000);
  EXPECT_DOUBLE_EQ(ev(out[0], "p99_over_p50"), 10.0);
  EXPECT_EQ(ev(out[0], "slow_instances"), 4);
  EXPECT_EQ(out[0].find("shape")->s, "tokens=1");
  EXPECT_EQ(out[0].saved_ns, 4 * 90000);
  EXPECT_EQ(out[0].view.tab, "timeline");
}

TEST(LongTailRule, DifferentShapesAreNotATail) {
  // Prefill (tokens=64) instances are 20x longer than decode (tokens=1): expected, not a tail.
  TraceStore store;
  TraceBuilder b(store);
  const TrackId s = b.stream(0, 1);
  int64_t t = 0;
  for (int i = 0; i < 100; ++i) {
    const bool prefill = i % 10 == 0;
    const int64_t d = prefill ? 200000 : 10000;
    b.kernel(s, "Int4Gemm", t, d, 0, {{"tokens", prefill ? 64.0 : 1.0}});
    t += d + 100;
  }
  EXPECT_TRUE(rule_long_tail(context_of(store), DiagnosisConfig{}).empty());
}

// ---------------------------------------------------------------------------------------------
// device-imbalance / stragglers

// Two devices; per step device 1 runs `d1` ns of compute, device 0 runs 100 µs. Each device
// ends the step in an AllReduce that absorbs the wait.
void two_devices(TraceStore& store, int steps, const std::function<int64_t(int)>& d1) {
  TraceBuilder b(store);
  const TrackId a = b.stream(0, 1);
  const TrackId c = b.stream(1, 1);
  int64_t t = 0;
  for (int i = 1; i <= steps; ++i) {
    const int64_t x = d1(i);
    const int64_t longest = std::max<int64_t>(100000, x);
    b.kernel(a, "Gemm", t, 100000, static_cast<uint64_t>(i));
    b.kernel(c, "Gemm", t, x, static_cast<uint64_t>(i));
    b.kernel(a, "HcclAllReduce", t + 100000, longest - 100000 + 5000, static_cast<uint64_t>(i));
    b.kernel(c, "HcclAllReduce", t + x, longest - x + 5000, static_cast<uint64_t>(i));
    t += longest + 10000;
  }
}

TEST(DeviceImbalanceRule, SpreadOfComputeTime) {
  TraceStore store;
  two_devices(store, 20, [](int) { return int64_t{150000}; });
  const auto out = rule_device_imbalance(context_of(store), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].subject, "NPU 1");
  EXPECT_EQ(out[0].find("max_device")->s, "NPU 1");
  EXPECT_EQ(ev(out[0], "max_busy_ns"), 20 * 150000);
  EXPECT_EQ(ev(out[0], "min_busy_ns"), 20 * 100000);
  EXPECT_NEAR(ev(out[0], "spread"), 1.0 / 3.0, 1e-9);
  EXPECT_EQ(out[0].saved_ns, 20 * 25000);
  EXPECT_GT(ev(out[0], "collective_share"), 0);
  EXPECT_EQ(out[0].title.en, "Devices are unbalanced: NPU 1 computes 50% longer than NPU 0");

  TraceStore even;
  two_devices(even, 20, [](int) { return int64_t{105000}; });
  EXPECT_TRUE(rule_device_imbalance(context_of(even), DiagnosisConfig{}).empty());
}

TEST(CommunicationShareRule, CollectivesOverTheShareOfDeviceTime) {
  // Device 1 computes 250 µs per step, device 0 100 µs and then waits 155 µs in its AllReduce:
  // collectives are 160 of 510 µs of device time (31 %), 155 µs of it exposed on NPU 0.
  TraceStore store;
  two_devices(store, 20, [](int) { return int64_t{250000}; });
  const auto out = rule_communication_share(context_of(store), DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].severity, Severity::kWarning);
  EXPECT_EQ(out[0].subject, "NPU 0");
  EXPECT_NEAR(ev(out[0], "collective_share"), 160.0 / 510.0, 1e-9);
  EXPECT_EQ(out[0].saved_ns, 20 * 155000);
  EXPECT_EQ(out[0].title.en, "Communication takes 31% of device time across 2 devices");
  DiagnosisConfig strict;
  strict.comm_share = 0.15;
  EXPECT_EQ(rule_communication_share(context_of(store), strict)[0].severity, Severity::kCritical);

  // Balanced devices: the AllReduces are 15 of 215 µs (7 %): no finding.
  TraceStore even;
  two_devices(even, 20, [](int) { return int64_t{105000}; });
  EXPECT_TRUE(rule_communication_share(context_of(even), DiagnosisConfig{}).empty());

  // One device: communication share is not judged.
  TraceStore one;
  TraceBuilder b(one);
  const TrackId s = b.stream(0, 1);
  b.kernel(s, "Gemm", 0, 1000);
  b.kernel(s, "HcclAllReduce", 1000, 9000);
  EXPECT_TRUE(rule_communication_share(context_of(one), DiagnosisConfig{}).empty());
}

TEST(StragglersRule, IntermittentLag) {
  TraceStore store;
  two_devices(store, 40, [](int i) { return i % 8 == 0 ? int64_t{200000} : int64_t{100000}; });
  const auto ctx = context_of(store);
  const auto out = rule_stragglers(ctx, DiagnosisConfig{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].subject, "NPU 1");
  EXPECT_EQ(ev(out[0], "straggler_steps"), 5);
  EXPECT_EQ(ev(out[0], "steps"), 40);
  EXPECT_EQ(out[0].saved_ns, 5 * 100000);
  // Overall the devices are balanced enough (12.5 % spread): no imbalance finding.
  EXPECT_TRUE(rule_device_imbalance(ctx, DiagnosisConfig{}).empty());

  TraceStore steady;
  two_devices(steady, 40, [](int) { return int64_t{100000}; });
  EXPECT_TRUE(rule_stragglers(context_of(steady), DiagnosisConfig{}).empty());
}

// ---------------------------------------------------------------------------------------------
// diagnose(), JSON, merging

TEST(Diagnose, RanksBySavedTimeAndWritesBilingualJson) {
  TraceStore store;
  testing::ServingSpec spec;
  spec.steps = 60;
  spec.select_ns = 60000;
  spec.noise = 0;
  spec.kernels = {{"Int4Gemm", 80000}, {"PagedAttention", 20000}};
  testing::make_serving_trace(store, spec);
  const auto findings = diagnose(store, store.snapshot(), DiagnosisConfig{});
  ASSERT_GE(findings.size(), 2u);
  for (size_t i = 1; i < findings.size(); ++i) {
    EXPECT_GE(findings[i - 1].saved_ns, findings[i].saved_ns);
  }
  for (const auto& f : findings) {
    EXPECT_FALSE(f.title.en.empty());
    EXPECT_FALSE(f.title.zh.empty());
    EXPECT_FALSE(f.cause.zh.empty());
    EXPECT_FALSE(f.suggestion.zh.empty());
  }
  EXPECT_NE(find(findings, "host-bound"), nullptr);
  EXPECT_NE(find(findings, "dominant-kernel"), nullptr);

  for (Lang lang : {Lang::kEn, Lang::kZh}) {
    StringSink sink;
    {
      BufferedOut out(&sink);
      write_findings_json(findings, lang, out);
      ASSERT_TRUE(out.flush().ok());
    }
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(sink.str()).get(doc), simdjson::SUCCESS) << sink.str();
    simdjson::dom::array arr = doc.get_array();
    ASSERT_EQ(arr.size(), findings.size());
    simdjson::dom::element first = arr.at(0);
    EXPECT_EQ(std::string_view(first["id"].get_string()), findings[0].id);
    EXPECT_EQ(std::string_view(first["title"].get_string()), findings[0].title.in(lang));
    EXPECT_EQ(int64_t(first["saved_ns"].get_int64()), findings[0].saved_ns);
    EXPECT_TRUE(first["evidence"].is_object());
    EXPECT_TRUE(first["view"]["request_id"].is_null());
    EXPECT_EQ(std::string_view(first["view"]["tab"].get_string()), findings[0].view.tab);
  }
}

TEST(Diagnose, EmptyStoreHasNoFindings) {
  TraceStore store;
  EXPECT_TRUE(diagnose(store, store.snapshot(), DiagnosisConfig{}).empty());
  StringSink sink;
  {
    BufferedOut out(&sink);
    write_findings_json({}, Lang::kEn, out);
    ASSERT_TRUE(out.flush().ok());
  }
  EXPECT_EQ(sink.str(), "[]");
}

Finding diag_finding_for_test(std::string id, std::string subject, int64_t saved) {
  Finding f;
  f.id = std::move(id);
  f.subject = std::move(subject);
  f.saved_ns = saved;
  return f;
}

TEST(Diagnose, MergeRunsKeepsTheLargestSavingAndCountsRuns) {
  Finding a = diag_finding_for_test("dominant-kernel", "Int4Gemm", 100);
  Finding b = diag_finding_for_test("dominant-kernel", "Int4Gemm", 300);
  Finding c = diag_finding_for_test("host-bound", "", 200);
  const auto merged = merge_run_findings({{a, c}, {b}});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].saved_ns, 300);
  EXPECT_EQ(merged[0].find("runs_affected")->i, 2);
  EXPECT_EQ(merged[0].find("runs")->i, 2);
  EXPECT_EQ(merged[1].id, "host-bound");
  EXPECT_EQ(merged[1].find("runs_affected")->i, 1);
  // One run: unchanged.
  EXPECT_EQ(merge_run_findings({{a}})[0].find("runs"), nullptr);
}

TEST(DiagnosisContextTest, LockAndCollectiveNames) {
  EXPECT_TRUE(is_lock_name("queue_lock_wait"));
  EXPECT_TRUE(is_lock_name("QueueLock"));
  EXPECT_TRUE(is_lock_name("MutexWait"));
  EXPECT_TRUE(is_lock_name("lock"));
  EXPECT_TRUE(is_lock_name("futex_wait"));
  EXPECT_FALSE(is_lock_name("allocate_blocks"));
  EXPECT_FALSE(is_lock_name("BlockTable"));
  EXPECT_FALSE(is_lock_name("unlock"));
  EXPECT_FALSE(is_lock_name("select_batch"));
  EXPECT_TRUE(is_collective_kernel("HcclAllReduce"));
  EXPECT_TRUE(is_collective_kernel("ncclDevKernel_AllGather_RING_LL"));
  EXPECT_TRUE(is_collective_kernel("AllReduce"));
  EXPECT_FALSE(is_collective_kernel("Int4Gemm"));
}

TEST(Diagnose, LanguagesAndSeverities) {
  Lang l;
  EXPECT_TRUE(parse_lang("zh", &l));
  EXPECT_EQ(l, Lang::kZh);
  EXPECT_TRUE(parse_lang("en", &l));
  EXPECT_EQ(l, Lang::kEn);
  EXPECT_FALSE(parse_lang("fr", &l));
  EXPECT_EQ(severity_name(Severity::kCritical), "critical");
  EXPECT_EQ(diagnosis_rules().size(), 11u);
}

}  // namespace
}  // namespace huoyan
