"""The initializers of pyjinit.

Common arguments of every initializer:

- ``shape``: PyTorch order ``(out, in, *kernel)``; with ``layout="keras"``, ``(*kernel, in, out)``.
  fan_in = in * prod(kernel), fan_out = out * prod(kernel).
- ``dtype``: "float16", "float32" (default) or "float64".
- ``seed``: an int in [0, 2^128) or None (a fresh one). Element k (row-major over the PyTorch-order
  shape) is a pure function of (seed, k) — the same in Julia (JInit) and NumPy; docs/stream.md.
- ``backend``: None ($PYJINIT_BACKEND or "auto": Julia when juliacall can start it, else NumPy),
  "julia" or "numpy".
"""
from __future__ import annotations

import math
import os
import secrets

import numpy as np

from . import numpy_backend
from .backend import choose_backend
from .validate import (LAYOUTS, check_choice, check_dims, check_dtype, check_seed, check_shape, fmt,
                       torch_shape)

def from_torch(a: np.ndarray, layout: str) -> np.ndarray:
    """A PyTorch-order array in `layout`."""
    if layout == "keras" and a.ndim >= 2:
        return a.transpose(tuple(range(2, a.ndim)) + (1, 0))
    return a


def run(name: str, shape, kwargs: dict, dtype, seed, backend, layout, index=None) -> np.ndarray:
    """Validate the arguments every initializer shares, then compute `name` on the chosen backend: the whole
    array, or only its block `index` (as `check_index` takes it, over `shape` in its layout)."""
    lay, dims = check_shape(shape, layout)
    dt = check_dtype(dtype)
    if index is not None:
        index = torch_shape(check_index(index, check_dims(shape)), lay)
        if seed is None:
            raise ValueError("seed is required for a block (every block of one array must use the same seed)")
    s = new_seed() if seed is None else check_seed(seed)
    which = choose_backend(backend)
    try:
        if which == "julia":
            from ..julia import bridge

            out = (bridge.call(name, dims, dt, s, kwargs) if index is None
                   else bridge.call_block(name, dims, dt, s, index, kwargs))
        elif index is None:
            out = numpy_backend.INITIALIZERS[name](dims, dt, s, **kwargs)
        else:
            out = numpy_backend.block(name, dims, dt, s, index, **kwargs)
    except MemoryError:
        raise TooLarge(f"shape {fmt(shape)} is too large: its {dt.name} array needs "
                       f"{_size(math.prod(dims) * dt.itemsize)}, which could not be allocated") from None
    except ValueError as e:
        if any(m in str(e).lower() for m in ("array is too big", "maximum supported dimension", "maximum allowed dimension")):
            raise TooLarge(f"shape {fmt(shape)} is too large for one array ({e})") from None
        raise
    return out if lay == "torch" else from_torch(out, lay)


def block(func, shape, index, kwargs: dict) -> np.ndarray:
    """The block `index` of ``func(shape, **kwargs)`` (a public initializer of this module), without making the
    whole array: its arguments bound as the function binds them, then `run` with the index."""
    import inspect

    if func not in _RUN_NAMES:
        raise ValueError(f"{func.__name__.removesuffix('_init')} has no block form (its values are not drawn "
                         "elementwise)")
    bound = inspect.signature(func).bind(shape, **kwargs)
    bound.apply_defaults()
    args = dict(bound.arguments)
    args.pop("shape")
    common = {k: args.pop(k) for k in ("dtype", "seed", "backend", "layout")}
    return run(_RUN_NAMES[func], shape, args, index=index, **common)


def check_index(index, shape: tuple) -> tuple:
    """A block index as ((start, stop), ...) for every dimension of `shape`: slices (step 1; negative and
    open ends as in NumPy), (start, stop) pairs or ints (one element); missing trailing dimensions are whole."""
    items = index if isinstance(index, tuple) else (index,) if isinstance(index, (slice, int)) else tuple(index)
    if len(items) > len(shape):
        raise ValueError(f"index has {len(items)} entries for an array of {len(shape)} dimensions")
    out = []
    for i, n in enumerate(shape):
        it = items[i] if i < len(items) else slice(None)
        if isinstance(it, (int, np.integer)) and not isinstance(it, bool):
            k = int(it) + (n if it < 0 else 0)
            if not 0 <= k < n:
                raise ValueError(f"index {int(it)} is out of range for dimension {i} of size {n}")
            out.append((k, k + 1))
        elif isinstance(it, slice):
            a, b, step = it.indices(n)
            if step != 1:
                raise ValueError(f"a block is contiguous: the slice of dimension {i} must have step 1, got {step}")
            out.append((a, max(a, b)))
        elif isinstance(it, (tuple, list)) and len(it) == 2:
            a, b = (int(v) for v in it)
            if not 0 <= a <= b <= n:
                raise ValueError(f"index of dimension {i} must satisfy 0 <= start <= stop <= {n}, got ({a}, {b})")
            out.append((a, b))
        else:
            raise ValueError(f"index entries must be slices, (start, stop) pairs or integers, got {fmt(it)}")
    return tuple(out)


class TooLarge(ValueError, MemoryError):
    """An array too large to allocate: a ValueError naming the shape (and a MemoryError)."""


def _size(nbytes: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if nbytes < 1000 or unit == "PB":
            return f"{nbytes:.0f} {unit}" if unit == "bytes" else f"{nbytes:.1f} {unit}"
        nbytes /= 1000


_last_seed = None


def new_seed() -> int:
    """A fresh 64-bit seed from the OS; `last_seed()` returns it afterwards, so the result can be reproduced."""
    global _last_seed
    _last_seed = secrets.randbits(64)
    return _last_seed


def last_seed():
    """The seed most recently drawn because an initializer was called with ``seed=None`` (None before any).
    Passing it as ``seed=`` reproduces that array.

    >>> w = he_init((3, 3), backend="numpy"); bool((he_init((3, 3), seed=last_seed(), backend="numpy") == w).all())
    True
    """
    return _last_seed


def load_pretrained(source, key=None) -> np.ndarray:
    """An array from an ndarray, a .npy file, or a .npz file (with `key`, or its only array)."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise ValueError(f"pretrained file {path!r} does not exist")
        if path.endswith(".npz"):
            with np.load(path, allow_pickle=False) as z:
                names = list(z.files)
                if key is None:
                    if len(names) != 1:
                        raise ValueError(f"pretrained file {path!r} holds {len(names)} arrays "
                                         f"({', '.join(names)}); say which with key=")
                    key = names[0]
                if key not in names:
                    raise ValueError(f"key must be one of {', '.join(names)}; got {fmt(key)}")
                return z[key]
        if path.endswith(".npy"):
            return np.load(path, allow_pickle=False)
        raise ValueError(f"pretrained file must end in .npy or .npz, got {path!r}")
    if isinstance(source, np.ndarray):
        return source
    raise TypeError(f"pretrained source must be a NumPy array or a path to a .npy/.npz file, got {type(source).__name__}")


def check_pretrained(a: np.ndarray, shape: tuple, dtype: np.dtype) -> np.ndarray:
    if a.shape != shape:
        raise ValueError(f"pretrained array has dimensions {fmt(a.shape)}, the initializer was asked for {fmt(shape)}")
    if a.dtype != dtype:
        raise ValueError(f"pretrained array has element type {a.dtype.name}, the initializer was asked for {dtype.name}")
    return np.array(a, copy=True)


F32 = "float32"


def zeros_init(shape, *, dtype=F32, seed=None, backend=None, layout="torch"):
    """All zeros.

    >>> zeros_init((2, 3)).sum()
    np.float32(0.0)
    """
    return run("zeros_init", shape, {}, dtype, seed, backend, layout)


def ones_init(shape, *, dtype=F32, seed=None, backend=None, layout="torch"):
    """All ones.

    >>> ones_init((2, 3)).sum()
    np.float32(6.0)
    """
    return run("ones_init", shape, {}, dtype, seed, backend, layout)


def constant_init(shape, value=0.0, *, dtype=F32, seed=None, backend=None, layout="torch"):
    """Every element equal to ``value`` (rounded to dtype).

    >>> constant_init((2,), 0.5)
    array([0.5, 0.5], dtype=float32)
    """
    return run("constant_init", shape, {"value": value}, dtype, seed, backend, layout)


def uniform_init(shape, low=0.0, high=1.0, *, dtype=F32, seed=None, backend=None, layout="torch"):
    """U[low, high): ``low + (high - low) * u`` with u = (h >> 8) * 2^-24 from 32-bit halves of the
    stream's words (float32, float16), or (w >> 11) * 2^-53 from whole words (float64).

    Like ``torch.nn.init.uniform_(a=low, b=high)``; Flux ``rand32`` is low=0, high=1.

    >>> w = uniform_init((3, 4), -0.1, 0.1, seed=0); bool((w >= -0.1).all() and (w < 0.1).all())
    True
    """
    return run("uniform_init", shape, {"low": low, "high": high}, dtype, seed, backend, layout)


def normal_init(shape, mean=0.0, std=1.0, *, dtype=F32, seed=None, backend=None, layout="torch"):
    """N(mean, std^2): ``mean + std * z``, z from a 256-layer ziggurat on the stream (docs/stream.md §3, stream
    version 2): float32/float16 from 32-bit half k (the arithmetic in float32), float64 from word k; the same
    values as JInit's. Tails reach 13.7 std. Defaults: mean 0, std 1, float32.

    >>> normal_init((2, 2), std=0.02, seed=1).shape
    (2, 2)
    """
    return run("normal_init", shape, {"mean": mean, "std": std}, dtype, seed, backend, layout)


def truncated_normal_init(shape, mean=0.0, std=1.0, lo=None, hi=None, lo_std=-2.0, hi_std=2.0, *, dtype=F32,
                          seed=None, backend=None, layout="torch"):
    """N(mean, std^2) truncated to [lo, hi], by inverse CDF (exactly inside the bounds, even at tiny std).

    Bounds: absolute ``lo``/``hi`` (PyTorch ``trunc_normal_``'s a/b, Flux's lo/hi) or, when those are
    None, ``mean + lo_std * std`` and ``mean + hi_std * std`` (default +-2 std, as Keras/JAX).
    The result has std *smaller* than ``std`` (0.88 std at +-2); variance_scaling_init corrects that.

    >>> w = truncated_normal_init((1000,), std=0.002, seed=3); bool(abs(w).max() <= 0.004)
    True
    """
    kw = {"mean": mean, "std": std, "lo": lo, "hi": hi, "lo_std": lo_std, "hi_std": hi_std}
    return run("truncated_normal_init", shape, kw, dtype, seed, backend, layout)


def variance_scaling_init(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", *, dtype=F32,
                          seed=None, backend=None, layout="torch"):
    """Keras/JAX ``VarianceScaling``: variance ``scale / n``, n = fan_in, fan_out, fan_avg =
    (fan_in + fan_out) / 2 or fan_geo_avg = sqrt(fan_in * fan_out) (``mode``).
    ``distribution``: "uniform" on +-sqrt(3 scale / n); "normal" with std sqrt(scale / n);
    "truncated_normal" (default) at +-2 std with std sqrt(scale / n) / 0.87962566103423978.

    >>> round(float(variance_scaling_init((512, 32), 2.0, "fan_in", "normal", seed=0).std()), 2)
    0.25
    """
    kw = {"scale": scale, "mode": mode, "distribution": distribution}
    return run("variance_scaling_init", shape, kw, dtype, seed, backend, layout)


def xavier_init(shape, gain=1.0, distribution="uniform", *, dtype=F32, seed=None, backend=None, layout="torch"):
    """Xavier/Glorot (Glorot & Bengio 2010): variance ``gain^2 * 2 / (fan_in + fan_out)``.
    uniform: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)) (``torch xavier_uniform_``, Keras and
    Flux ``glorot_uniform``); normal: std gain * sqrt(2 / (fan_in + fan_out)) (``xavier_normal_``,
    Flux ``glorot_normal``); truncated_normal: Keras/JAX ``glorot_normal``.

    >>> xavier_init((256, 512), seed=0).max() <= (6 / 768) ** 0.5
    np.True_
    """
    return run("xavier_init", shape, {"gain": gain, "distribution": distribution}, dtype, seed, backend, layout)


def he_init(shape, gain=None, a=None, nonlinearity="relu", mode="fan_in", distribution="normal", *, dtype=F32,
            seed=None, backend=None, layout="torch"):
    """He/Kaiming (He et al. 2015): variance ``gain^2 / fan``, fan = fan_in or fan_out (``mode``),
    gain = ``calculate_gain(nonlinearity, a)`` (default relu: sqrt(2)) unless ``gain`` is given.
    normal (default): std gain / sqrt(fan) (``kaiming_normal_``, Flux ``kaiming_normal``);
    uniform: U(-b, b), b = gain * sqrt(3 / fan) (``kaiming_uniform_``, Keras ``he_uniform``);
    truncated_normal: Keras/JAX ``he_normal``. ``a``: the negative slope for leaky_relu.

    >>> round(float(he_init((128, 784), seed=0).std()), 2)         # sqrt(2 / 784) = 0.0505
    0.05
    """
    kw = {"gain": gain, "a": a, "nonlinearity": nonlinearity, "mode": mode, "distribution": distribution}
    return run("he_init", shape, kw, dtype, seed, backend, layout)


def lecun_init(shape, distribution="normal", *, dtype=F32, seed=None, backend=None, layout="torch"):
    """LeCun: variance ``1 / fan_in``. normal (default): std 1/sqrt(fan_in); uniform: U(+-sqrt(3 / fan_in));
    truncated_normal: Keras/JAX/Flax ``lecun_normal``.

    >>> lecun_init((10, 100), seed=0).shape
    (10, 100)
    """
    return run("lecun_init", shape, {"distribution": distribution}, dtype, seed, backend, layout)


def orthogonal_init(shape, gain=1.0, *, dtype=F32, seed=None, backend=None, layout="torch"):
    """(Semi-)orthogonal (Saxe et al. 2014), as ``torch.nn.init.orthogonal_``: the shape is flattened to
    rows = out, cols = prod(rest); a rows x cols N(0, 1) matrix from the stream (row-major) is QR-factored
    in its tall orientation, Q's columns multiplied by sign(diag R) (sign(0) = +1, so Q is Haar-distributed
    and no column is ever zeroed), transposed back and multiplied by ``gain``. Rows (or columns, if fewer)
    are orthonormal. Computed in float64, rounded to dtype.

    >>> q = orthogonal_init((4, 4), seed=0, dtype="float64"); bool(abs(q @ q.T - np.eye(4)).max() < 1e-12)
    True
    """
    return run("orthogonal_init", shape, {"gain": gain}, dtype, seed, backend, layout)


def sparse_init(shape, sparsity=None, std=0.01, nonzeros=None, *, dtype=F32, seed=None, backend=None,
                layout="torch"):
    """Sparse (Martens 2010) for a 2-D ``(out, in)`` shape: N(0, std^2) values from the stream, then
    either ``sparsity``: ceil(sparsity * out) zeros in every column (``torch.nn.init.sparse_``, Flux
    ``sparse_init``), or ``nonzeros``: k nonzero incoming weights per unit (row), Martens' variant.
    The zero positions come from the key ``keys.sparse_key(seed)`` (docs/stream.md §5).

    >>> w = sparse_init((10, 4), sparsity=0.3, seed=0); [int((w[:, j] == 0).sum()) for j in range(4)]
    [3, 3, 3, 3]
    """
    kw = {"sparsity": sparsity, "std": std, "nonzeros": nonzeros}
    return run("sparse_init", shape, kw, dtype, seed, backend, layout)


def identity_init(shape, gain=1.0, groups=1, *, dtype=F32, seed=None, backend=None, layout="torch"):
    """Identity: 2-D ``gain * eye(out, in)`` (rectangular, ``torch.nn.init.eye_``); for convolutions,
    the Dirac delta of ``torch.nn.init.dirac_(groups=...)`` times gain: output channel
    g * out/groups + d connects to input channel d at the centre tap. Centre tap of a kernel of size k:
    index k // 2 (0-based) — for even k the *second* of the two middle taps, as PyTorch
    (Flux's ``identity_init`` picks the first).

    >>> identity_init((2, 3))
    array([[1., 0., 0.],
           [0., 1., 0.]], dtype=float32)
    """
    return run("identity_init", shape, {"gain": gain, "groups": groups}, dtype, seed, backend, layout)


def delta_orthogonal_init(shape, gain=1.0, *, dtype=F32, seed=None, backend=None, layout="torch"):
    """Delta-orthogonal convolution kernel (Xiao et al. 2018, "Dynamical Isometry and a Mean Field Theory of
    CNNs", arXiv:1806.05393), as ``jax.nn.initializers.delta_orthogonal``: a kernel (out, in, *k) of 3 to 5
    dimensions with out >= in is zero everywhere except its centre tap ``(k - 1) // 2`` in every kernel dimension
    (JAX's choice; the middle tap for odd k), which holds ``orthogonal_init((out, in), gain, seed=seed)``: its
    columns are orthonormal (W_c^T W_c = gain^2 I_in), so a circular-padded convolution with it is an isometry
    of its input (times gain) and a deep linear stack of them preserves norms. Default gain 1.

    >>> w = delta_orthogonal_init((8, 8, 3, 3), seed=0, dtype="float64"); c = w[:, :, 1, 1]
    >>> bool(abs(c.T @ c - np.eye(8)).max() < 1e-12), int(np.count_nonzero(w) - np.count_nonzero(c))
    (True, 0)
    """
    return run("delta_orthogonal_init", shape, {"gain": gain}, dtype, seed, backend, layout)


def pretrained_init(source, shape, *, dtype=F32, key=None, layout="torch"):
    """A copy of given weights: ``source`` is an ndarray or a path to a .npy or .npz file (``key`` picks
    the array of an .npz). Its shape (in ``layout``) and dtype must be the ones asked for.

    >>> pretrained_init(np.ones((2, 2), "float32"), (2, 2)).sum()
    np.float32(4.0)
    """
    check_choice("layout", layout, LAYOUTS)
    return check_pretrained(load_pretrained(source, key), check_dims(shape), check_dtype(dtype))


def flux_identity_init(shape, gain=1.0, shift=0, *, dtype=F32, seed=None, backend=None, layout="torch"):
    """Flux's ``identity_init(dims...; gain, shift)``: a vector is all zeros (Flux assumes a bias); a matrix
    is ``gain * I``; a kernel connects channel i to i (i < min(in, out)) at the centre tap ``(k - 1) // 2``
    (0-based: for an even k the *first* of the two middle taps, unlike ``identity_init``); ``shift`` then rolls
    the array as Julia's ``circshift``: an integer along Flux's first dimension (out for a matrix, the first kernel
    dimension for a kernel), a tuple along Flux's dimensions in order (at most one entry per dimension). Deterministic: ``seed`` and ``backend`` are accepted and unused.

    >>> flux_identity_init((2, 3), shift=1)
    array([[0., 1., 0.],
           [1., 0., 0.]], dtype=float32)
    """
    lay = check_choice("layout", layout, LAYOUTS)
    dims = torch_shape(check_dims(shape), lay)
    dt = check_dtype(dtype)
    g = float(gain)
    shifts = (shift,) if not isinstance(shift, tuple) else shift      # Julia's circshift: an integer or a tuple
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in shifts) or len(shifts) > max(1, len(dims)):
        raise ValueError(f"shift must be an integer or a tuple of at most {max(1, len(dims))} integers (one per "
                         f"dimension, as Julia's circshift), got {fmt(shift)}")
    a = np.zeros(dims, dt)
    if len(dims) == 2:
        for i in range(min(dims)):
            a[i, i] = g
    elif len(dims) > 2:
        centre = tuple((k - 1) // 2 for k in dims[2:])
        for i in range(min(dims[0], dims[1])):
            a[(i, i) + centre] = g
    if len(dims) >= 2:                 # Flux dim j: a matrix's (out, in) are PyTorch's; a kernel's (k..., in, out)
        axes = [j if len(dims) == 2 else len(dims) - 1 - j for j in range(len(shifts))]   # PyTorch's reversed
        a = np.roll(a, shifts, axis=axes)
    return from_torch(a, lay)


# The public initializers whose values are drawn elementwise, by the backend name `run` computes them with:
# the ones with a block form.
_RUN_NAMES = {globals()[name]: name for name in numpy_backend.BLOCKWISE}


def julia_name(func):
    """The JInit function computing the public initializer `func` (its backend name), or None for one computed
    in Python only (flux_identity_init, pretrained_init)."""
    if func in _RUN_NAMES:
        return _RUN_NAMES[func]
    return {orthogonal_init: "orthogonal_init", sparse_init: "sparse_init", identity_init: "identity_init",
            delta_orthogonal_init: "delta_orthogonal_init"}.get(func)
