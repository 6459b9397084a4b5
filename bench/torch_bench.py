#!/usr/bin/python3
"""PyTorch-eager side of bench/run.sh: trains the SAME model directory (written by the trainer's init-model) on the SAME
deterministic batch as io.finetune.bench.TrainerBench and prints one key=value line.

  torch_bench.py train MODEL_DIR LoRA|Full|GaLore BATCH SEQ WARMUP STEPS THREADS
      (also reports rss_before, the resident set before the first step, and peak_rss, the process's peak resident set)
  torch_bench.py info THREADS        -> torch version, threads and the BLAS library torch's process actually mapped

The model is the Hugging Face LLaMA eager forward (transformers modeling_llama.py: RMSNorm, rotate-half RoPE, repeat_kv GQA,
eager softmax attention, SwiGLU), as in tools/reference/reference.py. LoRA is PEFT's (y = Wx + s B A x, A kaiming-uniform,
B = 0, r=16, alpha=32, all linear layers except lm_head); GaLore follows the reference repo (jiaweizzhao/GaLore
galore_torch/galore_projector.py, proj_type std: project on the smaller side, Adam in the projected space, update scaled).
"""
import json
import math
import os
import resource
import struct
import sys
import time

import torch

LR = 1e-4
LORA_RANK, LORA_ALPHA = 16, 32.0
GALORE_RANK, GALORE_GAP, GALORE_SCALE = 32, 200, 0.25
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def read_safetensors(path):
    """Tiny safetensors reader (F32 / BF16 / F16) -> dict of fp32 tensors."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        raw = bytearray(data[a:b])
        if meta["dtype"] == "F32":
            t = torch.frombuffer(raw, dtype=torch.float32)
        elif meta["dtype"] == "BF16":
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16).float()
        elif meta["dtype"] == "F16":
            t = torch.frombuffer(raw, dtype=torch.float16).float()
        else:
            raise SystemExit(f"{path}: tensor {name}: unsupported dtype {meta['dtype']}")
        out[name] = t.reshape(meta["shape"]).clone()
    return out


def load(model_dir):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    w = {}
    for fn in sorted(os.listdir(model_dir)):
        if fn.endswith(".safetensors"):
            w.update(read_safetensors(os.path.join(model_dir, fn)))
    if "lm_head.weight" not in w:  # tied embeddings
        w["lm_head.weight"] = w["model.embed_tokens.weight"]
    return cfg, w


def inv_freq(cfg, hd):
    return 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, hd, 2).float() / hd))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def forward(cfg, w, lora, scale, ids):
    B, T = ids.shape
    H, KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or cfg["hidden_size"] // H
    eps = cfg["rms_norm_eps"]

    def rms(x, g):
        return g * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def linear(name, x):
        y = torch.nn.functional.linear(x, w[name + ".weight"], w.get(name + ".bias"))
        if name in lora:
            a, b = lora[name]
            y = y + scale * torch.nn.functional.linear(torch.nn.functional.linear(x, a), b)
        return y

    pos = torch.arange(T)
    freqs = pos[:, None].float() * inv_freq(cfg, hd)[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((T, T), float("-inf")).triu(1)
    h = w["model.embed_tokens.weight"][ids]
    for li in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{li}."
        x = rms(h, w[p + "input_layernorm.weight"])
        q = linear(p + "self_attn.q_proj", x).view(B, T, H, hd).transpose(1, 2)
        k = linear(p + "self_attn.k_proj", x).view(B, T, KV, hd).transpose(1, 2)
        v = linear(p + "self_attn.v_proj", x).view(B, T, KV, hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k = k[:, :, None].expand(B, KV, H // KV, T, hd).reshape(B, H, T, hd)
        v = v[:, :, None].expand(B, KV, H // KV, T, hd).reshape(B, H, T, hd)
        att = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(hd) + mask, dim=-1)
        o = (att @ v).transpose(1, 2).reshape(B, T, H * hd)
        h = h + linear(p + "self_attn.o_proj", o)
        x = rms(h, w[p + "post_attention_layernorm.weight"])
        h = h + linear(p + "mlp.down_proj",
                       torch.nn.functional.silu(linear(p + "mlp.gate_proj", x)) * linear(p + "mlp.up_proj", x))
    return linear("lm_head", rms(h, w["model.norm.weight"]))


class GaloreAdamW:
    """AdamW whose 2-D target matrices keep their moments in a rank-r projected space (GaLore, Zhao et al. 2024, Alg. 2)."""

    def __init__(self, params, projected, lr, rank=32, gap=200, scale=0.25, betas=(0.9, 0.999), eps=1e-8, wd=0.0):
        self.params, self.projected, self.lr, self.rank, self.gap, self.scale = params, projected, lr, rank, gap, scale
        self.b1, self.b2, self.eps, self.wd, self.t, self.state = betas[0], betas[1], eps, wd, 0, {}

    @torch.no_grad()
    def step(self):
        self.t += 1
        for p in self.params:
            g = p.grad
            st = self.state.setdefault(id(p), {})
            proj = id(p) in self.projected
            if proj:
                m, n = g.shape
                if (self.t - 1) % self.gap == 0:
                    u, _, vh = torch.linalg.svd(g, full_matrices=False)
                    st["P"] = vh[: self.rank] if m >= n else u[:, : self.rank]
                g = g @ st["P"].T if m >= n else st["P"].T @ g
            if "m" not in st:
                st["m"], st["v"] = torch.zeros_like(g), torch.zeros_like(g)
            st["m"].mul_(self.b1).add_(g, alpha=1 - self.b1)
            st["v"].mul_(self.b2).addcmul_(g, g, value=1 - self.b2)
            upd = (st["m"] / (1 - self.b1 ** self.t)) / ((st["v"] / (1 - self.b2 ** self.t)).sqrt() + self.eps)
            if proj:
                upd = (upd @ st["P"] if m >= n else st["P"] @ upd) * self.scale
            if self.wd:
                p.mul_(1 - self.lr * self.wd)
            p.add_(upd, alpha=-self.lr)

    def zero_grad(self):
        for p in self.params:
            p.grad = None


def train(model_dir, method, batch, seq, warmup, steps, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    cfg, w = load(model_dir)
    V = cfg["vocab_size"]
    ids = torch.tensor([[4 + (13 * b + t) % (V - 4) for t in range(seq)] for b in range(batch)])
    lora, scale = {}, 0.0
    targets = [k[: -len(".weight")] for k in w if k.endswith(".weight") and k.split(".")[-2] in TARGETS]
    if method == "LoRA":
        r, alpha = LORA_RANK, LORA_ALPHA
        scale = alpha / r
        for name in targets:
            out_f, in_f = w[name + ".weight"].shape
            a = torch.empty(r, in_f)
            torch.nn.init.kaiming_uniform_(a, a=math.sqrt(5))
            lora[name] = (a.requires_grad_(), torch.zeros(out_f, r).requires_grad_())
        params = [t for pair in lora.values() for t in pair]
    else:
        params = list({id(t): t for t in w.values()}.values())   # a tied lm_head is embed_tokens: one parameter, once
        for t in params:
            t.requires_grad_()
    if method == "GaLore":
        opt = GaloreAdamW(params, {id(w[n + ".weight"]) for n in targets}, lr=LR, rank=GALORE_RANK, gap=GALORE_GAP,
                          scale=GALORE_SCALE)
    else:
        opt = torch.optim.AdamW(params, lr=LR, weight_decay=0.0)
    labels = ids[:, 1:]

    def step():
        logits = forward(cfg, w, lora, scale, ids)
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, V), labels.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)   # as our trainer (maxGradNorm default 1.0) and HF Trainer do
        opt.step()
        opt.zero_grad()
        return loss.item()

    rss_before = rss_now()
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    loss = 0.0
    for _ in range(steps):
        loss = step()
    secs = time.perf_counter() - start
    trainable = sum(p.numel() for p in params)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024   # before the matmul probe's own operands
    settings = {"LoRA": f" lora_rank={LORA_RANK} lora_alpha={LORA_ALPHA} lora_dropout=0.0",
                "GaLore": f" galore_rank={GALORE_RANK} galore_gap={GALORE_GAP} galore_scale={GALORE_SCALE}"}.get(method, "")
    print(f"side=torch method={method} trainable={trainable} tokens_per_s={steps * batch * seq / secs:.1f} "
          f"ms_per_step={secs * 1000 / steps:.1f} loss={loss:.4f} torch={torch.__version__} threads={torch.get_num_threads()} "
          f"rss_before={rss_before} peak_rss={peak} matmul_gflops={matmul_rate():.1f} {layout()} lr={LR} "
          f"max_grad_norm=1.0{settings}")


def rss_now():
    """Resident set size of this process in bytes (VmRSS); peak_rss is getrusage's ru_maxrss, the same figure as VmHWM."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return -1


def blas_libs():
    """Paths of the BLAS/LAPACK libraries this process has mapped (what torch really multiplies with)."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            if any(s in path for s in ("blas", "lapack", "mkl")):
                libs.add(os.path.realpath(path))
    return sorted(libs)


def corename():
    """OpenBLAS's name for the kernel it chose (openblas_get_corename), or 'n/a' without OpenBLAS. Debian's 0.3.21 does not
    recognise some newer Intel CPUs and picks a slow generic kernel unless OPENBLAS_CORETYPE names one (platform.md)."""
    import ctypes
    for path in blas_libs():
        if "openblas" in path:
            try:
                f = ctypes.CDLL(path).openblas_get_corename
                f.restype = ctypes.c_char_p
                return f().decode().strip().replace(" ", "_")
            except (OSError, AttributeError):
                pass
    return "n/a"


def layout():
    """The thread layout this process ran under: torch's OpenMP threads and OpenBLAS's own pthreads (which
    torch.set_num_threads does not set), and the OpenBLAS kernel."""
    return (f"omp_threads={torch.get_num_threads()} openblas_threads={os.environ.get('OPENBLAS_NUM_THREADS', 'default')} "
            f"openblas_coretype={os.environ.get('OPENBLAS_CORETYPE') or 'unset'} corename={corename()}")


def matmul_rate(n=1024, reps=20):
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - start) / 1e9


def info(threads):
    torch.set_num_threads(threads)
    a = torch.randn(512, 512)
    (a @ a).sum().item()
    gf = matmul_rate()
    print(f"side=torch torch={torch.__version__} threads={torch.get_num_threads()} "
          f"interop_threads={torch.get_num_interop_threads()} blas={','.join(blas_libs()) or 'none-mapped'} "
          f"matmul1024_gflops={gf:.1f} {layout()}")


if __name__ == "__main__":
    if len(sys.argv) == 9 and sys.argv[1] == "train":
        train(sys.argv[2], sys.argv[3], *map(int, sys.argv[4:9]))
    elif len(sys.argv) == 3 and sys.argv[1] == "info":
        info(int(sys.argv[2]))
    else:
        sys.exit(__doc__)
