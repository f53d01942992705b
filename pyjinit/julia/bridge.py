"""The juliacall bridge: the one module that starts Julia in this process.

Julia is started on first use (never at `import pyjinit`), or by `start_julia()`, in a module of its own
(`juliacall.newmodule`), and JInit's functions are called directly; results come back as NumPy
views of the Julia arrays (no copy). Written against PythonCall/juliacall 0.9.37: `juliacall.newmodule`,
`Module.seval`, `juliacall.JuliaError.exception`, `ArrayValue.__array_interface__`, and juliacall's options
(`-X juliacall-<name>` first, then `PYTHON_JULIACALL_<NAME>`; threads default to $JULIA_NUM_THREADS or 1).

What gets installed when: juliapkg installs Julia and JInit (stdlib-only) at the first start; Flux only at
the first Flux training (`ensure_flux`, with a one-line notice; Julia's output held back unless
PYJINIT_JULIA_LOG=1; tried once per process), into the same environment, after which it loads offline.
Threads and Ctrl-C: see `configure_env`.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import warnings

import numpy as np

from .common import flux_dims

_lock = threading.Lock()
_state: dict = {"module": None, "error": None, "tried": False, "log": "", "flux_error": None, "flux_log": ""}


FLUX = ("Flux", "587475ba-b771-5e3f-ad9e-33799f191a9c")      # as in julia/JInit/Project.toml [weakdeps]


def _juliacall_option(name: str, env: dict, xoptions: dict):
    """A juliacall option as juliacall reads it: `-X juliacall-<name>` first, then PYTHON_JULIACALL_<NAME>."""
    x = xoptions.get("juliacall-" + name.replace("_", "-"))
    if x is not None:
        return x
    return env.get("PYTHON_JULIACALL_" + name.upper())


def configure_env(env: dict, xoptions: dict) -> dict:
    """The environment variables pyjinit sets before juliacall starts Julia, as {name: value}; never one
    the user set, in either of juliacall's ways.

    - Threads: juliacall's default (JULIA_NUM_THREADS, else 1) unless PYJINIT_JULIA_THREADS=auto|N asks for a
      multithreaded JInit fill; then PYTHON_JULIACALL_THREADS is set to it, unless the user set threads.
    - Signals: with more than one thread, PythonCall needs PYTHON_JULIACALL_HANDLE_SIGNALS=yes (else
      segfaults); with it Ctrl-C does not raise KeyboardInterrupt while Julia runs. So pyjinit sets it only
      when it turned threads on itself. With one thread (the default) Ctrl-C raises KeyboardInterrupt as
      soon as the running Julia call returns (training returns to Python after every epoch).
    """
    out = {}
    want = env.get("PYJINIT_JULIA_THREADS", "").strip()
    user_threads = _juliacall_option("threads", env, xoptions) is not None or "JULIA_NUM_THREADS" in env
    if want and want != "1" and not user_threads:
        out["PYTHON_JULIACALL_THREADS"] = want
        if _juliacall_option("handle_signals", env, xoptions) is None:
            out["PYTHON_JULIACALL_HANDLE_SIGNALS"] = "yes"
    return out


def torch_warning(modules) -> str | None:
    """The warning for torch imported before juliacall (juliacall 0.9.37 says it "may cause a segfault")."""
    if "torch" in modules and "juliacall" not in modules:
        return ("pyjinit: torch was imported before Julia started; juliacall warns that this may crash. "
                "Call pyjinit.start_julia() before importing torch, or use backend='numpy' "
                "(PYJINIT_BACKEND=numpy): it gives the same values.")
    return None


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
        warning = torch_warning(sys.modules)
        if warning:
            from ..support.messages import warn

            warn(warning)
        try:
            os.environ.update(configure_env(os.environ, getattr(sys, "_xoptions", {})))
            # juliapkg logs with print(): held back (never on the caller's stdout, e.g. `info --json`)
            with contextlib.redirect_stdout(held), warnings.catch_warnings():
                # pyjinit said it in one line above (torch_warning); juliacall's own would repeat it
                warnings.filterwarnings("ignore", message="torch was imported before juliacall")
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


def start_julia():
    """Start Julia with JInit now (it otherwise starts at the first initializer call). Call it before
    `import torch` when both are used (juliacall asks that torch comes second). Returns the Julia module;
    raises RuntimeError with the reason when Julia cannot start."""
    return module()


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
        raise translate(jl, e, name) from None
    except TypeError as e:          # PythonCall raises a MethodError of the called function as TypeError
        raise call_error(name, e) from None
    arr = np.asarray(A)                         # a view of Julia's memory (column-major)
    return arr if len(shape) == 2 else arr.T    # reversed dims: .T is the C-ordered PyTorch shape


def call_block(name: str, shape: tuple, dtype: np.dtype, seed: int, index: tuple, kwargs: dict) -> np.ndarray:
    """JInit.init_block(JInit.<name>, PhiloxStream(seed), T, dims...; index, kwargs...): the block `index`
    (((start, stop), ...) over the PyTorch-order shape) as a PyTorch-order NumPy array."""
    import juliacall

    jl = module()
    T = {"float16": jl.Float16, "float32": jl.Float32, "float64": jl.Float64}[dtype.name]
    try:
        A = jl.JInit.init_block(getattr(jl.JInit, name), jl.JInit.PhiloxStream(seed), T, *flux_dims(shape),
                                index=tuple(tuple(int(v) for v in r) for r in index), **kwargs)
    except juliacall.JuliaError as e:
        raise translate(jl, e, name) from None
    except TypeError as e:
        raise call_error(name, e) from None
    arr = np.asarray(A)
    return arr if len(shape) == 2 else arr.T


def call_error(name: str, e: TypeError) -> TypeError:
    """A TypeError from calling JInit.<name> (PythonCall's form of a MethodError on the function called:
    "Julia: MethodError: no method matching …") as one line naming the initializer, like the NumPy
    backend's TypeError for the same call."""
    text = str(e)
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), text)
    for prefix in ("Julia: ", "MethodError: "):
        if first.startswith(prefix):
            first = first[len(prefix):]
    return TypeError(f"{name}: {first} (the arguments {name} takes: python -m pyjinit list)")


def first_line(text: str) -> str:
    """A message in one line: its first non-blank line (a Julia error's summary, without what follows: candidate
    methods, a stack trace), and the next one too when the first only announces it (ends with ':')."""
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    if not lines:
        return str(text).strip()
    return " ".join(lines[:2]) if lines[0].endswith(":") and len(lines) > 1 else lines[0]


def unexpected_keyword_error(name: str, keyword: str) -> TypeError:
    """Python's own message for a keyword argument the function does not take (the NumPy backend's)."""
    return TypeError(f"{name}() got an unexpected keyword argument {keyword!r}")


def translate(jl, e, name: str | None = None) -> Exception:
    """A Julia exception (juliacall.JuliaError) as the Python exception the NumPy backend raises for the same
    input: ArgumentError -> ValueError (JInit's one-line message); a MethodError for a keyword that JInit's
    `name` does not take -> TypeError "name() got an unexpected keyword argument 'k'" (JInit.unexpected_keyword
    finds it); any other MethodError -> TypeError, other errors -> RuntimeError, with the first line of
    Julia's message (no "Closest candidates", no stack trace)."""
    ex = e.exception
    if jl.isa(ex, jl.ArgumentError):
        return ValueError(str(ex.msg))
    text = first_line(jl.sprint(jl.showerror, ex))
    if jl.isa(ex, jl.MethodError):
        k = None
        if name:
            try:                                          # a String or nothing (None), whatever juliacall does with a Symbol
                k = jl.seval("e -> (k = JInit.unexpected_keyword(e); k === nothing ? nothing : String(k))")(ex)
            except Exception:  # noqa: BLE001  (a JInit without it)
                k = None
        if k is not None:
            return unexpected_keyword_error(name, str(k))
        return call_error(name, TypeError(text)) if name else TypeError(text)
    return RuntimeError(text)


def versions() -> dict:
    """Julia, JInit and thread count of the running Julia (only once started)."""
    jl = _state["module"]
    if jl is None:
        return {}
    return {"julia_version": str(jl.seval("string(VERSION)")),
            "julia_threads": int(jl.seval("Threads.nthreads()")),
            "jinit_path": str(jl.seval("dirname(dirname(pathof(JInit)))"))}


class FluxUnavailable(RuntimeError):
    """Julia runs, but Flux cannot be installed or loaded, or JInit's Flux extension did not load."""


# Julia: run f(io) with Julia's stderr (Pkg's output, the registry's warnings, precompilation) and its log
# messages going to a temporary file instead of the terminal; returns (the error's message or "", the output).
_QUIETLY = """
function (f)
    path, io = mktemp()
    msg = ""
    try
        redirect_stderr(io) do
            Base.CoreLogging.with_logger(Base.CoreLogging.SimpleLogger(io)) do
                f(io)
            end
        end
    catch e
        e isa InterruptException && rethrow()
        msg = sprint(showerror, e)
    finally
        close(io)
    end
    out = read(path, String)
    rm(path; force = true)
    return (msg, out)
end
"""


def flux_log() -> str:
    """What Julia printed while pyjinit installed and loaded Flux (held back unless PYJINIT_JULIA_LOG=1)."""
    return _state.get("flux_log", "")


def _julia_step(jl, code: str) -> None:
    """Run the Julia function `code` (io -> ...) on an IO. Julia's output is held back (flux_log()) unless
    PYJINIT_JULIA_LOG=1, where it goes to the terminal as it comes. Raises FluxUnavailable with Julia's error
    in one line."""
    try:
        if os.environ.get("PYJINIT_JULIA_LOG") == "1":
            with contextlib.redirect_stdout(sys.stderr):
                jl.seval(code)(jl.seval("stderr"))
            return
        msg, out = jl.seval(_QUIETLY)(jl.seval(code))
    except Exception as e:  # noqa: BLE001  (juliacall.JuliaError, or PythonCall's own errors)
        raise FluxUnavailable(_one_line(jl, e)) from None
    _state["flux_log"] = _state.get("flux_log", "") + str(out)
    if str(msg):
        raise FluxUnavailable(first_line(str(msg)))


def _flux_loaded(jl) -> bool:
    return bool(jl.seval('isdefined(Base, :get_extension) && Base.get_extension(JInit, :JInitFluxExt) !== nothing'))


def _flux_installed(jl) -> bool:
    jl.seval("import Pkg")
    return bool(jl.seval(f'haskey(Pkg.dependencies(), Base.UUID("{FLUX[1]}"))'))


def ensure_flux(jl) -> None:
    """Install Flux into Julia's environment if it is not there (a one-line notice; PySR's way: Pkg.add in the
    running Julia), load it, and check that JInit's Flux extension loaded. Raises FluxUnavailable, whose
    message is one line. Julia's output while installing and loading is held back (flux_log(); shown as it
    comes with PYJINIT_JULIA_LOG=1). Tried once per process: after a failure, every later call raises the same
    FluxUnavailable at once (no second notice, no second Pkg.add)."""
    if _flux_loaded(jl):
        return
    if _state.get("flux_error"):
        raise FluxUnavailable(_state["flux_error"])
    try:
        _install_and_load_flux(jl)
    except FluxUnavailable as e:
        _state["flux_error"] = str(e)
        raise
    except Exception as e:  # noqa: BLE001  (anything else Julia or PythonCall raised on the way)
        _state["flux_error"] = f"Julia is running but Flux cannot be installed or loaded: {_one_line(jl, e)}"
        raise FluxUnavailable(_state["flux_error"]) from None


def _install_and_load_flux(jl) -> None:
    name, uuid = FLUX
    hint = (" (not retried in this process)" if os.environ.get("PYJINIT_JULIA_LOG") == "1" else
            " (Julia's output: PYJINIT_JULIA_LOG=1, or pyjinit.julia.bridge.flux_log(); not retried in this process)")
    try:
        installed = _flux_installed(jl)
    except Exception as e:  # noqa: BLE001  (Pkg itself fails to load or read the environment)
        raise FluxUnavailable(f"Julia is running but its package manager failed: {_one_line(jl, e)}") from None
    if not installed:
        if os.environ.get("PYTHON_JULIAPKG_OFFLINE", "").lower() in ("yes", "true", "1"):
            raise FluxUnavailable("Flux is not installed in Julia's environment and PYTHON_JULIAPKG_OFFLINE is "
                                  "set; install it once online (any Flux training does), then offline works")
        print(f"pyjinit: installing Flux into Julia's environment {jl.seval('Base.active_project()')} "
              "(the first Flux training only; a few minutes)", file=sys.stderr, flush=True)
        try:
            _julia_step(jl, f'io -> Pkg.add(Pkg.PackageSpec(name = "{name}", uuid = "{uuid}"); io = io)')
        except FluxUnavailable as e:
            raise FluxUnavailable(f"Julia is running but Flux cannot be installed: {e}{hint}") from None
    try:
        _julia_step(jl, "io -> @eval(using Flux)")
    except FluxUnavailable as e:
        raise FluxUnavailable(f"Julia is running but Flux cannot be loaded: {e}{hint}") from None
    if not _flux_loaded(jl):
        raise FluxUnavailable("Flux is loaded but JInit's Flux extension (JInitFluxExt) did not load (is the "
                              f"installed Flux within JInit's compat 0.14.22-0.16?){hint}")


def _one_line(jl, e) -> str:
    """The first line of an exception from Julia (a juliacall.JuliaError: its Julia exception, without the
    stack trace that str() of it appends), or of any other exception."""
    ex = getattr(e, "exception", None)
    if ex is not None:
        try:
            return first_line(jl.sprint(jl.showerror, ex))
        except Exception:  # noqa: BLE001
            pass
    return first_line(str(e))


def flux_epochs(weights, x_train, y_train, x_test, y_test, *, hidden, activation, optimizer, lr, momentum,
                batch_size, epochs, seed, conv=(), pool_every=1, classes=10, draws=None):
    """Train with Flux through JInit's extension, one epoch per Julia call so that Python (and Ctrl-C) gets
    control between epochs. The network starts from `draws` when given — per layer (JInit function name,
    keyword arguments): JInit makes layer l's weight itself from the key param_key(seed, l, 0), so no array
    crosses from Python — else from `weights` (the arrays the NumPy trainer starts from). Yields,
    per epoch, (row, diverged): row = (epoch, train_loss, test_loss, test_accuracy, seconds) or None,
    diverged None or (epoch, step) (then the training stops). With `conv`, the CNN of pyjinit's trainer
    (CrossCor + MaxPool in Flux; conv weights go over in PyTorch order and are reversed to Flux's there)."""
    jl = module()
    ensure_flux(jl)
    import juliacall

    init = jl.JInit.he_init                        # flux_trainer's default; unused when weights are given
    if draws is not None:
        # layer l's Flux init: rng -> (dims...) -> JInit.f(rng, Float32, dims...; kw...), bound to its key by the
        # extension (layer_init); Flux passes Flux-order dims, which JInit reads as the logical PyTorch order
        bind = jl.seval("(f; kw...) -> rng -> (dims...) -> f(rng, Float32, dims...; kw...)")
        init = tuple(bind(getattr(jl.JInit, name), **kw) for name, kw in draws)
        weights = None
    try:
        trainer = jl.JInit.flux_trainer(
            # ndarrays arrive as PyArray and tuples as Tuple (PythonCall's rules); a list would be a PyList of Py
            x_train.T, y_train, x_test.T, y_test, hidden=tuple(int(h) for h in hidden),
            activation=activation, optimizer=optimizer, lr=lr, momentum=momentum,
            batch_size=batch_size, seed=seed, init=init,
            weights=None if weights is None else tuple(np.asarray(w, np.float32) for w in weights),
            conv=tuple(int(c) for c in conv), pool_every=int(pool_every), classes=int(classes))
        epoch_b = getattr(jl.JInit, "flux_epoch!")
        for epoch in range(1, epochs + 1):
            row, diverged = epoch_b(trainer, epoch)
            if diverged is not None:
                yield None, (int(diverged[0]), int(diverged[1]))
                return
            yield tuple(float(v) for v in row), None
    except juliacall.JuliaError as e:
        raise translate(jl, e) from None
