// Helpers shared by the Ascend CSV readers. Internal to src/readers.
#pragma once

#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/event.h"

namespace huoyan {
namespace ascend_csv {

inline bool is_cell_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// A cell without surrounding whitespace (the TAB msprof appends to times) and without the
// literal quotes msprof puts around shapes ("\"8192,512\"" → 8192,512).
inline std::string_view clean_cell(std::string_view s) {
  while (!s.empty() && is_cell_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_cell_space(s.back())) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    s = s.substr(1, s.size() - 2);
  }
  return s;
}

// "N/A" and empty cells carry no value.
inline bool is_missing(std::string_view s) { return s.empty() || s == "N/A"; }

inline bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Index of the first header matching one of `names` (ignoring case), or -1.
inline int find_column(const std::vector<std::string>& header,
                       std::initializer_list<std::string_view> names) {
  for (const std::string_view n : names) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (iequal(header[i], n)) return static_cast<int>(i);
    }
  }
  return -1;
}

// A cell as a typed arg value: integers exact, other numbers as doubles, the rest as text.
// Written in place: returning the 40-byte value and copying it stalls on store forwarding.
// Plain decimals ("0.824", "-12.5") take a fast path that is still correctly rounded: a
// mantissa below 2^53 divided by an exact power of ten (at most 10^22) is one IEEE division.
inline void typed_cell(std::string_view s, ArgValue* out) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  out->s = {};
  const char c = s.front();
  const size_t n = s.size();
  if ((c >= '0' && c <= '9') || c == '-') {
    size_t i = c == '-' ? 1 : 0;
    uint64_t m = 0;
    int digits = 0, frac = -1;
    for (; i < n; ++i) {
      const char d = s[i];
      if (d >= '0' && d <= '9') {
        if (++digits > 18) break;
        m = m * 10 + static_cast<uint64_t>(d - '0');
        if (frac >= 0) ++frac;
      } else if (d == '.' && frac < 0) {
        frac = 0;
      } else {
        break;
      }
    }
    if (i == n && digits > 0 && frac < 0) {
      out->type = ArgType::kInt;
      out->i = c == '-' ? -static_cast<int64_t>(m) : static_cast<int64_t>(m);
      return;
    }
    if (i == n && digits > 0 && frac > 0 && m < (uint64_t{1} << 53) && frac <= 22) {
      const double v = static_cast<double>(m) / kPow10[frac];
      out->type = ArgType::kDouble;
      out->d = c == '-' ? -v : v;
      return;
    }
    auto r = std::from_chars(s.data(), s.data() + n, out->i);
    if (r.ec == std::errc() && r.ptr == s.data() + n) {
      out->type = ArgType::kInt;
      return;
    }
    auto rd = std::from_chars(s.data(), s.data() + n, out->d);
    if (rd.ec == std::errc() && rd.ptr == s.data() + n) {
      out->type = ArgType::kDouble;
      return;
    }
  }
  out->type = ArgType::kString;
  out->i = 0;
  out->s = s;
}

// True when `s` is a JSON number as written (so it can be copied into JSON unchanged).
inline bool is_json_number(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i >= n || s[i] < '0' || s[i] > '9') return false;
  if (s[i] == '0' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9') return false;
  while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
  if (i < n && s[i] == '.') {
    ++i;
    if (i >= n || s[i] < '0' || s[i] > '9') return false;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= n || s[i] < '0' || s[i] > '9') return false;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
  }
  return i == n;
}

// Appends `s` to `out` as a JSON string literal.
void append_json_string(std::string& out, std::string_view s);

}  // namespace ascend_csv
}  // namespace huoyan
