// The communicator's life for the NCCL binding (see nccl_api.h): rank 0's unique id, the non-blocking
// ncclCommInitRankConfig waited for within the timeout, and ncclCommDestroy / ncclCommAbort.

#include "nccl_api.h"

using namespace finetune_nccl;

extern "C" {

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
