#include "src/core/time_format.h"

#include <charconv>
#include <cstring>

namespace huoyan {

__extension__ typedef unsigned __int128 u128;
__extension__ typedef __int128 i128;

size_t format_ns_as_us(int64_t ns, char* out) {
  char* p = out;
  // Work on the magnitude as unsigned so INT64_MIN is representable.
  uint64_t mag = ns < 0 ? uint64_t{0} - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  if (ns < 0) *p++ = '-';
  const uint64_t whole = mag / 1000;
  const auto frac = static_cast<unsigned>(mag % 1000);
  p = std::to_chars(p, p + 21, whole).ptr;
  *p++ = '.';
  *p++ = static_cast<char>('0' + frac / 100);
  *p++ = static_cast<char>('0' + frac / 10 % 10);
  *p++ = static_cast<char>('0' + frac % 10);
  return static_cast<size_t>(p - out);
}

namespace {
// Multiplies `v` by 10 and adds `d` with overflow check on unsigned 128-bit-free arithmetic.
inline bool push_digit(u128& v, unsigned d) {
  v = v * 10 + d;
  return v <= (static_cast<u128>(1) << 100);  // plenty for any int64 result
}
}  // namespace

bool parse_decimal_to_ns(std::string_view s, int64_t unit_ns, int64_t* ns) {
  size_t i = 0;
  const size_t n = s.size();
  bool neg = false;
  if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  u128 mant = 0;
  int digits = 0;
  int frac_digits = 0;
  bool any = false;
  // Leading zeros do not consume precision.
  while (i < n && s[i] >= '0' && s[i] <= '9') {
    if (digits < 27) {
      if (mant != 0 || s[i] != '0') ++digits;
      if (!push_digit(mant, static_cast<unsigned>(s[i] - '0'))) return false;
    } else {
      return false;  // integer part too large for any int64 result
    }
    any = true;
    ++i;
  }
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
      if (digits < 27) {
        if (mant != 0 || s[i] != '0') ++digits;
        if (!push_digit(mant, static_cast<unsigned>(s[i] - '0'))) return false;
        ++frac_digits;
      }  // digits beyond 27 significant ones cannot change an int64 result of ns
      any = true;
      ++i;
    }
  }
  if (!any) return false;
  int exp10 = 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < n && (s[i] == '-' || s[i] == '+')) eneg = s[i++] == '-';
    if (i >= n || s[i] < '0' || s[i] > '9') return false;
    int e = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
      if (e < 10000) e = e * 10 + (s[i] - '0');
      ++i;
    }
    exp10 = eneg ? -e : e;
  }
  if (i != n) return false;
  // value_ns = mant * 10^(exp10 - frac_digits) * unit_ns
  u128 v = mant * static_cast<u128>(unit_ns);
  int shift = exp10 - frac_digits;
  const u128 limit = static_cast<u128>(1) << 64;
  if (v == 0) {
    *ns = 0;
    return true;
  }
  while (shift > 0) {
    v *= 10;
    if (v > limit) return false;
    --shift;
  }
  if (shift < 0) {
    u128 div = 1;
    while (shift < 0 && div < (static_cast<u128>(1) << 120) / 10) {
      div *= 10;
      ++shift;
    }
    if (shift < 0) {
      v = 0;
    } else {
      const u128 q = v / div;
      const u128 r = v % div;
      v = q + (r * 2 >= div ? 1 : 0);  // half away from zero (on the magnitude)
    }
  }
  if (neg) {
    if (v > static_cast<u128>(INT64_MAX) + 1) return false;
    *ns = static_cast<int64_t>(-static_cast<i128>(v));
  } else {
    if (v > static_cast<u128>(INT64_MAX)) return false;
    *ns = static_cast<int64_t>(v);
  }
  return true;
}

bool parse_u64(std::string_view s, uint64_t* value, bool* was_hex) {
  if (was_hex) *was_hex = false;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    auto r = std::from_chars(s.data() + 2, s.data() + s.size(), *value, 16);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return false;
    if (was_hex) *was_hex = true;
    return true;
  }
  auto r = std::from_chars(s.data(), s.data() + s.size(), *value, 10);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace huoyan
