"""pyjinit's weights in JAX and Flax (``pyjinit.jax``; jax is imported here only).

- ``initializer(name, **kw)`` returns ``init(key, shape, dtype=jnp.float32)``, usable as Flax's
  ``kernel_init=``/``bias_init=`` and inside ``jax.jit``: the values are computed on the host through
  ``jax.pure_callback``. The key's bits (``jax.random.key_data``: two uint32 words, hi and lo) are the seed:
  ``seed = hi * 2^32 + lo``.
- ``initialize(params, weight=..., bias=..., seed=...)`` (re)initializes a Flax ``params`` tree by the
  layer-order rule of docs/stream.md §6: Flax derives each layer's key from its path, so per-layer keys alone
  cannot give another framework's model; this can.

Shapes are Flax's ``(*kernel, in, out)`` (the Keras layout): a Dense kernel is the transpose of the same
layer's PyTorch weight. float64 needs ``jax_enable_x64``; float16/bfloat16 are rounded from float32.

>>> import flax.linen as nn, pyjinit.jax as pjx                          # doctest: +SKIP
>>> layer = nn.Dense(64, kernel_init=pjx.initializer("he"))              # doctest: +SKIP
"""
from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np

from ..inits import api
from ..inits.registry import check_name, init
from ..inits.plan import Param, plan



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


def initializer(name: str, **kw):
    """``init(key, shape, dtype=jnp.float32)`` computing the pyjinit initializer ``name`` (any name of
    ``pyjinit.initializers()``, with its keyword arguments) on Flax-layout shapes, seeded by the key's bits.

    >>> import jax, pyjinit.jax as pjx                                   # doctest: +SKIP
    >>> w = jax.jit(pjx.initializer("he"), static_argnums=(1,))(jax.random.key(0), (784, 128))   # doctest: +SKIP
    """
    check_name(name)

    def init_fn(key, shape, dtype=jnp.float32):
        shape = tuple(int(d) for d in shape)
        host = _host_dtype(dtype)

        def compute(bits):
            return np.asarray(init(name, shape, dtype=host, seed=key_seed(bits), layout="keras", **kw))

        out = jax.pure_callback(compute, jax.ShapeDtypeStruct(shape, jnp.dtype(host)), _key_data(key))
        return out.astype(dtype)

    init_fn.__name__ = f"pyjinit_{name.replace('.', '_')}"
    return init_fn


_ENTRY_ORDER = {"kernel": 0, "embedding": 0, "scale": 1, "bias": 2}


def _natural(key) -> tuple:
    """Sort key of a tree key: text and numbers in turn, so Dense_2 < Dense_10 (Flax names layers by call
    order: Dense_0, Dense_1, ...)."""
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.findall(r"\d+|\D+", str(key)))


def _layers(params) -> list:
    """[(path, {name: array})] of the dicts of `params` whose values are arrays, in a canonical order that does
    not depend on the dict's order (``jax.jit(model.init)`` and ``tree_map`` return sorted keys): sub-trees by
    natural order of their names, the entries of a layer kernel/embedding, scale, bias, then the rest by name —
    for Flax's auto-named layers, the order they were called in, as eager ``model.init`` returns them."""
    if not hasattr(params, "items"):
        raise TypeError(f"params must be a Flax params dict (or a FrozenDict), got {type(params).__name__}")
    out = []

    def walk(path, node):
        items = sorted(node.items(), key=lambda kv: _natural(kv[0]))
        leaves = sorted(((k, v) for k, v in items if not hasattr(v, "items")),
                        key=lambda kv: (_ENTRY_ORDER.get(kv[0], 3), _natural(kv[0])))
        if leaves:
            out.append((path, dict(leaves)))
        for k, v in items:
            if hasattr(v, "items"):
                walk(path + (k,), v)

    walk((), params.get("params", params) if hasattr(params, "get") else params)
    return out


def initialize(params, weight, bias="zeros", *, seed=None, weight_kwargs=None, bias_kwargs=None, key_by="position"):
    """A new Flax ``params`` tree (a dict; the input is not changed) with every kernel and embedding from
    ``weight``, every bias from ``bias`` and norm scales one, following the layer-order rule: the l-th dict
    of arrays in the canonical order (sub-trees by the natural order of their names, so Dense_2 before Dense_10:
    for Flax's auto-named layers the order they were called; entries kernel/embedding, scale, bias) is layer l,
    whatever the order of the dict (eager, ``jax.jit(model.init)`` and ``tree_map`` trees give the same weights); its
    j-th entry uses ``param_key(seed, l, j)`` (``key_by="name"``: ``name_key(seed, "Dense_0/kernel")``, the
    entry's path). The rules are the planner's (``pyjinit.inits.plan``). An entry it does not know (not kernel,
    bias, embedding or scale) is a TypeError naming it. ``seed=None`` draws one (``pyjinit.last_seed()``).

    >>> params = pjx.initialize(model.init(key, x)["params"], "he", seed=0)   # doctest: +SKIP
    """
    seed = api.new_seed() if seed is None else seed
    described, arrays = [], {}
    for l, (path, leaves) in enumerate(_layers(params), start=1):
        norm = "scale" in leaves
        for j, (k, v) in enumerate(leaves.items()):
            role = {"kernel": "weight", "embedding": "embedding", "scale": "norm_scale",
                    "bias": "norm_shift" if norm else "bias"}.get(k)
            p = Param("/".join(path + (k,)), l, j, role, "/".join(path) or "params", tuple(v.shape), "keras")
            described.append(p)
            arrays[p.path] = (path + (k,), v)
    steps, _ = plan(described, seed=seed, weight=weight, bias=bias, key_by=key_by, weight_kwargs=weight_kwargs,
                    bias_kwargs=bias_kwargs)
    values = {}
    for step in steps:
        where, v = arrays[step.param.path]
        a = init(step.name, tuple(v.shape), dtype=_host_dtype(v.dtype), seed=step.key, layout="keras", **step.kwargs)
        values[where] = jnp.asarray(a, dtype=v.dtype)

    def rebuild(path, node):
        if hasattr(node, "items"):
            return {k: rebuild(path + (k,), v) for k, v in node.items()}
        return values.get(path, node)

    if hasattr(params, "get") and "params" in params:
        return {**{k: v for k, v in params.items()}, "params": rebuild((), params["params"])}
    return rebuild((), params)
