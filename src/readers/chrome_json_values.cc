#include "src/readers/chrome_json_values.h"

#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "src/core/time_format.h"

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

error_code read_key(od::field& fld, std::string_view* key) {
  // raw() points just after the opening quote. The closing quote is found backwards from the
  // value, past the ':' (stage 1 has validated the structure), which for short keys is much
  // cheaper than a forward scan.
  const char* p = fld.key().raw();
  const char* q = fld.value().raw_json_token().data() - 1;
  while (is_ws(*q)) --q;
  if (*q == ':') {
    --q;
    while (is_ws(*q)) --q;
    if (*q == '"' && q >= p) {
      const auto n = static_cast<size_t>(q - p);
      if (std::memchr(p, '\\', n) == nullptr) {
        *key = std::string_view(p, n);
        return SUCCESS;
      }
    }
  }
  return fld.unescaped_key().get(*key);
}

bool parse_us_to_ns(std::string_view s, int64_t* ns) {
  // Fast path for the common shape [-]digits[.ddd] with at most 16 integer digits, so that the
  // ns value (19 digits at most) fits in uint64 and needs no 128-bit arithmetic.
  const char* p = s.data();
  const char* e = p + s.size();
  const bool neg = p < e && *p == '-';
  if (neg) ++p;
  const char* digits = p;
  uint64_t v = 0;
  while (p < e && *p >= '0' && *p <= '9') v = v * 10 + static_cast<uint64_t>(*p++ - '0');
  const auto int_digits = p - digits;
  if (int_digits > 0 && int_digits <= 16) {
    int frac = 0;
    bool ok = true;
    if (p < e && *p == '.') {
      ++p;
      while (p < e && frac < 3 && *p >= '0' && *p <= '9') {
        v = v * 10 + static_cast<uint64_t>(*p++ - '0');
        ++frac;
      }
      ok = frac > 0;  // "1." is no number: the general parser rejects it
    }
    if (ok && p == e) {
      for (; frac < 3; ++frac) v *= 10;
      if (v <= static_cast<uint64_t>(INT64_MAX)) {
        *ns = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
        return true;
      }
    }
  }
  return parse_decimal_to_ns(s, 1000, ns);
}

namespace {

// True when `s` is a number by the JSON grammar (so it can be written back verbatim).
bool is_json_number(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  auto digits = [&] {
    const size_t from = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    return i > from;
  };
  if (i < n && s[i] == '-') ++i;
  if (i < n && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == n;
}

// A JSON number token as an ArgValue: integers exact, decimals as doubles, anything beyond
// both (or not a number after all) as its text.
ArgValue number_arg(std::string_view raw) {
  const char* b = raw.data();
  const char* e = b + raw.size();
  bool integral = true;
  for (const char* p = b; p < e; ++p) {
    if (*p == '.' || *p == 'e' || *p == 'E') {
      integral = false;
      break;
    }
  }
  if (integral) {
    int64_t i;
    auto r = std::from_chars(b, e, i);
    if (r.ec == std::errc() && r.ptr == e) return ArgValue::Int(i);
    uint64_t u;
    r = std::from_chars(b, e, u);
    if (r.ec == std::errc() && r.ptr == e) return ArgValue::Uint(u);
  } else {
    double d;
    auto r = std::from_chars(b, e, d);
    if (r.ec == std::errc() && r.ptr == e) return ArgValue::Double(d);
  }
  // 1e999, 40-digit integers: the number verbatim; not a number after all: its text.
  return is_json_number(raw) ? ArgValue::Json(raw) : ArgValue::String(raw);
}

}  // namespace

// Any JSON value as an ArgValue; strings and raw JSON point into the parser or the input.
// Dispatches on the first byte of the token rather than asking simdjson for the type.
error_code read_arg_value(od::value& v, ArgValue* out) {
  const std::string_view raw = trim_ws(v.raw_json_token());
  if (raw.empty()) return simdjson::TAPE_ERROR;
  switch (raw[0]) {
    case '"': {
      if (raw.size() >= 2 && raw.back() == '"' &&
          std::memchr(raw.data(), '\\', raw.size()) == nullptr) {
        *out = ArgValue::String(raw.substr(1, raw.size() - 2));
        return SUCCESS;
      }
      std::string_view s;
      if (v.get_string().get(s) != SUCCESS) {
        s = raw.size() >= 2 ? raw.substr(1, raw.size() - 2) : raw;  // bad escape: keep as is
      }
      *out = ArgValue::String(s);
      return SUCCESS;
    }
    case '{': {
      od::object o;
      std::string_view text;
      error_code e = v.get_object().get(o);
      if (e == SUCCESS) e = o.raw_json().get(text);
      if (e != SUCCESS) return e;
      *out = ArgValue::Json(trim_ws(text));
      return SUCCESS;
    }
    case '[': {
      od::array a;
      std::string_view text;
      error_code e = v.get_array().get(a);
      if (e == SUCCESS) e = a.raw_json().get(text);
      if (e != SUCCESS) return e;
      *out = ArgValue::Json(trim_ws(text));
      return SUCCESS;
    }
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
      *out = number_arg(raw);
      return SUCCESS;
    default:
      if (raw == "true" || raw == "false") {
        *out = ArgValue::Bool(raw[0] == 't');
      } else if (raw == "null") {
        *out = ArgValue();
      } else {
        *out = ArgValue::String(raw);  // not JSON at all (NaN, Infinity…): kept as its text
      }
      return SUCCESS;
  }
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
