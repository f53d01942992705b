"""Experiment (issue 23, Xiao et al. 2018): a vanilla tanh CNN of >= 100 convolution layers (16 channels, 3x3,
circular padding, no normalization, no residuals) trains on MNIST with delta-orthogonal convolutions and not with
He or Xavier (Glorot) Gaussian kernels.

MNIST is average-pooled 4x4 to 7x7 and subsampled (the CPU budget: 2 shared cores); every run uses the same data,
the same batches and the same optimizer (SGD with momentum 0.9, lr 0.003, batch 32, 150 steps), only the initializer differs.
Seeds >= 3 (the seed is the model's pyjinit seed and the batch order's). A supplementary sweep gives He and Xavier
(seed 0) the learning rates 0.001 and 0.01 too, so a failure is not just a learning rate tuned for
delta-orthogonal.

    python bench/experiments/delta_orthogonal.py            # the full run (~10 min on one core)
    python bench/experiments/delta_orthogonal.py --quick    # smoke: 12 layers, a few steps, 1 seed

Writes docs/results/schemes/delta_orthogonal{,_quick}.json and (full run) docs/figures/schemes_delta_orthogonal.png.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

INITS = ("delta_orthogonal", "he", "xavier")


def data(n_train, n_test, seed=0):
    """MNIST pooled to 7x7, standardized; a fixed subset (numpy Generator(seed))."""
    from pyjinit.training.datasets import load_mnist

    xtr, ytr, xte, yte = load_mnist()
    rng = np.random.default_rng(seed)
    i, j = rng.choice(len(xtr), n_train, replace=False), rng.choice(len(xte), n_test, replace=False)

    def pool(x):
        return x.reshape(-1, 1, 7, 4, 7, 4).mean(axis=(3, 5))

    mu, sd = pool(xtr[i]).mean(), pool(xtr[i]).std()
    f = lambda x: torch.from_numpy(((pool(x) - mu) / sd).astype(np.float32))  # noqa: E731
    return f(xtr[i]), torch.from_numpy(ytr[i]), f(xte[j]), torch.from_numpy(yte[j])


class TanhCNN(nn.Module):
    """depth convolutions 3x3 (the first 1 -> width channels), circular padding, tanh after each; a Linear
    readout of the flattened last activation (width x 7 x 7)."""

    def __init__(self, depth, width):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(1 if l == 0 else width, width, 3, padding=1, padding_mode="circular")
                                    for l in range(depth)])
        self.readout = nn.Linear(width * 49, 10)

    def forward(self, x):
        for c in self.convs:
            x = torch.tanh(c(x))
        return self.readout(x.flatten(1))


def build(init, depth, width, seed):
    from pyjinit.frameworks.torch import initialize
    from pyjinit.schemes.conv import delta_orthogonal_

    m = TanhCNN(depth, width)
    if init == "delta_orthogonal":
        delta_orthogonal_(m, seed=seed, gain=1.0, other="lecun")
    elif init == "he":                   # kaiming_normal: N(0, 2/fan_in)
        initialize(m, weight="kaiming_normal", bias="zeros", seed=seed)
    else:                                # xavier_normal: N(0, 2/(fan_in + fan_out)) = N(0, 1/fan_in) here
        initialize(m, weight="xavier_normal", bias="zeros", seed=seed)
    return m


def evaluate(m, x, y):
    with torch.no_grad():
        out = m(x)
        return float(nn.functional.cross_entropy(out, y)), float((out.argmax(1) == y).float().mean())


def run(init, seed, depth, width, steps, batch, lr, d, eval_every):
    xtr, ytr, xte, yte = d
    m = build(init, depth, width, seed)
    opt = torch.optim.SGD(m.parameters(), lr=lr, momentum=0.9)
    g = torch.Generator().manual_seed(seed)
    curve = []
    t0 = time.time()
    for step in range(steps + 1):
        if step % eval_every == 0 or step == steps:
            curve.append((step, *evaluate(m, xte, yte)))
        if step == steps:
            break
        idx = torch.randint(len(xtr), (batch,), generator=g)
        loss = nn.functional.cross_entropy(m(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    tr_loss, tr_acc = evaluate(m, xtr[:1000], ytr[:1000])
    return {"init": init, "seed": seed, "test_curve": curve, "final_test_loss": curve[-1][1],
            "final_test_acc": curve[-1][2], "final_train_loss": tr_loss, "final_train_acc": tr_acc,
            "seconds": time.time() - t0}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 12 layers, 20 steps, 1 seed")
    ap.add_argument("--depth", type=int, default=100)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", default=None, help="folder of the results JSON (default docs/results/schemes)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    q = args.quick
    depth, width, batch, lr = (12 if q else args.depth), 16, 32, 0.003
    steps = args.steps or (20 if q else 150)
    seeds = range(1 if q else args.seeds)
    d = data(512 if q else 4096, 256 if q else 1000)
    runs = []
    for seed in seeds:
        for init in INITS:
            r = run(init, seed, depth, width, steps, batch, lr, d, eval_every=max(steps // 10, 1))
            print(f"{init:17s} seed {seed}: test acc {r['final_test_acc']:.3f} loss {r['final_test_loss']:.3f} "
                  f"train acc {r['final_train_acc']:.3f} ({r['seconds']:.0f} s)", flush=True)
            runs.append(r)
    extra = []
    for init in ([] if q else ["he", "xavier"]):
        for other_lr in (0.001, 0.01):
            r = run(init, 0, depth, width, steps, batch, other_lr, d, eval_every=max(steps // 10, 1))
            r["lr"] = other_lr
            print(f"{init:17s} seed 0 lr {other_lr}: test acc {r['final_test_acc']:.3f} ({r['seconds']:.0f} s)",
                  flush=True)
            extra.append(r)
    summary = {}
    for init in INITS:
        acc = [r["final_test_acc"] for r in runs if r["init"] == init]
        summary[init] = {"test_acc_mean": float(np.mean(acc)), "test_acc_min": float(np.min(acc)),
                         "test_acc_max": float(np.max(acc))}
    out = {"experiment": "delta_orthogonal", "paper": "Xiao et al. 2018, arXiv:1806.05393",
           "config": {"depth": depth, "width": width, "kernel": 3, "padding": "circular", "activation": "tanh",
                      "input": "MNIST avg-pooled to 7x7", "n_train": len(d[0]), "n_test": len(d[2]), "batch": batch,
                      "optimizer": "SGD momentum 0.9", "lr": lr, "steps": steps, "seeds": list(seeds),
                      "torch_threads": 1, "quick": q},
           "summary": summary, "runs": runs, "other_lrs": extra}
    res = Path(args.out) if args.out else ROOT / "docs" / "results" / "schemes"
    res.mkdir(parents=True, exist_ok=True)
    path = res / f"delta_orthogonal{'_quick' if q else ''}.json"
    path.write_text(json.dumps(out, indent=1))
    print("wrote", path)
    if not q:
        figure(out, ROOT / "docs" / "figures" / "schemes_delta_orthogonal.png")
    return out


def figure(out, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(9, 3.4))
    colors = {"delta_orthogonal": "C0", "he": "C3", "xavier": "C2"}
    for r in out["runs"]:
        c = np.array(r["test_curve"])
        lab = r["init"] if r["seed"] == 0 else None
        ax[0].plot(c[:, 0], c[:, 1], color=colors[r["init"]], label=lab, alpha=0.8)
        ax[1].plot(c[:, 0], c[:, 2], color=colors[r["init"]], label=lab, alpha=0.8)
    ax[0].set(xlabel="SGD step", ylabel="test loss", title=f"tanh CNN, {out['config']['depth']} conv layers")
    ax[1].set(xlabel="SGD step", ylabel="test accuracy", ylim=(0, 1))
    ax[1].axhline(0.1, color="gray", lw=0.5, ls="--")
    ax[0].legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print("wrote", path.relative_to(ROOT))


if __name__ == "__main__":
    main()
