"""Argument validation, fans and gains: the one place for these facts on the Python side.

Twin of ``julia/JInit/src/validate.jl``; both produce the same messages (tests compare them).
"""
from __future__ import annotations

import math
import numbers

import numpy as np


def fmt(x) -> str:
    """Render a value in an error message the way the Julia twin does."""
    if isinstance(x, str):
        return "'" + x + "'"
    if isinstance(x, (bool, np.bool_)):
        return "true" if x else "false"
    if isinstance(x, tuple):
        return "(" + ", ".join(fmt(v) for v in x) + ("," if len(x) == 1 else "") + ")"
    if isinstance(x, (np.integer, np.floating)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Inf" if x > 0 else "-Inf")
    return repr(x)


def check_choice(argname: str, value, allowed) -> str:
    """`value` if it is one of `allowed`, else ValueError "`argname` must be one of …; got 'x'"."""
    if isinstance(value, str) and value in allowed:
        return value
    raise ValueError(f"{argname} must be one of {', '.join(allowed)}; got {fmt(value)}")


def _is_real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def check_real(argname: str, x, what: str = "a finite number", ok=lambda v: True) -> float:
    """`x` as float if it is a finite real number with ok(x), else ValueError naming `argname`."""
    if not _is_real(x) or not math.isfinite(x) or not ok(x):
        raise ValueError(f"{argname} must be {what}, got {fmt(x)}")
    return float(x)


def check_bound(argname: str, x) -> float:
    """A truncation bound: a real number, +-inf allowed (one-sided truncation), NaN not."""
    if not _is_real(x) or math.isnan(x):
        raise ValueError(f"{argname} must be a number or ±Inf, got {fmt(x)}")
    return float(x)


def check_nonneg(argname: str, x) -> float:
    return check_real(argname, x, "a finite number >= 0", lambda v: v >= 0)


def check_int(argname: str, x, lo: int, hi: int | None = None) -> int:
    """`x` as int if it is an integer in [lo, hi]."""
    if not isinstance(x, (numbers.Integral, np.integer)) or isinstance(x, (bool, np.bool_)) \
            or x < lo or (hi is not None and x > hi):
        rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ValueError(f"{argname} must be an integer {'in ' if hi is not None else ''}{rng}, got {fmt(x)}")
    return int(x)


def check_nonempty(argname: str, values) -> list:
    """`values` as a list (a lone string is one value), else ValueError if it is empty."""
    if isinstance(values, str):
        values = [values]
    values = list(values)
    if not values:
        raise ValueError(f"{argname} must hold at least one value")
    return values


def check_seed(seed) -> int:
    if not isinstance(seed, (numbers.Integral, np.integer)) or isinstance(seed, (bool, np.bool_)) \
            or seed < 0 or seed >= 1 << 128:
        raise ValueError(f"seed must be an integer in [0, 2^128), got {fmt(seed)}")
    return int(seed)


def check_dims(dims) -> tuple:
    """A shape as a tuple of ints (an int n means (n,))."""
    if isinstance(dims, (numbers.Integral, np.integer)) and not isinstance(dims, bool):
        dims = (dims,)
    try:
        t = tuple(dims)
    except TypeError:
        t = None
    if hasattr(dims, "shape") and hasattr(dims, "dtype"):          # an array or a tensor, not a shape
        raise ValueError(f"dimensions must be non-negative integers, got a {type(dims).__module__.split('.')[0]}."
                         f"{type(dims).__name__} of shape {tuple(dims.shape)} (pass its .shape to get a new array, "
                         "or fill a torch tensor in place with pyjinit.torch.init_(tensor, name))")
    if t is None or not all(isinstance(d, (numbers.Integral, np.integer)) and not isinstance(d, (bool, np.bool_))
                            and d >= 0 for d in t):
        shown = t if t is not None else dims
        if len(fmt(shown)) > 200:
            shown = f"<{type(dims).__name__} with {len(t) if t is not None else '?'} entries>"
            raise ValueError(f"dimensions must be non-negative integers, got {shown}")
        raise ValueError(f"dimensions must be non-negative integers, got {fmt(shown)}")
    return tuple(int(d) for d in t)


LAYOUTS = ("torch", "keras")


def torch_shape(shape: tuple, layout: str) -> tuple:
    """PyTorch-order (out, in, *kernel) shape of a shape in `layout` ('keras': (*kernel, in, out))."""
    if layout == "keras" and len(shape) >= 2:
        return (shape[-1], shape[-2]) + shape[:-2]
    return shape


def check_shape(shape, layout) -> tuple:
    """(layout, PyTorch-order dims) of a shape given in `layout` (checked)."""
    lay = check_choice("layout", layout, LAYOUTS)
    return lay, torch_shape(check_dims(shape), lay)


DTYPES = ("float16", "float32", "float64")


def check_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}; got {fmt(dt.name if dt is not None else dtype)}")
    return dt


def fans(shape: tuple) -> tuple[int, int]:
    """(fan_in, fan_out) of a PyTorch-order shape (out, in, *kernel):
    fan_in = in * prod(kernel), fan_out = out * prod(kernel). Undefined for fewer than 2 dimensions."""
    if len(shape) < 2:
        raise ValueError(f"fans are undefined for an array with fewer than 2 dimensions, got dimensions {fmt(tuple(shape))}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


FAN_MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")


def fan_for_mode(shape: tuple, mode, allowed=FAN_MODES) -> float:
    """The fan `mode` selects: fan_in, fan_out, their mean or their geometric mean."""
    m = check_choice("mode", mode, allowed)
    fi, fo = fans(shape)
    if m == "fan_in":
        return float(fi)
    if m == "fan_out":
        return float(fo)
    if m == "fan_avg":
        return (fi + fo) / 2
    return math.sqrt(float(fi) * float(fo))


DISTRIBUTIONS = ("uniform", "normal", "truncated_normal")


def scaled_fan(shape: tuple, mode, distribution, modes=FAN_MODES, distributions=DISTRIBUTIONS) -> tuple:
    """(n, distribution) of a variance-scaling draw: the fan `mode` picks and the checked distribution."""
    dist = check_choice("distribution", distribution, distributions)
    return fan_for_mode(shape, mode, modes), dist


def he_gain(gain=None, a=None, nonlinearity="relu") -> float:
    """He/Kaiming's gain: `gain` if given, else calculate_gain(nonlinearity, a) (a: leaky_relu's slope only)."""
    if gain is None:
        nl = check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
        if a is not None and nl != "leaky_relu":
            raise ValueError(f"a (the negative slope) is only used with nonlinearity 'leaky_relu', got nonlinearity {fmt(nl)}")
        return calculate_gain(nl, (0 if a is None else a) if nl == "leaky_relu" else None)
    if a is not None:
        raise ValueError("give either gain or a (the leaky_relu slope), not both")
    return check_nonneg("gain", gain)


# 1/sqrt(E[f(z)^2]), z ~ N(0, 1), by adaptive quadrature (tests re-derive them by Gauss-Hermite).
GAIN_GELU = 1.5335304411955353
GAIN_SILU = 1.6765324703310913
GAIN_ELU = 1.2451983007007066
GAIN_SOFTPLUS = 1.0418668355353018

NONLINEARITIES = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu",
                  "selu", "gelu", "silu", "elu", "softplus")


def calculate_gain(nonlinearity, param=None) -> float:
    """The recommended gain for a nonlinearity.

    PyTorch's ``torch.nn.init.calculate_gain`` table exactly: linear/identity/conv*/sigmoid 1,
    tanh 5/3, relu sqrt(2), leaky_relu sqrt(2 / (1 + slope^2)) (slope ``param``, default 0.01),
    selu 3/4; plus gains that preserve the second moment, ``1 / sqrt(E[f(z)^2])`` for z ~ N(0, 1):
    gelu 1.5335, silu 1.6765, elu (alpha = 1) 1.2452, softplus 1.0419.

    >>> round(calculate_gain("leaky_relu", 0.2), 6)
    1.38675
    """
    nl = check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
    if nl == "leaky_relu":
        slope = 0.01 if param is None else check_real("param", param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if param is not None:
        raise ValueError(f"param is only used with nonlinearity 'leaky_relu', got nonlinearity {fmt(nl)}")
    return {"tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4, "gelu": GAIN_GELU, "silu": GAIN_SILU,
            "elu": GAIN_ELU, "softplus": GAIN_SOFTPLUS}.get(nl, 1.0)
