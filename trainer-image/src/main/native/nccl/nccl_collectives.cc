// The collectives of the NCCL binding (see nccl_api.h): in place on device memory (a tensor's storage), or on host
// memory staged through a device buffer; all on the legacy default stream, each waited for within the timeout.

#include <vector>

#include "nccl_api.h"

namespace finetune_nccl {
namespace {

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

}  // namespace
}  // namespace finetune_nccl

using namespace finetune_nccl;

extern "C" {

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

}  // extern "C"
