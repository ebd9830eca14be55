// Fused linear layer (src/models/fused.ts: ArithLinear, ArithLinearGrad): x[..., in] @ w[in, out] + b in one
// addmm, where the composed version flattens, multiplies, adds the bias in a second pass over the output and
// reshapes (and its gradient transposes explicitly, for wasm's sake).
#include <ATen/ATen.h>

#include "tensor_handle.h"

namespace arith {

namespace {

at::Tensor Flat(const at::Tensor& x) { return x.reshape({-1, x.size(-1)}); }

std::vector<int64_t> WithLast(at::IntArrayRef sizes, int64_t last) {
  std::vector<int64_t> out(sizes.begin(), sizes.end());
  out.back() = last;
  return out;
}

// fusedLinear(x, weight, bias | null) -> y [..., out]
Napi::Value FusedLinear(const Napi::CallbackInfo& info) {
  const auto& x = Get(info[0]);
  const auto& weight = Get(info[1]);
  const auto flat = Flat(x);
  auto y = info[2].IsNull() ? at::mm(flat, weight) : at::addmm(Get(info[2]), flat, weight);
  return Put(info.Env(), y.view(WithLast(x.sizes(), weight.size(1))));
}

// fusedLinearGrad(dy, x, weight, hasBias) -> [dx, dweight(, dbias)]
Napi::Value FusedLinearGrad(const Napi::CallbackInfo& info) {
  const auto dy = Flat(Get(info[0]));
  const auto& x = Get(info[1]);
  const auto& weight = Get(info[2]);
  auto dx = at::mm(dy, weight.t()).view(x.sizes());
  auto dweight = at::mm(Flat(x).t(), dy);
  if (!Bool(info[3])) return PutList(info.Env(), {dx, dweight});
  return PutList(info.Env(), {dx, dweight, dy.sum(0)});
}

void Init(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "fusedLinear", FusedLinear);
  Export(env, exports, "fusedLinearGrad", FusedLinearGrad);
}

}  // namespace

ARITH_MODULE(fused_linear, Init);

}  // namespace arith
