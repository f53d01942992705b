"""pyjinit's weights in JAX and Flax (``pyjinit.jax``; jax is imported here only).

- ``initializer(name, **kw)`` returns ``init(key, shape, dtype=jnp.float32)``, usable as Flax's
  ``kernel_init=``/``bias_init=``: a pure JAX function (the stream's JAX sampler; ``jax.jit``, ``jax.vmap``, made on
  the device, no host callback but for sparse and identity). The key's bits (``jax.random.key_data``: two uint32
  words, hi and lo) are the seed: ``seed = hi * 2^32 + lo``.
- ``initialize(params, weight=..., bias=..., seed=...)`` (re)initializes a Flax ``params`` tree by the
  layer-order rule of docs/stream.md §6: Flax derives each layer's key from its path, so per-layer keys alone
  cannot give another framework's model; this can.

Shapes are Flax's ``(*kernel, in, out)`` (the Keras layout): a Dense kernel is the transpose of the same
layer's PyTorch weight. float64 needs ``jax_enable_x64``; float16/bfloat16 are rounded from float32.

>>> import flax.linen as nn, pyjinit.jax as pjx                          # doctest: +SKIP
>>> layer = nn.Dense(64, kernel_init=pjx.initializer("he"))              # doctest: +SKIP
"""
from __future__ import annotations

import functools
import math
import re

import jax
import jax.numpy as jnp
import numpy as np

from ..inits import api, numpy_backend
from ..inits.plan import Param, plan
from ..inits.registry import COMMON, check_name, init, jax_orthogonal_axis, resolve
from ..inits.validate import check_real, fmt, torch_shape



def key_seed(key_bits) -> int:
    """The seed of a JAX key's data (uint32 words, most significant first)."""
    seed = 0
    for w in np.asarray(key_bits, dtype=np.uint32).ravel():
        seed = (seed << 32) | int(w)
    return seed % (1 << 128)


def _key_data(key):
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(key)
    return key


def _host_dtype(dtype) -> str:
    return "float64" if jnp.dtype(dtype) == jnp.float64 else "float32"


_DTYPES = ("float16", "bfloat16", "float32", "float64")
_COMPLEX = ("complex64", "complex128")
_TRUNC_STD = 0.87962566103423978           # std of N(0, 1) truncated to (-2, 2) (JAX, Keras)
_COMPLEX_TRUNC_STD = 0.95311164380491208   # std of a complex standard normal with |z| truncated at 2 (JAX)


def _check_dtype(dtype):
    dt = jnp.dtype(dtype)
    if dt.name not in _DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}; got {dt.name}")
    return dt


def _as_dtype(dtype):
    """`dtype` (None: JAX's default float dtype, float64 under jax_enable_x64) as JAX holds it: float64 and
    complex128 become float32 and complex64 without jax_enable_x64, as in every JAX array constructor."""
    if dtype is None:
        return jnp.dtype(jax.dtypes.canonicalize_dtype(jnp.float64))
    try:
        dt = jnp.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a NumPy/JAX dtype, got {fmt(dtype)}") from None
    return jnp.dtype(jax.dtypes.canonicalize_dtype(dt))


def _keras_layout(a, nd: int):
    """A PyTorch-order (out, in, *kernel) array in the Flax/Keras layout (*kernel, in, out)."""
    return a if nd < 2 else jnp.transpose(a, tuple(range(2, nd)) + (1, 0))


def _normals(key4, n: int, work, complex_: bool):
    """n standard normals of the stream (elements 0..n-1); complex: element k is (x_2k + i x_2k+1) / sqrt(2)
    from the stream's elements 2k and 2k+1 (docs/stream.md §5b), E|z|^2 = 1 as jax.random.normal's."""
    from . import jax_sampler

    if not complex_:
        return jax_sampler.sample("normal", {"mean": 0.0, "std": 1.0}, key4, 0, n, work)
    x = jax_sampler.sample("normal", {"mean": 0.0, "std": 1.0}, key4, 0, 2 * n, work)
    return jax.lax.complex(x[0::2], x[1::2]) * jnp.asarray(1 / math.sqrt(2), work)


def _orthogonal(key4, dims: tuple, gain: float, dtype):
    """docs/stream.md §5 in JAX: the stream's normals (float64 for float64, else float32) as rows x cols, QR of the
    tall orientation (jnp.linalg.qr), the Haar sign fix, times gain; equal to the NumPy backend to QR rounding.
    A complex dtype: complex normals (§5b), the phase fix d / |d| of R's diagonal (Haar on the unitary group)."""
    dt = jnp.dtype(dtype)
    cplx = jnp.issubdtype(dt, jnp.complexfloating)
    rows, cols = dims[0], math.prod(dims[1:])
    work = (jnp.float64 if dt in (jnp.float64, jnp.complex128) else jnp.float32)
    if rows == 0 or cols == 0:
        return jnp.zeros(dims, dtype)
    m = _normals(key4, rows * cols, work, cplx).reshape(rows, cols)
    q, r = jnp.linalg.qr(m.T if rows < cols else m)
    d = jnp.diagonal(r)
    if cplx:
        mag = jnp.abs(d)
        q = q * jnp.where(mag == 0, 1.0, d / jnp.where(mag == 0, 1.0, mag))
    else:
        q = q * jnp.where(d < 0, -1.0, 1.0).astype(work)      # Haar sign fix; sign(0) := +1
    if rows < cols:
        q = q.T
    return (q * jnp.asarray(gain, work)).reshape(dims).astype(dtype)


def _delta(key4, dims: tuple, gain: float, dtype):
    """delta_orthogonal_init in JAX: zeros but the centre tap (k - 1) // 2 of every kernel dimension, which is
    orthogonal((out, in), gain) of the same key."""
    centre = tuple((k - 1) // 2 for k in dims[2:])
    return jnp.zeros(dims, dtype).at[(slice(None), slice(None)) + centre].set(
        _orthogonal(key4, dims[:2], gain, dtype))


def _delta_func():
    return getattr(api, "delta_orthogonal_init", None)


def _ortho(func, key, shape: tuple, own: dict, dtype):
    """orthogonal (any JAX column_axis: registry.jax_orthogonal_axis's moved shape, the axis moved back) or
    delta_orthogonal in JAX on the Flax-layout `shape`, else None."""
    g = check_real("gain", own.get("gain", 1.0))
    dims = torch_shape(shape, "keras")
    if func is api.orthogonal_init or func is jax_orthogonal_axis:
        if len(dims) < 2:
            raise ValueError(f"orthogonal needs at least 2 dimensions, got dimensions {fmt(dims)}")
        c = own.get("column_axis", len(shape) - 1)
        moved = torch_shape(shape[:c] + shape[c + 1:] + (shape[c],), "keras")
        return jnp.moveaxis(_keras_layout(_orthogonal(key, moved, g, dtype), len(dims)), -1, c)
    if func is _delta_func():
        func(dims, **own)                           # the core's checks (3-D to 5-D, out >= in), on a NumPy draw
        return _keras_layout(_delta(key, dims, g, dtype), len(dims))
    return None


def _constant_value(func, args):
    """The fill value of a constant initializer (zeros, ones, constant), else None."""
    if func is api.zeros_init:
        return 0
    if func is api.ones_init:
        return 1
    if func is api.constant_init:
        return args.get("value", 0)
    return None


def _resolve_draw(name: str, shape: tuple, kw: dict) -> tuple:
    """(func, its own arguments, the elementwise draw or None) of `name` with `kw` on the Flax-layout `shape`: the
    registry's resolution and, for an elementwise initializer, the NumPy backend's draw (its checks run)."""
    func, args = resolve(name, shape, {**kw, "layout": "keras"})
    own = {k: v for k, v in args.items() if k not in COMMON}
    if func not in api._RUN_NAMES:
        return func, own, None
    return func, own, numpy_backend.draw_of(api._RUN_NAMES[func], torch_shape(shape, "keras"), **own)


def _make_is_none(name: str, shape: tuple, kw: dict) -> bool:
    """Whether `name` has no JAX form (sparse, identity, Flux's identity): made on the host."""
    func, _ = resolve(name, shape, {**kw, "layout": "keras"})
    return func not in api._RUN_NAMES and func not in (api.orthogonal_init, jax_orthogonal_axis, _delta_func())


def _complex(name: str, shape: tuple, key, dtype, kw: dict):
    """A complex `dtype` as JAX defines it for the jax.*/flax.* names, the values from the stream (docs/stream.md
    §5b): normal (jax.normal, variance_scaling 'normal'): std (x + iy) / sqrt(2); variance_scaling 'uniform': the
    uniform disk, r = sqrt(2 u), theta = 2 pi v, times sqrt(variance); 'truncated_normal': modulus truncated at 2,
    r = sqrt(-log(1 - (1 - e^-4) u)), theta = 2 pi v, times sqrt(variance) / 0.95311164380491208; (u, v) the
    stream's uniforms 2k and 2k+1 of element k; orthogonal and delta_orthogonal: Haar unitary (complex normals,
    QR, phase fix); zeros/ones/constant: filled. jax.uniform and jax.truncated_normal refuse complex, as JAX."""
    from . import jax_sampler

    qualified = name.split(".")[0] in ("jax", "flax")
    base = name.split(".", 1)[-1]
    if not qualified or base in ("uniform", "truncated_normal"):
        why = ("as jax.random" if qualified else "complex values are defined for the jax.*/flax.* names")
        raise ValueError(f"dtype must be a float dtype ({', '.join(_DTYPES)}) for {name} ({why}); got {dtype.name}")
    dims = torch_shape(shape, "keras")
    func, own, d = _resolve_draw(name, shape, kw)
    if d is None:
        return _ortho(func, key, shape, own, dtype)
    n = math.prod(dims)
    work = jnp.float64 if dtype == jnp.complex128 else jnp.float32
    if d.kind == "constant":                      # a zero fan: zeros, as the real draw
        return jnp.full(shape, d.params["value"], dtype)
    if d.kind == "normal":
        z = _normals(key, n, work, True) * jnp.asarray(d.params["std"], work)
    else:
        u = jax_sampler.sample("uniform", {"low": 0.0, "high": 1.0}, key, 0, 2 * n, work)
        theta = jnp.asarray(2 * math.pi, work) * u[1::2]
        if d.kind == "uniform":                   # variance_scaling 'uniform': bound sqrt(3 var)
            r, sd = jnp.sqrt(2 * u[0::2]), d.params["high"] / math.sqrt(3)
        else:                                     # variance_scaling 'truncated_normal': std sqrt(var) / 0.8796...
            t = jnp.asarray(1 - math.exp(-4.0), work) * u[0::2]
            r, sd = jnp.sqrt(-jnp.log1p(-t)), d.params["std"] * _TRUNC_STD / _COMPLEX_TRUNC_STD
        z = jax.lax.complex(r * jnp.cos(theta), r * jnp.sin(theta)) * jnp.asarray(sd, work)
    return _keras_layout(z.reshape(dims).astype(dtype), len(dims))


def _make(name: str, shape: tuple, key, dtype, kw: dict):
    """`name` with `kw` on the Flax-layout `shape`, as a JAX array made by JAX operations (jax_sampler: traceable
    in `key`, which is an int seed or the key's uint32 limbs), or None for a name with no JAX form (sparse,
    identity, Flux's identity: made on the host)."""
    from . import jax_sampler

    if jnp.issubdtype(dtype, jnp.complexfloating):
        return _complex(name, shape, key, dtype, kw)
    dims = torch_shape(shape, "keras")
    func, own, d = _resolve_draw(name, shape, kw)
    if d is not None:
        flat = jax_sampler.sample(d.kind, d.params, key, 0, math.prod(dims), dtype)
        return _keras_layout(flat.reshape(dims), len(dims))
    return _ortho(func, key, shape, own, dtype)


@functools.lru_cache(maxsize=512)
def _compiled(name: str, shape: tuple, dtype_name: str, kw_items: tuple):
    """`_make` for (name, shape, dtype, kwargs) as one jitted function of the key's limbs: compiled once and
    reused for every key (eagerly; inside a user's jit it is inlined)."""
    return jax.jit(lambda limbs: _make(name, shape, limbs, jnp.dtype(dtype_name), dict(kw_items)))


def _hashable(kw: dict):
    try:
        items = tuple(sorted(kw.items()))
        hash(items)
        return items
    except TypeError:
        return None


def _check_arguments(name: str, kw: dict) -> None:
    """The arguments of `name` checked without a user's shape: on probe shapes of 2 to 5 dimensions, the error of
    the first if none is accepted (a shape-only rule, such as torch.dirac's 3 to 5 dimensions, passes on one).
    A resolved draw's own checks (a negative std, low > high) run too."""
    first = None
    for shape in ((4, 4), (3, 4, 4), (3, 3, 4, 4), (3, 3, 3, 4, 4)):
        try:
            _resolve_draw(name, shape, kw)
            return
        except (ValueError, IndexError) as e:
            first = first or e
    raise first


def _concrete(argname: str, v):
    """A JAX or NumPy scalar argument as a Python number (JAX takes ``jnp.float32(2.0)``; pyjinit's checks and
    its compiled-program cache need numbers). A traced value cannot be: make the initializer outside ``jit``."""
    if isinstance(v, jax.core.Tracer):
        raise TypeError(f"{argname} must be a concrete number when the initializer is made, got a traced value "
                        "(make the initializer outside jax.jit; its result can be called inside)")
    if isinstance(v, (jax.Array, np.ndarray, np.generic)) and np.ndim(v) == 0:
        return np.asarray(v).item()
    return v


_JAX_CONSTANT = ("jax.constant", "flax.constant")


def initializer(name: str, dtype=None, **kw):
    """``init(key, shape, dtype=<the factory's dtype>, out_sharding=None)`` computing the pyjinit initializer
    ``name`` (any name of ``pyjinit.initializers()``, with its keyword arguments) on Flax-layout shapes, seeded by
    the key's bits (``key_seed``), as a pure JAX function: the stream's JAX sampler
    (``pyjinit.frameworks.jax_sampler``), so it runs on the device, under ``jax.jit``, ``jax.vmap`` and
    ``nnx.vmap``, with no host callback. Equal to ``pyjinit.init(name, shape, seed=key_seed(bits),
    layout="keras")`` by the stream's contract (bitwise, except the documented 1-ulp cases of jax_sampler;
    orthogonal to QR rounding). Sparse and identity have no JAX form and go through ``jax.pure_callback``.

    As ``jax.nn.initializers``'s factories (JAX 0.10): ``dtype`` given here is the initializer's default dtype, a
    dtype given at the call overrides it, and with neither it is JAX's default float dtype (float32; float64
    under ``jax_enable_x64``; float64/complex128 without it are held as float32/complex64, as JAX does). Float
    dtypes draw; complex dtypes draw complex values as JAX defines them for the ``jax.*``/``flax.*`` names
    (``_complex``; docs/stream.md §5b); integer and bool dtypes fill zeros/ones/constant and are a ValueError for
    a random initializer (as ``jax.random``). JAX/NumPy scalar arguments are taken (as numbers);
    ``jax.constant``'s value may be any array ``jnp.full`` broadcasts. ``in_axis``/``out_axis``/``batch_axis``
    work on any rank JAX accepts (a 0-D or 1-D shape with explicit axes). The arguments are checked when the
    initializer is made (on probe shapes) and again, for the shape, when it is called or traced.

    ``out_sharding`` (a ``NamedSharding``, or a ``PartitionSpec`` over the mesh of ``jax.set_mesh``), as JAX's
    initializers: the result has that sharding and equals the unsharded array; an elementwise initializer is made
    shard by shard, each device computing only its own block with no collective (``jax_shard``); a whole-array one
    (orthogonal, sparse, identity) is made whole and constrained. docs/sharding.md.

    >>> import jax, pyjinit.jax as pjx                                   # doctest: +SKIP
    >>> w = jax.jit(pjx.initializer("he"), static_argnums=(1,))(jax.random.key(0), (784, 128))   # doctest: +SKIP
    >>> from jax.sharding import Mesh, NamedSharding, PartitionSpec as P                        # doctest: +SKIP
    >>> mesh = Mesh(np.array(jax.devices()).reshape(2, 4), ("data", "model"))                  # doctest: +SKIP
    >>> w = pjx.initializer("he")(jax.random.key(0), (784, 128), out_sharding=NamedSharding(mesh, P("data", "model")))  # doctest: +SKIP
    """
    check_name(name)
    kw = {k: _concrete(k, v) for k, v in kw.items()}
    factory_dtype = None if dtype is None else _as_dtype(dtype)
    full = None
    if name in _JAX_CONSTANT:
        if "value" not in kw:
            raise TypeError(f"{name} needs value")
        if set(kw) - {"value"}:
            raise TypeError(f"{name} takes value (and dtype); got {', '.join(sorted(set(kw) - {'value'}))}")
        full = kw["value"]                           # JAX: jnp.full(shape, value, dtype), any broadcastable value
        jnp.asarray(full)                            # not an array: a TypeError now
    else:
        _check_arguments(name, kw)                   # bad arguments fail now, as a ValueError/TypeError

    def init_fn(key, shape, dtype=factory_dtype, out_sharding=None):
        from . import jax_sampler

        shape = tuple(int(d) for d in shape)
        if out_sharding is not None:
            return _sharded_call(init_fn, key, shape, dtype, out_sharding)
        dt = _as_dtype(dtype)
        if full is not None:
            return jnp.full(shape, full, dt)
        if dt.name not in _DTYPES and dt.name not in _COMPLEX:
            func, args = resolve(name, shape, {**kw, "layout": "keras"})
            value = _constant_value(func, args)
            if value is None:
                raise ValueError(f"dtype must be a float or complex dtype for the random initializer {name} "
                                 f"(as jax.random); got {dt.name}")
            return jnp.full(shape, value, dt)
        limbs = jax_sampler.key_words(_key_data(key))
        items = _hashable(kw)
        if limbs.ndim == 1 and items is not None:
            out = (_make(name, shape, limbs, dt, kw) if _make_is_none(name, shape, kw)
                   else _compiled(name, shape, dt.name, items)(limbs))
        else:                                # vmap over keys, or unhashable arguments: trace directly
            out = _make(name, shape, limbs, dt, kw)
        if out is not None:
            return out
        host = _host_dtype(dt)

        def compute(bits):
            return np.asarray(init(name, shape, dtype=host, seed=key_seed(bits), layout="keras", **kw))

        return jax.pure_callback(compute, jax.ShapeDtypeStruct(shape, jnp.dtype(host)), _key_data(key)).astype(dt)

    def _sharded_call(plain, key, shape, dtype, out_sharding):
        """``out_sharding``: an elementwise draw on equal blocks is made shard by shard (jax_shard.sharded: each
        device its own block, no collective); anything else whole and constrained (jax_shard's docstring)."""
        from . import jax_sampler, jax_shard

        mesh, spec = jax_shard.resolve_sharding(out_sharding)
        dt = _as_dtype(dtype)
        limbs = jax_sampler.key_words(_key_data(key))
        if full is None and limbs.ndim == 1:
            a = _sharded_draw(name, kw, shape, limbs, dt, mesh, spec)
            if a is not None:
                return a
        return jax_shard.constrain(plain(key, shape, dtype), mesh, tuple(spec))

    init_fn.__name__ = f"pyjinit_{name.replace('.', '_')}"
    return init_fn


def _sharded_draw(name: str, kw: dict, shape: tuple, limbs, dt, mesh, spec):
    """`name` with `kw` on `shape` as an array sharded by (mesh, spec), each device making its own block
    (jax_shard.sharded), or None where that does not apply: not an elementwise draw, not a float dtype, blocks of
    unequal size (which JAX refuses anyway), unhashable arguments."""
    from . import jax_shard

    if dt.name not in _DTYPES or _hashable(kw) is None or not jax_shard.even(mesh, spec, shape):
        return None
    d = _resolve_draw(name, shape, kw)[2]
    if d is None:
        return None
    items = tuple(sorted((k, float(v)) for k, v in d.params.items()))
    return _sharded_program(d.kind, items, tuple(shape), dt.name, mesh, tuple(spec))(limbs)


@functools.lru_cache(maxsize=256)
def _sharded_program(kind: str, items: tuple, shape: tuple, dtype_name: str, mesh, spec: tuple):
    """jax_shard.sharded for one (draw, shape, dtype, mesh, spec) as a jitted function of the key's limbs:
    compiled once (eagerly; inlined inside a user's jit)."""
    from . import jax_shard

    return jax.jit(lambda limbs: jax_shard.sharded(kind, dict(items), shape, limbs, jnp.dtype(dtype_name), mesh,
                                                    spec))


_ENTRY_ORDER = {"kernel": 0, "embedding": 0, "scale": 1, "bias": 2}


def _natural(key) -> tuple:
    """Sort key of a tree key: text and numbers in turn, so Dense_2 < Dense_10 (Flax names layers by call
    order: Dense_0, Dense_1, ...)."""
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.findall(r"\d+|\D+", str(key)))


def _layers(params) -> list:
    """[(path, {name: array})] of the dicts of `params` whose values are arrays, in the order the layers were
    called: the tree's order (eager ``model.init`` inserts layers as they are called), except that layers of one
    auto-named type (``Dense_0`` ... ``Dense_11``) are put in the natural order of their numbers, which is their
    call order, whatever the dict's order (``jax.jit(model.init)`` and ``tree_map`` sort keys: ``Dense_10``
    before ``Dense_2``). A sorted tree of several layer types (``Conv_0, BatchNorm_0, Conv_1``) cannot be put back
    in call order from its names: pass the eager tree, or use ``key_by="name"``. A layer's entries go
    kernel/embedding, scale, bias, then the rest by name."""
    if not hasattr(params, "items"):
        raise TypeError(f"params must be a Flax params dict (or a FrozenDict), got {type(params).__name__}")
    out = []

    def walk(path, node):
        items = list(node.items())
        subs = [k for k, v in items if hasattr(v, "items")]
        prefixes = {m.group(1) if m else None for m in (re.fullmatch(r"(.+)_(\d+)", str(k)) for k in subs)}
        if len(prefixes) == 1 and None not in prefixes:
            items.sort(key=lambda kv: _natural(kv[0]))   # Dense_0 .. Dense_11: call order whatever the dict order
        leaves = sorted(((k, v) for k, v in items if not hasattr(v, "items")),
                        key=lambda kv: (_ENTRY_ORDER.get(kv[0], 3), _natural(kv[0])))
        if leaves:
            out.append((path, dict(leaves)))
        for k, v in items:
            if hasattr(v, "items"):
                walk(path + (k,), v)

    walk((), params.get("params", params) if hasattr(params, "get") else params)
    return out


_NORM_NAME = re.compile(r"(norm|^ln(_|\d|$)|_ln(_|\d|$))", re.IGNORECASE)


def _is_norm(path: tuple, leaves: dict) -> bool:
    """Whether a layer's entries are a normalization's: it has a ``scale``, or (a scale-less norm, Flax's
    ``use_scale=False``) it has no kernel or embedding and its name says norm (``LayerNorm_0``, ``BatchNorm_1``,
    ``GroupNorm_0``, ``RMSNorm_0``, ``ln_f``, ``norm1``): its ``bias`` is then the norm's shift, not a bias."""
    if "scale" in leaves:
        return True
    if "kernel" in leaves or "embedding" in leaves or not path:
        return False
    return bool(_NORM_NAME.search(str(path[-1])))


def _unbox(v):
    """(array, rebox) of a params leaf: a plain array; a Flax linen box (``nn.Partitioned``, ``nn.LogicallyPartitioned``:
    ``unbox``/``replace_boxed``); an NNX ``Variable`` (``nnx.state(model)``'s leaves: ``get_value``/``replace``).
    The box keeps its metadata; rebox(new) puts a new array in it."""
    if hasattr(v, "unbox") and hasattr(v, "replace_boxed"):
        return v.unbox(), v.replace_boxed
    if hasattr(v, "get_value") and hasattr(v, "replace") and hasattr(v, "get_metadata"):
        return v.get_value(), v.replace
    return v, None


def _target_sharding(leaf, array, mesh):
    """The sharding a new value of `leaf` gets: the array's own when it is spread over several devices (a model
    made under ``jax.jit(..., out_shardings=...)``), else, given `mesh`, the leaf's partitioning annotation on it
    (a linen box's ``get_partition_spec()``, an NNX Variable's ``out_sharding``/``sharding_names`` metadata);
    None: unsharded."""
    from . import jax_shard

    if jax_shard.is_sharded(array):
        return array.sharding
    if mesh is None:
        return None
    spec = None
    if hasattr(leaf, "get_partition_spec"):
        spec = leaf.get_partition_spec()
    elif hasattr(leaf, "get_metadata"):
        meta = leaf.get_metadata()
        names = meta.get("out_sharding", meta.get("sharding_names")) if hasattr(meta, "get") else None
        spec = None if names is None else jax.sharding.PartitionSpec(*names)
    return None if spec is None else jax.sharding.NamedSharding(mesh, spec)


def initialize(params, weight=None, bias=None, *, seed=None, preset=None, strict=True, weight_kwargs=None,
               bias_kwargs=None, key_by="position", mesh=None):
    """A new Flax ``params`` tree (a dict; the input is not changed) with every kernel and embedding from
    ``weight``, every bias from ``bias`` and norm scales one, following the layer-order rule: the l-th dict
    of arrays in the canonical order (sub-trees by the natural order of their names, so Dense_2 before Dense_10:
    for Flax's auto-named layers the order they were called; entries kernel/embedding, scale, bias) is layer l
    (``_layers``: eager trees in call order; a jitted or ``tree_map``'ped tree of one layer type too; a jitted tree
    of several layer types needs the eager tree or ``key_by="name"``); its
    j-th entry uses ``param_key(seed, l, j)`` (``key_by="name"``: ``name_key(seed, "Dense_0/kernel")``, the
    entry's path). The rules are the planner's (``pyjinit.inits.plan``). An entry it does not know (not kernel,
    bias, embedding or scale) is a TypeError naming it. ``seed=None`` draws one (``pyjinit.last_seed()``).
    Where JAX runs on an accelerator each entry is made there by the JAX sampler (one compiled program per
    distinct shape and rule); on the CPU, where the host is the device, by the NumPy backend (milliseconds
    instead of a compile per shape); the values are the same by the stream's contract.

    Sharded models (docs/sharding.md): an entry whose array is spread over several devices (a model made under
    ``jax.jit(model.init, out_shardings=...)``) keeps its sharding, and with ``mesh=`` (a ``jax.sharding.Mesh``) an
    entry annotated with mesh axis names (linen's ``nn.with_partitioning``, NNX's ``nnx.with_partitioning``) gets
    ``NamedSharding(mesh, its spec)``. Elementwise initializers are then made shard by shard, each device its own
    block (``initializer(...)(..., out_sharding=...)``); whole-array ones (orthogonal, sparse, identity) once and
    placed. Leaves may be arrays, linen boxes (``nn.Partitioned``: the result keeps the box and its names) or NNX
    Variables (``nnx.state(model, nnx.Param)``; put the result back with ``nnx.update(model, new)``); the
    containers (dict, FrozenDict, NNX State) keep their type.

    >>> params = pjx.initialize(model.init(key, x)["params"], "he", seed=0)   # doctest: +SKIP
    """
    seed = api.new_seed() if seed is None else seed
    described, arrays = [], {}
    for l, (path, leaves) in enumerate(_layers(params), start=1):
        norm = _is_norm(path, leaves)
        for j, (k, leaf) in enumerate(leaves.items()):
            v, rebox = _unbox(leaf)
            if not (hasattr(v, "shape") and hasattr(v, "dtype")):
                raise TypeError(f"params must be a tree of dicts of arrays (a Flax params dict); "
                                f"{'/'.join(map(str, path + (k,)))} is a {type(v).__name__}")
            role = {"kernel": "weight", "embedding": "embedding", "scale": "norm_scale",
                    "bias": "norm_shift" if norm else "bias"}.get(k)
            p = Param("/".join(path + (k,)), l, j, role, "/".join(path) or "params", tuple(v.shape), "keras")
            described.append(p)
            arrays[p.path] = (path + (k,), v, rebox, _target_sharding(leaf, v, mesh))
    steps, _ = plan(described, seed=seed, weight=weight, bias=bias, preset=preset, key_by=key_by,
                    weight_kwargs=weight_kwargs, bias_kwargs=bias_kwargs, strict=strict)
    from . import jax_sampler

    on_cpu = jax.default_backend() == "cpu"
    values = {}
    for step in steps:
        where, v, rebox, sharding = arrays[step.param.path]
        dt, shape = _check_dtype(v.dtype), tuple(v.shape)
        items = _hashable(step.kwargs)
        a = None
        if isinstance(sharding, jax.sharding.NamedSharding):   # each device its own block
            a = _sharded_draw(step.name, step.kwargs, shape, jnp.asarray(jax_sampler.key_limbs(step.key)), dt,
                              sharding.mesh, sharding.spec)
        if a is None and not on_cpu and items is not None and not _make_is_none(step.name, shape, step.kwargs):
            a = _compiled(step.name, shape, dt.name, items)(jnp.asarray(jax_sampler.key_limbs(step.key)))
        if a is None:                       # the CPU (the host is the device), sparse, identity: NumPy on the host
            a = jnp.asarray(init(step.name, shape, dtype=_host_dtype(dt), seed=step.key, layout="keras",
                                 backend="numpy", **step.kwargs), dtype=dt)
        if step.post is not None:           # a slice of the first (PyTorch-order) axis: Flax's last
            lo, hi, value = step.post
            a = a.at[..., lo:hi].set(value) if a.ndim >= 2 else a.at[lo:hi].set(value)
        if sharding is not None:
            a = jax.device_put(a, sharding)          # whole-array draws placed; a no-op for the shard-made ones
        values[where] = a if rebox is None else rebox(a)

    def rebuild(path, node):
        if hasattr(node, "items"):
            new = {k: rebuild(path + (k,), v) for k, v in node.items()}
            if type(node) is dict:
                return new
            try:
                return type(node)(new)             # FrozenDict, NNX State
            except Exception:
                return new
        return values.get(path, node)

    if hasattr(params, "get") and "params" in params:
        return {**{k: v for k, v in params.items()}, "params": rebuild((), params["params"])}
    return rebuild((), params)
