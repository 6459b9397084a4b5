#!/usr/bin/env bash
# Data-parallel cost on this machine: the same global batch trained by one process (batch B) and by two processes on Gloo
# over 127.0.0.1 (batch B/2 each), one compute thread per process, for LoRA and Full on an init-model preset; prints the
# mean step time and the gradient all-reduce time per step (host copies included) that each run's training_summary.json
# reports (distributed.stepSeconds, distributed.allReduceSecondsPerStep), and the final losses of both (they must agree).
#
#   mvn -B -DskipTests package && bench/allreduce.sh
#   PRESET=tiny STEPS=20 GLOBAL_BATCH=8 SEQ=128 bench/allreduce.sh
#
# Writes the table to $WORK/allreduce.md (bench/run.sh part 6 includes it in BENCHMARKS.md). CPU only: figures for NCCL
# need a GPU run (hack/gpu-check.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=trainer-image/target/finetune-trainer.jar
PRESET=${PRESET:-small}
STEPS=${STEPS:-12}
GLOBAL_BATCH=${GLOBAL_BATCH:-8}
SEQ=${SEQ:-128}
METHODS=${METHODS:-"LoRA Full"}
WORK=${ALLREDUCE_WORK:-/tmp/finetune-bench-allreduce}
PY=$(command -v python3)
[ -f "$JAR" ] || mvn -B -q -DskipTests -pl api,trainer-image -am package
FINETUNE_GLOO_LIBRARY=$(hack/build-gloo-jni.sh); export FINETUNE_GLOO_LIBRARY
rm -rf "$WORK"; mkdir -p "$WORK"
java -jar "$JAR" init-model --preset "$PRESET" --seed 7 --output "$WORK/model" >/dev/null
"$PY" - "$WORK/train.jsonl" <<'PYEOF'
import json, random, sys
rng = random.Random(3)
words = "the a cat dog sat on mat ran far near big small red blue green tree house river stone light dark".split()
with open(sys.argv[1], "w") as f:
    for i in range(600):
        f.write(json.dumps({"text": " ".join(rng.choice(words) for _ in range(rng.randint(20, 40)))}) + "\n")
PYEOF

job() {  # method batch output
  local block
  case "$1" in
    LoRA) block=$'type: LoRA\n    lora: {rank: 16, targetModules: [all-linear]}' ;;
    *) block="type: $1" ;;
  esac
  cat > "$WORK/$3.yaml" <<YAML
apiVersion: finetune.io/v1alpha1
kind: FineTuneJob
metadata:
  name: allreduce-$3
spec:
  model: {source: "file://$WORK/model"}
  dataset: {source: "file://$WORK/train.jsonl", format: text, evalFraction: 0.05, maxSeqLength: $SEQ, packing: true}
  method:
    $block
  training: {maxSteps: $STEPS, batchSize: $2, learningRate: 0.0005, checkpointEverySteps: 0, logEverySteps: 100}
  output: {destination: "file://$WORK/$3"}
YAML
  echo "$WORK/$3.yaml"
}

ranks() {  # world job output
  local world=$1 port=$((29500 + RANDOM % 1000)) pids=() r
  for ((r = 0; r < world; r++)); do
    if [ "$world" -gt 1 ]; then
      env OMP_NUM_THREADS=1 RANK=$r WORLD_SIZE=$world MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
        java -Xmx2g -jar "$JAR" run "$2" --output "$WORK/$3" > "$WORK/$3.rank$r.log" 2>&1 &
    else
      env OMP_NUM_THREADS=1 java -Xmx2g -jar "$JAR" run "$2" --output "$WORK/$3" > "$WORK/$3.rank$r.log" 2>&1 &
    fi
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || { echo "a rank of $3 failed: see $WORK/$3.rank*.log" >&2; exit 1; }; done
}

for m in $METHODS; do
  ranks 1 "$(job "$m" "$GLOBAL_BATCH" "$m-w1")" "$m-w1"
  ranks 2 "$(job "$m" $((GLOBAL_BATCH / 2)) "$m-w2")" "$m-w2"
done

"$PY" - "$WORK" "$PRESET" "$STEPS" "$GLOBAL_BATCH" "$SEQ" "$METHODS" <<'PYEOF' | tee "$WORK/allreduce.md"
import json, sys, os
work, preset, steps, gb, seq, methods = sys.argv[1:7]
load = os.getloadavg()
print(f"Measured by `bench/allreduce.sh` (PRESET={preset} STEPS={steps} GLOBAL_BATCH={gb} SEQ={seq}): one process x batch "
      f"{gb} against two Gloo ranks on 127.0.0.1 x batch {int(gb)//2}, one compute thread per process, packed rows; load "
      f"average {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} (nproc {os.cpu_count()}).\n")
print("| method | world | trainable params | step (s) | gradient all-reduce per step (ms) | share of the step | final train loss |")
print("|---|---:|---:|---:|---:|---:|---:|")
for m in methods.split():
    for w in (1, 2):
        s = json.load(open(f"{work}/{m}-w{w}/training_summary.json"))
        d = s["distributed"]
        share = d["allReduceSecondsPerStep"] / d["stepSeconds"] if d["stepSeconds"] else 0
        print(f"| {m} | {d['worldSize']} | {s['trainableParameters']:,} | {d['stepSeconds']:.3f} | "
              f"{1000 * d['allReduceSecondsPerStep']:.1f} | {100 * share:.1f}% | {s['trainLoss']:.6f} |")
PYEOF
