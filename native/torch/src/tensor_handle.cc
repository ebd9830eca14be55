#include "tensor_handle.h"

#include <c10/util/Exception.h>

#include <string>

namespace arith {

namespace {

std::vector<at::Tensor> slots(1);  // slot 0 is never used: 0 reads as "no tensor"
std::vector<int32_t> freeSlots;
int64_t live = 0;

// [rank, dtype, dim0, dim1, ...]: filled by Put/describe, read by JS right after the call (no allocation).
constexpr int kMaxRank = 16;
int32_t* description = nullptr;
Napi::Reference<Napi::Int32Array> descriptionRef;

void Describe(const at::Tensor& tensor) {
  if (!description) return;
  const auto rank = tensor.dim();
  if (rank > kMaxRank) throw std::runtime_error("rank " + std::to_string(rank) + " exceeds " + std::to_string(kMaxRank));
  description[0] = static_cast<int32_t>(rank);
  description[1] = CodeOf(tensor.scalar_type());
  for (int64_t i = 0; i < rank; i++) description[2 + i] = static_cast<int32_t>(tensor.size(i));
}

int32_t Store(at::Tensor tensor) {
  int32_t id;
  if (!freeSlots.empty()) {
    id = freeSlots.back();
    freeSlots.pop_back();
    slots[id] = std::move(tensor);
  } else {
    id = static_cast<int32_t>(slots.size());
    slots.push_back(std::move(tensor));
  }
  live++;
  return id;
}

// setDescriptionBuffer(int32Array): the buffer JS reads shapes from.
Napi::Value SetDescriptionBuffer(const Napi::CallbackInfo& info) {
  auto array = info[0].As<Napi::Int32Array>();
  if (array.ElementLength() < 2 + kMaxRank) throw std::runtime_error("description buffer too short");
  descriptionRef = Napi::Persistent(array);
  description = array.Data();
  return info.Env().Undefined();
}

// describe(id): fills the description buffer for an existing tensor.
Napi::Value DescribeSlot(const Napi::CallbackInfo& info) {
  Describe(Get(info[0]));
  return info.Env().Undefined();
}

// dispose(id): frees the slot (and the memory, unless another slot shares its storage).
Napi::Value Dispose(const Napi::CallbackInfo& info) {
  const auto id = info[0].As<Napi::Number>().Int32Value();
  if (id <= 0 || id >= static_cast<int32_t>(slots.size()) || !slots[id].defined()) throw std::runtime_error("dispose: no tensor in slot " + std::to_string(id));
  slots[id] = at::Tensor();
  freeSlots.push_back(id);
  live--;
  return info.Env().Undefined();
}

Napi::Value LiveCount(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(live)); }

}  // namespace

at::ScalarType ScalarTypeOf(int32_t code) {
  switch (code) {
    case kFloat32: return at::kFloat;
    case kInt32: return at::kInt;
    case kBool: return at::kBool;
  }
  throw std::runtime_error("unknown dtype code " + std::to_string(code));
}

int32_t CodeOf(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return kFloat32;
    case at::kInt: return kInt32;
    case at::kBool: return kBool;
    default: throw std::runtime_error(std::string("tensor of unsupported dtype ") + c10::toString(type));
  }
}

at::Device& CurrentDevice() {
  static at::Device device(at::kCPU);
  return device;
}

at::TensorOptions Options(at::ScalarType type) { return at::TensorOptions().dtype(type).device(CurrentDevice()); }

const at::Tensor& Get(const Napi::Value& value) {
  const auto id = value.As<Napi::Number>().Int32Value();
  if (id <= 0 || id >= static_cast<int32_t>(slots.size()) || !slots[id].defined()) throw std::runtime_error("no tensor in slot " + std::to_string(id));
  return slots[id];
}

std::vector<at::Tensor> GetList(const Napi::Value& value) {
  auto array = value.As<Napi::Array>();
  std::vector<at::Tensor> tensors;
  tensors.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) tensors.push_back(Get(array.Get(i)));
  return tensors;
}

at::Tensor Normalize(at::Tensor tensor) {
  switch (tensor.scalar_type()) {
    case at::kLong:
    case at::kShort:
    case at::kByte:
    case at::kChar: return tensor.to(at::kInt);
    case at::kDouble:
    case at::kHalf:
    case at::kBFloat16: return tensor.to(at::kFloat);
    default: return tensor;
  }
}

Napi::Value Put(Napi::Env env, at::Tensor tensor) {
  tensor = Normalize(std::move(tensor));
  Describe(tensor);
  return Napi::Number::New(env, Store(std::move(tensor)));
}

Napi::Value PutList(Napi::Env env, const std::vector<at::Tensor>& tensors) {
  auto array = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); i++) array.Set(static_cast<uint32_t>(i), Napi::Number::New(env, Store(Normalize(tensors[i]))));
  return array;
}

int64_t LiveTensors() { return live; }

std::vector<int64_t> IntList(const Napi::Value& value) {
  if (value.IsNumber()) return {value.As<Napi::Number>().Int64Value()};
  auto array = value.As<Napi::Array>();
  std::vector<int64_t> out(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) out[i] = array.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

int64_t Int(const Napi::Value& value) { return value.As<Napi::Number>().Int64Value(); }
double Number(const Napi::Value& value) { return value.As<Napi::Number>().DoubleValue(); }
bool Bool(const Napi::Value& value) { return value.ToBoolean().Value(); }

void Export(Napi::Env env, Napi::Object exports, const char* name, Callback fn, const void* extra) {
  // Lives as long as the process: the addon is never unloaded.
  auto* exported = new Exported{fn, extra};
  exports.Set(name, Napi::Function::New(
                        env,
                        [](const Napi::CallbackInfo& info) -> Napi::Value {
                          try {
                            return static_cast<Exported*>(info.Data())->fn(info);
                          } catch (const c10::Error& error) {
                            throw Napi::Error::New(info.Env(), error.what_without_backtrace());
                          } catch (const Napi::Error&) {
                            throw;
                          } catch (const std::exception& error) {
                            throw Napi::Error::New(info.Env(), error.what());
                          }
                        },
                        name, exported));
}

std::vector<std::pair<const char*, InitFn>>& Modules() {
  static std::vector<std::pair<const char*, InitFn>> modules;
  return modules;
}

Module::Module(const char* name, InitFn init) { Modules().emplace_back(name, init); }

namespace {
void InitTensorHandle(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "setDescriptionBuffer", SetDescriptionBuffer);
  Export(env, exports, "describe", DescribeSlot);
  Export(env, exports, "dispose", Dispose);
  Export(env, exports, "liveTensors", LiveCount);
}
}  // namespace

ARITH_MODULE(tensor_handle, InitTensorHandle);

}  // namespace arith
