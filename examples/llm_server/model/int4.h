// INT4 group quantization and the Int4Gemm kernel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace llm {

// Weight matrix W [rows = N output features, cols = K input features], quantized along K in
// groups of group_size consecutive elements: w = scale * (q - zero), q an unsigned nibble.
// Packing: each run of 32 consecutive elements is one 16-byte chunk of four native-endian 32-bit
// words; word j holds element 4s + j of the run in nibble s (bits 4s..4s+3). Unpacking is then a
// shift, mask and convert per 4 lanes, with no byte shuffles.
struct Int4Matrix {
  int rows = 0;
  int cols = 0;
  int group_size = 0;
  std::vector<uint8_t> packed;  // [rows][cols / 2]
  std::vector<float> scales;    // [rows][cols / group_size]
  std::vector<float> zeros;     // [rows][cols / group_size], zero point in [0, 15]

  int groups_per_row() const { return cols / group_size; }
  size_t bytes() const { return packed.size() + (scales.size() + zeros.size()) * sizeof(float); }
  size_t row_bytes() const { return cols / 2 + groups_per_row() * 2 * sizeof(float); }
};

// Asymmetric min/max quantization with an integer zero point. Per element, |w - dequant(w)| is
// at most scale/2 (up to float rounding). Requires group_size % 32 == 0, cols % group_size == 0.
Int4Matrix quantize_int4(const float* w, int rows, int cols, int group_size);

// out [rows][cols] = dequantized weights.
void dequantize_int4(const Int4Matrix& w, float* out);

// Per-worker scratch of int4_gemm; reused across calls to avoid allocation.
struct Int4Scratch {
  std::vector<float> unpacked;  // [kTileN][cols]
  std::vector<float> xsum;      // [rows of x][groups]
};

// y[m][n] = x[m][:] . dequant(W)[n][:] (or += when accumulate) for m < m_rows and
// n_begin <= n < n_end. Each output element is computed with the same operation order whatever
// m_rows, the column range or the rest of x, so a row's result never depends on the batch.
// Per group it loads the group's scale and zero and folds the group's partial dot product into
// the accumulator: a smaller group size means proportionally more of that work.
void int4_gemm(const float* x, int x_stride, int m_rows, const Int4Matrix& w, float* y,
               int y_stride, int n_begin, int n_end, bool accumulate, Int4Scratch& scratch);

// Bytes a slice of int4_gemm moves: its weight rows, all of x, and its part of y.
double int4_gemm_bytes(const Int4Matrix& w, int m_rows, int n_cols, bool accumulate);

}  // namespace llm
