#!/usr/bin/env bash
# Prepares the payload hack/gpu-check.sh needs on a device machine (no Java, no network there), under target/gpu-check/
# (ignored by git; carry it with the run: carry=["target/gpu-check"], < 64 MiB):
#   jre.tar.xz         a jlink'ed Java 17 runtime (the modules the trainer uses)
#   trainer.jar.xz     the -Dcuda trainer jar (no CPU libtorch), other platforms' native libraries removed
#   djl-jni.tar.xz     DJL v0.36.0's JNI sources (engines/pytorch/pytorch-native, api/src/main/native), the javac -h header
#                      and jni.h/jni_md.h of this JDK, so the device builds libdjl_torch.so with CMake alone
#   reference/<case>   the same jobs trained here on the CPU in fp32 (training_summary.json), for the loss comparison
# Usage: hack/gpu-check-prepare.sh [DJL_SRC]   (DJL_SRC: a deepjavalibrary/djl git repository; default: clone from GitHub)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/target/gpu-check
DJL_TAG=v$(sed -n 's:.*<djl.version>\(.*\)</djl.version>.*:\1:p' pom.xml)
DJL_COMMIT=$(sed -n 's/^ARG DJL_COMMIT=//p' trainer-image/Dockerfile)
rm -rf "$OUT" && mkdir -p "$OUT/reference"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "== DJL $DJL_TAG JNI sources"
DJL_SRC=${1:-}
if [[ -z "$DJL_SRC" ]]; then
  git clone --quiet --bare --depth 1 --branch "$DJL_TAG" https://github.com/deepjavalibrary/djl.git "$TMP/djl.git"
  DJL_SRC=$TMP/djl.git
fi
[[ "$(git -C "$DJL_SRC" rev-parse "$DJL_TAG^{commit}")" == "$DJL_COMMIT" ]] \
  || { echo "DJL $DJL_TAG is not commit $DJL_COMMIT (trainer-image/Dockerfile)" >&2; exit 1; }
mkdir -p "$TMP/djl/header" "$TMP/djl/jni-include/linux"
git -C "$DJL_SRC" archive "$DJL_TAG" engines/pytorch/pytorch-native api/src/main/native \
  engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java | tar -x -C "$TMP/djl"
javac -h "$TMP/djl/header" -d "$TMP/classes" "$TMP/djl/engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java"
JDK=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
cp "$JDK/include/jni.h" "$TMP/djl/jni-include/" && cp "$JDK/include/linux/jni_md.h" "$TMP/djl/jni-include/linux/"
tar -C "$TMP" -c djl | xz -9 > "$OUT/djl-jni.tar.xz"

echo "== jars (CPU jar for the reference runs, -Dcuda jar for the device)"
mvn -B -q -pl trainer-image -am -DskipTests package
cp trainer-image/target/finetune-trainer.jar "$TMP/cpu.jar"
mvn -B -q -pl trainer-image -am -Dcuda -DskipTests package
cp trainer-image/target/finetune-trainer.jar "$TMP/trainer.jar"
# Natives of other platforms (and DJL's prebuilt cu128/cpu JNI: the device builds its own) would only take carry space.
zip -q -d "$TMP/trainer.jar" 'native/lib/osx*' 'native/lib/win*' 'native/lib/linux-aarch64*' 'jnilib/osx*' 'jnilib/win*' \
  'jnilib/linux-aarch64*' 'jnilib/*/*/win*' 'jnilib/*/*/osx*' 'jnilib/*/*/linux-aarch64*' 'jnilib/*/osx*' 'jnilib/*/win*' \
  'jnilib/*/linux-aarch64*' 'jnilib/linux-x86_64/*' 'ai/djl/huggingface/tokenizers/jni/*/osx*' 2>/dev/null || true
xz -9 -T2 -c "$TMP/trainer.jar" > "$OUT/trainer.jar.xz"
mvn -B -q -pl trainer-image -am -DskipTests package   # leave the default (CPU) jar in target/ as a developer expects

echo "== jlink'ed JRE"
jlink --add-modules java.base,java.logging,java.management,java.naming,java.net.http,java.sql,java.xml,jdk.crypto.ec,jdk.httpserver,jdk.unsupported \
  --strip-debug --no-header-files --no-man-pages --compress=0 --output "$TMP/jre"
tar -C "$TMP" -c jre | xz -9 -T2 > "$OUT/jre.tar.xz"

source hack/gpu-check-lib.sh
echo "== CPU fp32 reference runs ($CHECK_STEPS steps each)"
# --tiny: the reference cases train the tiny base model under $QS; without it the quick start takes stories15M where it can
# be fetched (as here) and never writes $QS/base-model.
java -jar "$TMP/cpu.jar" quickstart --tiny > "$OUT/reference/quickstart.log" 2>&1 || { tail "$OUT/reference/quickstart.log"; exit 1; }
[[ -f "$QS/base-model/config.json" && -f "$QS/data/eval.jsonl" ]] \
  || { echo "quickstart --tiny wrote no $QS/base-model/config.json or $QS/data/eval.jsonl" >&2; exit 1; }
for c in "${CHECK_CASES[@]}"; do
  write_job "$c" fp32 "$TMP/ref-$c" "$TMP/$c.yaml"
  java -jar "$TMP/cpu.jar" run "$TMP/$c.yaml" > "$OUT/reference/$c.log" 2>&1 || { tail "$OUT/reference/$c.log"; exit 1; }
  cp "$TMP/ref-$c/training_summary.json" "$OUT/reference/$c.json"
  echo "  $c: $(grep -o '"evalLossAfter" : [0-9.]*' "$OUT/reference/$c.json")"
done
du -ch "$OUT"/*.xz | tail -1
echo "payload ready in $OUT; carry it: run(command='hack/gpu-check.sh', carry=['target/gpu-check'], timeout_s=600)"
