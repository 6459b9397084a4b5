#!/usr/bin/python3
"""Renders bench/run.sh's raw results as Markdown tables (every figure comes from a measured line or a stated formula).

  tables.py speed RAW_FILE WORK_DIR                    -> section 1 (RAW_FILE: key=value lines from TrainerBench/torch_bench)
  tables.py memory METHODS_WORK BASE_MODEL STEPS LOAD  -> section 2 (training_summary.json of each bench/methods.sh run)
  tables.py lossmem RAW_FILE MODEL_DIR                 -> section 4 (TrainerBench lines, unchunked vs chunked loss)
  tables.py planmem RAW_FILE                           -> section 7 (TrainerBench stepmem lines: plan vs measured)
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


MATCHED = 0.15   # the two sides' matmul rates must be within 15% for a tokens/s ratio to count as a win or a loss


def settings_sentence(java_lines):
    """The run settings as the java lines report them (TrainerBench prints its method settings, lr and clipping)."""
    parts = []
    for method in ("LoRA", "Full", "GaLore"):
        d = next((x for x in java_lines if x.get("method") == method and "lr" in x), None)
        if d is None:
            continue
        if method == "LoRA":
            parts.append(f"LoRA r={d['lora_rank']} alpha={d['lora_alpha']} dropout {d['lora_dropout']} all-linear "
                         "(lm_head excluded)")
        elif method == "GaLore":
            parts.append(f"GaLore rank {d['galore_rank']}, gap {d['galore_gap']}, scale {d['galore_scale']}, all-linear")
        else:
            parts.append("Full")
    d = next((x for x in java_lines if "lr" in x), {})
    return (f"- Methods (from the java lines): {'; '.join(parts) or 'none measured'}; AdamW lr {d.get('lr', '?')}, "
            f"gradients clipped to norm {d.get('max_grad_norm', '?')}, for all. The torch lines report their own settings; "
            "a row whose settings differ says so. Loss columns are the last step's loss on both sides (same weights and "
            "batch, so they should agree).")


def same_setting(a, b):
    """Equal as numbers where both are (Java prints 1.0E-4, Python 0.0001), else as text."""
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return a == b


SETTING_KEYS = ("lr", "max_grad_norm", "lora_rank", "lora_alpha", "galore_rank", "galore_gap", "galore_scale")


def manifest_settings(work, method):
    """Settings of the manifest bench/methods.sh wrote for a method ($WORK/<method>.yaml): rank, alpha, ratio, scale,
    learningRate, batchSize, maxSeqLength, warmupSteps, scheduler, maxSteps (as strings; missing keys absent)."""
    p = os.path.join(work, f"{method.lower()}.yaml")
    out = {}
    if not os.path.exists(p):
        return out
    for line in open(p):
        m = re.match(r"\s*(rank|alpha|learningRateRatio|scale|learningRate|batchSize|maxSeqLength|warmupSteps|scheduler|"
                     r"maxSteps|updateProjectionGap|packing):\s*(\S+)", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def settings_text(work, methods):
    """One clause per method from its manifest, e.g. 'LoRA r=16 alpha=32 lr 0.002'."""
    parts = []
    for m in methods:
        c = manifest_settings(work, m)
        if not c:
            continue
        t = m
        if "rank" in c:
            t += f" r={c['rank']}"
        if "alpha" in c:
            t += f" alpha={c['alpha']}"
        if "learningRateRatio" in c:
            t += f" ratio {c['learningRateRatio']}"
        if "scale" in c:
            t += f" scale {c['scale']}"
        parts.append(t + f" lr {c.get('learningRate', '?')}")
    return "; ".join(parts)


def speed(raw, work):
    lines = [l.strip() for l in open(raw) if l.strip()]
    mms = [kv(l) for l in lines if "matmul_n=" in l]   # measured before and after the runs
    all_mm = ", ".join(d["gflops"] for d in mms)
    infos = [kv(l) for l in lines if "blas=" in l and not l.startswith("coretype_probe=")]
    probes = [kv(l) for l in lines if l.startswith("coretype_probe=")]
    chosen = next((kv(l) for l in lines if l.startswith("torch_coretype=")), {})
    load_mm = next((l.split("=", 1)[1] for l in lines if l.startswith("load_matmul=")), "?")
    info = infos[0] if infos else {}
    out = ["## 1. Trainer vs PyTorch eager (same weights, batch, sequence, method and cores)", ""]
    out.append(f"- DJL 1024x1024 fp32 matmul in its own process: {all_mm or 'NOT MEASURED'} GFLOP/s (before and after the "
               f"runs); torch {info.get('torch', '?')} in its own process, per thread layout: "
               + (", ".join(f"OpenMP {d.get('omp_threads')} + OpenBLAS {d.get('openblas_threads')}: "
                            f"{d.get('matmul1024_gflops')} GFLOP/s" for d in infos) or "NOT MEASURED")
               + f" ({load_mm}).")
    out.append("- OpenBLAS kernel: " + (", ".join(f"OPENBLAS_CORETYPE {d['coretype_probe']} -> {d.get('corename', '?')} "
                                                  f"{d.get('matmul1024_gflops', '?')} GFLOP/s" for d in probes) or "not probed")
               + f"; the torch runs used OPENBLAS_CORETYPE {chosen.get('torch_coretype', '?')} (the caller's environment had "
               f"{chosen.get('caller_coretype', '?')}).")
    blas = info.get("blas", "unknown")
    slow = "openblas" not in blas and "mkl" not in blas
    out.append(f"- BLAS mapped by the torch process: `{blas}`"
               + (" -- WARNING: not OpenBLAS/MKL, torch is on a slow reference BLAS (platform.md)" if slow else "")
               + f". Our trainer: DJL's libtorch (its own MKL and OpenMP) with ai.djl.pytorch.num_threads and OMP_NUM_THREADS "
               "= THREADS, interop 1. The torch side ran every round under each thread layout of the info line above and "
               "the row keeps the layout with the best median; its matmul rate is the one measured in those same runs. "
               "Runs alternate java/torch per round; warm-up steps (the same count on both sides) are excluded; tokens/s is "
               "the median over rounds.")
    java_lines = [kv(l) for l in lines if "side=java" in l and "preset=" in l]
    out.append(settings_sentence(java_lines))
    out.append("- Matmul columns: each side's own 1024x1024 fp32 matmul GFLOP/s, measured in the same process right after "
               "its timed steps (median over rounds). Normalised ratio = (ours / torch tokens/s) / (ours / torch matmul "
               f"rate). The tokens/s ratio counts as a win or a loss only where the two matmul rates are within "
               f"{MATCHED:.0%} of each other; otherwise the row says BLAS-limited (the ratio then mostly compares BLAS "
               "libraries, not trainers).")
    out.append("- GFLOP/s formula: Full and GaLore 6 N + 12 L T q FLOPs per token; LoRA 4 N + 6 N_lora + 12 L T q "
               "(N = matmul weights incl. lm_head, N_lora = r (in + out) summed over adapted matrices, L layers, T sequence "
               "length, q = heads x head_dim); GaLore's SVD falls in the warm-up step and is not counted.")
    out.append("- Peak RSS: the process's peak resident set (VmHWM / ru_maxrss) after the timed steps, JVM or Python interpreter "
               "included; ours computes the lm_head and loss in chunks (section 4), torch eager materialises the full logits.")
    out.append("")
    out.append("| model | batch x seq (warm-up + timed steps) | method | ours tokens/s | torch tokens/s (layout) | ratio ours/torch "
               "| matmul GFLOP/s ours / torch | normalised ratio | verdict | ours GFLOP/s | loss ours / torch "
               "| peak RSS ours / torch | load avg (1 min) |")
    out.append("|---|---|---|---:|---:|---:|---|---:|---|---:|---|---|---|")
    rows = {}
    for l in lines:
        d = kv(l)
        if "preset" in d and "side" in d:
            rows.setdefault((d["preset"], d["batch"], d["seq"], d.get("warm", "?"), d.get("steps", "?"), d["method"]),
                            []).append(d)
    med = lambda v: statistics.median(v) if v else None
    for (preset, batch, seq, warm, steps, method), ds in rows.items():
        cfg_path = os.path.join(work, f"model-{preset}", "config.json")
        if not os.path.exists(cfg_path):
            out.append(f"| {preset} | {batch} x {seq} | {method} | NOT MEASURED: "
                       f"{'; '.join(d.get('error', '?') for d in ds)} |")
            continue
        cfg = json.load(open(cfg_path))
        java = [d for d in ds if d["side"] == "java" and "tokens_per_s" in d]
        j = med([float(d["tokens_per_s"]) for d in java])
        j_mm = med([float(d["matmul_gflops"]) for d in java if "matmul_gflops" in d])
        by_layout = {}
        for d in ds:
            if d["side"] == "torch" and "tokens_per_s" in d:
                by_layout.setdefault(d.get("layout", "?"), []).append(d)
        best = max(by_layout.items(), key=lambda kvp: med([float(d["tokens_per_s"]) for d in kvp[1]]), default=None)
        t = t_mm = None
        layout = "-"
        torch_ds = []
        if best:
            layout, torch_ds = best
            t = med([float(d["tokens_per_s"]) for d in torch_ds])
            t_mm = med([float(d["matmul_gflops"]) for d in torch_ds if "matmul_gflops" in d])
        errs = [f"{d['side']}: {d['error']}" for d in ds if "error" in d]
        differ = [k for k in SETTING_KEYS if java and torch_ds and not same_setting(java[0].get(k), torch_ds[0].get(k))]
        name = f"{preset} (d={cfg['hidden_size']}, {cfg['num_hidden_layers']} layers)"
        ratio = f"{j / t:.2f}" if j and t else "NOT MEASURED"
        norm = f"{(j / t) / (j_mm / t_mm):.2f}" if j and t and j_mm and t_mm else "n/a"
        if j and t and j_mm and t_mm:
            verdict = ("BLAS-limited" if abs(j_mm / t_mm - 1) > MATCHED
                       else ("win" if j > t else "loss") + f" (rates within {abs(j_mm / t_mm - 1):.0%})")
        else:
            verdict = "n/a"
        gf = j * flops_per_token(cfg, method, int(seq), int(java[0].get("lora_rank", 0))) / 1e9 if j else None
        loss = " / ".join(next((d.get("loss", "?") for d in group), "?") for group in (java, torch_ds))
        loads = ",".join(d.get("load", "?") for d in ds)

        def peak(group):
            v = [int(d["peak_rss"]) for d in group if int(d.get("peak_rss", -1)) > 0]
            return f"{max(v) / MIB:,.0f} MiB" if v else "n/a"
        lay = layout.split(":")
        lay_text = f"OpenMP {lay[0]} + OpenBLAS {lay[1]}" if len(lay) == 2 else layout
        out.append(f"| {name} | {batch} x {seq} ({warm} + {steps}) | {method} | {f'{j:.0f}' if j else 'NOT MEASURED'} | "
                   f"{f'{t:.0f}' if t else 'NOT MEASURED'} ({lay_text}) | {ratio} | "
                   f"{f'{j_mm:.1f}' if j_mm else 'n/a'} / {f'{t_mm:.1f}' if t_mm else 'n/a'} | {norm} | {verdict} | "
                   f"{f'{gf:.1f}' if gf else 'n/a'} | {loss} | {peak(java)} / {peak(torch_ds)} | {loads} |"
                   + (f" errors: {'; '.join(errs)}" if errs else "")
                   + (f" SETTINGS DIFFER: {', '.join(differ)}" if differ else ""))
    out.append("")
    print("\n".join(out))


def memory(work, base_model, steps, load):
    cfg = json.load(open(os.path.join(base_model, "config.json")))
    sh = shapes(cfg)
    mn = sum(o * i for o, i in sh)
    r_lora = int(manifest_settings(work, "LoRA")["rank"])      # from the manifests bench/methods.sh wrote
    r_galore = int(manifest_settings(work, "GaLore")["rank"])
    run = manifest_settings(work, "LoRA") or manifest_settings(work, "Full")
    lora = sum(r_lora * (o + i) for o, i in sh)
    # GaLore Table 1 (Zhao et al. 2024), per m x n matrix with m <= n: weights mn; optimizer states
    #   Full AdamW 2mn, LoRA 2mr + 2nr, GaLore mr + 2nr (projector m x r + two moments r x n).
    galore_targets = sum(min(o, i) * r_galore + 2 * max(o, i) * r_galore for o, i in sh)
    mib = lambda b: f"{b / 2**20:.2f} MiB" if b is not None else "n/a"
    out = ["## 2. Memory by method (measured, fp32) vs GaLore paper Table 1", "",
           f"Quick-start task (bench/methods.sh, tiny model d={cfg['hidden_size']}, {cfg['num_hidden_layers']} layers, "
           f"{steps} steps, batch {run.get('batchSize', '?')}, seq <= {run.get('maxSeqLength', '?')}; "
           f"{settings_text(work, METHODS)}); {load}. Formula columns: GaLore Table 1 per m x n target matrix "
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
    base = next((json.load(open(os.path.join(work, m.lower(), "training_summary.json")))
                 for m in ("Full", "GaLore") if os.path.exists(os.path.join(work, m.lower(), "training_summary.json"))), None)
    params = f"{base['memory']['totalParameters'] / 1e6:.1f}M parameters" if base and base.get("memory") else "parameters n/a"
    run = manifest_settings(work, "LoRA") or manifest_settings(work, "Full")
    intro = (f"stories15M (pretrained, {params} from the Full/GaLore run's summary) learns WordNet definitions, the quick "
             f"start's task ({n_train} training words, {n_eval} held-out words, split by word; prompt tokens not trained), "
             f"with the same data, {steps} steps, batch {run.get('batchSize', '?')}, seq <= {run.get('maxSeqLength', '?')} "
             f"(packing {run.get('packing', '?')}) and seed for every method (bench/methods.sh TASK=wordnet, settings from "
             f"its manifests: {settings_text(work, METHODS)}; all-linear; {run.get('scheduler', '?')} schedule, "
             f"{run.get('warmupSteps', '?')} warm-up steps). Figures from each run's training_summary.json; tokens/s counts "
             f"the training loop only; {load}.")
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


def planmem(raw):
    lines = [kv(l) for l in open(raw) if l.strip()]
    out = ["## 7. Memory plan vs measured step working set", "",
           "One JVM per row runs io.finetune.bench.TrainerBench stepmem (PlanVsMeasured): the method with the settings its "
           "line reports on a fresh model of the shape (QLoRA: LoRA over the base quantized to NF4 with double quantization "
           "at creation, each layer recomputed in the backward); warm-up steps, then one measured step "
           "(StepWorkingSet: glibc's mmap threshold at 4 KiB so every tensor buffer is its own mapping, the peak-RSS counter "
           "reset, working set = peak minus the resident set before the step). Plan: the activation bytes the memory plan "
           "gives for that method and shape (TrainingMethod.estimateMemory -> MemoryEstimate.activationBytes, counted by "
           "method.ActivationMemory; the same estimate `plan` and the preflight use). The plan is meant to be an upper bound "
           "within +25%: ratio plan / measured in [1.00, 1.25]. The measurement runs on the CPU; on a GPU the plan is "
           "unverified until hack/gpu-check.sh has recorded CUDA's peak allocation against it.", "",
           "| shape | method (settings) | precision | batch x seq | loss chunk | measured step working set | plan activations "
           "| plan / measured | holds | load avg (1 min) |",
           "|---|---|---|---|---|---:|---:|---:|---|---|"]
    ratios = []
    for d in lines:
        if "error" in d or "measured" not in d:
            out.append(f"| {d.get('model', d.get('shape', '?'))} | {d.get('method', '?')} | {d.get('precision', '?')} | | | "
                       f"NOT MEASURED: {d.get('error', 'no result')} | | | | |")
            continue
        m, p = int(d["measured"]), int(d["plan_activations"])
        r = p / max(m, 1)
        ratios.append(r)
        holds = "yes" if 1.0 <= r <= 1.25 else ("under" if r < 1.0 else "over +25%")
        chunk = d["loss_chunk"] if d["precision"] == "FP32" else "unchunked (16-bit)"
        out.append(f"| {d.get('shape', d['model'])} | {d['method']} ({d.get('settings', '?')}) | {d['precision']} | {d['batch']} x {d['seq']} | {chunk} | "
                   f"{m / MIB:,.1f} MiB | {p / MIB:,.1f} MiB | {r:.2f} | {holds} | {d.get('load', '?')} |")
    out.append("")
    if ratios:
        inside = sum(1 for r in ratios if 1.0 <= r <= 1.25)
        out.append(f"- plan / measured from {min(ratios):.2f} to {max(ratios):.2f}; within [1.00, 1.25] on {inside} of "
                   f"{len(ratios)} rows; below 1.00 (plan not an upper bound) on {sum(1 for r in ratios if r < 1.0)}.")
        outside = [f"{d.get('shape', d['model'])} {d['method']} {d['precision']} ({int(d['plan_activations']) / max(int(d['measured']), 1):.2f})"
                   for d in lines if "error" not in d and "measured" in d
                   and not 1.0 <= int(d["plan_activations"]) / max(int(d["measured"]), 1) <= 1.25]
        if outside:
            out.append(f"- outside [1.00, 1.25]: {', '.join(outside)}.")
        out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    if sys.argv[1] == "speed":
        speed(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "memory":
        memory(*sys.argv[2:6])
    elif sys.argv[1] == "lossmem":
        lossmem(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "planmem":
        planmem(sys.argv[2])
    elif sys.argv[1] == "realmethods":
        real_methods(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None)
    else:
        sys.exit(__doc__)
