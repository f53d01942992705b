"""pyjinit's weights in Keras 3 models (``pyjinit.keras``; keras is imported here only).

- ``Initializer(initializer="he_normal", seed=..., **kw)``: a ``keras.initializers.Initializer`` for
  ``kernel_initializer=`` / ``bias_initializer=``, serializable (``model.save`` / ``keras.models.load_model``).
- ``initialize(model, weight=..., bias=..., seed=..., preset=...)``: every weight of a built model, by the
  layer-order rule of docs/stream.md §6 (the l-th layer with weights, parameter j in ``layer.weights`` order:
  ``param_seed(seed, l, j)``), so a Keras model equals the PyTorch, Flax and NumPy-trainer ones.

Shapes are Keras's ``(*kernel, in, out)``: pyjinit computes in its PyTorch order and transposes, so a Dense
kernel is the transpose of the same layer's PyTorch weight.

Seeding follows Keras: an Initializer built with ``seed=None`` draws one seed when it is made and then gives
the same values at every call (as Keras's own initializers with an int or None seed); the seed is in its
config. A per-layer initializer cannot know its layer's place in the model: ``initialize`` can.

>>> import keras, pyjinit.keras as pk                                     # doctest: +SKIP
>>> layer = keras.layers.Dense(64, kernel_initializer=pk.Initializer("he_normal", seed=0))   # doctest: +SKIP
"""
from __future__ import annotations

import keras
import numpy as np

from ..inits import api
from ..inits.registry import check_name, init
from ..inits.stream import param_seed
from ..inits.validate import check_choice, fmt

PRESETS = ("keras", "torch", "flax", "flux")
_NORMS = (keras.layers.BatchNormalization, keras.layers.LayerNormalization, keras.layers.GroupNormalization)


def _host_dtype(dtype) -> str:
    name = keras.backend.standardize_dtype(dtype or keras.backend.floatx())
    return "float64" if name == "float64" else "float32"


@keras.saving.register_keras_serializable(package="pyjinit")
class Initializer(keras.initializers.Initializer):
    """A pyjinit initializer for Keras layers: ``Initializer(initializer, seed=None, **kw)`` with any name of
    ``pyjinit.initializers()`` and its keyword arguments, on Keras-layout shapes ``(*kernel, in, out)``.

    >>> import keras, pyjinit.keras as pk                                               # doctest: +SKIP
    >>> keras.layers.Conv2D(32, 3, kernel_initializer=pk.Initializer("keras.he_normal", seed=1))  # doctest: +SKIP
    """

    def __init__(self, initializer="glorot_uniform", seed=None, **kwargs):
        self.initializer = check_name(initializer)
        self._init_seed = seed
        self.seed = api.new_seed() if seed is None else int(seed)
        self.kwargs = dict(kwargs)

    def __call__(self, shape, dtype=None):
        arr = init(self.initializer, tuple(int(d) for d in shape), dtype=_host_dtype(dtype), seed=self.seed,
                   layout="keras", **self.kwargs)
        return keras.ops.convert_to_tensor(arr, dtype=dtype or keras.backend.floatx())

    def get_config(self):
        return {"initializer": self.initializer, "seed": self.seed, **self.kwargs}


def _layers(model) -> list:
    """The layers of `model` that own weights, in order, nested models flattened: layer l is out[l-1]."""
    out = []

    def walk(layer):
        subs = getattr(layer, "layers", None)
        if subs:
            for s in subs:
                walk(s)
        elif layer.weights:
            out.append(layer)

    walk(model)
    return out


def _preset_rule(preset, layer, v):
    """(initializer name, kwargs) for weight `v` of `layer` under a preset, or None."""
    n = v.name
    if n in ("gamma", "moving_variance"):
        return "ones", {}
    if n in ("beta", "moving_mean"):
        return "zeros", {}
    if n == "embeddings":
        return {"keras": ("keras.random_uniform", {}), "torch": ("normal", {}), "flux": ("normal", {}),
                "flax": ("normal", {"std": float(1 / np.sqrt(v.shape[-1]))})}[preset]
    if n == "bias":
        return "zeros", {}
    if n == "recurrent_kernel":
        return ("xavier", {}) if preset == "flux" else ("orthogonal", {})
    if n == "kernel":
        return {"keras": ("xavier", {}), "flux": ("xavier", {}), "flax": ("jax.lecun_normal", {}),
                "torch": ("torch.kaiming_uniform", {"a": float(np.sqrt(5))})}[preset]
    return None


def initialize(model, weight=None, bias=None, *, seed=None, preset=None, strict=True, weight_kwargs=None,
               bias_kwargs=None):
    """Initialize every weight of a built Keras model in place and return it.

    ``weight``/``bias``: initializer names for kernels (Dense, Conv*, the input and recurrent kernels of RNN
    cells, Embedding's embeddings) and biases; normalization layers get ones (gamma, moving variance) and
    zeros (beta, moving mean). ``preset`` ("keras", "torch", "flax", "flux") fills what is not given with that
    framework's defaults (as in ``pyjinit.torch.initialize``; under "torch" a bias keeps zeros here). A weight
    without a rule is a TypeError naming it (``strict=False`` leaves it). ``seed=None`` draws one
    (``pyjinit.last_seed()``).
    """
    if not isinstance(model, keras.layers.Layer):
        raise TypeError(f"model must be a Keras model or layer, got {type(model).__name__}")
    if not model.built:
        raise ValueError("model is not built: call it on data or model.build(input_shape) first")
    if preset is not None:
        preset = check_choice("preset", preset, PRESETS)
    if preset is None and weight is None:
        raise TypeError(f"initialize needs weight= (an initializer name) or preset= (one of {', '.join(PRESETS)})")
    for v in (weight, bias):
        if v is not None:
            check_name(v)
    if bias is None and preset is None:
        bias = "zeros"
    seed = api.new_seed() if seed is None else seed
    plan = []
    for l, layer in enumerate(_layers(model), start=1):
        for j, v in enumerate(layer.weights):
            rule = None
            if v.name in ("kernel", "recurrent_kernel", "embeddings") and weight is not None:
                rule = (weight, dict(weight_kwargs or {}))
            elif v.name == "bias" and bias is not None and not isinstance(layer, _NORMS):
                rule = (bias, dict(bias_kwargs or {}))
            elif preset is not None or v.name in ("gamma", "beta", "moving_mean", "moving_variance"):
                rule = _preset_rule(preset or "keras", layer, v)
            if rule is None:
                if strict:
                    raise TypeError(f"initialize has no rule for weight {fmt(v.path)} of a {type(layer).__name__} "
                                    "(pass weight=/preset= for it, or strict=False to leave it as it is)")
                continue
            plan.append((layer, v, rule, param_seed(seed, l, j)))
    for layer, v, (name, kw), s in plan:
        arr = init(name, tuple(v.shape), dtype=_host_dtype(v.dtype), seed=s, layout="keras", **kw)
        if isinstance(layer, keras.layers.LSTM) and v.name == "bias" and preset == "keras" and bias is None:
            h = arr.shape[0] // 4                     # gates i, f, c, o: Keras's unit_forget_bias
            arr = arr.copy()
            arr[h:2 * h] = 1
        v.assign(arr.astype(v.dtype))
    return model
