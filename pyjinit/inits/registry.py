"""Initializers by name, including the names (and exact defaults) of PyTorch, Keras, Flux and JAX/Flax.

An unqualified name (``kaiming_normal``, ``glorot_uniform``) means what PyTorch and Flux mean by it; a
qualified one (``keras.glorot_normal``, ``jax.lecun_normal``) reproduces that framework where it
differs — Keras and JAX draw their *_normal initializers from a truncated normal, for instance.
"""
from __future__ import annotations

import math

import numpy as np

from . import api as I
from .numpy_backend import scaled_dist
from ..support.messages import near
from typing import NamedTuple
from .validate import check_choice, check_dims, check_shape, check_nonneg, check_real, fmt

_REGISTRY: dict = {}
_ARGS: dict = {}            # framework names that take the framework's own arguments: name -> (spec, adapt)
REQUIRED = object()         # a framework argument without a default
COMMON = ("dtype", "seed", "backend", "layout")


class Use(NamedTuple):
    """What a framework name's arguments resolve to when it is another pyjinit function than its table row's
    (a zero fan gives zeros; a variance-scaling rule a uniform, normal or truncated normal draw)."""
    func: object
    kwargs: dict


def _add(name, func, description, **fixed):
    _REGISTRY[name] = (func, fixed, description)


def _own_args(name, spec: dict, adapt) -> None:
    """`name` takes its framework's arguments `spec` ({name: default or REQUIRED}); `adapt(kw, shape)` turns
    them (defaults filled in) into the pyjinit function's keyword arguments."""
    _ARGS[name] = (spec, adapt)


def _generic():
    _add("zeros", I.zeros_init, "all zeros")
    _add("ones", I.ones_init, "all ones")
    _add("constant", I.constant_init, "every element = value")
    _add("uniform", I.uniform_init, "U[low, high), default [0, 1)")
    _add("normal", I.normal_init, "N(mean, std^2), default N(0, 1)")
    _add("truncated_normal", I.truncated_normal_init, "N(mean, std^2) truncated, default at +-2 std")
    _add("variance_scaling", I.variance_scaling_init, "Keras/JAX VarianceScaling (scale, mode, distribution)")
    _add("xavier", I.xavier_init, "Xavier/Glorot; distribution= uniform (default) | normal | truncated_normal")
    _add("he", I.he_init, "He/Kaiming; distribution= normal (default) | uniform | truncated_normal")
    _add("lecun", I.lecun_init, "LeCun; distribution= normal (default) | uniform | truncated_normal")
    _add("orthogonal", I.orthogonal_init, "(semi-)orthogonal, Haar-distributed, times gain")
    _add("delta_orthogonal", I.delta_orthogonal_init,
         "conv kernel zero but its centre tap, an orthogonal (out, in) matrix times gain (Xiao et al. 2018)")
    _add("sparse", I.sparse_init, "N(0, std^2) with sparsity= zeros per column or nonzeros= per row")
    _add("identity", I.identity_init, "eye (2-D) or Dirac centre tap (N-D), times gain")
    _add("eye", I.identity_init, "= identity")
    _add("dirac", I.identity_init, "= identity")
    for fam, f in (("xavier", I.xavier_init), ("glorot", I.xavier_init), ("kaiming", I.he_init),
                   ("he", I.he_init), ("lecun", I.lecun_init)):
        for dist in ("uniform", "normal"):
            _add(f"{fam}_{dist}", f, f"{fam} with a {dist} distribution (PyTorch/Flux meaning)", distribution=dist)


def _frameworks():
    tn = "truncated_normal"
    # PyTorch torch.nn.init.*_
    for n, f, fx in (("uniform", I.uniform_init, {}), ("normal", I.normal_init, {}), ("constant", I.constant_init, {}),
                     ("ones", I.ones_init, {}), ("zeros", I.zeros_init, {}), ("eye", I.identity_init, {}),
                     ("dirac", I.identity_init, {}), ("orthogonal", I.orthogonal_init, {}),
                     ("sparse", I.sparse_init, {}),
                     ("xavier_uniform", I.xavier_init, {"distribution": "uniform"}),
                     ("xavier_normal", I.xavier_init, {"distribution": "normal"}),
                     ("kaiming_uniform", I.he_init, {"distribution": "uniform"}),
                     ("kaiming_normal", I.he_init, {"distribution": "normal"}),
                     ("trunc_normal", I.truncated_normal_init, {"lo": -2.0, "hi": 2.0})):
        _add(f"torch.{n}", f, f"torch.nn.init.{n}_", **fx)
    # Keras keras.initializers.*
    for n, f, fx in (("glorot_uniform", I.xavier_init, {"distribution": "uniform"}),
                     ("glorot_normal", I.xavier_init, {"distribution": tn}),
                     ("he_uniform", I.he_init, {"distribution": "uniform"}),
                     ("he_normal", I.he_init, {"distribution": tn}),
                     ("lecun_uniform", I.lecun_init, {"distribution": "uniform"}),
                     ("lecun_normal", I.lecun_init, {"distribution": tn}),
                     ("random_uniform", I.uniform_init, {"low": -0.05, "high": 0.05}),
                     ("random_normal", I.normal_init, {"std": 0.05}),
                     ("truncated_normal", I.truncated_normal_init, {"std": 0.05}),
                     ("variance_scaling", I.variance_scaling_init, {}), ("orthogonal", I.orthogonal_init, {}),
                     ("identity", I.identity_init, {}), ("zeros", I.zeros_init, {}), ("ones", I.ones_init, {}),
                     ("constant", I.constant_init, {})):
        _add(f"keras.{n}", f, f"keras.initializers.{n}", **fx)
    # Flux (Flux.jl / WeightInitializers.jl)
    for n, f, fx in (("glorot_uniform", I.xavier_init, {"distribution": "uniform"}),
                     ("glorot_normal", I.xavier_init, {"distribution": "normal"}),
                     ("kaiming_uniform", I.he_init, {"distribution": "uniform"}),
                     ("kaiming_normal", I.he_init, {"distribution": "normal"}),
                     ("truncated_normal", I.truncated_normal_init, {"lo": -2.0, "hi": 2.0}),
                     ("orthogonal", I.orthogonal_init, {}), ("sparse_init", I.sparse_init, {}),
                     ("identity_init", I.identity_init, {}), ("rand32", I.uniform_init, {}),
                     ("randn32", I.normal_init, {}), ("zeros32", I.zeros_init, {}), ("ones32", I.ones_init, {}),
                     ("lecun_normal", I.truncated_normal_init, {})):
        _add(f"flux.{n}", f, f"Flux.{n}", **fx)
    # JAX jax.nn.initializers.* (Flax uses these)
    for n, f, fx in (("lecun_normal", I.lecun_init, {"distribution": tn}),
                     ("lecun_uniform", I.lecun_init, {"distribution": "uniform"}),
                     ("glorot_normal", I.xavier_init, {"distribution": tn}),
                     ("glorot_uniform", I.xavier_init, {"distribution": "uniform"}),
                     ("he_normal", I.he_init, {"distribution": tn}),
                     ("he_uniform", I.he_init, {"distribution": "uniform"}),
                     ("normal", I.normal_init, {"std": 1e-2}), ("uniform", I.uniform_init, {"high": 1e-2}),
                     ("truncated_normal", I.truncated_normal_init, {"std": 1e-2}),
                     ("variance_scaling", I.variance_scaling_init, {}), ("orthogonal", I.orthogonal_init, {}),
                     ("delta_orthogonal", I.delta_orthogonal_init, {}),
                     ("constant", I.constant_init, {}), ("zeros", I.zeros_init, {}), ("ones", I.ones_init, {})):
        _add(f"jax.{n}", f, f"jax.nn.initializers.{n}", **fx)


def _torch_needs_2d(name, shape, lo=2, hi=None):
    """torch.nn.init raises for these shapes; so does the torch.* name (with torch's reason)."""
    n = len(shape)
    if n < lo or (hi is not None and n > hi):
        what = (f"{lo} to {hi}" if hi and hi != lo else str(lo)) + (" or more" if hi is None else "")
        raise ValueError(f"torch.{name} needs a tensor with {what} dimensions (as torch.nn.init), "
                         f"got dimensions {fmt(tuple(shape))}")


def _torch_args():
    def fan_checked(name, f):
        def adapt(kw, shape):
            _torch_needs_2d(name, shape)
            return f(kw)
        return adapt

    same = lambda kw: kw  # noqa: E731
    _own_args("torch.uniform", {"a": 0.0, "b": 1.0}, lambda kw, s: {"low": kw["a"], "high": kw["b"]})
    _own_args("torch.normal", {"mean": 0.0, "std": 1.0}, lambda kw, s: kw)
    _own_args("torch.constant", {"val": REQUIRED}, lambda kw, s: {"value": kw["val"]})
    _own_args("torch.ones", {}, lambda kw, s: {})
    _own_args("torch.zeros", {}, lambda kw, s: {})

    def eye(kw, shape):
        _torch_needs_2d("eye", shape, 2, 2)
        return {}

    def dirac(kw, shape):
        _torch_needs_2d("dirac", shape, 3, 5)
        return {"groups": kw["groups"]}

    _own_args("torch.eye", {}, eye)
    _own_args("torch.dirac", {"groups": 1}, dirac)
    for n in ("xavier_uniform", "xavier_normal"):
        _own_args(f"torch.{n}", {"gain": 1.0}, fan_checked(n, same))

    def kaiming(kw):
        # torch: gain = calculate_gain(nonlinearity, a); `a` only means something for leaky_relu
        leaky = kw["nonlinearity"] == "leaky_relu"
        return {"a": kw["a"] if leaky else None, "nonlinearity": kw["nonlinearity"], "mode": kw["mode"]}

    for n in ("kaiming_uniform", "kaiming_normal"):
        _own_args(f"torch.{n}", {"a": 0, "mode": "fan_in", "nonlinearity": "leaky_relu"}, fan_checked(n, kaiming))
    _own_args("torch.trunc_normal", {"mean": 0.0, "std": 1.0, "a": -2.0, "b": 2.0},
              lambda kw, s: {"mean": kw["mean"], "std": kw["std"], "lo": kw["a"], "hi": kw["b"]})
    _own_args("torch.orthogonal", {"gain": 1}, fan_checked("orthogonal", same))

    def sparse(kw, shape):
        _torch_needs_2d("sparse", shape, 2, 2)
        # torch zeroes ceil(sparsity * rows) rows of every column: beyond 1 that is every row, as sparsity 1. NaN and
        # ±inf are torch's errors (ceil); below 0, torch's ceil is negative and its randperm(rows)[:ceil] slice
        # counts from the end (sparsity -0.5 zeroes half the rows), an accident of Python slicing: refused
        sp = check_real("sparsity", kw["sparsity"], "a finite number >= 0 (torch.nn.init.sparse_ zeroes "
                        "ceil(sparsity * rows) rows per column; above 1, every row)", lambda x: x >= 0)
        return {"sparsity": min(sp, 1.0), "std": kw["std"]}

    _own_args("torch.sparse", {"sparsity": REQUIRED, "std": 0.01}, sparse)


def _draw_of(scale, n, distribution) -> Use:
    """The pyjinit function and arguments of a zero-mean draw of variance scale / n (numpy_backend.scaled_dist);
    a zero fan gives zeros (as the unqualified initializers)."""
    kind, kw = scaled_dist(scale, n, distribution)
    return Use({"constant": I.constant_init, "uniform": I.uniform_init, "normal": I.normal_init,
                "truncated_normal": I.truncated_normal_init}[kind], kw)


def _keras_order(torch_shape: tuple) -> tuple:
    return tuple(torch_shape[2:]) + (torch_shape[1], torch_shape[0]) if len(torch_shape) >= 2 else tuple(torch_shape)


def keras_fans(shape: tuple) -> tuple:
    """Keras 3's compute_fans of a Keras-layout shape (*kernel, in, out): () -> (1, 1); (n,) -> (n, n);
    (in, out); kernels: in and out times the receptive field."""
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    rf = math.prod(shape[:-2])
    return shape[-2] * rf, shape[-1] * rf


KERAS_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


def _keras_scaled(scale, mode, distribution, torch_shape):
    """keras.initializers.VarianceScaling: scale / max(1, fan); "normal" means truncated (as Keras)."""
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not scale > 0:
        raise ValueError(f"scale must be a number > 0 (as Keras), got {fmt(scale)}")
    d = distribution.lower() if isinstance(distribution, str) else distribution
    d = "truncated_normal" if d == "normal" else d
    d = check_choice("distribution", d, KERAS_DISTRIBUTIONS)
    m = check_choice("mode", mode, ("fan_in", "fan_out", "fan_avg"))
    fi, fo = keras_fans(_keras_order(torch_shape))
    n = {"fan_in": fi, "fan_out": fo, "fan_avg": (fi + fo) / 2}[m]
    return _draw_of(scale, max(1.0, n), "normal" if d == "untruncated_normal" else d)


def _keras_args():
    _own_args("keras.variance_scaling", {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"},
              lambda kw, s: _keras_scaled(kw["scale"], kw["mode"], kw["distribution"], s))
    for n, (scale, mode, dist) in {"glorot_uniform": (1.0, "fan_avg", "uniform"),
                                    "glorot_normal": (1.0, "fan_avg", "truncated_normal"),
                                    "he_uniform": (2.0, "fan_in", "uniform"),
                                    "he_normal": (2.0, "fan_in", "truncated_normal"),
                                    "lecun_uniform": (1.0, "fan_in", "uniform"),
                                    "lecun_normal": (1.0, "fan_in", "truncated_normal")}.items():
        _own_args(f"keras.{n}", {}, lambda kw, s, a=(scale, mode, dist): _keras_scaled(*a, s))
    _own_args("keras.random_uniform", {"minval": -0.05, "maxval": 0.05},
              lambda kw, s: {"low": kw["minval"], "high": kw["maxval"]})
    _own_args("keras.random_normal", {"mean": 0.0, "stddev": 0.05}, lambda kw, s: {"mean": kw["mean"], "std": kw["stddev"]})
    _own_args("keras.truncated_normal", {"mean": 0.0, "stddev": 0.05},
              lambda kw, s: {"mean": kw["mean"], "std": kw["stddev"], "lo_std": -2.0, "hi_std": 2.0})
    _own_args("keras.orthogonal", {"gain": 1.0}, lambda kw, s: {"gain": kw["gain"]})

    def identity(kw, shape):
        if len(shape) != 2:
            raise ValueError(f"keras.identity needs a 2-D shape (as Keras), got dimensions {fmt(tuple(shape))}")
        return {"gain": kw["gain"]}

    _own_args("keras.identity", {"gain": 1.0}, identity)
    _own_args("keras.constant", {"value": 0.0}, lambda kw, s: {"value": kw["value"]})
    _own_args("keras.zeros", {}, lambda kw, s: {})
    _own_args("keras.ones", {}, lambda kw, s: {})


def jax_fans(shape: tuple, in_axis=-2, out_axis=-1, batch_axis=()) -> tuple:
    """jax.nn.initializers' _compute_fans of a JAX/Flax-layout shape (JAX 0.10): an axis argument is an int or
    a sequence of ints (their sizes multiplied); the receptive field is what the in, out and batch axes leave.
    A 0-D or 1-D shape needs an explicit ``in_axis`` (the default -2 is refused, as JAX); an axis outside the
    shape is an ``AxisError`` (a ValueError and an IndexError: JAX's is an IndexError)."""
    from numpy.exceptions import AxisError

    if isinstance(in_axis, int) and in_axis == -2 and len(shape) <= 1:
        raise ValueError(f"jax initializers need a shape of at least 2 dimensions with the default in_axis "
                         f"(as JAX), got {fmt(tuple(shape))}: give in_axis (and out_axis) explicitly")

    def size(argname, ax):
        axes = (ax,) if isinstance(ax, int) else ax
        try:
            axes = tuple(axes)
        except TypeError:
            axes = None
        if axes is None or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
            raise TypeError(f"{argname} must be an int or a sequence of ints (as JAX), got {fmt(ax)}")
        for a in axes:
            if not -len(shape) <= a < len(shape):
                raise AxisError(f"{argname} {a} is out of range for a shape of {len(shape)} dimensions "
                                f"{fmt(tuple(shape))}")
        return math.prod(shape[a] for a in axes)

    i, o, b = size("in_axis", in_axis), size("out_axis", out_axis), size("batch_axis", batch_axis)
    rf = math.prod(shape) / i / o / b if i and o and b else 0
    return i * rf, o * rf


JAX_DISTRIBUTIONS = ("truncated_normal", "normal", "uniform")


def _jax_scaled(scale, mode, distribution, torch_shape, in_axis=-2, out_axis=-1, batch_axis=()):
    """jax.nn.initializers.variance_scaling: variance scale / fan (the fan of `mode` over the axes)."""
    d = check_choice("distribution", distribution, JAX_DISTRIBUTIONS)
    m = check_choice("mode", mode, ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"))
    fi, fo = jax_fans(_keras_order(torch_shape), in_axis, out_axis, batch_axis)
    n = {"fan_in": fi, "fan_out": fo, "fan_avg": (fi + fo) / 2, "fan_geo_avg": math.sqrt(fi * fo)}[m]
    return _draw_of(scale, n, d)


def _jax_args():
    axes = {"in_axis": -2, "out_axis": -1, "batch_axis": ()}

    def scaled(scale, mode, dist):
        return lambda kw, s: _jax_scaled(scale, mode, dist, s, kw["in_axis"], kw["out_axis"], kw["batch_axis"])

    _own_args("jax.variance_scaling", {"scale": REQUIRED, "mode": REQUIRED, "distribution": REQUIRED, **axes},
              lambda kw, s: _jax_scaled(kw["scale"], kw["mode"], kw["distribution"], s, kw["in_axis"],
                                        kw["out_axis"], kw["batch_axis"]))
    for n, a in {"glorot_uniform": (1.0, "fan_avg", "uniform"), "glorot_normal": (1.0, "fan_avg", "truncated_normal"),
                 "he_uniform": (2.0, "fan_in", "uniform"), "he_normal": (2.0, "fan_in", "truncated_normal"),
                 "lecun_uniform": (1.0, "fan_in", "uniform"),
                 "lecun_normal": (1.0, "fan_in", "truncated_normal")}.items():
        _own_args(f"jax.{n}", dict(axes), scaled(*a))
    for alias, n in (("xavier_uniform", "glorot_uniform"), ("xavier_normal", "glorot_normal"),
                     ("kaiming_uniform", "he_uniform"), ("kaiming_normal", "he_normal")):   # JAX's own aliases
        func, fixed, _ = _REGISTRY[f"jax.{n}"]
        _REGISTRY[f"jax.{alias}"] = (func, fixed, f"jax.nn.initializers.{alias} (= jax.nn.initializers.{n})")
        _ARGS[f"jax.{alias}"] = _ARGS[f"jax.{n}"]
    _own_args("jax.normal", {"stddev": 1e-2}, lambda kw, s: {"std": kw["stddev"]})
    _own_args("jax.uniform", {"scale": 1e-2}, lambda kw, s: {"low": 0.0, "high": kw["scale"]})
    # stddev times a standard normal truncated to [lower, upper] (no variance correction, as JAX)
    _own_args("jax.truncated_normal", {"stddev": 1e-2, "lower": -2.0, "upper": 2.0},
              lambda kw, s: {"std": kw["stddev"], "lo_std": kw["lower"], "hi_std": kw["upper"]})

    def orthogonal(kw, shape):                    # `shape` is PyTorch order; column_axis counts the Flax layout's
        if len(shape) < 2:                        # the core's "at least 2 dimensions" error comes first, as JAX's
            return {"gain": kw["scale"]}
        c = _column_axis("jax.orthogonal", kw["column_axis"], len(shape))
        if c == len(shape) - 1:
            return {"gain": kw["scale"]}
        return Use(jax_orthogonal_axis, {"gain": kw["scale"], "column_axis": c})

    _own_args("jax.orthogonal", {"scale": 1.0, "column_axis": -1}, orthogonal)

    def delta_orthogonal(kw, shape):              # JAX's checks and messages; `shape` is PyTorch order here
        # JAX applies orthogonal(column_axis) to the (in, out) matrix shape[-2:]: with in <= out, column_axis -2
        # (or 0) gives the same matrix as -1 (QR of the same (out, in) normals, transposed), so any axis of a 2-D
        # shape is the one centre tap
        _column_axis("jax.delta_orthogonal", kw["column_axis"], 2)
        if len(shape) not in (3, 4, 5):
            raise ValueError("jax.delta_orthogonal: Delta orthogonal initializer requires a 3D, 4D or 5D shape "
                             f"(as JAX), got dimensions {fmt(tuple(shape))}")
        if shape[0] < shape[1]:
            raise ValueError(f"jax.delta_orthogonal: `fan_in` must be less or equal than `fan_out` (as JAX): "
                             f"in = {shape[1]}, out = {shape[0]}")
        return {"gain": kw["scale"]}

    _own_args("jax.delta_orthogonal", {"scale": 1.0, "column_axis": -1}, delta_orthogonal)
    _own_args("jax.constant", {"value": REQUIRED}, lambda kw, s: Use(I.constant_init, {"value": kw["value"]}))
    _own_args("jax.zeros", {}, lambda kw, s: {})
    _own_args("jax.ones", {}, lambda kw, s: {})


def flux_fans(torch_shape: tuple) -> tuple:
    """Flux's nfan for the same array: () -> (1, 1); a vector (n,) -> (1, n); (out, in) -> (in, out); kernels
    (Flux dims k..., in, out) -> in and out times the receptive field (the same as PyTorch's for N-D)."""
    if len(torch_shape) == 0:
        return 1, 1
    if len(torch_shape) == 1:
        return 1, torch_shape[0]
    rf = math.prod(torch_shape[2:])
    return torch_shape[1] * rf, torch_shape[0] * rf


def _column_axis(name, axis, ndim: int) -> int:
    """JAX's column_axis (an int indexing the Flax-layout shape of `ndim` dimensions) as 0..ndim-1; out of range
    is an AxisError (a ValueError and an IndexError; JAX's is an IndexError)."""
    from numpy.exceptions import AxisError

    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: column_axis must be an int (as JAX), got {fmt(axis)}")
    if not -ndim <= axis < ndim:
        raise AxisError(f"{name}: column_axis {int(axis)} is out of range for a shape of {ndim} dimensions")
    return int(axis) % ndim


def jax_orthogonal_axis(shape, gain=1.0, column_axis=-1, *, dtype="float32", seed=None, backend=None,
                        layout="torch"):
    """``jax.nn.initializers.orthogonal(scale=gain, column_axis=c)`` with any column axis, as JAX defines it: the
    (semi-)orthogonal array of the Flax-layout shape with axis c moved last (columns = that axis, rows = the
    product of the others), the axis then moved back to c: ``moveaxis(init("jax.orthogonal", moved, ...), -1, c)``
    (docs/stream.md §5). ``column_axis`` counts axes of the Flax/Keras layout (*kernel, in, out), as JAX's."""
    lay, dims = check_shape(shape, layout)
    k = _keras_order(dims)
    c = _column_axis("jax.orthogonal", column_axis, len(k))
    moved = k[:c] + k[c + 1:] + (k[c],)
    a = np.moveaxis(I.orthogonal_init(moved, gain, dtype=dtype, seed=seed, backend=backend, layout="keras"), -1, c)
    if lay == "keras":
        return a
    nd = a.ndim                                   # Flax layout (*kernel, in, out) -> PyTorch (out, in, *kernel)
    return a.transpose((nd - 1, nd - 2) + tuple(range(nd - 2)))


def flux_orthogonal_vector(shape, gain=1.0, *, dtype="float32", seed=None, backend=None, layout="torch"):
    """Flux's ``orthogonal(n; gain)`` of a vector: the 1 x n orthogonal matrix (its one row of norm 1) as a
    vector, times gain: ``orthogonal_init((1, n), gain)`` reshaped, i.e. gain * x / |x| for the stream's n
    normals x (docs/stream.md §5)."""
    dims = check_dims(shape)
    if len(dims) != 1:
        raise ValueError(f"flux_orthogonal_vector needs a 1-D shape, got dimensions {fmt(dims)}")
    return I.orthogonal_init((1, dims[0]), gain, dtype=dtype, seed=seed, backend=backend).reshape(dims)


def _flux_args():
    def glorot(dist):                     # variance gain² / fan_avg, as xavier_init (the same values in 2-D)
        return lambda kw, shape: _draw_of(kw["gain"] ** 2, sum(flux_fans(shape)) / 2, dist)

    def kaiming(dist):                    # variance gain² / fan_in, as he_init
        return lambda kw, shape: _draw_of(kw["gain"] ** 2, flux_fans(shape)[0], dist)

    _own_args("flux.glorot_uniform", {"gain": 1.0}, glorot("uniform"))
    _own_args("flux.glorot_normal", {"gain": 1.0}, glorot("normal"))
    _own_args("flux.kaiming_uniform", {"gain": math.sqrt(2)}, kaiming("uniform"))
    _own_args("flux.kaiming_normal", {"gain": math.sqrt(2)}, kaiming("normal"))
    _own_args("flux.truncated_normal", {"mean": 0.0, "std": 1.0, "lo": -2.0, "hi": 2.0}, lambda kw, s: dict(kw))
    def orthogonal(kw, shape):            # Flux: a vector (n,) is the 1 x n matrix: gain times a unit vector
        if len(shape) == 1:
            return Use(flux_orthogonal_vector, {"gain": kw["gain"]})
        return {"gain": kw["gain"]}

    _own_args("flux.orthogonal", {"gain": 1.0}, orthogonal)
    # Flux.lecun_normal(dims...; gain = 1): Flux's truncated_normal with mean 0, std gain / sqrt(fan_in) (Flux's
    # nfan) and its absolute bounds lo = -2, hi = 2
    _own_args("flux.lecun_normal", {"gain": 1.0},
              lambda kw, shape: {"mean": 0.0, "std": check_nonneg("gain", kw["gain"]) / math.sqrt(flux_fans(shape)[0])
                                 if flux_fans(shape)[0] else 0.0, "lo": -2.0, "hi": 2.0})

    def sparse(kw, shape):
        sp = kw["sparsity"]
        if isinstance(sp, (int, float)) and not isinstance(sp, bool):
            sp = min(1.0, max(0.0, sp))          # Flux: min(1, sparsity); below 0 zeroes no row
        return {"sparsity": sp, "std": kw["std"]}

    _own_args("flux.sparse_init", {"sparsity": REQUIRED, "std": 0.01}, sparse)
    _own_args("flux.identity_init", {"gain": 1.0, "shift": 0},
              lambda kw, s: Use(I.flux_identity_init, {"gain": kw["gain"], "shift": kw["shift"]}))
    for n in ("rand32", "randn32", "zeros32", "ones32"):
        _own_args(f"flux.{n}", {}, lambda kw, s: {})


def _flax_aliases():
    """flax.linen.initializers re-exports jax.nn.initializers: flax.* names are the jax.* ones."""
    for name in [n for n in _REGISTRY if n.startswith("jax.")]:
        flax = "flax." + name[4:]
        func, fixed, _ = _REGISTRY[name]
        _REGISTRY[flax] = (func, fixed, f"flax.linen.initializers.{name[4:]} (= jax.nn.initializers)")
        if name in _ARGS:
            _ARGS[flax] = _ARGS[name]


_generic()
_frameworks()
_torch_args()
_keras_args()
_jax_args()
_flux_args()
_flax_aliases()


def initializers() -> dict:
    """{name: description} of every name `init` accepts."""
    return {k: v[2] for k, v in sorted(_REGISTRY.items())}


def unknown_name_message(name) -> str:
    """The error for a name that is not an initializer: near matches, the plain names, where to see all."""
    guess = near(name, _REGISTRY)
    return (f"name must be an initializer name; got {fmt(name)}"
            + (f". Did you mean {' or '.join(map(fmt, guess))}?" if guess else ".")
            + f" `python -m pyjinit list` (or pyjinit.initializers()) shows all {len(_REGISTRY)} names "
            "with their arguments.")


def check_name(name) -> str:
    """`name` if it is an initializer name, else the ValueError of `unknown_name_message`."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(unknown_name_message(name))
    return name


def resolve(name, shape, kwargs: dict) -> tuple:
    """(pyjinit function, its keyword arguments) that `name` with `kwargs` means on `shape`: the one place a
    name is resolved. A framework name's own arguments are checked and mapped (defaults filled in); its table
    row's fixed values (e.g. the distribution it names) are added, and cannot be overridden."""
    check_name(name)
    func, fixed, _ = _REGISTRY[name]
    if name in _ARGS:
        spec, adapt = _ARGS[name]
        if "generator" in kwargs:
            raise TypeError(f"{name}: generator= is torch's random generator; pyjinit draws from its own stream "
                            "(docs/stream.md): pass seed= instead")
        own = {k: v for k, v in kwargs.items() if k not in COMMON}
        unknown = sorted(set(own) - set(spec))
        if unknown:
            takes = ", ".join(spec) or "no arguments"
            raise TypeError(f"{name} takes {takes} (and {', '.join(COMMON)}); got {', '.join(unknown)}")
        filled = {**spec, **own}
        missing = [k for k, v in filled.items() if v is REQUIRED]
        if missing:
            raise TypeError(f"{name} needs {', '.join(missing)}")
        common = {k: v for k, v in kwargs.items() if k in COMMON}
        dims = I.torch_shape(check_dims(shape), check_choice("layout", kwargs.get("layout", "torch"), I.LAYOUTS))
        mapped = adapt(filled, dims)
        if isinstance(mapped, Use):
            return mapped.func, {**common, **mapped.kwargs}
        return func, {**fixed, **common, **mapped}
    if "distribution" in fixed and "distribution" in kwargs and kwargs["distribution"] != fixed["distribution"]:
        family = {I.xavier_init: "xavier", I.he_init: "he", I.lecun_init: "lecun"}.get(func, name)
        raise ValueError(f"{name} fixes distribution={fmt(fixed['distribution'])}; "
                         f"use {family} with distribution= to choose another")
    return func, {**fixed, **kwargs}


def arguments(name) -> dict:
    """{argument: default} that `init(name, shape, ...)` accepts besides the common dtype/seed/backend/layout
    (a framework name's fixed distribution left out, its other fixed values shown as defaults)."""
    import inspect

    func, fixed, _ = _REGISTRY[check_name(name)]
    if name in _ARGS:
        return {k: ("required" if v is REQUIRED else v) for k, v in _ARGS[name][0].items()}
    out = {}
    for p in list(inspect.signature(func).parameters.values())[1:]:
        if p.kind is p.KEYWORD_ONLY or (p.name == "distribution" and "distribution" in fixed):
            continue
        out[p.name] = fixed.get(p.name, p.default)
    return out


def init(name, shape, **kwargs):
    """Initialize by name: ``init("kaiming_normal", (128, 784), seed=0)``, ``init("keras.he_normal", …)``.
    Keyword arguments are those of the initializer; a framework name's fixed defaults can be
    overridden except the distribution it names.

    >>> init("glorot_uniform", (3, 2), seed=0).shape
    (3, 2)
    """
    func, kw = resolve(name, shape, kwargs)
    return func(shape, **kw)


def init_block(name, shape, index, *, seed, **kwargs):
    """The block ``index`` of ``pyjinit.init(name, shape, seed=seed, **kwargs)`` without making the whole
    array: equal to ``pyjinit.init(name, shape, seed=seed, **kwargs)[index]``. ``index`` is a tuple of slices
    (step 1), ``(start, stop)`` pairs or integers over ``shape`` (in its ``layout``); missing trailing
    dimensions are whole, and an integer keeps its dimension (length 1).

    Blocks exist for the elementwise initializers, whose element k depends only on (seed, k): zeros, ones,
    constant, uniform, normal, truncated_normal, variance_scaling, xavier, he, lecun and every framework name
    built on them. Orthogonal, sparse and identity depend on the whole array and raise ValueError.

    >>> w = init("he", (6, 4), seed=1); b = init_block("he", (6, 4), (slice(2, 5), slice(1, 3)), seed=1)
    >>> bool((b == w[2:5, 1:3]).all())
    True
    """
    func, kw = resolve(name, shape, {**kwargs, "seed": seed})
    if func not in I._RUN_NAMES:
        raise ValueError(f"{name} has no block form (its values are not drawn elementwise)")
    return I.block(func, shape, index, kw)
