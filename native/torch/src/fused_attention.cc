// Fused attention core (src/models/fused.ts: ArithAttention, ArithAttentionGrad): softmax(q kᵀ scale + bias) v
// and its gradient with the pattern saved from the forward pass. q [B,H,T,d], k and v [B,H,S,d]; the bias
// (causal mask, ALiBi, an offset mask when decoding with a cache) broadcasts to [B,H,T,S]. Positional rotations
// (RoPE) are applied to q and k before, in tfjs.
#include <ATen/ATen.h>

#include "tensor_handle.h"

namespace arith {

namespace {

// fusedAttention(q, k, v, bias, scale) -> [output [B,H,T,d], pattern [B,H,T,S]]
Napi::Value FusedAttention(const Napi::CallbackInfo& info) {
  const auto& q = Get(info[0]);
  const auto& k = Get(info[1]);
  const auto& v = Get(info[2]);
  const auto& bias = Get(info[3]);
  const double scale = Number(info[4]);
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
