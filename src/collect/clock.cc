#include "src/collect/clock.h"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>

#include <fmt/format.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

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

bool cycle_counter_invariant() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007u) return false;
  if (__get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (edx & (1u << 8)) != 0;  // "Invariant TSC" (Intel SDM, AMD APM: TscInvariant)
#else
  return false;
#endif
}

// ---------------------------------------------------------------------------------------------
// TickMap

TickMap::Sample TickMap::sample() const {
  Sample best{0, 0, std::numeric_limits<int64_t>::max()};
  for (int i = 0; i < 8; ++i) {
    const int64_t a = monotonic_ns();
    const uint64_t t = read_();
    const int64_t b = monotonic_ns();
    if (b - a < best.bracket_ns) best = Sample{t, a + (b - a) / 2, b - a};
  }
  return best;
}

void TickMap::calibrate(ReadTicks read, std::chrono::nanoseconds window) {
  read_ = read;
  segments_.clear();
  const Sample s0 = sample();
  std::this_thread::sleep_for(window);
  Sample s1 = sample();
  while (s1.ticks <= s0.ticks || s1.ns <= s0.ns) s1 = sample();  // a stalled counter: no clock
  first_ = s0;
  rate_ = static_cast<double>(s1.ns - s0.ns) / static_cast<double>(s1.ticks - s0.ticks);
  period_ticks_ = static_cast<int64_t>(s1.ticks - s0.ticks);
  segments_.push_back(Segment{s0.ticks, s0.ns, std::llround(std::ldexp(rate_, kShift))});
  offset_ns_ = s1.ns - static_cast<int64_t>(static_cast<double>(s1.ticks) * rate_);
  uncertainty_ns_ = (s1.bracket_ns + 1) / 2;
}

void TickMap::update() {
  if (segments_.empty()) return;
  const Sample s = sample();
  const Segment& last = segments_.back();
  if (s.ticks <= last.ticks) return;
  rate_ = static_cast<double>(s.ns - first_.ns) / static_cast<double>(s.ticks - first_.ticks);
  // Continue from where the map stands now and slew toward the measured point over about one
  // period; the clamp keeps the map strictly increasing whatever the measurement said.
  const int64_t mapped = to_ns(s.ticks);
  const int64_t period = std::max<int64_t>(static_cast<int64_t>(s.ticks - last.ticks), 1);
  double rate = rate_ + static_cast<double>(s.ns - mapped) / static_cast<double>(period);
  rate = std::clamp(rate, rate_ * 0.5, rate_ * 2.0);
  segments_.push_back(Segment{s.ticks, mapped, std::llround(std::ldexp(rate, kShift))});
  while (segments_.size() > 1024) segments_.pop_front();
  period_ticks_ = period;
  offset_ns_ = s.ns - static_cast<int64_t>(static_cast<double>(s.ticks) * rate_);
  uncertainty_ns_ = (s.bracket_ns + 1) / 2;
}

const TickMap::Segment& TickMap::find(uint64_t ticks) const {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), ticks,
                             [](uint64_t t, const Segment& s) { return t < s.ticks; });
  return it == segments_.begin() ? segments_.front() : *(it - 1);
}

// ---------------------------------------------------------------------------------------------
// ClockSync

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

void ClockSync::set_ticks(const std::string& name, const TickMap& map) {
  set(Domain{name, map.offset_ns(), map.uncertainty_ns(), map.ns_per_tick()});
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

std::vector<std::pair<std::string, std::string>> ClockSync::metadata() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Domain& d : domains()) {
    const std::string prefix = "clock." + d.name + ".";
    out.emplace_back(prefix + "offset_ns", std::to_string(d.offset_ns));
    out.emplace_back(prefix + "uncertainty_ns", std::to_string(d.uncertainty_ns));
    if (d.ns_per_tick != 1.0)
      out.emplace_back(prefix + "ns_per_tick", fmt::format("{:.12g}", d.ns_per_tick));
  }
  return out;
}

}  // namespace huoyan
