// Opening NVIDIA's libraries for the NCCL binding (see nccl_api.h): dlopen() of libnccl and libcudart (the copies already
// loaded in this process when there are), the symbol table, and what the binding declares (for the header test).

#include <dlfcn.h>
#include <link.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "nccl_api.h"

namespace finetune_nccl {

Api api;
bool bound = false;

namespace {

// The path of a library already mapped into this process whose file name starts with `prefix` (e.g. "libcudart.so").
std::string loadedLibrary(const std::string& prefix) {
  struct Search { std::string prefix; std::string found; } search{prefix, std::string()};
  dl_iterate_phdr([](struct dl_phdr_info* info, size_t, void* data) -> int {
    auto* s = static_cast<Search*>(data);
    const char* name = info->dlpi_name;
    const char* slash = name == nullptr ? nullptr : std::strrchr(name, '/');
    if (slash != nullptr && std::strncmp(slash + 1, s->prefix.c_str(), s->prefix.size()) == 0) {
      s->found = name;
      return 1;
    }
    return 0;
  }, &search);
  return search.found;
}

std::string lastDlError() {
  const char* e = dlerror();
  return e == nullptr ? std::string("unknown dlopen error") : std::string(e);
}

template <typename Fn>
bool symbol(void* lib, const char* name, Fn* out, std::string* missing) {
  *out = reinterpret_cast<Fn>(dlsym(lib, name));
  if (*out == nullptr && missing->empty()) {
    *missing = name;
  }
  return *out != nullptr;
}

}  // namespace
}  // namespace finetune_nccl

using namespace finetune_nccl;

extern "C" {

// Opens libnccl (`nccl`: a path or a soname) and libcudart (`cudart`: a path, or empty for the copy already loaded in this
// process, else the sonames of CUDA 13, 12 and 11) and resolves every function this file declares. Idempotent.
JNIEXPORT void JNICALL Java_io_finetune_trainer_distributed_NcclNative_bind(JNIEnv* env, jclass, jstring nccl,
                                                                            jstring cudart) {
  if (bound) {
    return;
  }
  std::string ncclName = utf(env, nccl);
  std::string loaded = ncclName.find('/') == std::string::npos ? loadedLibrary("libnccl.so") : std::string();
  void* n = dlopen(loaded.empty() ? ncclName.c_str() : loaded.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (n == nullptr) {
    throwError(env, {LOAD, 0, "cannot load " + ncclName + ": " + lastDlError()});
    return;
  }
  std::string cudartName = utf(env, cudart);
  std::vector<std::string> candidates;
  if (!cudartName.empty()) {
    candidates.push_back(cudartName);
  } else {
    std::string already = loadedLibrary("libcudart.so");
    if (!already.empty()) {
      candidates.push_back(already);
    }
    for (const char* soname : {"libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", "libcudart.so"}) {
      candidates.push_back(soname);
    }
  }
  void* c = nullptr;
  std::string tried;
  for (const std::string& name : candidates) {
    c = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (c != nullptr) {
      break;
    }
    tried += (tried.empty() ? "" : "; ") + lastDlError();
  }
  if (c == nullptr) {
    dlclose(n);
    throwError(env, {LOAD, 0, "cannot load the CUDA runtime (libcudart): " + tried});
    return;
  }
  Api a;
  a.nccl = n;
  a.cudart = c;
  std::string missing;
  symbol(n, "ncclGetVersion", &a.getVersion, &missing);
  symbol(n, "ncclGetUniqueId", &a.getUniqueId, &missing);
  symbol(n, "ncclCommInitRankConfig", &a.commInitRankConfig, &missing);
  symbol(n, "ncclCommGetAsyncError", &a.commGetAsyncError, &missing);
  symbol(n, "ncclCommAbort", &a.commAbort, &missing);
  symbol(n, "ncclCommDestroy", &a.commDestroy, &missing);
  symbol(n, "ncclAllReduce", &a.allReduce, &missing);
  symbol(n, "ncclBroadcast", &a.broadcast, &missing);
  symbol(n, "ncclGetErrorString", &a.getErrorString, &missing);
  std::string ncclMissing = missing;
  missing.clear();
  symbol(c, "cudaSetDevice", &a.setDevice, &missing);
  symbol(c, "cudaStreamQuery", &a.streamQuery, &missing);
  symbol(c, "cudaMalloc", &a.malloc, &missing);
  symbol(c, "cudaFree", &a.free, &missing);
  symbol(c, "cudaMemcpy", &a.memcpy, &missing);
  symbol(c, "cudaGetErrorString", &a.cudaErrorString, &missing);
  std::string cudaMissing = missing;
  a.getLastError = reinterpret_cast<const char* (*)(Comm)>(dlsym(n, "ncclGetLastError"));
  if (!ncclMissing.empty() || !cudaMissing.empty()) {
    dlclose(c);
    dlclose(n);
    throwError(env, {LOAD, 0, !ncclMissing.empty() ? ncclName + " has no " + ncclMissing + " (is it NCCL?)"
                                                    : "the CUDA runtime has no " + cudaMissing});
    return;
  }
  int version = 0;
  if (a.getVersion(&version) != ncclSuccess || version < 21400) {
    dlclose(c);
    dlclose(n);
    throwError(env, {LOAD, 0, "NCCL " + std::to_string(version) + " is older than 2.14 (non-blocking communicators)"});
    return;
  }
  api = a;
  bound = true;
}

// "libnccl <file> <version>; libcudart <file>": which files the binding resolved (dladdr).
JNIEXPORT jstring JNICALL Java_io_finetune_trainer_distributed_NcclNative_describeBinding(JNIEnv* env, jclass) {
  if (!bound) {
    return env->NewStringUTF("");
  }
  Dl_info n{}, c{};
  dladdr(reinterpret_cast<void*>(api.getUniqueId), &n);
  dladdr(reinterpret_cast<void*>(api.setDevice), &c);
  int version = 0;
  api.getVersion(&version);
  std::string text = std::string("libnccl ") + (n.dli_fname ? n.dli_fname : "?") + " " + std::to_string(version) +
                     "; libcudart " + (c.dli_fname ? c.dli_fname : "?");
  return env->NewStringUTF(text.c_str());
}

// The sizes and values this file declares, in NcclNative.Declared's order, so that a test can hold them to NCCL's header.
JNIEXPORT jlongArray JNICALL Java_io_finetune_trainer_distributed_NcclNative_declared(JNIEnv* env, jclass) {
  const jlong values[] = {
      static_cast<jlong>(sizeof(UniqueId)), static_cast<jlong>(sizeof(NcclResult)), static_cast<jlong>(sizeof(NcclDataType)),
      static_cast<jlong>(sizeof(NcclRedOp)), static_cast<jlong>(sizeof(Config21400)), static_cast<jlong>(sizeof(Comm)),
      ncclSuccess, ncclRemoteError, ncclInProgress, ncclInt64, ncclFloat32, ncclSum, ncclMax,
      static_cast<jlong>(kNcclApiMagic), static_cast<jlong>(kConfigVersion),
      static_cast<jlong>(reinterpret_cast<intptr_t>(kLegacyStream)), cudaErrorNotReady, cudaMemcpyHostToDevice,
      cudaMemcpyDeviceToHost};
  jsize n = static_cast<jsize>(sizeof(values) / sizeof(values[0]));
  jlongArray out = env->NewLongArray(n);
  if (out != nullptr) {
    env->SetLongArrayRegion(out, 0, n, values);
  }
  return out;
}

}  // extern "C"
