// Errors and waiting, for the NCCL binding (see nccl_api.h): every failure becomes a Java NcclError, and every wait for
// NCCL is a poll of ncclCommGetAsyncError and cudaStreamQuery bounded by the collective timeout, ending in ncclCommAbort.

#include <time.h>

#include <chrono>

#include "nccl_api.h"

namespace finetune_nccl {

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


namespace {

void pause(int round) {
  struct timespec ts {0, round < 100 ? 20'000L : 500'000L};  // 20 us while it is likely quick, then 0.5 ms
  nanosleep(&ts, nullptr);
}

}  // namespace

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

}  // namespace finetune_nccl
