#include "src/readers/json_repair.h"

#include <cstdint>

namespace huoyan {
namespace {

inline bool is_cont(uint8_t c) { return (c & 0xC0) == 0x80; }

// Length of the well-formed sequence starting at p[i], or 0 if it is not one.
inline size_t utf8_sequence(const uint8_t* p, size_t i, size_t n) {
  const uint8_t c = p[i];
  if (c < 0x80) return 1;
  size_t len;
  uint8_t lo = 0x80;
  uint8_t hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > n) return 0;
  if (p[i + 1] < lo || p[i + 1] > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (!is_cont(p[i + k])) return 0;
  }
  return len;
}

}  // namespace

size_t repair_utf8(char* text, size_t n) {
  auto* p = reinterpret_cast<uint8_t*>(text);
  size_t replaced = 0;
  size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const size_t len = utf8_sequence(p, i, n);
    if (len == 0) {
      p[i++] = '?';
      ++replaced;
    } else {
      i += len;
    }
  }
  return replaced;
}

size_t repair_string_controls(char* p, size_t n) {
  size_t replaced = 0;
  bool in_string = false;
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<uint8_t>(p[i]);
    if (!in_string) {
      if (c == '"') in_string = true;
      continue;
    }
    if (c == '\\') {
      ++i;  // the escaped byte is never a delimiter
      if (i < n && static_cast<uint8_t>(p[i]) < 0x20) {
        // A backslash before a raw control byte is no valid escape either: replace both.
        p[i - 1] = '?';
        p[i] = '?';
        replaced += 2;
      }
    } else if (c == '"') {
      in_string = false;
    } else if (c < 0x20) {
      p[i] = (c == '\t' || c == '\n' || c == '\r') ? ' ' : '?';
      ++replaced;
    }
  }
  return replaced;
}

}  // namespace huoyan
