#include "src/analysis/streaming_stats.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace huoyan {
namespace {

// γ = (1 + α) / (1 − α): a value v goes to bucket ⌈log_γ v⌉, whose representative
// 2γ^i / (γ + 1) is within α of every value of the bucket.
const double kGamma = (1 + LogHistogram::kRelativeError) / (1 - LogHistogram::kRelativeError);
const double kLogGamma = std::log(kGamma);

int32_t bucket_of(int64_t v) {
  return static_cast<int32_t>(std::ceil(std::log(static_cast<double>(v)) / kLogGamma));
}
int64_t value_of(int32_t bucket) {
  return std::llround(2.0 * std::pow(kGamma, bucket) / (kGamma + 1.0));
}

}  // namespace

uint64_t& LogHistogram::slot(int32_t b) {
  if (counts_.empty()) {
    first_ = b;
    counts_.assign(1, 0);
  } else if (b < first_) {
    counts_.insert(counts_.begin(), static_cast<size_t>(first_ - b), 0);
    first_ = b;
  } else if (b >= first_ + static_cast<int32_t>(counts_.size())) {
    counts_.resize(static_cast<size_t>(b - first_) + 1, 0);
  }
  return counts_[static_cast<size_t>(b - first_)];
}

void LogHistogram::add(int64_t v) {
  ++count_;
  if (v <= 0) {
    ++non_positive_;
    return;
  }
  ++slot(bucket_of(v));
}

void LogHistogram::add(const LogHistogram& o) {
  count_ += o.count_;
  non_positive_ += o.non_positive_;
  for (size_t i = 0; i < o.counts_.size(); ++i) {
    if (o.counts_[i] != 0) slot(o.first_ + static_cast<int32_t>(i)) += o.counts_[i];
  }
}

int64_t LogHistogram::percentile(double p) const {
  if (count_ == 0) return 0;
  const double rank = std::ceil(p / 100.0 * static_cast<double>(count_));
  const uint64_t want = rank < 1 ? 1 : static_cast<uint64_t>(rank);
  uint64_t seen = non_positive_;
  if (seen >= want) return 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= want) return value_of(first_ + static_cast<int32_t>(i));
  }
  return counts_.empty() ? 0 : value_of(first_ + static_cast<int32_t>(counts_.size()) - 1);
}

void StreamingStats::observe(const Event& e) {
  if (!has_duration(e.kind)) return;
  const Key key{e.track, e.name, e.kind};
  if (last_ == nullptr || !(key == last_key_)) {
    last_ = &accs_[key];
    last_key_ = key;
  }
  Acc& a = *last_;
  ++a.count;
  a.total += e.dur;
  a.max = std::max(a.max, e.dur);
  a.hist.add(e.dur);
  ++events_;
}

std::vector<KernelStat> StreamingStats::rows(const Snapshot& snapshot, GroupBy by,
                                             KindSet kinds) const {
  struct Row {
    uint64_t count = 0;
    __extension__ __int128 total = 0;
    int64_t max = INT64_MIN;
    LogHistogram hist;
  };
  std::map<std::pair<uint64_t, uint8_t>, Row> groups;  // (name or track, kind)
  __extension__ __int128 device_total = 0;
  const KindSet side = KindSet::device_side();
  for (const auto& [key, acc] : accs_) {
    Event probe;
    probe.kind = key.kind;
    probe.track = key.track;
    probe.name = key.name;
    const EventKind kind = snapshot.kind_of(probe);
    if (!side.has(kind)) continue;
    if (is_device_work(kind)) device_total += acc.total;
    if (!kinds.has(kind)) continue;
    const uint64_t id = by == GroupBy::kName ? key.name : key.track;
    Row& r = groups[{id, by == GroupBy::kName ? static_cast<uint8_t>(kind) : uint8_t{0}}];
    r.count += acc.count;
    r.total += acc.total;
    r.max = std::max(r.max, acc.max);
    r.hist.add(acc.hist);
  }
  std::vector<KernelStat> out;
  for (const auto& [key, r] : groups) {
    KernelStat s;
    if (by == GroupBy::kName) {
      s.name = std::string(snapshot.str(static_cast<StringId>(key.first)));
      s.kind = static_cast<EventKind>(key.second);
    } else {
      s.name = snapshot.track_label(static_cast<TrackId>(key.first));
    }
    s.count = r.count;
    s.total_ns = static_cast<int64_t>(r.total);
    s.mean_ns = static_cast<int64_t>(r.total / static_cast<int64_t>(r.count));
    // Percentiles within 1 %, never above the exact maximum.
    s.p50_ns = std::min(r.hist.percentile(50), r.max);
    s.p99_ns = std::min(r.hist.percentile(99), r.max);
    s.max_ns = r.max;
    s.share =
        device_total > 0 ? static_cast<double>(r.total) / static_cast<double>(device_total) : 0;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const KernelStat& a, const KernelStat& b) {
    return a.total_ns != b.total_ns ? a.total_ns > b.total_ns : a.name < b.name;
  });
  return out;
}

}  // namespace huoyan
