"""Initializers as Dask arrays (``pyjinit.dask``): each chunk is generated on its own with the block API, so
an array larger than memory is made chunk by chunk, by any worker, and ``.compute()`` equals the in-memory
``pyjinit.init(name, shape, ...)`` exactly, for every chunking (docs/stream.md §7).

>>> import numpy as np, pyjinit, pyjinit.dask as pdk
>>> w = pdk.init("he_normal", (200_000, 50_000), chunks=8192, seed=0)            # lazy: 40 GB, nothing made
>>> w.chunksize
(8192, 8192)
>>> small = pdk.init("he_normal", (100, 30), chunks=(7, 9), seed=0)
>>> bool((small.compute() == pyjinit.init("he_normal", (100, 30), seed=0, backend="numpy")).all())
True
"""
from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import dask
import dask.array as da
import numpy as np

from ..inits import api
from ..inits.registry import check_name, init_block
from ..inits.validate import check_dims, check_dtype, check_seed, fmt
from ..support import progress

# The small side of an orthogonal matrix must fit in memory (its R factor, and one block of its columns).
ORTHOGONAL_MAX_SMALL_SIDE = 40_000


def _block(block, name, shape, seed, kw, block_info=None):
    loc = block_info[0]["array-location"]
    return init_block(name, shape, tuple(slice(a, b) for a, b in loc), seed=seed, **kw)


def init(name, shape, *, chunks="auto", seed=None, dtype="float32", layout="torch", backend="numpy", **kw):
    """A ``dask.array.Array`` of the initializer ``name`` (any name of ``pyjinit.initializers()``) whose
    chunks are computed independently with ``pyjinit.init_block``; ``.compute()`` equals
    ``pyjinit.init(name, shape, seed=seed, dtype=dtype, layout=layout, **kw)`` exactly for any ``chunks``
    (anything ``dask.array`` accepts). ``seed=None`` draws one now (``pyjinit.last_seed()``): every chunk uses it.

    Orthogonal (``orthogonal``, ``torch.orthogonal``, ...) goes through Dask's tall-and-skinny QR
    (``dask.array.linalg.tsqr``) of the float64 normals, with the same Haar sign fix, in float64 for every dtype,
    rounded to ``dtype`` at the end; its small side must fit in memory (at most ``ORTHOGONAL_MAX_SMALL_SIDE``), else
    ValueError. In float64 it equals the in-memory result to rounding (about 1e-16), not bitwise (a different QR
    algorithm). In float32/float16 it is *not* the in-memory array, which factors the float32 normals (another
    matrix: every column differs): it is the float64 in-memory array rounded to ``dtype``, i.e.
    ``pyjinit.init(name, shape, dtype="float64", ...).astype(dtype)`` to rounding (docs/scale.md). Sparse and
    identity have no chunked form: ValueError.
    ``backend``: where each chunk is computed ("numpy" by default: workers need no Julia).
    """
    check_name(name)
    dims = check_dims(shape)
    dt = check_dtype(dtype)
    seed = api.new_seed() if seed is None else check_seed(seed)
    kw = {"dtype": dt.name, "layout": layout, "backend": backend, **kw}
    if _is_orthogonal(name):
        return _orthogonal(name, dims, seed, chunks, kw)
    init_block(name, dims, tuple(slice(0, 0) for _ in dims), seed=seed, **kw)   # checks everything, now
    template = da.empty(dims, chunks=chunks, dtype=dt)
    return template.map_blocks(_block, name, dims, seed, kw, dtype=dt, meta=np.empty((0,) * len(dims), dt),
                               name=f"pyjinit-{name}-" + dask.base.tokenize(name, dims, seed, kw, template.chunks))


def _is_orthogonal(name) -> bool:
    from ..inits.registry import _REGISTRY

    return _REGISTRY[name][0] is api.orthogonal_init


def _orthogonal(name, dims, seed, chunks, kw):
    from ..inits.registry import resolve

    dt, layout = np.dtype(kw.pop("dtype")), kw.pop("layout")
    kw.pop("backend")
    _, kw = resolve(name, dims, {**kw, "layout": layout})
    kw = {k: v for k, v in kw.items() if k not in ("layout", "dtype", "seed", "backend")}
    gain = float(kw.pop("gain", 1.0))
    if kw:
        raise TypeError(f"orthogonal takes gain; got {', '.join(kw)}")
    t = api.torch_shape(dims, layout)
    if len(t) < 2:
        raise ValueError(f"orthogonal needs at least 2 dimensions, got dimensions {fmt(dims)}")
    rows, cols = t[0], math.prod(t[1:])
    small = min(rows, cols)
    if small > ORTHOGONAL_MAX_SMALL_SIDE:
        raise ValueError(f"orthogonal through Dask needs its small side in memory (R is {small}x{small}, "
                         f"{small * small * 8 / 1e9:.1f} GB in float64); it is {small} > {ORTHOGONAL_MAX_SMALL_SIDE}")
    if rows == 0 or cols == 0:
        return da.zeros(dims, dtype=dt, chunks=chunks)
    target = chunks if isinstance(chunks, int) else "auto"
    # the N(0, 1) matrix of the in-memory algorithm (same stream, float64), chunked along its long side
    m = init("normal", (rows, cols), chunks=(target, cols) if rows >= cols else (rows, target), seed=seed,
             dtype="float64")
    tall = m if rows >= cols else m.T
    tall = tall.rechunk({0: target if target != "auto" else "auto", 1: -1})
    q, r = da.linalg.tsqr(tall)
    sign = da.where(da.diagonal(r) < 0, -1.0, 1.0)         # Haar sign fix; sign(0) := +1
    q = q * sign[None, :]
    if rows < cols:
        q = q.T
    out = (gain * q).astype(dt).reshape(t)
    return api.from_torch(out, layout) if layout == "keras" else out


class _Bar(dask.callbacks.Callback):
    """A progress bar over a Dask computation's tasks (the local schedulers)."""

    def __init__(self, desc, verbose):
        super().__init__()
        self.desc, self.verbose, self.bar = desc, verbose, None

    def _start_state(self, dsk, state):
        self.bar = progress.bar(len(state["ready"]) + len(state["waiting"]) + len(state.get("running", ())),
                                self.desc, self.verbose, unit="chunk")

    def _posttask(self, key, result, dsk, state, worker_id):
        self.bar.update(1)

    def _finish(self, dsk, state, errored):
        if self.bar is not None:
            self.bar.close()


def to_zarr(arr, path, *, attrs=None, verbose=True, overwrite=False):
    """Write a Dask array to a Zarr store at ``path``, safely: into ``<path>.incomplete`` first, renamed to
    ``path`` only when every chunk is written, so an interrupted write leaves a store that says it is
    incomplete, never one that looks whole. ``attrs`` (e.g. the initializer, seed and arguments) go into the
    store's attributes. A progress bar shows the chunks (off with ``verbose=False``). Returns the path."""
    import zarr

    final = Path(path)
    if final.exists() and not overwrite:
        raise ValueError(f"path {str(final)!r} exists (pass overwrite=True to replace it)")
    tmp = final.with_name(final.name + ".incomplete")
    if tmp.exists():
        shutil.rmtree(tmp)
    with _Bar(f"writing {final.name}", verbose):
        arr.to_zarr(str(tmp), overwrite=True)
    store = zarr.open(str(tmp), mode="r+")
    store.attrs.update({"pyjinit": {**(attrs or {}), "complete": True}})
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final
