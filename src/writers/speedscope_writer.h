// speedscope JSON writer (https://www.speedscope.app/file-format-schema.json): one "evented"
// profile per track (device stream or host thread), unit nanoseconds, frames shared. Durations
// that overlap without nesting on one track are clipped to their parent and counted.
#pragma once

#include "src/core/trace_store.h"
#include "src/io/sink.h"

namespace huoyan {

struct SpeedscopeStats {
  uint64_t clipped = 0;  // events clipped to keep each profile properly nested
};

Result<SpeedscopeStats> write_speedscope(const Snapshot& snapshot, Sink& sink,
                                         std::string_view name = "huoyan");

}  // namespace huoyan
