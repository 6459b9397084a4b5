#!/usr/bin/env bash
# QLoRA vs LoRA on the same job: LoRA (r=16, all-linear) with the base as loaded, then with spec.model.quantization
# {type: nf4} (double-quantized constants), same data, steps, batch and seed. Prints, MEASURED per run: the stored bytes
# per decoder-linear weight (the trainer's "quantization:" log line), the process's peak RSS (/usr/bin/time), training
# tokens/s and held-out eval loss before -> after (training_summary.json).
#
#   bench/qlora.sh                      # tiny random-init model of the quick start (examples/quickstart.yaml)
#   TASK=wordnet STEPS=40 bench/qlora.sh   # stories15M learning WordNet definitions (needs what bench/methods.sh needs)
#   PRESET=small STEPS=10 bench/qlora.sh   # the quick-start data on a larger random-init shape (init-model --preset small:
#                                          # d=512, 8 layers, ~25M decoder weights), where the weight saving shows in RSS
#
# On CPU the compute dtype is fp32; peak RSS includes the JVM and libtorch (~hundreds of MiB at these sizes), so the
# weight saving shows in absolute MiB, not as a ratio. Nothing here runs on a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=${JAR:-trainer-image/target/finetune-trainer.jar}
STEPS=${STEPS:-100}
TESTCP=${TESTCP:-trainer-image/target/test-classes}
TASK=${TASK:-quickstart}
QS=/tmp/finetune-quickstart
WORK=${WORK:-/tmp/finetune-bench-qlora}

if [ ! -f "$JAR" ] || { [ "$TASK" = wordnet ] && [ ! -f "$TESTCP/io/finetune/bench/RealTaskData.class" ]; }; then
  mvn -B -q -DskipTests -pl api,trainer-image -am package
fi
rm -rf "$WORK"
mkdir -p "$WORK"
case "$TASK" in
  quickstart)
    if [ ! -f "$QS/base-model/config.json" ] || [ ! -f "$QS/data/train.jsonl" ] || [ ! -f "$QS/data/eval.jsonl" ]; then
      java -jar "$JAR" quickstart --tiny > /dev/null
    fi
    MODEL=$QS/base-model; DATA=$QS/data; LR=0.003
    if [ -n "${PRESET:-}" ]; then
      MODEL=$WORK/model-$PRESET
      java -jar "$JAR" init-model --preset "$PRESET" --seed 42 --output "$MODEL" > /dev/null
      cp "$QS"/base-model/tokenizer*.json "$QS"/base-model/special_tokens_map.json "$MODEL"/ 2>/dev/null || true
    fi ;;
  wordnet)
    MODEL=$(java -cp "$JAR:$TESTCP" io.finetune.bench.RealTaskData "$WORK/data" | sed -n 's/^model=\([^ ]*\).*/\1/p')
    [ -n "$MODEL" ] || { echo "stories15M or WordNet unavailable" >&2; exit 1; }
    DATA=$WORK/data; LR=0.002 ;;
  *) echo "unknown TASK $TASK (quickstart or wordnet)" >&2; exit 2 ;;
esac

for run in lora qlora; do
  quant=""
  [ "$run" = qlora ] && quant=$'\n    quantization:\n      type: nf4'
  cat > "$WORK/$run.yaml" <<YAML
apiVersion: finetune.io/v1alpha1
kind: FineTuneJob
metadata:
  name: bench-$run
spec:
  model:
    source: file://$MODEL$quant
  dataset:
    source: file://$DATA/train.jsonl
    evalSource: file://$DATA/eval.jsonl
    format: prompt-completion
    maxSeqLength: 32
    packing: true
  method:
    type: LoRA
    lora:
      rank: 16
      alpha: 32
      targetModules: [all-linear]
  training:
    maxSteps: $STEPS
    learningRate: $LR
    batchSize: 8
    warmupSteps: 10
    scheduler: cosine
    checkpointEverySteps: 0
    logEverySteps: 20
    seed: 42
  output:
    destination: file://$WORK/$run
YAML
  echo "== $run ($STEPS steps)" >&2
  /usr/bin/time -v -o "$WORK/$run.time" java -jar "$JAR" run "$WORK/$run.yaml" --output "$WORK/$run" > "$WORK/$run.log" 2>&1 \
    || { cat "$WORK/$run.log" >&2; exit 1; }
done

python3 - "$WORK" <<'PY'
import json, re, sys
work = sys.argv[1]
print(f"load average at the end: {open('/proc/loadavg').read().split()[0]} (tokens/s are only comparable on an idle machine)")
print("| run | decoder weights, bytes/value | peak RSS | eval loss before -> after | tokens/s |")
print("|---|---:|---:|---|---:|")
for run in ("lora", "qlora"):
    s = json.load(open(f"{work}/{run}/training_summary.json"))
    log = open(f"{work}/{run}.log").read()
    m = re.search(r"\(([0-9.]+) bytes/value\)", log)
    per = m.group(1) if m else "4 (fp32, as loaded)"
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(f"{work}/{run}.time").read()).group(1))
    print(f"| {run} | {per} | {rss / 1024:.0f} MiB | {s['evalLossBefore']:.3f} -> {s['evalLossAfter']:.3f} "
          f"| {s['tokensPerSecond']:,.0f} |")
PY
