// Element-wise kernels: tables of unary and binary operations, each exported under its own name, plus the
// ones with attributes (cast, clip, step, select, addN). Broadcasting is libtorch's, which is numpy's, as tfjs's.
#include "tensor_handle.h"

namespace arith {

namespace {

using Unary = at::Tensor (*)(const at::Tensor&);
using Binary = at::Tensor (*)(const at::Tensor&, const at::Tensor&);

struct UnaryEntry {
  const char* name;
  Unary fn;
};
struct BinaryEntry {
  const char* name;
  Binary fn;
};

const UnaryEntry kUnary[] = {
    {"abs", [](const at::Tensor& x) { return at::abs(x); }},
    {"neg", [](const at::Tensor& x) { return at::neg(x); }},
    {"exp", [](const at::Tensor& x) { return at::exp(x); }},
    {"expm1", [](const at::Tensor& x) { return at::expm1(x); }},
    {"log", [](const at::Tensor& x) { return at::log(x); }},
    {"log1p", [](const at::Tensor& x) { return at::log1p(x); }},
    {"sqrt", [](const at::Tensor& x) { return at::sqrt(x); }},
    {"rsqrt", [](const at::Tensor& x) { return at::rsqrt(x); }},
    {"square", [](const at::Tensor& x) { return at::mul(x, x); }},
    {"reciprocal", [](const at::Tensor& x) { return at::reciprocal(x); }},
    {"tanh", [](const at::Tensor& x) { return at::tanh(x); }},
    {"sin", [](const at::Tensor& x) { return at::sin(x); }},
    {"cos", [](const at::Tensor& x) { return at::cos(x); }},
    {"tan", [](const at::Tensor& x) { return at::tan(x); }},
    {"asin", [](const at::Tensor& x) { return at::asin(x); }},
    {"acos", [](const at::Tensor& x) { return at::acos(x); }},
    {"atan", [](const at::Tensor& x) { return at::atan(x); }},
    {"sinh", [](const at::Tensor& x) { return at::sinh(x); }},
    {"cosh", [](const at::Tensor& x) { return at::cosh(x); }},
    {"sigmoid", [](const at::Tensor& x) { return at::sigmoid(x); }},
    {"softplus", [](const at::Tensor& x) { return at::softplus(x); }},
    {"relu", [](const at::Tensor& x) { return at::relu(x); }},
    {"relu6", [](const at::Tensor& x) { return at::clamp(x, at::Scalar(0.0), at::Scalar(6.0)); }},
    {"elu", [](const at::Tensor& x) { return at::elu(x); }},
    {"selu", [](const at::Tensor& x) { return at::selu(x); }},
    {"erf", [](const at::Tensor& x) { return at::erf(x); }},
    {"floor", [](const at::Tensor& x) { return at::floor(x); }},
    {"ceil", [](const at::Tensor& x) { return at::ceil(x); }},
    {"round", [](const at::Tensor& x) { return at::round(x); }},  // half to even, as tfjs
    {"sign", [](const at::Tensor& x) { return at::sign(x); }},
    {"logicalNot", [](const at::Tensor& x) { return at::logical_not(x); }},
    {"isNaN", [](const at::Tensor& x) { return at::isnan(x); }},
    {"isInf", [](const at::Tensor& x) { return at::isinf(x); }},
    {"isFinite", [](const at::Tensor& x) { return at::isfinite(x); }},
    {"clone", [](const at::Tensor& x) { return x.clone(); }},
};

const BinaryEntry kBinary[] = {
    {"add", [](const at::Tensor& a, const at::Tensor& b) { return at::add(a, b); }},
    {"sub", [](const at::Tensor& a, const at::Tensor& b) { return at::sub(a, b); }},
    {"mul", [](const at::Tensor& a, const at::Tensor& b) { return at::mul(a, b); }},
    {"div", [](const at::Tensor& a, const at::Tensor& b) { return at::div(a, b); }},
    {"floorDiv", [](const at::Tensor& a, const at::Tensor& b) { return at::div(a, b, "floor"); }},
    {"mod", [](const at::Tensor& a, const at::Tensor& b) { return at::remainder(a, b); }},  // sign of the divisor, as tfjs
    {"pow", [](const at::Tensor& a, const at::Tensor& b) { return at::pow(a, b); }},
    {"maximum", [](const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); }},
    {"minimum", [](const at::Tensor& a, const at::Tensor& b) { return at::minimum(a, b); }},
    {"squaredDifference", [](const at::Tensor& a, const at::Tensor& b) { auto d = at::sub(a, b); return at::mul(d, d); }},
    {"atan2", [](const at::Tensor& a, const at::Tensor& b) { return at::atan2(a, b); }},
    {"equal", [](const at::Tensor& a, const at::Tensor& b) { return at::eq(a, b); }},
    {"notEqual", [](const at::Tensor& a, const at::Tensor& b) { return at::ne(a, b); }},
    {"less", [](const at::Tensor& a, const at::Tensor& b) { return at::lt(a, b); }},
    {"lessEqual", [](const at::Tensor& a, const at::Tensor& b) { return at::le(a, b); }},
    {"greater", [](const at::Tensor& a, const at::Tensor& b) { return at::gt(a, b); }},
    {"greaterEqual", [](const at::Tensor& a, const at::Tensor& b) { return at::ge(a, b); }},
    {"logicalAnd", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_and(a, b); }},
    {"logicalOr", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_or(a, b); }},
    {"logicalXor", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_xor(a, b); }},
};

Napi::Value CallUnary(const Napi::CallbackInfo& info) { return Put(info.Env(), Extra<Unary>(info)(Get(info[0]))); }
Napi::Value CallBinary(const Napi::CallbackInfo& info) { return Put(info.Env(), Extra<Binary>(info)(Get(info[0]), Get(info[1]))); }

// cast(x, dtypeCode)
Napi::Value Cast(const Napi::CallbackInfo& info) { return Put(info.Env(), Get(info[0]).to(ScalarTypeOf(static_cast<int32_t>(Int(info[1]))))); }

// clip(x, min, max)
Napi::Value Clip(const Napi::CallbackInfo& info) { return Put(info.Env(), at::clamp(Get(info[0]), at::Scalar(Number(info[1])), at::Scalar(Number(info[2])))); }

// step(x, alpha): 1 where x > 0, alpha elsewhere, NaN stays NaN (tfjs's Step, the gradient of relu).
Napi::Value Step(const Napi::CallbackInfo& info) {
  const auto& x = Get(info[0]);
  auto out = at::where(x > 0, at::ones_like(x), at::full_like(x, Number(info[1])));
  return Put(info.Env(), at::where(at::isnan(x), x, out));
}

// leakyRelu(x, alpha)
Napi::Value LeakyRelu(const Napi::CallbackInfo& info) {
  const auto& x = Get(info[0]);
  return Put(info.Env(), at::where(x < 0, x * Number(info[1]), x));
}

// prelu(x, alpha): alpha broadcasts against x.
Napi::Value Prelu(const Napi::CallbackInfo& info) {
  const auto& x = Get(info[0]);
  return Put(info.Env(), at::where(x < 0, x * Get(info[1]), x));
}

// select(condition, a, b): tfjs lets a rank-1 condition pick whole rows of higher-rank a and b.
Napi::Value Select(const Napi::CallbackInfo& info) {
  auto condition = Get(info[0]);
  const auto& a = Get(info[1]);
  const auto& b = Get(info[2]);
  if (condition.dim() == 1 && a.dim() > 1) {
    std::vector<int64_t> shape(a.dim(), 1);
    shape[0] = condition.size(0);
    condition = condition.reshape(shape);
  }
  return Put(info.Env(), at::where(condition.to(at::kBool), a, b));
}

// addN([ids])
Napi::Value AddN(const Napi::CallbackInfo& info) {
  auto tensors = GetList(info[0]);
  at::Tensor sum = tensors[0].clone();
  for (size_t i = 1; i < tensors.size(); i++) sum.add_(tensors[i]);
  return Put(info.Env(), sum);
}

}  // namespace

static void InitElementwise(Napi::Env env, Napi::Object exports) {
  for (const auto& entry : kUnary) Export(env, exports, entry.name, CallUnary, reinterpret_cast<const void*>(entry.fn));
  for (const auto& entry : kBinary) Export(env, exports, entry.name, CallBinary, reinterpret_cast<const void*>(entry.fn));
  Export(env, exports, "cast", Cast);
  Export(env, exports, "clip", Clip);
  Export(env, exports, "step", Step);
  Export(env, exports, "leakyRelu", LeakyRelu);
  Export(env, exports, "prelu", Prelu);
  Export(env, exports, "select", Select);
  Export(env, exports, "addN", AddN);
}

ARITH_MODULE(elementwise, InitElementwise);

}  // namespace arith
