#!/usr/bin/env bash
# Builds DJL's PyTorch JNI (libdjl_torch.so) from DJL's own sources against the libtorch of the Python `torch` found on
# PATH, as DJL's engines/pytorch/pytorch-native/build.sh does (javac -h for PyTorchLibrary's header, CMake, then the link
# without /usr/local/cuda's libcudart/libnvrtc so the library uses torch's own CUDA runtime). Used by trainer-image/Dockerfile
# (stage "jni") and by hack/gpu-check.sh on a device machine.
#
#   hack/build-djl-jni.sh DJL_SRC OUT_DIR
#     DJL_SRC  a checkout (or extract) of deepjavalibrary/djl at the tag of the trainer's DJL version: it needs
#              engines/pytorch/pytorch-native/, api/src/main/native/ and engines/pytorch/pytorch-engine/.../PyTorchLibrary.java
#     OUT_DIR  receives libdjl_torch.so and torch-version.txt (torch.__version__ it was built against)
# Environment:
#   PYTHON           interpreter with torch (default: python3)
#   JNI_INCLUDE      directory holding jni.h and linux/jni_md.h (default: $JAVA_HOME/include)
#   JNI_HEADER_DIR   a directory already holding ai_djl_pytorch_jni_PyTorchLibrary.h (skips javac: a machine without a JDK)
#   USE_CUDA         1 (default when torch.version.cuda is set) or 0
#   JOBS             parallel compile jobs (default: nproc)
set -euo pipefail
SRC=$(cd "${1:?usage: build-djl-jni.sh DJL_SRC OUT_DIR}" && pwd)
OUT=${2:?usage: build-djl-jni.sh DJL_SRC OUT_DIR}
PYTHON=${PYTHON:-python3}
NATIVE="$SRC/engines/pytorch/pytorch-native"
LIBRARY_JAVA="$SRC/engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java"
for f in "$NATIVE/CMakeLists.txt" "$SRC/api/src/main/native/djl/utils.h" "$LIBRARY_JAVA"; do
  [[ -f "$f" ]] || { echo "build-djl-jni: $f is missing (is $SRC a DJL checkout?)" >&2; exit 2; }
done
TORCH_PREFIX=$("$PYTHON" -c 'import torch; print(torch.utils.cmake_prefix_path)')
TORCH_VERSION=$("$PYTHON" -c 'import torch; print(torch.__version__)')
TORCH_CUDA=$("$PYTHON" -c 'import torch; print(torch.version.cuda or "")')
USE_CUDA=${USE_CUDA:-$([[ -n "$TORCH_CUDA" ]] && echo 1 || echo 0)}
echo "build-djl-jni: torch $TORCH_VERSION (CUDA ${TORCH_CUDA:-none}), USE_CUDA=$USE_CUDA, sources $SRC"

BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT
# DJL's layout, reduced to what the build reads: CMakeLists finds djl/utils.h at ../../../api/src/main/native and the
# generated header in its own build/include.
mkdir -p "$BUILD/engines/pytorch" "$BUILD/api/src/main"
cp -r "$NATIVE" "$BUILD/engines/pytorch/pytorch-native"
cp -r "$SRC/api/src/main/native" "$BUILD/api/src/main/native"
WORK="$BUILD/engines/pytorch/pytorch-native"
rm -rf "$WORK/build" && mkdir -p "$WORK/build/include"
if [[ -n "${JNI_HEADER_DIR:-}" ]]; then
  cp "$JNI_HEADER_DIR/ai_djl_pytorch_jni_PyTorchLibrary.h" "$WORK/build/include/"
else
  javac -h "$WORK/build/include" -d "$BUILD/classes" "$LIBRARY_JAVA"
fi
JNI_INCLUDE=${JNI_INCLUDE:-${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac || command -v java)")")")}/include}
[[ -f "$JNI_INCLUDE/jni.h" && -f "$JNI_INCLUDE/linux/jni_md.h" ]] \
  || { echo "build-djl-jni: no jni.h / linux/jni_md.h under $JNI_INCLUDE (set JNI_INCLUDE)" >&2; exit 2; }
cd "$WORK/build"
# FindJNI: the JNI library itself is never linked (DJL links only libtorch), so the JVM/AWT paths are placeholders.
cmake -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" -DUSE_CUDA="$USE_CUDA" -DCMAKE_BUILD_TYPE=Release \
  -DJAVA_INCLUDE_PATH="$JNI_INCLUDE" -DJAVA_INCLUDE_PATH2="$JNI_INCLUDE/linux" -DJAVA_JVM_LIBRARY=NotNeeded \
  -DJAVA_AWT_LIBRARY=NotNeeded -DJAVA_AWT_INCLUDE_PATH=NotNeeded ..
cmake --build . --config Release -- -j "${JOBS:-$(nproc)}"
if [[ "$USE_CUDA" == 1 ]]; then
  # As DJL's build.sh: relink without the toolkit's libcudart/libnvrtc, so the JNI uses the CUDA runtime torch ships.
  sed -i -r "s#/usr/local/cuda[^ ]*/lib(64)?/lib(cudart|nvrtc)\.so##g" CMakeFiles/djl_torch.dir/link.txt
  rm -f libdjl_torch.so
  . CMakeFiles/djl_torch.dir/link.txt
fi
mkdir -p "$OUT"
cp libdjl_torch.so "$OUT/libdjl_torch.so"
echo "$TORCH_VERSION" > "$OUT/torch-version.txt"
echo "build-djl-jni: wrote $OUT/libdjl_torch.so against torch $TORCH_VERSION"
