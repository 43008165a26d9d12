#include "src/collect/clock.h"

#include <time.h>

#include <limits>

namespace huoyan {

int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

int64_t realtime_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

ClockSync::Domain ClockSync::calibrate(const std::string& name,
                                       const std::function<int64_t()>& read_ns, int samples) {
  Domain best;
  best.name = name;
  int64_t best_bracket = std::numeric_limits<int64_t>::max();
  for (int i = 0; i < samples; ++i) {
    const int64_t a = monotonic_ns();
    const int64_t v = read_ns();
    const int64_t b = monotonic_ns();
    if (b - a < best_bracket) {
      best_bracket = b - a;
      best.offset_ns = a + (b - a) / 2 - v;
      best.uncertainty_ns = (b - a + 1) / 2;
    }
  }
  set(best);
  return best;
}

void ClockSync::set(const Domain& domain) {
  std::lock_guard<std::mutex> lock(mu_);
  domains_[domain.name] = domain;
}

bool ClockSync::get(const std::string& name, Domain* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return false;
  *out = it->second;
  return true;
}

int64_t ClockSync::to_store(const std::string& name, int64_t value_ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = domains_.find(name);
  return it == domains_.end() ? value_ns : value_ns + it->second.offset_ns;
}

std::vector<ClockSync::Domain> ClockSync::domains() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Domain> out;
  for (const auto& [k, v] : domains_) out.push_back(v);
  return out;
}

}  // namespace huoyan
