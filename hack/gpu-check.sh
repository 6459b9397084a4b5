#!/usr/bin/env bash
# The device check of the GPU path (CUDA libtorch, DJL's JNI, training and PEFT loading on a GPU): one script of ~8
# minutes on a machine with an NVIDIA GPU, Python + torch, transformers, peft, CMake and nvcc, and no Java and no network.
# Prepare its payload here first (hack/gpu-check-prepare.sh),
# then run it through the device tool: command "hack/gpu-check.sh", carry ["target/gpu-check"]. Results go to $OUT (or
# /tmp/gpu-check-out): summary.md plus every log. Steps, each timed:
#   1. build DJL's JNI from the carried sources against the device's torch (hack/build-djl-jni.sh), ldd -r it
#   2. the quick start on CUDA (`quickstart --tiny`: LoRA on the tiny model, bf16 by precision auto)
#   3. LoRA, rsLoRA, LoRA+, DoRA, GaLore, Full for CHECK_STEPS steps in fp32 and bf16; loss curves against the CPU fp32
#      reference runs made by the prepare script (same jobs, seed 42). Tolerance: fp32 every step within 0.02, bf16 within
#      0.1 (hack/gpu_check.py compare)
#   4. our adapters (LoRA, rsLoRA, LoRA+, DoRA) loaded with peft, our GaLore/Full weights with transformers: eval loss on the
#      quick start's eval set against the trainer's own evalLossAfter (fp32 runs; within 1e-3 relative)
#   5. tokens/s and peak GPU memory, ours vs transformers + PEFT (LoRA r=16 on all linears), fp32 and bf16, on one random
#      TinyLlama-1.1B-shaped model (hidden 2048, 16 layers, 16 heads, 4 KV heads, intermediate 5632, vocab 32000), batch 8 x 512
#      (our tokens/s is the trainer's own figure over all 20 steps; PEFT's skips its first 2 warm-up steps; peak memory is the
#      largest nvidia-smi reading during each run, plus torch's max_memory_allocated for PEFT)
#   6. QLoRA (NF4, double quantization, bf16 compute) on the same model and batch as step 5's bf16 LoRA: tokens/s, peak GPU
#      memory and the stored bytes per 4-bit weight
#   7. data parallel on NCCL: the NCCL binding built on the device (hack/build-nccl-jni.sh, g++ only), a world-1 run on
#      NCCL (`run --nproc 1` with FINETUNE_DIST_BACKEND=nccl: a group of one, NCCL_DEBUG=INFO shows NCCL initialized; the
#      gradient all-reduce itself is skipped at world 1) and, only when `nvidia-smi -L` lists two or more GPUs, 2 ranks x
#      batch 8 on NCCL against 1 process x batch 16, every step's loss within 1e-5 relative (as DataParallelRunTest on CPU)
# A failing step is recorded and the script goes on; the exit code is the number of failed steps.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PAY=$ROOT/target/gpu-check
OUT=${OUT:-/tmp/gpu-check-out}
WORK=${WORK:-/tmp/gpu-check-work}
PYTHON=${PYTHON:-$([[ -x /opt/torch/.venv/bin/python ]] && echo /opt/torch/.venv/bin/python || echo python3)}
mkdir -p "$OUT" "$WORK"
SUMMARY=$OUT/summary.md
FAILED=0
: > "$SUMMARY"
note() { echo "$*" | tee -a "$SUMMARY"; }
step() { # step NAME COMMAND...: runs it with its log in $OUT/NAME.log, records time and outcome
  local name=$1; shift
  local t0=$SECONDS
  if "$@" > "$OUT/$name.log" 2>&1; then
    note "- $name: ok ($((SECONDS - t0)) s)"
  else
    note "- $name: FAILED ($((SECONDS - t0)) s), last lines:"; tail -n 15 "$OUT/$name.log" | sed 's/^/    /' | tee -a "$SUMMARY"
    FAILED=$((FAILED + 1))
  fi
}
for f in jre.tar.xz trainer.jar.xz djl-jni.tar.xz reference/lora.json; do
  [[ -f "$PAY/$f" ]] || { echo "missing $PAY/$f: run hack/gpu-check-prepare.sh and carry target/gpu-check" >&2; exit 100; }
done
source hack/gpu-check-lib.sh

note "# GPU check $(date -u +%FT%TZ)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | sed 's/^/- GPU: /' | tee -a "$SUMMARY"
"$PYTHON" -c 'import torch, transformers, peft; print("- torch", torch.__version__, "CUDA", torch.version.cuda, "| transformers", transformers.__version__, "| peft", peft.__version__)' | tee -a "$SUMMARY"

# --- payload: JRE, jar, JNI sources --------------------------------------------------------------------------------------
xz -dc "$PAY/jre.tar.xz" | tar -x -C "$WORK" && xz -dc "$PAY/trainer.jar.xz" > "$WORK/trainer.jar" \
  && xz -dc "$PAY/djl-jni.tar.xz" | tar -x -C "$WORK" || { note "payload does not unpack"; exit 101; }
JAVA=$WORK/jre/bin/java
TORCH_LIB=$("$PYTHON" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
TORCH_VERSION=$("$PYTHON" -c 'import torch; print(torch.__version__.split("+")[0])')
TORCH_FLAVOR=cu$("$PYTHON" -c 'import torch; print(torch.version.cuda.replace(".", ""))')
SITE=$(dirname "$(dirname "$TORCH_LIB")")
NVIDIA_LIBS=$(ls -d "$SITE"/nvidia/*/lib 2>/dev/null | tr '\n' ':')

# --- 1. the JNI against this torch --------------------------------------------------------------------------------------
export DJL_CACHE_DIR=$WORK/djl-cache
JNI_DIR=$DJL_CACHE_DIR/pytorch/$TORCH_VERSION-$TORCH_FLAVOR-linux-x86_64
build_jni() {
  PYTHON=$PYTHON JNI_HEADER_DIR=$WORK/djl/header JNI_INCLUDE=$WORK/djl/jni-include hack/build-djl-jni.sh "$WORK/djl" "$WORK/jni" \
    && mkdir -p "$JNI_DIR" && cp "$WORK/jni/libdjl_torch.so" "$JNI_DIR/0.36.0-libdjl_torch.so" \
    && ! LD_LIBRARY_PATH="$TORCH_LIB:$NVIDIA_LIBS" ldd -r "$JNI_DIR/0.36.0-libdjl_torch.so" | grep -E "not found|undefined symbol"
}
step jni-build build_jni
# DJL: libtorch from the torch wheel, the JNI from DJL_CACHE_DIR (LibUtils.findJniLibrary's third place), nothing downloaded.
export PYTORCH_LIBRARY_PATH=$TORCH_LIB PYTORCH_VERSION=$TORCH_VERSION PYTORCH_FLAVOR=$TORCH_FLAVOR DJL_OFFLINE=true
export LD_LIBRARY_PATH=$TORCH_LIB:$NVIDIA_LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
trainer() { "$JAVA" -jar "$WORK/trainer.jar" "$@"; }
# plan_against_peak JOB.yaml NVIDIA_SMI_SAMPLES LABEL: the memory plan's row for the job's method (what the preflight
# admits or refuses on) next to the run's peak GPU memory. The plan is an upper bound on the CPU (PlanHoldsTest); on CUDA it
# is unverified until this line shows plan total + the 1 GiB runtime reserve >= the peak (nvidia-smi's figure includes the
# CUDA context and the caching allocator's reserve, which the reserve is meant to cover).
plan_against_peak() {
  trainer plan "$1" --device gpu --device-memory "$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits | head -1)Mi" \
    > "$OUT/plan-${3// /-}.log" 2>&1 || true   # exit 3 (does not fit) still prints the table
  note "    plan $3: $(grep -E '^\* ' "$OUT/plan-${3// /-}.log" | tr -s ' ') | peak GPU memory used $(sort -n "$2" | tail -1) MiB (nvidia-smi)"
}

# --- 2. quick start on CUDA ------------------------------------------------------------------------------------------------
step quickstart trainer quickstart --tiny   # the tiny base model and data under $QS, which steps 3 and 4 train and load
grep -E "precision:|eval loss|tok/s" "$OUT/quickstart.log" | tail -n 4 | sed 's/^/    /' | tee -a "$SUMMARY"

# --- 3. every method, fp32 and bf16, against the CPU reference -----------------------------------------------------------
for p in fp32 bf16; do
  for c in "${CHECK_CASES[@]}"; do
    write_job "$c" "$p" "$WORK/runs/$c-$p" "$WORK/$c-$p.yaml"
    step "run-$c-$p" trainer run "$WORK/$c-$p.yaml"
  done
done
step compare-losses "$PYTHON" hack/gpu_check.py compare "$PAY/reference" "$WORK/runs"
sed 's/^/    /' "$OUT/compare-losses.log" | tee -a "$SUMMARY"

# --- 4. our outputs in peft / transformers -------------------------------------------------------------------------------
step peft-load "$PYTHON" hack/gpu_check.py peft-eval "$QS/base-model" "$QS/data/eval.jsonl" "$WORK/runs"
sed 's/^/    /' "$OUT/peft-load.log" | tee -a "$SUMMARY"

# --- 5. speed and memory vs transformers + PEFT --------------------------------------------------------------------------
BENCH=$WORK/bench
step bench-model "$PYTHON" hack/gpu_check.py make-bench "$BENCH"
for p in fp32 bf16; do
  sed -e "s/@PRECISION@/$p/" -e "s#@BENCH@#$BENCH#g" > "$WORK/bench-$p.yaml" <<'YAML'
apiVersion: finetune.io/v1alpha1
kind: FineTuneJob
metadata:
  name: bench-@PRECISION@
spec:
  model: {source: "file://@BENCH@/model"}
  dataset: {source: "file://@BENCH@/train.jsonl", evalSource: "file://@BENCH@/eval.jsonl", format: text, maxSeqLength: 512, packing: true}
  method: {type: LoRA, lora: {rank: 16, alpha: 32, targetModules: [all-linear]}}
  training: {maxSteps: 20, batchSize: 8, learningRate: 0.0002, warmupSteps: 2, checkpointEverySteps: 0, logEverySteps: 5, precision: "@PRECISION@"}
  output: {destination: "file://@BENCH@/out-@PRECISION@"}
YAML
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$OUT/bench-ours-$p.mem" &
  SMI=$!
  step "bench-ours-$p" trainer run "$WORK/bench-$p.yaml"
  kill "$SMI"
  note "    ours $p: $(grep -o '"tokensPerSecond" : [0-9.]*' "$BENCH/out-$p/training_summary.json" 2>/dev/null), peak GPU memory used $(sort -n "$OUT/bench-ours-$p.mem" | tail -1) MiB (nvidia-smi)"
  plan_against_peak "$WORK/bench-$p.yaml" "$OUT/bench-ours-$p.mem" "ours $p"
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$OUT/bench-peft-$p.mem" &
  SMI=$!
  step "bench-peft-$p" "$PYTHON" hack/gpu_check.py hf-bench "$BENCH" "$p"
  kill "$SMI"
  note "    peft $p: $(tail -n 1 "$OUT/bench-peft-$p.log"), peak GPU memory used $(sort -n "$OUT/bench-peft-$p.mem" | tail -1) MiB (nvidia-smi)"
done

# --- 6. QLoRA (NF4 + double quantization) against bf16 LoRA on the same shape -----------------------------------------------
sed -e "s#@BENCH@#$BENCH#g" "$WORK/bench-bf16.yaml" | sed -e 's/name: bench-bf16/name: bench-qlora/' \
  -e 's#model: {source: "file://\([^"]*\)"}#model: {source: "file://\1", quantization: {type: nf4, doubleQuant: true, computeDtype: auto}}#' \
  -e 's#out-bf16#out-qlora#' > "$WORK/bench-qlora.yaml"
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$OUT/bench-qlora.mem" &
SMI=$!
step bench-qlora trainer run "$WORK/bench-qlora.yaml"
kill "$SMI"
plan_against_peak "$WORK/bench-qlora.yaml" "$OUT/bench-qlora.mem" "qlora bf16"
note "    qlora bf16: $(grep -o '"tokensPerSecond" : [0-9.]*' "$BENCH/out-qlora/training_summary.json" 2>/dev/null), peak GPU memory used $(sort -n "$OUT/bench-qlora.mem" | tail -1) MiB (nvidia-smi); the log's 4-bit bytes per weight: $(grep -o '[0-9.]* bytes/value' "$OUT/bench-qlora.log" | head -1)"

# --- 7. data parallel on NCCL ---------------------------------------------------------------------------------------------
build_nccl() {
  JNI_INCLUDE=$WORK/djl/jni-include FINETUNE_NCCL_CACHE=$WORK/nccl-cache hack/build-nccl-jni.sh > "$WORK/nccl-jni.path"
}
step nccl-build build_nccl
export FINETUNE_NCCL_LIBRARY=$(cat "$WORK/nccl-jni.path" 2>/dev/null)
nccl_loss() { "$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["lossCurve"])' "$1/training_summary.json"; }
write_job lora fp32 "$WORK/runs/nccl-w1" "$WORK/nccl-w1.yaml"
nccl_world1() {
  env NCCL_DEBUG=INFO FINETUNE_DIST_BACKEND=nccl "$JAVA" -jar "$WORK/trainer.jar" run "$WORK/nccl-w1.yaml" --nproc 1 \
    && grep -q "NCCL INFO" "$OUT/nccl-world1.log" && nccl_loss "$WORK/runs/nccl-w1"
}
step nccl-world1 nccl_world1
note "    world 1 on NCCL, loss per step: $(tail -n 1 "$OUT/nccl-world1.log")"
GPUS=$(nvidia-smi -L | grep -c '^GPU ')
if ((GPUS >= 2)); then
  write_job lora fp32 "$WORK/runs/nccl-w2" "$WORK/nccl-w2.yaml"
  sed -i 's/batchSize: 16/batchSize: 8/' "$WORK/nccl-w2.yaml"   # per rank: the global batch stays 16
  write_job lora fp32 "$WORK/runs/nccl-ref" "$WORK/nccl-ref.yaml"
  step nccl-world2 env NCCL_DEBUG=INFO FINETUNE_DIST_BACKEND=nccl "$JAVA" -jar "$WORK/trainer.jar" run "$WORK/nccl-w2.yaml" --nproc 2
  step nccl-reference trainer run "$WORK/nccl-ref.yaml"
  nccl_compare() {
    "$PYTHON" - "$WORK/runs/nccl-w2/training_summary.json" "$WORK/runs/nccl-ref/training_summary.json" <<'PY'
import json, sys
two, one = (json.load(open(p))["lossCurve"] for p in sys.argv[1:3])
assert len(two) == len(one) and one, f"{len(two)} vs {len(one)} steps"
worst = max(abs(a - b) / abs(b) for a, b in zip(two, one))
print(f"2 x batch 8 on NCCL vs 1 x batch 16: {len(one)} steps, worst relative difference {worst:.2e}")
assert worst <= 1e-5, f"above 1e-5: {list(zip(two, one))}"
PY
  }
  step nccl-compare nccl_compare
  sed 's/^/    /' "$OUT/nccl-compare.log" | tee -a "$SUMMARY"
else
  note "- nccl-world2: skipped (nvidia-smi lists $GPUS GPU; two are needed)"
fi

note "failed steps: $FAILED"
exit "$FAILED"
