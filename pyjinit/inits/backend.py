"""Which backend computes: Julia (JInit through juliacall) or NumPy, and why.

The one place that decides it (`choose_backend`) and reports it (`backend_info`).
"""
from __future__ import annotations

import os

import numpy as np

from .stream import STREAM_VERSION, threads

from ..support.messages import warn
from .validate import check_choice

BACKENDS = ("auto", "julia", "numpy")
_said_why = False

def choose_backend(backend) -> str:
    """'julia' or 'numpy' for a requested backend (None means $PYJINIT_BACKEND, else 'auto')."""
    global _said_why
    if backend is None:
        backend = os.environ.get("PYJINIT_BACKEND", "").strip() or "auto"
    b = backend if isinstance(backend, str) and backend in BACKENDS else check_choice("backend", backend, BACKENDS)
    if b == "numpy":
        return b
    from ..julia import bridge

    try:
        bridge.module()
        return "julia"
    except RuntimeError:
        if b == "julia":
            raise
        if not _said_why:
            _said_why = True
            warn(f"pyjinit computes with NumPy (same values for the same seed): {bridge.short_reason()}. "
                 "pyjinit.backend_info() says more; PYJINIT_BACKEND=numpy skips Julia and this line.")
        return "numpy"



def _version(dist: str):
    import importlib.metadata

    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def backend_info(start: bool = True) -> dict:
    """Which backend `backend=None` uses and why; starts Julia (once) to find out unless start=False.

    >>> backend_info(start=False)["backend"] in ("julia", "numpy")
    True
    """
    import platform

    from ..julia import bridge
    from ..julia.common import jinit_path

    requested = os.environ.get("PYJINIT_BACKEND", "auto")
    if start and requested != "numpy":
        try:
            bridge.module()
        except RuntimeError:
            pass
    started, reason = bridge.status()
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
        "stream_version": STREAM_VERSION,
        "numpy_threads": threads(),
        "why_not_julia": None if started and requested != "numpy" else reason,
        "julia_start_log": bridge.start_log()[-4000:],
    }
    info.update(bridge.versions())
    return info
