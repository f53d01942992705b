"""LSUV, layer-sequential unit-variance initialization (Mishkin & Matas, ICLR 2016, "All you need is a good
init", Algorithm 1): the one algorithm, for every network that can measure a layer's output variance on a batch
and rescale that layer's weight — the NumPy trainer's MLP and CNN (training/lsuv.py) and PyTorch models
(``pyjinit.torch.lsuv_``). JInit has its twin (``JInit.lsuv``; ``lsuv!`` for Flux chains).

For each layer in order: while its output variance v on the batch is not within ``tol`` of 1 (and not 0), divide
its weight by √v, at most ``max_iter`` times. Defaults (the paper's): tol 0.1, 10 iterations.
"""
from __future__ import annotations

import math

from .validate import check_int, check_real

LSUV_BATCH = 500      # examples in the trainer's LSUV batch (the first of its epoch-0 order: docs/stream.md §6)


def check_lsuv_args(tol, max_iter) -> tuple:
    return (check_real("tol", tol, "a number in (0, 1)", lambda v: 0 < v < 1), check_int("max_iter", max_iter, 1))


def lsuv_loop(n_layers: int, variance, rescale, tol: float = 0.1, max_iter: int = 10, next_layer=None) -> list:
    """Run LSUV over `n_layers` layers: `variance(i)` measures layer i's output variance on the batch (with the
    layers before it already rescaled), `rescale(i, s)` divides its weight by s, and `next_layer(i)` (optional)
    is called when layer i is done. Returns the number of rescalings of each layer."""
    tol, max_iter = check_lsuv_args(tol, max_iter)
    iters = []
    for i in range(n_layers):
        k = 0
        v = variance(i)
        while k < max_iter and not (abs(v - 1.0) < tol or v == 0):
            rescale(i, math.sqrt(v))
            v = variance(i)
            k += 1
        iters.append(k)
        if next_layer is not None:
            next_layer(i)
    return iters
