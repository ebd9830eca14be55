// Matrix products. tfjs hands BatchMatMul rank-3 operands whose batch axes broadcast; transposes are views.
#include "tensor_handle.h"

namespace arith {

namespace {

// batchMatMul(a, b, transposeA, transposeB)
Napi::Value BatchMatMul(const Napi::CallbackInfo& info) {
  auto a = Get(info[0]);
  auto b = Get(info[1]);
  if (Bool(info[2])) a = a.transpose(-2, -1);
  if (Bool(info[3])) b = b.transpose(-2, -1);
  return Put(info.Env(), at::matmul(a, b));
}

}  // namespace

static void InitMatmul(Napi::Env env, Napi::Object exports) { Export(env, exports, "batchMatMul", BatchMatMul); }

ARITH_MODULE(matmul, InitMatmul);

}  // namespace arith
