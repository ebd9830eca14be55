// Fused GELU, tanh approximation (src/models/fused.ts: ArithGelu, ArithGeluGrad): one call each way where the
// composed tfjs version runs 8 element-wise kernels forward and 14 backward.
//
// On the CPU, float32: one vectorized pass each way, 0.5 (1 + tanh(u)) written as sigmoid(2u). ATen's gelu runs
// tanh one float at a time in some builds (Debian's 1.13: ~3x this forward), and a chain of ATen element-wise
// ops in place (6 passes forward, 13 backward, the previous version here) reads and writes the MLP's widest
// tensor once per op: in the 6-layer d_model 384 model's step that was 160 ms against PyTorch's ~115 in tanh
// (docs/results.md, "GELU in one pass"). Elsewhere (a GPU, other dtypes) ATen's kernels, one launch each.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cstdint>

#include "tensor_handle.h"
#include "vector_math.h"

namespace arith {

namespace {

constexpr float kK = 1.5957691216057308f;  // 2 sqrt(2 / pi): sigmoid(t), t = kK (x + kC x^3), is 0.5 (1 + tanh(u))
constexpr float kKC = 1.5957691216057308f * 0.044715f;

// Elements per task when ATen splits a pass across threads (its own element-wise grain).
constexpr int64_t kGrain = 32768;

bool UseLoops(const at::Tensor& x) { return x.device().is_cpu() && x.scalar_type() == at::kFloat; }

// y = x sigmoid(t)
ARITH_VECTOR_CLONES
void GeluForward(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    float s, complement;
    Sigmoid(v * (kK + kKC * v * v), s, complement);
    y[i] = v * s;
  }
}

// dx = dy (s + x s (1 - s) dt/dx), dt/dx = kK + 3 kKC x^2
ARITH_VECTOR_CLONES
void GeluBackward(const float* dy, const float* x, float* dx, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    const float v2 = v * v;
    float s, complement;
    Sigmoid(v * (kK + kKC * v2), s, complement);
    dx[i] = dy[i] * (s + v * s * complement * (kK + 3.0f * kKC * v2));
  }
}

// fusedGelu(x) -> y
Napi::Value FusedGelu(const Napi::CallbackInfo& info) {
  const auto& input = Get(info[0]);
  if (!UseLoops(input)) return Put(info.Env(), at::gelu(input, "tanh"));
  const auto x = input.contiguous();
  auto y = at::empty_like(x);
  const float* xs = x.data_ptr<float>();
  float* ys = y.data_ptr<float>();
  at::parallel_for(0, x.numel(), kGrain, [&](int64_t begin, int64_t end) { GeluForward(xs + begin, ys + begin, end - begin); });
  return Put(info.Env(), y);
}

// fusedGeluGrad(dy, x) -> dx
Napi::Value FusedGeluGrad(const Napi::CallbackInfo& info) {
  const auto& gradient = Get(info[0]);
  const auto& input = Get(info[1]);
  if (!UseLoops(input) || !UseLoops(gradient) || gradient.sizes() != input.sizes())
    return Put(info.Env(), at::gelu_backward(gradient, input, "tanh"));
  const auto x = input.contiguous();
  const auto dy = gradient.contiguous();
  auto dx = at::empty_like(x);
  const float* xs = x.data_ptr<float>();
  const float* dys = dy.data_ptr<float>();
  float* dxs = dx.data_ptr<float>();
  at::parallel_for(0, x.numel(), kGrain, [&](int64_t begin, int64_t end) {
    GeluBackward(dys + begin, xs + begin, dxs + begin, end - begin);
  });
  return Put(info.Env(), dx);
}

void Init(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "fusedGelu", FusedGelu);
  Export(env, exports, "fusedGeluGrad", FusedGeluGrad);
}

}  // namespace

ARITH_MODULE(fused_gelu, Init);

}  // namespace arith
