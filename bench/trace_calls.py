"""How far a call travels: the pyjinit functions `pyjinit.he_init((128, 784), seed=0)` passes through on the
NumPy path, counted with sys.setprofile (Python frames of pyjinit's modules only; NumPy's and the standard
library's are not counted). A *module stay* is a maximal run of consecutive calls in one module: the count is
1 + the number of times the next pyjinit call is in another module than the previous one.

    PYJINIT_BACKEND=numpy python bench/trace_calls.py [--list]
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("PYJINIT_BACKEND", "numpy")


def trace(fn, *args, **kw):
    calls = []

    def prof(frame, event, arg):
        if event == "call":
            mod = frame.f_globals.get("__name__", "")
            if mod.startswith("pyjinit"):
                calls.append((mod, frame.f_code.co_name))

    sys.setprofile(prof)
    try:
        fn(*args, **kw)
    finally:
        sys.setprofile(None)
    stays = sum(1 for i, c in enumerate(calls) if i == 0 or c[0] != calls[i - 1][0])
    return calls, stays


if __name__ == "__main__":
    import pyjinit

    pyjinit.he_init((128, 784), seed=0)            # warm: imports and the backend choice happen once
    calls, stays = trace(pyjinit.he_init, (128, 784), seed=0)
    print(f"pyjinit.he_init((128, 784), seed=0): {len(calls)} calls, {stays} module stays, "
          f"{len({m for m, _ in calls})} modules")
    if "--list" in sys.argv:
        for m, f in calls:
            print(f"  {m}.{f}")
