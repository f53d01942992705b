"""Run JInit in a separate `julia` process (no juliacall): for the cross-backend tests and benchmarks.

Each call is rendered as Julia source, `julia --project=<JInit>` runs the script, and results come back
as raw bytes: the array (Flux layout) or the message of the ArgumentError it raised.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .common import JULIA_TYPES, flux_dims, from_flux, jinit_path

def julia_exe() -> str | None:
    """The `julia` to use: $PYJINIT_JULIA, else the first on PATH."""
    return os.environ.get("PYJINIT_JULIA") or shutil.which("julia")


def julia_literal(v) -> str:
    if v is None:
        return "nothing"
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v).replace("$", "\\$")
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Inf" if v > 0 else "-Inf"
        return repr(v)
    if isinstance(v, (complex, np.complexfloating)):
        return f"ComplexF64({julia_literal(float(v.real))}, {julia_literal(float(v.imag))})"
    if isinstance(v, tuple):
        return "(" + ", ".join(julia_literal(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, list):                     # what juliacall hands Julia for a list: a vector
        return "Any[" + ", ".join(julia_literal(x) for x in v) + "]"
    raise TypeError(f"cannot render {v!r} as Julia")


@dataclass
class Call:
    """`name(PhiloxStream(seed), T, dims...; kwargs...)` in Julia, dims from a PyTorch-order shape."""
    name: str
    shape: tuple
    dtype: str = "float32"
    seed: int = 0
    kwargs: dict = field(default_factory=dict)
    index: tuple | None = None          # a block: ((start, stop), ...) over the PyTorch-order shape

    @property
    def result_shape(self) -> tuple:
        return self.shape if self.index is None else tuple(b - a for a, b in self.index)

    def source(self) -> str:
        args = ", ".join(str(d) for d in flux_dims(self.shape))
        kw = ", ".join(f"{k} = {julia_literal(v)}" for k, v in self.kwargs.items())
        if self.index is not None:
            kw = f"index = {julia_literal(tuple(tuple(r) for r in self.index))}" + (f", {kw}" if kw else "")
            return (f"JInit.init_block(JInit.{self.name}, PhiloxStream({self.seed}), {JULIA_TYPES[self.dtype]}"
                    + (f", {args}" if args else "") + f"; {kw})")
        return (f"JInit.{self.name}(PhiloxStream({self.seed}), {JULIA_TYPES[self.dtype]}"
                + (f", {args}" if args else "") + (f"; {kw}" if kw else "") + ")")


# An error comes back as its message: an ArgumentError's (the NumPy backend's ValueError says the same), a
# keyword no method takes as Python's TypeError says it, else the error's type and its first line.
_PRELUDE = """
using JInit
function emit(io, name, f)
    local A
    try
        A = f()
    catch e
        k = isdefined(JInit, :unexpected_keyword) ? JInit.unexpected_keyword(e) : nothing
        text = e isa ArgumentError ? e.msg :
               k !== nothing ? "$(name)() got an unexpected keyword argument '$(k)'" :
               "$(typeof(e)): " * first(split(sprint(showerror, e), '\\n'))
        msg = Vector{UInt8}(text)
        write(io, UInt8(0), Int64(length(msg)), msg)
        return
    end
    write(io, UInt8(1), Int64(length(A)), A)
end
"""


class JuliaFailed(RuntimeError):
    pass


def run_calls(calls: list, julia: str | None = None, threads: int = 1, timeout: float = 600) -> list:
    """Evaluate each Call in one Julia process. Returns, per call, an ndarray in PyTorch order or the
    error message (str): an ArgumentError's, or for a keyword no method takes, Python's TypeError message
    ("he_init() got an unexpected keyword argument 'bogus'")."""
    julia = julia or julia_exe()
    if julia is None:
        raise JuliaFailed("no julia executable (set PYJINIT_JULIA or put julia on PATH)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.bin"
        script = Path(tmp) / "calls.jl"
        body = "\n".join(f"emit(io, {julia_literal(c.name)}, () -> {c.source()})" for c in calls)
        script.write_text(_PRELUDE + f'open({julia_literal(str(out))}, "w") do io\n{body}\nend\n')
        proc = subprocess.run([julia, f"--threads={threads}", f"--project={jinit_path()}", str(script)],
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise JuliaFailed(f"julia exited with {proc.returncode}:\n{proc.stderr[-4000:]}")
        data = out.read_bytes()
    results, pos = [], 0
    for c in calls:
        tag, n = struct.unpack_from("<Bq", data, pos)
        pos += 9
        if tag == 0:
            results.append(data[pos:pos + n].decode())
            pos += n
        else:
            dt = np.dtype(c.dtype)
            raw = np.frombuffer(data, dtype=dt, count=n, offset=pos)
            pos += n * dt.itemsize
            results.append(from_flux(raw, c.result_shape))
    return results


def run_script(source: str, julia: str | None = None, threads: int = 1, timeout: float = 600) -> str:
    """Run Julia source with JInit's project active; returns stdout."""
    julia = julia or julia_exe()
    if julia is None:
        raise JuliaFailed("no julia executable (set PYJINIT_JULIA or put julia on PATH)")
    proc = subprocess.run([julia, f"--threads={threads}", f"--project={jinit_path()}", "-e", source],
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise JuliaFailed(f"julia exited with {proc.returncode}:\n{proc.stderr[-4000:]}")
    return proc.stdout
