// JNI binding of NVIDIA's NCCL for io.finetune.trainer.distributed.NcclNative: what its files share.
//
// Why the binding looks the way it does: no package registry reachable from the build machines serves nccl.h or the
// CUDA runtime headers, and the binding must build on a fresh CI machine with gcc alone. So this header declares the
// handful of types and functions it uses from NCCL's and the CUDA runtime's documented C APIs (values checked against
// NCCL's src/nccl.h.in and CUDA's driver_types.h / cuda_runtime_api.h; declared() reports them so that a test can hold
// them to those headers) and nccl_library.cc dlopen()s libnccl.so.2 and libcudart at run time, preferring the copies
// libtorch_cuda already loaded into this process. NCCL's kernels move every byte; the binding only creates the
// communicator (nccl_comm.cc), enqueues the collectives on the legacy default stream (nccl_collectives.cc; the stream
// DJL's torch kernels run on, so the all-reduce is ordered after the backward pass that wrote the gradients) and waits
// for them, bounded by the run's collective timeout (nccl_wait.cc).
//
// Rules kept here:
// - No C++ exception and no CUDA/NCCL failure code crosses the JNI boundary unreported: every entry point throws a Java
//   NcclError (kind, NCCL or CUDA code, message).
// - Nothing waits forever: the communicator is created non-blocking (ncclConfig_t version 2.14: size, magic, version,
//   blocking, the layout NCCL reads by its size field), and every wait polls ncclCommGetAsyncError and cudaStreamQuery
//   until the deadline, then calls ncclCommAbort.
// - Only Java_* symbols are exported (exports.map, -fvisibility=hidden); the libraries are opened RTLD_LOCAL.
#ifndef FINETUNE_NCCL_API_H
#define FINETUNE_NCCL_API_H

#include <jni.h>

#include <cstddef>
#include <string>

namespace finetune_nccl {

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
using Stream = void*;                                                  // cudaStream_t
inline const Stream kLegacyStream = reinterpret_cast<Stream>(0x1);     // cudaStreamLegacy
constexpr int cudaSuccess = 0;
constexpr int cudaErrorNotReady = 600;
constexpr int cudaMemcpyHostToDevice = 1;
constexpr int cudaMemcpyDeviceToHost = 2;

// Failure kinds, in the order of NcclError.Kind's constants.
enum Kind { LOAD = 0, CUDA = 1, NCCL = 2, TIMEOUT = 3, REMOTE = 4 };

// The functions resolved from libnccl and libcudart (nccl_library.cc fills it in bind()).
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
extern Api api;
extern bool bound;

struct Failure {
  int kind;
  int code;
  std::string message;
};

// One rank's communicator, behind the jlong handle Java holds.
struct Group {
  Comm comm;
  int device;
  int rank;
  int size;
  void* scratch = nullptr;  // device staging for host-memory collectives
  size_t scratchBytes = 0;
};

inline Group* asGroup(jlong handle) {
  return reinterpret_cast<Group*>(handle);
}

// --- nccl_wait.cc: errors, and waiting for NCCL within the timeout -------------------------------------------------------
void throwError(JNIEnv* env, const Failure& f);
std::string utf(JNIEnv* env, jstring s);
std::string ncclText(int code, Comm comm);
bool await(Comm comm, bool stream, long timeoutMillis, const char* what, Failure* failure);
bool cudaCall(int rc, const char* what, Failure* failure);
bool requireBound(Failure* failure);
bool collective(Group* g, int rc, const char* what, long timeoutMillis, Failure* failure);
bool usable(Group* g, Failure* failure);

}  // namespace finetune_nccl

#endif  // FINETUNE_NCCL_API_H
