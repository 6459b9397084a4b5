#!/usr/bin/env bash
# Builds the trainer's Gloo binding (libfinetune_gloo.so, io.finetune.trainer.distributed.GlooNative) from
# trainer-image/src/main/native/gloo against Debian's libgloo-dev, into a cache outside the repository, and prints the
# library's path (the only line on stdout). Rebuilds only when the sources, this script or the installed Gloo change.
# Used by hack/test.sh (FINETUNE_GLOO_LIBRARY) and by the trainer Dockerfiles (--bundle).
#
#   hack/build-gloo-jni.sh                 build (or reuse) and print the path
#   hack/build-gloo-jni.sh --bundle DIR    also copy the library and the shared libraries it needs beyond glibc and
#                                          libstdc++ (libgloo.so.0 and its dependencies) into DIR; the library finds them
#                                          there through its $ORIGIN rpath
# Environment:
#   FINETUNE_GLOO_CACHE  cache root (default ~/.cache/finetune-gloo)
#   JNI_INCLUDE          directory holding jni.h and linux/jni_md.h (default: from JAVA_HOME, else javac's real path)
#
# Debian ships Gloo as a shared library only (no libgloo.a), so the binding links libgloo.so.0 and exports nothing but its
# Java_* entry points; libtorch_cpu.so carries its own gloo:: symbols, which is why the JVM must load this library
# RTLD_LOCAL (System.load does) and why the tests check in the same JVM as DJL which file gloo was resolved from.
set -euo pipefail
log() { echo "[build-gloo-jni] $*" >&2; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
SCRIPT=$(readlink -f "$0")
cd "$(dirname "$SCRIPT")/.."
SRC=trainer-image/src/main/native/gloo
BUNDLE=""
if [[ "${1:-}" == "--bundle" ]]; then
  BUNDLE=${2:?usage: build-gloo-jni.sh [--bundle DIR]}
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
for pkg in libgloo-dev g++; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[[ -n "$(find_jni_include)" ]] || missing+=(openjdk-17-jdk-headless)
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  # apt-get update only when the package lists cannot offer what is missing.
  if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
    as_root apt-get update -qq
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
JNI=$(find_jni_include)
[[ -f "$JNI/jni.h" && -f "$JNI/linux/jni_md.h" ]] || { log "error: no jni.h under '$JNI' (set JAVA_HOME or JNI_INCLUDE)"; exit 2; }

GLOO_VERSION=$(dpkg-query -W -f='${Version}' libgloo-dev)
KEY=$( { cat "$SRC"/*.cc "$SRC/exports.map" "$SCRIPT"; echo "gloo $GLOO_VERSION"; g++ -dumpfullversion; } | sha256sum | cut -c1-16)
CACHE="${FINETUNE_GLOO_CACHE:-$HOME/.cache/finetune-gloo}/$KEY"
LIB="$CACHE/libfinetune_gloo.so"
if [[ ! -f "$LIB" ]]; then
  log "compiling $SRC against libgloo-dev $GLOO_VERSION (jni.h from $JNI)"
  mkdir -p "$CACHE"
  TMP=$(mktemp "$CACHE/.libfinetune_gloo.XXXXXX")
  # -fvisibility=hidden and the version script: only the JNI entry points leave the library. DT_RPATH $ORIGIN (not RUNPATH): it also applies to
  # libgloo.so.0's own dependencies, so a bundle directory is self-contained. -z defs: no symbol left unresolved.
  g++ -std=c++17 -O2 -fPIC -shared -fvisibility=hidden -fvisibility-inlines-hidden -Wall -Wextra \
    -I"$JNI" -I"$JNI/linux" "$SRC/finetune_gloo.cc" -o "$TMP" \
    -Wl,--version-script="$SRC/exports.map" -Wl,-z,defs -Wl,--exclude-libs,ALL -Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN' -lgloo -lpthread -ldl
  exported=$(nm -D --defined-only "$TMP" | awk '{print $3}' | grep -v '^Java_io_finetune_trainer_distributed_GlooNative_' || true)
  if [[ -n "$exported" ]]; then
    log "error: the library exports more than its JNI entry points: $exported"; rm -f "$TMP"; exit 1
  fi
  if ldd "$TMP" | grep -q "not found"; then
    log "error: unresolved dependencies: $(ldd "$TMP" | grep 'not found')"; rm -f "$TMP"; exit 1
  fi
  mv -f "$TMP" "$LIB"
fi
if [[ -n "$BUNDLE" ]]; then
  mkdir -p "$BUNDLE"
  cp "$LIB" "$BUNDLE/"
  # Everything the library loads except the C/C++ runtime, which every image has.
  ldd "$LIB" | awk '/=> \// {print $3}' \
    | grep -Ev '/(libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s|ld-linux[^/]*)\.so' \
    | while read -r dep; do cp -L "$dep" "$BUNDLE/"; done
  log "bundled into $BUNDLE: $(ls "$BUNDLE" | tr '\n' ' ')"
fi
echo "$LIB"
