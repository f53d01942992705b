"""The juliacall bridge: the one module that starts Julia in this process.

Julia is started on first use (never at `import pyjinit`), in a module of its own
(`juliacall.newmodule`), and JInit's functions are called directly; results come back as NumPy
views of the Julia arrays (no copy). Written against PythonCall/juliacall 0.9.x: `juliacall.newmodule`,
`Module.seval`, `juliacall.JuliaError.exception`, `ArrayValue.__array_interface__`.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
import time

import numpy as np

from .common import flux_dims

_lock = threading.Lock()
_state: dict = {"module": None, "error": None, "tried": False, "log": ""}


def _configure_env() -> None:
    """Threads for the fill (all cores unless the user chose), and Julia's signal handling, which
    multithreaded Julia inside Python needs (PythonCall FAQ)."""
    if "PYTHON_JULIACALL_THREADS" not in os.environ and "JULIA_NUM_THREADS" not in os.environ:
        os.environ["PYTHON_JULIACALL_THREADS"] = "auto"
    threads = os.environ.get("PYTHON_JULIACALL_THREADS", os.environ.get("JULIA_NUM_THREADS", "1"))
    if threads.strip() not in ("", "1"):
        os.environ.setdefault("PYTHON_JULIACALL_HANDLE_SIGNALS", "yes")


class _HeldOutput:
    """Where juliapkg's and juliacall's start-up lines go: held back, and shown on stderr only once the start
    has taken more than `delay` seconds (Julia or packages really being installed or precompiled), or always
    with PYJINIT_JULIA_LOG=1. A start that fails at once (no usable Julia) prints nothing; its lines are
    kept for backend_info()."""

    def __init__(self, delay: float = 3.0):
        self.lines, self.t0, self.live = [], time.monotonic(), os.environ.get("PYJINIT_JULIA_LOG") == "1"
        self.delay = delay

    def write(self, s):
        self.lines.append(s)
        if not self.live and time.monotonic() - self.t0 > self.delay:
            self.live = True
            sys.stderr.write("pyjinit: starting Julia (juliacall/juliapkg may install Julia and packages):\n")
            sys.stderr.write("".join(self.lines[:-1]))
        if self.live:
            sys.stderr.write(s)
        return len(s)

    def flush(self):
        if self.live:
            sys.stderr.flush()

    def text(self) -> str:
        return "".join(self.lines)


def module():
    """The Julia module with JInit loaded; starts Julia on the first call. Raises RuntimeError with
    the reason when Julia cannot be started (then every later call raises it at once). A Ctrl-C during
    the start raises KeyboardInterrupt and leaves nothing decided: the next call tries again."""
    with _lock:
        if _state["module"] is not None:
            return _state["module"]
        if _state["tried"]:
            raise RuntimeError(_state["error"])
        held = _HeldOutput()
        try:
            _configure_env()
            # juliapkg logs with print(): held back (never on the caller's stdout, e.g. `info --json`)
            with contextlib.redirect_stdout(held):
                import juliacall  # noqa: F401  (starts Julia, resolving juliapkg.json dependencies)
                jl = juliacall.newmodule("PyJInit")
                jl.seval("using JInit")
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # juliapkg/juliacall raise plain Exceptions (and SystemExit on some paths)
            _state["tried"] = True
            _state["log"] = held.text()
            _state["error"] = (f"juliacall could not start Julia with JInit: {type(e).__name__}: {e}".strip()
                               + " (juliacall needs Julia >= 1.10 and JInit's packages: it installs them unless "
                               "PYTHON_JULIACALL_EXE/PYTHON_JULIACALL_PROJECT point at an existing setup; see the README)")
            raise RuntimeError(_state["error"]) from None
        _state["tried"] = True
        _state["log"] = held.text()
        _state["module"] = jl
        return jl


def start_log() -> str:
    """What juliapkg and juliacall printed while Julia was being started (held back unless it took long)."""
    return _state["log"]


def short_reason() -> str:
    """Why Julia is not in use, in a few words (the first line of the error, cut at 160 characters)."""
    e = (_state["error"] or "Julia has not been started").splitlines()[0]
    e = e.replace("juliacall could not start Julia with JInit: ", "")
    e = e.split(" (juliacall needs")[0]
    return "juliacall could not start Julia >= 1.10 (" + (e if len(e) <= 160 else e[:157] + "...") + ")"


def status() -> tuple[bool, str | None]:
    """(started, reason it could not start) without starting Julia."""
    return _state["module"] is not None, _state["error"]


def call(name: str, shape: tuple, dtype: np.dtype, seed: int, kwargs: dict) -> np.ndarray:
    """JInit.<name>(PhiloxStream(seed), T, dims...; kwargs...) as a PyTorch-order NumPy array."""
    import juliacall

    jl = module()
    T = {"float16": jl.Float16, "float32": jl.Float32, "float64": jl.Float64}[dtype.name]
    f = getattr(jl.JInit, name)
    try:
        A = f(jl.JInit.PhiloxStream(seed), T, *flux_dims(shape), **kwargs)
    except juliacall.JuliaError as e:
        raise translate(jl, e) from None
    arr = np.asarray(A)                         # a view of Julia's memory (column-major)
    return arr if len(shape) == 2 else arr.T    # reversed dims: .T is the C-ordered PyTorch shape


def translate(jl, e) -> Exception:
    """A Julia exception as the Python exception the NumPy backend raises for the same input."""
    ex = e.exception
    if jl.isa(ex, jl.ArgumentError):
        return ValueError(str(ex.msg))
    if jl.isa(ex, jl.MethodError):
        return TypeError(str(jl.sprint(jl.showerror, ex)))
    return RuntimeError(str(jl.sprint(jl.showerror, ex)))


def versions() -> dict:
    """Julia, JInit and thread count of the running Julia (only once started)."""
    jl = _state["module"]
    if jl is None:
        return {}
    return {"julia_version": str(jl.seval("string(VERSION)")),
            "julia_threads": int(jl.seval("Threads.nthreads()")),
            "jinit_path": str(jl.seval("dirname(dirname(pathof(JInit)))"))}


def train_flux(weights, x_train, y_train, x_test, y_test, *, hidden, activation, optimizer, lr, momentum,
               batch_size, epochs, seed, verbose) -> tuple:
    """Train with Flux through JInit's extension (`using Flux` loads it), starting from `weights` (the
    arrays the NumPy trainer would start from). Returns (history, diverged): history an (epochs, 5)
    float64 array of (epoch, train_loss, test_loss, test_accuracy, seconds) rows, diverged None or
    (epoch, step)."""
    jl = module()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            jl.seval("using Flux")
    except Exception as e:  # noqa: BLE001  (Flux missing from the Julia environment)
        raise RuntimeError(f"Julia is running but Flux cannot be loaded: {e}") from None
    import juliacall

    try:
        hist, diverged = jl.JInit.train_flux(
            # ndarrays arrive as PyArray and tuples as Tuple (PythonCall's rules); a list would be a PyList of Py
            x_train.T, y_train, x_test.T, y_test, hidden=tuple(int(h) for h in hidden),
            activation=activation, optimizer=optimizer, lr=lr, momentum=momentum,
            batch_size=batch_size, epochs=epochs, seed=seed,
            weights=tuple(np.asarray(w, np.float32) for w in weights), verbose=bool(verbose))
    except juliacall.JuliaError as e:
        raise translate(jl, e) from None
    h = np.asarray(hist, dtype=np.float64).reshape(-1, 5)
    return h, (None if diverged is None else (int(diverged[0]), int(diverged[1])))
