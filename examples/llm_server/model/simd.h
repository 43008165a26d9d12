// Minimal portable SIMD helpers (GCC/Clang generic vectors, no target-specific code). Every
// reduction has a fixed order so results are reproducible bit for bit.
#pragma once

#include <cstdint>
#include <cstring>

namespace llm::simd {

typedef float f4 __attribute__((vector_size(16)));
typedef int32_t i4 __attribute__((vector_size(16)));

inline f4 load4(const float* p) {
  f4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store4(float* p, f4 v) { std::memcpy(p, &v, sizeof v); }

inline float hsum(f4 a, f4 b) {
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((b[0] + b[1]) + (b[2] + b[3]));
}

// Dot product of two n-float vectors, n % 8 == 0.
inline float dot(const float* a, const float* b, int n) {
  f4 s0 = {}, s1 = {};
  for (int i = 0; i < n; i += 8) {
    s0 += load4(a + i) * load4(b + i);
    s1 += load4(a + i + 4) * load4(b + i + 4);
  }
  return hsum(s0, s1);
}

// out[j] = dot(a, b + j * stride, n) for j < 4, with exactly dot()'s operation order; the four
// independent chains hide the add latency that bounds a single dot product.
inline void dot4(const float* a, const float* b, int stride, int n, float* out) {
  f4 s0[4] = {}, s1[4] = {};
  for (int i = 0; i < n; i += 8) {
    const f4 a0 = load4(a + i), a1 = load4(a + i + 4);
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      s0[j] += a0 * load4(b + j * stride + i);
      s1[j] += a1 * load4(b + j * stride + i + 4);
    }
  }
  for (int j = 0; j < 4; ++j) out[j] = hsum(s0[j], s1[j]);
}

// e^x for x <= 0 (results below e^-87 flush to 0), relative error ~2e-7. Cody-Waite reduction
// x = n ln2 + r, degree-6 Taylor polynomial for e^r on |r| <= ln2/2, then scaling by 2^n
// through the exponent bits.
inline f4 exp_nonpositive(f4 x) {
  const f4 lo = {-87.0f, -87.0f, -87.0f, -87.0f};
  x = x < lo ? lo : x;
  const f4 magic = {12582912.0f, 12582912.0f, 12582912.0f, 12582912.0f};  // 1.5 * 2^23
  const f4 n = (x * 1.44269504f + magic) - magic;                         // round(x / ln2)
  const f4 r = (x - n * 0.693145752f) - n * 1.42860677e-6f;               // ln2 in two parts
  f4 p = r * (1.0f / 720) + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const i4 bits = (__builtin_convertvector(n, i4) + 127) << 23;
  f4 scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

}  // namespace llm::simd
