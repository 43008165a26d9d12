// Counter-based hashing used for synthetic weights and sampling. Stateless on purpose: a value
// depends only on (seed, index), so results never depend on thread scheduling or batch layout.
#pragma once

#include <cstdint>

namespace llm {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline uint64_t hash_combine(uint64_t a, uint64_t b) { return splitmix64(a ^ splitmix64(b)); }

// Uniform float in [0, 1) with 24 random bits.
inline float unit_float(uint64_t bits) {
  return static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);
}

}  // namespace llm
