/*
 * A TEST DOUBLE of NVIDIA's NCCL and CUDA runtime, for the CPU tests of the NCCL binding (NcclStubProcessGroupTest).
 * It is NOT a collective and NOT NCCL: no buffer's data ever leaves the process, no GPU is touched. It exports the few
 * functions trainer-image/src/main/native/nccl resolves (one library stands for both libnccl.so.2 and libcudart: the
 * tests set FINETUNE_LIBNCCL and FINETUNE_LIBCUDART to it), so the binding's own control flow runs for real: the id it
 * publishes, the non-blocking init and its polled timeout, the staging of host memory, ncclCommAbort, the refusal after
 * a failure. Built by the test with gcc into a temporary directory; never shipped in an image.
 *
 * "Device memory" is malloc'ed host memory; cudaMemcpy is memcpy. A collective is computed at once on this rank's
 * buffer x, as if rank j of the communicator held (j + 1) * x: ncclSum gives x * n(n+1)/2, ncclMax n * x (x where
 * x < 0), ncclBroadcast from root r gives (r + 1) * x. Where that differs from x, a test sees the result came back.
 *
 * The one thing it shares between processes is what the binding relies on NCCL for: ncclCommInitRankConfig completes
 * only once every rank of the communicator has called it with the same id (each drops a file named by the id's first
 * bytes and its rank into FINETUNE_STUB_NCCL_DIR; ncclCommGetAsyncError answers ncclInProgress until all are there), so
 * ranks given different ids never finish their init, as with NCCL.
 *
 * Behaviour, from the environment:
 *   FINETUNE_STUB_NCCL_DIR         where each process appends what it was called with, one line per call, to
 *                                  rank<RANK>.calls (RANK from torchrun's variable; 0 when unset), and the init files
 *   FINETUNE_STUB_NCCL_ID_SEED     ncclGetUniqueId's bytes: id[i] = (seed * 131 + RANK * 17 + i * 7) mod 256
 *                                  (seed default 1);
 *                                  RANK is part of it so a rank that made its own id would be seen
 *   FINETUNE_STUB_NCCL_INIT=hang   ncclCommInitRankConfig stays ncclInProgress forever (ncclCommGetAsyncError says so)
 *   FINETUNE_STUB_NCCL_COLLECTIVE  from collective number FINETUNE_STUB_NCCL_FAIL_CALL (1-based, default 2: after the
 *                                  barrier that ends the join) on: hang (cudaStreamQuery answers cudaErrorNotReady
 *                                  forever), error (ncclCommGetAsyncError reports ncclSystemError), remote
 *                                  (ncclRemoteError); the buffer is then left as it was
 *   FINETUNE_STUB_NCCL_VERSION     ncclGetVersion's code (default 22304, NCCL 2.23.4)
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

enum { kSuccess = 0, kSystemError = 2, kInvalidArgument = 4, kRemoteError = 6, kInProgress = 7 };
enum { kInt64 = 4, kFloat32 = 7, kSum = 0, kMax = 2 };
enum { kCudaSuccess = 0, kCudaErrorInvalidValue = 1, kCudaErrorNotReady = 600 };

typedef struct { char internal[128]; } UniqueId;
typedef struct { size_t size; unsigned magic; unsigned version; int blocking; } Config;
typedef struct {
  int rank;
  int nranks;
  int initHangs;
  int joined;
  char idTag[17];
  int asyncError;
  char lastError[128];
} Comm;

static int collectives = 0;  /* ncclAllReduce + ncclBroadcast calls so far in this process */
static int streamBusy = 0;   /* a "hang" collective never finishes */

static const char* env(const char* name, const char* fallback) {
  const char* v = getenv(name);
  return v == NULL || *v == '\0' ? fallback : v;
}

static void record(const char* format, ...) __attribute__((format(printf, 1, 2)));

static void record(const char* format, ...) {
  const char* dir = getenv("FINETUNE_STUB_NCCL_DIR");
  if (dir == NULL || *dir == '\0') {
    return;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/rank%s.calls", dir, env("RANK", "0"));
  FILE* f = fopen(path, "a");
  if (f == NULL) {
    return;
  }
  va_list args;
  va_start(args, format);
  vfprintf(f, format, args);
  va_end(args);
  fputc('\n', f);
  fclose(f);
}

static void hex(const char* bytes, int n, char* out) {
  for (int i = 0; i < n; i++) {
    snprintf(out + 2 * i, 3, "%02x", (unsigned char)bytes[i]);
  }
}

/* The init files: <dir>/init-<tag>-rank<r>: rank r called ncclCommInitRankConfig with an id whose hex starts <tag>. */
static void initFile(const char* tag, int rank, char* path, size_t size) {
  snprintf(path, size, "%s/init-%s-rank%d", env("FINETUNE_STUB_NCCL_DIR", "."), tag, rank);
}

static void touch(const char* tag, int rank) {
  char path[4096];
  initFile(tag, rank, path, sizeof path);
  FILE* f = fopen(path, "w");
  if (f != NULL) {
    fclose(f);
  }
}

static int present(const char* tag, int rank) {
  char path[4096];
  initFile(tag, rank, path, sizeof path);
  FILE* f = fopen(path, "r");
  if (f != NULL) {
    fclose(f);
  }
  return f != NULL;
}

/* --- "device memory": remembered so that a collective can say whether it ran on a staged (cudaMalloc'ed) buffer --- */
#define MAX_ALLOCATIONS 64
static struct { char* base; size_t bytes; } allocations[MAX_ALLOCATIONS];

static int onDevice(const void* p, size_t bytes) {
  for (int i = 0; i < MAX_ALLOCATIONS; i++) {
    const char* c = (const char*)p;
    const char* base = allocations[i].base;
    if (base != NULL && c >= base && c + bytes <= base + allocations[i].bytes) {
      return 1;
    }
  }
  return 0;
}

EXPORT int cudaSetDevice(int device) { return device == 0 ? kCudaSuccess : kCudaErrorInvalidValue; }

EXPORT int cudaStreamQuery(void* stream) {
  (void)stream;
  return streamBusy ? kCudaErrorNotReady : kCudaSuccess;
}

EXPORT int cudaMalloc(void** p, size_t bytes) {
  for (int i = 0; i < MAX_ALLOCATIONS; i++) {
    if (allocations[i].base == NULL) {
      allocations[i].base = malloc(bytes == 0 ? 1 : bytes);
      allocations[i].bytes = bytes;
      *p = allocations[i].base;
      record("cudaMalloc bytes=%zu", bytes);
      return *p == NULL ? 2 : kCudaSuccess;
    }
  }
  return 2; /* cudaErrorMemoryAllocation */
}

EXPORT int cudaFree(void* p) {
  for (int i = 0; i < MAX_ALLOCATIONS; i++) {
    if (allocations[i].base == p) {
      free(p);
      allocations[i].base = NULL;
      record("cudaFree");
      return kCudaSuccess;
    }
  }
  return kCudaErrorInvalidValue;
}

EXPORT int cudaMemcpy(void* dst, const void* src, size_t bytes, int kind) {
  int toDevice = onDevice(dst, bytes) && !onDevice(src, bytes);
  int toHost = onDevice(src, bytes) && !onDevice(dst, bytes);
  if ((kind == 1 && !toDevice) || (kind == 2 && !toHost) || (kind != 1 && kind != 2)) {
    record("cudaMemcpy kind=%d bytes=%zu REFUSED (pointers do not match the kind)", kind, bytes);
    return kCudaErrorInvalidValue;
  }
  memcpy(dst, src, bytes);
  record("cudaMemcpy %s bytes=%zu", kind == 1 ? "toDevice" : "toHost", bytes);
  return kCudaSuccess;
}

EXPORT const char* cudaGetErrorString(int code) {
  return code == kCudaErrorNotReady ? "stub: device not ready" : "stub: CUDA runtime error";
}

/* --- NCCL -------------------------------------------------------------------------------------------------------- */
EXPORT int ncclGetVersion(int* version) {
  *version = atoi(env("FINETUNE_STUB_NCCL_VERSION", "22304"));
  return kSuccess;
}

EXPORT int ncclGetUniqueId(UniqueId* id) {
  int seed = atoi(env("FINETUNE_STUB_NCCL_ID_SEED", "1"));
  int rank = atoi(env("RANK", "0"));
  for (int i = 0; i < 128; i++) {
    id->internal[i] = (char)((seed * 131 + rank * 17 + i * 7) & 0xff);
  }
  char text[257];
  hex(id->internal, 128, text);
  record("ncclGetUniqueId id=%s", text);
  return kSuccess;
}

EXPORT int ncclCommInitRankConfig(Comm** comm, int nranks, UniqueId id, int rank, Config* config) {
  char text[257];
  hex(id.internal, 128, text);
  record("ncclCommInitRankConfig rank=%d nranks=%d id=%s configSize=%zu magic=%x version=%u blocking=%d", rank, nranks,
         text, config->size, config->magic, config->version, config->blocking);
  if (rank < 0 || rank >= nranks) {
    return kInvalidArgument;
  }
  Comm* c = calloc(1, sizeof(Comm));
  c->rank = rank;
  c->nranks = nranks;
  c->initHangs = strcmp(env("FINETUNE_STUB_NCCL_INIT", ""), "hang") == 0;
  hex(id.internal, 8, c->idTag);
  touch(c->idTag, rank);
  *comm = c;
  return config->blocking == 0 ? kInProgress : kSuccess;
}

EXPORT int ncclCommGetAsyncError(Comm* comm, int* result) {
  if (!comm->joined && !comm->initHangs) {
    comm->joined = 1;
    for (int r = 0; r < comm->nranks && comm->joined; r++) {
      comm->joined = present(comm->idTag, r);
    }
  }
  *result = comm->initHangs || !comm->joined ? kInProgress : comm->asyncError;
  return kSuccess;
}

EXPORT int ncclCommAbort(Comm* comm) {
  record("ncclCommAbort rank=%d", comm->rank);
  free(comm);
  return kSuccess;
}

EXPORT int ncclCommDestroy(Comm* comm) {
  record("ncclCommDestroy rank=%d", comm->rank);
  free(comm);
  return kSuccess;
}

EXPORT const char* ncclGetErrorString(int code) {
  switch (code) {
    case kSystemError: return "stub: unhandled system error";
    case kRemoteError: return "stub: remote process exited or there was a network error";
    case kInProgress: return "stub: operation in progress";
    default: return "stub: NCCL error";
  }
}

EXPORT const char* ncclGetLastError(Comm* comm) { return comm == NULL ? "" : comm->lastError; }

/* Whether this collective fails as FINETUNE_STUB_NCCL_COLLECTIVE says; sets the failure up when it does. */
static int injectFailure(Comm* comm, int call) {
  const char* mode = env("FINETUNE_STUB_NCCL_COLLECTIVE", "");
  if (*mode == '\0' || call < atoi(env("FINETUNE_STUB_NCCL_FAIL_CALL", "2"))) {
    return 0;
  }
  if (strcmp(mode, "hang") == 0) {
    streamBusy = 1;
  } else {
    comm->asyncError = strcmp(mode, "remote") == 0 ? kRemoteError : kSystemError;
    snprintf(comm->lastError, sizeof comm->lastError, "stub: injected %s at collective %d", mode, call);
  }
  return 1;
}

/* y = factor * x in place, or for ncclMax: n * x where x >= 0 (the largest of 1x..nx), x where x < 0. */
static void scale(void* buf, size_t count, int dtype, long factor, int maxOf) {
  for (size_t i = 0; i < count; i++) {
    if (dtype == kInt64) {
      int64_t* v = (int64_t*)buf + i;
      *v = maxOf && *v < 0 ? *v : *v * factor;
    } else {
      float* v = (float*)buf + i;
      *v = maxOf && *v < 0 ? *v : *v * (float)factor;
    }
  }
}

static int enqueue(const char* name, const void* send, void* recv, size_t count, int dtype, int op, int root,
                   Comm* comm, void* stream) {
  int call = ++collectives;
  size_t width = dtype == kInt64 ? 8 : 4;
  record("%s call=%d count=%zu dtype=%d op=%d root=%d inPlace=%d onDevice=%d stream=%p", name, call, count, dtype, op,
         root, send == recv, onDevice(recv, count * width), stream);
  if ((dtype != kInt64 && dtype != kFloat32) || send != recv) {
    return kInvalidArgument;
  }
  if (injectFailure(comm, call)) {
    return kSuccess;  /* the failure shows asynchronously, as NCCL's do */
  }
  int n = comm->nranks;
  if (root >= 0) {
    scale(recv, count, dtype, root + 1, 0);
  } else {
    scale(recv, count, dtype, op == kMax ? n : (long)n * (n + 1) / 2, op == kMax);
  }
  return kSuccess;
}

EXPORT int ncclAllReduce(const void* send, void* recv, size_t count, int dtype, int op, Comm* comm, void* stream) {
  return enqueue("ncclAllReduce", send, recv, count, dtype, op, -1, comm, stream);
}

EXPORT int ncclBroadcast(const void* send, void* recv, size_t count, int dtype, int root, Comm* comm, void* stream) {
  return enqueue("ncclBroadcast", send, recv, count, dtype, -1, root, comm, stream);
}
