// Threads, device and version: what the backend sets up once.
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/version.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <dlfcn.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

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

// keepHeap(): stop glibc handing freed memory back to the OS between steps. By default glibc serves blocks
// above a sliding threshold (128 KiB at first) with mmap and trims the heap's free top, so every training step
// of a model with MiB-sized activations maps fresh pages and the kernel zeroes them again: measured on the bench's
// large model, 1.2M page faults and 4.1 s of CPU per step instead of 0.33M and 1.9 s (docs/results.md,
// "Page faults"). Blocks up to 32 MiB (glibc's most) come from the heap, and up to 1 GiB of free heap is kept.
// False where the C library is not glibc or refuses; the process then runs with the defaults.
bool heapKept = false;
Napi::Value KeepHeap(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  heapKept = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
#endif
  return Napi::Boolean::New(info.Env(), heapKept);
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

// setMatmulPrecision('highest' | 'high' | 'medium'): ATen's float32 matmul precision, as
// torch.set_float32_matmul_precision. 'high' lets cuBLAS use TF32 tensor cores (10-bit mantissa) for float32
// products on the GPU; the CPU's BLAS ignores it. Kept here for info(): the getter's type changed across versions.
std::string matmulPrecision = "highest";
Napi::Value SetMatmulPrecision(const Napi::CallbackInfo& info) {
  const std::string name = info[0].As<Napi::String>();
  if (name != "highest" && name != "high" && name != "medium") {
    throw std::runtime_error("matmul precision must be highest, high or medium, not " + name);
  }
  at::globalContext().setFloat32MatmulPrecision(name);
  matmulPrecision = name;
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
  out.Set("heapKept", heapKept);
  out.Set("matmulPrecision", matmulPrecision);
  return out;
}

}  // namespace

static void InitRuntime(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "setNumThreads", SetNumThreads);
  Export(env, exports, "setDevice", SetDevice);
  Export(env, exports, "info", Info);
  Export(env, exports, "keepHeap", KeepHeap);
  Export(env, exports, "setMatmulPrecision", SetMatmulPrecision);
}

ARITH_MODULE(runtime, InitRuntime);

}  // namespace arith
