#include "src/readers/json_stream.h"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace huoyan {
namespace {

constexpr size_t kNotFound = SIZE_MAX;
constexpr size_t kCompressedReadBytes = size_t{256} << 10;

inline bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Bytes that end a bare token (number, literal or garbage).
inline bool ends_token(char c) {
  switch (c) {
    case ',':
    case ']':
    case '}':
    case ':':
    case '{':
    case '[':
    case '"':
    case ' ':
    case '\n':
    case '\r':
    case '\t':
      return true;
    default:
      return false;
  }
}

// Handles one interesting byte (quote, backslash or bracket) at index i of a 16-byte run.
// Returns true when it completes the value. `mask` holds the remaining interesting bytes of the
// run; an escaped byte is removed from it, or carried to the next run through st.escape.
inline bool step(char c, unsigned b, unsigned run_len, uint32_t& mask, JsonScanState& st) {
  if (st.in_string) {
    if (c == '\\') {
      if (b + 1 < run_len) {
        mask &= ~(uint32_t{2} << b);
      } else {
        st.escape = true;
      }
    } else if (c == '"') {
      st.in_string = false;
      return st.depth == 0;
    }
    return false;
  }
  switch (c) {
    case '"':
      st.in_string = true;
      return false;
    case '{':
    case '[':
      if (++st.depth > st.max_depth) st.max_depth = st.depth;
      return false;
    case '}':
    case ']':
      if (--st.depth <= 0) {
        st.depth = 0;
        return true;
      }
      return false;
    default:  // a backslash outside a string: invalid JSON, left to the parser to reject
      return false;
  }
}

}  // namespace

namespace {

// Feeds the interesting bytes of one run (bits of `mask`) to the state machine. Returns the
// index one past the byte that completes the value, or kNotFound.
inline size_t run_bits(const char* p, size_t i, unsigned run_len, uint32_t mask,
                       JsonScanState& st) {
  if (run_len < 32) mask &= (uint32_t{1} << run_len) - 1;
  if (st.escape) {
    mask &= ~uint32_t{1};
    st.escape = false;
  }
  while (mask != 0) {
    const auto b = static_cast<unsigned>(__builtin_ctz(mask));
    mask &= mask - 1;
    if (step(p[i + b], b, run_len, mask, st)) return i + b + 1;
  }
  return kNotFound;
}

}  // namespace

size_t scan_json_value_portable(const char* p, size_t n, JsonScanState& st) {
  for (size_t i = 0; i < n; i += 16) {
    const auto run_len = static_cast<unsigned>(std::min<size_t>(16, n - i));
#if defined(__SSE2__)
    // One bit per byte that matters to the state machine; everything else is skipped 16 bytes
    // at a time.
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    __m128i m = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('{')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('}')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('[')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8(']')));
    const auto mask = static_cast<uint32_t>(_mm_movemask_epi8(m));
#else
    uint32_t mask = 0;
    for (unsigned k = 0; k < run_len; ++k) {
      const char c = p[i + k];
      if (c == '"' || c == '\\' || c == '{' || c == '}' || c == '[' || c == ']') {
        mask |= uint32_t{1} << k;
      }
    }
#endif
    const size_t r = run_bits(p, i, run_len, mask, st);
    if (r != kNotFound) return r;
  }
  return kNotFound;
}

namespace {

#if defined(__x86_64__) && defined(__GNUC__)
#define HUOYAN_SCAN_AVX2 1
// The same with 32-byte runs, chosen at run time on CPUs that have AVX2.
__attribute__((target("avx2"))) size_t scan_avx2(const char* p, size_t n, JsonScanState& st) {
  for (size_t i = 0; i < n; i += 32) {
    const auto run_len = static_cast<unsigned>(std::min<size_t>(32, n - i));
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    __m256i m = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('"'));
    m = _mm256_or_si256(m, _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\')));
    m = _mm256_or_si256(m, _mm256_cmpeq_epi8(v, _mm256_set1_epi8('{')));
    m = _mm256_or_si256(m, _mm256_cmpeq_epi8(v, _mm256_set1_epi8('}')));
    m = _mm256_or_si256(m, _mm256_cmpeq_epi8(v, _mm256_set1_epi8('[')));
    m = _mm256_or_si256(m, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(']')));
    const auto mask = static_cast<uint32_t>(_mm256_movemask_epi8(m));
    const size_t r = run_bits(p, i, run_len, mask, st);
    if (r != kNotFound) return r;
  }
  return kNotFound;
}
#endif

}  // namespace

size_t scan_json_value(const char* p, size_t n, JsonScanState& st) {
#if defined(HUOYAN_SCAN_AVX2)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return scan_avx2(p, n, st);
#endif
  return scan_json_value_portable(p, n, st);
}

JsonStream::JsonStream(ByteSource& src, size_t block_bytes, size_t max_value_bytes)
    : src_(src),
      block_bytes_(std::max<size_t>(1, block_bytes)),
      max_value_bytes_(std::max<size_t>(1, max_value_bytes)) {}

bool JsonStream::refill(size_t keep_from) {
  if (eof_ || !status_.ok()) return false;
  const size_t keep = end_ - keep_from;
  if (keep_from > 0) {
    std::memmove(buf_.get(), buf_.get() + keep_from, keep);
    base_ += keep_from;
    pos_ = pos_ >= keep_from ? pos_ - keep_from : 0;
    end_ = keep;
  }
  const size_t free = cap_ - end_;
  if (!buf_ || free == 0 || (cap_ >= block_bytes_ && free < block_bytes_ / 2)) {
    size_t new_cap;
    if (!buf_) {
      // A small file gets a small buffer: no 8 MB allocation to read 1 KB.
      new_cap = block_bytes_;
      const uint64_t size = src_.file_size();
      const uint64_t at = src_.file_position();
      if (!src_.compressed() && size > at) {
        new_cap = static_cast<size_t>(std::clamp<uint64_t>(size - at + 1, 4096, block_bytes_));
      }
    } else if (cap_ < block_bytes_) {
      new_cap = std::min(cap_ * 2, block_bytes_);
    } else {
      // The carried-over value fills most of the buffer: grow so a block fits beside it.
      new_cap = std::max(cap_ * 2, end_ + block_bytes_);
    }
    std::unique_ptr<char[]> bigger(new char[new_cap + kPadding]);
    // The scanner's vector loads may read up to 32 bytes past the data; their bits are masked
    // off, but the padding is zeroed so they never read uninitialised memory past the end.
    std::memset(bigger.get() + new_cap, 0, kPadding);
    if (end_ > 0) std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    cap_ = new_cap;
  }
  if (before_read_) before_read_();
  size_t want = std::min(block_bytes_, cap_ - end_);
  // A gzip source fills the whole request before returning, and a truncated stream (a process
  // that died while writing) fails the call that reaches the cut, losing what it had decoded:
  // small requests bound that loss.
  if (src_.compressed()) want = std::min(want, kCompressedReadBytes);
  auto r = src_.read(buf_.get() + end_, want);
  if (!r.ok()) {
    status_ = r.status();
    return false;
  }
  if (*r == 0) {
    eof_ = true;
    return false;
  }
  end_ += *r;
  return true;
}

void JsonStream::skip_bom() {
  while (end_ - pos_ < 3 && refill(pos_)) {
  }
  if (end_ - pos_ >= 3 && std::memcmp(buf_.get() + pos_, "\xEF\xBB\xBF", 3) == 0) pos_ += 3;
}

int JsonStream::peek() {
  while (true) {
    while (pos_ < end_) {
      const char c = buf_[pos_];
      if (!is_ws(c)) return static_cast<unsigned char>(c);
      ++pos_;
    }
    if (!refill(end_)) return -1;
  }
}

JsonStream::Scan JsonStream::scan(bool keep, Value* out) {
  *out = Value();
  if (pos_ >= end_ && peek() < 0) return status_.ok() ? Scan::kTruncated : Scan::kError;
  out->offset = offset();
  const char first = buf_[pos_];
  const bool structured = first == '{' || first == '[' || first == '"';
  if (!structured && ends_token(first)) {
    // A stray delimiter: one byte, so that callers always make progress.
    if (keep) {
      out->text = std::string_view(buf_.get() + pos_, 1);
      out->capacity = cap_ + kPadding - pos_;
    }
    ++pos_;
    return Scan::kComplete;
  }
  size_t start = pos_;  // first byte of the value in the buffer (unless dropping)
  size_t from = pos_;   // where scanning resumes
  bool dropping = !keep;
  bool too_large = false;
  JsonScanState st;
  while (true) {
    size_t done = kNotFound;
    if (structured) {
      const size_t r = scan_json_value(buf_.get() + from, end_ - from, st);
      if (r != kNotFound) done = from + r;
    } else {
      size_t i = from;
      while (i < end_ && !ends_token(buf_[i])) ++i;
      if (i < end_) done = i;
    }
    if (done != kNotFound) {
      pos_ = done;
      out->max_depth = st.max_depth;
      if (too_large) return Scan::kTooLarge;
      if (keep) {
        out->text = std::string_view(buf_.get() + start, done - start);
        out->capacity = cap_ + kPadding - start;
      }
      return Scan::kComplete;
    }
    if (!dropping && end_ - start > max_value_bytes_) {
      dropping = true;
      too_large = true;
    }
    // Keep the value's bytes when it is kept; otherwise everything scanned can go. Positions
    // are tracked as absolute offsets because refill() moves the buffer's contents.
    const size_t keep_from = dropping ? end_ : start;
    const uint64_t start_abs = base_ + keep_from;
    const uint64_t resume_abs = base_ + end_;
    pos_ = keep_from;
    const bool more = refill(keep_from);
    start = static_cast<size_t>(start_abs - base_);
    from = static_cast<size_t>(resume_abs - base_);
    if (!more) {
      pos_ = end_;
      out->max_depth = st.max_depth;
      if (!status_.ok()) return Scan::kError;
      if (too_large) return Scan::kTooLarge;
      if (structured) return Scan::kTruncated;
      // A bare token ends with the input.
      if (keep) {
        out->text = std::string_view(buf_.get() + start, end_ - start);
        out->capacity = cap_ + kPadding - start;
      }
      return Scan::kComplete;
    }
  }
}

}  // namespace huoyan
