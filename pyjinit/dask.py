"""`pyjinit.dask`: initializers as chunked Dask arrays, and Zarr storage (pyjinit/scale/dask.py)."""
from .scale.dask import init, to_zarr  # noqa: F401

__all__ = ["init", "to_zarr"]
