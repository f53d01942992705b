"""Public initializer functions: argument handling shared by all, and dispatch to a backend."""
from __future__ import annotations

import os
import secrets
import warnings

import numpy as np

from . import _numpy_backend
from ._validate import check_choice, check_dims, check_dtype, check_seed, fmt

BACKENDS = ("auto", "julia", "numpy")
LAYOUTS = ("torch", "keras")
_said_why = False


def choose_backend(backend) -> str:
    """'julia' or 'numpy' for a requested backend (None means $PYJINIT_BACKEND, else 'auto')."""
    global _said_why
    if backend is None:
        backend = os.environ.get("PYJINIT_BACKEND", "auto")
    b = check_choice("backend", backend, BACKENDS)
    if b == "numpy":
        return b
    from . import _julia

    try:
        _julia.module()
        return "julia"
    except RuntimeError as e:
        if b == "julia":
            raise
        if not _said_why:
            _said_why = True
            warnings.warn(f"pyjinit: using the NumPy backend (same values, same seed): {e}", RuntimeWarning,
                          stacklevel=4)
        return "numpy"


def torch_shape(shape: tuple, layout: str) -> tuple:
    """PyTorch-order (out, in, *kernel) shape of a shape in `layout` ('keras': (*kernel, in, out))."""
    if layout == "keras" and len(shape) >= 2:
        return (shape[-1], shape[-2]) + shape[:-2]
    return shape


def from_torch(a: np.ndarray, layout: str) -> np.ndarray:
    """A PyTorch-order array in `layout`."""
    if layout == "keras" and a.ndim >= 2:
        return a.transpose(tuple(range(2, a.ndim)) + (1, 0))
    return a


def new_seed() -> int:
    return secrets.randbits(64)


def run(name: str, shape, kwargs: dict, dtype, seed, backend, layout) -> np.ndarray:
    """Validate the arguments every initializer shares, then compute `name` on the chosen backend."""
    lay = check_choice("layout", layout, LAYOUTS)
    dims = torch_shape(check_dims(shape), lay)
    dt = check_dtype(dtype)
    s = new_seed() if seed is None else check_seed(seed)
    if choose_backend(backend) == "julia":
        from . import _julia

        out = _julia.call(name, dims, dt, s, kwargs)
    else:
        out = _numpy_backend.INITIALIZERS[name](dims, dt, s, **kwargs)
    return from_torch(out, lay)


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
