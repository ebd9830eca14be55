// Reductions over a list of axes (already normalised to non-negative by the backend), arg-reductions and
// softmax. An empty axis list reduces nothing, as in tfjs (libtorch would reduce everything).
#include "tensor_handle.h"

namespace arith {

namespace {

using Reduction = at::Tensor (*)(const at::Tensor&, at::IntArrayRef, bool);

struct ReductionEntry {
  const char* name;
  Reduction fn;
};

// Integer sums stay in the input's type (libtorch would widen to int64); tfjs sums int32 and bool as int32.
at::ScalarType SumType(const at::Tensor& x) { return x.scalar_type() == at::kBool ? at::kInt : x.scalar_type(); }

at::Tensor ReduceOneByOne(const at::Tensor& x, at::IntArrayRef axes, bool keepDims, at::Tensor (*one)(const at::Tensor&, int64_t, bool)) {
  std::vector<int64_t> sorted(axes.begin(), axes.end());
  std::sort(sorted.rbegin(), sorted.rend());  // from the last axis, so earlier indices stay valid
  at::Tensor out = x;
  for (auto axis : sorted) out = one(out, axis, keepDims);
  return out;
}

const ReductionEntry kReductions[] = {
    {"sum", [](const at::Tensor& x, at::IntArrayRef axes, bool keep) { return at::sum(x, axes, keep, SumType(x)); }},
    {"mean", [](const at::Tensor& x, at::IntArrayRef axes, bool keep) { return at::mean(x.is_floating_point() ? x : x.to(at::kFloat), axes, keep); }},
    {"prod", [](const at::Tensor& x, at::IntArrayRef axes, bool keep) {
       return ReduceOneByOne(x, axes, keep, [](const at::Tensor& t, int64_t axis, bool k) { return at::prod(t, axis, k, SumType(t)); });
     }},
    {"max", [](const at::Tensor& x, at::IntArrayRef axes, bool keep) { return at::amax(x, axes, keep); }},
    {"min", [](const at::Tensor& x, at::IntArrayRef axes, bool keep) { return at::amin(x, axes, keep); }},
    {"any", [](const at::Tensor& x, at::IntArrayRef axes, bool keep) {
       return ReduceOneByOne(x, axes, keep, [](const at::Tensor& t, int64_t axis, bool k) { return at::any(t, axis, k); });
     }},
    {"all", [](const at::Tensor& x, at::IntArrayRef axes, bool keep) {
       return ReduceOneByOne(x, axes, keep, [](const at::Tensor& t, int64_t axis, bool k) { return at::all(t, axis, k); });
     }},
};

// <reduction>(x, axes, keepDims)
Napi::Value CallReduction(const Napi::CallbackInfo& info) {
  const auto& x = Get(info[0]);
  const auto axes = IntList(info[1]);
  const bool keepDims = Bool(info[2]);
  if (axes.empty()) return Put(info.Env(), x);
  return Put(info.Env(), Extra<Reduction>(info)(x, axes, keepDims));
}

// argMax(x, axis), argMin(x, axis): int32 indices of the first extreme value.
Napi::Value ArgMax(const Napi::CallbackInfo& info) { return Put(info.Env(), at::argmax(Get(info[0]), Int(info[1]))); }
Napi::Value ArgMin(const Napi::CallbackInfo& info) { return Put(info.Env(), at::argmin(Get(info[0]), Int(info[1]))); }

// softmax(x, axis), logSoftmax(x, axis)
Napi::Value Softmax(const Napi::CallbackInfo& info) { return Put(info.Env(), at::softmax(Get(info[0]), Int(info[1]))); }
Napi::Value LogSoftmax(const Napi::CallbackInfo& info) { return Put(info.Env(), at::log_softmax(Get(info[0]), Int(info[1]))); }

// cumsum(x, axis, exclusive, reverse), as tfjs's Cumsum.
Napi::Value Cumsum(const Napi::CallbackInfo& info) {
  auto x = Get(info[0]);
  const auto axis = Int(info[1]);
  const bool exclusive = Bool(info[2]);
  const bool reverse = Bool(info[3]);
  if (reverse) x = x.flip(axis);
  auto out = at::cumsum(x, axis, SumType(x));
  if (exclusive) out = out - x;
  if (reverse) out = out.flip(axis);
  return Put(info.Env(), out);
}

}  // namespace

static void InitReduce(Napi::Env env, Napi::Object exports) {
  for (const auto& entry : kReductions) Export(env, exports, entry.name, CallReduction, reinterpret_cast<const void*>(entry.fn));
  Export(env, exports, "argMax", ArgMax);
  Export(env, exports, "argMin", ArgMin);
  Export(env, exports, "softmax", Softmax);
  Export(env, exports, "logSoftmax", LogSoftmax);
  Export(env, exports, "cumsum", Cumsum);
}

ARITH_MODULE(reduce, InitReduce);

}  // namespace arith
