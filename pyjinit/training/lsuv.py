"""LSUV, layer-sequential unit-variance initialization (Mishkin & Matas, ICLR 2016, "All you need is a good
init"): orthonormal weights, then each layer in order divided by the std of its output on a data batch until
that variance is within a tolerance of 1 (their defaults: tol 0.1, at most 10 iterations a layer)."""
from __future__ import annotations

import numpy as np

from ..inits.lsuv import LSUV_BATCH, lsuv_loop
from .networks import CNN, MLP, image_shape

__all__ = ["LSUV_BATCH", "lsuv"]    # LSUV_BATCH: the trainer's batch size for it


def lsuv(weights: list, activation: str, x: np.ndarray, tol: float = 0.1, max_iter: int = 10, *,
         in_shape: tuple | None = None, pool_every: int = 1) -> tuple:
    """Layer-sequential unit-variance (inits/lsuv.py, the one algorithm) on a data batch `x` (rows) for the
    trainer's networks: layer i's output is its pre-activation over the batch and, for a conv layer, all
    positions and channels. `weights` (orthonormal, from the caller: (out, in) dense, (out, in, k, k) conv) are
    rescaled in a copy. Conv weights make the network pyjinit's CNN (`in_shape` (C, H, W) of the rows, default a
    square single-channel image; `pool_every`). Returns (weights, iterations per layer)."""
    ws = [np.array(w, np.float32, copy=True) for w in weights]
    x = np.ascontiguousarray(x, np.float32)
    if any(w.ndim == 4 for w in ws):
        net = CNN(ws, activation, in_shape or image_shape(x.shape[1]), pool_every=pool_every)
    else:
        net = MLP(ws, activation)
    state = {"a": net.prepare(x), "next": None}

    def variance(i):
        z, state["next"] = net.layer(i, state["a"])
        return float(z.var(dtype=np.float64))

    def rescale(i, s):
        net.W[i] /= np.float32(s)

    def next_layer(i):
        state["a"] = state["next"]

    iters = lsuv_loop(len(net.W), variance, rescale, tol, max_iter, next_layer)
    return net.W, iters
