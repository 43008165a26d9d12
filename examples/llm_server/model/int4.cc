#include "model/int4.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "model/simd.h"

namespace llm {
namespace {

constexpr int kTileN = 4;   // Output columns sharing one pass over a row of x.
constexpr int kTileM = 16;  // Rows of x per pass over the unpacked weights (keeps x in cache).
constexpr int kLanes = 8;   // Independent partial sums per output (vectorizes, hides latency).
constexpr int kChunk = 32;  // Weights per 16-byte packed chunk.

// Position of element k (within its row) in the packed data: byte offset and nibble shift.
// Chunk c covers elements [32c, 32c + 32); its native-endian 32-bit word j holds element
// 32c + 4s + j in nibble s.
struct NibblePos {
  size_t word;
  int shift;
};
inline NibblePos nibble_pos(int k) {
  const int c = k / kChunk, r = k % kChunk;
  return {static_cast<size_t>(c) * 4 + r % 4, 4 * (r / 4)};
}

using simd::f4;
using simd::load4;

// Unpacks one weight row (see the layout in int4.h) to floats centred on zero, q - 8: the group
// epilogue then subtracts (zero - 8), which is small, instead of the full zero point, which keeps
// cancellation low. Pure 32-bit lane operations: one 16-byte load yields 32 weights.
void unpack_row(const uint8_t* p, int cols, float* out) {
  typedef uint32_t u4 __attribute__((vector_size(16)));
  for (int k0 = 0; k0 < cols; k0 += kChunk) {
    u4 w;
    std::memcpy(&w, p + k0 / 2, sizeof w);
#pragma GCC unroll 8
    for (int s = 0; s < 8; ++s) {
      const simd::i4 v = reinterpret_cast<simd::i4>((w >> (4 * s)) & 15u) - 8;
      const f4 f = __builtin_convertvector(v, f4);
      std::memcpy(out + k0 + 4 * s, &f, sizeof f);
    }
  }
}

// Sum of x over each group of each row; shared by every output column of the slice.
void group_sums(const float* x, int x_stride, int m_rows, int cols, int g, float* out) {
  const int groups = cols / g;
  for (int m = 0; m < m_rows; ++m) {
    const float* xr = x + static_cast<size_t>(m) * x_stride;
    for (int gi = 0; gi < groups; ++gi) {
      f4 a = {}, b = {};
      for (int k = gi * g; k < (gi + 1) * g; k += kLanes) {
        a += load4(xr + k);
        b += load4(xr + k + 4);
      }
      out[m * groups + gi] = simd::hsum(a, b);
    }
  }
}

// Computes NC output columns for rows [m0, m1). q holds the NC unpacked weight rows.
template <int NC>
void gemm_tile(const float* x, int x_stride, int m0, int m1, const float* xsum, int cols, int g,
               const float* q, const float* const* scale, const float* const* zero, float* y,
               int y_stride, bool accumulate) {
  const int groups = cols / g;
  for (int m = m0; m < m1; ++m) {
    const float* xr = x + static_cast<size_t>(m) * x_stride;
    const float* xs = xsum + static_cast<size_t>(m) * groups;
    f4 acc_a[NC] = {}, acc_b[NC] = {};
    float corr[NC] = {};
    for (int gi = 0; gi < groups; ++gi) {
      const int k0 = gi * g;
      f4 da[NC] = {}, db[NC] = {};
      for (int k = k0; k < k0 + g; k += kLanes) {
        const f4 xa = load4(xr + k);
        const f4 xb = load4(xr + k + 4);
#pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) {
          const float* qc = q + static_cast<size_t>(c) * cols + k;
          da[c] += xa * load4(qc);
          db[c] += xb * load4(qc + 4);
        }
      }
      // Group epilogue: apply this group's scale and zero point.
#pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) {
        const float s = scale[c][gi];
        acc_a[c] += s * da[c];
        acc_b[c] += s * db[c];
        corr[c] += s * (zero[c][gi] - 8.0f) * xs[gi];
      }
    }
    float* yr = y + static_cast<size_t>(m) * y_stride;
    for (int c = 0; c < NC; ++c) {
      const float v = simd::hsum(acc_a[c], acc_b[c]) - corr[c];
      yr[c] = accumulate ? yr[c] + v : v;
    }
  }
}

}  // namespace

Int4Matrix quantize_int4(const float* w, int rows, int cols, int group_size) {
  if (rows < 0 || cols <= 0 || group_size < kChunk || group_size % kChunk != 0 ||
      cols % group_size != 0) {
    throw std::invalid_argument(
        "quantize_int4: group_size must be a multiple of 32 and divide cols");
  }
  Int4Matrix q;
  q.rows = rows;
  q.cols = cols;
  q.group_size = group_size;
  const int groups = cols / group_size;
  q.packed.assign(static_cast<size_t>(rows) * cols / 2, 0);
  std::vector<uint32_t> words(cols / 8);
  q.scales.resize(static_cast<size_t>(rows) * groups);
  q.zeros.resize(static_cast<size_t>(rows) * groups);
  for (int n = 0; n < rows; ++n) {
    for (int gi = 0; gi < groups; ++gi) {
      const float* src = w + static_cast<size_t>(n) * cols + gi * group_size;
      // The range always includes 0, so zero (and any constant group) is represented exactly.
      float lo = 0.0f, hi = 0.0f;
      for (int i = 0; i < group_size; ++i) {
        lo = std::min(lo, src[i]);
        hi = std::max(hi, src[i]);
      }
      float scale = (hi - lo) / 15.0f;
      if (!(scale > 0.0f)) scale = 1.0f;  // All-zero group.
      const float zero = std::clamp(std::nearbyint(-lo / scale), 0.0f, 15.0f);
      const size_t gidx = static_cast<size_t>(n) * groups + gi;
      q.scales[gidx] = scale;
      q.zeros[gidx] = zero;
      for (int i = 0; i < group_size; ++i) {
        const float v = std::clamp(std::nearbyint(src[i] / scale + zero), 0.0f, 15.0f);
        const NibblePos pos = nibble_pos(gi * group_size + i);
        words[pos.word] |= static_cast<uint32_t>(v) << pos.shift;
      }
    }
    std::memcpy(q.packed.data() + static_cast<size_t>(n) * cols / 2, words.data(), cols / 2);
    std::fill(words.begin(), words.end(), 0u);
  }
  return q;
}

void dequantize_int4(const Int4Matrix& w, float* out) {
  const int groups = w.groups_per_row();
  std::vector<uint32_t> words(w.cols / 8);
  for (int n = 0; n < w.rows; ++n) {
    std::memcpy(words.data(), w.packed.data() + static_cast<size_t>(n) * w.cols / 2, w.cols / 2);
    for (int k = 0; k < w.cols; ++k) {
      const NibblePos pos = nibble_pos(k);
      const float q = static_cast<float>((words[pos.word] >> pos.shift) & 15u);
      const size_t gidx = static_cast<size_t>(n) * groups + k / w.group_size;
      out[static_cast<size_t>(n) * w.cols + k] = w.scales[gidx] * (q - w.zeros[gidx]);
    }
  }
}

void int4_gemm(const float* x, int x_stride, int m_rows, const Int4Matrix& w, float* y,
               int y_stride, int n_begin, int n_end, bool accumulate, Int4Scratch& scratch) {
  if (m_rows <= 0 || n_begin >= n_end) return;
  const int cols = w.cols;
  const int g = w.group_size;
  const int groups = w.groups_per_row();
  if (scratch.unpacked.size() < static_cast<size_t>(kTileN) * cols) {
    scratch.unpacked.resize(static_cast<size_t>(kTileN) * cols);
  }
  if (scratch.xsum.size() < static_cast<size_t>(m_rows) * groups) {
    scratch.xsum.resize(static_cast<size_t>(m_rows) * groups);
  }
  group_sums(x, x_stride, m_rows, cols, g, scratch.xsum.data());
  float* q = scratch.unpacked.data();
  for (int m0 = 0; m0 < m_rows; m0 += kTileM) {
    const int m1 = std::min(m_rows, m0 + kTileM);
    for (int n = n_begin; n < n_end; n += kTileN) {
      const int nc = std::min(kTileN, n_end - n);
      const float* scale[kTileN];
      const float* zero[kTileN];
      for (int c = 0; c < nc; ++c) {
        const size_t row = static_cast<size_t>(n + c);
        unpack_row(w.packed.data() + row * cols / 2, cols, q + static_cast<size_t>(c) * cols);
        scale[c] = w.scales.data() + row * groups;
        zero[c] = w.zeros.data() + row * groups;
      }
      float* yt = y + n;
      const float* xs = scratch.xsum.data();
      switch (nc) {
        case 4:
          gemm_tile<4>(x, x_stride, m0, m1, xs, cols, g, q, scale, zero, yt, y_stride, accumulate);
          break;
        case 3:
          gemm_tile<3>(x, x_stride, m0, m1, xs, cols, g, q, scale, zero, yt, y_stride, accumulate);
          break;
        case 2:
          gemm_tile<2>(x, x_stride, m0, m1, xs, cols, g, q, scale, zero, yt, y_stride, accumulate);
          break;
        default:
          gemm_tile<1>(x, x_stride, m0, m1, xs, cols, g, q, scale, zero, yt, y_stride, accumulate);
          break;
      }
    }
  }
}

double int4_gemm_bytes(const Int4Matrix& w, int m_rows, int n_cols, bool accumulate) {
  const double weight = static_cast<double>(n_cols) * static_cast<double>(w.row_bytes());
  const double x = static_cast<double>(m_rows) * w.cols * sizeof(float);
  const double y = static_cast<double>(m_rows) * n_cols * sizeof(float) * (accumulate ? 2 : 1);
  return weight + x + y;
}

}  // namespace llm
