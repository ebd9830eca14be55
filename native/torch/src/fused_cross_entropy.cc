// Fused masked cross-entropy (src/models/fused.ts: ArithMaskedCrossEntropy and its gradient): mean negative
// log-likelihood of the targets over the positions where mask is 1, as src/models/loss.ts composes it.
#include <ATen/ATen.h>

#include "tensor_handle.h"

namespace arith {

namespace {

// fusedMaskedCrossEntropy(logits [B,T,V], targets [B,T] int32, mask [B,T]) -> [loss [], logProbabilities]
Napi::Value FusedMaskedCrossEntropy(const Napi::CallbackInfo& info) {
  const auto& logits = Get(info[0]);
  const auto targets = Get(info[1]).to(at::kLong).unsqueeze(-1);
  const auto& mask = Get(info[2]);
  auto logProbabilities = at::_log_softmax(logits, -1, false);
  auto picked = logProbabilities.gather(-1, targets).squeeze(-1);
  auto loss = at::neg(at::mul(picked, mask).sum()).div_(at::clamp_min(mask.sum(), 1));
  return PutList(info.Env(), {loss, logProbabilities});
}

// fusedMaskedCrossEntropyGrad(dy [], logProbabilities, targets, mask) -> dlogits = (softmax - onehot) * mask * dy / count
Napi::Value FusedMaskedCrossEntropyGrad(const Napi::CallbackInfo& info) {
  const auto& dy = Get(info[0]);
  const auto& logProbabilities = Get(info[1]);
  const auto targets = Get(info[2]).to(at::kLong).unsqueeze(-1);
  const auto& mask = Get(info[3]);
  auto grad = at::exp(logProbabilities);
  grad.scatter_add_(-1, targets, at::full(targets.sizes(), -1.0, grad.options()));
  auto weight = at::mul(mask, at::div(dy, at::clamp_min(mask.sum(), 1)));
  grad.mul_(weight.unsqueeze(-1));
  return Put(info.Env(), grad);
}

void Init(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "fusedMaskedCrossEntropy", FusedMaskedCrossEntropy);
  Export(env, exports, "fusedMaskedCrossEntropyGrad", FusedMaskedCrossEntropyGrad);
}

}  // namespace

ARITH_MODULE(fused_cross_entropy, Init);

}  // namespace arith
