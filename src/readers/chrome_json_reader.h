// Chrome Trace Event JSON reader (also PyTorch/Kineto traces, which are Chrome JSON).
//
// Streaming: the input is read in blocks; each top-level event object is cut out by a small
// scanner and parsed with simdjson On-Demand, so memory stays bounded by the block size plus the
// store, never a DOM or a second copy of the events. Handles the array and object forms, a
// missing closing "]" (files of crashed processes), gzip, string "ts" (Ascend), string pid/tid,
// ids above 2^53, and the phases X B E i I C M s t f b e n. Times are parsed to int64 ns from
// their digits, never through a double.
#pragma once

#include "src/readers/reader.h"

namespace huoyan {

class ChromeJsonReader : public Reader {
 public:
  std::string_view format_name() const override { return "chrome"; }
  Result<ReadStats> read(ByteSource& src, TraceStore& store, const ReadOptions& options) override;
};

// Convenience: opens `path` and reads it with ChromeJsonReader.
Result<ReadStats> read_chrome_json_file(const std::string& path, TraceStore& store,
                                        const ReadOptions& options = {});

}  // namespace huoyan
