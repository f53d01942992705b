"""Experiment (issue 23, Yang et al. 2022, Tensor Programs V): under μP the best learning rate of a sweep stays put
across widths; under the standard parametrization (SP) it shifts.

A ReLU MLP 196 -> w -> w -> 10 (MNIST average-pooled to 14x14) trained with Adam at widths 32 (the base), 128 and
512 over 5 learning rates 2^-12 .. 2^-4, 3 seeds, the same batches for every run. SP: LeCun normal weights
(N(0, 1/fan_in)), zero biases, one learning rate. μP: ``pyjinit.schemes.mup.mup_init_`` (the readout's std shrunk
by 1/sqrt(w/32)) and ``mup_param_groups`` (hidden and readout LR divided by w/32); at w = 32 both are the same
model. The metric is the training loss after the run (on a fixed 2048-image subset of the training set), as in
the paper's Figure 1. Also a coordinate check (widths 2^6 .. 2^10): RMS of the last hidden layer and of the
logits after init and after 3 Adam steps.

    python bench/experiments/mup.py            # the full run (a few minutes on one core)
    python bench/experiments/mup.py --quick    # smoke: 2 widths, 2 LRs, 1 seed, 20 steps

Writes docs/results/schemes/mup{,_quick}.json and (full run) docs/figures/schemes_mup.png.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

BASE = 32


def data(n_train, seed=0):
    from pyjinit.training.datasets import load_mnist

    xtr, ytr, _, _ = load_mnist()
    i = np.random.default_rng(seed).choice(len(xtr), n_train, replace=False)
    x = xtr[i].reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(-1, 196)
    x = (x - x.mean()) / x.std()
    return torch.from_numpy(x.astype(np.float32)), torch.from_numpy(ytr[i])


def mlp(w, d_in=196):
    return nn.Sequential(nn.Linear(d_in, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(), nn.Linear(w, 10))


def make(param, w, lr, seed, d_in=196):
    """(model, optimizer) of parametrization `param` ("sp" or "mup") at width w."""
    from pyjinit.frameworks.torch import initialize
    from pyjinit.schemes.mup import mup_init_, mup_param_groups

    m, base = mlp(w, d_in), mlp(BASE, d_in)
    if param == "mup":
        mup_init_(m, base, seed=seed, weight="lecun")
        return m, torch.optim.Adam(mup_param_groups(m, base, lr=lr))
    initialize(m, weight="lecun", bias="zeros", seed=seed)
    return m, torch.optim.Adam(m.parameters(), lr=lr)


def train(param, w, lr, seed, d, steps, batch):
    x, y = d
    m, opt = make(param, w, lr, seed)
    g = torch.Generator().manual_seed(1000 + seed)
    for _ in range(steps):
        idx = torch.randint(len(x), (batch,), generator=g)
        loss = nn.functional.cross_entropy(m(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        final = float(nn.functional.cross_entropy(m(x[:2048]), y[:2048]))
    return final if math.isfinite(final) else None


def coord_check(widths, seeds, lr=1e-2, steps=3, d_in=32):
    """RMS of the last hidden activation and of the logits, after init and after `steps` Adam steps (lr), on 64
    fixed Gaussian inputs with fixed random labels, averaged over seeds."""
    from pyjinit.inits.registry import init

    x = torch.from_numpy(init("normal", (64, d_in), seed=5, backend="numpy"))
    y = torch.from_numpy((init("uniform", (64,), seed=6, backend="numpy") * 10).astype("int64"))
    out = {}
    for param in ("sp", "mup"):
        rows = []
        for w in widths:
            acc = []
            for s in seeds:
                m, opt = make(param, w, lr, s, d_in)
                with torch.no_grad():
                    r0 = (float(m[:4](x).pow(2).mean().sqrt()), float(m(x).pow(2).mean().sqrt()))
                for _ in range(steps):
                    loss = nn.functional.cross_entropy(m(x), y)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                with torch.no_grad():
                    r1 = (float(m[:4](x).pow(2).mean().sqrt()), float(m(x).pow(2).mean().sqrt()))
                acc.append(r0 + r1)
            a = np.mean(acc, axis=0)
            rows.append({"width": w, "hidden_rms_init": a[0], "logit_rms_init": a[1], "hidden_rms_after": a[2],
                         "logit_rms_after": a[3]})
        out[param] = rows
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", default=None, help="folder of the results JSON (default docs/results/schemes)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    q = args.quick
    widths = (32, 128) if q else (32, 128, 512)
    log2_lrs = (-8, -6) if q else (-12, -10, -8, -6, -4)
    seeds = range(1 if q else args.seeds)
    steps, batch = (20 if q else 300), 64
    d = data(2048 if q else 8192)
    t0 = time.time()
    sweep = {}
    for param in ("sp", "mup"):
        for w in widths:
            for e in log2_lrs:
                losses = [train(param, w, 2.0 ** e, s, d, steps, batch) for s in seeds]
                ok = [v for v in losses if v is not None]
                mean = float(np.mean(ok)) if len(ok) == len(losses) else None
                sweep.setdefault(param, {}).setdefault(str(w), {})[str(e)] = {"losses": losses, "mean": mean}
                print(f"{param:3s} width {w:4d} lr 2^{e:3d}: loss {mean if mean is None else round(mean, 4)}",
                      flush=True)
    best = {p: {w: min((v["mean"] if v["mean"] is not None else math.inf, int(e)) for e, v in r.items())[1]
                for w, r in sweep[p].items()} for p in sweep}
    cc = coord_check((64, 128, 256, 512) if q else (64, 128, 256, 512, 1024), seeds)
    out = {"experiment": "mup", "paper": "Yang et al. 2022, Tensor Programs V, arXiv:2203.03466",
           "config": {"model": "MLP 196-w-w-10 ReLU", "base_width": BASE, "widths": list(widths),
                      "log2_lrs": list(log2_lrs), "optimizer": "Adam", "steps": steps, "batch": batch,
                      "n_train": len(d[0]), "metric": "training loss (2048 fixed training images) after the run",
                      "seeds": list(seeds), "torch_threads": 1, "quick": q},
           "sweep": sweep, "best_log2_lr": best, "coord_check": cc, "seconds": time.time() - t0}
    res = Path(args.out) if args.out else ROOT / "docs" / "results" / "schemes"
    res.mkdir(parents=True, exist_ok=True)
    path = res / f"mup{'_quick' if q else ''}.json"
    path.write_text(json.dumps(out, indent=1))
    print("best log2 lr:", best)
    print("wrote", path)
    if not q:
        figure(out, ROOT / "docs" / "figures" / "schemes_mup.png")
    return out


def figure(out, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(12, 3.4))
    for i, p in enumerate(("sp", "mup")):
        for w, r in out["sweep"][p].items():
            e = [int(k) for k in r]
            ax[i].plot(e, [v["mean"] if v["mean"] is not None else np.nan for v in r.values()], "o-",
                       label=f"width {w}")
        ax[i].set(xlabel="log2 learning rate (Adam)", ylabel="training loss",
                  title={"sp": "standard parametrization", "mup": "μP"}[p])
        ax[i].set_yscale("log")
        ax[i].legend()
    for p, ls in (("sp", "--"), ("mup", "-")):
        rows = out["coord_check"][p]
        ax[2].plot([r["width"] for r in rows], [r["logit_rms_after"] for r in rows], ls, marker="o",
                   label=f"{p}: logits after 3 steps")
        ax[2].plot([r["width"] for r in rows], [r["hidden_rms_after"] for r in rows], ls, marker="s",
                   label=f"{p}: hidden after 3 steps")
    ax[2].set(xscale="log", yscale="log", xlabel="width", ylabel="RMS", title="coordinate check")
    ax[2].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print("wrote", path.relative_to(ROOT))


if __name__ == "__main__":
    main()
