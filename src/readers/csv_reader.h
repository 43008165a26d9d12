// Streaming RFC 4180 CSV tokenizer: rows are cut out of blocks read from a ByteSource and split
// in place, so memory stays bounded by the block size (or the longest row) whatever the file
// size.
//
// Accepted: a UTF-8 byte-order mark, LF or CRLF line ends, quoted fields with "" escapes,
// commas and line breaks inside quoted fields (one row may span many lines), blank lines
// (skipped), a last row without a line end. Not interpreted: the encoding of field bytes (the
// invalid UTF-8 is repaired to '?' and counted per row) and text after a closing quote (kept,
// `"ab"c` → `abc`).
//
// Every row reports where it starts (1-based line number) and how it ended, so the caller can
// tell a row cut off by the end of the input (no line end) from a complete one, and a quoted
// field that never closed. Fields are views into the parser's buffer, valid until next().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/io/input.h"

namespace huoyan {

class CsvParser {
 public:
  static constexpr size_t kDefaultBlockBytes = size_t{4} << 20;
  // A row longer than this is an error (a binary file, or a quote that never closes).
  static constexpr size_t kMaxRowBytes = size_t{64} << 20;

  explicit CsvParser(ByteSource& src, size_t block_bytes = kDefaultBlockBytes);
  CsvParser(const CsvParser&) = delete;
  CsvParser& operator=(const CsvParser&) = delete;

  enum class Next { kRow, kEnd, kError };
  // Advances to the next non-blank row. kError: a read error or a row beyond kMaxRowBytes
  // (status() names the source and the line).
  Next next();

  const std::vector<std::string_view>& fields() const { return fields_; }
  // First line of the current row (1-based; a multi-line row spans more).
  uint64_t line() const { return line_; }
  // False when the row was ended by the end of the input rather than a line break.
  bool terminated() const { return terminated_; }
  // True when a quoted field ran to the end of the input without its closing quote.
  bool unterminated_quote() const { return unterminated_quote_; }
  // True when the row contains a NUL byte.
  bool has_nul() const { return has_nul_; }
  // Bytes of the row that were not well-formed UTF-8 and were replaced with '?' (before
  // splitting: the replacement is never a delimiter, so the row's structure is unchanged).
  size_t repaired_bytes() const { return repaired_; }

  const Status& status() const { return status_; }
  const std::string& name() const { return src_.name(); }
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  bool fill();  // reads more input behind the unconsumed bytes; false at the end or on error
  // Finds the end of the row starting at begin_: sets *row_end (exclusive, before '\n') and
  // returns true, or returns false when the buffer holds no complete row yet.
  bool find_row_end(char** row_end);
  void split(char* begin, char* end);

  ByteSource& src_;
  size_t block_bytes_;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  char* begin_ = nullptr;  // first unconsumed byte
  char* end_ = nullptr;    // end of the data in buf_
  bool eof_ = false;
  bool started_ = false;
  // Row-end search state, kept across refills so a long row is scanned once.
  size_t scanned_ = 0;
  bool scan_in_quote_ = false;
  bool scan_quoted_ = false;  // the row has a quote: count its line breaks when it ends
  uint64_t scan_newlines_ = 0;

  std::vector<std::string_view> fields_;
  uint64_t line_ = 0;
  uint64_t next_line_ = 1;
  bool terminated_ = true;
  bool unterminated_quote_ = false;
  bool has_nul_ = false;
  size_t repaired_ = 0;
  uint64_t bytes_read_ = 0;
  Status status_;
};

// The first line of `head` split into trimmed header names (BOM and CR removed). For sniffing.
std::vector<std::string_view> csv_header_of(std::string_view head);

}  // namespace huoyan
