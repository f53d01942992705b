"""Experiment (issue 23): mimetic attention init (Trockman & Kolter 2023) against PyTorch's default on a tiny ViT
trained from scratch on a small MNIST subset.

The claim: initializing each head's query-key product near a positive multiple of the identity and the
value-output product near a negative one (W_q,h^T W_k,h ≈ 0.7 Z1 + 0.7 I, W_o W_v ≈ 0.4 Z2 - 0.4 I) makes a vanilla
ViT trained on little data learn faster and reach a higher accuracy (CIFAR-10 from scratch: over 5 points).

The model (SimpleViT-like, every attention an ``nn.MultiheadAttention``): 28x28 images cut into `patch` x `patch`
patches, Linear(patch², dim) + fixed 2-D sin-cos position embeddings, `depth` pre-LayerNorm
``nn.TransformerEncoderLayer`` (GELU MLP, dropout 0), final LayerNorm, mean over tokens, Linear(dim, 10).

- "default": the model exactly as PyTorch builds it after ``torch.manual_seed(seed)`` (in_proj Xavier uniform,
  out_proj and the other Linears Kaiming uniform(a=√5), zero attention biases);
- "mimetic": the same model and seed, then ``pyjinit.torch.mimetic_(model, seed=seed)`` — only the attention
  weights differ (paired runs).

Training: AdamW (lr 1e-3, weight decay 0.01), 50 warmup steps then cosine decay, batch 128, no augmentation,
the same batches for both inits of a seed; seeds 0..seeds-1 (model, mimetic draw and batch order). Test accuracy
on 5,000 test images after each epoch. At init the script also records the mean of trace(W_q,h^T W_k,h)/d and
trace(W_o W_v)/d over layers and heads, and the mean distance (in patches) between a token and what it attends
to in the first layer.

    python bench/experiments/mimetic.py            # docs/results/schemes/mimetic.json + figure
    python bench/experiments/mimetic.py --quick    # a smoke test (seconds)
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import common  # noqa: E402

INITS = ("default", "mimetic")


def sincos_2d(side: int, dim: int):
    """(side², dim) fixed 2-D sin-cos position embeddings (as SimpleViT's posemb_sincos_2d)."""
    import torch

    y, x = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    omega = 1.0 / (10000 ** (torch.arange(dim // 4) / (dim // 4 - 1)))
    y = y.flatten()[:, None] * omega[None, :]
    x = x.flatten()[:, None] * omega[None, :]
    return torch.cat((x.sin(), x.cos(), y.sin(), y.cos()), dim=1)


def vit(patch: int, dim: int, depth: int, heads: int, mlp: int):
    from torch import nn

    class TinyViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch, self.side = patch, 28 // patch
            self.embed = nn.Linear(patch * patch, dim)
            self.register_buffer("pos", sincos_2d(self.side, dim))
            self.blocks = nn.ModuleList(
                nn.TransformerEncoderLayer(dim, heads, mlp, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True) for _ in range(depth))
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, 10)

        def tokens(self, x):
            p, s = self.patch, self.side
            x = x.reshape(-1, s, p, s, p).permute(0, 1, 3, 2, 4).reshape(-1, s * s, p * p)
            return self.embed(x) + self.pos

        def forward(self, x):
            h = self.tokens(x)
            for b in self.blocks:
                h = b(h)
            return self.head(self.norm(h).mean(dim=1))

    return TinyViT()


def build(init: str, seed: int, cfg):
    import torch

    import pyjinit.torch as pt

    torch.manual_seed(seed)
    m = vit(cfg.patch, cfg.dim, cfg.depth, cfg.heads, cfg.mlp)
    if init == "mimetic":
        pt.mimetic_(m, seed=seed)
    return m


def init_stats(m, x) -> dict:
    """trace(W_q,h^T W_k,h)/d and trace(W_o W_v)/d (means over layers and heads), and the first layer's mean
    attention distance in patch units on the batch x."""
    import torch

    qk, vo = [], []
    for b in m.blocks:
        a = b.self_attn
        d, h = a.embed_dim, a.num_heads
        k = d // h
        w = a.in_proj_weight.detach().double()
        for j in range(h):
            qk.append(float(torch.trace(w[j * k:(j + 1) * k].T @ w[d + j * k:d + (j + 1) * k])) / d)
        vo.append(float(torch.trace(a.out_proj.weight.detach().double() @ w[2 * d:])) / d)
    with torch.no_grad():
        b = m.blocks[0]
        t = b.norm1(m.tokens(x))
        _, att = b.self_attn(t, t, t, need_weights=True, average_attn_weights=True)     # (B, n, n)
        s = m.side
        pos = torch.stack(torch.meshgrid(torch.arange(s), torch.arange(s), indexing="ij"), -1).reshape(-1, 2).float()
        dist = torch.cdist(pos, pos)
        mean_dist = float((att * dist).sum(-1).mean())
        self_w = float(att.diagonal(dim1=-2, dim2=-1).mean())
    return {"qk_trace_over_d": sum(qk) / len(qk), "vo_trace_over_d": sum(vo) / len(vo),
            "layer0_mean_attention_distance": mean_dist, "layer0_mean_self_attention": self_w}


def train(m, data, *, epochs, lr, seed, batch=128, warmup=50, wd=0.01, log_every=10) -> dict:
    import torch
    from torch import nn

    x, y, xt, yt = data
    opt = torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=wd)
    steps = epochs * (len(x) // batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda t: (t + 1) / warmup if t < warmup else 0.5 * (1 + math.cos(math.pi * (t - warmup) /
                                                                               max(1, steps - warmup))))
    loss_fn = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(seed)
    curve, acc, window, step = [], [], [], 0
    t0 = time.perf_counter()
    for _ in range(epochs):
        m.train()
        perm = torch.randperm(len(x), generator=g)
        for k in range(0, len(x) - batch + 1, batch):
            idx = perm[k:k + batch]
            loss = loss_fn(m(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            window.append(float(loss.detach()))
            step += 1
            if step % log_every == 0:
                curve.append([step, sum(window) / len(window)])
                window = []
        acc.append(common.evaluate(m, xt, yt)[0])
    test_acc, test_loss = common.evaluate(m, xt, yt)
    train_acc, train_loss = common.evaluate(m, x, y)
    return {"curve": curve, "epoch_test_acc": acc, "test_acc": test_acc, "test_loss": common.finite(test_loss),
            "train_acc": train_acc, "train_loss": common.finite(train_loss), "steps": step,
            "seconds": round(time.perf_counter() - t0, 1)}


def main():
    a = common.args(__doc__.splitlines()[0], lambda ap: (
        ap.add_argument("--patch", type=int, default=4), ap.add_argument("--dim", type=int, default=64),
        ap.add_argument("--depth", type=int, default=4), ap.add_argument("--heads", type=int, default=4),
        ap.add_argument("--mlp", type=int, default=128), ap.add_argument("--lr", type=float, default=1e-3),
        ap.add_argument("--epochs", type=int, default=8), ap.add_argument("--n-train", type=int, default=5000),
        ap.add_argument("--n-test", type=int, default=5000), ap.add_argument("--tag", default="")))
    common.setup(1)
    if a.quick:
        a.depth, a.epochs, a.n_train, a.n_test, a.seeds = 2, 1, 256, 256, 1
    data = common.mnist(a.n_train, a.n_test, seed=0)
    runs, t0 = [], time.perf_counter()
    for seed in range(a.seeds):
        for init in INITS:
            m = build(init, seed, a)
            stats = init_stats(m, data[0][:256])
            r = train(m, data, epochs=a.epochs, lr=a.lr, seed=seed)
            runs.append({"init": init, "seed": seed, "init_stats": stats, **r})
            print(f"{init:8s} seed {seed}: test acc {r['test_acc']}, per epoch {r['epoch_test_acc']}, train loss "
                  f"{r['train_loss']:.4f}, init {stats}, {r['seconds']} s", flush=True)
    summary = {}
    for init in INITS:
        rs = [r for r in runs if r["init"] == init]
        m, s = common.mean_std([r["test_acc"] for r in rs])
        e1 = common.mean_std([r["epoch_test_acc"][0] for r in rs])
        summary[init] = {"test_acc_mean": m, "test_acc_std": s, "test_acc": [r["test_acc"] for r in rs],
                         "epoch1_test_acc_mean": e1[0], "epoch1_test_acc_std": e1[1],
                         "epoch_test_acc_mean": [sum(v) / len(v) for v in zip(*[r["epoch_test_acc"] for r in rs])],
                         "train_loss": [r["train_loss"] for r in rs], "train_acc": [r["train_acc"] for r in rs],
                         "init_stats": [r["init_stats"] for r in rs]}
    paired = [next(r for r in runs if r["init"] == "mimetic" and r["seed"] == s)["test_acc"] -
              next(r for r in runs if r["init"] == "default" and r["seed"] == s)["test_acc"] for s in range(a.seeds)]
    config = {"patch": a.patch, "tokens": (28 // a.patch) ** 2, "dim": a.dim, "depth": a.depth, "heads": a.heads,
              "mlp": a.mlp, "pos": "fixed 2-D sincos", "norm": "pre-LN", "pool": "mean", "optimizer": "AdamW",
              "lr": a.lr, "weight_decay": 0.01, "warmup_steps": 50, "schedule": "cosine", "batch": 128,
              "epochs": a.epochs, "n_train": a.n_train, "n_test": len(data[2]), "seeds": a.seeds, "quick": a.quick,
              "mimetic": {"alpha1": 0.7, "beta1": 0.7, "alpha2": 0.4, "beta2": 0.4}}
    result = {"experiment": "mimetic vs default attention init, tiny ViT on MNIST", "config": config,
              "summary": summary, "paired_test_acc_diff_mimetic_minus_default": paired, "runs": runs,
              "seconds": round(time.perf_counter() - t0, 1)}
    path = common.save(result, ("mimetic_quick" if a.quick else "mimetic") + a.tag, a.out)
    print("wrote", path)
    for init, s in summary.items():
        print(f"{init:8s} test acc {s['test_acc_mean']:.4f} ± {s['test_acc_std']:.4f}, epoch 1 "
              f"{s['epoch1_test_acc_mean']:.4f} ± {s['epoch1_test_acc_std']:.4f}")
    print("paired differences (mimetic - default):", paired)
    if not a.no_figure and not a.quick:
        print("wrote", figure(runs, a))
    return result


def figure(runs, a):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    colours = dict(zip(INITS, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for init in INITS:
        for i, r in enumerate(r for r in runs if r["init"] == init):
            s, v = zip(*r["curve"])
            axes[0].plot(s, v, color=colours[init], lw=1.1, alpha=0.8, label=init if i == 0 else None)
            axes[1].plot(range(1, len(r["epoch_test_acc"]) + 1), [100 * v for v in r["epoch_test_acc"]],
                         color=colours[init], marker="o", ms=3, lw=1, alpha=0.8, label=init if i == 0 else None)
    axes[0].set_yscale("log")
    axes[0].set_xlabel("step")
    axes[0].set_ylabel("training loss")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("test accuracy (%)")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.suptitle(f"tiny ViT ({a.depth} layers, dim {a.dim}, {a.heads} heads, {a.patch}x{a.patch} patches), "
                 f"{a.n_train} MNIST images, AdamW lr {a.lr}, {a.seeds} seeds", fontsize=10)
    fig.tight_layout()
    path = common.FIGURES / f"schemes_mimetic{a.tag}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    main()
