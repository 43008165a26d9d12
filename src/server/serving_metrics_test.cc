#include "src/server/serving_metrics.h"

#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "src/analysis/diagnosis_testing.h"

namespace huoyan::server {
namespace {

using huoyan::testing::TraceBuilder;

// The value of one sample line ("name{labels} value"), or -1 when absent.
double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

std::string scrape(ServingMetrics& m, const TraceStore& store) {
  m.update(store, nullptr);
  std::string out;
  m.write(&out);
  return out;
}

TEST(ServingMetrics, KernelHistogramsWithBoundedLabels) {
  TraceStore store;
  TraceBuilder b(store);
  const TrackId s = b.stream(0, 1, DeviceType::kGpu);
  // 3 kernels, 2 label slots: the two with most time get them.
  for (int i = 0; i < 10; ++i) {
    b.kernel(s, "Gemm", i * 1000000, 300000);          // 300 µs
    b.kernel(s, "Attn", i * 1000000 + 400000, 40000);  // 40 µs
    b.kernel(s, "Norm", i * 1000000 + 500000, 2000);   // 2 µs
  }
  ServingMetrics m(2);
  std::string text = scrape(m, store);
  EXPECT_EQ(sample(text, "huoyan_kernel_duration_seconds_count{kernel=\"Gemm\"}"), 10);
  EXPECT_NEAR(sample(text, "huoyan_kernel_duration_seconds_sum{kernel=\"Gemm\"}"), 0.003, 1e-12);
  EXPECT_EQ(sample(text, "huoyan_kernel_duration_seconds_count{kernel=\"Attn\"}"), 10);
  EXPECT_EQ(sample(text, "huoyan_kernel_duration_seconds_count{kernel=\"Norm\"}"), -1);
  EXPECT_EQ(sample(text, "huoyan_kernel_duration_seconds_count{kernel=\"other\"}"), 10);
  // Buckets are cumulative: 300 µs is above 250 µs, within 500 µs.
  EXPECT_EQ(sample(text, "huoyan_kernel_duration_seconds_bucket{kernel=\"Gemm\",le=\"0.00025\"}"),
            0);
  EXPECT_EQ(sample(text, "huoyan_kernel_duration_seconds_bucket{kernel=\"Gemm\",le=\"0.0005\"}"),
            10);
  EXPECT_EQ(sample(text, "huoyan_kernel_duration_seconds_bucket{kernel=\"Gemm\",le=\"+Inf\"}"), 10);

  // The next scrape adds only what is new; series only grow.
  for (int i = 10; i < 15; ++i) b.kernel(s, "Gemm", i * 1000000, 300000);
  text = scrape(m, store);
  EXPECT_EQ(sample(text, "huoyan_kernel_duration_seconds_count{kernel=\"Gemm\"}"), 15);
  EXPECT_EQ(sample(text, "huoyan_kernel_duration_seconds_count{kernel=\"other\"}"), 10);
  text = scrape(m, store);
  EXPECT_EQ(sample(text, "huoyan_kernel_duration_seconds_count{kernel=\"Gemm\"}"), 15);
  EXPECT_EQ(sample(text, "huoyan_kernel_events_missed_total"), 0);
}

TEST(ServingMetrics, AKernelKeepsTheSeriesItStartedIn) {
  TraceStore store;
  TraceBuilder b(store);
  const TrackId s = b.stream(0, 1, DeviceType::kGpu);
  b.kernel(s, "A", 0, 1000);
  ServingMetrics m(1);
  std::string text = scrape(m, store);
  EXPECT_EQ(sample(text, "huoyan_kernel_duration_seconds_count{kernel=\"A\"}"), 1);
  // B comes when the only slot is taken: "other", even once it has more time than A.
  b.kernel(s, "B", 2000, 50000);
  b.kernel(s, "B", 60000, 50000);
  text = scrape(m, store);
  EXPECT_EQ(sample(text, "huoyan_kernel_duration_seconds_count{kernel=\"B\"}"), -1);
  EXPECT_EQ(sample(text, "huoyan_kernel_duration_seconds_count{kernel=\"other\"}"), 2);
  b.kernel(s, "A", 200000, 1000);
  text = scrape(m, store);
  EXPECT_EQ(sample(text, "huoyan_kernel_duration_seconds_count{kernel=\"A\"}"), 2);
  EXPECT_EQ(sample(text, "huoyan_kernel_duration_seconds_count{kernel=\"other\"}"), 2);
}

TEST(ServingMetrics, EventsEvictedBeforeAScrapeAreCounted) {
  TraceStore store(StoreOptions{4096});
  TraceBuilder b(store);
  const TrackId s = b.stream(0, 1, DeviceType::kGpu);
  ServingMetrics m;
  for (int i = 0; i < 100000; ++i) b.kernel(s, "K", i * 10, 5);
  const std::string text = scrape(m, store);
  const double seen = sample(text, "huoyan_kernel_duration_seconds_count{kernel=\"K\"}");
  const double missed = sample(text, "huoyan_kernel_events_missed_total");
  EXPECT_GT(missed, 0);
  EXPECT_EQ(seen + missed, 100000);
}

TEST(ServingMetrics, FinishedRequestsAreObservedOnce) {
  TraceStore store;
  TraceBuilder b(store);
  b.request("r1", 0, 2000000000, 10);     // 2 s
  b.request("r2", 1000000, 31000000, 5);  // 30 ms
  {
    auto w = store.writer();
    w.mark_request(store.intern("r1"), RequestMark::kFirstToken, 300000000);  // 300 ms
  }
  ServingMetrics m;
  auto scrape_with_requests = [&] {
    m.update(store, RequestIndex::build(store).get());
    std::string out;
    m.write(&out);
    return out;
  };
  std::string text = scrape_with_requests();
  EXPECT_EQ(sample(text, "huoyan_request_latency_seconds_count"), 2);
  EXPECT_NEAR(sample(text, "huoyan_request_latency_seconds_sum"), 2.03, 1e-9);
  EXPECT_EQ(sample(text, "huoyan_request_latency_seconds_bucket{le=\"0.05\"}"), 1);
  EXPECT_EQ(sample(text, "huoyan_request_ttft_seconds_count"), 1);
  EXPECT_EQ(sample(text, "huoyan_request_device_seconds_count"), 2);
  // Seen once, whatever the number of scrapes.
  text = scrape_with_requests();
  EXPECT_EQ(sample(text, "huoyan_request_latency_seconds_count"), 2);
  b.request("r3", 0, 100000000, 1);
  text = scrape_with_requests();
  EXPECT_EQ(sample(text, "huoyan_request_latency_seconds_count"), 3);
}

}  // namespace
}  // namespace huoyan::server
