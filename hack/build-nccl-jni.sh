#!/usr/bin/env bash
# Builds the trainer's NCCL binding (libfinetune_nccl.so, io.finetune.trainer.distributed.NcclNative) from
# trainer-image/src/main/native/nccl (nccl_api.h and one .cc per concern) with g++ alone, into a cache outside the
# repository, and prints the library's path (the only line on stdout). Rebuilds only when the sources or this script
# change. Used by hack/test.sh (FINETUNE_NCCL_LIBRARY: the CPU tests load it and check what it declares) and by
# trainer-image/Dockerfile.
#
#   hack/build-nccl-jni.sh                 build (or reuse) and print the path
#   hack/build-nccl-jni.sh --bundle DIR    also copy the library into DIR
# Environment:
#   FINETUNE_NCCL_CACHE  cache root (default ~/.cache/finetune-nccl)
#   JNI_INCLUDE          directory holding jni.h and linux/jni_md.h (default: from JAVA_HOME, else javac's real path)
#
# No NCCL or CUDA header or library is needed here: no registry reachable from the build machines serves nccl.h, so the
# binding declares the few NCCL / CUDA runtime types and functions it uses and dlopen()s libnccl.so.2 and libcudart at run
# time (in the CUDA image, the copies libtorch_cuda already loaded). It links nothing but libdl.
set -euo pipefail
log() { echo "[build-nccl-jni] $*" >&2; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
SCRIPT=$(readlink -f "$0")
cd "$(dirname "$SCRIPT")/.."
SRC=trainer-image/src/main/native/nccl
BUNDLE=""
if [[ "${1:-}" == "--bundle" ]]; then
  BUNDLE=${2:?usage: build-nccl-jni.sh [--bundle DIR]}
fi

find_jni_include() {
  local home=""
  if [[ -n "${JNI_INCLUDE:-}" ]]; then echo "$JNI_INCLUDE"; return; fi
  if [[ -n "${JAVA_HOME:-}" && -f "$JAVA_HOME/include/jni.h" ]]; then echo "$JAVA_HOME/include"; return; fi
  if command -v javac >/dev/null; then
    home=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    if [[ -f "$home/include/jni.h" ]]; then echo "$home/include"; return; fi
  fi
}

missing=()
command -v g++ >/dev/null || missing+=(g++)
[[ -n "$(find_jni_include)" ]] || missing+=(openjdk-17-jdk-headless)
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
    as_root apt-get update -qq
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
JNI=$(find_jni_include)
[[ -f "$JNI/jni.h" && -f "$JNI/linux/jni_md.h" ]] || { log "error: no jni.h under '$JNI' (set JAVA_HOME or JNI_INCLUDE)"; exit 2; }

KEY=$( { cat "$SRC"/*.h "$SRC"/*.cc "$SRC/exports.map" "$SCRIPT"; g++ -dumpfullversion; } | sha256sum | cut -c1-16)
CACHE="${FINETUNE_NCCL_CACHE:-$HOME/.cache/finetune-nccl}/$KEY"
LIB="$CACHE/libfinetune_nccl.so"
if [[ ! -f "$LIB" ]]; then
  log "compiling $SRC (jni.h from $JNI; no CUDA or NCCL headers)"
  mkdir -p "$CACHE"
  TMP=$(mktemp "$CACHE/.libfinetune_nccl.XXXXXX")
  g++ -std=c++17 -O2 -fPIC -shared -fvisibility=hidden -fvisibility-inlines-hidden -Wall -Wextra -Werror \
    -I"$JNI" -I"$JNI/linux" "$SRC"/*.cc -o "$TMP" \
    -Wl,--version-script="$SRC/exports.map" -Wl,-z,defs -Wl,--exclude-libs,ALL -ldl
  exported=$(nm -D --defined-only "$TMP" | awk '{print $3}' | grep -v '^Java_io_finetune_trainer_distributed_NcclNative_' || true)
  if [[ -n "$exported" ]]; then
    log "error: the library exports more than its JNI entry points: $exported"; rm -f "$TMP"; exit 1
  fi
  if ldd "$TMP" | grep -Eq "not found|libnccl|libcudart"; then
    log "error: the library must link neither NCCL nor CUDA (it dlopens them): $(ldd "$TMP")"; rm -f "$TMP"; exit 1
  fi
  mv -f "$TMP" "$LIB"
fi
if [[ -n "$BUNDLE" ]]; then
  mkdir -p "$BUNDLE"
  cp "$LIB" "$BUNDLE/"
  log "bundled into $BUNDLE: libfinetune_nccl.so"
fi
echo "$LIB"
