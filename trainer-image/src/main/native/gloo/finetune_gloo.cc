// JNI binding of Debian's Gloo (libgloo-dev) for io.finetune.trainer.distributed.GlooNative.
//
// Why this file exists: data-parallel training on CPU must run on an existing collective engine. Gloo's algorithms and
// its TCP transport move every byte; this file only connects a gloo::rendezvous::Context (through a Store that calls back
// into Java's RendezvousStore, which talks to the small key-value server rank 0 hosts at MASTER_ADDR:MASTER_PORT) and
// exposes all-reduce / broadcast / barrier on host buffers.
//
// Rules kept here:
// - No C++ exception crosses the JNI boundary: every entry point catches everything and throws a Java GlooError
//   (kind, peer rank, gloo's message), or leaves the Java exception a callback raised pending.
// - Only Java_* symbols are exported (-fvisibility=hidden); libtorch_cpu.so exports its own, newer gloo:: symbols, so the
//   library is loaded RTLD_LOCAL (System.load) and resolves gloo from Debian's libgloo; resolvedGlooLibrary() reports
//   which file gloo::allreduce came from so that Java can refuse a wrong resolution.
// - Catch by std::exception only (its typeinfo has one owner, libstdc++), never by gloo's exception types.

#include <dlfcn.h>
#include <jni.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/store.h>
#include <gloo/transport/tcp/address.h>
#include <gloo/transport/tcp/device.h>

namespace {

// Failure kinds, in the order of GlooError.Kind's constants.
enum Kind { CLOSED = 0, TIMEOUT = 1, OTHER = 2 };

// Thrown to unwind gloo when a Java callback raised an exception; the Java exception stays pending.
struct JavaExceptionPending {};

using ReduceFn = void (*)(void*, const void*, const void*, size_t);

// One connected process group: the TCP device, the connected context, each peer's address as gloo prints it (so an
// error naming an address can name the rank), and a scratch buffer for the float[] variants (reused: no 64 MB
// allocation and page faults per call).
struct Group {
  std::shared_ptr<gloo::transport::Device> device;
  std::shared_ptr<gloo::rendezvous::Context> context;
  std::vector<std::string> peerAddress;
  std::vector<float> scratch;
};

// A gloo Store whose set/get/wait call the Java RendezvousStore on the calling thread (connectFullMesh runs on the
// thread that called GlooNative.connect, so env is valid throughout). get() results are kept so that the peers'
// addresses can be read back after connecting.
class JavaStore : public gloo::rendezvous::Store {
 public:
  JavaStore(JNIEnv* env, jobject store) : env_(env), store_(store) {
    jclass cls = env->GetObjectClass(store);
    set_ = env->GetMethodID(cls, "set", "(Ljava/lang/String;[B)V");
    get_ = env->GetMethodID(cls, "get", "(Ljava/lang/String;)[B");
    wait_ = env->GetMethodID(cls, "await", "([Ljava/lang/String;J)V");
    env->DeleteLocalRef(cls);
    check();
  }

  void set(const std::string& key, const std::vector<char>& data) override {
    jstring k = env_->NewStringUTF(key.c_str());
    check();
    jbyteArray v = env_->NewByteArray(static_cast<jsize>(data.size()));
    check();
    env_->SetByteArrayRegion(v, 0, static_cast<jsize>(data.size()), reinterpret_cast<const jbyte*>(data.data()));
    env_->CallVoidMethod(store_, set_, k, v);
    env_->DeleteLocalRef(k);
    env_->DeleteLocalRef(v);
    check();
  }

  std::vector<char> get(const std::string& key) override {
    jstring k = env_->NewStringUTF(key.c_str());
    check();
    auto v = static_cast<jbyteArray>(env_->CallObjectMethod(store_, get_, k));
    env_->DeleteLocalRef(k);
    check();
    std::vector<char> out(static_cast<size_t>(env_->GetArrayLength(v)));
    env_->GetByteArrayRegion(v, 0, static_cast<jsize>(out.size()), reinterpret_cast<jbyte*>(out.data()));
    env_->DeleteLocalRef(v);
    check();
    seen_[key] = out;
    return out;
  }

  void wait(const std::vector<std::string>& keys) override {
    wait(keys, gloo::rendezvous::Store::kDefaultTimeout);
  }

  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override {
    jclass stringClass = env_->FindClass("java/lang/String");
    check();
    jobjectArray array = env_->NewObjectArray(static_cast<jsize>(keys.size()), stringClass, nullptr);
    env_->DeleteLocalRef(stringClass);
    check();
    for (size_t i = 0; i < keys.size(); i++) {
      jstring k = env_->NewStringUTF(keys[i].c_str());
      check();
      env_->SetObjectArrayElement(array, static_cast<jsize>(i), k);
      env_->DeleteLocalRef(k);
    }
    env_->CallVoidMethod(store_, wait_, array, static_cast<jlong>(timeout.count()));
    env_->DeleteLocalRef(array);
    check();
  }

  // The address rank `peer` published for its pair with rank `self` (the slice connectFullMesh connects to).
  std::string peerAddress(int self, int size, int peer) const {
    auto it = seen_.find(std::to_string(peer));
    if (it == seen_.end() || size < 2) {
      return std::string();
    }
    const std::vector<char>& all = it->second;
    size_t width = all.size() / static_cast<size_t>(size - 1);
    size_t slot = static_cast<size_t>(self > peer ? self - 1 : self);
    std::vector<char> bytes(all.begin() + slot * width, all.begin() + (slot + 1) * width);
    return gloo::transport::tcp::Address(bytes).str();
  }

 private:
  void check() {
    if (env_->ExceptionCheck()) {
      throw JavaExceptionPending();
    }
  }

  JNIEnv* env_;
  jobject store_;
  jmethodID set_;
  jmethodID get_;
  jmethodID wait_;
  std::map<std::string, std::vector<char>> seen_;
};

// Throws io.finetune.trainer.distributed.GlooError(kind, peer, message) unless a Java exception is already pending.
void throwGlooError(JNIEnv* env, int kind, int peer, const std::string& message) {
  if (env->ExceptionCheck()) {
    return;
  }
  jclass cls = env->FindClass("io/finetune/trainer/distributed/GlooError");
  if (cls == nullptr) {
    return;  // NoClassDefFoundError is pending
  }
  jmethodID ctor = env->GetMethodID(cls, "<init>", "(IILjava/lang/String;)V");
  if (ctor == nullptr) {
    return;
  }
  jstring text = env->NewStringUTF(message.c_str());
  if (text == nullptr) {
    return;
  }
  auto error = static_cast<jthrowable>(env->NewObject(cls, ctor, kind, peer, text));
  if (error != nullptr) {
    env->Throw(error);
  }
}

// Classifies gloo's message: a closed or reset connection, a timeout, or anything else; and which peer it names.
void throwFromMessage(JNIEnv* env, const Group* group, const std::string& what) {
  int peer = -1;
  if (group != nullptr) {
    for (size_t i = 0; i < group->peerAddress.size(); i++) {
      const std::string& address = group->peerAddress[i];
      // A whole address only: "[127.0.0.1]:1832" must not match inside "[127.0.0.1]:18325".
      for (size_t at = address.empty() ? std::string::npos : what.find(address); at != std::string::npos;
           at = what.find(address, at + 1)) {
        size_t end = at + address.size();
        if (end == what.size() || !std::isdigit(static_cast<unsigned char>(what[end]))) {
          peer = static_cast<int>(i);
          break;
        }
      }
    }
  }
  int kind = OTHER;
  if (what.find("imed out") != std::string::npos || what.find("timeout") != std::string::npos) {
    kind = TIMEOUT;
  } else if (what.find("closed") != std::string::npos || what.find("reset") != std::string::npos ||
             what.find("Read error") != std::string::npos || what.find("writev") != std::string::npos ||
             what.find("Broken pipe") != std::string::npos || what.find("refused") != std::string::npos) {
    kind = CLOSED;
  }
  throwGlooError(env, kind, peer, what);
}

// Runs body, turning every C++ exception into a Java exception: the JVM never sees a C++ unwind.
template <typename Body>
void guarded(JNIEnv* env, const Group* group, Body body) {
  try {
    body();
  } catch (const JavaExceptionPending&) {
    // the callback's Java exception propagates as it is
  } catch (const std::exception& e) {
    throwFromMessage(env, group, e.what());
  } catch (...) {
    throwGlooError(env, OTHER, -1, "unknown C++ exception in gloo");
  }
}

Group* asGroup(jlong handle) {
  return reinterpret_cast<Group*>(handle);
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

void allreduce(Group* g, void* data, size_t elements, size_t elementSize, ReduceFn fn) {
  gloo::AllreduceOptions opts(g->context);
  if (elementSize == sizeof(float)) {
    opts.setOutput(static_cast<float*>(data), elements);
  } else {
    opts.setOutput(static_cast<int64_t*>(data), elements);
  }
  opts.setReduceFunction(fn);
  gloo::allreduce(opts);
}

void broadcast(Group* g, float* data, size_t elements, int root) {
  gloo::BroadcastOptions opts(g->context);
  opts.setOutput(data, elements);
  opts.setRoot(root);
  gloo::broadcast(opts);
}

float* directAddress(JNIEnv* env, jobject buffer, jint position) {
  auto base = static_cast<float*>(env->GetDirectBufferAddress(buffer));
  if (base == nullptr) {
    throw std::invalid_argument("not a direct buffer");
  }
  return base + position;
}

}  // namespace

extern "C" {

JNIEXPORT jlong JNICALL Java_io_finetune_trainer_distributed_GlooNative_connect(
    JNIEnv* env, jclass, jint rank, jint size, jstring hostname, jstring iface, jlong timeoutMillis, jobject store) {
  auto group = std::make_unique<Group>();
  bool ok = false;
  guarded(env, nullptr, [&] {
    gloo::transport::tcp::attr attr;
    std::string name = utf(env, iface);
    if (!name.empty()) {
      attr.iface = name;
    } else {
      attr.hostname = utf(env, hostname);
    }
    group->device = gloo::transport::tcp::CreateDevice(attr);
    group->context = std::make_shared<gloo::rendezvous::Context>(rank, size);
    group->context->setTimeout(std::chrono::milliseconds(timeoutMillis));
    JavaStore javaStore(env, store);
    group->context->connectFullMesh(javaStore, group->device);
    group->peerAddress.resize(static_cast<size_t>(size));
    for (int peer = 0; peer < size; peer++) {
      if (peer != rank) {
        group->peerAddress[static_cast<size_t>(peer)] = javaStore.peerAddress(rank, size, peer);
      }
    }
    ok = true;
  });
  return ok ? reinterpret_cast<jlong>(group.release()) : 0;
}

JNIEXPORT void JNICALL Java_io_finetune_trainer_distributed_GlooNative_allReduceSumArray(
    JNIEnv* env, jclass, jlong handle, jfloatArray data) {
  Group* g = asGroup(handle);
  guarded(env, g, [&] {
    jsize n = env->GetArrayLength(data);
    if (g->scratch.size() < static_cast<size_t>(n)) {
      g->scratch.resize(static_cast<size_t>(n));
    }
    env->GetFloatArrayRegion(data, 0, n, g->scratch.data());
    allreduce(g, g->scratch.data(), static_cast<size_t>(n), sizeof(float), &gloo::sum<float>);
    // Written back only on success: a failed all-reduce leaves the caller's array as it was.
    env->SetFloatArrayRegion(data, 0, n, g->scratch.data());
  });
}

JNIEXPORT void JNICALL Java_io_finetune_trainer_distributed_GlooNative_allReduceSumBuffer(
    JNIEnv* env, jclass, jlong handle, jobject buffer, jint position, jint length) {
  Group* g = asGroup(handle);
  guarded(env, g, [&] {
    allreduce(g, directAddress(env, buffer, position), static_cast<size_t>(length), sizeof(float), &gloo::sum<float>);
  });
}

JNIEXPORT void JNICALL Java_io_finetune_trainer_distributed_GlooNative_allReduceMaxLongs(
    JNIEnv* env, jclass, jlong handle, jlongArray data) {
  Group* g = asGroup(handle);
  guarded(env, g, [&] {
    jsize n = env->GetArrayLength(data);
    std::vector<int64_t> values(static_cast<size_t>(n));
    static_assert(sizeof(jlong) == sizeof(int64_t), "jlong is 64 bits");
    env->GetLongArrayRegion(data, 0, n, reinterpret_cast<jlong*>(values.data()));
    allreduce(g, values.data(), values.size(), sizeof(int64_t), &gloo::max<int64_t>);
    env->SetLongArrayRegion(data, 0, n, reinterpret_cast<const jlong*>(values.data()));
  });
}

JNIEXPORT void JNICALL Java_io_finetune_trainer_distributed_GlooNative_broadcastArray(
    JNIEnv* env, jclass, jlong handle, jfloatArray data, jint root) {
  Group* g = asGroup(handle);
  guarded(env, g, [&] {
    jsize n = env->GetArrayLength(data);
    if (g->scratch.size() < static_cast<size_t>(n)) {
      g->scratch.resize(static_cast<size_t>(n));
    }
    env->GetFloatArrayRegion(data, 0, n, g->scratch.data());
    broadcast(g, g->scratch.data(), static_cast<size_t>(n), root);
    env->SetFloatArrayRegion(data, 0, n, g->scratch.data());
  });
}

JNIEXPORT void JNICALL Java_io_finetune_trainer_distributed_GlooNative_broadcastBuffer(
    JNIEnv* env, jclass, jlong handle, jobject buffer, jint position, jint length, jint root) {
  Group* g = asGroup(handle);
  guarded(env, g, [&] { broadcast(g, directAddress(env, buffer, position), static_cast<size_t>(length), root); });
}

JNIEXPORT void JNICALL Java_io_finetune_trainer_distributed_GlooNative_barrier(JNIEnv* env, jclass, jlong handle) {
  Group* g = asGroup(handle);
  guarded(env, g, [&] {
    gloo::BarrierOptions opts(g->context);
    gloo::barrier(opts);
  });
}

JNIEXPORT void JNICALL Java_io_finetune_trainer_distributed_GlooNative_destroy(JNIEnv* env, jclass, jlong handle) {
  Group* g = asGroup(handle);
  guarded(env, g, [&] { delete g; });
}

// The file gloo::allreduce was resolved from in this process: Debian's libgloo, never libtorch_cpu.so.
JNIEXPORT jstring JNICALL Java_io_finetune_trainer_distributed_GlooNative_resolvedGlooLibrary(JNIEnv* env, jclass) {
  Dl_info info;
  void (*fn)(const gloo::AllreduceOptions&) = &gloo::allreduce;
  if (dladdr(reinterpret_cast<void*>(fn), &info) == 0 || info.dli_fname == nullptr) {
    return env->NewStringUTF("");
  }
  return env->NewStringUTF(info.dli_fname);
}

}  // extern "C"
