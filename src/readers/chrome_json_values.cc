#include "src/readers/chrome_json_values.h"

#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace huoyan {
namespace chrome_json {

bool parse_i64(std::string_view s, int64_t* v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

error_code read_scalar(od::value& v, Scalar* out) {
  out->present = true;
  const std::string_view raw = trim_ws(v.raw_json_token());
  if (raw.empty()) return simdjson::TAPE_ERROR;
  if (raw[0] == '"') {
    out->is_string = true;
    if (raw.size() >= 2 && raw.back() == '"' &&
        std::memchr(raw.data(), '\\', raw.size()) == nullptr) {
      out->text = raw.substr(1, raw.size() - 2);  // no escapes: the bytes are the text
      return SUCCESS;
    }
    return v.get_string().get(out->text);
  }
  out->is_container = raw[0] == '{' || raw[0] == '[';
  out->text = raw;
  return SUCCESS;
}

// Any JSON value as an ArgValue; strings and raw JSON point into the parser or the input.
error_code read_arg_value(od::value& v, ArgValue* out) {
  od::json_type t;
  if (v.type().get(t) != SUCCESS) {
    // Not a JSON value at all (NaN, Infinity, garbage): kept as the text it was.
    *out = ArgValue::String(trim_ws(v.raw_json_token()));
    return SUCCESS;
  }
  switch (t) {
    case od::json_type::number: {
      const std::string_view raw = trim_ws(v.raw_json_token());
      od::number_type nt;
      if (v.get_number_type().get(nt) == SUCCESS) {
        if (nt == od::number_type::signed_integer) {
          int64_t i;
          if (v.get_int64().get(i) == SUCCESS) {
            *out = ArgValue::Int(i);
            return SUCCESS;
          }
        } else if (nt == od::number_type::unsigned_integer) {
          uint64_t u;
          if (v.get_uint64().get(u) == SUCCESS) {
            *out = ArgValue::Uint(u);
            return SUCCESS;
          }
        } else {
          double d;
          if (v.get_double().get(d) == SUCCESS) {
            *out = ArgValue::Double(d);
            return SUCCESS;
          }
        }
      }
      // Beyond 64-bit integers or doubles (1e999, 40-digit integers): the number verbatim.
      *out = ArgValue::Json(raw);
      return SUCCESS;
    }
    case od::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s) != SUCCESS) {
        const std::string_view raw = trim_ws(v.raw_json_token());
        s = raw.size() >= 2 ? raw.substr(1, raw.size() - 2) : raw;  // bad escape: keep as is
      }
      *out = ArgValue::String(s);
      return SUCCESS;
    }
    case od::json_type::boolean: {
      bool b;
      if (v.get_bool().get(b) == SUCCESS) {
        *out = ArgValue::Bool(b);
      } else {
        *out = ArgValue::String(trim_ws(v.raw_json_token()));
      }
      return SUCCESS;
    }
    case od::json_type::null:
      *out = ArgValue();
      return SUCCESS;
    case od::json_type::object: {
      od::object o;
      std::string_view raw;
      error_code e = v.get_object().get(o);
      if (e == SUCCESS) e = o.raw_json().get(raw);
      if (e != SUCCESS) return e;
      *out = ArgValue::Json(trim_ws(raw));
      return SUCCESS;
    }
    case od::json_type::array: {
      od::array a;
      std::string_view raw;
      error_code e = v.get_array().get(a);
      if (e == SUCCESS) e = a.raw_json().get(raw);
      if (e != SUCCESS) return e;
      *out = ArgValue::Json(trim_ws(raw));
      return SUCCESS;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

// Text form of an arg, for "M" entries kept as process labels.
std::string arg_text(const ArgValue& v) {
  switch (v.type) {
    case ArgType::kNull:
      return "null";
    case ArgType::kBool:
      return v.b ? "true" : "false";
    case ArgType::kInt:
      return std::to_string(v.i);
    case ArgType::kUint:
      return std::to_string(v.u);
    case ArgType::kDouble:
      return fmt::format("{}", v.d);
    case ArgType::kString:
    case ArgType::kJson:
      return std::string(v.s);
  }
  return "";
}

}  // namespace chrome_json
}  // namespace huoyan
