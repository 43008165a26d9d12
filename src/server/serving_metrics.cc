#include "src/server/serving_metrics.h"

#include <algorithm>

#include <fmt/format.h>

#include "src/server/http_util.h"

namespace huoyan::server {

template <size_t N>
void ServingMetrics::Histogram<N>::add(int64_t ns, const std::array<double, N>& bounds) {
  const double s = static_cast<double>(ns) * 1e-9;
  const size_t b =
      static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), s) - bounds.begin());
  ++buckets[b];
  ++count;
  sum_ns += ns;
}

template <size_t N>
void ServingMetrics::Histogram<N>::add(const Histogram& o) {
  for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += o.buckets[i];
  count += o.count;
  sum_ns += o.sum_ns;
}

void ServingMetrics::update(const TraceStore& store, const RequestIndex* requests) {
  const Snapshot snapshot = store.snapshot();
  if (snapshot.begin_seq() > next_seq_) missed_ += snapshot.begin_seq() - next_seq_;
  // Kernels by name id first (names repeat), then folded into the by-text map.
  std::unordered_map<StringId, KernelHistogram> fresh;
  snapshot.for_each_from(next_seq_, [&](const EventView& ev) {
    if (!snapshot.is_device_event(*ev)) return;
    fresh[ev->name].add(ev->dur, kKernelBuckets);
  });
  next_seq_ = std::max(next_seq_, snapshot.end_seq());
  // Free label slots go to the new kernels with most time in this batch; a kernel keeps the
  // series it started in.
  std::vector<std::pair<int64_t, std::string>> arrivals;
  for (const auto& [id, h] : fresh) {
    std::string name(snapshot.str(id));
    if (!kernels_.count(name)) arrivals.emplace_back(h.sum_ns, name);
    kernels_[name].add(h);
  }
  std::sort(arrivals.begin(), arrivals.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (auto& [ns, name] : arrivals) {
    if (named_.size() >= max_kernels_) break;
    named_.insert(std::move(name));
  }

  if (requests == nullptr) return;
  std::unordered_set<StringId> still;
  for (const RequestRow* row : requests->query("", RequestSortKey::kId, false, 0, SIZE_MAX).rows) {
    if (row->finish == kNoTime) continue;
    still.insert(row->id);
    if (finished_.count(row->id)) continue;
    if (row->arrival != kNoTime) {
      if (row->first_token != kNoTime && row->first_token >= row->arrival) {
        ttft_.add(row->first_token - row->arrival, kRequestBuckets);
      }
      if (row->finish >= row->arrival) latency_.add(row->finish - row->arrival, kRequestBuckets);
    }
    device_.add(row->device_shared, kRequestBuckets);
  }
  finished_ = std::move(still);  // requests the store no longer holds are forgotten
}

namespace {

template <size_t N>
void write_histogram(std::string* out, const char* name, const std::string& labels,
                     const ServingMetrics::Histogram<N>& h, const std::array<double, N>& bounds) {
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= N; ++i) {
    cumulative += h.buckets[i];
    const std::string le = i < N ? fmt::format("{}", bounds[i]) : "+Inf";
    *out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, le, cumulative);
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  *out += fmt::format("{}_sum{} {}\n", name, braces, static_cast<double>(h.sum_ns) * 1e-9);
  *out += fmt::format("{}_count{} {}\n", name, braces, h.count);
}

}  // namespace

void ServingMetrics::write(std::string* out) const {
  *out += fmt::format(
      "# HELP huoyan_kernel_duration_seconds Device work (kernels, copies, collectives) by "
      "kernel: up to {} kernels in their own series, the rest as \"other\".\n"
      "# TYPE huoyan_kernel_duration_seconds histogram\n",
      max_kernels_);
  std::vector<const std::string*> names;
  for (const std::string& name : named_) names.push_back(&name);
  std::sort(names.begin(), names.end(), [](auto* a, auto* b) { return *a < *b; });
  KernelHistogram other;
  for (const auto& [name, h] : kernels_) {
    if (!named_.count(name)) other.add(h);
  }
  for (const std::string* name : names) {
    write_histogram(out, "huoyan_kernel_duration_seconds",
                    "kernel=\"" + prometheus_label(*name) + "\"", kernels_.at(*name),
                    kKernelBuckets);
  }
  write_histogram(out, "huoyan_kernel_duration_seconds", "kernel=\"other\"", other, kKernelBuckets);
  *out +=
      "# HELP huoyan_kernel_events_missed_total Events evicted from the store before /metrics "
      "took them in (scrape more often, or give the store more capacity).\n"
      "# TYPE huoyan_kernel_events_missed_total counter\n";
  *out += fmt::format("huoyan_kernel_events_missed_total {}\n", missed_);
  *out +=
      "# HELP huoyan_request_ttft_seconds Time to first token of finished requests.\n"
      "# TYPE huoyan_request_ttft_seconds histogram\n";
  write_histogram(out, "huoyan_request_ttft_seconds", "", ttft_, kRequestBuckets);
  *out +=
      "# HELP huoyan_request_latency_seconds Arrival to finish of finished requests.\n"
      "# TYPE huoyan_request_latency_seconds histogram\n";
  write_histogram(out, "huoyan_request_latency_seconds", "", latency_, kRequestBuckets);
  *out +=
      "# HELP huoyan_request_device_seconds Device time of finished requests: every device event "
      "of the steps they were members of (shared attribution).\n"
      "# TYPE huoyan_request_device_seconds histogram\n";
  write_histogram(out, "huoyan_request_device_seconds", "", device_, kRequestBuckets);
}

}  // namespace huoyan::server
