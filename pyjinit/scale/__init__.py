"""Scaling out: initializers as chunked Dask arrays (larger than memory, any chunking, the same values as in
memory) and Zarr storage (dask, imported only in its module; `pyjinit.dask` is its public face).
May import: `pyjinit.inits`, `pyjinit.support`; dask, zarr and distributed inside `dask.py` only.
"""
