"""Figures of training runs and comparisons: the only module that imports matplotlib."""
from __future__ import annotations

import sys
import zlib

import numpy as np

from ..support.messages import MissingDependency


FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
# One colour, marker and line style per initializer, the same in every figure whatever the order of --inits.
_STYLE = {"uniform": ("C0", "o", "-"), "normal": ("C1", "s", "--"), "xavier": ("C2", "D", "-"),
          "he": ("C3", "^", "-"), "orthogonal": ("C4", "v", ":"), "lecun": ("C5", "<", "-."),
          "lsuv": ("C6", ">", "-"), "sparse": ("C7", "p", "--"), "identity": ("C8", "h", ":"),
          "truncated_normal": ("C9", "*", "-.")}
_ALIASES = {"glorot": "xavier", "kaiming": "he"}


def _sizes(v) -> str:
    v = list(v or ())
    return f"{len(v)}×{v[0]}" if len(set(v)) == 1 and len(v) > 2 else "-".join(map(str, v))


def network_label(c: dict) -> str:
    """The network of a config (dict) in a few words, for titles: "MLP 20×256", "CNN conv 16×10 (pool every 5)
    + dense 64"."""
    net = _sizes(c.get("hidden"))
    if not c.get("conv"):
        return f"MLP {net}"
    pe = c.get("pool_every", 1)
    return (f"CNN conv {_sizes(c['conv'])}" + (f" (pool every {pe})" if pe != 1 else "")
            + (f" + dense {net}" if net else ""))

def style(name: str) -> tuple:
    """(colour, marker, line style) of an initializer name: fixed for the known families (xavier_normal and
    keras.glorot_normal share xavier's colour family), else derived from the name's CRC."""
    base = name.split(".")[-1]
    fam = base.split("_")[0]
    fam = _ALIASES.get(fam, fam)
    if base in _STYLE:
        return _STYLE[base]
    if fam in _STYLE:
        c, m, _ = _STYLE[fam]
        variant = zlib.crc32(name.encode()) % 3
        return c, "osD^v<>ph*"[(zlib.crc32(name.encode()) >> 3) % 10], ("--", ":", "-.")[variant]
    h = zlib.crc32(name.encode())
    return f"C{h % 10}", "osD^v<>ph*"[(h >> 4) % 10], ("-", "--", ":", "-.")[(h >> 8) % 4]


def require_matplotlib() -> None:
    """Raise a one-line RuntimeError saying what to install when matplotlib is missing (before any work)."""
    try:
        import matplotlib
    except ImportError:
        raise MissingDependency("figures need matplotlib, which is not installed: "
                           "pip install matplotlib (or pip install 'pyjinit[plot]')") from None
    del matplotlib                        # only whether it imports matters here


def _plt():
    require_matplotlib()
    import matplotlib
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
    from matplotlib.ticker import MaxNLocator

    for a in ax:
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    c = result.config
    hidden = "-".join(map(str, c.get("hidden", ())))
    fig.suptitle(f"init={c.get('init')}, seed {c.get('seed')}: MLP {hidden} {c.get('activation')}, "
                 f"{c.get('optimizer')} lr {c.get('lr'):g}, batch {c.get('batch_size')}, "
                 f"{result.n_train} training examples ({result.backend})", fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig


def plot_comparison(comparison, path=None, title=None):
    """A Comparison's learning curves (mean over seeds, band from min to max)."""
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    from matplotlib.ticker import MaxNLocator

    for name, runs in comparison.results.items():
        color, marker, ls = style(name)
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
            ax.plot(ep, mean, color=color, marker=marker, ms=4, ls=ls, label=f"{name} ({len(runs)} seed{'s' if len(runs) != 1 else ''})")
            ax.fill_between(ep, lo, hi, color=color, alpha=0.2)
    a1.set(xlabel="epoch", ylabel="test accuracy (%)")
    for ax in (a1, a2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    a1.axhline(100 * comparison.target, color="gray", lw=0.8, ls="--",
               label=f"target {100 * comparison.target:g}%")
    a2.set(xlabel="epoch", ylabel="train loss (epoch mean)", yscale="log")
    a1.legend(fontsize=8)
    title = title if title is not None else comparison.title()
    if not comparison.complete:
        title += f" (interrupted: {sum(map(len, comparison.results.values()))} of {comparison.planned} runs)"
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def plot_diagnosis(diagnosis, path=None):
    """Per-layer std of activations (forward) and of dL/da (backward), measured (solid, markers) and predicted
    by the variance recursion (dashed), one colour per initializer; log scale."""
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    from matplotlib.ticker import MaxNLocator

    for name, rows in diagnosis.layers.items():
        color, marker, _ = style(name)
        layers = [r["layer"] for r in rows]
        a1.plot(layers, [r["pre_std"] for r in rows], color=color, marker=marker, ms=4, label=name)
        a1.plot(layers, [r["predicted_pre_std"] for r in rows], color=color, ls="--", lw=0.9)
        a2.plot(layers, [r["grad_act_std"] for r in rows], color=color, marker=marker, ms=4, label=name)
        a2.plot(layers, [r["predicted_grad_act_std"] for r in rows], color=color, ls="--", lw=0.9)
    a1.plot([], [], color="gray", ls="--", lw=0.9, label="predicted (variance recursion)")
    a1.set(xlabel="layer", ylabel="std of pre-activations (forward)", yscale="log")
    a2.set(xlabel="layer", ylabel="std of dL/d activations (backward)", yscale="log")
    for ax in (a1, a2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    a1.legend(fontsize=8)
    c = diagnosis.config
    fig.suptitle(f"at initialization: {network_label(c)} {c.get('activation')}, batch of {c.get('batch_size')}, seed {c.get('seed')}", fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def plot_histograms(diagnosis, path=None, bins=60):
    """Activation histograms of each hidden layer, one panel per initializer (Glorot & Bengio 2010, fig. 6-7)."""
    plt = _plt()
    names = list(diagnosis.samples)
    fig, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.4), squeeze=False)
    cmap = plt.get_cmap("viridis")
    for ax, name in zip(axes[0], names):
        layers = diagnosis.samples[name]
        lo = min((float(a.min()) for a in layers), default=-1.0)
        hi = max((float(a.max()) for a in layers), default=1.0)
        edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
        for i, a in enumerate(layers):
            h, _ = np.histogram(a, bins=edges, density=True)
            ax.plot(0.5 * (edges[1:] + edges[:-1]), h, color=cmap(i / max(1, len(layers) - 1)), lw=1,
                    label=f"layer {i + 1}" if len(layers) <= 6 or i in (0, len(layers) - 1) else None)
        ax.set(title=name, xlabel="activation value", yscale="log")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("density")
    c = diagnosis.config
    fig.suptitle(f"activations per hidden layer at initialization ({c.get('activation')})", fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
