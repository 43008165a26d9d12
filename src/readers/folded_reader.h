// Folded stacks reader (Brendan Gregg's collapsed format: `frame;frame;frame count` per line, as
// written by stackcollapse-*.pl, perf, py-spy, async-profiler --collapsed, huoyan convert).
//
// Representation in the store: one host track (process named after the file, thread "samples")
// on which the stacks are laid end to end in file order, each line lasting count × kSampleNs
// (1 sample = 1 ms). Every frame becomes a nested span (kSpan, cat "sample") covering its samples;
// consecutive lines that share a stack prefix share those spans, as a sampled timeline would. So
// the flame graph of the track is exactly the folded input (self time = samples × 1 ms), and
// `huoyan convert` writes it back as Chrome JSON, speedscope or folded stacks. The sample unit is
// recorded in the store metadata ("folded_sample_ns").
//
// Input policy:
//  - Decoding: UTF-8 (a BOM is dropped), UTF-16 LE/BE with a BOM; LF or CRLF; a last line
//    without newline is read. Invalid UTF-8 is repaired ('?') and counted.
//  - Counted in store.skips() ("folded: invalid line"), the rest is read: a line that is not
//    `<stack> <integer count>` (comments "#…", "//…", a missing or non-integer count, an empty
//    stack, NUL bytes, a count whose time overflows int64, a line over 16 MB). Blank lines are
//    ignored.
//  - Error: empty input, or input with no valid line (message names the source and the first
//    bad line number).
#pragma once

#include <cstdint>

#include "src/readers/format.h"

namespace huoyan {

class FoldedReader : public Reader {
 public:
  static constexpr int64_t kSampleNs = 1'000'000;
  static constexpr size_t kMaxLineBytes = size_t{16} << 20;

  std::string_view format_name() const override { return "folded"; }
  Result<ReadStats> read(ByteSource& src, TraceStore& store, const ReadOptions& options) override;
};

// True when `head` (the start of a file) reads as folded stacks: text whose first meaningful
// line is `<stack> <count>` and most of whose complete lines are.
bool sniff_folded(std::string_view head);

Result<ReadStats> read_folded_file(const std::string& path, TraceStore& store,
                                   const ReadOptions& options = {});

FormatInfo folded_format();

}  // namespace huoyan
