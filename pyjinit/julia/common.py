"""Facts both ways of running Julia share: where JInit is, and how Julia lays out an array.

Julia is column-major and Flux stores a dense weight as (out, in) but a convolution kernel as
(kernel..., in, out): a PyTorch-order shape maps to Julia dims by `flux_dims`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

_PKG = Path(__file__).resolve().parents[1]      # the pyjinit package folder
JULIA_TYPES = {"float16": "Float16", "float32": "Float32", "float64": "Float64"}


def jinit_path() -> Path:
    """The folder of JInit's Project.toml: `pyjinit/julia/JInit` in a wheel, `julia/JInit` in a checkout."""
    for p in (_PKG / "julia" / "JInit", _PKG.parent / "julia" / "JInit"):
        if (p / "Project.toml").is_file():
            return p
    raise FileNotFoundError(f"JInit's Project.toml is neither in {_PKG / 'julia' / 'JInit'} nor in "
                            f"{_PKG.parent / 'julia' / 'JInit'}; the installation is incomplete")


def flux_dims(shape: tuple) -> tuple:
    """Julia (Flux-layout) dims of a PyTorch-order shape: a matrix keeps (out, in), other ranks reverse."""
    return tuple(shape) if len(shape) == 2 else tuple(reversed(shape))


def from_flux(raw: np.ndarray, shape: tuple) -> np.ndarray:
    """A column-major Julia array's data, as the PyTorch-order array."""
    a = raw.reshape(flux_dims(shape), order="F")
    return a if len(shape) == 2 else a.T
