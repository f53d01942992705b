"""Comparing initializers on real training runs: a table, learning curves, JSON and CSV."""
from __future__ import annotations

import csv
import json
import math
import sys
from dataclasses import dataclass, field

import numpy as np

from .results import TrainResult
from .trainer import _say, train

DEFAULT_INITS = ("uniform", "normal", "xavier", "he", "orthogonal")
# The deep case where initializers really differ (He et al. 2015; Glorot & Bengio 2010)
DEEP = {"hidden": (256,) * 20, "activation": "tanh", "optimizer": "sgd", "lr": 0.01, "momentum": 0.0}


def _mean_std(v):
    v = [x for x in v if x is not None and math.isfinite(x)]
    if not v:
        return float("nan"), float("nan")
    return float(np.mean(v)), float(np.std(v))


@dataclass
class Comparison:
    """Results of `compare`: {init: [TrainResult per seed]} and the target accuracy."""
    results: dict = field(default_factory=dict)
    target: float = 0.97

    def rows(self) -> list:
        out = []
        for name, runs in self.results.items():
            acc = _mean_std([r.final_accuracy if r.history else float("nan") for r in runs])
            loss1 = _mean_std([r.history[0]["train_loss"] if r.history else float("nan") for r in runs])
            reach = [r.epochs_to(self.target) for r in runs]
            hit = [e for e in reach if e is not None]
            out.append({"init": name, "runs": len(runs), "final_accuracy_mean": acc[0], "final_accuracy_std": acc[1],
                        "epoch1_train_loss_mean": loss1[0], "epoch1_train_loss_std": loss1[1],
                        "epochs_to_target_mean": float(np.mean(hit)) if hit else None,
                        "reached_target": len(hit), "diverged": sum(r.diverged is not None for r in runs),
                        "seconds_per_epoch": _mean_std([h["seconds"] for r in runs for h in r.history])[0]})
        return out

    def table(self) -> str:
        """A Markdown table: final test accuracy (mean ± std over seeds), train loss in epoch 1, epochs to
        reach the target accuracy (mean over the seeds that reach it)."""
        t = f"{100 * self.target:g}%"
        lines = [f"| init | final test accuracy (%) | epoch-1 train loss | epochs to {t} | reached {t} | diverged |",
                 "|---|---|---|---|---|---|"]
        for r in self.rows():
            acc = (f"{100 * r['final_accuracy_mean']:.2f} ± {100 * r['final_accuracy_std']:.2f}"
                   if math.isfinite(r["final_accuracy_mean"]) else "—")
            loss = (f"{r['epoch1_train_loss_mean']:.4f} ± {r['epoch1_train_loss_std']:.4f}"
                    if math.isfinite(r["epoch1_train_loss_mean"]) else "—")
            ep = f"{r['epochs_to_target_mean']:.1f}" if r["epochs_to_target_mean"] is not None else "—"
            lines.append(f"| {r['init']} | {acc} | {loss} | {ep} | {r['reached_target']}/{r['runs']} | {r['diverged']} |")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"target": self.target, "summary": self.rows(),
                "runs": {k: [r.to_dict() for r in v] for k, v in self.results.items()}}

    def to_json(self, path=None) -> str:
        s = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            with open(path, "w") as f:
                f.write(s)
        return s

    def to_csv(self, path) -> None:
        """One row per (init, seed, epoch)."""
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["init", "seed", "epoch", "train_loss", "test_loss", "test_accuracy", "seconds", "diverged"])
            for name, runs in self.results.items():
                for r in runs:
                    for h in r.history:
                        w.writerow([name, r.config["seed"], h["epoch"], h["train_loss"], h["test_loss"],
                                    h["test_accuracy"], h["seconds"], r.diverged is not None])
                    if not r.history:
                        w.writerow([name, r.config["seed"], 0, "", "", "", "", r.diverged is not None])

    @classmethod
    def from_dict(cls, d: dict) -> "Comparison":
        return cls({k: [TrainResult.from_dict(x) for x in v] for k, v in d["runs"].items()}, d["target"])

    def plot(self, path=None, title=None):
        """Learning curves: one line per initializer (mean over seeds) with a band (min to max over
        seeds); test accuracy and train loss per epoch. Saved to `path` (PNG, SVG, …) if given."""
        from .plots import plot_comparison

        return plot_comparison(self, path, title)


def compare(inits=DEFAULT_INITS, seeds=(0, 1, 2), *, data=None, data_dir=None, target=0.97, epochs=10,
            max_train=None, verbose=None, plot=None, json_path=None, csv_path=None, **train_kwargs) -> Comparison:
    """Train the same network once per (initializer, seed) and compare.

    ``data``: (x_train, y_train, x_test, y_test), default MNIST (``load_mnist(data_dir)``). ``max_train``
    uses the first n examples of a fixed shuffle of the training set. Other keywords go to ``train``
    (``hidden``, ``activation``, ``optimizer``, ``lr``, …; ``compare(**DEEP)`` is the 20-layer case).
    Returns a ``Comparison`` (``.table()``, ``.plot()``, ``.to_json()``, ``.to_csv()``); ``plot``,
    ``json_path``, ``csv_path`` write those files directly.

    >>> c = compare(["xavier", "he"], seeds=(0,), epochs=2)      # doctest: +SKIP
    >>> print(c.table())                                         # doctest: +SKIP
    """
    if data is None:
        from .datasets import load_mnist

        data = load_mnist(data_dir)
    x, y, xt, yt = data
    if max_train is not None and max_train < len(x):
        keep = np.random.Generator(np.random.Philox(key=7)).permutation(len(x))[:max_train]
        x, y = x[keep], y[keep]
    verbose = sys.stderr.isatty() if verbose is None else bool(verbose)
    inits = list(inits)
    if not inits:
        raise ValueError("inits must name at least one initializer")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    cmp = Comparison({}, target)
    total, k = len(inits) * len(seeds), 0
    for name in inits:
        cmp.results[name] = []
        for s in seeds:
            k += 1
            _say(verbose, f"[{k}/{total}] init={name} seed={s}")
            r = train(x, y, xt, yt, init=name, seed=s, epochs=epochs, verbose=verbose, **train_kwargs)
            cmp.results[name].append(r)
            _say(verbose, f"[{k}/{total}] init={name} seed={s}: "
                          + (f"diverged at epoch {r.diverged['epoch']}" if r.diverged else
                             f"final test accuracy {100 * r.final_accuracy:.2f}%"))
    if plot:
        cmp.plot(plot)
    if json_path:
        cmp.to_json(json_path)
    if csv_path:
        cmp.to_csv(csv_path)
    return cmp
