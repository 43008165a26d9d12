#include "src/writers/json_out.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "src/core/time_format.h"

namespace huoyan {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Length of the well-formed UTF-8 sequence starting at p (p[0] >= 0x80), or, when it is
// ill-formed, minus the length of its maximal subpart (the bytes to replace by one U+FFFD, as
// Unicode §3.9 and the WHATWG decoder do). Never returns 0.
inline int utf8_sequence(const unsigned char* p, const unsigned char* end) {
  const unsigned c = p[0];
  int n;
  unsigned lo = 0x80, hi = 0xBF;  // range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return -1;  // continuation byte alone, C0/C1 (overlong), F5..FF
  }
  const ptrdiff_t avail = end - p;
  if (avail < 2 || p[1] < lo || p[1] > hi) return -1;
  for (int k = 2; k < n; ++k) {
    if (k >= avail || (p[k] & 0xC0) != 0x80) return -k;
  }
  return n;
}

// Index of the first byte in [p, end) that is not plain printable ASCII other than '"' and
// '\\' — i.e. that needs escaping or UTF-8 checking — or end. DEL (0x7f) is escaped too: JSON
// allows it raw, but Perfetto's trace tokenizer rejects every iscntrl() byte inside strings.
inline const unsigned char* find_special(const unsigned char* p, const unsigned char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i del = _mm_set1_epi8(0x7f);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed compare: bytes >= 0x80 are negative, so "< 0x20" also catches non-ASCII.
    const __m128i m =
        _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)),
                     _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(m));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
#else
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    const uint64_t q = w ^ (kOnes * '"');
    const uint64_t b = w ^ (kOnes * '\\');
    const uint64_t d = w ^ (kOnes * 0x7f);
    // Classic has-zero / has-less tests. Borrows only propagate upwards, so the lowest flagged
    // byte is exact (assumes little endian; big endian falls back to the byte loop below).
    const uint64_t t = ((w - kOnes * 0x20) | (q - kOnes) | (b - kOnes) | (d - kOnes) | w) & kHigh;
    if (t != 0) {
      if constexpr (std::endian::native == std::endian::little) {
        return p + (__builtin_ctzll(t) >> 3);
      } else {
        break;
      }
    }
    p += 8;
  }
#endif
  while (p < end && *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') ++p;
  return p;
}

constexpr char kHex[] = "0123456789abcdef";

inline void put_escape(BufferedOut& out, unsigned char c) {
  char* d = out.reserve(6);
  switch (c) {
    case '"':
      d[0] = '\\';
      d[1] = '"';
      out.commit(2);
      return;
    case '\\':
      d[0] = '\\';
      d[1] = '\\';
      out.commit(2);
      return;
    case '\n':
      d[0] = '\\';
      d[1] = 'n';
      out.commit(2);
      return;
    case '\t':
      d[0] = '\\';
      d[1] = 't';
      out.commit(2);
      return;
    case '\r':
      d[0] = '\\';
      d[1] = 'r';
      out.commit(2);
      return;
    case '\b':
      d[0] = '\\';
      d[1] = 'b';
      out.commit(2);
      return;
    case '\f':
      d[0] = '\\';
      d[1] = 'f';
      out.commit(2);
      return;
    default:
      std::memcpy(d, "\\u00", 4);
      d[4] = kHex[c >> 4];
      d[5] = kHex[c & 15];
      out.commit(6);
  }
}

}  // namespace

void json_string(BufferedOut& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  // Common case: short clean string, one reservation and one copy including both quotes.
  const unsigned char* q = find_special(p, end);
  if (q == end && s.size() + 2 <= out.capacity()) {
    char* d = out.reserve(s.size() + 2);
    d[0] = '"';
    if (!s.empty()) std::memcpy(d + 1, s.data(), s.size());  // data() may be null when empty
    d[s.size() + 1] = '"';
    out.commit(s.size() + 2);
    return;
  }
  out.put('"');
  const unsigned char* run = p;  // start of the bytes that are copied as they are
  p = q;
  while (p < end) {
    const unsigned c = *p;
    if (c >= 0x80) {
      const int n = utf8_sequence(p, end);
      if (n > 0) {
        p += n;  // valid multibyte sequence: part of the clean run
      } else {
        out.put(std::string_view(reinterpret_cast<const char*>(run), p - run));
        out.put(std::string_view(kReplacement, 3));
        p += -n;
        run = p;
      }
    } else {
      out.put(std::string_view(reinterpret_cast<const char*>(run), p - run));
      put_escape(out, static_cast<unsigned char>(c));
      run = ++p;
    }
    p = find_special(p, end);
  }
  out.put(std::string_view(reinterpret_cast<const char*>(run), end - run));
  out.put('"');
}

void json_int(BufferedOut& out, int64_t v) {
  char* d = out.reserve(24);
  out.commit(static_cast<size_t>(std::to_chars(d, d + 24, v).ptr - d));
}

void json_uint(BufferedOut& out, uint64_t v) {
  char* d = out.reserve(24);
  out.commit(static_cast<size_t>(std::to_chars(d, d + 24, v).ptr - d));
}

void json_double(BufferedOut& out, double v) {
  if (!std::isfinite(v)) {
    out.put(std::string_view("null"));
    return;
  }
  // Shortest round-trip form; always a valid JSON number ("1e+20", "-0", "0.1").
  char* d = out.reserve(32);
  out.commit(static_cast<size_t>(std::to_chars(d, d + 32, v).ptr - d));
}

void json_us(BufferedOut& out, int64_t ns) {
  char* d = out.reserve(24);
  out.commit(format_ns_as_us(ns, d));
}

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const int n = utf8_sequence(p, end);
    if (n < 0) return false;
    p += n;
  }
  return true;
}

}  // namespace huoyan
