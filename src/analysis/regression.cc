#include "src/analysis/regression.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "src/analysis/diagnosis_context.h"

namespace huoyan {

// ---------------------------------------------------------------------------------------------
// Samples of a run

const KernelSamples* RunSamples::kernel(std::string_view name) const {
  auto it = std::lower_bound(kernels.begin(), kernels.end(), name,
                             [](const KernelSamples& k, std::string_view n) { return k.name < n; });
  return it != kernels.end() && it->name == name ? &*it : nullptr;
}

std::optional<double> RunSamples::request_tokens_per_s() const {
  if (tokens_out == 0 || first_arrival == kNoTime || last_finish == kNoTime ||
      last_finish <= first_arrival) {
    return std::nullopt;
  }
  return static_cast<double>(tokens_out) * 1e9 / static_cast<double>(last_finish - first_arrival);
}

RunSamples collect_run_samples(const TraceStore& store, const Snapshot& snapshot,
                               std::string source) {
  RunSamples run;
  run.source = std::move(source);
  run.events = snapshot.size();
  // Kernel index by name (StringIds are dense) and the step of the previous event (events of
  // a step come together): the per-event cost stays a few array reads.
  std::vector<uint32_t> index(snapshot.strings().size(), UINT32_MAX);
  std::vector<TrackId> max_track;  // per kernel: track of its longest instance
  std::map<uint64_t, int64_t> device_per_step;
  uint64_t cached_step = 0;
  int64_t* step_ns = nullptr;
  __extension__ __int128 device_total = 0;
  snapshot.for_each([&](const EventView& ev) {
    const Event& e = *ev;
    if (!snapshot.is_device_event(e)) return;
    device_total += e.dur;
    if (e.name >= index.size()) index.resize(e.name + 1, UINT32_MAX);
    if (index[e.name] == UINT32_MAX) {
      index[e.name] = static_cast<uint32_t>(run.kernels.size());
      run.kernels.emplace_back();
      run.kernels.back().name = std::string(snapshot.str(e.name));
      max_track.push_back(e.track);
    }
    const uint32_t ki = index[e.name];
    KernelSamples& k = run.kernels[ki];
    k.ns.push_back(e.dur);
    k.total_ns += e.dur;
    if (k.ns.size() == 1 || e.dur > k.max_ns) {
      k.max_ns = e.dur;
      k.max_ts = e.ts;
      k.max_step = e.step;
      max_track[ki] = e.track;
    }
    if (e.step != 0) {
      if (step_ns == nullptr || e.step != cached_step) {
        step_ns = &device_per_step[e.step];
        cached_step = e.step;
      }
      *step_ns += e.dur;
    }
  });
  for (size_t i = 0; i < run.kernels.size(); ++i) {
    run.kernels[i].max_track = snapshot.track_label(max_track[i]);
  }
  std::sort(run.kernels.begin(), run.kernels.end(),
            [](const KernelSamples& a, const KernelSamples& b) { return a.name < b.name; });
  run.device_total_ns = static_cast<int64_t>(device_total);
  for (const auto& [step, ns] : device_per_step) {
    run.step_device.push_back({static_cast<double>(ns), 1.0});
  }
  store.for_each_step([&](const Step& s) {
    // Every member of a step generates one token (a decode, or a prefill's first token).
    // Counting members rather than processed tokens keeps one long prompt from dominating the
    // statistic and its noise.
    if (s.members.empty() || s.start == kNoTime || s.end == kNoTime || s.end <= s.start) return;
    run.step_generated.push_back(
        {static_cast<double>(s.members.size()), static_cast<double>(s.end - s.start)});
  });
  store.for_each_request([&](const RequestInfo& r) {
    ++run.requests;
    run.tokens_out += r.tokens_out;
    if (r.arrival != kNoTime) {
      run.first_arrival =
          run.first_arrival == kNoTime ? r.arrival : std::min(run.first_arrival, r.arrival);
    }
    if (r.finish != kNoTime) run.last_finish = std::max(run.last_finish, r.finish);
  });
  return run;
}

// ---------------------------------------------------------------------------------------------
// Bootstrap

namespace {

// splitmix64: small, fast and the same on every platform (std distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) by multiply-shift (bias below 2^-40 for the sizes used here).
  size_t below(size_t n) {
    __extension__ using u128 = unsigned __int128;
    return static_cast<size_t>((static_cast<u128>(next()) * n) >> 64);
  }

 private:
  uint64_t state_;
};

// A run's samples folded into at most kMaxBatches consecutive batches (sums of num and den).
std::vector<RatioSample> batches(const std::vector<RatioSample>& samples) {
  if (samples.size() <= kMaxBatches) return samples;
  std::vector<RatioSample> out(kMaxBatches, RatioSample{0, 0});
  const size_t n = samples.size();
  for (size_t b = 0; b < kMaxBatches; ++b) {
    const size_t begin = b * n / kMaxBatches;
    const size_t end = (b + 1) * n / kMaxBatches;
    for (size_t i = begin; i < end; ++i) {
      out[b].num += samples[i].num;
      out[b].den += samples[i].den;
    }
  }
  return out;
}

// One bootstrap replicate of a side's statistic.
double replicate(const std::vector<std::vector<RatioSample>>& runs, Rng& rng) {
  double num = 0;
  double den = 0;
  const size_t r = runs.size();
  for (size_t k = 0; k < r; ++k) {
    const auto& run = runs[r == 1 ? 0 : rng.below(r)];
    const size_t n = run.size();
    for (size_t i = 0; i < n; ++i) {
      const RatioSample& s = run[rng.below(n)];
      num += s.num;
      den += s.den;
    }
  }
  return den > 0 ? num / den : std::nan("");
}

}  // namespace

double ratio_statistic(const SampleRuns& side) {
  double num = 0;
  double den = 0;
  for (const auto& run : side) {
    for (const auto& s : run) {
      num += s.num;
      den += s.den;
    }
  }
  return den > 0 ? num / den : std::nan("");
}

uint64_t sample_count(const SampleRuns& side) {
  uint64_t n = 0;
  for (const auto& run : side) n += run.size();
  return n;
}

RatioEstimate bootstrap_ratio(const SampleRuns& base, const SampleRuns& now,
                              const BootstrapOptions& options) {
  RatioEstimate est;
  const double b0 = ratio_statistic(base);
  const double n0 = ratio_statistic(now);
  est.ratio = n0 / b0;
  est.low = est.high = est.ratio;
  auto fold = [](const SampleRuns& side) {
    std::vector<std::vector<RatioSample>> out;
    for (const auto& run : side) {
      if (!run.empty()) out.push_back(batches(run));
    }
    return out;
  };
  const auto b = fold(base);
  const auto n = fold(now);
  if (b.empty() || n.empty() || !std::isfinite(est.ratio)) return est;
  Rng rng(options.seed);
  std::vector<double> ratios;
  ratios.reserve(options.resamples);
  for (uint32_t i = 0; i < options.resamples; ++i) {
    const double rb = replicate(b, rng);
    const double rn = replicate(n, rng);
    const double r = rn / rb;
    if (std::isfinite(r)) ratios.push_back(r);
  }
  if (ratios.empty()) return est;
  std::sort(ratios.begin(), ratios.end());
  const double tail = (1.0 - options.confidence) / 2.0;
  const auto at = [&](double q) {
    const double pos = q * static_cast<double>(ratios.size() - 1);
    return ratios[static_cast<size_t>(std::llround(pos))];
  };
  est.low = at(tail);
  est.high = at(1.0 - tail);
  return est;
}

// ---------------------------------------------------------------------------------------------
// Comparison

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kRegressed:
      return "regressed";
    case Verdict::kNotSignificant:
      return "not-significant";
    case Verdict::kWithinLimit:
      return "within-limit";
    case Verdict::kImproved:
      return "improved";
    case Verdict::kInsufficient:
      return "insufficient-samples";
  }
  return "within-limit";
}

Comparison compare_samples(std::string metric, std::string unit, bool higher_is_better,
                           const SampleRuns& base, const SampleRuns& now,
                           const AnalysisRules& rules) {
  Comparison c;
  c.metric = std::move(metric);
  c.unit = std::move(unit);
  c.higher_is_better = higher_is_better;
  c.limit = rules.max_regression;
  c.base_samples = sample_count(base);
  c.new_samples = sample_count(now);
  c.base_value = ratio_statistic(base);
  c.new_value = ratio_statistic(now);
  if (c.base_samples < rules.regression_min_samples ||
      c.new_samples < rules.regression_min_samples || !(c.base_value > 0) ||
      !std::isfinite(c.new_value)) {
    c.verdict = Verdict::kInsufficient;
    if (c.base_value > 0 && std::isfinite(c.new_value)) {
      c.ratio.ratio = c.ratio.low = c.ratio.high = c.new_value / c.base_value;
    }
  } else {
    c.ratio = bootstrap_ratio(
        base, now,
        BootstrapOptions{rules.bootstrap_resamples, rules.confidence, rules.bootstrap_seed});
  }
  if (higher_is_better) {
    c.regression = 1.0 - c.ratio.ratio;
    c.regression_low = 1.0 - c.ratio.high;
    c.regression_high = 1.0 - c.ratio.low;
  } else {
    c.regression = c.ratio.ratio - 1.0;
    c.regression_low = c.ratio.low - 1.0;
    c.regression_high = c.ratio.high - 1.0;
  }
  if (c.verdict == Verdict::kInsufficient) return c;
  if (c.regression_low > c.limit) {
    c.verdict = Verdict::kRegressed;
  } else if (c.regression > c.limit) {
    c.verdict = Verdict::kNotSignificant;
  } else if (c.regression_high < 0) {
    c.verdict = Verdict::kImproved;
  } else {
    c.verdict = Verdict::kWithinLimit;
  }
  return c;
}

namespace {

bool all_have(const std::vector<RunSamples>& runs, std::vector<RatioSample> RunSamples::*field) {
  if (runs.empty()) return false;
  for (const auto& r : runs) {
    if ((r.*field).empty()) return false;
  }
  return true;
}

SampleRuns side_of(const std::vector<RunSamples>& runs,
                   std::vector<RatioSample> RunSamples::*field) {
  SampleRuns out;
  for (const auto& r : runs) out.push_back(r.*field);
  return out;
}

// Pooled request throughput of several runs: Σ tokens / Σ window.
std::optional<double> pooled_request_tps(const std::vector<RunSamples>& runs) {
  double tokens = 0;
  double ns = 0;
  for (const auto& r : runs) {
    if (!r.request_tokens_per_s()) return std::nullopt;
    tokens += static_cast<double>(r.tokens_out);
    ns += static_cast<double>(r.last_finish - r.first_arrival);
  }
  if (ns <= 0) return std::nullopt;
  return tokens * 1e9 / ns;
}

// Share of device time of each kernel name, pooled over runs.
std::map<std::string, double> shares(const std::vector<RunSamples>& runs) {
  std::map<std::string, double> total;
  double all = 0;
  for (const auto& r : runs) {
    for (const auto& k : r.kernels) total[k.name] += static_cast<double>(k.total_ns);
    all += static_cast<double>(r.device_total_ns);
  }
  if (all > 0) {
    for (auto& [name, v] : total) v /= all;
  }
  return total;
}

SampleRuns kernel_side(const std::vector<RunSamples>& runs, const std::string& name) {
  SampleRuns out;
  for (const auto& r : runs) {
    std::vector<RatioSample> v;
    if (const KernelSamples* k = r.kernel(name)) {
      v.reserve(k->ns.size());
      for (int64_t ns : k->ns) v.push_back({static_cast<double>(ns), 1.0});
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace

RegressionResult compare_runs(const std::vector<RunSamples>& base,
                              const std::vector<RunSamples>& now, const AnalysisRules& rules) {
  RegressionResult out;
  out.resamples = rules.bootstrap_resamples;
  out.confidence = rules.confidence;
  out.base_request_tokens_per_s = pooled_request_tps(base);
  out.new_request_tokens_per_s = pooled_request_tps(now);
  if (all_have(base, &RunSamples::step_generated) && all_have(now, &RunSamples::step_generated)) {
    // Samples are (tokens, ns): the statistic in tokens/ns; reported in tokens/s.
    Comparison c =
        compare_samples("throughput", "tokens/s", true, side_of(base, &RunSamples::step_generated),
                        side_of(now, &RunSamples::step_generated), rules);
    c.base_value *= 1e9;
    c.new_value *= 1e9;
    out.throughput = std::move(c);
    out.throughput_basis = "generated tokens (step members) / step duration";
  } else if (all_have(base, &RunSamples::step_device) && all_have(now, &RunSamples::step_device)) {
    out.throughput = compare_samples("device time per step", "ns/step", false,
                                     side_of(base, &RunSamples::step_device),
                                     side_of(now, &RunSamples::step_device), rules);
    out.throughput_basis = "device time per step (no step records with tokens)";
  } else {
    out.throughput_basis = "none: the traces have no steps (per-kernel times compared instead)";
  }

  const auto base_share = shares(base);
  const auto new_share = shares(now);
  for (const auto& [name, share] : base_share) {
    auto it = new_share.find(name);
    if (it == new_share.end()) {
      if (share >= rules.regression_min_share) out.vanished_kernels.push_back(name);
      continue;
    }
    if (std::max(share, it->second) < rules.regression_min_share) continue;
    out.kernels.push_back(
        compare_samples(name, "ns", false, kernel_side(base, name), kernel_side(now, name), rules));
  }
  for (const auto& [name, share] : new_share) {
    if (share >= rules.regression_min_share && base_share.count(name) == 0) {
      out.new_kernels.push_back(name);
    }
  }
  std::stable_sort(out.kernels.begin(), out.kernels.end(),
                   [](const Comparison& a, const Comparison& b) {
                     if (a.verdict != b.verdict) return a.verdict < b.verdict;
                     return std::fabs(a.regression) > std::fabs(b.regression);
                   });
  return out;
}

std::string regression_method_text(const AnalysisRules& rules) {
  return fmt::format(
      "Throughput is generated tokens/s of the serving loop, Σ step members / Σ step duration "
      "(one sample per step), else device time per step, else not measured; kernels are compared "
      "by mean instance time (one sample per "
      "instance, kernels over {:.0f}% of device time). Uncertainty: bootstrap of the ratio "
      "new/base of these ratio-of-sums statistics, {} resamples with a fixed seed, whole runs "
      "then samples within runs, percentile {:.0f}% confidence interval. A check fails only when "
      "the whole interval lies beyond the {:.1f}% limit (regression both too large and larger "
      "than run-to-run noise).",
      rules.regression_min_share * 100, rules.bootstrap_resamples, rules.confidence * 100,
      rules.max_regression * 100);
}

}  // namespace huoyan
