#!/usr/bin/python3
"""Goldens for DoRA, LoRA+, GaLore and full fine-tuning on reference.py's tiny LLaMA, batch and LoRA weights.

Written from the papers and the upstream code as docs/methods.md reads them (not from the Java trainer):
  DoRA   (§2)  PEFT tuners/lora/dora.py: m initialised to ||W + s·B·A|| over the input dimension (one per output feature),
               y = base(x) + (g - 1)·(base(x) - b) + g·s·B(A(x)), g = m / n, n = ||W + s·(B·A).detach()||.detach()
  LoRA+  (§3)  PEFT optimizers/loraplus.py groups (lora_B and 1-D params at lr·ratio), torch.optim.AdamW
  GaLore (§4)  galore_torch GaLoreAdamW, proj_type std: projector from the SVD of the gradient at steps 0, T, 2T...,
               Adam moments in the compact space (kept across a refresh), update projected back times scale, weight decay
               after the update; every other parameter with torch.optim.AdamW (§4 "plain AdamW in a separate group")
  Full         every parameter with torch.optim.AdamW; 2-D weights decay, norms and biases do not
Writes golden/<method>/settings.json (hyper-parameters), inputs.safetensors (DoRA's magnitudes), expected.safetensors.
Run: /usr/bin/python3 tools/reference/methods.py   (Debian python3-torch; CI only reads the committed files)
"""
import json
import math
import os
import sys

import torch

import reference as ref

BETAS, EPS = (0.9, 0.999), 1e-8  # torch.optim.AdamW's defaults, which are ours
SETTINGS = {
    "dora": {"rank": ref.RANK, "alpha": ref.ALPHA},
    "lora-plus": {"rank": ref.RANK, "alpha": ref.ALPHA, "ratio": 16.0, "learningRate": 2e-3, "weightDecay": 0.1,
                  "steps": 2},
    "galore": {"rank": 8, "updateProjectionGap": 2, "scale": 0.25, "learningRate": 1e-2, "weightDecay": 0.1, "steps": 3},
    "full": {"learningRate": 1e-2, "weightDecay": 0.1, "steps": 2},
}


def write(method, expected, inputs=None):
    out = os.path.join(ref.OUT, method)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "settings.json"), "w") as f:
        json.dump(SETTINGS[method], f, indent=2, sort_keys=True)
    ref.write_safetensors(os.path.join(out, "expected.safetensors"), expected, {})
    if inputs is not None:
        ref.write_safetensors(os.path.join(out, "inputs.safetensors"), inputs, {})


def row_norm(w):
    """PEFT DoraLinearLayer.get_weight_norm: L2 over dim 1 of the [out, in] weight, one value per output feature."""
    return torch.linalg.norm(w, dim=1)


def dora(w, batch, lora, g):
    ids, labels, pos, seg = batch
    s = ref.ALPHA / ref.RANK
    # PEFT creates m after the LoRA init (B = 0), so m starts at ||W||: the layer is a no-op.
    init = {mod: row_norm(w[mod + ".weight"]) for mod in lora}
    # A trained-looking state: m = ||W + s·B·A|| (PEFT's init formula for a non-zero B) off by up to ~10% per feature, so
    # that g != 1 and both the (g - 1)·(base - b) term and the gradient of m matter.
    mag = {mod: (row_norm(w[mod + ".weight"] + s * b @ a) * (1 + 0.1 * torch.randn(b.shape[0], generator=g)))
           .requires_grad_() for mod, (a, b) in lora.items()}
    params = {mod: (a.clone().requires_grad_(), b.clone().requires_grad_()) for mod, (a, b) in lora.items()}

    def linear(name, x):
        y = ref.base_linear(w, name, x)
        if name not in params:
            return y
        a, b = params[name]
        weight = w[name + ".weight"]
        lora_weight = b @ a
        weight_norm = row_norm(weight + s * lora_weight.detach()).detach()
        scale = (mag[name] / weight_norm).view(1, -1)
        base = y - w[name + ".bias"] if name + ".bias" in w else y
        return y + (scale - 1) * base + scale * ((x @ a.T) @ b.T) * s

    logits = ref.forward(w, None, ids, pos, seg, linear)
    loss = ref.mean_loss(logits, labels, seg)
    loss.backward()
    expected = {"logits": logits.detach(), "loss": loss.detach().reshape(1)}
    inputs = {}
    for mod, (a, b) in params.items():
        inputs[mod + ".lora_magnitude_vector"] = mag[mod].detach()
        expected["init." + mod + ".lora_magnitude_vector"] = init[mod]
        expected["grad." + mod + ".lora_A.weight"] = a.grad
        expected["grad." + mod + ".lora_B.weight"] = b.grad
        expected["grad." + mod + ".lora_magnitude_vector"] = mag[mod].grad
    write("dora", expected, inputs)
    return loss.item()


def train(w, batch, named, linear, optimizer_step, steps):
    """`steps` steps on the same batch with the model weights `w` and the trainable `named` (name -> tensor, may be `w`);
    returns the losses and the step-0 gradients (name -> tensor)."""
    ids, labels, pos, seg = batch
    losses, grads0 = [], None
    for _ in range(steps):
        for p in named.values():
            p.grad = None
        loss = ref.mean_loss(ref.forward(w, None, ids, pos, seg, linear(named)), labels, seg)
        loss.backward()
        if grads0 is None:
            grads0 = {n: p.grad.clone() for n, p in named.items()}
        with torch.no_grad():
            optimizer_step()
        losses.append(loss.item())
    return torch.tensor(losses), grads0


def lora_plus(w, batch, lora):
    cfg = SETTINGS["lora-plus"]
    named = {}
    for mod, (a, b) in lora.items():
        named[mod + ".lora_A.weight"] = a.clone().requires_grad_()
        named[mod + ".lora_B.weight"] = b.clone().requires_grad_()
    # create_loraplus_optimizer: lora_B or ndim == 1 -> groupB (lr·ratio); the rest -> groupA (lr); both decay here.
    group_b = [p for n, p in named.items() if "lora_B" in n or p.dim() == 1]
    group_a = [p for n, p in named.items() if not ("lora_B" in n or p.dim() == 1)]
    lr, wd = cfg["learningRate"], cfg["weightDecay"]
    opt = torch.optim.AdamW([{"params": group_a, "lr": lr, "weight_decay": wd},
                             {"params": group_b, "lr": lr * cfg["ratio"], "weight_decay": wd}], betas=BETAS, eps=EPS)

    def linear(p):
        return ref.lora_linear(w, {m: (p[m + ".lora_A.weight"], p[m + ".lora_B.weight"]) for m in lora})

    losses, _ = train(w, batch, named, linear, opt.step, cfg["steps"])
    expected = {"loss": losses}
    expected.update({"after." + n: p.detach() for n, p in named.items()})
    write("lora-plus", expected)
    return losses


def full_parameters(w):
    return {n: t.clone().requires_grad_() for n, t in w.items()}


def plain_linear(p):
    return lambda name, x: ref.base_linear(p, name, x)


def adamw_by_dimension(params, lr, wd):
    """torch.optim.AdamW; 2-D weights with weight decay, norms and biases without (HF Trainer's rule for these names)."""
    return torch.optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": wd},
                              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}],
                             lr=lr, betas=BETAS, eps=EPS)


def full(w, batch):
    cfg = SETTINGS["full"]
    named = full_parameters(w)
    opt = adamw_by_dimension(list(named.values()), cfg["learningRate"], cfg["weightDecay"])
    losses, grads0 = train(named, batch, named, plain_linear, opt.step, cfg["steps"])
    expected = {"loss": losses}
    expected.update({"grad." + n: t for n, t in grads0.items()})
    expected.update({"after." + n: p.detach() for n, p in named.items()})
    write("full", expected)
    return losses


def canonical_signs(vectors):
    """Each row's largest-|.| entry made positive (sklearn's svd_flip rule): an SVD's singular vectors are unique only up to
    sign, and GaLore's moments outlive a refresh, so after one the update depends on the sign LAPACK happened to pick.
    Returns the rows and the smallest margin |top| - max |entry of the other sign| (how safely the rule decides)."""
    idx = vectors.abs().argmax(dim=1)
    top = vectors.gather(1, idx[:, None])
    other = torch.where(vectors * top.sign() < 0, vectors.abs(), torch.zeros_like(vectors)).max(dim=1).values
    return vectors * top.sign(), (top.abs()[:, 0] - other).min().item()


class GaloreMatrix:
    """galore_torch GaLoreAdamW.step for one 2-D weight with GaLoreProjector proj_type std."""

    def __init__(self, cfg):
        self.rank, self.gap, self.scale = cfg["rank"], cfg["updateProjectionGap"], cfg["scale"]
        self.t, self.basis, self.m, self.v = 0, None, None, None
        self.margins, self.gaps = [], []

    def project(self, g):
        return g @ self.basis.T if self.right else self.basis.T @ g

    def back(self, n):
        return (n @ self.basis if self.right else self.basis @ n) * self.scale

    def step(self, p, g, lr, wd):
        if self.t % self.gap == 0:
            u, s, vh = torch.linalg.svd(g.float(), full_matrices=False)
            self.right = g.shape[0] >= g.shape[1]  # std: keep the basis of the smaller side
            r = self.rank
            if self.right:
                self.basis, margin = canonical_signs(vh[:r])                   # Q (r, n)
            else:
                cols, margin = canonical_signs(u[:, :r].T)
                self.basis = cols.T                                             # P (m, r)
            self.margins.append(margin)
            self.gaps.append((s[r - 1] / s[r]).item())
        rg = self.project(g)
        if self.m is None:
            self.m, self.v = torch.zeros_like(rg), torch.zeros_like(rg)
        self.t += 1
        b1, b2 = BETAS
        self.m.mul_(b1).add_(rg, alpha=1 - b1)
        self.v.mul_(b2).addcmul_(rg, rg, value=1 - b2)
        step_size = lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        p.add_(self.back(self.m / (self.v.sqrt() + EPS)), alpha=-step_size)
        if wd > 0:
            p.add_(p, alpha=-lr * wd)


def galore(w, batch):
    cfg = SETTINGS["galore"]
    named = full_parameters(w)
    # torchrun_main.py: the weights of nn.Linear modules under attn / mlp; the rest (embeddings, norms, biases, lm_head).
    targeted = {n: GaloreMatrix(cfg) for n in named if n.endswith(".weight") and n.split(".")[-2] in ref.TARGETS}
    rest = adamw_by_dimension([p for n, p in named.items() if n not in targeted], cfg["learningRate"], cfg["weightDecay"])

    def step():
        rest.step()
        for n, matrix in targeted.items():
            matrix.step(named[n], named[n].grad, cfg["learningRate"], cfg["weightDecay"])

    losses, _ = train(named, batch, named, plain_linear, step, cfg["steps"])
    expected = {"loss": losses}
    expected.update({"after." + n: p.detach() for n, p in named.items()})
    write("galore", expected)
    margin = min(min(m.margins) for m in targeted.values())
    gap = min(min(m.gaps) for m in targeted.values())
    print(f"galore: {len(targeted)} projected weights, smallest sign margin {margin:.3g}, "
          f"smallest s_r/s_r+1 {gap:.4f}")
    return losses


def main():
    w, batch, lora, g = ref.setup()
    print(f"dora: loss {dora(w, batch, lora, g):.6f}")
    print(f"lora-plus: losses {lora_plus(w, batch, lora).tolist()}")
    print(f"galore: losses {galore(w, batch).tolist()}")
    print(f"full: losses {full(w, batch).tolist()}")
    print(f"torch {torch.__version__} -> {os.path.abspath(ref.OUT)}/{{dora,lora-plus,galore,full}}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
