"""pyjinit's weights in Keras 3 models (``pyjinit.keras``; keras is imported here only).

- Keras's initializer classes under Keras's names: ``VarianceScaling``, ``GlorotUniform``, ``GlorotNormal``,
  ``HeUniform``, ``HeNormal``, ``LecunUniform``, ``LecunNormal``, ``RandomNormal``, ``RandomUniform``,
  ``TruncatedNormal``, ``Orthogonal``, ``Identity``, ``Constant``, ``Zeros``, ``Ones`` and ``STFT``. Each *is*
  the ``keras.initializers`` class of its name (a subclass, so ``pk.GlorotUniform()`` is a
  ``keras.initializers.VarianceScaling`` and Keras code that dispatches on the type treats it as its own: an
  ``EinsumDense`` / ``MultiHeadAttention`` kernel gets its ``input_axes``/``output_axes``), with Keras's
  constructor, attributes (``.scale``, ``.mode``, ``.distribution``, ``.mean``, ``.stddev``, ``.minval``,
  ``.maxval``, ``.gain``, ``.value``, ``.seed``, ``.input_axes``, ``.output_axes``), config and argument checks,
  and serializable (``model.save`` / ``keras.models.load_model``). The values are pyjinit's: with an int seed,
  ``pk.HeNormal(seed=s)(shape)`` equals ``pyjinit.init("keras.he_normal", shape, seed=s, layout="keras")``
  (``pk.RandomNormal(mean, stddev, seed=s)``: ``pyjinit.init("keras.random_normal", ..., mean=mean,
  stddev=stddev)``, and so on), the array the PyTorch, JAX/Flax, NumPy and Julia sides give for that name
  and seed. They are not the values Keras's own class gives for that seed (Keras draws from its backend's
  generator), only the same distribution.
- ``Initializer(initializer="glorot_uniform", seed=..., **kw)``: any name of ``pyjinit.initializers()`` with
  its keyword arguments (an unqualified name means PyTorch's: ``"he_normal"`` is untruncated); the keras.*
  variance-scaling names also take ``input_axes=``/``output_axes=``. It is not a ``VarianceScaling``, so an
  ``EinsumDense`` does not hand it its axes: there, use the classes above (or pass the axes yourself).
- ``initialize(model, weight=..., bias=..., seed=..., preset=...)``: every weight of a built model, by the
  layer-order rule of docs/stream.md §6 (the l-th layer with weights, parameter j in ``layer.weights`` order:
  ``param_key(seed, l, j)``), so a Keras model equals the PyTorch, Flax and NumPy-trainer ones.

Shapes are Keras's ``(*kernel, in, out)``: pyjinit computes in its PyTorch order and transposes, so a Dense
kernel is the transpose of the same layer's PyTorch weight. Fans are Keras 3's ``compute_fans``: with both
``input_axes`` and ``output_axes`` given, fan_in and fan_out are the products of the shape over those axes;
otherwise () gives (1, 1), (n,) gives (n, n), (in, out) itself, and a kernel in and out times its receptive
field. A variance-scaling initializer then draws from pyjinit's uniform on ±√(3·scale/n), normal with std
√(scale/n), or truncated normal at ±2 std with std √(scale/n)/0.8796… (n: the fan of ``mode``, at least 1),
so axes that give the default fans give the default values, element for element. Dtypes: float32 and float64
are pyjinit's values of that dtype (float64 only where the backend holds it, as Keras: JAX needs
jax_enable_x64, else float32); float16 and bfloat16 are pyjinit's float32 values rounded.

Seeding follows Keras 3; what pyjinit can promise depends on the seed:

- An int seed (in [0, 2^128)): the same values at every call, and equal to ``pyjinit.init`` with that seed.
  Every copy of the initializer repeats them: ``MultiHeadAttention`` copies its kernel initializer for the
  query, key, value and output projections, so with an int seed the query, key and value kernels are equal,
  exactly as with Keras's own initializers. Give ``seed=None`` or a ``SeedGenerator`` to get distinct ones.
- ``seed=None``: as Keras, the initializer draws a seed when it is made (64 bits from the OS, kept in
  ``.seed`` and ``pyjinit.last_seed()``) and gives the same values at every call, but its config records
  ``seed: None``: a copy (``from_config``/``clone``, ``MultiHeadAttention``'s projections, ``EinsumDense``'s
  axes, the initializer of a loaded model) draws a seed of its own, so the copies differ. pyjinit's promise
  then holds for the instance only, through its drawn seed (``pyjinit.init(name, shape,
  seed=initializer.seed, layout="keras", ...)``); it cannot hold for the config, a copy or a reloaded model,
  which by Keras's definition draw new values (a saved model keeps its weights, not the seed). For weights
  that another framework can reproduce, pass an int seed or use ``initialize(model, seed=...)``.
- A ``keras.random.SeedGenerator``: every call draws a new seed from the generator: ``[a, b] =
  generator.next()`` (two uint32) gives the pyjinit seed ``a * 2**32 + b``, so the k-th call (from 0) on
  ``SeedGenerator(g)`` uses seed ``g * 2**32 + k``. The values differ from call to call, a generator made
  with the same seed repeats them, and each call's values are ``pyjinit.init`` with its seed. The config
  records the generator's initial seed (as Keras), so a copy restarts the sequence.
- Anything else is a ValueError at construction, as in Keras (a float or a str), and also a bool (Keras takes
  ``True`` as 1; pyjinit does not take a bool for an int) or an int outside [0, 2^128).

A per-layer initializer cannot know its layer's place in the model: ``initialize`` can.

>>> import keras, pyjinit.keras as pk                                     # doctest: +SKIP
>>> layer = keras.layers.Dense(64, kernel_initializer=pk.HeNormal(seed=0))                      # doctest: +SKIP
>>> mha = keras.layers.MultiHeadAttention(8, 16, kernel_initializer=pk.GlorotUniform())         # doctest: +SKIP
"""
from __future__ import annotations

import math
import numbers
import warnings

import keras
import numpy as np

from ..inits import api
from ..inits.numpy_backend import scaled_dist
from ..inits.registry import check_name, init, keras_fans, resolve
from ..inits.plan import Param, plan
from ..inits.validate import check_seed


_NORMS = (keras.layers.BatchNormalization, keras.layers.LayerNormalization, keras.layers.GroupNormalization)
_FLOATS = ("float16", "bfloat16", "float32", "float64")
_serializable = keras.saving.register_keras_serializable(package="pyjinit")


def _host_dtype(dtype) -> str:
    name = keras.backend.standardize_dtype(dtype or keras.backend.floatx())
    return "float64" if name == "float64" else "float32"


def _dtype_name(dtype) -> str:
    """The dtype the backend will hold: `dtype` (default floatx), but float32 for float64 where the backend
    has no float64 (JAX without jax_enable_x64)."""
    name = keras.backend.standardize_dtype(dtype or keras.backend.floatx())
    if name == "float64":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            name = keras.backend.standardize_dtype(keras.ops.convert_to_tensor(np.zeros(1), dtype=name).dtype)
    return name


def _keras_shape(shape) -> tuple:
    return tuple(int(d) for d in shape)


def _number(x):
    """A Python number for pyjinit's argument checks (Keras also takes NumPy scalars and 0-d tensors)."""
    return x if isinstance(x, (int, float)) else float(x)


def _pyjinit(name, shape, dtype, seed, **kwargs):
    """``pyjinit.init(name, shape, seed=seed, layout="keras", **kwargs)`` as a tensor of `dtype`. A non-float
    dtype is refused for a random name (a ValueError, as Keras's random initializers) and computed in float64
    and cast for the constant ones (zeros, ones, constant, identity: what Keras does)."""
    held = _dtype_name(dtype)
    if held not in _FLOATS:
        func, _ = resolve(name, _keras_shape(shape), {**kwargs, "seed": seed, "layout": "keras"})
        if func not in (api.zeros_init, api.ones_init, api.constant_init, api.identity_init):
            raise ValueError(f"dtype must be a float dtype ({', '.join(_FLOATS)}) for the random initializer "
                             f"{name} (as Keras's random initializers); got {held}")
        arr = init(name, _keras_shape(shape), dtype="float64", seed=seed, layout="keras", **kwargs)
        return keras.ops.convert_to_tensor(arr, dtype=held)
    arr = init(name, _keras_shape(shape), dtype=_host_dtype(held), seed=seed, layout="keras", **kwargs)
    return keras.ops.convert_to_tensor(arr, dtype=held)


def compute_fans(shape, input_axes=None, output_axes=None) -> tuple:
    """(fan_in, fan_out) of a Keras-layout shape, as Keras 3.15's ``compute_fans``: with both axes given, the
    products of the shape over ``input_axes`` and over ``output_axes``; otherwise the default fans
    (``pyjinit.inits.registry.keras_fans``: () -> (1, 1), (n,) -> (n, n), kernels times the receptive field).

    >>> compute_fans((32, 8, 16)), compute_fans((32, 8, 16), [0], [1, 2])
    ((256, 512), (32, 128))
    """
    shape = _keras_shape(shape)
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    fan_in, fan_out = keras_fans(shape)
    return int(fan_in), int(fan_out)


def _scaled(scale, mode, distribution, shape, input_axes, output_axes, dtype, seed):
    """Keras's VarianceScaling draw on the fans of the axes, by pyjinit's unqualified uniform / normal /
    truncated_normal with the parameters ``numpy_backend.scaled_dist`` gives (the keras.* names' formula)."""
    fan_in, fan_out = compute_fans(shape, input_axes, output_axes)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    kind, params = scaled_dist(scale, max(1.0, n), "normal" if distribution == "untruncated_normal" else distribution)
    return _pyjinit(kind, shape, dtype, seed, **params)


def _seed_arg(seed):
    """Keras's `seed` argument checked: None, an int in [0, 2^128), a SeedGenerator or a serialized one."""
    if isinstance(seed, dict):
        seed = keras.saving.deserialize_keras_object(seed)
    if seed is None or isinstance(seed, keras.random.SeedGenerator):
        return seed
    if isinstance(seed, (numbers.Integral, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        return check_seed(seed)
    raise ValueError("`seed` argument should be an instance of `keras.random.SeedGenerator()` or an integer "
                     f"in [0, 2^128) (not a bool). Received: seed={seed!r}")


class _Seeded:
    """Keras's seed semantics with pyjinit's seeds: ``._init_seed`` is the argument (what the config records),
    ``.seed`` an int (the one given, or drawn at construction when None) or the SeedGenerator."""

    def _set_seed(self, seed):
        seed = _seed_arg(seed)
        self._init_seed = seed
        self.seed = api.new_seed() if seed is None else seed

    def _draw_seed(self) -> int:
        """The pyjinit seed of this call: ``.seed``, or the generator's next [a, b] as ``a * 2**32 + b``."""
        if isinstance(self.seed, keras.random.SeedGenerator):
            a, b = (int(v) & 0xFFFFFFFF for v in np.asarray(keras.ops.convert_to_numpy(self.seed.next())).ravel()[:2])
            return a << 32 | b
        return check_seed(self.seed)


@_serializable
class Initializer(_Seeded, keras.initializers.Initializer):
    """A pyjinit initializer for Keras layers: ``Initializer(initializer, seed=None, **kw)`` with any name of
    ``pyjinit.initializers()`` and its keyword arguments, on Keras-layout shapes ``(*kernel, in, out)``; the
    keras.* variance-scaling names also take Keras's ``input_axes``/``output_axes``. Seeds as the module says
    (int, None or a ``keras.random.SeedGenerator``).

    >>> import keras, pyjinit.keras as pk                                               # doctest: +SKIP
    >>> keras.layers.Conv2D(32, 3, kernel_initializer=pk.Initializer("keras.he_normal", seed=1))  # doctest: +SKIP
    """

    def __init__(self, initializer="glorot_uniform", seed=None, **kwargs):
        self.initializer = check_name(initializer)
        if ("input_axes" in kwargs or "output_axes" in kwargs) and self.initializer not in _WITH_AXES:
            raise TypeError(f"input_axes/output_axes are the fan axes of Keras's variance-scaling initializers "
                            f"({', '.join(_WITH_AXES)}); {self.initializer} takes neither")
        self.kwargs = dict(kwargs)
        self._set_seed(seed)

    def __call__(self, shape, dtype=None):
        seed = self._draw_seed()
        kw = dict(self.kwargs)
        input_axes, output_axes = kw.pop("input_axes", None), kw.pop("output_axes", None)
        if input_axes is not None and output_axes is not None:
            return _WITH_AXES[self.initializer](**kw, seed=seed, input_axes=input_axes, output_axes=output_axes)(
                shape, dtype)
        return _pyjinit(self.initializer, shape, dtype, seed, **kw)

    def get_config(self):
        return {"initializer": self.initializer, "seed": keras.saving.serialize_keras_object(self._init_seed),
                **self.kwargs}


# --- Keras's classes, pyjinit's values ------------------------------------------------------------------------

@_serializable
class VarianceScaling(_Seeded, keras.initializers.VarianceScaling):
    """``keras.initializers.VarianceScaling`` with pyjinit's values: ``pyjinit.init("keras.variance_scaling",
    shape, scale=, mode=, distribution=, seed=, layout="keras")``, on the fans of ``input_axes``/``output_axes``
    when both are given (Keras 3's ``compute_fans``). Arguments and checks as Keras's."""

    _name = "keras.variance_scaling"

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None, input_axes=None,
                 output_axes=None):
        keras.initializers.VarianceScaling.__init__(self, scale=scale, mode=mode, distribution=distribution, seed=0,
                                                    input_axes=input_axes, output_axes=output_axes)
        self._set_seed(seed)

    def _args(self) -> dict:
        return {"scale": _number(self.scale), "mode": self.mode, "distribution": self.distribution}

    def __call__(self, shape, dtype=None):
        seed = self._draw_seed()
        if self.input_axes is not None and self.output_axes is not None:
            return _scaled(_number(self.scale), self.mode, self.distribution, shape, self.input_axes,
                           self.output_axes, dtype, seed)
        return _pyjinit(self._name, shape, dtype, seed, **self._args())


class _Fixed(VarianceScaling):
    """A VarianceScaling with Keras's fixed scale, mode and distribution: the keras.* name of its class."""

    _rule = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(self, *self._rule, seed=seed, input_axes=input_axes, output_axes=output_axes)

    def _args(self) -> dict:
        return {}


@_serializable
class GlorotUniform(_Fixed, keras.initializers.GlorotUniform):
    """``keras.initializers.GlorotUniform``: U(±√(6 / (fan_in + fan_out))), pyjinit's ``keras.glorot_uniform``."""
    _name, _rule = "keras.glorot_uniform", (1.0, "fan_avg", "uniform")


@_serializable
class GlorotNormal(_Fixed, keras.initializers.GlorotNormal):
    """``keras.initializers.GlorotNormal``: truncated normal, std √(2 / (fan_in + fan_out)); pyjinit's
    ``keras.glorot_normal``."""
    _name, _rule = "keras.glorot_normal", (1.0, "fan_avg", "truncated_normal")


@_serializable
class HeUniform(_Fixed, keras.initializers.HeUniform):
    """``keras.initializers.HeUniform``: U(±√(6 / fan_in)), pyjinit's ``keras.he_uniform``."""
    _name, _rule = "keras.he_uniform", (2.0, "fan_in", "uniform")


@_serializable
class HeNormal(_Fixed, keras.initializers.HeNormal):
    """``keras.initializers.HeNormal``: truncated normal, std √(2 / fan_in); pyjinit's ``keras.he_normal``."""
    _name, _rule = "keras.he_normal", (2.0, "fan_in", "truncated_normal")


@_serializable
class LecunUniform(_Fixed, keras.initializers.LecunUniform):
    """``keras.initializers.LecunUniform``: U(±√(3 / fan_in)), pyjinit's ``keras.lecun_uniform``."""
    _name, _rule = "keras.lecun_uniform", (1.0, "fan_in", "uniform")


@_serializable
class LecunNormal(_Fixed, keras.initializers.LecunNormal):
    """``keras.initializers.LecunNormal``: truncated normal, std √(1 / fan_in); pyjinit's ``keras.lecun_normal``."""
    _name, _rule = "keras.lecun_normal", (1.0, "fan_in", "truncated_normal")


_WITH_AXES = {"keras.variance_scaling": VarianceScaling, "keras.glorot_uniform": GlorotUniform,
              "keras.glorot_normal": GlorotNormal, "keras.he_uniform": HeUniform, "keras.he_normal": HeNormal,
              "keras.lecun_uniform": LecunUniform, "keras.lecun_normal": LecunNormal}


@_serializable
class RandomNormal(_Seeded, keras.initializers.RandomNormal):
    """``keras.initializers.RandomNormal``: N(mean, stddev²), pyjinit's ``keras.random_normal``."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        self._set_seed(seed)

    def __call__(self, shape, dtype=None):
        return _pyjinit("keras.random_normal", shape, dtype, self._draw_seed(), mean=_number(self.mean),
                        stddev=_number(self.stddev))


@_serializable
class TruncatedNormal(_Seeded, keras.initializers.TruncatedNormal):
    """``keras.initializers.TruncatedNormal``: N(mean, stddev²) cut at ±2 stddev (no variance correction),
    pyjinit's ``keras.truncated_normal``."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        self._set_seed(seed)

    def __call__(self, shape, dtype=None):
        return _pyjinit("keras.truncated_normal", shape, dtype, self._draw_seed(), mean=_number(self.mean),
                        stddev=_number(self.stddev))


@_serializable
class RandomUniform(_Seeded, keras.initializers.RandomUniform):
    """``keras.initializers.RandomUniform``: U[minval, maxval), pyjinit's ``keras.random_uniform``."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        self._set_seed(seed)

    def __call__(self, shape, dtype=None):
        return _pyjinit("keras.random_uniform", shape, dtype, self._draw_seed(), minval=_number(self.minval),
                        maxval=_number(self.maxval))


@_serializable
class Orthogonal(_Seeded, keras.initializers.Orthogonal):
    """``keras.initializers.Orthogonal``: gain times a Haar-random (semi-)orthogonal matrix over
    (prod(shape[:-1]), shape[-1]), pyjinit's ``keras.orthogonal``."""

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        self._set_seed(seed)

    def __call__(self, shape, dtype=None):
        return _pyjinit("keras.orthogonal", shape, dtype, self._draw_seed(), gain=_number(self.gain))


# Not random: the seed given to pyjinit is a placeholder (0), so that calling them draws no seed.
# A non-float dtype (Keras allows integer and bool ones here) is Keras's own computation.

@_serializable
class Identity(keras.initializers.Identity):
    """``keras.initializers.Identity``: gain times eye(*shape), 2-D only; pyjinit's ``keras.identity``. Its config
    is ``{"gain": gain}`` (Keras 3.15's is empty, so a reloaded Keras Identity has gain 1)."""

    def get_config(self):
        return {"gain": self.gain}

    def __call__(self, shape, dtype=None):
        if _dtype_name(dtype) not in _FLOATS:
            return super().__call__(shape, dtype)
        return _pyjinit("keras.identity", shape, dtype, 0, gain=_number(self.gain))


@_serializable
class Zeros(keras.initializers.Zeros):
    """``keras.initializers.Zeros``; pyjinit's ``keras.zeros``."""

    def __call__(self, shape, dtype=None):
        if _dtype_name(dtype) not in _FLOATS:
            return super().__call__(shape, dtype)
        return _pyjinit("keras.zeros", shape, dtype, 0)


@_serializable
class Ones(keras.initializers.Ones):
    """``keras.initializers.Ones``; pyjinit's ``keras.ones``."""

    def __call__(self, shape, dtype=None):
        if _dtype_name(dtype) not in _FLOATS:
            return super().__call__(shape, dtype)
        return _pyjinit("keras.ones", shape, dtype, 0)


@_serializable
class Constant(keras.initializers.Constant):
    """``keras.initializers.Constant``: a scalar ``value`` is pyjinit's ``keras.constant``; an array or tensor
    ``value`` is broadcast against the shape as Keras does (``value * ones(shape)``)."""

    def __call__(self, shape, dtype=None):
        scalar = isinstance(self.value, numbers.Real) and not isinstance(self.value, (bool, np.bool_))
        if not scalar or _dtype_name(dtype) not in _FLOATS:
            return super().__call__(shape, dtype)
        return _pyjinit("keras.constant", shape, dtype, 0, value=float(self.value))


@_serializable
class STFT(keras.initializers.STFT):
    """``keras.initializers.STFT``: the real or imaginary STFT kernel (T, 1, F), computed in NumPy with Keras's
    operations in Keras's order, in float32 (float64 for a float64 dtype; float16 and bfloat16 are rounded from
    float32, where Keras computes in them). The values agree with Keras's to a few units in the last place
    (cos/sin and sums are NumPy's, not the backend's), not bit for bit."""

    def __call__(self, shape, dtype=None):
        name = _dtype_name(dtype)
        work = np.float64 if name == "float64" else np.float32
        frame_length, _, fft_length = _keras_shape(shape)
        win, scaling = None, 1
        if self.window is not None:
            win = self.window
            if isinstance(win, str):
                import scipy.signal

                win = scipy.signal.get_window(win, frame_length, self.periodic)
            win = np.asarray(win, dtype=work)
            if win.ndim != 1 or win.shape[-1] != frame_length:
                raise ValueError(f"The shape of `window` must be equal to [frame_length]. Received: window "
                                 f"shape={win.shape}")
            win = win.reshape(frame_length, 1, 1)
            if self.scaling == "density":
                scaling = np.sqrt(np.sum(np.square(win)))
            elif self.scaling == "spectrum":
                scaling = np.sum(np.abs(win))
        with np.errstate(divide="ignore", invalid="ignore"):          # fft_length 1: 0/0, as Keras
            freq = np.arange(fft_length, dtype=work).reshape(1, 1, fft_length) / work((fft_length - 1) * 2)
        time = np.arange(frame_length, dtype=work).reshape(frame_length, 1, 1)
        args = (work(-2) * time) * freq * np.arccos(work(-1))
        kernel = np.cos(args) if self.side == "real" else np.sin(args)
        if win is not None:
            kernel = (kernel * win) / work(scaling)
        return keras.ops.convert_to_tensor(kernel.astype(work), dtype=name)


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
