"""The NumPy backend: the reference implementation of every initializer.

Twin of ``julia/JInit/src/inits.jl``: the same names, keyword arguments, validation messages and
stream positions. Every function takes a PyTorch-order ``shape`` (out, in, *kernel), a NumPy
``dtype`` and an integer ``seed`` and returns a C-ordered array of that shape.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import stream as st
from .keys import sparse_key
from .validate import check_bound, check_nonneg, check_real, fmt, he_gain, scaled_fan

KERAS_TRUNC_STD = 0.87962566103423978   # std of N(0, 1) truncated to [-2, 2] (Keras, JAX)


def _n(shape) -> int:
    return math.prod(shape)


# --- draws: what an initializer resolves to, and one function that samples it ------------------------------
# An elementwise initializer resolves, once, into a `Draw`: its distribution and parameters, with the fans the
# rule gave already applied. `sample(draw, shape, dtype, seed, index)` makes the whole array or, with `index`,
# any block of it: element k (row-major over the PyTorch-order shape) is a function of (seed, k) alone, so a
# block [a0:b0, a1:b1, ...] is generated from its contiguous runs of k. The device samplers
# (frameworks/torch_sampler.py, frameworks/jax_sampler.py) implement the same draws.


class Draw(NamedTuple):
    """An elementwise draw: kind "constant" {value}, "uniform" {low, high}, "normal" {mean, std} or
    "truncated_normal" {mean, std, lo, hi} (absolute bounds, ±inf allowed)."""
    kind: str
    params: dict


BLOCKWISE = ("zeros_init", "ones_init", "constant_init", "uniform_init", "normal_init", "truncated_normal_init",
             "variance_scaling_init", "xavier_init", "he_init", "lecun_init")


def draw_of(name: str, shape, **kwargs) -> Draw:
    """The validated `Draw` of the elementwise initializer `name` (a BLOCKWISE name) on `shape` (PyTorch order)."""
    if name not in BLOCKWISE:
        raise ValueError(f"{name.removesuffix('_init')} has no block form (its values depend on the whole array); "
                         f"blocks exist for {', '.join(n.removesuffix('_init') for n in BLOCKWISE)}")
    return _DRAWS[name](tuple(shape), **kwargs)


def sample(draw: Draw, shape, dtype, seed: int, index=None) -> np.ndarray:
    """The array of `draw` (PyTorch-order `shape`, `dtype`, `seed`), or its block `index` (((start, stop), ...)
    per dimension), equal to slicing the whole array, without making it."""
    kind, p = draw
    if kind == "constant":
        value = st.to_dtype(np.array(p["value"]), dtype)
        return np.full(shape if index is None else tuple(b - a for a, b in index), value, dtype)
    if kind == "uniform":
        full = lambda n: st.uniform(seed, n, dtype, p["low"], p["high"])           # noqa: E731
        at = lambda k0, n: st.uniform_at(seed, k0, n, dtype, p["low"], p["high"])  # noqa: E731
        runs = None
    elif kind == "normal":
        full = lambda n: st.normal(seed, n, dtype, p["mean"], p["std"])            # noqa: E731
        at = lambda k0, n: st.normal_at(seed, k0, n, dtype, p["mean"], p["std"])   # noqa: E731
        runs = lambda r: st.normal_runs(seed, r, dtype, p["mean"], p["std"])       # noqa: E731
    else:
        t = st.TruncNormal(p["mean"], p["std"], p["lo"], p["hi"])
        full, at, runs = (lambda n: t.sample(seed, n, dtype)), (lambda k0, n: t.sample_at(seed, k0, n, dtype)), None
    if index is None:
        return full(_n(shape)).reshape(shape)
    bshape, rs = _runs(shape, index)
    if runs is not None:
        return runs(rs).reshape(bshape)
    out = np.empty(_n(bshape), dtype)
    pos = 0
    for k0, m in rs:
        out[pos:pos + m] = at(k0, m)
        pos += m
    return out.reshape(bshape)


def block(name: str, shape, dtype, seed, index, **kwargs):
    """The block `index` of INITIALIZERS[name](shape, dtype, seed, **kwargs), without making the whole array."""
    return sample(draw_of(name, shape, **kwargs), shape, dtype, seed, tuple(index))


def _runs(shape, index):
    """(block shape, [(k0, length)]): the contiguous runs of logical indices of a block, in block order."""
    bshape = tuple(b - a for a, b in index)
    if 0 in bshape:
        return bshape, []
    if not shape:                                # a 0-d array: its one element
        return (), [(0, 1)]
    j = len(shape) - 1
    while j > 0 and tuple(index[j]) == (0, shape[j]):
        j -= 1                                   # dims after j are whole: a run spans them
    strides = [math.prod(shape[i + 1:]) for i in range(len(shape))]
    run = (index[j][1] - index[j][0]) * strides[j]
    starts = [index[j][0] * strides[j]]
    for i in range(j - 1, -1, -1):
        starts = [r * strides[i] + k for r in range(*index[i]) for k in starts]
    return bshape, [(k, run) for k in sorted(starts)]


def _elementwise(draw_fn):
    """The backend function (shape, dtype, seed, **kw) of an elementwise initializer from its Draw rule."""
    def f(shape, dtype, seed, **kwargs):
        return sample(draw_fn(tuple(shape), **kwargs), shape, dtype, seed)
    f.__name__ = draw_fn.__name__.replace("_draw", "_init")
    return f


def zeros_draw(shape):
    return Draw("constant", {"value": 0.0})


def ones_draw(shape):
    return Draw("constant", {"value": 1.0})


def constant_draw(shape, value=0):
    return Draw("constant", {"value": check_real("value", value)})


def uniform_draw(shape, low=0, high=1):
    lo, hi = check_real("low", low), check_real("high", high)
    if not lo <= hi:
        raise ValueError(f"low must be <= high, got low={fmt(lo)}, high={fmt(hi)}")
    return Draw("uniform", {"low": lo, "high": hi})


def normal_draw(shape, mean=0, std=1):
    return Draw("normal", {"mean": check_real("mean", mean), "std": check_nonneg("std", std)})


def truncated_normal_draw(shape, mean=0, std=1, lo=None, hi=None, lo_std=-2, hi_std=2):
    m, s = check_real("mean", mean), check_nonneg("std", std)
    lo_ = m + s * check_bound("lo_std", lo_std) if lo is None else check_bound("lo", lo)
    hi_ = m + s * check_bound("hi_std", hi_std) if hi is None else check_bound("hi", hi)
    if not lo_ < hi_:
        raise ValueError(f"truncation bounds must satisfy lo < hi, got lo={fmt(lo_)}, hi={fmt(hi_)}")
    return Draw("truncated_normal", {"mean": m, "std": s, "lo": lo_, "hi": hi_})


def scaled_dist(scale: float, n: float, distribution: str) -> Draw:
    """The zero-mean draw of variance scale / n: uniform on ±√(3 scale / n), normal with std √(scale / n), or
    truncated normal at ±2 std with std √(scale / n) / 0.8796… (Keras/JAX); n = 0 gives zeros. The one place
    for these formulas (the framework names use it too)."""
    if not n:
        return Draw("constant", {"value": 0.0})
    if distribution == "uniform":
        limit = math.sqrt(3 * scale / n)
        return Draw("uniform", {"low": -limit, "high": limit})
    if distribution == "normal":
        return Draw("normal", {"mean": 0.0, "std": math.sqrt(scale / n)})
    std = math.sqrt(scale / n) / KERAS_TRUNC_STD
    return Draw("truncated_normal", {"mean": 0.0, "std": std, "lo": -2.0 * std, "hi": 2.0 * std})


def variance_scaling_draw(shape, scale=1, mode="fan_in", distribution="truncated_normal"):
    s = check_nonneg("scale", scale)
    return scaled_dist(s, *scaled_fan(shape, mode, distribution))


def xavier_draw(shape, gain=1, distribution="uniform"):
    g = check_nonneg("gain", gain)
    return scaled_dist(g ** 2, *scaled_fan(shape, "fan_avg", distribution))


def he_draw(shape, gain=None, a=None, nonlinearity="relu", mode="fan_in", distribution="normal"):
    g = he_gain(gain, a, nonlinearity)
    return scaled_dist(g ** 2, *scaled_fan(shape, mode, distribution, ("fan_in", "fan_out")))


def lecun_draw(shape, distribution="normal"):
    return scaled_dist(1.0, *scaled_fan(shape, "fan_in", distribution))


_DRAWS = {f.__name__.replace("_draw", "_init"): f for f in (
    zeros_draw, ones_draw, constant_draw, uniform_draw, normal_draw, truncated_normal_draw, variance_scaling_draw,
    xavier_draw, he_draw, lecun_draw)}


def _normal_values(shape, dtype, seed, std):
    return sample(Draw("normal", {"mean": 0.0, "std": std}), shape, dtype, seed)


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
    w = _normal_values(shape, dtype, seed, s)
    chosen = st.choose_subsets(sparse_key(seed), groups, n, m)
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


def delta_orthogonal_init(shape, dtype, seed, gain=1):
    """Delta-orthogonal (Xiao et al. 2018), in PyTorch order (out, in, *k), 3 to 5 dimensions, out >= in (as
    jax.nn.initializers.delta_orthogonal, whose (*k, in, out) is the same array): zeros, except the centre tap
    ((k - 1) // 2 in every kernel dimension, JAX's) holds orthogonal_init((out, in), gain) drawn with `seed`."""
    check_real("gain", gain)
    if len(shape) not in (3, 4, 5):
        raise ValueError("delta_orthogonal needs a 3-D, 4-D or 5-D shape (out, in, *kernel), got dimensions "
                         f"{fmt(tuple(shape))}")
    if shape[0] < shape[1]:
        raise ValueError(f"delta_orthogonal needs in <= out (fan_in <= fan_out, as JAX), got out = {shape[0]}, "
                         f"in = {shape[1]}")
    w = np.zeros(shape, dtype)
    w[(slice(None), slice(None)) + tuple((k - 1) // 2 for k in shape[2:])] = \
        orthogonal_init((shape[0], shape[1]), dtype, seed, gain)
    return w


INITIALIZERS = {**{name: _elementwise(rule) for name, rule in _DRAWS.items()},
                **{f.__name__: f for f in (orthogonal_init, sparse_init, identity_init, delta_orthogonal_init)}}
(zeros_init, ones_init, constant_init, uniform_init, normal_init, truncated_normal_init, variance_scaling_init, xavier_init,
 he_init, lecun_init) = (INITIALIZERS[n] for n in _DRAWS)
