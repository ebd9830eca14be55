// Native tensors live in one table and JavaScript holds their slot numbers (tfjs-node keeps an id -> handle map
// the same way). A number crosses N-API far faster than a wrapped object, and a slot is freed exactly when the
// backend's disposeData calls `dispose`, not whenever the garbage collector runs.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>

#include <cstdint>
#include <vector>

namespace arith {

// dtype codes shared with src/backends/torch/addon.ts.
enum DtypeCode : int32_t { kFloat32 = 0, kInt32 = 1, kBool = 2 };

at::ScalarType ScalarTypeOf(int32_t code);
int32_t CodeOf(at::ScalarType type);

// The device new tensors are created on (cpu unless setDevice('cuda')).
at::Device& CurrentDevice();
at::TensorOptions Options(at::ScalarType type);

// The tensor in slot `id` (a JS number); throws a JS error for a freed or unknown slot.
const at::Tensor& Get(const Napi::Value& id);
// A list of slot numbers.
std::vector<at::Tensor> GetList(const Napi::Value& ids);
// Stores a result (int64 -> int32, float64 -> float32, so tfjs sees only its own dtypes), writes its rank,
// shape and dtype into the shared description buffer, and returns its slot number.
Napi::Value Put(Napi::Env env, at::Tensor tensor);
// Several results: an array of slot numbers (descriptions via `describe`).
Napi::Value PutList(Napi::Env env, const std::vector<at::Tensor>& tensors);
at::Tensor Normalize(at::Tensor tensor);

int64_t LiveTensors();

// Argument helpers.
std::vector<int64_t> IntList(const Napi::Value& value);
int64_t Int(const Napi::Value& value);
double Number(const Napi::Value& value);
bool Bool(const Napi::Value& value);

// Registers `fn` as exports[name], turning C++ exceptions (c10::Error included) into JS errors with the
// message only (libtorch's messages carry a C++ backtrace).
// `extra` lets one callback serve a table of operations (see elementwise.cc); read it with Extra<T>(info).
using Callback = Napi::Value (*)(const Napi::CallbackInfo&);
struct Exported {
  Callback fn;
  const void* extra;
};
void Export(Napi::Env env, Napi::Object exports, const char* name, Callback fn, const void* extra = nullptr);
template <typename T>
T Extra(const Napi::CallbackInfo& info) {
  return reinterpret_cast<T>(const_cast<void*>(static_cast<Exported*>(info.Data())->extra));
}

// Each kernel family's .cc registers its Init function at load time with ARITH_MODULE(name, InitFn), and
// binding.gyp compiles every src/*.cc: a new family is one new file, with no list to edit.
using InitFn = void (*)(Napi::Env, Napi::Object);
struct Module {
  Module(const char* name, InitFn init);
};
std::vector<std::pair<const char*, InitFn>>& Modules();
#define ARITH_MODULE(name, init) static ::arith::Module arith_module_##name(#name, init)

}  // namespace arith
