// simdjson On-Demand helpers shared by the Chrome JSON decoders: scalar fields as text, args
// as ArgValues. Internal to src/readers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "src/core/event.h"

namespace huoyan {
namespace chrome_json {

namespace od = simdjson::ondemand;
using simdjson::error_code;
using simdjson::SUCCESS;

inline bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

inline std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

// Exact int64 from the whole text (an optional '-', digits, nothing else).
bool parse_i64(std::string_view s, int64_t* v);

uint64_t fnv1a(std::string_view s);

// A scalar field as text: the unescaped content of a string, or the raw token otherwise.
struct Scalar {
  bool present = false;
  bool is_string = false;
  bool is_container = false;  // an object or array where a scalar was expected
  std::string_view text;
};

// The unescaped key of a field; keys without escapes are returned as the input's bytes.
error_code read_key(od::field& fld, std::string_view* key);

// Microseconds given as JSON number text ("1704161511420306.491", "-1.5", "1e3") to exact ns:
// parse_decimal_to_ns(s, 1000, ns) with a fast path for plain decimals of up to 3 places.
bool parse_us_to_ns(std::string_view s, int64_t* ns);

// Reads a field that should be a scalar. Strings are unescaped (views into the parser's string
// buffer or the input, valid until the next parse); numbers and literals are their raw token,
// so numeric text keeps every digit.
error_code read_scalar(od::value& v, Scalar* out);

// Any JSON value as an ArgValue: integers exact (kInt/kUint), other numbers kDouble, numbers
// beyond both as kJson text, strings unescaped, nested objects/arrays as their raw JSON text,
// tokens that are not JSON (NaN) as kString. Text points into the parser or the input.
error_code read_arg_value(od::value& v, ArgValue* out);

// Text form of an arg (for metadata kept as text).
std::string arg_text(const ArgValue& v);

// Integer value of an arg holding a non-negative integer (field moves: correlation, step).
inline bool arg_u64(const ArgValue& v, uint64_t* out) {
  if (v.type == ArgType::kUint) {
    *out = v.u;
    return true;
  }
  if (v.type == ArgType::kInt && v.i >= 0) {
    *out = static_cast<uint64_t>(v.i);
    return true;
  }
  return false;
}

}  // namespace chrome_json
}  // namespace huoyan
