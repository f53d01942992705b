"""What runs: backend, versions, and why Julia is not in use."""
from __future__ import annotations

import importlib.metadata
import os
import platform

import numpy as np


def _version(dist: str):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def backend_info(start: bool = True) -> dict:
    """Which backend `backend=None` uses and why; starts Julia (once) to find out unless start=False.

    >>> backend_info(start=False)["backend"] in ("julia", "numpy")
    True
    """
    from . import _julia
    from ._paths import jinit_path

    requested = os.environ.get("PYJINIT_BACKEND", "auto")
    if start and requested != "numpy":
        try:
            _julia.module()
        except RuntimeError:
            pass
    started, reason = _julia.status()
    if requested == "numpy":
        reason = reason or "PYJINIT_BACKEND=numpy"
    elif not started and reason is None:
        reason = "Julia not started yet (backend_info(start=False))"
    info = {
        "backend": "julia" if started and requested != "numpy" else "numpy",
        "julia_available": started,
        "juliacall": _version("juliacall"),
        "pyjinit": _version("pyjinit"),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "jinit_path": str(jinit_path()),
        "why_not_julia": None if started and requested != "numpy" else reason,
    }
    info.update(_julia.versions())
    return info
