// Tensors made on the device from a few numbers, so a training step uploads no constants from the host.
#include <ATen/Context.h>

#include <mutex>

#include "tensor_handle.h"

namespace arith {

namespace {

// fill(shape, value, dtypeCode)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  const auto type = ScalarTypeOf(static_cast<int32_t>(Int(info[2])));
  return Put(info.Env(), at::full(IntList(info[0]), at::Scalar(Number(info[1])), Options(type)));
}

// zerosLike(x), onesLike(x)
Napi::Value ZerosLike(const Napi::CallbackInfo& info) { return Put(info.Env(), at::zeros_like(Get(info[0]))); }
Napi::Value OnesLike(const Napi::CallbackInfo& info) { return Put(info.Env(), at::ones_like(Get(info[0]))); }

// range(start, step, count, dtypeCode): start + i * step for i < count (the backend counts as tfjs does).
Napi::Value Range(const Napi::CallbackInfo& info) {
  const double start = Number(info[0]);
  const double step = Number(info[1]);
  const int64_t count = Int(info[2]);
  const auto type = ScalarTypeOf(static_cast<int32_t>(Int(info[3])));
  if (type == at::kInt) return Put(info.Env(), at::arange(count, Options(at::kInt)).mul_(static_cast<int64_t>(step)).add_(static_cast<int64_t>(start)));
  // Double then float: start + i * step rounded once, as tfjs's float32 loop gives for the integral steps used here.
  return Put(info.Env(), at::arange(count, Options(at::kDouble)).mul_(step).add_(start).to(at::kFloat));
}

// randomUniform(shape, seed): float32 uniform in [0, 1) drawn on the device from the seed alone, so a dropout
// mask costs no host buffer and the same seed gives the same mask (libtorch's stream, not tfjs's).
Napi::Value RandomUniform(const Napi::CallbackInfo& info) {
  auto out = at::empty(IntList(info[0]), Options(at::kFloat));
  auto generator = at::globalContext().defaultGenerator(CurrentDevice());
  {
    // uniform_ takes the generator's lock itself: hold it only while seeding.
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_current_seed(static_cast<uint64_t>(Int(info[1])));
  }
  out.uniform_(0, 1, generator);
  return Put(info.Env(), out);
}

}  // namespace

static void InitCreation(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "fill", Fill);
  Export(env, exports, "zerosLike", ZerosLike);
  Export(env, exports, "onesLike", OnesLike);
  Export(env, exports, "range", Range);
  Export(env, exports, "randomUniform", RandomUniform);
}

ARITH_MODULE(creation, InitCreation);

}  // namespace arith
