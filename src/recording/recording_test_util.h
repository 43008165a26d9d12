// Helpers shared by the recording tests.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "huoyan/huoyan.h"
#include "src/core/trace_store.h"
#include "src/recording/profiler_internal.h"

namespace huoyan::testing_util {

// Every held event for which `pred` is true, in insertion order.
inline std::vector<Event> events_where(
    Profiler& profiler, const std::function<bool(const Snapshot&, const Event&)>& pred) {
  ProfilerAccess::flush(profiler);
  const Snapshot snap = ProfilerAccess::store(profiler).snapshot();
  std::vector<Event> out;
  snap.for_each([&](const EventView& ev) {
    if (pred(snap, *ev)) out.push_back(*ev);
  });
  return out;
}

inline std::vector<Event> events_named(Profiler& profiler, std::string_view name) {
  return events_where(profiler,
                      [&](const Snapshot& s, const Event& e) { return s.str(e.name) == name; });
}

// Options for tests: small store, frequent drains.
inline ProfilerOptions test_options(std::vector<std::string> collectors = {"host"}) {
  ProfilerOptions o;
  o.capacity_events = size_t{1} << 20;
  o.thread_buffer_events = size_t{1} << 14;
  o.collectors = std::move(collectors);
  o.drain_interval = std::chrono::microseconds(200);
  return o;
}

}  // namespace huoyan::testing_util
