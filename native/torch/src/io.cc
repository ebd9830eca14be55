// Moving data between JavaScript and native tensors. Data is always copied: a JS ArrayBuffer can be detached
// or reused after the call returns.
#include <cstring>

#include "tensor_handle.h"

namespace arith {

namespace {

int64_t uploadedBytes = 0;
int64_t constantWrites = 0;

template <typename T>
bool AllEqual(const T* data, size_t length) {
  for (size_t i = 1; i < length; i++) {
    if (std::memcmp(&data[i], &data[0], sizeof(T)) != 0) return false;
  }
  return true;
}

template <typename T>
Napi::Value Upload(const Napi::CallbackInfo& info, const T* data, size_t length, at::ScalarType source) {
  const auto shape = IntList(info[1]);
  const auto type = ScalarTypeOf(static_cast<int32_t>(Int(info[2])));
  // tfjs builds constants (tf.ones/zeros, gradient seeds, scalars of every `tf.mul(x, 0.5)`) in JS and writes
  // them; a buffer of one repeated value becomes a native fill instead of a host-to-device copy.
  if (length > 0 && AllEqual(data, length)) {
    constantWrites++;
    return Put(info.Env(), at::full(shape, at::Scalar(static_cast<double>(data[0])), Options(type)));
  }
  uploadedBytes += static_cast<int64_t>(length * sizeof(T));
  auto host = at::from_blob(const_cast<T*>(data), {static_cast<int64_t>(length)}, at::TensorOptions().dtype(source)).clone();
  return Put(info.Env(), host.to(CurrentDevice(), type).reshape(shape));
}

// fromBuffer(typedArray, shape, dtypeCode): a new tensor holding a copy of the array's values.
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  auto array = info[0].As<Napi::TypedArray>();
  const size_t length = array.ElementLength();
  switch (array.TypedArrayType()) {
    case napi_float32_array: return Upload(info, array.As<Napi::Float32Array>().Data(), length, at::kFloat);
    case napi_int32_array: return Upload(info, array.As<Napi::Int32Array>().Data(), length, at::kInt);
    case napi_uint8_array: return Upload(info, array.As<Napi::Uint8Array>().Data(), length, at::kByte);
    case napi_float64_array: return Upload(info, array.As<Napi::Float64Array>().Data(), length, at::kDouble);
    default: throw std::runtime_error("fromBuffer: unsupported typed array");
  }
}

// read(id): a new Float32Array / Int32Array / Uint8Array (bool) with the tensor's values.
Napi::Value Read(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto tensor = Get(info[0]).to(at::kCPU).contiguous();
  const size_t length = static_cast<size_t>(tensor.numel());
  switch (tensor.scalar_type()) {
    case at::kFloat: {
      auto out = Napi::Float32Array::New(env, length);
      if (length) std::memcpy(out.Data(), tensor.data_ptr<float>(), length * sizeof(float));
      return out;
    }
    case at::kInt: {
      auto out = Napi::Int32Array::New(env, length);
      if (length) std::memcpy(out.Data(), tensor.data_ptr<int32_t>(), length * sizeof(int32_t));
      return out;
    }
    case at::kBool: {
      auto out = Napi::Uint8Array::New(env, length);
      if (length) std::memcpy(out.Data(), tensor.data_ptr<bool>(), length);
      return out;
    }
    default: throw std::runtime_error("read: unsupported dtype");
  }
}

// transferStats(): host bytes uploaded and constant buffers created natively, since the addon loaded.
Napi::Value TransferStats(const Napi::CallbackInfo& info) {
  auto out = Napi::Object::New(info.Env());
  out.Set("uploadedBytes", static_cast<double>(uploadedBytes));
  out.Set("constantWrites", static_cast<double>(constantWrites));
  return out;
}

}  // namespace

static void InitIo(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "fromBuffer", FromBuffer);
  Export(env, exports, "read", Read);
  Export(env, exports, "transferStats", TransferStats);
}

ARITH_MODULE(io, InitIo);

}  // namespace arith
