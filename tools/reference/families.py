#!/usr/bin/python3
"""Independent PyTorch reference for the model families beyond the LLaMA golden (reference.py): windowed Mistral, Qwen2 with
use_sliding_window, Qwen3, Phi-3 (fused qkv_proj / gate_up_proj, partial rotary), Gemma 2 and Gemma 3 text. Written from
transformers' modeling files (modeling_mistral.py, modeling_qwen2.py, modeling_qwen3.py, modeling_phi3.py,
modeling_gemma2.py, modeling_gemma3.py, masking_utils.py), sharing no code with the Java trainer.

  families.py golden [NAME...]  writes trainer-image/src/test/resources/golden/<family>/{model/,inputs,expected}.safetensors
                                (Hugging Face layout: config.json + model.safetensors with BF16 matrices)
  families.py eval MODEL ADAPTER BATCH
                                prints {"loss": ...}: the mean next-token loss of the batch (safetensors with input_ids,
                                labels, position_ids, segment_ids as F32) under MODEL with the PEFT LoRA adapter in ADAPTER
                                (adapter_config.json + adapter_model.safetensors) applied as PEFT applies it

Run with Debian's torch: /usr/bin/python3 (apt-get install python3-torch libopenblas0-pthread). CI reads the committed
goldens; the eval mode runs during the tests (hack/test.sh installs torch).
"""
import json
import math
import os
import struct
import sys

import torch

from reference import IGNORE, rotate_half, write_safetensors

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "trainer-image", "src", "test", "resources",
                      "golden")
BASE = {"hidden_act": "silu", "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "vocab_size": 40,
        "max_position_embeddings": 256, "torch_dtype": "bfloat16"}
FAMILIES = {
    # Mistral-7B-v0.1's shape of config: every layer windowed; window 4 < the records' 6 and 8 tokens.
    "mistral-window": dict(BASE, architectures=["MistralForCausalLM"], model_type="mistral", sliding_window=4,
                           tie_word_embeddings=False),
    # Qwen2 with use_sliding_window: layers >= max_window_layers are windowed (here layer 1 only), q/k/v biases.
    "qwen2-window": dict(BASE, architectures=["Qwen2ForCausalLM"], model_type="qwen2", use_sliding_window=True,
                         sliding_window=3, max_window_layers=1, tie_word_embeddings=False),
    # Qwen3: q_norm/k_norm per head, explicit head_dim 16 (not 32/4), tied embeddings, no bias; the sliding_window key is
    # present but use_sliding_window false, as Qwen3 checkpoints ship it: no layer is windowed.
    "qwen3": dict(BASE, architectures=["Qwen3ForCausalLM"], model_type="qwen3", head_dim=16, attention_bias=False,
                  use_sliding_window=False, sliding_window=4, max_window_layers=2, tie_word_embeddings=True),
    # Phi-3 / Phi-4-mini: fused qkv_proj and gate_up_proj, RoPE on the first half of each head only, tied embeddings, no window.
    "phi3": dict(BASE, architectures=["Phi3ForCausalLM"], model_type="phi3", partial_rotary_factor=0.5, sliding_window=None,
                 rope_scaling=None, tie_word_embeddings=True, rms_norm_eps=1e-5),
    # Gemma 2: head_dim 16 (not 32/4), query_pre_attn_scalar 24 (not head_dim), soft caps small enough to bend the tiny
    # model's scores and logits, layer 0 sliding (window 3 < the records) and layer 1 full by transformers' default pattern.
    "gemma2": dict(BASE, architectures=["Gemma2ForCausalLM"], model_type="gemma2", hidden_act="gelu_pytorch_tanh",
                   hidden_activation="gelu_pytorch_tanh", head_dim=16, query_pre_attn_scalar=24,
                   attn_logit_softcapping=1.5, final_logit_softcapping=3.0, sliding_window=3, tie_word_embeddings=True),
    # Gemma 3 text: q/k norms, 3 layers with sliding_window_pattern 3 (layers 0 and 1 sliding with the local base 1e4,
    # layer 2 global with rope_theta 1e6 and linear scaling 4), no soft-capping.
    "gemma3": dict(BASE, architectures=["Gemma3ForCausalLM"], model_type="gemma3_text", hidden_activation="gelu_pytorch_tanh",
                   num_hidden_layers=3, head_dim=16, query_pre_attn_scalar=20, attn_logit_softcapping=None,
                   final_logit_softcapping=None, sliding_window=3, sliding_window_pattern=3, rope_theta=1000000.0,
                   rope_local_base_freq=10000.0, rope_scaling={"rope_type": "linear", "factor": 4.0},
                   tie_word_embeddings=True),
}
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "qkv_proj", "gate_up_proj"]
GEMMA = ("gemma2", "gemma3_text")
RANK, ALPHA = 4, 8.0


def head_dim(c):
    return c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]


def layer_sliding(c):
    """Per layer: whether it is a sliding-window layer by its config (Gemma: layer_types, else the pattern)."""
    n = c["num_hidden_layers"]
    if c["model_type"] in GEMMA:
        if c.get("layer_types") is not None:
            return [t == "sliding_attention" for t in c["layer_types"]]
        pattern = 2 if c["model_type"] == "gemma2" else c.get("sliding_window_pattern", 6)
        return [bool((i + 1) % pattern) for i in range(n)]
    return [w is not None for w in layer_windows(c)]


def has_bias(c):
    return c["model_type"] == "qwen2" or c.get("attention_bias", False)


def layer_windows(c):
    """Per layer: the window or None, as MistralConfig / Qwen2Config / Qwen3Config derive it."""
    n = c["num_hidden_layers"]
    if c["model_type"] == "mistral":
        return [c.get("sliding_window", 4096)] * n
    if c["model_type"] == "phi3":
        return [c.get("sliding_window")] * n
    if c["model_type"] in GEMMA:
        w = c.get("sliding_window", 4096)
        return [w if s else None for s in layer_sliding(c)]
    if c["model_type"] in ("qwen2", "qwen3"):
        w = c.get("sliding_window", 4096) if c.get("use_sliding_window", False) else None
        if "layer_types" in c and c["layer_types"] is not None:
            return [w if t == "sliding_attention" else None for t in c["layer_types"]]
        return [w if w is not None and i >= c.get("max_window_layers", 28) else None for i in range(n)]
    return [None] * n


def make_weights(c, g):
    w = {}
    d, ff, hd = c["hidden_size"], c["intermediate_size"], head_dim(c)
    q, kv = c["num_attention_heads"] * hd, c["num_key_value_heads"] * hd
    w["model.embed_tokens.weight"] = torch.randn(c["vocab_size"], d, generator=g) * 0.5
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        if c["model_type"] == "phi3":  # Phi3Attention.qkv_proj rows: q, k, v; Phi3MLP.gate_up_proj rows: gate, up
            shapes = {"self_attn.qkv_proj": (q + 2 * kv, d), "self_attn.o_proj": (d, q), "mlp.gate_up_proj": (2 * ff, d),
                      "mlp.down_proj": (d, ff)}
        else:
            shapes = {"self_attn.q_proj": (q, d), "self_attn.k_proj": (kv, d), "self_attn.v_proj": (kv, d),
                      "self_attn.o_proj": (d, q), "mlp.gate_proj": (ff, d), "mlp.up_proj": (ff, d), "mlp.down_proj": (d, ff)}
        for m, s in shapes.items():
            w[p + m + ".weight"] = torch.randn(*s, generator=g) / math.sqrt(s[1])
        if has_bias(c):
            for m in ("q_proj", "k_proj", "v_proj"):
                w[p + f"self_attn.{m}.bias"] = torch.randn(shapes["self_attn." + m][0], generator=g) * 0.1
        one = 0 if c["model_type"] in GEMMA else 1  # Gemma stores norm weights as offsets from one
        if c["model_type"] in ("qwen3", "gemma3_text"):
            w[p + "self_attn.q_norm.weight"] = one + 0.1 * torch.randn(hd, generator=g)
            w[p + "self_attn.k_norm.weight"] = one + 0.1 * torch.randn(hd, generator=g)
        norms = ["input_layernorm", "post_attention_layernorm"]
        if c["model_type"] in GEMMA:
            norms += ["pre_feedforward_layernorm", "post_feedforward_layernorm"]
        for n in norms:
            w[p + n + ".weight"] = one + 0.1 * torch.randn(d, generator=g)
    w["model.norm.weight"] = (0 if c["model_type"] in GEMMA else 1) + 0.1 * torch.randn(d, generator=g)
    if not c["tie_word_embeddings"]:
        w["lm_head.weight"] = torch.randn(c["vocab_size"], d, generator=g) / math.sqrt(d)
    return {k: (v.to(torch.bfloat16).float() if v.dim() == 2 else v) for k, v in w.items()}


def rms(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def gemma_rms(x, w, eps):
    """Gemma2RMSNorm / Gemma3RMSNorm: normalised in fp32, times (1 + w)."""
    x32 = x.float()
    return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps) * (1.0 + w.float())).type_as(x)


def rope_tables(c, pos, dim, theta, scaling):
    """cos, sin (B, 1, T, dim); linear scaling divides the inverse frequencies (_compute_linear_scaling_rope_parameters)."""
    inv = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    if scaling is not None:
        kind = scaling.get("rope_type", scaling.get("type"))
        if kind != "linear":
            raise SystemExit(f"error: rope_scaling {kind} is not computed by this reference")
        inv = inv / scaling["factor"]
    freqs = pos[..., None].float() * inv[None, None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos()[:, None], emb.sin()[:, None]


def rotate(x, cos, sin):
    """Phi3's apply_rotary_pos_emb: rotate the first cos.shape[-1] dims, pass the rest through."""
    r = cos.shape[-1]
    x_rot, x_pass = x[..., :r], x[..., r:]
    return torch.cat([x_rot * cos + rotate_half(x_rot) * sin, x_pass], dim=-1)


def softcap(x, cap):
    return x if cap is None else torch.tanh(x / cap) * cap


def mask(seg, window):
    """masking_utils: causal (kv_idx <= q_idx) and, with a window, kv_idx > q_idx - sliding_window; records never mix."""
    T = seg.shape[1]
    i = torch.arange(T)
    allowed = i[None, :] <= i[:, None]
    if window is not None:
        allowed = allowed & (i[None, :] > i[:, None] - window)
    same = (seg[:, :, None] == seg[:, None, :]) & (seg[:, :, None] != 0)
    visible = (allowed[None] & same) | torch.eye(T, dtype=torch.bool)[None]
    return torch.where(visible, 0.0, -1e9)[:, None]


def forward(c, w, lora, scale, ids, pos, seg):
    B, T = ids.shape
    H, KV, hd, eps = c["num_attention_heads"], c["num_key_value_heads"], head_dim(c), c["rms_norm_eps"]
    fam = c["model_type"]
    gemma, phi = fam in GEMMA, fam == "phi3"
    norm = gemma_rms if gemma else rms

    def linear(name, x):
        y = x @ w[name + ".weight"].T
        if name + ".bias" in w:
            y = y + w[name + ".bias"]
        if name in lora:
            a, b = lora[name]
            y = y + scale * ((x @ a.T) @ b.T)
        return y

    rot = int(hd * c.get("partial_rotary_factor", 1.0))
    glob = rope_tables(c, pos, rot, c["rope_theta"], c.get("rope_scaling"))
    local = rope_tables(c, pos, rot, c["rope_local_base_freq"], None) if fam == "gemma3_text" else glob
    sliding = layer_sliding(c)
    masks = [mask(seg, win) for win in layer_windows(c)]
    h = w["model.embed_tokens.weight"][ids]
    if gemma:  # Gemma2Model: the normalizer in the hidden dtype
        h = h * torch.tensor(c["hidden_size"] ** 0.5, dtype=h.dtype)
    act = (lambda t: torch.nn.functional.gelu(t, approximate="tanh")) if gemma else torch.nn.functional.silu
    for li in range(c["num_hidden_layers"]):
        p = f"model.layers.{li}."
        x = norm(h, w[p + "input_layernorm.weight"], eps)
        if phi:  # Phi3Attention: one projection, sliced q | k | v
            qkv = linear(p + "self_attn.qkv_proj", x)
            q, k, v = qkv[..., :H * hd], qkv[..., H * hd:(H + KV) * hd], qkv[..., (H + KV) * hd:]
        else:
            q, k, v = (linear(p + f"self_attn.{m}_proj", x) for m in "qkv")
        q, k, v = q.view(B, T, H, hd), k.view(B, T, KV, hd), v.view(B, T, KV, hd)
        if fam in ("qwen3", "gemma3_text"):  # q_norm/k_norm on (B, T, heads, hd), before the transpose and RoPE
            q, k = norm(q, w[p + "self_attn.q_norm.weight"], eps), norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        cos, sin = local if sliding[li] else glob
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        k = k[:, :, None].expand(B, KV, H // KV, T, hd).reshape(B, H, T, hd)
        v = v[:, :, None].expand(B, KV, H // KV, T, hd).reshape(B, H, T, hd)
        if gemma:
            scores = softcap(q @ k.transpose(2, 3) * c["query_pre_attn_scalar"] ** -0.5, c.get("attn_logit_softcapping"))
        else:
            scores = q @ k.transpose(2, 3) / math.sqrt(hd)
        att = torch.softmax(scores + masks[li], dim=-1)
        o = linear(p + "self_attn.o_proj", (att @ v).transpose(1, 2).reshape(B, T, H * hd))
        if gemma:  # Gemma2DecoderLayer: every sublayer output normed again before the residual add
            h = h + norm(o, w[p + "post_attention_layernorm.weight"], eps)
            x = norm(h, w[p + "pre_feedforward_layernorm.weight"], eps)
        else:
            h = h + o
            x = norm(h, w[p + "post_attention_layernorm.weight"], eps)
        if phi:  # Phi3MLP: gate, up = gate_up_proj(x).chunk(2)
            gate, up = linear(p + "mlp.gate_up_proj", x).chunk(2, dim=-1)
        else:
            gate, up = linear(p + "mlp.gate_proj", x), linear(p + "mlp.up_proj", x)
        m = linear(p + "mlp.down_proj", act(gate) * up)
        h = h + (norm(m, w[p + "post_feedforward_layernorm.weight"], eps) if gemma else m)
    x = norm(h, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if c["tie_word_embeddings"] else w["lm_head.weight"]
    logits = x @ head.T
    return softcap(logits, c.get("final_logit_softcapping")) if gemma else logits


def mean_loss(logits, labels, seg):
    tgt = labels[:, 1:].clone()
    valid = (tgt != IGNORE) & (seg[:, 1:] == seg[:, :-1]) & (seg[:, 1:] != 0)
    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    nll = -logp.gather(-1, tgt.clamp(min=0)[..., None])[..., 0]
    return (nll * valid).sum() / valid.sum()


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        raw = bytearray(data[e["data_offsets"][0]:e["data_offsets"][1]])
        if e["dtype"] == "F32":
            t = torch.frombuffer(raw, dtype=torch.float32)
        elif e["dtype"] == "BF16":
            t = (torch.frombuffer(raw, dtype=torch.int16).to(torch.int32) << 16).view(torch.float32)
        else:
            raise SystemExit(f"error: {path}: tensor {name} has dtype {e['dtype']} (expected F32 or BF16)")
        out[name] = t.reshape(e["shape"]).clone()
    return out


def golden(name, seed):
    c = FAMILIES[name]
    g = torch.Generator().manual_seed(seed)
    w = make_weights(c, g)
    T = 10
    ids = torch.randint(4, c["vocab_size"], (2, T), generator=g)
    seg = torch.tensor([[1, 1, 1, 1, 1, 1, 2, 2, 2, 2], [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]])
    pos = torch.tensor([[0, 1, 2, 3, 4, 5, 0, 1, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 0, 0]])
    ids[1, 8:] = 0
    labels = ids.clone()
    labels[0, :2] = IGNORE
    labels[1, 8:] = IGNORE
    lora = {}
    for key, W in w.items():
        mod = key[: -len(".weight")]
        if key.startswith("model.layers.") and key.endswith(".weight") and mod.split(".")[-1] in TARGETS:
            out_f, in_f = W.shape
            a = (torch.rand(RANK, in_f, generator=g) * 2 - 1) / math.sqrt(in_f)
            b = torch.randn(out_f, RANK, generator=g) * 0.05
            lora[mod] = (a.requires_grad_(), b.requires_grad_())
    logits = forward(c, w, lora, ALPHA / RANK, ids, pos, seg)
    loss = mean_loss(logits, labels, seg)
    loss.backward()
    # The same model with every layer attending fully: the test checks the window changed the result.
    full = dict(c, sliding_window=None, use_sliding_window=False)
    with torch.no_grad():
        logits_full = forward(full, w, lora, ALPHA / RANK, ids, pos, seg)
    out = os.path.join(GOLDEN, name)
    os.makedirs(os.path.join(out, "model"), exist_ok=True)
    with open(os.path.join(out, "model", "config.json"), "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(out, "model", "model.safetensors"), w, {k: "BF16" for k, v in w.items() if v.dim() == 2})
    inputs = {"input_ids": ids.float(), "labels": labels.float(), "position_ids": pos.float(), "segment_ids": seg.float()}
    expected = {"logits": logits.detach(), "logits_full_attention": logits_full, "loss": loss.detach().reshape(1)}
    for mod, (a, b) in lora.items():
        inputs[mod + ".lora_A.weight"], inputs[mod + ".lora_B.weight"] = a.detach(), b.detach()
        expected["grad." + mod + ".lora_A.weight"], expected["grad." + mod + ".lora_B.weight"] = a.grad, b.grad
    write_safetensors(os.path.join(out, "inputs.safetensors"), inputs, {})
    write_safetensors(os.path.join(out, "expected.safetensors"), expected, {})
    print(f"{name}: torch {torch.__version__}, loss {loss.item():.6f}, windows {layer_windows(c)}, {len(lora)} adapted")


def evaluate(model_dir, adapter_dir, batch_file):
    with open(os.path.join(model_dir, "config.json")) as f:
        c = json.load(f)
    w = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    with open(os.path.join(adapter_dir, "adapter_config.json")) as f:
        ac = json.load(f)
    r = ac["r"]
    scale = ac["lora_alpha"] / (math.sqrt(r) if ac.get("use_rslora") else r)
    if ac.get("use_dora"):
        raise SystemExit("error: " + adapter_dir + ": DoRA adapters are not evaluated by this reference")
    ad = read_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"))
    prefix = "base_model.model."
    lora = {}
    for key in ad:
        if key.endswith(".lora_A.weight"):
            mod = key[len(prefix): -len(".lora_A.weight")]
            if mod.split(".")[-1] not in ac["target_modules"]:
                raise SystemExit(f"error: {adapter_dir}: {key} is not one of target_modules {ac['target_modules']}")
            lora[mod] = (ad[key], ad[prefix + mod + ".lora_B.weight"])
    b = read_safetensors(batch_file)
    ids, labels = b["input_ids"].long(), b["labels"].long()
    pos, seg = b["position_ids"].long(), b["segment_ids"].long()
    with torch.no_grad():
        loss = mean_loss(forward(c, w, lora, scale, ids, pos, seg), labels, seg)
    print(json.dumps({"loss": loss.item(), "adapted_modules": len(lora)}))


if __name__ == "__main__":
    torch.set_num_threads(1)
    if len(sys.argv) >= 2 and sys.argv[1] == "golden":
        for i, fam in enumerate(FAMILIES):  # the seed is the family's place in FAMILIES: adding one leaves the others
            if len(sys.argv) == 2 or fam in sys.argv[2:]:
                golden(fam, 4321 + i)
    elif len(sys.argv) == 5 and sys.argv[1] == "eval":
        evaluate(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit("usage: families.py golden [NAME...] | families.py eval MODEL_DIR ADAPTER_DIR BATCH.safetensors")
