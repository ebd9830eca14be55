// Threads, device and version: what the backend sets up once.
#include <ATen/Parallel.h>
#include <torch/version.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <dlfcn.h>

#include "tensor_handle.h"

namespace arith {

namespace {

// at::set_num_threads sets OpenMP's threads, not OpenBLAS's pool, which libtorch's matmul uses through
// libblas.so.3 on Debian. Resolved at run time so a libtorch with MKL or no OpenBLAS loads all the same.
using SetThreads = void (*)(int);
SetThreads FindOpenblasSetNumThreads(std::string* where) {
  if (auto fn = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    *where = "global";
    return fn;
  }
  for (const char* library : {"libopenblas.so.0", "libblas.so.3", "libopenblasp.so.0", "libopenblas.so"}) {
    void* handle = dlopen(library, RTLD_LAZY | RTLD_NOLOAD);
    if (!handle) continue;
    auto fn = reinterpret_cast<SetThreads>(dlsym(handle, "openblas_set_num_threads"));
    if (fn) {
      *where = library;
      return fn;
    }
  }
  return nullptr;
}

std::string openblasWhere;

// setNumThreads(n): ATen's intra-op pool and OpenBLAS's.
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  const int threads = static_cast<int>(Int(info[0]));
  at::set_num_threads(threads);
  if (auto fn = FindOpenblasSetNumThreads(&openblasWhere)) fn(threads);
  return info.Env().Undefined();
}

bool CudaAvailable() { return at::detail::getCUDAHooks().hasCUDA() && at::detail::getCUDAHooks().getNumGPUs() > 0; }

// setDevice('cpu' | 'cuda'): where tensors created from now on live.
Napi::Value SetDevice(const Napi::CallbackInfo& info) {
  const std::string name = info[0].As<Napi::String>();
  if (name == "cuda" && !CudaAvailable()) {
    throw std::runtime_error(ARITH_TORCH_CUDA ? "libtorch was built with CUDA but sees no GPU" : "this addon was built against a libtorch without CUDA");
  }
  CurrentDevice() = at::Device(name);
  return info.Env().Undefined();
}

// info(): versions and settings, for run.json and the backend's one-line announcement.
Napi::Value Info(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("torch", std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH));
  out.Set("threads", at::get_num_threads());
  out.Set("device", CurrentDevice().str());
  out.Set("cudaBuilt", static_cast<bool>(ARITH_TORCH_CUDA));
  out.Set("cudaAvailable", CudaAvailable());
  std::string where;
  out.Set("openblas", FindOpenblasSetNumThreads(&where) ? where : std::string("none"));
  out.Set("liveTensors", static_cast<double>(LiveTensors()));
  return out;
}

}  // namespace

static void InitRuntime(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "setNumThreads", SetNumThreads);
  Export(env, exports, "setDevice", SetDevice);
  Export(env, exports, "info", Info);
}

ARITH_MODULE(runtime, InitRuntime);

}  // namespace arith
