#!/usr/bin/env bash
# Operator benchmark (section 3 of bench/run.sh): real kube-apiserver from testkit's cached 1.20.2 binaries + the packaged
# operator as a process. Prints a Markdown section. Args: WORK_DIR. Env: OP_JOBS (default 200), OP_TOTAL (500), OP_RATE (20/s).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-/tmp/finetune-bench-operator}
CP=testkit/target/bench-classpath.txt
if [ ! -f operator/target/quarkus-app/quarkus-run.jar ] || [ ! -f "$CP" ] \
   || [ ! -f testkit/target/test-classes/io/finetune/bench/OperatorBench.class ]; then
  echo "building operator + testkit (and the benchmark classpath)..." >&2
  mvn -B -q -DskipTests -pl api,testkit,operator package dependency:build-classpath \
    -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test >&2
fi
if [ ! -x "$HOME/.cache/finetune-kube/1.20.2/bin/kube-apiserver" ]; then
  printf '## 3. Operator latency and scale\n\nNOT MEASURED: no control-plane binaries in ~/.cache/finetune-kube/1.20.2/bin (build them with hack/kube-binaries.sh).\n\n'
  exit 0
fi
rm -rf "$WORK"; mkdir -p "$WORK"
java -Xmx1g -cp "testkit/target/test-classes:testkit/target/classes:$(cat "$CP")" io.finetune.bench.OperatorBench \
  "$(pwd)" "$WORK" "${OP_JOBS:-200}" "${OP_TOTAL:-500}" "${OP_RATE:-20}"
