"""LSUV, layer-sequential unit-variance initialization (Mishkin & Matas, ICLR 2016, "All you need is a good
init"): orthonormal weights, then each layer in order divided by the std of its output on a data batch until
that variance is within a tolerance of 1 (their defaults: tol 0.1, at most 10 iterations a layer)."""
from __future__ import annotations

import math

import numpy as np

from ..inits.validate import check_int, check_real
from .networks import _act

LSUV_BATCH = 500      # examples in the LSUV batch (the first of batch_order(seed, 0, n): docs/stream.md §6)


def lsuv(weights: list, activation: str, x: np.ndarray, tol: float = 0.1, max_iter: int = 10) -> tuple:
    """Layer-sequential unit-variance (Mishkin & Matas 2016, Algorithm 1) on a data batch `x`: for each layer in
    order, divide its weight by the std of its output (pre-activation) on the batch until the output variance
    is within `tol` of 1, at most `max_iter` times. `weights` (orthonormal, from the caller) are rescaled in a
    copy. Returns (weights, iterations per layer)."""
    tol = check_real("tol", tol, "a number in (0, 1)", lambda v: 0 < v < 1)
    max_iter = check_int("max_iter", max_iter, 1)
    ws = [np.array(w, np.float32, copy=True) for w in weights]
    a = np.ascontiguousarray(x, np.float32)
    iters = []
    for l, w in enumerate(ws):
        k = 0
        z = a @ w.T
        while k < max_iter:
            v = float(z.var())
            if abs(v - 1.0) < tol or v == 0:
                break
            w /= np.float32(math.sqrt(v))
            z = a @ w.T
            k += 1
        iters.append(k)
        a = z if l == len(ws) - 1 else _act(activation, z)
    return ws, iters
