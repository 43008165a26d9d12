#include "src/readers/csv_reader.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "src/readers/json_repair.h"

namespace huoyan {
namespace {

// One pass for the two byte checks of a row: a NUL byte (bit 0) and a byte >= 0x80 (bit 1).
// Eight bytes at a time: ASCII rows without NUL (nearly all) cost one load and two masks per
// word.
unsigned odd_bytes(const char* p, size_t n) {
  constexpr uint64_t kLow = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  uint64_t high = 0, zero = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    high |= w;
    zero |= (w - kLow) & ~w;
  }
  unsigned out = (zero & kHigh) != 0 ? 1u : 0u;
  if ((high & kHigh) != 0) out |= 2;
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c == 0) out |= 1;
    if (c >= 0x80) out |= 2;
  }
  return out;
}

}  // namespace

CsvParser::CsvParser(ByteSource& src, size_t block_bytes)
    : src_(src), block_bytes_(std::max<size_t>(block_bytes, 1)) {
  cap_ = block_bytes_;
  buf_.reset(new char[cap_]);
  begin_ = end_ = buf_.get();
}

bool CsvParser::fill() {
  if (eof_ || !status_.ok()) return false;
  // Keep the unconsumed bytes (the row in progress) at the front; grow when they fill it.
  const size_t kept = static_cast<size_t>(end_ - begin_);
  if (begin_ != buf_.get()) {
    std::memmove(buf_.get(), begin_, kept);
    begin_ = buf_.get();
    end_ = begin_ + kept;
  }
  if (kept + block_bytes_ > cap_) {
    if (kept >= kMaxRowBytes) {
      status_ =
          Status::Error(fmt::format("{}: line {}: row longer than {} MB (not a CSV file, or a "
                                    "quote that never closes)",
                                    src_.name(), next_line_, kMaxRowBytes >> 20));
      return false;
    }
    const size_t cap = std::max(cap_ * 2, kept + block_bytes_);
    std::unique_ptr<char[]> bigger(new char[cap]);
    std::memcpy(bigger.get(), begin_, kept);
    buf_ = std::move(bigger);
    cap_ = cap;
    begin_ = buf_.get();
    end_ = begin_ + kept;
  }
  auto r = src_.read(end_, cap_ - kept);
  if (!r.ok()) {
    status_ = r.status();
    return false;
  }
  if (*r == 0) {
    eof_ = true;
    return false;
  }
  end_ += *r;
  bytes_read_ += *r;
  return true;
}

bool CsvParser::find_row_end(char** row_end) {
  // Jumps from quote to quote with memchr; the line breaks inside quoted fields are counted
  // once the row is complete (one search over the row, only for rows with quotes).
  char* p = begin_ + scanned_;
  while (p < end_) {
    if (!scan_in_quote_) {
      char* nl = static_cast<char*>(std::memchr(p, '\n', static_cast<size_t>(end_ - p)));
      char* limit = nl != nullptr ? nl : end_;
      char* q = static_cast<char*>(std::memchr(p, '"', static_cast<size_t>(limit - p)));
      if (q == nullptr) {
        if (nl == nullptr) break;
        *row_end = nl;
        if (scan_quoted_) {
          for (char* c = begin_;
               (c = static_cast<char*>(std::memchr(c, '\n', static_cast<size_t>(nl - c)))) !=
               nullptr;
               ++c) {
            ++scan_newlines_;
          }
        }
        return true;
      }
      scan_in_quote_ = scan_quoted_ = true;
      p = q + 1;
    } else {
      char* q = static_cast<char*>(std::memchr(p, '"', static_cast<size_t>(end_ - p)));
      if (q == nullptr) break;
      scan_in_quote_ = false;  // "" inside a quoted field closes and reopens: same result
      p = q + 1;
    }
  }
  scanned_ = static_cast<size_t>(end_ - begin_);
  return false;
}

CsvParser::Next CsvParser::next() {
  while (true) {
    if (!started_) {
      started_ = true;
      while (end_ - begin_ < 3 && fill()) {
      }
      if (end_ - begin_ >= 3 && std::memcmp(begin_, "\xEF\xBB\xBF", 3) == 0) begin_ += 3;
    }
    char* row_end = nullptr;
    bool found = find_row_end(&row_end);
    while (!found && fill()) found = find_row_end(&row_end);
    if (!status_.ok()) return Next::kError;
    if (!found && begin_ == end_) return Next::kEnd;
    char* begin = begin_;
    char* end = found ? row_end : end_;
    terminated_ = found;
    unterminated_quote_ = !found && scan_in_quote_;
    if (!found && scan_quoted_) {  // the last row, cut off: count its line breaks now
      for (char* c = begin;
           (c = static_cast<char*>(std::memchr(c, '\n', static_cast<size_t>(end_ - c)))) != nullptr;
           ++c) {
        ++scan_newlines_;
      }
    }
    line_ = next_line_;
    next_line_ += scan_newlines_ + (found ? 1 : 0);
    begin_ = found ? row_end + 1 : end_;
    scanned_ = 0;
    scan_in_quote_ = scan_quoted_ = false;
    scan_newlines_ = 0;
    if (end > begin && end[-1] == '\r') --end;
    if (end == begin) continue;  // blank line
    const size_t n = static_cast<size_t>(end - begin);
    const unsigned odd = odd_bytes(begin, n);
    // (w - 0x01..) & ~w also flags a byte >= 0x80 after a NUL-free borrow chain: confirm.
    has_nul_ = (odd & 1) != 0 && std::memchr(begin, '\0', n) != nullptr;
    repaired_ = (odd & 2) != 0 ? repair_utf8(begin, n) : 0;
    split(begin, end);
    return Next::kRow;
  }
}

void CsvParser::split(char* p, char* end) {
  fields_.clear();
  while (true) {
    if (p < end && *p == '"') {
      // Quoted: unescape in place ("" → "), then keep any text up to the next comma.
      char* out = p;
      char* start = p;
      ++p;
      while (true) {
        char* q = static_cast<char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
        if (q == nullptr) {  // never closed: the rest of the row is the field
          std::memmove(out, p, static_cast<size_t>(end - p));
          out += end - p;
          p = end;
          break;
        }
        std::memmove(out, p, static_cast<size_t>(q - p));
        out += q - p;
        p = q + 1;
        if (p < end && *p == '"') {
          *out++ = '"';
          ++p;
          continue;
        }
        break;
      }
      while (p < end && *p != ',') *out++ = *p++;
      fields_.emplace_back(start, static_cast<size_t>(out - start));
    } else {
      // Fields are short: a plain loop beats a memchr call per field.
      char* field_end = p;
      while (field_end < end && *field_end != ',') ++field_end;
      fields_.emplace_back(p, static_cast<size_t>(field_end - p));
      p = field_end;
    }
    if (p >= end) return;
    ++p;  // the comma; a comma at the end of the row opens one last, empty field
  }
}

std::vector<std::string_view> csv_header_of(std::string_view head) {
  if (head.size() >= 3 && head.substr(0, 3) == "\xEF\xBB\xBF") head.remove_prefix(3);
  const size_t nl = head.find('\n');
  if (nl != std::string_view::npos) head = head.substr(0, nl);
  if (!head.empty() && head.back() == '\r') head.remove_suffix(1);
  std::vector<std::string_view> out;
  while (true) {
    const size_t comma = head.find(',');
    std::string_view f = head.substr(0, comma);
    while (!f.empty() && (f.front() == ' ' || f.front() == '"')) f.remove_prefix(1);
    while (!f.empty() && (f.back() == ' ' || f.back() == '"' || f.back() == '\t')) {
      f.remove_suffix(1);
    }
    out.push_back(f);
    if (comma == std::string_view::npos) break;
    head.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace huoyan
