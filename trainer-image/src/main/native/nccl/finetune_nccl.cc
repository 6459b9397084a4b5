// JNI binding of NVIDIA's NCCL for io.finetune.trainer.distributed.NcclNative.
//
// Why this file looks the way it does: no package registry reachable from the build machines serves nccl.h or the CUDA
// runtime headers, and the binding must build on a fresh CI machine with gcc alone. So it declares the handful of types
// and functions it uses from NCCL's and the CUDA runtime's documented C APIs (values checked against NCCL's
// src/nccl.h.in and CUDA's driver_types.h / cuda_runtime_api.h; declared() reports them so that a test can hold them to
// those headers) and dlopen()s libnccl.so.2 and libcudart at run time, preferring the copies libtorch_cuda already
// loaded into this process. NCCL's kernels move every byte; this file only creates the communicator, enqueues the
// collectives on the legacy default stream (the stream DJL's torch kernels run on, so the all-reduce is ordered after the
// backward pass that wrote the gradients) and waits for them, bounded by the run's collective timeout.
//
// Rules kept here:
// - No C++ exception and no CUDA/NCCL failure code crosses the JNI boundary unreported: every entry point throws a Java
//   NcclError (kind, NCCL or CUDA code, message).
// - Nothing waits forever: the communicator is created non-blocking (ncclConfig_t version 2.14: size, magic, version,
//   blocking, the layout NCCL reads by its size field), and every wait polls ncclCommGetAsyncError and cudaStreamQuery
//   until the deadline, then calls ncclCommAbort.
// - Only Java_* symbols are exported; the libraries are opened RTLD_LOCAL.

#include <dlfcn.h>
#include <jni.h>
#include <link.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace {

// --- NCCL's C API (src/nccl.h.in), declared here -------------------------------------------------------------------------
constexpr int kUniqueIdBytes = 128;                  // NCCL_UNIQUE_ID_BYTES
struct UniqueId { char internal[kUniqueIdBytes]; };  // ncclUniqueId
static_assert(sizeof(UniqueId) == 128, "ncclUniqueId is 128 bytes");
struct NcclCommOpaque;                               // struct ncclComm (opaque)
using Comm = NcclCommOpaque*;                        // ncclComm_t
enum NcclResult : int {                              // ncclResult_t (a C enum: int-sized)
  ncclSuccess = 0, ncclUnhandledCudaError = 1, ncclSystemError = 2, ncclInternalError = 3, ncclInvalidArgument = 4,
  ncclInvalidUsage = 5, ncclRemoteError = 6, ncclInProgress = 7
};
enum NcclDataType : int { ncclInt64 = 4, ncclFloat32 = 7 };  // ncclDataType_t
enum NcclRedOp : int { ncclSum = 0, ncclMax = 2 };           // ncclRedOp_t
constexpr unsigned kNcclApiMagic = 0xcafebeef;               // NCCL_API_MAGIC
constexpr unsigned kConfigVersion = 21400;                   // NCCL_VERSION(2,14,0): the config layout below
struct Config21400 {                                         // ncclConfig_v21400 (NCCL reads `size` bytes of it)
  size_t size;
  unsigned int magic;
  unsigned int version;
  int blocking;
};

// --- the CUDA runtime's C API (driver_types.h, cuda_runtime_api.h), declared here ----------------------------------------
using Stream = void*;                                          // cudaStream_t
const Stream kLegacyStream = reinterpret_cast<Stream>(0x1);    // cudaStreamLegacy
constexpr int cudaSuccess = 0;
constexpr int cudaErrorNotReady = 600;
constexpr int cudaMemcpyHostToDevice = 1;
constexpr int cudaMemcpyDeviceToHost = 2;

// Failure kinds, in the order of NcclError.Kind's constants.
enum Kind { LOAD = 0, CUDA = 1, NCCL = 2, TIMEOUT = 3, REMOTE = 4 };

struct Api {
  void* nccl = nullptr;
  void* cudart = nullptr;
  int (*getVersion)(int*);
  int (*getUniqueId)(UniqueId*);
  int (*commInitRankConfig)(Comm*, int, UniqueId, int, Config21400*);
  int (*commGetAsyncError)(Comm, int*);
  int (*commAbort)(Comm);
  int (*commDestroy)(Comm);
  int (*allReduce)(const void*, void*, size_t, int, int, Comm, Stream);
  int (*broadcast)(const void*, void*, size_t, int, int, Comm, Stream);
  const char* (*getErrorString)(int);
  const char* (*getLastError)(Comm);  // may be null (optional)
  int (*setDevice)(int);
  int (*streamQuery)(Stream);
  int (*malloc)(void**, size_t);
  int (*free)(void*);
  int (*memcpy)(void*, const void*, size_t, int);
  const char* (*cudaErrorString)(int);
};
Api api;
bool bound = false;

struct Failure {
  int kind;
  int code;
  std::string message;
};

struct Group {
  Comm comm;
  int device;
  int rank;
  int size;
  void* scratch = nullptr;  // device staging for host-memory collectives
  size_t scratchBytes = 0;
};

void throwError(JNIEnv* env, const Failure& f) {
  if (env->ExceptionCheck()) {
    return;
  }
  jclass cls = env->FindClass("io/finetune/trainer/distributed/NcclError");
  if (cls == nullptr) {
    return;
  }
  jmethodID ctor = env->GetMethodID(cls, "<init>", "(IILjava/lang/String;)V");
  jstring text = ctor == nullptr ? nullptr : env->NewStringUTF(f.message.c_str());
  if (text == nullptr) {
    return;
  }
  auto error = static_cast<jthrowable>(env->NewObject(cls, ctor, f.kind, f.code, text));
  if (error != nullptr) {
    env->Throw(error);
  }
}

std::string utf(JNIEnv* env, jstring s) {
  if (s == nullptr) {
    return std::string();
  }
  const char* chars = env->GetStringUTFChars(s, nullptr);
  std::string out(chars == nullptr ? "" : chars);
  if (chars != nullptr) {
    env->ReleaseStringUTFChars(s, chars);
  }
  return out;
}

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

std::string ncclText(int code, Comm comm) {
  std::string text = "NCCL error " + std::to_string(code);
  if (api.getErrorString != nullptr) {
    text += " (" + std::string(api.getErrorString(code)) + ")";
  }
  if (comm != nullptr && api.getLastError != nullptr) {
    const char* last = api.getLastError(comm);
    if (last != nullptr && *last != '\0') {
      text += ": " + std::string(last);
    }
  }
  return text;
}

std::string cudaText(int code) {
  return "CUDA error " + std::to_string(code) + " (" + (api.cudaErrorString ? api.cudaErrorString(code) : "?") + ")";
}

void pause(int round) {
  struct timespec ts {0, round < 100 ? 20'000L : 500'000L};  // 20 us while it is likely quick, then 0.5 ms
  nanosleep(&ts, nullptr);
}

using Clock = std::chrono::steady_clock;

// Waits until the communicator has no operation in progress and, when `stream` is set, the stream is idle. On a
// timeout or an asynchronous error the communicator is aborted (its kernels stop; peers see a failure) and a Failure
// returned; `what` names the operation.
bool await(Comm comm, bool stream, long timeoutMillis, const char* what, Failure* failure) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMillis);
  for (int round = 0;; round++) {
    int async = ncclSuccess;
    int rc = api.commGetAsyncError(comm, &async);
    if (rc != ncclSuccess) {
      async = rc;
    }
    if (async != ncclSuccess && async != ncclInProgress) {
      *failure = {async == ncclRemoteError ? REMOTE : NCCL, async, std::string(what) + ": " + ncclText(async, comm)};
      api.commAbort(comm);
      return false;
    }
    if (async == ncclSuccess) {
      int q = stream ? api.streamQuery(kLegacyStream) : cudaSuccess;
      if (q == cudaSuccess) {
        return true;
      }
      if (q != cudaErrorNotReady) {
        *failure = {CUDA, q, std::string(what) + ": " + cudaText(q)};
        api.commAbort(comm);
        return false;
      }
    }
    if (Clock::now() >= deadline) {
      *failure = {TIMEOUT, 0, std::string(what) + ": not complete after " + std::to_string(timeoutMillis) + " ms"};
      api.commAbort(comm);
      return false;
    }
    pause(round);
  }
}

bool cudaCall(int rc, const char* what, Failure* failure) {
  if (rc != cudaSuccess) {
    *failure = {CUDA, rc, std::string(what) + ": " + cudaText(rc)};
    return false;
  }
  return true;
}

bool requireBound(Failure* failure) {
  if (!bound) {
    *failure = {LOAD, 0, "the NCCL binding has not loaded libnccl (call bind first)"};
  }
  return bound;
}

// Checks an enqueued NCCL collective's return code and waits for it; aborts the communicator on any failure.
// After a failure the communicator is aborted (freed) and g->comm is null: the group can only be destroyed.
bool collective(Group* g, int rc, const char* what, long timeoutMillis, Failure* failure) {
  if (rc != ncclSuccess && rc != ncclInProgress) {
    *failure = {rc == ncclRemoteError ? REMOTE : NCCL, rc, std::string(what) + ": " + ncclText(rc, g->comm)};
    api.commAbort(g->comm);
    g->comm = nullptr;
    return false;
  }
  if (!await(g->comm, true, timeoutMillis, what, failure)) {
    g->comm = nullptr;
    return false;
  }
  return true;
}

bool usable(Group* g, Failure* failure) {
  if (g == nullptr || g->comm == nullptr) {
    *failure = {NCCL, ncclInvalidUsage, "the communicator was aborted after an earlier failure"};
    return false;
  }
  return true;
}

bool stage(Group* g, size_t bytes, Failure* failure) {
  if (g->scratchBytes >= bytes) {
    return true;
  }
  if (g->scratch != nullptr) {
    api.free(g->scratch);
    g->scratch = nullptr;
    g->scratchBytes = 0;
  }
  if (!cudaCall(api.malloc(&g->scratch, bytes), "cudaMalloc of the staging buffer", failure)) {
    return false;
  }
  g->scratchBytes = bytes;
  return true;
}

// A collective on host memory: copied to the device staging buffer, run there, copied back (only on success).
// op < 0 means broadcast from root.
bool hostCollective(Group* g, void* host, size_t count, int dtype, size_t width, int op, int root, long timeoutMillis,
                    const char* what, Failure* failure) {
  size_t bytes = count * width;
  if (!usable(g, failure) || !cudaCall(api.setDevice(g->device), "cudaSetDevice", failure) || !stage(g, bytes, failure) ||
      !cudaCall(api.memcpy(g->scratch, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to the device", failure)) {
    return false;
  }
  int rc = op >= 0 ? api.allReduce(g->scratch, g->scratch, count, dtype, op, g->comm, kLegacyStream)
                   : api.broadcast(g->scratch, g->scratch, count, dtype, root, g->comm, kLegacyStream);
  return collective(g, rc, what, timeoutMillis, failure) &&
         cudaCall(api.memcpy(host, g->scratch, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to the host", failure);
}

Group* asGroup(jlong handle) {
  return reinterpret_cast<Group*>(handle);
}

}  // namespace

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

// Rank 0's id for the communicator (128 bytes, published through the rendezvous store).
JNIEXPORT jbyteArray JNICALL Java_io_finetune_trainer_distributed_NcclNative_uniqueId(JNIEnv* env, jclass, jint device) {
  Failure f;
  if (!requireBound(&f) || !cudaCall(api.setDevice(device), "cudaSetDevice", &f)) {
    throwError(env, f);
    return nullptr;
  }
  UniqueId id;
  int rc = api.getUniqueId(&id);
  if (rc != ncclSuccess) {
    throwError(env, {NCCL, rc, "ncclGetUniqueId: " + ncclText(rc, nullptr)});
    return nullptr;
  }
  jbyteArray out = env->NewByteArray(kUniqueIdBytes);
  if (out != nullptr) {
    env->SetByteArrayRegion(out, 0, kUniqueIdBytes, reinterpret_cast<const jbyte*>(id.internal));
  }
  return out;
}

// Creates this rank's communicator on `device` (non-blocking, then waited for at most timeoutMillis).
JNIEXPORT jlong JNICALL Java_io_finetune_trainer_distributed_NcclNative_init(JNIEnv* env, jclass, jint device, jint rank,
                                                                              jint size, jbyteArray id, jlong timeoutMillis) {
  Failure f;
  if (!requireBound(&f) || !cudaCall(api.setDevice(device), "cudaSetDevice", &f)) {
    throwError(env, f);
    return 0;
  }
  if (env->GetArrayLength(id) != kUniqueIdBytes) {
    throwError(env, {NCCL, ncclInvalidArgument, "the unique id must be 128 bytes"});
    return 0;
  }
  UniqueId uid;
  env->GetByteArrayRegion(id, 0, kUniqueIdBytes, reinterpret_cast<jbyte*>(uid.internal));
  Config21400 config{sizeof(Config21400), kNcclApiMagic, kConfigVersion, 0};
  Comm comm = nullptr;
  int rc = api.commInitRankConfig(&comm, size, uid, rank, &config);
  if (rc != ncclSuccess && rc != ncclInProgress) {
    if (comm != nullptr) {
      api.commAbort(comm);
    }
    throwError(env, {rc == ncclRemoteError ? REMOTE : NCCL, rc, "ncclCommInitRankConfig: " + ncclText(rc, nullptr)});
    return 0;
  }
  if (!await(comm, false, timeoutMillis, "ncclCommInitRankConfig", &f)) {
    throwError(env, f);
    return 0;
  }
  auto* g = new Group();
  g->comm = comm;
  g->device = device;
  g->rank = rank;
  g->size = size;
  return reinterpret_cast<jlong>(g);
}

// In-place all-reduce of `count` elements of device memory: `buffer` is a direct ByteBuffer over a CUDA tensor's storage
// (its address is the device pointer; the JVM never reads it).
JNIEXPORT void JNICALL Java_io_finetune_trainer_distributed_NcclNative_allReduceDevice(
    JNIEnv* env, jclass, jlong handle, jobject buffer, jlong count, jint dtype, jint op, jlong timeoutMillis) {
  Group* g = asGroup(handle);
  Failure f;
  void* data = env->GetDirectBufferAddress(buffer);
  jlong capacity = env->GetDirectBufferCapacity(buffer);
  size_t width = dtype == ncclInt64 ? 8 : 4;
  if (data == nullptr || capacity < 0 || static_cast<size_t>(capacity) < static_cast<size_t>(count) * width) {
    throwError(env, {NCCL, ncclInvalidArgument, "the device buffer is not direct or smaller than the count"});
    return;
  }
  if (!usable(g, &f) || !cudaCall(api.setDevice(g->device), "cudaSetDevice", &f) ||
      !collective(g, api.allReduce(data, data, static_cast<size_t>(count), dtype, op, g->comm, kLegacyStream),
                  "ncclAllReduce", timeoutMillis, &f)) {
    throwError(env, f);
  }
}

JNIEXPORT void JNICALL Java_io_finetune_trainer_distributed_NcclNative_broadcastDevice(
    JNIEnv* env, jclass, jlong handle, jobject buffer, jlong count, jint root, jlong timeoutMillis) {
  Group* g = asGroup(handle);
  Failure f;
  void* data = env->GetDirectBufferAddress(buffer);
  jlong capacity = env->GetDirectBufferCapacity(buffer);
  if (data == nullptr || capacity < 0 || static_cast<size_t>(capacity) < static_cast<size_t>(count) * 4) {
    throwError(env, {NCCL, ncclInvalidArgument, "the device buffer is not direct or smaller than the count"});
    return;
  }
  if (!usable(g, &f) || !cudaCall(api.setDevice(g->device), "cudaSetDevice", &f) ||
      !collective(g, api.broadcast(data, data, static_cast<size_t>(count), ncclFloat32, root, g->comm, kLegacyStream),
                  "ncclBroadcast", timeoutMillis, &f)) {
    throwError(env, f);
  }
}

// Host memory (a float[] / long[] / direct FloatBuffer), staged through a device buffer. op: ncclSum, ncclMax, or -1 for
// a broadcast from `root`. `position` and `length` count elements; for arrays position is 0 and length the array's.
JNIEXPORT void JNICALL Java_io_finetune_trainer_distributed_NcclNative_hostCollective(
    JNIEnv* env, jclass, jlong handle, jobject data, jint position, jint length, jint dtype, jint op, jint root,
    jlong timeoutMillis) {
  Group* g = asGroup(handle);
  Failure f;
  size_t width = dtype == ncclInt64 ? 8 : 4;
  const char* what = op < 0 ? "ncclBroadcast" : "ncclAllReduce";
  void* direct = env->GetDirectBufferAddress(data);
  if (direct != nullptr) {
    if (!hostCollective(g, static_cast<char*>(direct) + static_cast<size_t>(position) * width, static_cast<size_t>(length),
                        dtype, width, op, root, timeoutMillis, what, &f)) {
      throwError(env, f);
    }
    return;
  }
  std::vector<char> host(static_cast<size_t>(length) * width);
  if (dtype == ncclInt64) {
    env->GetLongArrayRegion(static_cast<jlongArray>(data), 0, length, reinterpret_cast<jlong*>(host.data()));
  } else {
    env->GetFloatArrayRegion(static_cast<jfloatArray>(data), 0, length, reinterpret_cast<jfloat*>(host.data()));
  }
  if (!hostCollective(g, host.data(), static_cast<size_t>(length), dtype, width, op, root, timeoutMillis, what, &f)) {
    throwError(env, f);
    return;
  }
  // written back only on success: a failed collective leaves the caller's array as it was
  if (dtype == ncclInt64) {
    env->SetLongArrayRegion(static_cast<jlongArray>(data), 0, length, reinterpret_cast<const jlong*>(host.data()));
  } else {
    env->SetFloatArrayRegion(static_cast<jfloatArray>(data), 0, length, reinterpret_cast<const jfloat*>(host.data()));
  }
}

// Frees the communicator: ncclCommAbort after a failure (it does not wait for peers), ncclCommDestroy otherwise.
JNIEXPORT void JNICALL Java_io_finetune_trainer_distributed_NcclNative_destroy(JNIEnv*, jclass, jlong handle,
                                                                                jboolean failed) {
  Group* g = asGroup(handle);
  if (g == nullptr) {
    return;
  }
  api.setDevice(g->device);
  if (g->scratch != nullptr) {
    api.free(g->scratch);
  }
  if (g->comm != nullptr) {  // null when a failure already aborted it
    if (failed) {
      api.commAbort(g->comm);  // does not wait for the peers
    } else {
      api.commDestroy(g->comm);
    }
  }
  delete g;
}

}  // extern "C"
