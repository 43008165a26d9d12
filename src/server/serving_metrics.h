// Prometheus histograms of what a server serves: per-kernel durations and per-request TTFT,
// latency and device time, for GET /metrics.
//
// Counters must only grow between scrapes while the store evicts its oldest events, so the
// histograms are accumulated: each update() takes in the events appended since the previous one
// and the requests finished since. Events evicted before an update saw them are counted
// (huoyan_kernel_events_missed_total), never silently lost.
//
// Label cardinality is bounded: at most `max_kernels` kernels get a series of their own — while
// slots are free, the kernels new to an update, most time first (so with a first scrape after
// warm-up, the top kernels by time) — and all others add up in kernel="other". A kernel stays in
// the series it started in, so every series only grows.
//
// Thread-compatible: the caller serializes update() and write().
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "src/core/trace_store.h"
#include "src/server/request_index.h"

namespace huoyan::server {

class ServingMetrics {
 public:
  explicit ServingMetrics(size_t max_kernels = 32) : max_kernels_(max_kernels) {}

  // Takes in what the store holds beyond the previous update; `requests` (may be null) gives
  // the finished requests' TTFT, latency and device time.
  void update(const TraceStore& store, const RequestIndex* requests);
  // Appends the families in Prometheus text format (HELP, TYPE, samples).
  void write(std::string* out) const;

  // Upper bounds (seconds) of the histogram buckets, +Inf implied.
  static constexpr std::array<double, 18> kKernelBuckets = {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5,
                                                            1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3,
                                                            1e-2, 2.5e-2, 5e-2, 0.1,  0.25,   1.0};
  static constexpr std::array<double, 15> kRequestBuckets = {
      1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

  template <size_t N>
  struct Histogram {
    std::array<uint64_t, N + 1> buckets{};  // per bucket (not cumulative); last = +Inf
    uint64_t count = 0;
    int64_t sum_ns = 0;
    void add(int64_t ns, const std::array<double, N>& bounds);
    void add(const Histogram& o);
  };
  using KernelHistogram = Histogram<kKernelBuckets.size()>;
  using RequestHistogram = Histogram<kRequestBuckets.size()>;

 private:
  size_t max_kernels_;
  EventSeq next_seq_ = 0;
  uint64_t missed_ = 0;
  std::unordered_map<std::string, KernelHistogram> kernels_;  // every kernel seen, by name
  std::unordered_set<std::string> named_;                     // those with their own series
  std::unordered_set<StringId> finished_;                     // requests already observed
  RequestHistogram ttft_;
  RequestHistogram latency_;
  RequestHistogram device_;
};

}  // namespace huoyan::server
