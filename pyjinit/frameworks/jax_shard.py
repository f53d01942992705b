"""Sharded JAX arrays made shard by shard: each device computes only its own block of the stream (issue 19).

``sharded(kind, params, dims, limbs, dtype, sharding)`` is what ``pyjinit.jax.initializer(name)(key, shape, dtype,
out_sharding=...)`` runs for an elementwise initializer (uniform, normal, truncated normal, the variance-scaling
family, constants): a ``jax.shard_map`` over the sharding's mesh in which every device works out, from its
``lax.axis_index`` along each mesh axis, which block of the Flax-layout array it holds, computes that block's
logical (PyTorch-order) stream indices as runs (``jax_sampler.offset_runs``: the runs of the block at the origin,
shifted by the block's offset), samples them (``jax_sampler.sample_runs``) and transposes them to Flax's layout.
No data moves between devices: the compiled program has no all-gather, all-reduce, all-to-all or collective
permute (tests/frameworks/test_jax_sharded.py reads the HLO), and the result equals the unsharded array bitwise
(wherever the unsharded array is bitwise, jax_sampler's table).

Whole-array initializers (orthogonal, delta-orthogonal, sparse, identity) cannot be made block by block: the whole
array is made and constrained to the sharding (``jax.lax.with_sharding_constraint``), never a silent per-shard
orthogonal. Cost: the full array computed on every device of the program (sparse and identity: once on the host)
before each device keeps its block. Blocks of unequal size (a dimension not divisible by its number of shards) go
the same way, and JAX refuses such a sharding there (``IndivisibleError``), as for its own initializers.

Under ``jax.jit(init, out_shardings=...)`` *without* ``out_sharding=``, XLA partitions the whole-array program
itself: the values are the same, uniform draws partition without collectives, but a normal's fallback compaction
(a prefix sum over the array) makes it gather; pass ``out_sharding=`` (tests/frameworks/test_jax_sharded.py).

`sharding`: a ``NamedSharding``, or a ``PartitionSpec`` over the mesh in context (``jax.set_mesh``), as JAX's own
initializers' ``out_sharding=``. jax is imported here only with jax_sampler and jax.py.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec

from ..inits.validate import fmt
from . import jax_sampler


def resolve_sharding(out_sharding):
    """(mesh, PartitionSpec) of an ``out_sharding`` argument: a NamedSharding, or a PartitionSpec over the mesh
    set by ``jax.set_mesh`` (an error without one)."""
    if isinstance(out_sharding, NamedSharding):
        return out_sharding.mesh, out_sharding.spec
    if isinstance(out_sharding, PartitionSpec):
        mesh = jax.sharding.get_abstract_mesh()
        if mesh.empty:
            raise ValueError("out_sharding is a PartitionSpec but no mesh is set: use "
                             "NamedSharding(mesh, spec) or `with jax.set_mesh(mesh):`")
        return mesh, out_sharding
    raise TypeError(f"out_sharding must be a jax.sharding.NamedSharding or a PartitionSpec (as JAX's initializers), "
                    f"got {type(out_sharding).__name__}")


def dim_axes(mesh, spec, shape: tuple) -> list:
    """The mesh axes (a tuple, major first) each dimension of `shape` is split over, checked against `mesh`."""
    entries = tuple(spec)
    if len(entries) > len(shape):
        raise ValueError(f"out_sharding's spec {spec} has more entries than the shape {fmt(shape)} has dimensions")
    out, seen = [], set()
    for e in entries + (None,) * (len(shape) - len(entries)):
        axes = () if e is None else (e,) if isinstance(e, str) else tuple(e)
        for a in axes:
            if not isinstance(a, str) or a not in mesh.shape:
                raise ValueError(f"out_sharding's spec {spec} names {a!r}, not an axis of the mesh "
                                 f"({', '.join(mesh.shape)})")
            if a in seen:
                raise ValueError(f"out_sharding's spec {spec} uses the mesh axis {a!r} twice")
            seen.add(a)
        out.append(axes)
    return out


def even(mesh, spec, shape: tuple) -> bool:
    """Whether every dimension of `shape` divides into equal blocks under (mesh, spec)."""
    return all(d % math.prod(mesh.shape[a] for a in axes) == 0 for d, axes in zip(shape, dim_axes(mesh, spec, shape)))


def _logical_pos(f: int, nd: int) -> int:
    """The PyTorch-order (out, in, *kernel) position of the Flax-layout (*kernel, in, out) dimension f."""
    if nd < 2:
        return f
    return 0 if f == nd - 1 else 1 if f == nd - 2 else f + 2


def _from_logical(a, nd: int):
    return a if nd < 2 else jnp.transpose(a, tuple(range(2, nd)) + (1, 0))


def sharded(kind: str, params: dict, shape: tuple, limbs, dtype, mesh, spec):
    """The elementwise draw (kind, params) of the Flax-layout `shape` keyed by `limbs` (uint32[4], traceable) as an
    array with sharding (mesh, spec), each device computing its own block (module docstring). Needs equal blocks
    (``even``)."""
    nd = len(shape)
    axes = dim_axes(mesh, spec, shape)
    counts = [math.prod(mesh.shape[a] for a in ax) for ax in axes]
    block = tuple(d // c for d, c in zip(shape, counts))
    logical = tuple(shape[[nd - 1, nd - 2, *range(nd - 2)][j]] for j in range(nd)) if nd >= 2 else shape
    lblock = tuple(block[[nd - 1, nd - 2, *range(nd - 2)][j]] for j in range(nd)) if nd >= 2 else block
    strides = [math.prod(logical[j + 1:]) for j in range(nd)]
    bshape, starts, run = jax_sampler.block_runs(logical, tuple((0, b) for b in lblock))
    scale = {f: block[f] * strides[_logical_pos(f, nd)] for f in range(nd) if axes[f]}

    def local(key4):
        if 0 in block:
            return jnp.zeros(block, dtype)
        terms = []
        for f, c in scale.items():
            s = jnp.zeros((), jnp.uint32)
            for a in axes[f]:
                s = s * jnp.uint32(mesh.shape[a]) + jax.lax.axis_index(a).astype(jnp.uint32)
            terms.append((s, c))
        lo, hi = jax_sampler.offset_runs(starts, terms)
        flat = jax_sampler.sample_runs(kind, params, key4, lo, hi, run, dtype)
        return _from_logical(flat.reshape(bshape), nd)

    # check_vma off: the sampler's while loops start from device-invariant carries that become device-varying
    return jax.shard_map(local, mesh=mesh, in_specs=PartitionSpec(), out_specs=PartitionSpec(*spec),
                         check_vma=False)(limbs)


def constrain(a, mesh, spec):
    """`a` (a whole array) constrained to (mesh, spec): inside jit, XLA's partitioning; eagerly, a transfer."""
    return jax.lax.with_sharding_constraint(a, NamedSharding(mesh, PartitionSpec(*spec))
                                            if isinstance(mesh, jax.sharding.Mesh) else PartitionSpec(*spec))


def is_sharded(x) -> bool:
    """Whether `x` is a ``jax.Array`` spread over more than one device (``pyjinit.jax.initialize`` keeps it so)."""
    return isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer) and len(x.sharding.device_set) > 1


__all__ = ["constrain", "dim_axes", "even", "is_sharded", "resolve_sharding", "sharded"]
