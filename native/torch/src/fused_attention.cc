// Fused attention core (src/models/fused.ts: ArithAttention, ArithAttentionGrad): softmax(q kᵀ scale + bias) v
// and its gradient with the pattern saved from the forward pass. q [B,H,T,d], k and v [B,H,S,d]; the bias
// (causal mask, ALiBi, an offset mask when decoding with a cache) broadcasts to [B,H,T,S]. Positional rotations
// (RoPE) are applied to q and k before, in tfjs.
//
// On the CPU, narrow heads (d <= 8, as in the 4x4 multiplication config's 8 heads of 8) run as plain loops
// over each (batch, head): ATen's matmul hands every one of the B·H tiny products to BLAS separately (~1.8 us
// each, 256 per product for batch 32 and 8 heads), so a layer's six products cost more than its linear
// layers. The loops also skip the masked half of a causal pattern. Wider heads keep BLAS here (the q|k|v kernel
// below runs heads of 16 to 64 floats as loops of their own); GPUs keep ATen's batched kernels.
#include <ATen/ATen.h>
#include <ATen/ExpandUtils.h>
#include <ATen/Parallel.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "tensor_handle.h"
#include "vector_math.h"

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

// ---- Attention from the q|k|v projection (ArithQkvAttention) ----
//
// qkv [B,T,3·D] as the c_attn projection writes it (q, k, v side by side, head h at columns h·d..h·d+d-1 of
// each) in, the heads' outputs side by side [B,T,D] out: the model's split, three reshapes and four transposes
// (and their gradients) become views or nothing. On the CPU, narrow heads (d <= 8) run with the heads as vector
// lanes: per batch element q, k and v are laid out [T, d, H], so each key costs d vector multiply-adds for all
// heads at once, and the softmax's maxima and sums are lane-wise, where the per-(batch, head) loops above spend
// a vector on a row of 22 keys. The pattern is kept [B,T,S,H] for the gradient (opaque to JavaScript). Heads of
// 16, 32 and 64 floats run as loops per (batch, head) below, on CPUs with AVX2 and FMA. A learned bias (T5, FIRE)
// gets its gradient from the same backward pass: the logits' gradient, summed to its shape.

struct QkvSizes {
  int64_t B, T, H, d;
};

// Decided by qkv alone, so that the gradient reads the pattern in the layout its forward pass wrote.
bool UseLaneLoops(const at::Tensor& qkv, int64_t heads) {
  return qkv.device().is_cpu() && qkv.size(2) / (3 * heads) <= kLoopMaxHeadSize && qkv.size(1) <= kLoopMaxLength &&
         qkv.scalar_type() == at::kFloat;
}

// One row [H, d] -> [d, H] (heads as lanes), and back.
inline void UnpackRow(const QkvSizes& z, const float* row, float* lanes) {
  for (int64_t h = 0; h < z.H; h++) {
    for (int64_t i = 0; i < z.d; i++) lanes[i * z.H + h] = row[h * z.d + i];
  }
}

// One batch element's qkv [T, 3, H, d] -> Q, K, V [T, d, H].
inline void Unpack(const QkvSizes& z, const float* qkv, float* Q, float* K, float* V) {
  const int64_t D = z.H * z.d;
  float* parts[3] = {Q, K, V};
  for (int64_t t = 0; t < z.T; t++) {
    for (int c = 0; c < 3; c++) UnpackRow(z, qkv + (t * 3 + c) * D, parts[c] + t * D);
  }
}

// Row t of [T, d, H] -> row t of [T, H, d] (out) or of part c of [T, 3, H, d] (gradients).
inline void PackRow(const QkvSizes& z, const float* lanes, float* row) {
  for (int64_t h = 0; h < z.H; h++) {
    for (int64_t i = 0; i < z.d; i++) row[h * z.d + i] = lanes[i * z.H + h];
  }
}

// The keys query t attends to: those where some head's bias is above -1e8 (the mask's -1e9 makes the others'
// probabilities exactly 0: Exp is 0 below -87). A row with none keeps every key, as the composed softmax does.
void LiveKeysFromBias(const QkvSizes& z, const float* biasBT, int64_t sh, int64_t ss, std::vector<int32_t>& live) {
  live.clear();
  for (int64_t s = 0; s < z.T; s++) {
    bool any = false;
    for (int64_t h = 0; h < (sh == 0 ? 1 : z.H) && !any; h++) any = biasBT[h * sh + s * ss] > -1e8f;
    if (any) live.push_back(static_cast<int32_t>(s));
  }
  if (live.empty()) {
    for (int64_t s = 0; s < z.T; s++) live.push_back(static_cast<int32_t>(s));
  }
}

// Keys with a nonzero probability in some head (the rest add exactly nothing to any gradient).
void LiveKeysFromPattern(const QkvSizes& z, const float* P, std::vector<int32_t>& live) {
  live.clear();
  for (int64_t s = 0; s < z.T; s++) {
    bool any = false;
    for (int64_t h = 0; h < z.H; h++) any = any || P[s * z.H + h] != 0.0f;
    if (any) live.push_back(static_cast<int32_t>(s));
  }
}

// One batch element forward: Q, K, V [T, d, H]; P its pattern [T, S, H]; out [T, H, d].
ARITH_VECTOR_CLONES
void LaneForward(const QkvSizes& z, const float* Q, const float* K, const float* V, const float* biasB, int64_t sh,
                 int64_t st, int64_t ss, float scale, float* P, float* out, float* stats, float* O,
                 std::vector<int32_t>& live) {
  const int64_t H = z.H, d = z.d, S = z.T;
  float* max = stats;
  float* sum = stats + H;
  for (int64_t t = 0; t < z.T; t++) {
    const float* biasBT = biasB + t * st;
    LiveKeysFromBias(z, biasBT, sh, ss, live);
    float* Pt = P + t * S * H;
    std::fill(Pt, Pt + S * H, 0.0f);
    std::fill(max, max + H, -INFINITY);
    std::fill(sum, sum + H, 0.0f);
    const float* q = Q + t * d * H;
    for (const int32_t s : live) {
      float* row = Pt + s * H;
      const float* k = K + s * d * H;
      // As composed: (q kᵀ) * scale + bias, the product summed in order of i.
      for (int64_t i = 0; i < d; i++) {
        for (int64_t h = 0; h < H; h++) row[h] += q[i * H + h] * k[i * H + h];
      }
      const float* b = biasBT + s * ss;
      for (int64_t h = 0; h < H; h++) {
        row[h] = row[h] * scale + b[h * sh];
        max[h] = std::max(max[h], row[h]);
      }
    }
    for (const int32_t s : live) {
      float* row = Pt + s * H;
      for (int64_t h = 0; h < H; h++) {
        row[h] = Exp(row[h] - max[h]);
        sum[h] += row[h];
      }
    }
    for (int64_t h = 0; h < H; h++) sum[h] = 1.0f / sum[h];
    std::fill(O, O + d * H, 0.0f);
    for (const int32_t s : live) {
      float* row = Pt + s * H;
      const float* v = V + s * d * H;
      for (int64_t h = 0; h < H; h++) row[h] *= sum[h];
      for (int64_t i = 0; i < d; i++) {
        for (int64_t h = 0; h < H; h++) O[i * H + h] += row[h] * v[i * H + h];
      }
    }
    PackRow(z, O, out + t * H * d);
  }
}

// One batch element backward; dQ, dK, dV [T, d, H] start at zero. dP: scratch [S, H]; w: [H]. dBias, when not
// null, [T, S, H] starting at zero, receives the logits' gradient (a learned bias's, before the sum over the
// axes it was broadcast along).
ARITH_VECTOR_CLONES
void LaneBackward(const QkvSizes& z, const float* DY, const float* Q, const float* K, const float* V, const float* P,
                  float scale, float* dP, float* w, float* dQ, float* dK, float* dV, float* dBias,
                  std::vector<int32_t>& live) {
  const int64_t H = z.H, d = z.d, S = z.T;
  for (int64_t t = 0; t < z.T; t++) {
    const float* Pt = P + t * S * H;
    LiveKeysFromPattern(z, Pt, live);
    const float* g = DY + t * d * H;
    const float* q = Q + t * d * H;
    float* dq = dQ + t * d * H;
    // Softmax backward: dlogit_s = p_s (dp_s - Σ p dp) with dp_s = dy · v_s.
    std::fill(w, w + H, 0.0f);
    for (const int32_t s : live) {
      float* dps = dP + s * H;
      const float* p = Pt + s * H;
      const float* v = V + s * d * H;
      std::fill(dps, dps + H, 0.0f);
      for (int64_t i = 0; i < d; i++) {
        for (int64_t h = 0; h < H; h++) dps[h] += g[i * H + h] * v[i * H + h];
      }
      for (int64_t h = 0; h < H; h++) {
        dps[h] *= p[h];
        w[h] += dps[h];
      }
    }
    for (const int32_t s : live) {
      float* dl = dP + s * H;
      const float* p = Pt + s * H;
      if (dBias) {
        float* db = dBias + (t * S + s) * H;
        for (int64_t h = 0; h < H; h++) db[h] = dl[h] - p[h] * w[h];
      }
      for (int64_t h = 0; h < H; h++) dl[h] = (dl[h] - p[h] * w[h]) * scale;
      const float* k = K + s * d * H;
      float* dk = dK + s * d * H;
      float* dv = dV + s * d * H;
      for (int64_t i = 0; i < d; i++) {
        for (int64_t h = 0; h < H; h++) {
          dv[i * H + h] += p[h] * g[i * H + h];
          dq[i * H + h] += dl[h] * k[i * H + h];
          dk[i * H + h] += dl[h] * q[i * H + h];
        }
      }
    }
  }
}

// Heads of 16, 32 or 64 floats (the addition configs' 4 of 16, the small model's 4 of 32, the large one's 6 of
// 64) on an x86-64 CPU with AVX2 and FMA: loops per (batch, head) with the head size fixed at compile time, so
// that a row of q, k, v or their gradients lives in a few vector registers. ATen's matmul hands each
// (batch, head)'s tiny product to BLAS separately, about 2 us a call, six products each way: the addition
// configs' steps are 30-40% longer with it (docs/results.md, "Heads of 16 to 64 as loops"). Up to 128 tokens:
// at 287 (addition-scratchpad-detailed) the loops were no faster. The pattern is kept [B,H,T,S], as ATen's path
// keeps it. Elsewhere (other CPUs, other sizes, GPUs) ATen's path runs.
struct HeadLoopArgs {
  int64_t T, H;
  const float* qkv;  // [B, T, 3, H, d]
  const float* bias;  // the bias's broadcast view [B, H, T, S] through its strides
  int64_t sb, sh, st, ss;
  float scale;
  const float* dy;  // backward: [B, T, H, d]
  float* out;  // forward: [B, T, H, d]; backward: dqkv [B, T, 3, H, d]
  float* P;  // the pattern [B, H, T, S]: written forward, read backward
  float* dL;  // backward, for a learned bias: the logits' gradient [B, H, T, S], or null
};

#if defined(__x86_64__) && defined(__GNUC__)
#define ARITH_HEAD_LOOPS 1
#define ARITH_AVX2_FMA __attribute__((target("avx2,fma")))

bool HasAvx2Fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

// The keys rounded up to whole vectors of eight.
inline int64_t Padded(int64_t T) { return (T + 7) & ~int64_t{7}; }

// Scratch floats one (batch, head) needs: a transposed head [d, Tp] (k forward, v backward), two heads [T, d]
// (v forward; dk and dv backward) and a row [Tp].
int64_t HeadScratch(int64_t T, int64_t d) { return d * Padded(T) + 2 * T * d + Padded(T); }

// row[s] = Σ_i a[i] mT[i][s] for the Tp keys (mT zero past T), eight keys a vector, summed over i in two
// interleaved halves so that the multiply-adds do not all wait on one another.
template <int kD>
ARITH_AVX2_FMA inline void RowTimesBlocked(const float* a, const float* mT, int64_t Tp, float* row) {
  for (int64_t sb = 0; sb < Tp; sb += 8) {
    __m256 even = _mm256_setzero_ps(), odd = _mm256_setzero_ps();
    for (int i = 0; i < kD; i += 2) {
      even = _mm256_fmadd_ps(_mm256_broadcast_ss(a + i), _mm256_loadu_ps(mT + i * Tp + sb), even);
      odd = _mm256_fmadd_ps(_mm256_broadcast_ss(a + i + 1), _mm256_loadu_ps(mT + (i + 1) * Tp + sb), odd);
    }
    _mm256_storeu_ps(row + sb, _mm256_add_ps(even, odd));
  }
}

// A head's rows [T, d] (row stride `stride`) -> [d, Tp], zero past T.
template <int kD>
ARITH_AVX2_FMA inline void TransposeHead(const float* m, int64_t stride, int64_t T, float* mT) {
  const int64_t Tp = Padded(T);
  for (int64_t s = 0; s < T; s++) {
    for (int i = 0; i < kD; i++) mT[i * Tp + s] = m[s * stride + i];
  }
  for (int i = 0; i < kD; i++) std::fill(mT + i * Tp + T, mT + (i + 1) * Tp, 0.0f);
}

// One (batch, head) forward: the logits row by row, then the softmax, then the output row accumulated in
// registers over the keys with a nonzero probability.
template <int kD>
ARITH_AVX2_FMA inline void HeadForwardBody(const HeadLoopArgs& a, int64_t b, int64_t h, float* scratch) {
  constexpr int kVectors = kD / 8;
  const int64_t T = a.T, Tp = Padded(T), D = a.H * kD, stride = 3 * D;
  const float* base = a.qkv + b * T * stride + h * kD;
  float* kT = scratch;
  float* V = kT + kD * Tp;
  float* logits = V + 2 * T * kD;
  TransposeHead<kD>(base + D, stride, T, kT);
  for (int64_t s = 0; s < T; s++) std::memcpy(V + s * kD, base + s * stride + 2 * D, kD * sizeof(float));
  const float* bias = a.bias + b * a.sb + h * a.sh;
  float* pattern = a.P + (b * a.H + h) * T * T;
  for (int64_t t = 0; t < T; t++) {
    float* row = pattern + t * T;
    // As composed: (q kᵀ) * scale + bias, then a softmax that subtracts the row's maximum.
    RowTimesBlocked<kD>(base + t * stride, kT, Tp, logits);
    for (int64_t s = 0; s < T; s++) row[s] = logits[s] * a.scale + bias[t * a.st + s * a.ss];
    const float max = Max(row, T);
    for (int64_t s = 0; s < T; s++) row[s] = Exp(row[s] - max);
    const float inverse = 1.0f / Sum(row, T);
    for (int64_t s = 0; s < T; s++) row[s] *= inverse;
    __m256 o[kVectors];
    for (int j = 0; j < kVectors; j++) o[j] = _mm256_setzero_ps();
    for (int64_t s = 0; s < T; s++) {
      if (row[s] == 0.0f) continue;  // a masked key adds nothing
      const __m256 p = _mm256_broadcast_ss(row + s);
      for (int j = 0; j < kVectors; j++) o[j] = _mm256_fmadd_ps(p, _mm256_loadu_ps(V + s * kD + 8 * j), o[j]);
    }
    float* out = a.out + (b * T + t) * D + h * kD;
    for (int j = 0; j < kVectors; j++) _mm256_storeu_ps(out + 8 * j, o[j]);
  }
}

// One (batch, head) backward: dlogit_s = p_s (dp_s - Σ p dp) with dp_s = dy · v_s; dq row by row in registers,
// dk and dv accumulated over the queries in scratch and written once.
template <int kD>
ARITH_AVX2_FMA inline void HeadBackwardBody(const HeadLoopArgs& a, int64_t b, int64_t h, float* scratch) {
  constexpr int kVectors = kD / 8;
  const int64_t T = a.T, Tp = Padded(T), D = a.H * kD, stride = 3 * D;
  const float* base = a.qkv + b * T * stride + h * kD;
  float* vT = scratch;
  float* dK = vT + kD * Tp;
  float* dV = dK + T * kD;
  float* dl = dV + T * kD;
  TransposeHead<kD>(base + 2 * D, stride, T, vT);
  std::fill(dK, dK + 2 * T * kD, 0.0f);
  const int64_t bh = b * a.H + h;
  const float* pattern = a.P + bh * T * T;
  float* dqkv = a.out + b * T * stride + h * kD;
  for (int64_t t = 0; t < T; t++) {
    const float* p = pattern + t * T;
    const float* g = a.dy + (b * T + t) * D + h * kD;
    const float* q = base + t * stride;
    RowTimesBlocked<kD>(g, vT, Tp, dl);
    for (int64_t s = 0; s < T; s++) dl[s] *= p[s];
    const float weighted = Sum(dl, T);
    if (a.dL) {
      float* logits = a.dL + (bh * T + t) * T;
      for (int64_t s = 0; s < T; s++) logits[s] = dl[s] - p[s] * weighted;
    }
    for (int64_t s = 0; s < T; s++) dl[s] = (dl[s] - p[s] * weighted) * a.scale;
    __m256 gv[kVectors], qv[kVectors], dq[kVectors];
    for (int j = 0; j < kVectors; j++) {
      gv[j] = _mm256_loadu_ps(g + 8 * j);
      qv[j] = _mm256_loadu_ps(q + 8 * j);
      dq[j] = _mm256_setzero_ps();
    }
    for (int64_t s = 0; s < T; s++) {
      if (p[s] == 0.0f) continue;  // a masked key: zero gradient everywhere
      const __m256 ps = _mm256_broadcast_ss(p + s), ls = _mm256_broadcast_ss(dl + s);
      const float* k = base + s * stride + D;
      float* dv = dV + s * kD;
      float* dk = dK + s * kD;
      for (int j = 0; j < kVectors; j++) {
        _mm256_storeu_ps(dv + 8 * j, _mm256_fmadd_ps(ps, gv[j], _mm256_loadu_ps(dv + 8 * j)));
        dq[j] = _mm256_fmadd_ps(ls, _mm256_loadu_ps(k + 8 * j), dq[j]);
        _mm256_storeu_ps(dk + 8 * j, _mm256_fmadd_ps(ls, qv[j], _mm256_loadu_ps(dk + 8 * j)));
      }
    }
    for (int j = 0; j < kVectors; j++) _mm256_storeu_ps(dqkv + t * stride + 8 * j, dq[j]);
  }
  for (int64_t s = 0; s < T; s++) {
    std::memcpy(dqkv + s * stride + D, dK + s * kD, kD * sizeof(float));
    std::memcpy(dqkv + s * stride + 2 * D, dV + s * kD, kD * sizeof(float));
  }
}

using HeadLoop = void (*)(const HeadLoopArgs&, int64_t, int64_t, float*);

ARITH_AVX2_FMA void HeadForward16(const HeadLoopArgs& a, int64_t b, int64_t h, float* s) { HeadForwardBody<16>(a, b, h, s); }
ARITH_AVX2_FMA void HeadForward32(const HeadLoopArgs& a, int64_t b, int64_t h, float* s) { HeadForwardBody<32>(a, b, h, s); }
ARITH_AVX2_FMA void HeadForward64(const HeadLoopArgs& a, int64_t b, int64_t h, float* s) { HeadForwardBody<64>(a, b, h, s); }
ARITH_AVX2_FMA void HeadBackward16(const HeadLoopArgs& a, int64_t b, int64_t h, float* s) { HeadBackwardBody<16>(a, b, h, s); }
ARITH_AVX2_FMA void HeadBackward32(const HeadLoopArgs& a, int64_t b, int64_t h, float* s) { HeadBackwardBody<32>(a, b, h, s); }
ARITH_AVX2_FMA void HeadBackward64(const HeadLoopArgs& a, int64_t b, int64_t h, float* s) { HeadBackwardBody<64>(a, b, h, s); }

HeadLoop HeadLoopFor(int64_t d, bool backward) {
  if (d == 16) return backward ? HeadBackward16 : HeadForward16;
  if (d == 32) return backward ? HeadBackward32 : HeadForward32;
  return backward ? HeadBackward64 : HeadForward64;
}

// Every (batch, head) of B, split over ATen's thread pool.
void RunHeadLoops(const HeadLoopArgs& a, int64_t B, int64_t d, bool backward) {
  const HeadLoop loop = HeadLoopFor(d, backward);
  at::parallel_for(0, B * a.H, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(HeadScratch(a.T, d));
    for (int64_t bh = begin; bh < end; bh++) loop(a, bh / a.H, bh % a.H, scratch.data());
  });
}
#else
#define ARITH_HEAD_LOOPS 0
bool HasAvx2Fma() { return false; }
void RunHeadLoops(const HeadLoopArgs&, int64_t, int64_t, bool) {}
#endif

// ARITH_HEAD_LOOPS=0 keeps ATen's path, to measure what the loops buy (read at every call, so a benchmark can
// alternate in one process; both paths keep the pattern in the same layout, so either gradient reads either).
bool HeadLoopsWanted() {
  const char* setting = std::getenv("ARITH_HEAD_LOOPS");
  return setting == nullptr || std::strcmp(setting, "0") != 0;
}

bool UseHeadLoops(const at::Tensor& qkv, int64_t heads) {
  const int64_t d = qkv.size(2) / (3 * heads);
  return ARITH_HEAD_LOOPS && qkv.device().is_cpu() && qkv.scalar_type() == at::kFloat &&
         qkv.size(1) <= kLoopMaxLength && (d == 16 || d == 32 || d == 64) && HasAvx2Fma() && HeadLoopsWanted();
}

// The composed path on ATen (GPUs, wide heads): q, k, v as [B,H,T,d] views of qkv.
std::vector<at::Tensor> QkvViews(const at::Tensor& qkv, int64_t heads) {
  const int64_t B = qkv.size(0), T = qkv.size(1), d = qkv.size(2) / (3 * heads);
  const auto parts = qkv.view({B, T, 3, heads, d});
  return {parts.select(2, 0).transpose(1, 2), parts.select(2, 1).transpose(1, 2), parts.select(2, 2).transpose(1, 2)};
}

void CheckQkv(const at::Tensor& qkv, int64_t heads) {
  if (qkv.dim() != 3 || heads < 1 || qkv.size(2) % (3 * heads) != 0) {
    throw std::runtime_error("fusedQkvAttention: qkv must be [B, T, 3 * heads * d]");
  }
}

// A logits gradient [B,H,T,T] (any strides) summed over the axes a bias of `shape` was broadcast along, as a
// tensor of its own (sum_to returns its input, or a view, where nothing is summed).
at::Tensor SumToBias(const at::Tensor& dlogits, const std::vector<int64_t>& shape) {
  std::vector<int64_t> four(4 - std::min<size_t>(shape.size(), 4), 1);
  four.insert(four.end(), shape.begin(), shape.end());
  return at::sum_to(dlogits, four).reshape(shape).clone(at::MemoryFormat::Contiguous);
}

// fusedQkvAttention(qkv [B,T,3D], bias, heads, scale) -> [output [B,T,D], pattern (opaque)]
Napi::Value FusedQkvAttention(const Napi::CallbackInfo& info) {
  const auto qkv = Get(info[0]).contiguous();
  const auto& bias = Get(info[1]);
  const int64_t heads = Int(info[2]);
  const float scale = static_cast<float>(Number(info[3]));
  CheckQkv(qkv, heads);
  const QkvSizes z{qkv.size(0), qkv.size(1), heads, qkv.size(2) / (3 * heads)};
  if (UseHeadLoops(qkv, heads)) {  // heads of 16 to 64: never the lanes' (up to 8)
    const auto biasView = bias.to(at::kFloat).expand({z.B, z.H, z.T, z.T});
    auto output = at::empty({z.B, z.T, z.H * z.d}, qkv.options());
    auto pattern = at::empty({z.B, z.H, z.T, z.T}, qkv.options());
    HeadLoopArgs a{z.T, z.H, qkv.data_ptr<float>(), biasView.data_ptr<float>(), biasView.stride(0), biasView.stride(1),
                   biasView.stride(2), biasView.stride(3), scale, nullptr, output.data_ptr<float>(),
                   pattern.data_ptr<float>(), nullptr};
    RunHeadLoops(a, z.B, z.d, false);
    return PutList(info.Env(), {output, pattern});
  }
  if (!UseLaneLoops(qkv, heads)) {
    const auto qkvParts = QkvViews(qkv, heads);
    auto logits = at::matmul(qkvParts[0], qkvParts[1].transpose(-2, -1));
    logits.mul_(scale).add_(bias);
    auto pattern = at::_softmax(logits, -1, false);
    auto output = at::matmul(pattern, qkvParts[2]).transpose(1, 2).reshape({z.B, z.T, z.H * z.d});
    return PutList(info.Env(), {output, pattern});
  }
  const auto biasView = bias.to(at::kFloat).expand({z.B, z.H, z.T, z.T});
  const float* biasData = biasView.data_ptr<float>();
  const int64_t sb = biasView.stride(0), sh = biasView.stride(1), st = biasView.stride(2), ss = biasView.stride(3);
  auto output = at::empty({z.B, z.T, z.H * z.d}, qkv.options());
  auto pattern = at::empty({z.B, z.T, z.T, z.H}, qkv.options());
  const float* in = qkv.data_ptr<float>();
  float* out = output.data_ptr<float>();
  float* P = pattern.data_ptr<float>();
  const int64_t D = z.H * z.d;
  at::parallel_for(0, z.B, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(3 * z.T * D + D + 2 * z.H);
    std::vector<int32_t> live;
    live.reserve(z.T);
    float* Q = scratch.data();
    float* K = Q + z.T * D;
    float* V = K + z.T * D;
    float* O = V + z.T * D;
    for (int64_t b = begin; b < end; b++) {
      Unpack(z, in + b * z.T * 3 * D, Q, K, V);
      LaneForward(z, Q, K, V, biasData + b * sb, sh, st, ss, scale, P + b * z.T * z.T * z.H, out + b * z.T * D, O + D,
                  O, live);
    }
  });
  return PutList(info.Env(), {output, pattern});
}

// fusedQkvAttentionGrad(dy [B,T,D], qkv, pattern, heads, scale, biasShape?) -> dqkv [B,T,3D], or with the
// shape of a learned bias [dqkv, dbias]: the logits' gradient summed to that shape (it broadcast to [B,H,T,T]).
Napi::Value FusedQkvAttentionGrad(const Napi::CallbackInfo& info) {
  const auto dy = Get(info[0]).to(at::kFloat).contiguous();
  const auto qkv = Get(info[1]).contiguous();
  const auto pattern = Get(info[2]).contiguous();
  const int64_t heads = Int(info[3]);
  const float scale = static_cast<float>(Number(info[4]));
  const bool biasGrad = info.Length() > 5 && !info[5].IsUndefined() && !info[5].IsNull();
  const std::vector<int64_t> biasShape = biasGrad ? IntList(info[5]) : std::vector<int64_t>{};
  CheckQkv(qkv, heads);
  const QkvSizes z{qkv.size(0), qkv.size(1), heads, qkv.size(2) / (3 * heads)};
  const int64_t D = z.H * z.d;
  if (UseHeadLoops(qkv, heads)) {  // heads of 16 to 64: never the lanes' (up to 8)
    auto dqkv = at::empty({z.B, z.T, 3 * D}, qkv.options());
    auto dlogits = biasGrad ? at::empty({z.B, z.H, z.T, z.T}, qkv.options()) : at::Tensor();
    HeadLoopArgs a{z.T, z.H, qkv.data_ptr<float>(), nullptr, 0, 0, 0, 0, scale, dy.data_ptr<float>(),
                   dqkv.data_ptr<float>(), pattern.data_ptr<float>(),
                   biasGrad ? dlogits.data_ptr<float>() : nullptr};
    RunHeadLoops(a, z.B, z.d, true);
    if (!biasGrad) return Put(info.Env(), dqkv);
    return PutList(info.Env(), {dqkv, SumToBias(dlogits, biasShape)});
  }
  if (!UseLaneLoops(qkv, heads)) {
    const auto parts = QkvViews(qkv, heads);
    const auto g = dy.view({z.B, z.T, z.H, z.d}).transpose(1, 2);
    auto dv = at::matmul(pattern.transpose(-2, -1), g);
    auto dpattern = at::matmul(g, parts[2].transpose(-2, -1));
    auto dlogits = at::_softmax_backward_data(dpattern, pattern, -1, pattern.scalar_type());
    // Taken before the in-place scale below.
    const auto dbias = biasGrad ? SumToBias(dlogits, biasShape) : at::Tensor();
    dlogits.mul_(scale);
    auto dq = at::matmul(dlogits, parts[1]);
    auto dk = at::matmul(dlogits.transpose(-2, -1), parts[0]);
    auto dqkv = at::stack({dq.transpose(1, 2), dk.transpose(1, 2), dv.transpose(1, 2)}, 2).reshape({z.B, z.T, 3 * D});
    return biasGrad ? PutList(info.Env(), {dqkv, dbias}) : Put(info.Env(), dqkv);
  }
  auto dqkv = at::empty({z.B, z.T, 3 * D}, qkv.options());
  // The logits' gradient in the pattern's layout [B,T,S,H]; keys no head attends to keep their zero.
  auto dlogits = biasGrad ? at::zeros({z.B, z.T, z.T, z.H}, qkv.options()) : at::Tensor();
  float* dL = biasGrad ? dlogits.data_ptr<float>() : nullptr;
  const float* in = qkv.data_ptr<float>();
  const float* g = dy.data_ptr<float>();
  const float* P = pattern.data_ptr<float>();
  float* grad = dqkv.data_ptr<float>();
  at::parallel_for(0, z.B, 1, [&](int64_t begin, int64_t end) {
    const int64_t n = z.T * D;
    std::vector<float> scratch(7 * n + z.T * z.H + z.H);
    std::vector<int32_t> live;
    live.reserve(z.T);
    float* Q = scratch.data();
    float* K = Q + n;
    float* V = K + n;
    float* DY = V + n;
    float* dQ = DY + n;
    float* dK = dQ + n;
    float* dV = dK + n;
    float* dP = dV + n;
    float* w = dP + z.T * z.H;
    for (int64_t b = begin; b < end; b++) {
      Unpack(z, in + b * 3 * n, Q, K, V);
      for (int64_t t = 0; t < z.T; t++) UnpackRow(z, g + b * n + t * D, DY + t * D);
      std::fill(dQ, dQ + 3 * n, 0.0f);
      LaneBackward(z, DY, Q, K, V, P + b * z.T * z.T * z.H, scale, dP, w, dQ, dK, dV,
                   dL ? dL + b * z.T * z.T * z.H : nullptr, live);
      float* gradB = grad + b * 3 * n;
      for (int64_t t = 0; t < z.T; t++) {
        PackRow(z, dQ + t * D, gradB + (t * 3 + 0) * D);
        PackRow(z, dK + t * D, gradB + (t * 3 + 1) * D);
        PackRow(z, dV + t * D, gradB + (t * 3 + 2) * D);
      }
    }
  });
  if (!biasGrad) return Put(info.Env(), dqkv);
  return PutList(info.Env(), {dqkv, SumToBias(dlogits.permute({0, 3, 1, 2}), biasShape)});
}

void Init(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "fusedAttention", FusedAttention);
  Export(env, exports, "fusedAttentionGrad", FusedAttentionGrad);
  Export(env, exports, "fusedQkvAttention", FusedQkvAttention);
  Export(env, exports, "fusedQkvAttentionGrad", FusedQkvAttentionGrad);
}

}  // namespace

ARITH_MODULE(fused_attention, Init);

}  // namespace arith
