"""Comparing initializers on real training runs: a table, learning curves, JSON and CSV."""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field

import numpy as np

from ..inits.registry import check_name
from ..inits.validate import check_int, check_nonempty, check_real, check_seed
from ..support import progress
from ..support.files import atomic_write, check_output_path, dumps, write_text
from .plots import FIGURE_SUFFIXES, require_matplotlib
from .results import TrainConfig, TrainResult
from .trainer import train

DEFAULT_INITS = ("uniform", "normal", "xavier", "he", "orthogonal")
# The deep case where initializers really differ (He et al. 2015; Glorot & Bengio 2010)
DEEP = {"hidden": (256,) * 20, "activation": "tanh", "optimizer": "sgd", "lr": 0.01, "momentum": 0.0}


TRAIN_OPTIONS = {"hidden", "activation", "optimizer", "lr", "momentum", "batch_size", "init_kwargs", "backend"}


def _mean_std(v):
    v = [x for x in v if x is not None and math.isfinite(x)]
    if not v:
        return float("nan"), float("nan")
    return float(np.mean(v)), float(np.std(v))


@dataclass
class Comparison:
    """Results of `compare`: {init: [TrainResult per seed]}, the target accuracy, the configuration shared by
    every run (network, optimizer, epochs, data size; for figure titles and the JSON) and whether every
    planned run finished (``complete`` is False after an interruption: the finished runs are kept)."""
    results: dict = field(default_factory=dict)
    target: float = 0.97
    config: dict = field(default_factory=dict)
    complete: bool = True
    planned: int = 0

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
        return {"target": self.target, "config": self.config, "complete": self.complete,
                "planned_runs": self.planned, "finished_runs": sum(map(len, self.results.values())),
                "summary": self.rows(), "runs": {k: [r.to_dict() for r in v] for k, v in self.results.items()}}

    def to_json(self, path=None) -> str:
        """Strict JSON (non-finite numbers as null); written atomically to `path` if given."""
        s = dumps(self.to_dict(), indent=2)
        if path is not None:
            write_text(path, s)
        return s

    def to_csv(self, path) -> None:
        """One row per (init, seed, epoch); written atomically."""
        atomic_write(path, self._write_csv)

    def _write_csv(self, f) -> None:
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
        return cls({k: [TrainResult.from_dict(x) for x in v] for k, v in d["runs"].items()}, d["target"],
                   d.get("config", {}), d.get("complete", True), d.get("planned_runs", 0))

    def title(self) -> str:
        """The configuration in one line, for figures: network, activation, optimizer, epochs, data, seeds."""
        c = self.config
        if not c:
            return ""
        hidden = c.get("hidden", ())
        net = (f"{len(hidden)}×{hidden[0]}" if len(set(hidden)) == 1 and len(hidden) > 2
               else "-".join(map(str, hidden)))
        opt = c.get("optimizer", "")
        opt = f"{opt} lr {c.get('lr'):g}" + (f" momentum {c.get('momentum'):g}" if opt == "sgd" else "")
        seeds = c.get("seeds", [])
        n = c.get("n_train")
        return (f"MLP {net} {c.get('activation', '')}, {opt}, batch {c.get('batch_size')}, {c.get('epochs')} epochs, "
                + (f"{n} training examples, " if n else "")
                + f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''}")

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
    Returns a ``Comparison`` (``.table()``, ``.plot()``, ``.to_json()``, ``.to_csv()``).

    Every argument is checked before the first run. ``json_path`` and ``csv_path`` are (re)written after every
    finished run, atomically, so a failure or Ctrl-C never loses finished runs; ``plot`` is drawn last. An
    interruption (KeyboardInterrupt) stops the sweep and returns the finished runs (``complete`` False).
    ``verbose``: a progress bar over all epochs and one line per finished run (default); False for none.

    >>> c = compare(["xavier", "he"], seeds=(0,), epochs=2)      # doctest: +SKIP
    >>> print(c.table())                                         # doctest: +SKIP
    """
    inits = [check_name(n) for n in check_nonempty("inits", inits)]
    if len(set(inits)) != len(inits):
        raise ValueError(f"inits must not repeat a name, got {', '.join(inits)}")
    seeds = [check_seed(s) for s in check_nonempty("seeds", seeds)]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must not repeat a seed, got {', '.join(map(str, seeds))}")
    target = check_real("target", target, "a fraction in (0, 1] (0.97 means 97%)", lambda v: 0 < v <= 1)
    if max_train is not None:
        max_train = check_int("max_train", max_train, 1)
    unknown = sorted(set(train_kwargs) - TRAIN_OPTIONS)
    if unknown:
        raise TypeError(f"compare got unknown keyword argument(s) {', '.join(unknown)}; "
                        f"the training options are {', '.join(sorted(TRAIN_OPTIONS))}")
    cfg = TrainConfig(epochs=epochs, **{k: v for k, v in train_kwargs.items()
                                        if k in TrainConfig.__dataclass_fields__ and k != "seed"}).validate()
    paths = {"json_path": json_path, "csv_path": csv_path}
    for arg, path in paths.items():
        if path is not None:
            check_output_path(arg, path, (".json",) if arg == "json_path" else (".csv",))
    if plot is not None:
        check_output_path("plot", plot, FIGURE_SUFFIXES)
        require_matplotlib()
    verbose = True if verbose is None else bool(verbose)
    if data is None:
        from .datasets import load_mnist

        data = load_mnist(data_dir)
    x, y, xt, yt = data
    if max_train is not None and max_train < len(x):
        keep = np.random.Generator(np.random.Philox(key=7)).permutation(len(x))[:max_train]
        x, y = x[keep], y[keep]
    shared = {k: v for k, v in cfg.to_dict().items() if k not in ("seed", "init", "init_kwargs")}
    cmp = Comparison({}, target, {**shared, "seeds": seeds, "n_train": len(x), "n_test": len(xt),
                                  "init_kwargs": train_kwargs.get("init_kwargs")}, False, len(inits) * len(seeds))
    k = 0
    with progress.bar(cmp.planned * cfg.epochs, "compare", verbose, unit="epoch") as bar:
        try:
            for name in inits:
                for s in seeds:
                    k += 1
                    bar.set_description_str(f"[{k}/{cmp.planned}] {name} seed {s}")
                    r = train(x, y, xt, yt, init=name, seed=s, epochs=epochs, verbose=verbose, _progress=bar,
                              **train_kwargs)
                    cmp.results.setdefault(name, []).append(r)
                    _save(cmp, json_path, csv_path)
                    bar.write(f"[{k}/{cmp.planned}] init={name} seed={s}: "
                              + (f"diverged at epoch {r.diverged['epoch']}" if r.diverged else
                                 f"final test accuracy {100 * r.final_accuracy:.2f}%"))
            cmp.complete = True
        except KeyboardInterrupt:
            bar.write(f"interrupted: {k - 1} of {cmp.planned} runs finished and kept")
    _save(cmp, json_path, csv_path)
    if plot:
        cmp.plot(plot, title=None)
    return cmp


def _save(cmp: Comparison, json_path, csv_path) -> None:
    if json_path:
        cmp.to_json(json_path)
    if csv_path:
        cmp.to_csv(csv_path)
