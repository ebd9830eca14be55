// Fused attention core (src/models/fused.ts: ArithAttention, ArithAttentionGrad): softmax(q kᵀ scale + bias) v
// and its gradient with the pattern saved from the forward pass. q [B,H,T,d], k and v [B,H,S,d]; the bias
// (causal mask, ALiBi, an offset mask when decoding with a cache) broadcasts to [B,H,T,S]. Positional rotations
// (RoPE) are applied to q and k before, in tfjs.
//
// On the CPU, narrow heads (d <= 8, as in the 4x4 multiplication config's 8 heads of 8) run as plain loops
// over each (batch, head): ATen's matmul hands every one of the B·H tiny products to BLAS separately (~1.8 us
// each, 256 per product for batch 32 and 8 heads), so a layer's six products cost more than its linear
// layers. The loops also skip the masked half of a causal pattern. Wider heads keep BLAS; GPUs keep ATen's
// batched kernels.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "tensor_handle.h"

namespace arith {

namespace {

// Where the loops beat BLAS, measured on one thread (docs/results.md, "Attention heads as loops"): heads of
// 4 and 8 floats at 22 keys cost half of ATen's products or less; at 16 and 32 floats (the small model, the
// addition configs) BLAS is as fast or faster, so those keep it. Longer sequences than 128 were not measured
// and keep BLAS too.
constexpr int64_t kLoopMaxHeadSize = 8;
constexpr int64_t kLoopMaxLength = 128;

bool UseLoops(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& extra) {
  return q.device().is_cpu() && q.dim() == 4 && k.dim() == 4 && v.sizes() == k.sizes() &&
         q.size(0) == k.size(0) && q.size(1) == k.size(1) && q.size(3) == k.size(3) &&
         q.size(3) <= kLoopMaxHeadSize && q.size(2) <= kLoopMaxLength && k.size(2) <= kLoopMaxLength &&
         q.scalar_type() == at::kFloat && k.scalar_type() == at::kFloat && v.scalar_type() == at::kFloat &&
         extra.scalar_type() == at::kFloat;
}

// Row-major sizes of one call: q [B,H,T,d], k and v [B,H,S,d], the pattern [B,H,T,S].
struct Sizes {
  int64_t B, H, T, S, d;
};

Sizes SizesOf(const at::Tensor& q, const at::Tensor& k) {
  return {q.size(0), q.size(1), q.size(2), k.size(2), q.size(3)};
}

// exp(x) for the softmax in a form the compiler vectorizes (given -fno-trapping-math, which the build sets):
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

// Sum of n floats in four interleaved accumulators: a sequential sum waits on each add.
inline float Sum(const float* x, int64_t n) {
  float acc[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int j = 0; j < 4; j++) acc[j] += x[i + j];
  }
  for (; i < n; i++) acc[0] += x[i];
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

// The largest of n floats, in four interleaved maxima (std::max_element compares one at a time).
inline float Max(const float* x, int64_t n) {
  float acc[4] = {x[0], x[0], x[0], x[0]};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int j = 0; j < 4; j++) acc[j] = std::max(acc[j], x[i + j]);
  }
  for (; i < n; i++) acc[0] = std::max(acc[0], x[i]);
  return std::max(std::max(acc[0], acc[1]), std::max(acc[2], acc[3]));
}

inline void Axpy(float alpha, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

// row[s] = Σ_i a[i] mT[i][s] for s < S: one row of a [.., d] x [d, S] product, vectorized along s (a dot
// product along d = 8 would be a chain of dependent adds).
inline void RowTimes(const float* a, const float* mT, int64_t d, int64_t S, float* row) {
  std::fill(row, row + S, 0.0f);
  for (int64_t i = 0; i < d; i++) Axpy(a[i], mT + i * S, row, S);
}

// m [S, d] -> mT [d, S]
inline void Transpose(const float* m, int64_t S, int64_t d, float* mT) {
  for (int64_t s = 0; s < S; s++) {
    for (int64_t i = 0; i < d; i++) mT[i * S + s] = m[s * d + i];
  }
}

// x86-64 builds get a second copy of the per-head loops for AVX2 CPUs (8 floats a vector instead of SSE's 4),
// picked at load time; the addon is still built without -march, so it runs on any x86-64.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ARITH_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ARITH_VECTOR_CLONES
#endif

// One (batch, head) of the forward pass. kT: scratch for kᵀ [d, S]. bias: this head's [T, S] through strides.
ARITH_VECTOR_CLONES
void ForwardHead(const Sizes& z, const float* q, const float* k, const float* v, const float* bias,
                 int64_t biasT, int64_t biasS, float scale, float* kT, float* out, float* pattern) {
  Transpose(k, z.S, z.d, kT);
  for (int64_t t = 0; t < z.T; t++) {
    float* row = pattern + t * z.S;
    float* o = out + t * z.d;
    // As composed: (q kᵀ) * scale + bias, then a softmax that subtracts the row's maximum.
    RowTimes(q + t * z.d, kT, z.d, z.S, row);
    for (int64_t s = 0; s < z.S; s++) row[s] = row[s] * scale + bias[t * biasT + s * biasS];
    const float max = Max(row, z.S);
    for (int64_t s = 0; s < z.S; s++) row[s] = Exp(row[s] - max);
    const float inverse = 1.0f / Sum(row, z.S);
    for (int64_t s = 0; s < z.S; s++) row[s] *= inverse;
    std::fill(o, o + z.d, 0.0f);
    for (int64_t s = 0; s < z.S; s++) {
      if (row[s] != 0.0f) Axpy(row[s], v + s * z.d, o, z.d);  // masked keys add nothing
    }
  }
}

// One (batch, head) of the backward pass; dq, dk, dv start at zero. vT, dl: scratch [d, S] and [S].
ARITH_VECTOR_CLONES
void BackwardHead(const Sizes& z, const float* dy, const float* q, const float* k, const float* v,
                  const float* pattern, float scale, float* vT, float* dl, float* dq, float* dk, float* dv) {
  Transpose(v, z.S, z.d, vT);
  for (int64_t t = 0; t < z.T; t++) {
    const float* row = pattern + t * z.S;
    const float* g = dy + t * z.d;
    const float* qt = q + t * z.d;
    float* dqt = dq + t * z.d;
    // Softmax backward: dlogit_s = p_s (dp_s - Σ p dp) with dp_s = dy · v_s.
    RowTimes(g, vT, z.d, z.S, dl);
    for (int64_t s = 0; s < z.S; s++) dl[s] *= row[s];
    const float weighted = Sum(dl, z.S);
    for (int64_t s = 0; s < z.S; s++) dl[s] = (dl[s] - row[s] * weighted) * scale;
    for (int64_t s = 0; s < z.S; s++) {
      if (row[s] == 0.0f) continue;  // a masked key: zero gradient everywhere
      Axpy(row[s], g, dv + s * z.d, z.d);
      Axpy(dl[s], k + s * z.d, dqt, z.d);
      Axpy(dl[s], qt, dk + s * z.d, z.d);
    }
  }
}

// The bias is read through its broadcast view [B,H,T,S] (stride 0 along the axes it broadcasts over).
void ForwardLoops(const Sizes& z, const float* q, const float* k, const float* v, const at::Tensor& biasView,
                  float scale, float* out, float* pattern) {
  const float* bias = biasView.data_ptr<float>();
  const int64_t sb = biasView.stride(0), sh = biasView.stride(1), st = biasView.stride(2), ss = biasView.stride(3);
  at::parallel_for(0, z.B * z.H, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> kT(z.d * z.S);
    for (int64_t bh = begin; bh < end; bh++) {
      const int64_t b = bh / z.H, h = bh % z.H;
      ForwardHead(z, q + bh * z.T * z.d, k + bh * z.S * z.d, v + bh * z.S * z.d, bias + b * sb + h * sh, st, ss, scale,
                  kT.data(), out + bh * z.T * z.d, pattern + bh * z.T * z.S);
    }
  });
}

void BackwardLoops(const Sizes& z, const float* dy, const float* q, const float* k, const float* v,
                   const float* pattern, float scale, float* dq, float* dk, float* dv) {
  at::parallel_for(0, z.B * z.H, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> vT(z.d * z.S), dl(z.S);
    for (int64_t bh = begin; bh < end; bh++) {
      const int64_t qOffset = bh * z.T * z.d, kOffset = bh * z.S * z.d;
      BackwardHead(z, dy + qOffset, q + qOffset, k + kOffset, v + kOffset, pattern + bh * z.T * z.S, scale, vT.data(),
                   dl.data(), dq + qOffset, dk + kOffset, dv + kOffset);
    }
  });
}

// fusedAttention(q, k, v, bias, scale) -> [output [B,H,T,d], pattern [B,H,T,S]]
Napi::Value FusedAttention(const Napi::CallbackInfo& info) {
  const auto& q = Get(info[0]);
  const auto& k = Get(info[1]);
  const auto& v = Get(info[2]);
  const auto& bias = Get(info[3]);
  const double scale = Number(info[4]);
  if (UseLoops(q, k, v, bias)) {
    const auto qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous();
    const auto z = SizesOf(q, k);
    const auto biasView = bias.expand({z.B, z.H, z.T, z.S});
    auto output = at::empty(q.sizes(), q.options());
    auto pattern = at::empty({z.B, z.H, z.T, z.S}, q.options());
    ForwardLoops(z, qc.data_ptr<float>(), kc.data_ptr<float>(), vc.data_ptr<float>(), biasView,
                 static_cast<float>(scale), output.data_ptr<float>(), pattern.data_ptr<float>());
    return PutList(info.Env(), {output, pattern});
  }
  // The composed order, (q kᵀ) * scale + bias, so the two paths round alike.
  auto logits = at::matmul(q, k.transpose(-2, -1));
  logits.mul_(scale).add_(bias);  // the bias broadcasts over batch (and heads)
  auto pattern = at::_softmax(logits, -1, false);
  auto output = at::matmul(pattern, v);
  return PutList(info.Env(), {output, pattern});
}

// fusedAttentionGrad(dy, q, k, v, pattern, scale) -> [dq, dk, dv]
Napi::Value FusedAttentionGrad(const Napi::CallbackInfo& info) {
  const auto& dy = Get(info[0]);
  const auto& q = Get(info[1]);
  const auto& k = Get(info[2]);
  const auto& v = Get(info[3]);
  const auto& pattern = Get(info[4]);
  const double scale = Number(info[5]);
  if (UseLoops(q, k, v, pattern) && dy.scalar_type() == at::kFloat) {
    const auto dyc = dy.contiguous(), qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous();
    const auto patternc = pattern.contiguous();
    const auto z = SizesOf(q, k);
    auto dq = at::zeros(q.sizes(), q.options());
    auto dk = at::zeros(k.sizes(), k.options());
    auto dv = at::zeros(v.sizes(), v.options());
    BackwardLoops(z, dyc.data_ptr<float>(), qc.data_ptr<float>(), kc.data_ptr<float>(), vc.data_ptr<float>(),
                  patternc.data_ptr<float>(), static_cast<float>(scale), dq.data_ptr<float>(), dk.data_ptr<float>(),
                  dv.data_ptr<float>());
    return PutList(info.Env(), {dq, dk, dv});
  }
  auto dv = at::matmul(pattern.transpose(-2, -1), dy);
  auto dpattern = at::matmul(dy, v.transpose(-2, -1));
  auto dlogits = at::_softmax_backward_data(dpattern, pattern, -1, pattern.scalar_type());
  dlogits.mul_(scale);
  auto dq = at::matmul(dlogits, k);
  auto dk = at::matmul(dlogits.transpose(-2, -1), q);
  return PutList(info.Env(), {dq, dk, dv});
}

void Init(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "fusedAttention", FusedAttention);
  Export(env, exports, "fusedAttentionGrad", FusedAttentionGrad);
}

}  // namespace

ARITH_MODULE(fused_attention, Init);

}  // namespace arith
