"""pyjinit's weights in Keras 3 models (``pyjinit.keras``; keras is imported here only).

- ``Initializer(initializer="he_normal", seed=..., **kw)``: a ``keras.initializers.Initializer`` for
  ``kernel_initializer=`` / ``bias_initializer=``, serializable (``model.save`` / ``keras.models.load_model``).
- ``initialize(model, weight=..., bias=..., seed=..., preset=...)``: every weight of a built model, by the
  layer-order rule of docs/stream.md §6 (the l-th layer with weights, parameter j in ``layer.weights`` order:
  ``param_key(seed, l, j)``), so a Keras model equals the PyTorch, Flax and NumPy-trainer ones.

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
from ..inits.plan import Param, plan


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


_NORM_ROLES = {"gamma": "norm_scale", "beta": "norm_shift", "moving_mean": "stat_mean", "moving_variance": "stat_var"}


def _role(layer, v):
    """The planner's role (inits/plan.py ROLES) of weight `v` of `layer`, or None."""
    n = v.name
    if isinstance(layer, _NORMS) or n in _NORM_ROLES:
        return _NORM_ROLES.get(n)
    if n == "embeddings":
        return "embedding"
    if isinstance(layer, keras.layers.RNN):
        return {"kernel": "rnn_input", "recurrent_kernel": "rnn_recurrent", "bias": "rnn_bias"}.get(n)
    return {"kernel": "weight", "bias": "bias"}.get(n)


def _info(layer) -> dict:
    """The module facts the presets use (plan.Param.info), from the layer's kernel (Keras layout)."""
    if isinstance(layer, keras.layers.RNN):
        units = getattr(layer, "units", None) or getattr(getattr(layer, "cell", None), "units", 0)
        return {"hidden": units, "forget_gate": isinstance(layer, keras.layers.LSTM)}
    kernel = next((v for v in layer.weights if v.name == "kernel"), None)
    if kernel is None:
        return {}
    shape = tuple(kernel.shape)
    return {"fan_in": int(np.prod(shape[:-1])) if len(shape) >= 2 else (shape[0] if shape else 1)}


def describe(model) -> list:
    """The weights of `model` as the planner sees them (plan.Param), in the layer order of docs/stream.md §6."""
    out = []
    for l, layer in enumerate(_layers(model), start=1):
        info = _info(layer)
        for j, v in enumerate(layer.weights):
            out.append(Param(v.path, l, j, _role(layer, v), type(layer).__name__, tuple(v.shape), "keras", info))
    return out


def initialize(model, weight=None, bias=None, *, seed=None, preset=None, strict=True, weight_kwargs=None,
               bias_kwargs=None, key_by="position"):
    """Initialize every weight of a built Keras model in place and return it.

    ``weight``/``bias``: initializer names for kernels (Dense, Conv*, the input and recurrent kernels of RNN
    cells, Embedding's embeddings) and biases; normalization layers get ones (gamma, moving variance) and
    zeros (beta, moving mean). ``preset`` ("keras", "torch", "flax", "flux") fills what is not given with that
    framework's defaults: the planner's one presets table (``pyjinit.inits.plan.PRESETS``), the same rules as
    ``pyjinit.torch.initialize`` (under "torch": kaiming_uniform(a=√5) kernels and U(±1/√fan_in) biases, RNN
    weights U(±1/√units)). A weight without a rule is a TypeError naming it (``strict=False`` leaves it).
    ``seed=None`` draws one (``pyjinit.last_seed()``); ``key_by`` as in ``pyjinit.torch.initialize`` (by
    position, or by the weight's path).
    """
    if not isinstance(model, keras.layers.Layer):
        raise TypeError(f"model must be a Keras model or layer, got {type(model).__name__}")
    if not model.built:
        raise ValueError("model is not built: call it on data or model.build(input_shape) first")
    seed = api.new_seed() if seed is None else seed
    steps, _ = plan(describe(model), seed=seed, weight=weight, bias=bias, preset=preset, key_by=key_by,
                    weight_kwargs=weight_kwargs, bias_kwargs=bias_kwargs, strict=strict)
    variables = {v.path: v for v in model.weights}
    for step in steps:                 # every rule was checked (by plan) before anything is written
        v = variables[step.param.path]
        arr = init(step.name, tuple(v.shape), dtype=_host_dtype(v.dtype), seed=step.key, layout="keras", **step.kwargs)
        if step.post is not None:
            a, b, value = step.post
            arr = arr.copy()
            arr[a:b] = value
        v.assign(arr.astype(v.dtype))
    return model
