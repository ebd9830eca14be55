// One AdamW step for every parameter (src/models/fused.ts: ArithAdamW), updating weights and moments in place:
// the tensors keep their slots, so tfjs's variables keep their data ids and see the new values. Multi-tensor
// (_foreach) ops: on CUDA a handful of kernel launches for all parameters; on the CPU a loop inside one call.
// The arithmetic is src/experiments/adamw.ts's: bias corrections and the learning rate come from there.
#include <ATen/ATen.h>

#include <unordered_set>

#include "tensor_handle.h"

namespace arith {

namespace {

// In-place updates need each tensor to own dense memory that no other one of the update shares (a backend
// may hand out expanded or shared constants, e.g. for zerosLike); otherwise give the slot a private copy.
void MakeWritable(std::vector<at::Tensor>& tensors, std::unordered_set<const void*>& seen) {
  for (auto& tensor : tensors) {
    if (tensor.numel() == 0) continue;
    if (!tensor.is_non_overlapping_and_dense() || seen.count(tensor.data_ptr())) tensor.set_(tensor.clone(at::MemoryFormat::Contiguous));
    seen.insert(tensor.data_ptr());
  }
}

// fusedAdamW(params[], grads[], m[], v[], decay[] (0/1), lr, beta1, beta2, epsilon, weightDecay, correction1,
// correction2): p -= lr * (m / c1) / (sqrt(v / c2) + eps), after p *= 1 - lr * wd where decay[i].
Napi::Value FusedAdamW(const Napi::CallbackInfo& info) {
  auto params = GetList(info[0]);
  const auto grads = GetList(info[1]);
  auto m = GetList(info[2]);
  auto v = GetList(info[3]);
  const auto decay = IntList(info[4]);
  const double lr = Number(info[5]), beta1 = Number(info[6]), beta2 = Number(info[7]), epsilon = Number(info[8]);
  const double weightDecay = Number(info[9]), correction1 = Number(info[10]), correction2 = Number(info[11]);
  const auto n = params.size();
  if (grads.size() != n || m.size() != n || v.size() != n || decay.size() != n) throw std::runtime_error("fusedAdamW: lists of different lengths");
  std::unordered_set<const void*> seen;
  MakeWritable(params, seen);
  MakeWritable(m, seen);
  MakeWritable(v, seen);

  at::_foreach_mul_(m, beta1);
  at::_foreach_add_(m, grads, 1 - beta1);
  at::_foreach_mul_(v, beta2);
  at::_foreach_addcmul_(v, grads, grads, 1 - beta2);
  auto denominators = at::_foreach_div(v, correction2);
  at::_foreach_sqrt_(denominators);
  at::_foreach_add_(denominators, epsilon);
  if (weightDecay > 0) {
    std::vector<at::Tensor> decayed;
    for (size_t i = 0; i < n; i++)
      if (decay[i]) decayed.push_back(params[i]);
    if (!decayed.empty()) at::_foreach_mul_(decayed, 1 - lr * weightDecay);
  }
  at::_foreach_addcdiv_(params, m, denominators, -lr / correction1);
  return info.Env().Undefined();
}

void Init(Napi::Env env, Napi::Object exports) { Export(env, exports, "fusedAdamW", FusedAdamW); }

}  // namespace

ARITH_MODULE(fused_adamw, Init);

}  // namespace arith
