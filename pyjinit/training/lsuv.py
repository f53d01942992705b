"""LSUV, layer-sequential unit-variance initialization (Mishkin & Matas, ICLR 2016, "All you need is a good
init"): orthonormal weights, then each layer in order divided by the std of its output on a data batch until
that variance is within a tolerance of 1 (their defaults: tol 0.1, at most 10 iterations a layer)."""
from __future__ import annotations

import math

import numpy as np

from ..inits.validate import check_int, check_real
from .networks import CNN, MLP, image_shape

LSUV_BATCH = 500      # examples in the LSUV batch (the first of batch_order(seed, 0, n): docs/stream.md §6)


def lsuv(weights: list, activation: str, x: np.ndarray, tol: float = 0.1, max_iter: int = 10, *,
         in_shape: tuple | None = None, pool_every: int = 1) -> tuple:
    """Layer-sequential unit-variance (Mishkin & Matas 2016, Algorithm 1) on a data batch `x` (rows): for each
    layer in order, divide its weight by the std of its output (pre-activation, over the batch and, for a conv
    layer, all positions and channels) until the output variance is within `tol` of 1, at most `max_iter`
    times. `weights` (orthonormal, from the caller: (out, in) dense, (out, in, k, k) conv) are rescaled in a
    copy. Conv weights make the network pyjinit's CNN (`in_shape` (C, H, W) of the rows, default a square
    single-channel image; `pool_every`). Returns (weights, iterations per layer)."""
    tol = check_real("tol", tol, "a number in (0, 1)", lambda v: 0 < v < 1)
    max_iter = check_int("max_iter", max_iter, 1)
    ws = [np.array(w, np.float32, copy=True) for w in weights]
    x = np.ascontiguousarray(x, np.float32)
    if any(w.ndim == 4 for w in ws):
        net = CNN(ws, activation, in_shape or image_shape(x.shape[1]), pool_every=pool_every)
    else:
        net = MLP(ws, activation)
    a = net.prepare(x)
    iters = []
    for i, w in enumerate(net.W):
        k = 0
        z, nxt = net.layer(i, a)
        while k < max_iter:
            v = float(z.var(dtype=np.float64))      # as JInit.lsuv and pyjinit.torch.lsuv_
            if abs(v - 1.0) < tol or v == 0:
                break
            w /= np.float32(math.sqrt(v))
            z, nxt = net.layer(i, a)
            k += 1
        iters.append(k)
        a = nxt
    return net.W, iters
