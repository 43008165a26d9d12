// Per-kernel statistics in one streaming pass, in memory independent of the trace's size: the
// `huoyan top` table of a trace larger than memory. Events are taken in as a reader appends
// them (TraceStore's append observer) into the store, which keeps only its capacity.
//
// Count, total, mean and max are exact. p50 and p99 come from a log-bucket histogram with a
// relative error of at most kRelativeError (the DDSketch bucketing): the value reported lies
// within 1 % of the exact nearest-rank percentile. Events are accumulated by (track, name,
// kind) and their kind is resolved at the end, when every process and thread name is known,
// exactly as Snapshot::kind_of() does for the in-memory table.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "src/analysis/kernel_stats.h"
#include "src/core/trace_store.h"

namespace huoyan {

class LogHistogram {
 public:
  static constexpr double kRelativeError = 0.01;
  void add(int64_t v);
  void add(const LogHistogram& o);
  // Nearest-rank percentile (p in 0..100), within kRelativeError of the exact one.
  int64_t percentile(double p) const;
  uint64_t count() const { return count_; }

 private:
  uint64_t& slot(int32_t bucket);  // the counter of a bucket, growing the range to hold it

  uint64_t count_ = 0;
  uint64_t non_positive_ = 0;  // values ≤ 0 (reported as 0)
  int32_t first_ = 0;          // bucket index of counts_[0]
  std::vector<uint64_t> counts_;
};

class StreamingStats {
 public:
  void observe(const Event& e);
  // The rows kernel_stats() gives for every device-side event, by name or by stream (rows by
  // device need every interval for the busy time, so they are not offered).
  std::vector<KernelStat> rows(const Snapshot& snapshot, GroupBy by, KindSet kinds) const;
  uint64_t events() const { return events_; }

 private:
  struct Key {
    TrackId track;
    StringId name;
    EventKind kind;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<uint64_t>()((uint64_t{k.track} << 32 | k.name) * 31 +
                                   static_cast<uint8_t>(k.kind));
    }
  };
  struct Acc {
    uint64_t count = 0;
    __extension__ __int128 total = 0;
    int64_t max = INT64_MIN;
    LogHistogram hist;
  };
  std::unordered_map<Key, Acc, KeyHash> accs_;
  Key last_key_{UINT32_MAX, 0, EventKind::kSpan};
  Acc* last_ = nullptr;
  uint64_t events_ = 0;
};

}  // namespace huoyan
