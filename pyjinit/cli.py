"""Command line: ``python -m pyjinit {info,list,init,...}``. Exit codes: 0 ok, 1 failure, 2 bad arguments."""
from __future__ import annotations

import argparse
import json
import sys


class _Parser(argparse.ArgumentParser):
    def error(self, message):           # bad arguments: a message and exit 2, no traceback
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _cmd_info(args) -> int:
    from . import backend_info

    info = backend_info(start=not args.no_start)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        width = max(map(len, info))
        for k, v in info.items():
            print(f"{k:<{width}}  {v}")
    return 0


def _cmd_list(args) -> int:
    from . import initializers

    names = initializers()
    if args.json:
        print(json.dumps(names, indent=2))
    else:
        width = max(map(len, names))
        for k, v in names.items():
            print(f"{k:<{width}}  {v}")
    return 0


def _parse_value(s: str):
    for conv in (int, float):
        try:
            return conv(s)
        except ValueError:
            pass
    return {"none": None, "true": True, "false": False}.get(s.lower(), s)


def _cmd_init(args) -> int:
    import numpy as np

    from . import init

    kw = {}
    for item in args.kw or []:
        if "=" not in item:
            raise ValueError(f"--kw takes name=value, got {item!r}")
        k, v = item.split("=", 1)
        kw[k] = _parse_value(v)
    w = init(args.name, tuple(args.shape), dtype=args.dtype, seed=args.seed, backend=args.backend, **kw)
    if args.out:
        np.save(args.out, w)
    stats = {"name": args.name, "shape": list(w.shape), "dtype": w.dtype.name, "mean": float(w.mean()) if w.size else None,
             "std": float(w.std()) if w.size else None, "min": float(w.min()) if w.size else None,
             "max": float(w.max()) if w.size else None, "out": args.out}
    print(json.dumps(stats) if args.json else "\n".join(f"{k}: {v}" for k, v in stats.items()))
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
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError) as e:
        print(f"python -m pyjinit {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
