#include "src/analysis/streaming_stats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "src/readers/sniff.h"

namespace huoyan {
namespace {

// Within the histogram's relative error of the exact value (plus a nanosecond of rounding).
void expect_close(int64_t got, int64_t exact, const std::string& what) {
  const double bound = LogHistogram::kRelativeError * static_cast<double>(std::abs(exact)) + 1;
  EXPECT_LE(std::abs(static_cast<double>(got - exact)), bound)
      << what << ": " << got << " vs " << exact;
}

TEST(LogHistogram, PercentilesWithinTheStatedError) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> dist(10, 2.5);  // ns to seconds
  std::vector<int64_t> values;
  LogHistogram h;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<int64_t>(dist(rng));
    values.push_back(v);
    h.add(v);
  }
  values.push_back(0);  // and non-positive values
  h.add(0);
  std::sort(values.begin(), values.end());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    expect_close(h.percentile(p), percentile_sorted(values, p), "p" + std::to_string(p));
  }
  // Merging is adding the buckets.
  LogHistogram a, b;
  for (size_t i = 0; i < values.size(); ++i) (i % 2 ? a : b).add(values[i]);
  a.add(b);
  EXPECT_EQ(a.percentile(50), h.percentile(50));
  EXPECT_EQ(a.count(), h.count());
}

// The streaming table equals the in-memory one on every real trace: count, total, mean, max
// and share exactly, p50/p99 within 1 %, the same rows in the same order — while the streaming
// store keeps only a small window of events.
TEST(StreamingStats, EqualsTheInMemoryTableOnRealTraces) {
  const std::filesystem::path root = HUOYAN_TESTDATA_REAL;
  ASSERT_TRUE(std::filesystem::is_directory(root)) << "no shared test data at " << root;
  std::vector<std::string> inputs;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name != "SOURCES.md") inputs.push_back(entry.path().string());
    if (entry.is_directory() && (name == "ASCEND_PROFILER_OUTPUT" || name.starts_with("PROF_"))) {
      inputs.push_back(entry.path().string());
    }
  }
  std::sort(inputs.begin(), inputs.end());
  size_t traces = 0, rows_checked = 0, windowed = 0;
  for (const std::string& path : inputs) {
    TraceStore whole;
    if (!read_input(path, whole, {}).ok() || whole.held() == 0) continue;
    TraceStore window(StoreOptions{.capacity_events = 4096});
    StreamingStats stats;
    window.set_append_observer([&stats](const Event& e) { stats.observe(e); });
    ASSERT_TRUE(read_input(path, window, {}).ok()) << path;
    ++traces;
    if (window.dropped() > 0) ++windowed;
    const Snapshot snap = whole.snapshot();
    const Snapshot small = window.snapshot();
    for (GroupBy by : {GroupBy::kName, GroupBy::kStream}) {
      const auto exact = kernel_stats(snap, device_events(snap), by, KindSet::device_side());
      const auto streamed = stats.rows(small, by, KindSet::device_side());
      ASSERT_EQ(streamed.size(), exact.size()) << path;
      for (size_t i = 0; i < exact.size(); ++i) {
        const KernelStat& e = exact[i];
        const KernelStat& s = streamed[i];
        const std::string what = path + ": " + e.name;
        EXPECT_EQ(s.name, e.name) << what;
        EXPECT_EQ(s.kind, e.kind) << what;
        EXPECT_EQ(s.count, e.count) << what;
        EXPECT_EQ(s.total_ns, e.total_ns) << what;
        EXPECT_EQ(s.mean_ns, e.mean_ns) << what;
        EXPECT_EQ(s.max_ns, e.max_ns) << what;
        EXPECT_DOUBLE_EQ(s.share, e.share) << what;
        expect_close(s.p50_ns, e.p50_ns, what + " p50");
        expect_close(s.p99_ns, e.p99_ns, what + " p99");
        ++rows_checked;
      }
    }
  }
  EXPECT_GE(traces, 50u);
  EXPECT_GT(windowed, 0u);  // some traces did not fit the window: it really streamed
  std::printf("streaming table: %zu traces (%zu larger than the window), %zu rows equal\n", traces,
              windowed, rows_checked);
}

}  // namespace
}  // namespace huoyan
