#!/usr/bin/python3
"""Regenerates the numerical-fidelity goldens for the Java trainer (trainer-image/src/test/resources/golden/).

Independent PyTorch implementation of the Hugging Face LLaMA forward (transformers modeling_llama.py: RMSNorm, rotate-half
RoPE with llama3 scaling, repeat_kv GQA, SwiGLU) plus PEFT-style LoRA (y = base(x) + s * B(A(x))). Writes:
  golden/model/config.json, golden/model/model.safetensors   (BF16 weights, so the Java BF16 widening is exercised)
  golden/inputs.safetensors   input_ids/labels/position_ids/segment_ids (as F32), lora_A/lora_B per module
  golden/expected.safetensors logits (B,T,V), loss (1), grad.<module>.lora_A/B
Run: /usr/bin/python3 tools/reference/reference.py   (Debian python3-torch; CI only reads the committed files)
"""
import json
import math
import os
import struct
import sys

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "trainer-image", "src", "test", "resources", "golden")
CFG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
    "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "head_dim": 8, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "vocab_size": 40,
    "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 64},
    "tie_word_embeddings": False, "attention_bias": True, "max_position_embeddings": 256, "torch_dtype": "bfloat16",
}
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
RANK, ALPHA = 4, 8.0
IGNORE = -100


def write_safetensors(path, tensors, dtypes):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        if dtypes.get(name) == "BF16":
            raw = t.to(torch.bfloat16).view(torch.int16).numpy().tobytes()
            dt = "BF16"
        else:
            raw = t.to(torch.float32).numpy().tobytes()
            dt = "F32"
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def make_weights(g):
    c, w = CFG, {}
    d, ff, hd = c["hidden_size"], c["intermediate_size"], c["head_dim"]
    q, kv = c["num_attention_heads"] * hd, c["num_key_value_heads"] * hd
    w["model.embed_tokens.weight"] = torch.randn(c["vocab_size"], d, generator=g) * 0.5
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        shapes = {"self_attn.q_proj": (q, d), "self_attn.k_proj": (kv, d), "self_attn.v_proj": (kv, d),
                  "self_attn.o_proj": (d, q), "mlp.gate_proj": (ff, d), "mlp.up_proj": (ff, d), "mlp.down_proj": (d, ff)}
        for m, s in shapes.items():
            w[p + m + ".weight"] = torch.randn(*s, generator=g) / math.sqrt(s[1])
        for m in ("q_proj", "k_proj", "v_proj"):
            w[p + f"self_attn.{m}.bias"] = torch.randn(shapes["self_attn." + m][0], generator=g) * 0.1
        w[p + "input_layernorm.weight"] = 1 + 0.1 * torch.randn(d, generator=g)
        w[p + "post_attention_layernorm.weight"] = 1 + 0.1 * torch.randn(d, generator=g)
    w["model.norm.weight"] = 1 + 0.1 * torch.randn(d, generator=g)
    w["lm_head.weight"] = torch.randn(c["vocab_size"], d, generator=g) / math.sqrt(d)
    # Round matrices to bf16 (as stored), keep norms/biases F32: the reference computes in fp32 from the stored values.
    return {k: (v.to(torch.bfloat16).float() if v.dim() == 2 else v) for k, v in w.items()}


def inv_freq():
    c, hd = CFG, CFG["head_dim"]
    f = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    rs = c["rope_scaling"]
    old, lo, hi, factor = rs["original_max_position_embeddings"], rs["low_freq_factor"], rs["high_freq_factor"], rs["factor"]
    wavelen = 2 * math.pi / f
    f_llama = torch.where(wavelen > old / lo, f / factor, f)
    smooth = (old / wavelen - lo) / (hi - lo)
    smoothed = (1 - smooth) * f_llama / factor + smooth * f_llama
    medium = ~(wavelen < old / hi) * ~(wavelen > old / lo)
    return torch.where(medium, smoothed, f_llama)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rms(x, w):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + CFG["rms_norm_eps"]))


def base_linear(w, name, x):
    """nn.Linear: x W^T + b."""
    y = x @ w[name + ".weight"].T
    if name + ".bias" in w:
        y = y + w[name + ".bias"]
    return y


def lora_linear(w, lora):
    """PEFT LoRA: y = base(x) + s * B(A(x)) on the modules in `lora` (name -> (A, B)), s = alpha / r."""
    s = ALPHA / RANK

    def linear(name, x):
        y = base_linear(w, name, x)
        if name in lora:
            a, b = lora[name]
            y = y + s * ((x @ a.T) @ b.T)
        return y
    return linear


def forward(w, lora, ids, pos, seg, linear=None):
    """Logits (B, T, V). `linear(name, x)` computes every linear but lm_head's adapter; default: LoRA on `lora`."""
    c = CFG
    B, T = ids.shape
    H, KV, hd = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    if linear is None:
        linear = lora_linear(w, lora)

    freqs = pos[..., None].float() * inv_freq()[None, None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]
    i = torch.arange(T)
    causal = i[None, :] <= i[:, None]
    same = (seg[:, :, None] == seg[:, None, :]) & (seg[:, :, None] != 0)
    visible = (causal[None] & same) | torch.eye(T, dtype=torch.bool)[None]
    mask = torch.where(visible, 0.0, -1e9)[:, None]
    h = w["model.embed_tokens.weight"][ids]
    for li in range(c["num_hidden_layers"]):
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
        g = linear(p + "mlp.gate_proj", x)
        h = h + linear(p + "mlp.down_proj", torch.nn.functional.silu(g) * linear(p + "mlp.up_proj", x))
    return linear("lm_head", rms(h, w["model.norm.weight"]))


def make_batch(g):
    """Row 0: two packed records (segments 1, 2; positions restart), prompt tokens masked with -100. Row 1: padded."""
    T = 10
    ids = torch.randint(4, CFG["vocab_size"], (2, T), generator=g)
    seg = torch.tensor([[1, 1, 1, 1, 1, 1, 2, 2, 2, 2], [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]])
    pos = torch.tensor([[0, 1, 2, 3, 4, 5, 0, 1, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 0, 0]])
    ids[1, 8:] = 0
    labels = ids.clone()
    labels[0, :2] = IGNORE
    labels[1, 8:] = IGNORE
    return ids, labels, pos, seg


def make_lora(g, w):
    """name -> (A (r, in), B (out, r)) on every TARGETS module; B non-zero so that A gets a gradient too."""
    lora = {}
    for li in range(CFG["num_hidden_layers"]):
        for name, W in w.items():
            mod = name[: -len(".weight")]
            if name.startswith(f"model.layers.{li}.") and name.endswith(".weight") and mod.split(".")[-1] in TARGETS:
                out_f, in_f = W.shape
                a = (torch.rand(RANK, in_f, generator=g) * 2 - 1) / math.sqrt(in_f)
                b = torch.randn(out_f, RANK, generator=g) * 0.05
                lora[mod] = (a, b)
    return lora


def setup():
    """The fixed tiny model, batch and LoRA weights every golden starts from (seed 1234, drawn in this order)."""
    g = torch.Generator().manual_seed(1234)
    w = make_weights(g)
    batch = make_batch(g)
    return w, batch, make_lora(g, w), g


def mean_loss(logits, labels, seg):
    """Mean next-token NLL over labels != -100 within one record (segment 0 is padding)."""
    tgt = labels[:, 1:].clone()
    valid = (tgt != IGNORE) & (seg[:, 1:] == seg[:, :-1]) & (seg[:, 1:] != 0)
    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    nll = -logp.gather(-1, tgt.clamp(min=0)[..., None])[..., 0]
    return (nll * valid).sum() / valid.sum()


def main():
    w, (ids, labels, pos, seg), lora, _ = setup()
    for a, b in lora.values():
        a.requires_grad_()
        b.requires_grad_()
    logits = forward(w, lora, ids, pos, seg)
    loss = mean_loss(logits, labels, seg)
    loss.backward()
    os.makedirs(os.path.join(OUT, "model"), exist_ok=True)
    with open(os.path.join(OUT, "model", "config.json"), "w") as f:
        json.dump(CFG, f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(OUT, "model", "model.safetensors"), w,
                      {k: "BF16" for k, v in w.items() if v.dim() == 2})
    inputs = {"input_ids": ids.float(), "labels": labels.float(), "position_ids": pos.float(), "segment_ids": seg.float()}
    expected = {"logits": logits.detach(), "loss": loss.detach().reshape(1)}
    for mod, (a, b) in lora.items():
        inputs[mod + ".lora_A.weight"], inputs[mod + ".lora_B.weight"] = a.detach(), b.detach()
        expected["grad." + mod + ".lora_A.weight"], expected["grad." + mod + ".lora_B.weight"] = a.grad, b.grad
    write_safetensors(os.path.join(OUT, "inputs.safetensors"), inputs, {})
    write_safetensors(os.path.join(OUT, "expected.safetensors"), expected, {})
    print(f"torch {torch.__version__}, loss {loss.item():.6f}, {len(lora)} adapted modules -> {os.path.abspath(OUT)}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
