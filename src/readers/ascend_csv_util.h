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
inline ArgValue typed_cell(std::string_view s) {
  const char c = s.front();
  if ((c >= '0' && c <= '9') || c == '-') {
    int64_t i;
    auto r = std::from_chars(s.data(), s.data() + s.size(), i);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return ArgValue::Int(i);
    double d;
    auto rd = std::from_chars(s.data(), s.data() + s.size(), d);
    if (rd.ec == std::errc() && rd.ptr == s.data() + s.size()) return ArgValue::Double(d);
  }
  return ArgValue::String(s);
}

// Appends `s` to `out` as a JSON string literal.
void append_json_string(std::string& out, std::string_view s);

}  // namespace ascend_csv
}  // namespace huoyan
