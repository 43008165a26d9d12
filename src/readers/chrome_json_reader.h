// Chrome Trace Event JSON reader (also PyTorch/Kineto traces, which are Chrome JSON).
//
// Streaming: the input is read in blocks; each top-level event object is cut out by a small
// scanner and parsed with simdjson On-Demand, so memory stays bounded by the block size plus the
// store, never a DOM or a second copy of the events. Handles the array and object forms, a
// missing closing "]" (files of crashed processes), gzip, string "ts" (Ascend), string pid/tid,
// ids above 2^53, and the phases X B E i I C M s t f b e n. Times are parsed to int64 ns from
// their digits, never through a double.
//
// Input policy (what is an error and what is only counted in store.skips()):
//  - Status error: empty input; a first byte other than '[' or '{' (binary, CSV, text…); an
//    object without a "traceEvents" array; an events array whose first element is not an
//    object; input in which no event could be parsed but some were malformed; a read error
//    before any event was read. Messages name the source and the byte offset.
//  - A read error after events were read (a truncated gzip stream of a crashed process) ends
//    the input like a missing "]": the events read are kept and the error is counted
//    ("input cut short by a read error (…)").
//  - Fine, nothing counted: a missing closing "]" or "}", a trailing comma, trailing whitespace
//    or junk after the document (the Trace Event Format allows unterminated files).
//  - Counted, the rest is kept: an event cut off by the end of the input ("truncated event at
//    end of input"), malformed events, unsupported phases, bad fields (see
//    chrome_event_decoder.h), bytes repaired ("invalid UTF-8 repaired").
// On an error, events read before it stay in the store.
#pragma once

#include <cstddef>

#include "src/readers/input_clock.h"
#include "src/readers/reader.h"

namespace huoyan {

class ChromeJsonReader : public Reader {
 public:
  static constexpr size_t kDefaultBlockBytes = size_t{8} << 20;
  // One event larger than this is skipped ("event larger than 64 MB").
  static constexpr size_t kMaxEventBytes = size_t{64} << 20;

  // `block_bytes`: how much is read from the source at a time (tests use tiny blocks to make
  // every value straddle a block boundary).
  explicit ChromeJsonReader(size_t block_bytes = kDefaultBlockBytes) : block_bytes_(block_bytes) {}

  std::string_view format_name() const override { return "chrome"; }
  Result<ReadStats> read(ByteSource& src, TraceStore& store, const ReadOptions& options) override;

 private:
  size_t block_bytes_;
};

// Convenience: opens `path` and reads it with ChromeJsonReader.
Result<ReadStats> read_chrome_json_file(const std::string& path, TraceStore& store,
                                        const ReadOptions& options = {});

// The sync information of a Chrome trace file (input_clock.h), from the top-level keys of the
// object form, wherever they sit (Kineto writes some after "traceEvents", so the whole file is
// scanned, skipping the events without parsing them):
//  - "baseTimeNanoseconds" (Kineto): Unix epoch ns of ts 0; "ts" are µs relative to it;
//  - "metadata" (huoyan's own output): "clock.timeline": "Unix epoch ns" (a merged store whose
//    inputs were all aligned), else "clock.mspti.offset_ns" (store time − CLOCK_REALTIME, as
//    the msPTI collector measured it).
// The array form has no top-level keys: no sync info.
InputClock chrome_input_clock(const std::string& path);

}  // namespace huoyan
