# Shared by hack/gpu-check-prepare.sh (CPU reference runs, here) and hack/gpu-check.sh (the device): the same jobs on both.
# Cases: name, method block. Every case trains the quick start's tiny model and word-reversal data (java -jar ... quickstart
# writes them under /tmp/finetune-quickstart), CHECK_STEPS steps, seed 42, no dropout, so CPU and GPU runs are comparable.
CHECK_STEPS=${CHECK_STEPS:-20}
CHECK_CASES=(lora rslora loraplus dora galore full)
QS=/tmp/finetune-quickstart

method_block() {
  case "$1" in
    lora)     printf '    type: LoRA\n    lora: {rank: 16, alpha: 32, targetModules: [all-linear]}\n' ;;
    rslora)   printf '    type: LoRA\n    lora: {rank: 16, alpha: 32, rsLoRA: true, targetModules: [all-linear]}\n' ;;
    loraplus) printf '    type: LoRAPlus\n    lora: {rank: 16, alpha: 32, targetModules: [all-linear]}\n    loraPlus: {learningRateRatio: 16}\n' ;;
    dora)     printf '    type: DoRA\n    lora: {rank: 16, alpha: 32, targetModules: [all-linear]}\n' ;;
    galore)   printf '    type: GaLore\n    galore: {rank: 16, updateProjectionGap: 20, scale: 0.25, targetModules: [self_attn, mlp]}\n' ;;
    full)     printf '    type: Full\n' ;;
    *) echo "unknown case $1" >&2; return 2 ;;
  esac
}

# write_job CASE PRECISION OUTPUT_DIR FILE
write_job() {
  local lr=0.003
  [[ "$1" == full ]] && lr=0.001
  cat > "$4" <<YAML
apiVersion: finetune.io/v1alpha1
kind: FineTuneJob
metadata:
  name: gpu-check-$1-$2
spec:
  model:
    source: file://$QS/base-model
  dataset:
    source: file://$QS/data/train.jsonl
    evalSource: file://$QS/data/eval.jsonl
    format: prompt-completion
    maxSeqLength: 32
    packing: true
  method:
$(method_block "$1")
  training:
    maxSteps: $CHECK_STEPS
    learningRate: $lr
    batchSize: 16
    warmupSteps: 5
    scheduler: cosine
    checkpointEverySteps: 0
    logEverySteps: 20
    seed: 42
    precision: $2
  output:
    destination: file://$3
YAML
}
