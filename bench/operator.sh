#!/usr/bin/env bash
# Operator benchmark (section 3 of bench/run.sh): real kube-apiserver from testkit's cached 1.20.2 binaries + the packaged
# operator as a process. Prints a Markdown section. Args: WORK_DIR. Env: OP_JOBS (default 200), OP_TOTAL (500), OP_RATE (20/s);
# OP_BEFORE_COMMIT (a commit to compare with: its operator is built from `git archive` under WORK_DIR) or OP_BEFORE_JAR
# (a quarkus-run.jar): API requests per FineTuneJob lifecycle / per pass / at idle for that build and this one, side by
# side (OP_LIFECYCLES 3, OP_IDLE_JOBS 20).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-/tmp/finetune-bench-operator}
CP=testkit/target/bench-classpath.txt
if [ ! -f operator/target/quarkus-app/quarkus-run.jar ] || [ ! -f "$CP" ] \
   || [ ! -f testkit/target/test-classes/io/finetune/bench/OperatorBench.class ] \
   || [ ! -f testkit/target/test-classes/io/finetune/bench/RequestsBench.class ]; then
  echo "building operator + testkit (and the benchmark classpath)..." >&2
  mvn -B -q -DskipTests -pl api,testkit,operator package dependency:build-classpath \
    -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test >&2
fi
if [ ! -x "$HOME/.cache/finetune-kube/1.20.2/bin/kube-apiserver" ]; then
  printf '## 3. Operator latency and scale\n\nNOT MEASURED: no control-plane binaries in ~/.cache/finetune-kube/1.20.2/bin (build them with hack/kube-binaries.sh).\n\n'
  exit 0
fi
rm -rf "$WORK"; mkdir -p "$WORK"
BENCH_CP="testkit/target/test-classes:testkit/target/classes:$(cat "$CP")"
BEFORE_JAR=${OP_BEFORE_JAR:-}
if [ -z "$BEFORE_JAR" ] && [ -n "${OP_BEFORE_COMMIT:-}" ]; then
  echo "building the operator of $OP_BEFORE_COMMIT for the before/after request counts..." >&2
  mkdir -p "$WORK/before-src"
  git archive "$OP_BEFORE_COMMIT" | tar -x -C "$WORK/before-src"
  (cd "$WORK/before-src" && mvn -B -q -o -DskipTests -pl api,operator -am package >&2)
  BEFORE_JAR="$WORK/before-src/operator/target/quarkus-app/quarkus-run.jar"
fi
if [ -n "$BEFORE_JAR" ]; then
  before_label="before${OP_BEFORE_COMMIT:+ ($(git rev-parse --short "$OP_BEFORE_COMMIT"))}"
  after_label="after ($(git rev-parse --short HEAD)$(git diff --quiet HEAD -- operator api || echo '+changes'))"
  REQUESTS=$(java -Xmx1g -cp "$BENCH_CP" io.finetune.bench.RequestsBench "$(pwd)" "$WORK/requests" "${OP_LIFECYCLES:-3}" \
    "${OP_IDLE_JOBS:-20}" "$before_label=$BEFORE_JAR" "$after_label=operator/target/quarkus-app/quarkus-run.jar")
fi
java -Xmx1g -cp "testkit/target/test-classes:testkit/target/classes:$(cat "$CP")" io.finetune.bench.OperatorBench \
  "$(pwd)" "$WORK" "${OP_JOBS:-200}" "${OP_TOTAL:-500}" "${OP_RATE:-20}"
if [ -n "${REQUESTS:-}" ]; then
  printf '%s\n\n' "$REQUESTS"
fi
