#!/usr/bin/env bash
# Trains every method (LoRA, DoRA, LoRAPlus, GaLore, Full) on the quick-start task (reverse a short word; tiny random-init
# LLaMA from `init-model --preset tiny --seed 42`) with the same data, steps, batch and seed, then prints the README comparison
# table from the MEASURED training_summary.json of each run (trainable parameters, optimizer-state bytes held by the run,
# held-out eval loss before -> after, training tokens/s).
#
#   bench/methods.sh                 # 400 steps per method, as examples/quickstart.yaml
#   STEPS=150 bench/methods.sh       # shorter runs
#   METHODS="LoRA GaLore" bench/methods.sh
#   TASK=wordnet STEPS=80 bench/methods.sh   # the real task: stories15M (pretrained, 32k SentencePiece vocabulary) learns
#                                            # WordNet definitions, the quick start's task (held out by word, 64 eval words)
#
# Needs the trainer jar (built here if missing) and python3 for reading the JSON summaries; TASK=wordnet also needs the
# trainer's test classes (io.finetune.bench.RealTaskData), npm on first use (hack/real-model.sh) and wordnet-base.
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=${JAR:-trainer-image/target/finetune-trainer.jar}
STEPS=${STEPS:-400}
METHODS=${METHODS:-"LoRA DoRA LoRAPlus GaLore Full"}
TESTCP=${TESTCP:-trainer-image/target/test-classes}
TASK=${TASK:-quickstart}
QS=/tmp/finetune-quickstart            # where the quick start writes its base model and data (examples/quickstart.yaml)
WORK=${WORK:-/tmp/finetune-bench}

if [ ! -f "$JAR" ] || { [ "$TASK" = wordnet ] && [ ! -f "$TESTCP/io/finetune/bench/RealTaskData.class" ]; }; then
  mvn -B -q -DskipTests -pl api,trainer-image -am package
fi
rm -rf "$WORK"
mkdir -p "$WORK"
case "$TASK" in
  quickstart)
    if [ ! -f "$QS/base-model/config.json" ] || [ ! -f "$QS/data/train.jsonl" ] || [ ! -f "$QS/data/eval.jsonl" ]; then
      echo "preparing the quick-start model and data (runs the quick start once)..." >&2
      java -jar "$JAR" quickstart --tiny > /dev/null
    fi
    MODEL=$QS/base-model; DATA=$QS/data; WARMUP=20 ;;
  wordnet)
    MODEL=$(java -cp "$JAR:$TESTCP" io.finetune.bench.RealTaskData "$WORK/data" | sed -n 's/^model=\([^ ]*\).*/\1/p')
    [ -n "$MODEL" ] || { echo "stories15M or WordNet unavailable" >&2; exit 1; }
    DATA=$WORK/data; WARMUP=10 ;;
  *) echo "unknown TASK $TASK (quickstart or wordnet)" >&2; exit 2 ;;
esac

# Per-method block and learning rate. LoRA/DoRA use the quick start's settings; LoRA+ follows its README advice (lower
# lr_A, B at lr x ratio); GaLore uses the paper's small-model lr 0.01 with scale 0.25; Full a conventional 1e-3.
method_block() {
  case "$1" in
    LoRA|DoRA) printf '    type: %s\n    lora:\n      rank: 16\n      alpha: 32\n      targetModules: [all-linear]\n' "$1" ;;
    LoRAPlus)  printf '    type: LoRAPlus\n    lora:\n      rank: 16\n      alpha: 32\n      targetModules: [all-linear]\n    loraPlus:\n      learningRateRatio: 8\n' ;;
    GaLore)    printf '    type: GaLore\n    galore:\n      rank: 32\n      updateProjectionGap: 50\n      scale: 0.25\n      targetModules: [all-linear]\n' ;;
    Full)      printf '    type: Full\n' ;;
    *) echo "unknown method $1" >&2; exit 2 ;;
  esac
}
# On the pretrained stories15M (TASK=wordnet) the adapters use the real quick start's 0.002 (LoRA+ half of it for A), and
# the full-weight methods a fine-tuning rate a tenth of their from-scratch one (1e-3 for GaLore, 1e-4 for Full).
learning_rate() {
  case "$TASK:$1" in
    quickstart:LoRA|quickstart:DoRA) echo 0.003 ;;
    quickstart:LoRAPlus) echo 0.0015 ;;
    quickstart:GaLore) echo 0.01 ;;
    quickstart:Full) echo 0.001 ;;
    wordnet:LoRA|wordnet:DoRA) echo 0.002 ;;
    wordnet:LoRAPlus) echo 0.001 ;;
    wordnet:GaLore) echo 0.001 ;;
    wordnet:Full) echo 0.0001 ;;
  esac
}

for m in $METHODS; do
  lower=$(echo "$m" | tr '[:upper:]' '[:lower:]')
  manifest="$WORK/$lower.yaml"
  cat > "$manifest" <<YAML
apiVersion: finetune.io/v1alpha1
kind: FineTuneJob
metadata:
  name: bench-$lower
spec:
  model:
    source: file://$MODEL
  dataset:
    source: file://$DATA/train.jsonl
    evalSource: file://$DATA/eval.jsonl
    format: prompt-completion
    maxSeqLength: 32
    packing: true
  method:
$(method_block "$m")
  training:
    maxSteps: $STEPS
    learningRate: $(learning_rate "$m")
    batchSize: 8
    warmupSteps: $WARMUP
    scheduler: cosine
    checkpointEverySteps: 0
    logEverySteps: 20
    seed: 42
  output:
    destination: file://$WORK/$lower
YAML
  echo "== $m ($STEPS steps)" >&2
  java -jar "$JAR" run "$manifest" --output "$WORK/$lower" >&2
done

python3 - "$WORK" $METHODS <<'PY'
import json, sys
work, methods = sys.argv[1], sys.argv[2:]
print("| method | trainable params | optimizer state | eval loss before -> after | tokens/s |")
print("|---|---:|---:|---|---:|")
for m in methods:
    s = json.load(open(f"{work}/{m.lower()}/training_summary.json"))
    mem = s.get("memory") or {}
    opt = mem.get("optimizerStateBytes", s["optimizerStateBytes"])
    print(f"| {s['method']} | {mem.get('trainableParameters', s['trainableParameters']):,} | {opt / 2**20:.2f} MiB "
          f"| {s['evalLossBefore']:.3f} -> {s['evalLossAfter']:.3f} | {s['tokensPerSecond']:,.0f} |")
PY
