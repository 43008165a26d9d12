// "B"/"E" events of a Chrome trace, held back until the end of the input and then paired.
//
// Pairing needs every B/E of a thread in time order, and traces are not always sorted, so only
// these events are buffered (with copies of their args), never the rest of the trace.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/core/event.h"
#include "src/core/trace_store.h"

namespace huoyan {

class PendingSlices {
 public:
  using EmitFn = std::function<void(const Event&, std::span<const Arg>)>;
  // `lost` is true when the event is dropped (counted as skipped), false for a repair.
  using CountFn = std::function<void(std::string_view reason, bool lost)>;

  // Buffers one B (begin) or E event; its args' text is copied.
  void add(const Event& e, bool begin, std::span<const Arg> args);
  size_t size() const { return count_; }

  // Pairs per track (pid, tid): a stable sort by ts, then a stack — an E closes the innermost
  // open B, names are not compared (as Chrome does). A pair becomes one duration event with
  // the B's fields (the E's where the B has none), the B's args plus the E's args whose keys
  // the B lacks, and its kind from the category. An E with no open B is dropped ("unmatched
  // E"); a B never closed runs to `trace_end` with event_flags::kUnclosed ("unclosed B").
  // Spans are emitted per track in begin order, tracks in id order. Empties the buffer.
  void pair(int64_t trace_end, const TraceStore& store, const EmitFn& emit, const CountFn& count);

 private:
  struct Slice {
    Event event;  // args_begin/args_count index args_
    bool begin = false;
  };
  std::string_view copy_text(std::string_view s);

  std::unordered_map<TrackId, std::vector<Slice>> by_track_;
  std::vector<Arg> args_;
  std::vector<std::unique_ptr<char[]>> arena_;
  char* block_ = nullptr;
  size_t block_used_ = 0;
  size_t count_ = 0;
};

}  // namespace huoyan
