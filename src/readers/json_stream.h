// Streaming access to a JSON document too large to hold in memory.
//
// JsonStream is a window over a ByteSource, refilled in blocks, plus a resumable scanner that
// finds where one JSON value ends — tracking strings, escapes and nesting depth — without
// parsing it. Readers walk the top-level structure with peek()/consume() and cut out one value
// at a time with scan(): a value that is kept (an event object) is handed out as one contiguous
// span, carried over to the next block when it straddles one; a value that is not kept (an
// unused top-level key, possibly hundreds of MB) is skipped without being stored at all. Memory
// is therefore bounded by the block size plus the largest kept value.
//
// The scanner does not validate: it only needs strings, escapes and brackets to find the end of
// a value. Whoever parses the span (simdjson) validates it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "src/core/status.h"
#include "src/io/input.h"

namespace huoyan {

// Scanner state carried across blocks.
struct JsonScanState {
  int depth = 0;           // open brackets and braces
  int max_depth = 0;       // deepest nesting seen in this value
  bool in_string = false;  // inside a string literal
  bool escape = false;     // the next byte is escaped (a backslash ended the previous run)
};

// Scans [p, p + n) from `st`; returns the index one past the byte that completes the value
// (the closing quote or bracket that brings the depth back to 0), or SIZE_MAX when the value
// continues past n (`st` then describes the state after byte n - 1). The value must start with
// '{', '[' or '"' at the first call. Requires 32 readable bytes past p + n (padding).
size_t scan_json_value(const char* p, size_t n, JsonScanState& st);
// The same without the AVX2 path that scan_json_value() picks on CPUs that have it (tests).
size_t scan_json_value_portable(const char* p, size_t n, JsonScanState& st);

class JsonStream {
 public:
  // Readable bytes guaranteed after the end of any span handed out (>= SIMDJSON_PADDING).
  static constexpr size_t kPadding = 64;

  // `block_bytes`: size of each read from the source. `max_value_bytes`: a kept value longer
  // than this is skipped instead (scan() returns kTooLarge), so one absurd value cannot take
  // all memory.
  JsonStream(ByteSource& src, size_t block_bytes, size_t max_value_bytes);
  JsonStream(const JsonStream&) = delete;
  JsonStream& operator=(const JsonStream&) = delete;

  // Called before every read from the source (which may block): readers release locks there
  // and report progress.
  void set_before_read(std::function<void()> f) { before_read_ = std::move(f); }

  // Skips a UTF-8 byte order mark if the input starts with one. Call once, first.
  void skip_bom();
  // Skips whitespace and returns the next byte without consuming it; -1 at the end of the
  // input or on a read error (see status()).
  int peek();
  // Consumes one byte (the one peek() returned).
  void consume() { ++pos_; }
  // Absolute offset of the next unconsumed byte.
  uint64_t offset() const { return base_ + pos_; }
  // Uncompressed bytes read from the source so far.
  uint64_t bytes_read() const { return base_ + end_; }
  // The first read error, if any.
  const Status& status() const { return status_; }

  enum class Scan {
    kComplete,   // the value ends inside the input
    kTruncated,  // the input ended inside the value (everything up to the end is consumed)
    kTooLarge,   // a kept value exceeded max_value_bytes: it was skipped to its end
    kError,      // read error (status())
  };
  struct Value {
    std::string_view text;  // the value (kept values only), valid until the next call
    size_t capacity = 0;    // readable bytes from text.data() (>= text.size() + kPadding)
    int max_depth = 0;      // deepest bracket nesting inside the value
    uint64_t offset = 0;    // absolute offset of its first byte
  };
  // Scans the value starting at the next byte (call peek() first). Strings, objects and arrays
  // end at their closing byte; any other token (numbers, literals, garbage) ends before the next
  // ',', ']', '}', ':' or whitespace, and is at least one byte long so callers always progress.
  Scan scan(bool keep, Value* out);

 private:
  // Moves [keep_from, end_) to the front of the buffer (growing it when that part fills most of
  // it) and reads one more block. Returns false at the end of the input or on error.
  bool refill(size_t keep_from);

  ByteSource& src_;
  const size_t block_bytes_;
  const size_t max_value_bytes_;
  std::function<void()> before_read_;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;     // data capacity; the allocation has kPadding more bytes
  size_t pos_ = 0;     // next unconsumed byte
  size_t end_ = 0;     // end of valid data
  uint64_t base_ = 0;  // absolute offset of buf_[0]
  bool eof_ = false;
  Status status_;
};

}  // namespace huoyan
