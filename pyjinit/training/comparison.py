"""Comparing initializers on real training runs: a table, learning curves, JSON and CSV."""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field

import numpy as np

from ..inits.keys import subset_key
from ..inits.validate import check_int, check_nonempty, check_real, check_seed
from ..support import progress
from ..support.files import atomic_write, check_output_path, dumps, write_text
from .plots import FIGURE_SUFFIXES, network_label, require_matplotlib
from .results import TrainConfig, TrainResult
from .trainer import check_init_name, check_setup, train

DEFAULT_INITS = ("uniform", "normal", "xavier", "he", "orthogonal")
# The deep case where initializers really differ (He et al. 2015; Glorot & Bengio 2010)
DEEP = {"hidden": (256,) * 20, "activation": "tanh", "optimizer": "sgd", "lr": 0.01, "momentum": 0.0}


TRAIN_OPTIONS = {"hidden", "activation", "optimizer", "lr", "momentum", "batch_size", "init_kwargs", "backend", "conv", "pool_every", "classes"}


def _mean_std(v):
    v = [x for x in v if x is not None and math.isfinite(x)]
    if not v:
        return float("nan"), float("nan")
    return float(np.mean(v)), float(np.std(v))


@dataclass
class Comparison:
    """Results of `compare`: {init: [TrainResult per seed]}, the target accuracy, the configuration shared by
    every run (network, optimizer, epochs, data size; for figure titles and the JSON) and whether every
    planned run finished (``complete`` is False after an interruption or a failed run: the finished runs are
    kept). ``failures`` lists the runs that raised (init, seed, error); ``interrupted`` says that Ctrl-C
    stopped the sweep (a failure is not an interruption)."""
    results: dict = field(default_factory=dict)
    target: float = 0.97
    config: dict = field(default_factory=dict)
    complete: bool = True
    planned: int = 0
    failures: list = field(default_factory=list)
    interrupted: bool = False

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
                "failures": self.failures, "interrupted": self.interrupted,
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
                   d.get("config", {}), d.get("complete", True), d.get("planned_runs", 0), d.get("failures", []),
                   d.get("interrupted", False))

    def title(self) -> str:
        """The configuration in one line, for figures: network, activation, optimizer, epochs, data, seeds."""
        c = self.config
        if not c:
            return ""
        opt = c.get("optimizer", "")
        opt = f"{opt} lr {c.get('lr'):g}" + (f" momentum {c.get('momentum'):g}" if opt == "sgd" else "")
        seeds = c.get("seeds", [])
        n = c.get("n_train")
        return (f"{network_label(c)} {c.get('activation', '')}, {opt}, batch {c.get('batch_size')}, {c.get('epochs')} epochs, "
                + (f"{n} training examples, " if n else "")
                + f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''}")

    def plot(self, path=None, title=None):
        """Learning curves: one line per initializer (mean over seeds) with a band (min to max over
        seeds); test accuracy and train loss per epoch. Saved to `path` (PNG, SVG, …) if given."""
        from .plots import plot_comparison

        return plot_comparison(self, path, title)


def compare(inits=DEFAULT_INITS, seeds=(0, 1, 2), *, data=None, data_dir=None, target=0.97, epochs=10,
            max_train=None, verbose=None, plot=None, json_path=None, csv_path=None, executor="auto",
            blas_threads=1, **train_kwargs) -> Comparison:
    """Train the same network once per (initializer, seed) and compare.

    ``data``: (x_train, y_train, x_test, y_test), default MNIST (``load_mnist(data_dir)``). ``max_train``
    uses the first n examples of a fixed shuffle of the training set. Other keywords go to ``train``
    (``hidden``, ``activation``, ``optimizer``, ``lr``, …; ``compare(**DEEP)`` is the 20-layer case).
    Returns a ``Comparison`` (``.table()``, ``.plot()``, ``.to_json()``, ``.to_csv()``).

    Every argument is checked before the first run. ``json_path`` and ``csv_path`` are (re)written after every
    finished run, atomically, so a failure or Ctrl-C never loses finished runs; ``plot`` is drawn last. An
    interruption (KeyboardInterrupt) stops the sweep and returns the finished runs (``complete`` False).
    ``verbose``: a progress bar over all epochs and one line per finished run (default); False for none.

    ``executor``: where the runs go. None runs them here, one after another. Any object with
    ``submit(fn, *args)`` returning futures with ``result()`` (a ``concurrent.futures`` executor, a
    ``distributed.Client``, whose data is scattered to the workers once) runs them there. "processes" makes a
    local process pool (the data is sent to each worker once). "auto" (default): such a pool of
    ``min(runs, cores // blas_threads)`` workers when that is at least 2, else here. The pool's workers are
    forked only while this process is safe to fork: one thread, and no runtime that starts native threads
    (torch, JAX, TensorFlow, Julia) imported; otherwise they start fresh ("forkserver", else "spawn": forking
    after such threads exist can deadlock the child), and then, as for any multiprocessing code, a script
    that calls ``compare`` must do so under ``if __name__ == "__main__":``. The workers use the backend chosen
    here. A run that fails is recorded in ``failures`` (the others go on; ``complete`` is then False).

    ``blas_threads`` (default 1): the BLAS threads of every run, here or on a worker (threadpoolctl). A matrix
    product's rounding depends on its thread count, so fixing it makes the results identical whatever the
    executor (and in the same order); and runs side by side never oversubscribe the cores (OpenBLAS threads
    spin: 2 runs x 2 threads on 2 cores ran 18x slower than one after another, bench/scale.py).

    >>> c = compare(["xavier", "he"], seeds=(0,), epochs=2)      # doctest: +SKIP
    >>> print(c.table())                                         # doctest: +SKIP
    """
    inits, seeds, target, max_train, blas_threads, cfg = check_compare(
        inits, seeds, target=target, epochs=epochs, max_train=max_train, blas_threads=blas_threads,
        json_path=json_path, csv_path=csv_path, plot=plot, **train_kwargs)
    verbose = True if verbose is None else bool(verbose)
    if data is None:
        from .datasets import load_mnist

        data = load_mnist(data_dir)
    x, y, xt, yt = data
    for name in inits:          # each initializer with its keywords, drawn once on the real shapes
        check_setup(np.shape(x)[1], init=name, epochs=epochs, **{k: v for k, v in train_kwargs.items()
                                                                  if k != "backend"})
    if max_train is not None and max_train < len(x):
        keep = np.random.Generator(np.random.Philox(key=subset_key())).permutation(len(x))[:max_train]
        x, y = x[keep], y[keep]
    shared = {k: v for k, v in cfg.to_dict().items() if k not in ("seed", "init", "init_kwargs")}
    cmp = Comparison({}, target, {**shared, "seeds": seeds, "n_train": len(x), "n_test": len(xt),
                                  "init_kwargs": train_kwargs.get("init_kwargs")}, False, len(inits) * len(seeds))
    jobs = [(name, s) for name in inits for s in seeds]
    from ..inits.backend import choose_backend

    which = choose_backend(train_kwargs.get("backend"))     # decided (and said) once here, before any worker starts
    pool, ours = _executor(executor, len(jobs), (x, y, xt, yt), blas_threads)
    if pool is not None:
        train_kwargs = {**train_kwargs, "backend": which}  # a fresh worker must not try Julia again
    try:
        if pool is None:
            _run_here(cmp, jobs, (x, y, xt, yt), epochs, {**train_kwargs, "blas_threads": blas_threads}, verbose,
                      cfg, json_path, csv_path)
        else:
            _run_there(cmp, jobs, None if ours else (x, y, xt, yt), epochs, train_kwargs, verbose, pool,
                       json_path, csv_path, blas_threads)
    finally:
        if ours:
            pool.shutdown(wait=True, cancel_futures=True)
    _save(cmp, json_path, csv_path)
    if plot:
        cmp.plot(plot, title=None)
    return cmp


def check_compare(inits, seeds, *, target=0.97, epochs=10, max_train=None, blas_threads=1, json_path=None,
                  csv_path=None, plot=None, **train_kwargs) -> tuple:
    """The arguments of `compare` checked (before any data is loaded): (inits, seeds, target, max_train,
    blas_threads, TrainConfig of the shared options), or the ValueError/TypeError of the first bad one."""
    inits = [check_init_name(n) for n in check_nonempty("inits", inits)]
    if len(set(inits)) != len(inits):
        raise ValueError(f"inits must not repeat a name, got {', '.join(inits)}")
    seeds = [check_seed(s) for s in check_nonempty("seeds", seeds)]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must not repeat a seed, got {', '.join(map(str, seeds))}")
    target = check_real("target", target, "a fraction in (0, 1] (0.97 means 97%)", lambda v: 0 < v <= 1)
    blas_threads = check_int("blas_threads", blas_threads, 1)       # a number: runs identical on any executor
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
    return inits, seeds, target, max_train, blas_threads, cfg


def _report(bar, k, cmp, name, s, r) -> None:
    bar.write(f"[{k}/{cmp.planned}] init={name} seed={s}: "
              + (f"diverged at epoch {r.diverged['epoch']}" if r.diverged else
                 f"final test accuracy {100 * r.final_accuracy:.2f}%"))


def _fail(bar, k, cmp, name, s, e) -> None:
    cmp.failures.append({"init": name, "seed": s, "error": f"{type(e).__name__}: {e}"})
    bar.write(f"[{k}/{cmp.planned}] init={name} seed={s}: failed: {type(e).__name__}: {e}")


def _run_here(cmp, jobs, data, epochs, train_kwargs, verbose, cfg, json_path, csv_path) -> None:
    x, y, xt, yt = data
    k = 0
    with progress.bar(cmp.planned * cfg.epochs, "compare", verbose, unit="epoch") as bar:
        try:
            for name, s in jobs:
                k += 1
                bar.set_description_str(f"[{k}/{cmp.planned}] {name} seed {s}")
                try:
                    r = train(x, y, xt, yt, init=name, seed=s, epochs=epochs, verbose=verbose, _progress=bar,
                              **train_kwargs)
                except (KeyboardInterrupt, MemoryError):
                    raise
                except Exception as e:  # noqa: BLE001  (a failed run is recorded; the others go on)
                    _fail(bar, k, cmp, name, s, e)
                    continue
                cmp.results.setdefault(name, []).append(r)
                _save(cmp, json_path, csv_path)
                _report(bar, k, cmp, name, s, r)
            cmp.complete = not cmp.failures
        except KeyboardInterrupt:
            cmp.interrupted = True
            bar.write(f"interrupted: {sum(map(len, cmp.results.values()))} of {cmp.planned} runs finished and kept")


def _job(data, name, seed, epochs, train_kwargs, threads):
    """One run of a sweep, on a worker (module-level, so that it pickles), with `threads` BLAS threads."""
    if data is None:
        data = _WORKER_DATA["data"]
    x, y, xt, yt = data
    return train(x, y, xt, yt, init=name, seed=seed, epochs=epochs, verbose=False, blas_threads=threads,
                 **train_kwargs)


_WORKER_DATA: dict = {}


def _worker_init(data) -> None:
    _WORKER_DATA["data"] = data


def _executor(executor, njobs: int, data, blas_threads: int):
    import os

    if executor is None:
        return None, False
    if executor in ("auto", "processes"):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        cores = os.cpu_count() or 1
        workers = min(njobs, max(1, cores // blas_threads))
        if executor == "auto" and workers < 2:
            return None, False
        ctx = multiprocessing.get_context(start_method())
        return ProcessPoolExecutor(max(1, workers), mp_context=ctx, initializer=_worker_init, initargs=(data,)), True
    if not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must be None, 'auto', 'processes' or an object with submit() (a "
                        f"concurrent.futures executor or a distributed.Client), got {type(executor).__name__}")
    return executor, False


THREADED_RUNTIMES = ("torch", "jax", "jaxlib", "tensorflow", "juliacall")


def start_method() -> str:
    """How `compare` starts its local workers: "fork" (fast, nothing re-imported) only while forking is safe,
    i.e. this process runs one thread and has imported none of THREADED_RUNTIMES (their native thread pools,
    forked mid-operation, can deadlock the child: JAX warns so, torch's OpenMP and Julia's runtime do not
    survive a fork); else "forkserver" (workers forked from a fresh single-threaded server), else "spawn".
    NumPy's BLAS threads are no reason: OpenBLAS and MKL reset their pools in a forked child."""
    import multiprocessing
    import sys
    import threading

    methods = multiprocessing.get_all_start_methods()
    threaded = threading.active_count() > 1 or any(m in sys.modules for m in THREADED_RUNTIMES)
    if "fork" in methods and not threaded:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _run_there(cmp, jobs, data, epochs, train_kwargs, verbose, pool, json_path, csv_path, threads) -> None:
    """The runs on an executor; results collected in submission order (the serial order), each saved as it
    arrives; a failed run recorded; Ctrl-C cancels what has not started and keeps what finished."""
    if data is not None and callable(getattr(pool, "scatter", None)):   # distributed.Client: data to workers once
        data = pool.scatter(list(data), broadcast=True, hash=False)
    futures = [pool.submit(_job, data, name, s, epochs, train_kwargs, threads) for name, s in jobs]
    with progress.bar(len(jobs), "compare", verbose, unit="run") as bar:
        try:
            for k, ((name, s), f) in enumerate(zip(jobs, futures), start=1):
                try:
                    r = f.result()
                except KeyboardInterrupt:
                    raise
                except Exception as e:  # noqa: BLE001  (a failed run is recorded; the others go on)
                    _fail(bar, k, cmp, name, s, e)
                    bar.update(1)
                    continue
                cmp.results.setdefault(name, []).append(r)
                _save(cmp, json_path, csv_path)
                _report(bar, k, cmp, name, s, r)
                bar.update(1)
            cmp.complete = not cmp.failures
        except KeyboardInterrupt:
            cmp.interrupted = True
            for f in futures:
                f.cancel()
            bar.write(f"interrupted: {sum(map(len, cmp.results.values()))} of {cmp.planned} runs finished and kept")


def _save(cmp: Comparison, json_path, csv_path) -> None:
    if json_path:
        cmp.to_json(json_path)
    if csv_path:
        cmp.to_csv(csv_path)
