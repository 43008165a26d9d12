// The reader (importer) interface: one class per input format, streaming events into a store.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "src/core/status.h"
#include "src/core/trace_store.h"
#include "src/io/input.h"

namespace huoyan {

struct ReadOptions {
  // Called every few MB with (bytes consumed of the underlying file, file size or 0).
  std::function<void(uint64_t, uint64_t)> progress;
  // Added to every pid read, so several files (ranks) can share one store without clashing.
  int64_t pid_offset = 0;
};

struct ReadStats {
  uint64_t events = 0;   // events stored
  uint64_t skipped = 0;  // events skipped (details in the store's SkipCounters)
  uint64_t bytes = 0;    // uncompressed bytes consumed
};

class Reader {
 public:
  virtual ~Reader() = default;
  virtual std::string_view format_name() const = 0;
  // Reads all of `src` into `store`. Malformed events are skipped and counted in
  // store.skips(); a Status error means the input as a whole is unreadable (its message names
  // the source and the byte offset or line).
  virtual Result<ReadStats> read(ByteSource& src, TraceStore& store,
                                 const ReadOptions& options) = 0;
};

}  // namespace huoyan
