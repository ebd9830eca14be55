// arith_torch: libtorch (ATen) tensors and kernels for the tfjs backend in src/backends/torch.
//
// How to add a native function (fused kernels included):
//   1. Write it in the .cc file of its family, or in a new src/<family>.cc (binding.gyp compiles every
//      src/*.cc) ending with `ARITH_MODULE(<family>, Init<Family>);` where Init<Family>(env, exports) calls
//      Export for each function. Signature of a function:
//        Napi::Value MyOp(const Napi::CallbackInfo& info)
//      Tensors arrive as slot numbers: Get(info[i]) gives the at::Tensor, GetList(info[i]) a list; numbers and
//      lists via Int/Number/Bool/IntList (tensor_handle.h). Allocate new tensors with Options(dtype) so they
//      land on the current device (cpu or cuda).
//   2. Return Put(env, result) for one tensor (its rank, dtype and shape go to the shared description buffer
//      the backend reads right after the call), or PutList(env, {a, b}) for several (the backend then calls
//      describe(id) for each). int64/float64 results become int32/float32.
//   3. Export(env, exports, "myOp", MyOp). Throw std::runtime_error, or let libtorch throw: either becomes a
//      JS Error carrying the message.
//   4. Declare it in src/backends/torch/addon.ts (the TorchAddon interface) and call it from a kernel: see the
//      comment at the top of src/backends/torch/register.ts.
#include "tensor_handle.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  for (const auto& [name, init] : arith::Modules()) init(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(arith_torch, Init)
