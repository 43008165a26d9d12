#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "model/int4.h"

namespace llm {
namespace {

std::vector<float> random_vector(size_t n, uint32_t seed, float stddev = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

class Int4GemmTest : public ::testing::TestWithParam<int> {};

// Against the dequantized weights the kernel differs only by float rounding of a K-term dot
// product: |y - ref| <= 1e-4 * sum_k |x_k * w_k| per output.
TEST_P(Int4GemmTest, MatchesDequantizedReference) {
  const int g = GetParam();
  const int m = 5, n = 258, k = 512;  // n not a multiple of the 4-column tile.
  const auto w = random_vector(static_cast<size_t>(n) * k, 1, 0.05f);
  const auto x = random_vector(static_cast<size_t>(m) * k, 2);
  const Int4Matrix q = quantize_int4(w.data(), n, k, g);
  ASSERT_EQ(q.packed.size(), static_cast<size_t>(n) * k / 2);
  std::vector<float> deq(static_cast<size_t>(n) * k);
  dequantize_int4(q, deq.data());

  std::vector<float> y(static_cast<size_t>(m) * n);
  Int4Scratch scratch;
  int4_gemm(x.data(), k, m, q, y.data(), n, 0, n, false, scratch);
  for (int r = 0; r < m; ++r) {
    for (int c = 0; c < n; ++c) {
      double ref = 0, mag = 0;
      for (int i = 0; i < k; ++i) {
        const double p = static_cast<double>(x[r * k + i]) * deq[static_cast<size_t>(c) * k + i];
        ref += p;
        mag += std::fabs(p);
      }
      ASSERT_NEAR(y[r * n + c], ref, 1e-4 * mag) << "row " << r << " col " << c;
    }
  }
}

// Against the original fp32 weights the error is bounded by the quantization step: each weight is
// off by at most scale/2, so |y - y_fp32| <= sum_k |x_k| * scale(k) / 2 (+ rounding slack).
// Smaller groups fit the data more tightly, so the overall error must shrink with group size.
TEST_P(Int4GemmTest, WithinQuantizationToleranceOfFp32) {
  const int g = GetParam();
  const int m = 3, n = 64, k = 1024;
  const auto w = random_vector(static_cast<size_t>(n) * k, 3, 0.05f);
  const auto x = random_vector(static_cast<size_t>(m) * k, 4);
  const Int4Matrix q = quantize_int4(w.data(), n, k, g);
  std::vector<float> y(static_cast<size_t>(m) * n);
  Int4Scratch scratch;
  int4_gemm(x.data(), k, m, q, y.data(), n, 0, n, false, scratch);
  double err2 = 0, ref2 = 0;
  for (int r = 0; r < m; ++r) {
    for (int c = 0; c < n; ++c) {
      double ref = 0, bound = 0, mag = 0;
      for (int i = 0; i < k; ++i) {
        const double wi = w[static_cast<size_t>(c) * k + i];
        ref += x[r * k + i] * wi;
        mag += std::fabs(x[r * k + i] * wi);
        bound += std::fabs(x[r * k + i]) * q.scales[static_cast<size_t>(c) * (k / g) + i / g] / 2;
      }
      ASSERT_LE(std::fabs(y[r * n + c] - ref), bound * 1.001 + 1e-4 * mag);
      err2 += (y[r * n + c] - ref) * (y[r * n + c] - ref);
      ref2 += ref * ref;
    }
  }
  // Relative RMS error of 4-bit min/max quantization of Gaussian weights: ~8-15%.
  EXPECT_LT(std::sqrt(err2 / ref2), 0.2) << "group " << g;
}

INSTANTIATE_TEST_SUITE_P(GroupSizes, Int4GemmTest, ::testing::Values(32, 64, 128, 256));

TEST(Int4Gemm, SmallerGroupsAreMoreAccurate) {
  const int n = 32, k = 1024;
  const auto w = random_vector(static_cast<size_t>(n) * k, 5);
  double prev = 0;
  for (int g : {32, 64, 128, 256}) {
    const Int4Matrix q = quantize_int4(w.data(), n, k, g);
    std::vector<float> deq(w.size());
    dequantize_int4(q, deq.data());
    double err2 = 0;
    for (size_t i = 0; i < w.size(); ++i) err2 += (deq[i] - w[i]) * (deq[i] - w[i]);
    EXPECT_GT(err2, prev) << "group " << g;
    prev = err2;
  }
}

// A row's output is bit-identical whether computed alone, inside a larger batch, or with the
// columns split differently across workers; accumulate mode adds exactly the same value.
TEST(Int4Gemm, RowsAndColumnSlicesAreIndependent) {
  const int m = 37, n = 103, k = 256, g = 64;
  const auto w = random_vector(static_cast<size_t>(n) * k, 6, 0.05f);
  const auto x = random_vector(static_cast<size_t>(m) * k, 7);
  const Int4Matrix q = quantize_int4(w.data(), n, k, g);
  Int4Scratch scratch;
  std::vector<float> full(static_cast<size_t>(m) * n);
  int4_gemm(x.data(), k, m, q, full.data(), n, 0, n, false, scratch);

  for (int r : {0, 16, 36}) {
    std::vector<float> alone(n);
    int4_gemm(x.data() + static_cast<size_t>(r) * k, k, 1, q, alone.data(), n, 0, n, false,
              scratch);
    for (int c = 0; c < n; ++c) ASSERT_EQ(alone[c], full[r * n + c]) << r << "," << c;
  }
  std::vector<float> split(full.size());
  for (auto [b, e] : {std::pair{0, 5}, {5, 50}, {50, 51}, {51, 103}}) {
    int4_gemm(x.data(), k, m, q, split.data(), n, b, e, false, scratch);
  }
  EXPECT_EQ(split, full);

  std::vector<float> acc(full.size(), 1.5f);
  int4_gemm(x.data(), k, m, q, acc.data(), n, 0, n, true, scratch);
  for (size_t i = 0; i < acc.size(); ++i) ASSERT_EQ(acc[i], 1.5f + full[i]);
}

TEST(Int4Gemm, ConstantGroupIsExact) {
  const int n = 2, k = 64;
  std::vector<float> w(n * k, 0.25f);
  const Int4Matrix q = quantize_int4(w.data(), n, k, 32);
  std::vector<float> deq(w.size());
  dequantize_int4(q, deq.data());
  for (float v : deq) EXPECT_NEAR(v, 0.25f, 1e-6f);
}

TEST(Int4Gemm, RejectsBadShapes) {
  std::vector<float> w(64 * 3);
  EXPECT_THROW(quantize_int4(w.data(), 3, 64, 48), std::invalid_argument);
  EXPECT_THROW(quantize_int4(w.data(), 1, 96, 64), std::invalid_argument);
}

}  // namespace
}  // namespace llm
