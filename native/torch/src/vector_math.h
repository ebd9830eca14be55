// Float math the compiler vectorizes, shared by the addon's own loops (fused_attention.cc, fused_gelu.cc).
#pragma once
#include <cstdint>
#include <cstring>

namespace arith {

// exp(x) for x <= 0 in a form the compiler vectorizes (given -fno-trapping-math, which the build sets):
// std::exp is one libm call per float, and a row of 22 keys then costs more in exp than in its products.
// Cephes' expf: x = n ln2 + r with |r| <= ln2 / 2, exp(r) by a polynomial, 2^n through the exponent bits.
// Within 1 ulp of std::exp on every float in [-87, 0] (the softmax's range once the row's maximum is
// subtracted); below -87 exactly 0, so a masked key's probability is 0, as in ATen's softmax.
inline float Exp(float x) {
  const bool underflows = x < -87.0f;
  x = underflows ? -88.0f : x;  // keeps n and its exponent bits in range for the masked keys' -1e9
  // Adding 1.5 * 2^23 rounds x log2(e) to the nearest integer n and leaves n in the low mantissa bits.
  const float shifted = x * 1.44269504088896341f + 12582912.0f;
  const float n = shifted - 12582912.0f;
  uint32_t nBits;
  std::memcpy(&nBits, &shifted, sizeof nBits);
  float r = x - n * 0.693359375f;
  r -= n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const uint32_t bits = (nBits - 0x4B400000u + 127u) << 23;  // 2^n
  float twoToN;
  std::memcpy(&twoToN, &bits, sizeof twoToN);
  const float value = y * twoToN;
  return underflows ? 0.0f : value;
}

// sigmoid(t) = 1 / (1 + exp(-t)) and its complement 1 - sigmoid(t), each from exp(-|t|) so neither overflows
// nor loses its digits to a cancellation: for t < 0, sigmoid(t) = e / (1 + e) with e = exp(t).
inline void Sigmoid(float t, float& sigmoid, float& complement) {
  const bool positive = t >= 0.0f;
  const float e = Exp(positive ? -t : t);
  const float inverse = 1.0f / (1.0f + e);
  sigmoid = positive ? inverse : e * inverse;
  complement = positive ? e * inverse : inverse;
}

}  // namespace arith

// x86-64 builds get a second copy of a vectorized loop for AVX2 CPUs (8 floats a vector instead of SSE's 4),
// picked at load time; the addon is still built without -march, so it runs on any x86-64.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ARITH_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ARITH_VECTOR_CLONES
#endif
