"""Figures of training runs and comparisons: the only module that imports matplotlib."""
from __future__ import annotations

import sys

import numpy as np


def _plt():
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("plots need matplotlib: pip install matplotlib (or pyjinit[plot])") from None
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_run(result, path=None, ax=None):
    """A TrainResult's test accuracy and train/test loss per epoch."""
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    else:
        fig = ax[0].figure
    ep = [h["epoch"] for h in result.history]
    ax[0].plot(ep, [100 * h["test_accuracy"] for h in result.history], marker="o")
    ax[0].set(xlabel="epoch", ylabel="test accuracy (%)")
    ax[1].plot(ep, [h["train_loss"] for h in result.history], marker="o", label="train")
    ax[1].plot(ep, [h["test_loss"] for h in result.history], marker="s", label="test")
    ax[1].set(xlabel="epoch", ylabel="cross-entropy", yscale="log")
    ax[1].legend()
    fig.suptitle(f"init={result.config.get('init')}  ({result.backend})")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig


def plot_comparison(comparison, path=None, title=None):
    """A Comparison's learning curves (mean over seeds, band from min to max)."""
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    from matplotlib.ticker import MaxNLocator

    for i, (name, runs) in enumerate(comparison.results.items()):
        color, marker, ls = f"C{i % 10}", "osD^v<>ph*"[i % 10], ("-", "--", ":", "-.")[i % 4]
        n = max((len(r.history) for r in runs), default=0)
        if n == 0:
            continue
        ep = np.arange(1, n + 1)
        for ax, key, scale in ((a1, "test_accuracy", 100.0), (a2, "train_loss", 1.0)):
            m = np.full((len(runs), n), np.nan)
            for j, r in enumerate(runs):
                for h in r.history:
                    m[j, h["epoch"] - 1] = scale * h[key]
            with np.errstate(all="ignore"):
                mean, lo, hi = np.nanmean(m, 0), np.nanmin(m, 0), np.nanmax(m, 0)
            ax.plot(ep, mean, color=color, marker=marker, ms=4, ls=ls, label=f"{name} ({len(runs)} seeds)")
            ax.fill_between(ep, lo, hi, color=color, alpha=0.2)
    a1.set(xlabel="epoch", ylabel="test accuracy (%)")
    for ax in (a1, a2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    a1.axhline(100 * comparison.target, color="gray", lw=0.8, ls="--")
    a2.set(xlabel="epoch", ylabel="train loss (epoch mean)", yscale="log")
    a1.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
