// Time bases. The store's time base is CLOCK_MONOTONIC in ns. Every collector's clock domain
// (CUPTI timestamps, msPTI CLOCK_REALTIME ns, device counters, the TSC) is mapped onto it here
// and nowhere else; the measured offsets are recorded in the trace metadata
// ("clock.<domain>.offset_ns") so a reader can see how times were aligned.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace huoyan {

// CLOCK_MONOTONIC / CLOCK_REALTIME in ns.
int64_t monotonic_ns();
int64_t realtime_ns();

// Per-domain linear mapping onto the store's time base: store_ns = offset + value (ns domains)
// — an offset measured by sampling both clocks back to back, keeping the sample with the
// smallest bracket, so the error is bounded by half that bracket (reported as uncertainty_ns).
class ClockSync {
 public:
  struct Domain {
    std::string name;
    int64_t offset_ns = 0;
    int64_t uncertainty_ns = 0;
  };

  // Measures the offset of a clock read by `read_ns` against CLOCK_MONOTONIC.
  Domain calibrate(const std::string& name, const std::function<int64_t()>& read_ns,
                   int samples = 16);
  // Records an offset measured elsewhere (e.g. from a file's sync info).
  void set(const Domain& domain);
  bool get(const std::string& name, Domain* out) const;
  int64_t to_store(const std::string& name, int64_t value_ns) const;
  std::vector<Domain> domains() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, Domain> domains_;
};

}  // namespace huoyan
