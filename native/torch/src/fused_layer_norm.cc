// Fused layer norm over the last axis (src/models/fused.ts: ArithLayerNorm, ArithLayerNormGrad): ATen's own
// kernels, one call each way where the composed tfjs version runs ~10 kernels forward and ~20 backward.
#include <ATen/ATen.h>

#include "tensor_handle.h"

namespace arith {

namespace {

// fusedLayerNorm(x, gain, bias, epsilon) -> [y, mean, rstd]; mean and rstd go back in for the gradient.
Napi::Value FusedLayerNorm(const Napi::CallbackInfo& info) {
  const auto& x = Get(info[0]);
  const auto [y, mean, rstd] = at::native_layer_norm(x, {x.size(-1)}, Get(info[1]), Get(info[2]), Number(info[3]));
  return PutList(info.Env(), {y, mean, rstd});
}

// fusedLayerNormGrad(dy, x, mean, rstd, gain, bias) -> [dx, dgain, dbias]
Napi::Value FusedLayerNormGrad(const Napi::CallbackInfo& info) {
  const auto& x = Get(info[1]);
  // ATen's CPU kernel reads dy as a contiguous buffer; tfjs may hand over a transposed view.
  const auto dy = Get(info[0]).contiguous();
  const auto [dx, dgain, dbias] =
      at::native_layer_norm_backward(dy, x, {x.size(-1)}, Get(info[2]), Get(info[3]), Get(info[4]), Get(info[5]), {true, true, true});
  return PutList(info.Env(), {dx, dgain, dbias});
}

void Init(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "fusedLayerNorm", FusedLayerNorm);
  Export(env, exports, "fusedLayerNormGrad", FusedLayerNormGrad);
}

}  // namespace

ARITH_MODULE(fused_layer_norm, Init);

}  // namespace arith
