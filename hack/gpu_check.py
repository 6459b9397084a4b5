"""The Python side of hack/gpu-check.sh (runs on the device machine: torch, transformers, peft, safetensors).

  compare REF_DIR RUNS_DIR             loss curves of RUNS_DIR/<case>-<precision>/training_summary.json vs REF_DIR/<case>.json
  peft-eval BASE_MODEL EVAL_JSONL RUNS our fp32 outputs loaded with peft / transformers: eval loss vs our evalLossAfter
  make-bench DIR                       a random TinyLlama-1.1B-shaped model, a WordLevel tokenizer and text data in DIR
  hf-bench DIR PRECISION               transformers + PEFT LoRA r=16 (all linears) on DIR/model: tokens/s, peak memory
"""
import json
import os
import random
import sys
import time

CASES = ["lora", "rslora", "loraplus", "dora", "galore", "full"]
ADAPTERS = ["lora", "rslora", "loraplus", "dora"]
# Per-step |loss - CPU fp32 loss|: GPU fp32 differs from CPU fp32 only by kernel summation order; bf16 by its 8-bit mantissa.
TOLERANCE = {"fp32": 0.02, "bf16": 0.1}
EVAL_RELATIVE_TOLERANCE = 1e-3
BENCH = dict(hidden_size=2048, num_hidden_layers=16, num_attention_heads=16, num_key_value_heads=4,
             intermediate_size=5632, vocab_size=32000)
BATCH, SEQ, BENCH_STEPS = 8, 512, 20


def compare(ref_dir, runs_dir):
    failed = 0
    print(f"{'case':10} {'precision':9} {'max |dloss|':>12} {'tolerance':>9}  final loss ours/CPU")
    for precision, tol in TOLERANCE.items():
        for case in CASES:
            ref = json.load(open(os.path.join(ref_dir, f"{case}.json")))["lossCurve"]
            path = os.path.join(runs_dir, f"{case}-{precision}", "training_summary.json")
            if not os.path.exists(path):
                print(f"{case:10} {precision:9} {'no run':>12}")
                failed += 1
                continue
            ours = json.load(open(path))["lossCurve"]
            worst = max(abs(a - b) for a, b in zip(ours, ref)) if len(ours) == len(ref) else float("inf")
            ok = worst <= tol
            failed += not ok
            print(f"{case:10} {precision:9} {worst:12.5f} {tol:9.2f}  {ours[-1]:.4f}/{ref[-1]:.4f} {'ok' if ok else 'FAIL'}")
    sys.exit(1 if failed else 0)


def encode(tok, record):
    """As the trainer's RecordEncoder (prompt-completion): [bos] prompt completion [eos], loss on completion and eos."""
    prompt = tok.encode(record["prompt"], add_special_tokens=False)
    completion = tok.encode(record["completion"], add_special_tokens=False)
    ids = [tok.bos_token_id] + prompt + completion + [tok.eos_token_id]
    labels = [-100] * (1 + len(prompt)) + completion + [tok.eos_token_id]
    return ids, labels


def eval_loss(model, tok, eval_jsonl):
    import torch
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for line in open(eval_jsonl):
            if not line.strip():
                continue
            ids, labels = encode(tok, json.loads(line))
            logits = model(torch.tensor([ids], device="cuda")).logits.float()[0, :-1]
            target = torch.tensor(labels[1:], device="cuda")
            mask = target != -100
            nll = torch.nn.functional.cross_entropy(logits[mask], target[mask], reduction="sum")
            total += nll.item()
            count += int(mask.sum())
    return total / count


def peft_eval(base_model, eval_jsonl, runs_dir):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(base_model)
    failed = 0
    for case in CASES:
        out = os.path.join(runs_dir, f"{case}-fp32")
        ours = json.load(open(os.path.join(out, "training_summary.json")))["evalLossAfter"]
        if case in ADAPTERS:
            base = AutoModelForCausalLM.from_pretrained(base_model, torch_dtype=torch.float32).cuda()
            model = PeftModel.from_pretrained(base, out).cuda()
            loader = "peft"
        else:
            model = AutoModelForCausalLM.from_pretrained(out, torch_dtype=torch.float32).cuda()
            loader = "transformers"
        theirs = eval_loss(model, tok, eval_jsonl)
        ok = abs(theirs - ours) <= EVAL_RELATIVE_TOLERANCE * abs(ours)
        failed += not ok
        print(f"{case:10} {loader:12} eval loss {theirs:.5f}, ours {ours:.5f} {'ok' if ok else 'FAIL'}")
    sys.exit(1 if failed else 0)


def make_bench(directory):
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM
    os.makedirs(os.path.join(directory, "model"), exist_ok=True)
    model_dir = os.path.join(directory, "model")
    torch.manual_seed(0)
    config = LlamaConfig(**BENCH, max_position_embeddings=2048, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False)
    LlamaForCausalLM(config).to(torch.bfloat16).save_pretrained(model_dir, safe_serialization=True)
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for i in range(3, BENCH["vocab_size"]):
        vocab[f"w{i}"] = i
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.save(os.path.join(model_dir, "tokenizer.json"))
    json.dump({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "</s>",
               "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 2048},
              open(os.path.join(model_dir, "tokenizer_config.json"), "w"))
    rng = random.Random(0)
    for name, records in (("train.jsonl", 400), ("eval.jsonl", 8)):
        with open(os.path.join(directory, name), "w") as f:
            for _ in range(records):
                f.write(json.dumps({"text": " ".join(f"w{rng.randrange(3, BENCH['vocab_size'])}" for _ in range(600))}) + "\n")
    print("wrote", directory)


def hf_bench(directory, precision):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    # PEFT as its users run it: base weights loaded in the compute dtype, adapters fp32 (autocast_adapter_dtype), bf16
    # autocast around the forward.
    model = AutoModelForCausalLM.from_pretrained(os.path.join(directory, "model"), torch_dtype=dtype,
                                                 attn_implementation="eager").cuda()
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", lora_dropout=0.0))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=2e-4, fused=True)
    generator = torch.Generator().manual_seed(0)
    torch.cuda.reset_peak_memory_stats()
    tokens, start = 0, None
    for step in range(BENCH_STEPS):
        if step == 2:
            torch.cuda.synchronize()
            start, tokens = time.time(), 0
        ids = torch.randint(3, BENCH["vocab_size"], (BATCH, SEQ), generator=generator).cuda()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        tokens += BATCH * SEQ
    torch.cuda.synchronize()
    print(json.dumps({"precision": precision, "tokensPerSecond": round(tokens / (time.time() - start)),
                      "peakAllocatedMiB": round(torch.cuda.max_memory_allocated() / 2**20)}))


if __name__ == "__main__":
    commands = {"compare": compare, "peft-eval": peft_eval, "make-bench": make_bench, "hf-bench": hf_bench}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
