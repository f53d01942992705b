"""Shared harness of the model-aware scheme experiments (bench/experiments/*.py): one CPU thread, MNIST
subsets from ``pyjinit.training.datasets``, a plain training loop that records the loss curve and says when a
run diverged, JSON results and loss-curve figures.

Used by residual.py and gpt_depth.py (issue 23); other experiments may import it (``from common import ...``
with bench/experiments on sys.path, or ``bench.experiments.common``).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "docs" / "results" / "schemes"
FIGURES = ROOT / "docs" / "figures"


def setup(threads: int = 1):
    """torch on `threads` CPU threads (default 1: the machine is shared); returns torch."""
    import torch

    torch.set_num_threads(threads)
    return torch


def args(description: str, extra=None):
    """The common command line: --quick (a smoke test of a few seconds), --seeds, --out (a JSON path)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not a result")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", default=None, help="results JSON (default docs/results/schemes/<name>.json)")
    ap.add_argument("--no-figure", action="store_true")
    if extra:
        extra(ap)
    return ap.parse_args()


def mnist(n_train: int, n_test: int, seed: int = 0):
    """(x_train, y_train, x_test, y_test) torch tensors: a fixed random subset (numpy seed `seed`) of MNIST's
    training and test sets, pixels in [0, 1], flattened to 784."""
    import numpy as np
    import torch

    from pyjinit.training.datasets import load_mnist

    x, y, xt, yt = load_mnist(download_ok=False)
    rng = np.random.default_rng(seed)
    i = rng.permutation(len(x))[:n_train]
    j = rng.permutation(len(xt))[:n_test]
    return (torch.from_numpy(x[i]), torch.from_numpy(y[i]).long(), torch.from_numpy(xt[j]),
            torch.from_numpy(yt[j]).long())


def finite(v: float) -> float | None:
    """`v`, or None for NaN/Inf (JSON has no NaN)."""
    return v if v is not None and math.isfinite(v) else None


def train_classifier(model, data, *, epochs: int, lr: float, batch: int = 128, momentum: float = 0.9,
                     seed: int = 0, log_every: int = 10, clip=None) -> dict:
    """SGD (momentum) on cross-entropy; the batch order from torch.Generator(seed). Returns the training-loss
    curve (mean over each `log_every` steps), the test accuracy after each epoch, the final test accuracy and
    loss, and ``diverged`` (a non-finite loss; training stops there)."""
    import torch
    from torch import nn

    x, y, xt, yt = data
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(seed)
    curve, acc, window, step, diverged = [], [], [], 0, False
    t0 = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=g)
        for k in range(0, len(x) - batch + 1, batch):
            idx = perm[k:k + batch]
            loss = loss_fn(model(x[idx]), y[idx])
            if not torch.isfinite(loss):
                diverged = True
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            window.append(float(loss.detach()))
            step += 1
            if step % log_every == 0:
                curve.append([step, sum(window) / len(window)])
                window = []
        if diverged:
            break
        acc.append(evaluate(model, xt, yt)[0])
    test_acc, test_loss = evaluate(model, xt, yt) if not diverged else (None, None)
    return {"curve": curve, "epoch_test_acc": acc, "test_acc": test_acc, "test_loss": finite(test_loss),
            "diverged": diverged, "steps": step, "seconds": round(time.perf_counter() - t0, 1)}


def evaluate(model, x, y, batch: int = 1000) -> tuple:
    """(accuracy, mean cross-entropy) of `model` on (x, y), in eval mode without gradients."""
    import torch
    from torch.nn import functional as F

    model.eval()
    correct, total = 0, 0.0
    with torch.no_grad():
        for k in range(0, len(x), batch):
            out = model(x[k:k + batch])
            correct += int((out.argmax(1) == y[k:k + batch]).sum())
            total += float(F.cross_entropy(out, y[k:k + batch], reduction="sum"))
    return correct / len(x), total / len(x)


def environment() -> dict:
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "machine": platform.machine(), "cpus": os.cpu_count()}


def save(result: dict, name: str, out=None) -> Path:
    """Write `result` (with the environment) to `out` or docs/results/schemes/<name>.json; returns the path."""
    path = Path(out) if out else RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    result = {**result, "environment": environment()}
    path.write_text(json.dumps(result, indent=1) + "\n")
    return path


def plot_curves(groups: dict, path, *, title: str, ylabel: str = "training loss", logy: bool = False,
                ylim=None) -> Path | None:
    """One line per run, one colour per group: `groups` {label: [curve, ...]}, a curve [[step, value], ...].
    Returns the figure's path, or None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for c, (label, curves) in zip(colours, groups.items()):
        for i, cur in enumerate(curves):
            if cur:
                s, v = zip(*cur)
                ax.plot(s, v, color=c, alpha=0.8, lw=1.2, label=label if i == 0 else None)
            elif i == 0:
                ax.plot([], [], color=c, label=f"{label} (diverged at once)")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    if logy:
        ax.set_yscale("log")
    if ylim:
        ax.set_ylim(*ylim)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def mean_std(values) -> tuple:
    """(mean, sample std) of the finite values, (None, None) if none."""
    v = [x for x in values if x is not None and math.isfinite(x)]
    if not v:
        return None, None
    m = sum(v) / len(v)
    return m, (math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0)
