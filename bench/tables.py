#!/usr/bin/python3
"""Renders bench/run.sh's raw results as Markdown tables (every figure comes from a measured line or a stated formula).

  tables.py speed RAW_FILE WORK_DIR                    -> section 1 (RAW_FILE: key=value lines from TrainerBench/torch_bench)
  tables.py memory METHODS_WORK BASE_MODEL STEPS LOAD  -> section 2 (training_summary.json of each bench/methods.sh run)
  tables.py lossmem RAW_FILE MODEL_DIR                 -> section 4 (TrainerBench lines, unchunked vs chunked loss)
  tables.py realmethods METHODS_WORK STEPS LOAD README -> section 5 (bench/methods.sh TASK=wordnet), and rewrites README's
                                                          block between <!-- methods-table:begin --> and <!-- ...:end -->
"""
import json
import os
import re
import statistics
import sys

MIB = 2 ** 20
METHODS = ("LoRA", "DoRA", "LoRAPlus", "GaLore", "Full")

LAYER_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def kv(line):
    return dict(p.split("=", 1) for p in line.split() if "=" in p)


def shapes(cfg):
    """(out, in) of every all-linear target matrix (7 per layer; lm_head excluded, as PEFT's all-linear)."""
    d, ff, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    H, KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or d // H
    q, kvd = H * hd, KV * hd
    return [(q, d), (kvd, d), (kvd, d), (d, q), (ff, d), (ff, d), (d, ff)] * L


def flops_per_token(cfg, method, seq, lora_rank=16):
    """Training FLOPs per token. Full/GaLore: 6 N (Kaplan et al. 2020: 2 N forward + 4 N backward, N = matmul weights incl.
    lm_head) + attention 12 L T q (QK^T and AV, 2 T q each forward, x3 with backward; causal half not subtracted).
    LoRA: frozen base needs no weight gradients -> 4 N, plus 6 N_lora for the adapters, plus the same attention term."""
    H = cfg["num_attention_heads"]
    q = H * (cfg.get("head_dim") or cfg["hidden_size"] // H)
    n = sum(o * i for o, i in shapes(cfg)) + cfg["vocab_size"] * cfg["hidden_size"]
    att = 12 * cfg["num_hidden_layers"] * seq * q
    if method == "LoRA":
        return 4 * n + 6 * sum(lora_rank * (o + i) for o, i in shapes(cfg)) + att
    return 6 * n + att


def speed(raw, work):
    lines = [l.strip() for l in open(raw) if l.strip()]
    mms = [kv(l) for l in lines if "matmul_n=" in l]   # measured before and after the runs: the best is the limit
    mm = max(mms, key=lambda d: float(d["gflops"])) if mms else {}
    all_mm = ", ".join(d["gflops"] for d in mms)
    info = next((kv(l) for l in lines if "blas=" in l or "info=" in l), {})
    load_mm = next((l.split("=", 1)[1] for l in lines if l.startswith("load_matmul=")), "?")
    limit = float(mm["gflops"]) if "gflops" in mm else None
    out = ["## 1. Trainer vs PyTorch eager (same weights, batch, sequence, method, threads)", ""]
    out.append(f"- Matmul limit: fp32 1024x1024 matmul through DJL: **{mm.get('gflops', 'NOT MEASURED')} GFLOP/s** "
               f"(best of {all_mm or 'none'}, measured before and after the runs); "
               f"through torch {info.get('torch', '?')}: {info.get('matmul1024_gflops', 'NOT MEASURED')} GFLOP/s "
               f"({load_mm}).")
    blas = info.get("blas", "unknown")
    slow = "openblas" not in blas and "mkl" not in blas
    out.append(f"- BLAS mapped by the torch process: `{blas}`"
               + (" -- WARNING: not OpenBLAS/MKL, torch is on a slow reference BLAS (platform.md)" if slow else "")
               + f"; torch threads {info.get('threads', '?')} (interop {info.get('interop_threads', '?')}); our trainer: "
               f"DJL PyTorch engine with ai.djl.pytorch.num_threads={info.get('threads', '?')}, interop 1, OMP_NUM_THREADS set "
               "alike. Runs alternate java/torch per round; warm-up steps (the same count on both sides, see the table) are excluded, "
               "so the JVM's JIT compilation is over before timing starts; tokens/s is the median over rounds.")
    out.append("- Methods: LoRA r=16 alpha=32 all-linear (lm_head excluded), dropout 0; Full; GaLore rank 32, gap 200, "
               "scale 0.25, all-linear; AdamW lr 1e-4, gradients clipped to norm 1.0, for all. Loss columns are the last step's loss on both sides "
               "(same weights and batch, so they should agree).")
    out.append("- GFLOP/s formula: Full and GaLore 6 N + 12 L T q FLOPs per token; LoRA 4 N + 6 N_lora + 12 L T q "
               "(N = matmul weights incl. lm_head, N_lora = r (in + out) summed over adapted matrices, L layers, T sequence "
               "length, q = heads x head_dim); GaLore's SVD falls in the warm-up step and is not counted.")
    out.append("")
    out.append("- Peak RSS: the process's peak resident set (VmHWM / ru_maxrss) after the timed steps, JVM or Python interpreter "
               "included; ours computes the lm_head and loss in chunks (section 4), torch eager materialises the full logits.")
    out.append("")
    out.append("| model | batch x seq (warm-up + timed steps) | method | ours tokens/s | torch tokens/s | ratio ours/torch | per round (ours / torch) "
               "| ours GFLOP/s | % of DJL matmul | loss ours / torch | peak RSS ours / torch | load avg (1 min) |")
    out.append("|---|---|---|---:|---:|---:|---|---:|---:|---|---|---|")
    rows = {}
    for l in lines:
        d = kv(l)
        if "preset" in d and "side" in d:
            rows.setdefault((d["preset"], d["batch"], d["seq"], d.get("warm", "?"), d.get("steps", "?"), d["method"]),
                            []).append(d)
    for (preset, batch, seq, warm, steps, method), ds in rows.items():
        cfg_path = os.path.join(work, f"model-{preset}", "config.json")
        if not os.path.exists(cfg_path):
            out.append(f"| {preset} | {batch} x {seq} | {method} | NOT MEASURED: "
                       f"{'; '.join(d.get('error', '?') for d in ds)} |")
            continue
        cfg = json.load(open(cfg_path))
        def tps(side):
            v = [float(d["tokens_per_s"]) for d in ds if d["side"] == side and "tokens_per_s" in d]
            return (statistics.median(v) if v else None), v
        j, jv = tps("java")
        t, tv = tps("torch")
        errs = [f"{d['side']}: {d['error']}" for d in ds if "error" in d]
        name = f"{preset} (d={cfg['hidden_size']}, {cfg['num_hidden_layers']} layers)"
        ratio = f"**{j / t:.2f}**" if j and t else "NOT MEASURED"
        gf = j * flops_per_token(cfg, method, int(seq)) / 1e9 if j else None
        pct = f"{100 * gf / limit:.0f}%" if gf and limit else "n/a"
        per_round = ", ".join(f"{a:.0f} / {b:.0f}" for a, b in zip(jv, tv)) or "-"
        loss = " / ".join(next((d.get("loss", "?") for d in ds if d["side"] == s), "?") for s in ("java", "torch"))
        loads = ",".join(d.get("load", "?") for d in ds)
        def peak(side):
            v = [int(d["peak_rss"]) for d in ds if d["side"] == side and int(d.get("peak_rss", -1)) > 0]
            return f"{max(v) / MIB:,.0f} MiB" if v else "n/a"
        out.append(f"| {name} | {batch} x {seq} ({warm} + {steps}) | {method} | {f'{j:.0f}' if j else 'NOT MEASURED'} | "
                   f"{f'{t:.0f}' if t else 'NOT MEASURED'} | {ratio} | {per_round} | {f'{gf:.1f}' if gf else 'n/a'} | {pct} | "
                   f"{loss} | {peak('java')} / {peak('torch')} | {loads} |" + (f" errors: {'; '.join(errs)}" if errs else ""))
    out.append("")
    print("\n".join(out))


def memory(work, base_model, steps, load):
    cfg = json.load(open(os.path.join(base_model, "config.json")))
    sh = shapes(cfg)
    mn = sum(o * i for o, i in sh)
    r_lora, r_galore = 16, 32     # bench/methods.sh: LoRA/DoRA/LoRA+ rank 16, GaLore rank 32
    lora = sum(r_lora * (o + i) for o, i in sh)
    # GaLore Table 1 (Zhao et al. 2024), per m x n matrix with m <= n: weights mn; optimizer states
    #   Full AdamW 2mn, LoRA 2mr + 2nr, GaLore mr + 2nr (projector m x r + two moments r x n).
    galore_targets = sum(min(o, i) * r_galore + 2 * max(o, i) * r_galore for o, i in sh)
    mib = lambda b: f"{b / 2**20:.2f} MiB" if b is not None else "n/a"
    out = ["## 2. Memory by method (measured, fp32) vs GaLore paper Table 1", "",
           f"Quick-start task (bench/methods.sh, tiny model d={cfg['hidden_size']}, {cfg['num_hidden_layers']} layers, "
           f"{steps} steps, batch 8, seq <= 32); {load}. Formula columns: GaLore Table 1 per m x n target matrix "
           f"(m <= n), summed over the {len(sh)} all-linear matrices, x 4 bytes: Full optimizer 2mn, LoRA 2mr + 2nr "
           f"(r={r_lora}), GaLore mr + 2nr (r={r_galore}); weights mn (+ mr + nr for LoRA). Parameters outside the targets "
           "(embeddings, norms, lm_head) that a method also trains add 2 x their count to the optimizer (plain AdamW); "
           "DoRA adds its magnitude vectors (out per matrix) to the LoRA counts. Gradient formula (not in Table 1): one "
           "fp32 value per trainable parameter.", "",
           "| method | trainable params | weights (measured / formula) | gradients (measured / formula) "
           "| optimizer state (measured / Table 1) | peak RSS |", "|---|---:|---|---|---|---:|"]
    for m in ("LoRA", "DoRA", "LoRAPlus", "GaLore", "Full"):
        p = os.path.join(work, m.lower(), "training_summary.json")
        if not os.path.exists(p):
            out.append(f"| {m} | NOT MEASURED (no {p}) | | | | |")
            continue
        s = json.load(open(p))
        mem = s.get("memory") or {}
        trainable = mem.get("trainableParameters", s["trainableParameters"])
        total = mem.get("totalParameters", s["totalParameters"])
        if m in ("LoRA", "LoRAPlus", "DoRA"):
            extra = sum(o for o, _ in sh) if m == "DoRA" else 0
            f_opt = 2 * (lora + extra)
            f_w = total if total > mn else total + lora + extra
            f_g = lora + extra
        else:
            rest = trainable - mn
            f_opt = (2 * mn if m == "Full" else galore_targets) + 2 * rest
            f_w, f_g = total, trainable
        out.append(f"| {m} | {trainable:,} | {mib(mem.get('weightBytes'))} / {mib(4 * f_w)} | "
                   f"{mib(mem.get('gradientBytes'))} / {mib(4 * f_g)} | "
                   f"{mib(mem.get('optimizerStateBytes', s.get('optimizerStateBytes')))} / {mib(4 * f_opt)} | "
                   f"{mib(mem.get('peakRssBytes'))} |")
    out.append("")
    print("\n".join(out))


def lossmem(raw, model_dir):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    lines = [kv(l) for l in open(raw) if l.strip()]
    v = cfg["vocab_size"]
    out = ["## 4. Chunked loss: peak memory on stories15M (measured)", "",
           f"stories15M (d={cfg['hidden_size']}, vocab {v}, tied embeddings), one JVM per row running "
           "io.finetune.bench.TrainerBench (1 warm-up + 2 timed steps, AdamW, gradients clipped) on the same batch. "
           "Unchunked: `-Dfinetune.lossChunkTokens=0`, the model's lm_head builds the full (B, T, V) fp32 logits and "
           "autograd keeps them, their log-softmax and their gradient; chunked (the default): the lm_head and the loss run "
           "over that many tokens at a time with hand-written gradients (CausalLmLoss), so the logits never exist at once. "
           "Peak RSS is the process's VmHWM (JVM included); the step's working set is the peak minus the resident set "
           "just before the first step.", "",
           "| method | batch x seq | loss chunk (tokens) | full logits (B x T x V x 4 B) | peak RSS | RSS before step 1 "
           "| step working set | ms/step | loss | load avg (1 min) |",
           "|---|---|---|---:|---:|---:|---:|---:|---|---|"]
    by = {}
    for d in lines:
        logits = int(d.get("batch", 0)) * int(d.get("seq", 0)) * v * 4
        if "error" in d or "peak_rss" not in d:
            out.append(f"| {d.get('method', '?')} | {d.get('batch')} x {d.get('seq')} | {d.get('chunk')} | "
                       f"{logits / MIB:,.0f} MiB | NOT MEASURED: {d.get('error', 'no result')} | | | | | |")
            continue
        peak, before = int(d["peak_rss"]), int(d["rss_before"])
        by.setdefault(d["method"], {})[d["loss_chunk"] != "0"] = peak - before
        chunk = "unchunked" if d["loss_chunk"] == "0" else d["loss_chunk"]
        out.append(f"| {d['method']} | {d['batch']} x {d['seq']} | {chunk} | {logits / MIB:,.0f} MiB | "
                   f"{peak / MIB:,.0f} MiB | {before / MIB:,.0f} MiB | {(peak - before) / MIB:,.0f} MiB | "
                   f"{float(d['ms_per_step']):,.0f} | {d['loss']} | {d.get('load', '?')} |")
    out.append("")
    for m, ws in by.items():
        if True in ws and False in ws:
            out.append(f"- {m}: the step's working set falls from {ws[False] / MIB:,.0f} MiB to {ws[True] / MIB:,.0f} MiB "
                       f"({ws[False] / max(ws[True], 1):.1f}x less) with the chunked loss.")
    out.append("")
    print("\n".join(out))


def real_methods_table(work, steps):
    rows = ["| method | trainable params | optimizer state | held-out eval loss before -> after "
            f"({steps} steps) | tokens/s | peak RSS |", "|---|---:|---:|---|---:|---:|"]
    for m in METHODS:
        p = os.path.join(work, m.lower(), "training_summary.json")
        if not os.path.exists(p):
            rows.append(f"| {m} | NOT MEASURED (no {p}) | | | | |")
            continue
        s = json.load(open(p))
        mem = s.get("memory") or {}
        opt = mem.get("optimizerStateBytes", s["optimizerStateBytes"])
        peak = mem.get("peakRssBytes")
        rows.append(f"| {s['method']} | {mem.get('trainableParameters', s['trainableParameters']):,} | {opt / MIB:.2f} MiB "
                    f"| {s['evalLossBefore']:.3f} -> {s['evalLossAfter']:.3f} | {s['tokensPerSecond']:,.0f} | "
                    f"{f'{peak / MIB:,.0f} MiB' if peak else 'n/a'} |")
    return rows


def real_methods(work, steps, load, readme):
    import datetime
    import subprocess
    rows = real_methods_table(work, steps)
    data = os.path.join(work, "data")
    n_train = sum(1 for _ in open(os.path.join(data, "train.jsonl"))) if os.path.exists(data) else "?"
    n_eval = sum(1 for _ in open(os.path.join(data, "eval.jsonl"))) if os.path.exists(data) else "?"
    intro = (f"stories15M (pretrained, 15.7M parameters, 32k SentencePiece vocabulary) learns WordNet definitions, the quick "
             f"start's task ({n_train} training words, {n_eval} held-out words, split by word; prompt tokens not trained), "
             f"with the same data, {steps} steps, batch 8, seq <= 32 (packed) and seed for every method "
             "(bench/methods.sh TASK=wordnet: LoRA/DoRA/LoRA+ r=16 alpha=32 all-linear at lr 2e-3 (LoRA+ 1e-3, ratio 8), "
             "GaLore r=32 scale 0.25 at 1e-3, Full at 1e-4; cosine schedule, 10 warm-up steps). Figures from each run's "
             f"training_summary.json; tokens/s counts the training loop only; {load}.")
    print("\n".join(["## 5. Methods on stories15M (WordNet task)", "", intro, ""] + rows + [""]))
    if readme and os.path.exists(readme):
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        block = ["<!-- methods-table:begin (generated by bench/run.sh PARTS=methods via bench/tables.py; do not edit) -->",
                 f"Measured by `bench/run.sh` (part 5, `bench/methods.sh TASK=wordnet`, {steps} steps per method) on "
                 f"{when}, commit {commit}, on this project's shared 2-core machine ({load}). {intro}", ""] + rows + [
                 "<!-- methods-table:end -->"]
        text = open(readme).read()
        pat = re.compile(r"<!-- methods-table:begin.*?<!-- methods-table:end -->", re.S)
        if not pat.search(text):
            sys.exit(f"{readme}: no <!-- methods-table:begin --> ... <!-- methods-table:end --> block to rewrite")
        open(readme, "w").write(pat.sub(lambda _: "\n".join(block), text))


if __name__ == "__main__":
    if sys.argv[1] == "speed":
        speed(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "memory":
        memory(*sys.argv[2:6])
    elif sys.argv[1] == "lossmem":
        lossmem(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "realmethods":
        real_methods(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None)
    else:
        sys.exit(__doc__)
