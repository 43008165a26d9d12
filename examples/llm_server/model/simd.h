// Minimal portable SIMD helpers (GCC/Clang generic vectors, no target-specific code). Every
// reduction has a fixed order so results are reproducible bit for bit.
#pragma once

#include <cstring>

namespace llm::simd {

typedef float f4 __attribute__((vector_size(16)));

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

// y[0..n) += a * x[0..n), n % 4 == 0.
inline void axpy(float a, const float* x, float* y, int n) {
  for (int i = 0; i < n; i += 4) store4(y + i, load4(y + i) + a * load4(x + i));
}

}  // namespace llm::simd
