"""The NumPy backend: the reference implementation of every initializer.

Twin of ``julia/JInit/src/inits.jl``: the same names, keyword arguments, validation messages and
stream positions. Every function takes a PyTorch-order ``shape`` (out, in, *kernel), a NumPy
``dtype`` and an integer ``seed`` and returns a C-ordered array of that shape.
"""
from __future__ import annotations

import contextvars
import math

import numpy as np

from . import stream as st
from .validate import (FAN_MODES, NONLINEARITIES, calculate_gain, check_bound, check_choice, check_nonneg, check_real,
                        fan_for_mode, fmt)

DISTRIBUTIONS = ("uniform", "normal", "truncated_normal")
KERAS_TRUNC_STD = 0.87962566103423978   # std of N(0, 1) truncated to [-2, 2] (Keras, JAX)


def _n(shape) -> int:
    return math.prod(shape)


# --- blocks: any block of an elementwise initializer's array, generated directly ---------------------------
# Element k (row-major over the PyTorch-order shape) of an elementwise initializer is a function of
# (seed, k) alone, so a block [a0:b0, a1:b1, ...] is generated from its contiguous runs of k. `block(...)`
# sets the block for one call; every elementwise initializer draws through `_draw`, which fills either the
# whole array (the usual path, unchanged) or the block. The others (orthogonal, sparse, identity) refuse.

_BLOCK = contextvars.ContextVar("pyjinit_block", default=None)
BLOCKWISE = ("zeros_init", "ones_init", "constant_init", "uniform_init", "normal_init", "truncated_normal_init",
             "variance_scaling_init", "xavier_init", "he_init", "lecun_init")


def block(name: str, shape, dtype, seed, index, **kwargs):
    """The block `index` (((start, stop), ...) per dimension, PyTorch order) of INITIALIZERS[name](shape, ...),
    equal to slicing the whole array, without making it."""
    if name not in BLOCKWISE:
        raise ValueError(f"{name.removesuffix('_init')} has no block form (its values depend on the whole array); "
                         f"blocks exist for {', '.join(n.removesuffix('_init') for n in BLOCKWISE)}")
    token = _BLOCK.set(tuple(index))
    try:
        return INITIALIZERS[name](shape, dtype, seed, **kwargs)
    finally:
        _BLOCK.reset(token)


def _runs(shape, index):
    """(block shape, [(k0, length)]): the contiguous runs of logical indices of a block, in block order."""
    bshape = tuple(b - a for a, b in index)
    if 0 in bshape:
        return bshape, []
    j = len(shape) - 1
    while j > 0 and tuple(index[j]) == (0, shape[j]):
        j -= 1                                   # dims after j are whole: a run spans them
    strides = [math.prod(shape[i + 1:]) for i in range(len(shape))]
    run = (index[j][1] - index[j][0]) * strides[j]
    starts = [index[j][0] * strides[j]]
    for i in range(j - 1, -1, -1):
        starts = [r * strides[i] + k for r in range(*index[i]) for k in starts]
    return bshape, [(k, run) for k in sorted(starts)]


def _draw(shape, dtype, full, at, at_runs=None):
    """The whole array from `full(n)`, or, inside `block(...)`, the block from `at(k0, n)` over its runs (or
    from `at_runs(runs)` at once, where a kind has it)."""
    index = _BLOCK.get()
    if index is None:
        return full(_n(shape)).reshape(shape)
    bshape, runs = _runs(shape, index)
    if at_runs is not None:
        return at_runs(runs).reshape(bshape)
    out = np.empty(_n(bshape), dtype)
    pos = 0
    for k0, m in runs:
        out[pos:pos + m] = at(k0, m)
        pos += m
    return out.reshape(bshape)


def _const(shape, dtype, value):
    index = _BLOCK.get()
    return np.full(shape if index is None else tuple(b - a for a, b in index), value, dtype)


def zeros_init(shape, dtype, seed):
    return _const(shape, dtype, 0)


def ones_init(shape, dtype, seed):
    return _const(shape, dtype, 1)


def constant_init(shape, dtype, seed, value=0):
    return _const(shape, dtype, st.to_dtype(np.array(check_real("value", value)), dtype))


def _uniform(shape, dtype, seed, low: float, high: float):
    if not low <= high:
        raise ValueError(f"low must be <= high, got low={fmt(low)}, high={fmt(high)}")
    return _draw(shape, dtype, lambda n: st.uniform(seed, n, dtype, low, high),
                 lambda k0, n: st.uniform_at(seed, k0, n, dtype, low, high))


def uniform_init(shape, dtype, seed, low=0, high=1):
    return _uniform(shape, dtype, seed, check_real("low", low), check_real("high", high))


def normal_init(shape, dtype, seed, mean=0, std=1):
    m, s = check_real("mean", mean), check_nonneg("std", std)
    return _draw(shape, dtype, lambda n: st.normal(seed, n, dtype, m, s),
                 lambda k0, n: st.normal_at(seed, k0, n, dtype, m, s),
                 lambda runs: st.normal_runs(seed, runs, dtype, m, s))


def truncated_normal_init(shape, dtype, seed, mean=0, std=1, lo=None, hi=None, lo_std=-2, hi_std=2):
    m, s = check_real("mean", mean), check_nonneg("std", std)
    lo_ = m + s * check_bound("lo_std", lo_std) if lo is None else check_bound("lo", lo)
    hi_ = m + s * check_bound("hi_std", hi_std) if hi is None else check_bound("hi", hi)
    if not lo_ < hi_:
        raise ValueError(f"truncation bounds must satisfy lo < hi, got lo={fmt(lo_)}, hi={fmt(hi_)}")
    t = st.TruncNormal(m, s, lo_, hi_)
    return _draw(shape, dtype, lambda n: t.sample(seed, n, dtype), lambda k0, n: t.sample_at(seed, k0, n, dtype))


def scaled_dist(scale: float, n: float, distribution: str) -> tuple:
    """The zero-mean draw of variance scale / n: ("uniform", {low, high}) on ±√(3 scale / n),
    ("normal", {std}) with std √(scale / n), or ("truncated_normal", {std, lo_std, hi_std}) at ±2 std with std
    √(scale / n) / 0.8796… (Keras/JAX). The one place for these formulas (the framework names use it too)."""
    if distribution == "uniform":
        limit = math.sqrt(3 * scale / n)
        return "uniform", {"low": -limit, "high": limit}
    if distribution == "normal":
        return "normal", {"std": math.sqrt(scale / n)}
    return "truncated_normal", {"std": math.sqrt(scale / n) / KERAS_TRUNC_STD, "lo_std": -2.0, "hi_std": 2.0}


def _scaled(shape, dtype, seed, scale: float, mode, distribution, modes=FAN_MODES):
    """Variance scale / n, n the fan `mode` picks (see scaled_dist)."""
    dist = check_choice("distribution", distribution, DISTRIBUTIONS)
    n = fan_for_mode(shape, mode, modes)
    if n == 0:
        return _const(shape, dtype, 0)
    kind, kw = scaled_dist(scale, n, dist)
    if kind == "uniform":
        return _uniform(shape, dtype, seed, kw["low"], kw["high"])
    if kind == "normal":
        return normal_init(shape, dtype, seed, std=kw["std"])
    return truncated_normal_init(shape, dtype, seed, **kw)


def variance_scaling_init(shape, dtype, seed, scale=1, mode="fan_in", distribution="truncated_normal"):
    return _scaled(shape, dtype, seed, check_nonneg("scale", scale), mode, distribution)


def xavier_init(shape, dtype, seed, gain=1, distribution="uniform"):
    return _scaled(shape, dtype, seed, check_nonneg("gain", gain) ** 2, "fan_avg", distribution)


def he_init(shape, dtype, seed, gain=None, a=None, nonlinearity="relu", mode="fan_in", distribution="normal"):
    if gain is None:
        nl = check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
        if a is not None and nl != "leaky_relu":
            raise ValueError(f"a (the negative slope) is only used with nonlinearity 'leaky_relu', got nonlinearity {fmt(nl)}")
        g = calculate_gain(nl, (0 if a is None else a) if nl == "leaky_relu" else None)
    else:
        if a is not None:
            raise ValueError("give either gain or a (the leaky_relu slope), not both")
        g = check_nonneg("gain", gain)
    return _scaled(shape, dtype, seed, g ** 2, mode, distribution, ("fan_in", "fan_out"))


def lecun_init(shape, dtype, seed, distribution="normal"):
    return _scaled(shape, dtype, seed, 1.0, "fan_in", distribution)


def orthogonal_init(shape, dtype, seed, gain=1):
    g = check_real("gain", gain)
    if len(shape) < 2:
        raise ValueError(f"orthogonal needs at least 2 dimensions, got dimensions {fmt(tuple(shape))}")
    rows, cols = shape[0], _n(shape[1:])
    if rows == 0 or cols == 0:
        return np.zeros(shape, dtype)
    work = np.dtype(np.float64 if dtype == np.float64 else np.float32)   # QR in the output's precision, as PyTorch
    m = st.normal(seed, rows * cols, work, 0.0, 1.0).reshape(rows, cols)
    tall = m.T if rows < cols else m                   # PyTorch factors the tall orientation
    q, r = np.linalg.qr(tall)
    q *= np.where(np.diagonal(r) < 0, -1, 1).astype(work)   # Haar sign fix; sign(0) := +1
    if rows < cols:
        q = q.T
    q *= work.type(g)
    return st.to_dtype(q, dtype).reshape(shape)


def sparse_init(shape, dtype, seed, sparsity=None, std=0.01, nonzeros=None):
    if len(shape) != 2:
        raise ValueError(f"sparse needs a 2-dimensional shape (out, in), got {len(shape)} dimensions")
    s = check_nonneg("std", std)
    rows, cols = shape
    if nonzeros is None:
        if sparsity is None:
            raise ValueError("sparse needs sparsity (fraction of zeros per column) or nonzeros (nonzero weights per row)")
        sp = check_real("sparsity", sparsity, "a number in [0, 1]", lambda x: 0 <= x <= 1)
        groups, n, m = cols, rows, math.ceil(sp * rows)
    else:
        if sparsity is not None:
            raise ValueError("give either sparsity or nonzeros, not both")
        if not isinstance(nonzeros, (int, np.integer)) or isinstance(nonzeros, bool) or not 0 <= nonzeros <= cols:
            raise ValueError(f"nonzeros must be an integer in [0, {cols}] (the number of inputs), got {fmt(nonzeros)}")
        groups, n, m = rows, cols, cols - int(nonzeros)
    w = normal_init(shape, dtype, seed, std=s)
    chosen = st.choose_subsets(st.substream(seed, 1), groups, n, m)
    g = np.repeat(np.arange(groups), m)
    if nonzeros is None:
        w[chosen.reshape(-1), g] = 0
    else:
        w[g, chosen.reshape(-1)] = 0
    return w


def identity_init(shape, dtype, seed, gain=1, groups=1):
    g = check_real("gain", gain)
    if len(shape) < 2:
        raise ValueError(f"identity needs at least 2 dimensions, got dimensions {fmt(tuple(shape))}")
    out, inp = shape[0], shape[1]
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1 or out % groups:
        raise ValueError(f"groups must be a positive integer dividing out = {out}, got {fmt(groups)}")
    w = np.zeros(shape, dtype)
    opg = out // groups
    d = np.arange(min(opg, inp))
    o = (np.arange(groups)[:, None] * opg + d[None, :]).reshape(-1)
    centre = tuple(k // 2 for k in shape[2:])
    w[(o, np.tile(d, groups)) + centre] = st.to_dtype(np.array(g), dtype)
    return w


INITIALIZERS = {f.__name__: f for f in (zeros_init, ones_init, constant_init, uniform_init, normal_init,
                                        truncated_normal_init, variance_scaling_init, xavier_init, he_init,
                                        lecun_init, orthogonal_init, sparse_init, identity_init)}
