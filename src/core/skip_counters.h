// Named counters of malformed input that was skipped or repaired instead of aborting an import.
// Every front door reports them ("12 events skipped: missing ts"). Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace huoyan {

class SkipCounters {
 public:
  void add(std::string_view reason, uint64_t n = 1) {
    if (n == 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find(reason);
    if (it == counts_.end()) it = counts_.emplace(std::string(reason), 0).first;
    it->second += n;
  }
  uint64_t get(std::string_view reason) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find(reason);
    return it == counts_.end() ? 0 : it->second;
  }
  uint64_t total() const {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t t = 0;
    for (const auto& [k, v] : counts_) t += v;
    return t;
  }
  // Sorted by reason.
  std::vector<std::pair<std::string, uint64_t>> all() const {
    std::lock_guard<std::mutex> lock(mu_);
    return {counts_.begin(), counts_.end()};
  }
  void merge_from(const SkipCounters& other) {
    for (const auto& [k, v] : other.all()) add(k, v);
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t, std::less<>> counts_;
};

}  // namespace huoyan
