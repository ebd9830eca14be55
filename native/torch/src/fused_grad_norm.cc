// Global gradient norm and clipping (src/models/fused.ts: ArithGlobalNorm, ArithScaleAll): one call each for
// every parameter's gradient, where the composed version runs ~3 kernels per parameter for the norm and one
// per parameter for the scaling (on a GPU each is a launch).
#include <ATen/ATen.h>

#include "tensor_handle.h"

namespace arith {

namespace {

// fusedGlobalNorm([g...]) -> sqrt(sum over tensors of sum(g^2)) as a scalar tensor
Napi::Value FusedGlobalNorm(const Napi::CallbackInfo& info) {
  const auto grads = GetList(info[0]);
  if (grads.empty()) return Put(info.Env(), at::zeros({}, Options(at::kFloat)));
  const auto norms = at::_foreach_norm(grads, 2);
  return Put(info.Env(), at::stack(norms).square().sum().sqrt());
}

// fusedScaleAll([g...], scale) -> [g * scale...]
Napi::Value FusedScaleAll(const Napi::CallbackInfo& info) {
  return PutList(info.Env(), at::_foreach_mul(GetList(info[0]), Number(info[1])));
}

void Init(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "fusedGlobalNorm", FusedGlobalNorm);
  Export(env, exports, "fusedScaleAll", FusedScaleAll);
}

}  // namespace

ARITH_MODULE(fused_grad_norm, Init);

}  // namespace arith
