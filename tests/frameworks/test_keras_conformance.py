"""pyjinit.keras's initializer classes against Keras 3's own (keras.initializers), written from Keras's
documented behaviour and checked against Keras's output where both can run.

Sampling bound used below: the sample std s of n iid values of std sigma and kurtosis k has sd(s) ~
sigma * sqrt((k - 1) / (4 n)); k <= 3 for every draw here (normal 3, normal truncated at +-2 std 2.36,
uniform 1.8), so sd(s) <= sigma / sqrt(2 n), and the difference of two independent sample stds has sd at most
sigma / sqrt(n). Two samples "agree" when |s1 - s2| <= 6 sigma / sqrt(n) (a correct implementation fails with
probability ~2e-9; the seeds are fixed, so the outcome is deterministic anyway).
"""
import inspect
import math

import numpy as np
import pytest

keras = pytest.importorskip("keras", reason="keras is not installed (.ci/run installs it with jax)")

import pyjinit as pj  # noqa: E402
import pyjinit.keras as pk  # noqa: E402

KI = keras.initializers
VS_RULES = {  # Keras's (scale, mode, distribution) of each variance-scaling class, and pyjinit's name
    "GlorotUniform": (1.0, "fan_avg", "uniform"), "GlorotNormal": (1.0, "fan_avg", "truncated_normal"),
    "HeUniform": (2.0, "fan_in", "uniform"), "HeNormal": (2.0, "fan_in", "truncated_normal"),
    "LecunUniform": (1.0, "fan_in", "uniform"), "LecunNormal": (1.0, "fan_in", "truncated_normal"),
}
SNAKE = {"GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal", "HeUniform": "he_uniform",
         "HeNormal": "he_normal", "LecunUniform": "lecun_uniform", "LecunNormal": "lecun_normal",
         "VarianceScaling": "variance_scaling", "RandomNormal": "random_normal", "RandomUniform": "random_uniform",
         "TruncatedNormal": "truncated_normal", "Orthogonal": "orthogonal", "Identity": "identity",
         "Constant": "constant", "Zeros": "zeros", "Ones": "ones"}
ALL = list(SNAKE) + ["STFT"]
SEEDED = ["VarianceScaling", *VS_RULES, "RandomNormal", "RandomUniform", "TruncatedNormal", "Orthogonal"]
# constructor arguments (besides seed) used to compare with Keras, and the public attributes Keras gives them
ARGS = {"VarianceScaling": {"scale": 0.5, "mode": "fan_out", "distribution": "uniform", "input_axes": [0],
                            "output_axes": [1]},
        "RandomNormal": {"mean": 0.5, "stddev": 0.2}, "TruncatedNormal": {"mean": -1.0, "stddev": 0.3},
        "RandomUniform": {"minval": -0.2, "maxval": 0.7}, "Orthogonal": {"gain": 2.0}, "Identity": {"gain": 3.0},
        "Constant": {"value": 0.25}, "STFT": {"side": "imag", "window": "hamming", "scaling": "spectrum",
                                              "periodic": True},
        **{n: {"input_axes": [0, 1], "output_axes": [2]} for n in VS_RULES}}
ATTRS = {"VarianceScaling": ["scale", "mode", "distribution", "input_axes", "output_axes"],
         "RandomNormal": ["mean", "stddev"], "TruncatedNormal": ["mean", "stddev"], "RandomUniform": ["minval", "maxval"],
         "Orthogonal": ["gain"], "Identity": ["gain"], "Constant": ["value"],
         "STFT": ["side", "window", "scaling", "periodic"],
         **{n: ["scale", "mode", "distribution", "input_axes", "output_axes"] for n in VS_RULES}}


def ours(name):
    return getattr(pk, name)


def arr(t):
    return np.asarray(keras.ops.convert_to_numpy(t))


def agree(a, b, sigma):
    """The two samples' stds within 6 sigma / sqrt(n) (module docstring)."""
    n = min(np.size(a), np.size(b))
    return abs(float(np.std(a)) - float(np.std(b))) <= 6 * sigma / math.sqrt(n)


# --- the type, the constructor, the attributes and the config are Keras's ---------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_each_class_is_the_keras_class_with_its_signature(name):
    cls, theirs = ours(name), getattr(KI, name)
    assert issubclass(cls, theirs) and cls is not theirs
    assert inspect.signature(cls) == inspect.signature(theirs)
    assert isinstance(cls(), KI.Initializer)


def test_the_variance_scaling_family_is_keras_variance_scaling():
    for name in VS_RULES:
        ini = ours(name)()
        assert isinstance(ini, KI.VarianceScaling) and isinstance(ini, pk.VarianceScaling)
        assert (ini.scale, ini.mode, ini.distribution) == VS_RULES[name]
        assert ini.input_axes is None and ini.output_axes is None
    assert isinstance(pk.VarianceScaling(), KI.VarianceScaling)
    assert not isinstance(pk.RandomNormal(), KI.VarianceScaling)


@pytest.mark.parametrize("name", ALL)
def test_attributes_and_config_equal_keras(name):
    kw = dict(ARGS.get(name, {}))
    if name in SEEDED:
        kw["seed"] = 5
    a, b = ours(name)(**kw), getattr(KI, name)(**kw)
    for attr in ATTRS.get(name, []) + (["seed"] if name in SEEDED else []):
        assert getattr(a, attr) == getattr(b, attr), attr
    if name == "Identity":                  # Keras 3.15's Identity config is {} (a reloaded one has gain 1)
        assert b.get_config() == {} and a.get_config() == {"gain": 3.0}
    else:
        assert a.get_config() == b.get_config()
    again = type(a).from_config(a.get_config())
    assert type(again) is type(a) and again.get_config() == a.get_config()
    assert type(a.clone()) is type(a)
    if name in SEEDED:                                         # defaults and unseeded: the same keys and None
        assert ours(name)().get_config() == getattr(KI, name)().get_config()


def test_variance_scaling_normalizes_distribution_and_refuses_what_keras_refuses():
    assert pk.VarianceScaling(distribution="Normal").distribution == KI.VarianceScaling(distribution="Normal").distribution
    for bad in ({"scale": 0.0}, {"scale": -1.0}, {"mode": "fan_geo_avg"}, {"distribution": "gamma"}):
        with pytest.raises(ValueError):
            KI.VarianceScaling(**bad)
        with pytest.raises(ValueError):
            pk.VarianceScaling(**bad)
    for bad in ({"side": "both"}, {"scaling": "l2"}):
        with pytest.raises(ValueError):
            KI.STFT(**bad)
        with pytest.raises(ValueError):
            pk.STFT(**bad)


@pytest.mark.parametrize("seed", [1.5, "3", [1], True, -1, 1 << 128])
def test_bad_seeds_are_value_errors_at_construction(seed):
    if not isinstance(seed, (bool, int)):                      # Keras refuses these too
        with pytest.raises(ValueError):
            KI.GlorotUniform(seed=seed)
    for name in ("GlorotUniform", "RandomNormal", "Orthogonal"):
        with pytest.raises(ValueError):
            ours(name)(seed=seed)
    with pytest.raises(ValueError):
        pk.Initializer("he_normal", seed=seed)


# --- seeding --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SEEDED)
def test_an_int_seed_repeats_and_is_pyjinits_value(name):
    shape = (3, 20, 30)
    kw = {k: v for k, v in ARGS.get(name, {}).items() if k not in ("input_axes", "output_axes")}
    ini = ours(name)(seed=7, **kw)
    first = arr(ini(shape))
    assert np.array_equal(first, arr(ini(shape)))
    assert np.array_equal(first, pj.init("keras." + SNAKE[name], shape, seed=7, layout="keras", **kw))
    assert np.array_equal(first, arr(type(ini).from_config(ini.get_config())(shape)))     # a clone repeats it
    assert not np.array_equal(first, arr(ours(name)(seed=8, **kw)(shape)))


@pytest.mark.parametrize("name", SEEDED)
def test_no_seed_is_seed_none_in_the_config_and_a_clone_draws_afresh(name):
    """As Keras 3.15: an unseeded initializer gives the same values at every call (its seed is drawn when it
    is made), records seed None, and a clone draws another seed."""
    shape = (40, 30)
    theirs = getattr(KI, name)()
    assert np.array_equal(arr(theirs(shape)), arr(theirs(shape)))
    assert not np.array_equal(arr(theirs(shape)), arr(theirs.clone()(shape)))
    ini = ours(name)()
    assert ini.get_config()["seed"] is None and isinstance(ini.seed, int)
    a = arr(ini(shape))
    assert np.array_equal(a, arr(ini(shape)))
    assert np.array_equal(a, pj.init("keras." + SNAKE[name], shape, seed=ini.seed, layout="keras"))
    assert not np.array_equal(a, arr(ini.clone()(shape)))


@pytest.mark.parametrize("name", SEEDED)
def test_a_seed_generator_gives_fresh_values_per_call_and_repeats_with_its_seed(name):
    shape = (20, 30)
    ini = ours(name)(seed=keras.random.SeedGenerator(11))
    a, b = arr(ini(shape)), arr(ini(shape))
    assert not np.array_equal(a, b)
    again = ours(name)(seed=keras.random.SeedGenerator(11))
    assert np.array_equal(arr(again(shape)), a) and np.array_equal(arr(again(shape)), b)
    assert np.array_equal(b, pj.init("keras." + SNAKE[name], shape, seed=(11 << 32) + 1, layout="keras"))
    cfg = ini.get_config()
    assert cfg["seed"]["class_name"] == "SeedGenerator" and cfg["seed"]["config"]["seed"] == 11
    assert np.array_equal(arr(type(ini).from_config(cfg)(shape)), a)        # a clone restarts the sequence


def test_the_generic_initializer_seeds_as_keras():
    """pk.Initializer unseeded records seed None (a clone draws afresh), takes a SeedGenerator, refuses bools."""
    ini = pk.Initializer("keras.he_normal")
    assert ini.get_config() == {"initializer": "keras.he_normal", "seed": None}
    assert np.array_equal(arr(ini((8, 9))), arr(ini((8, 9))))
    assert not np.array_equal(arr(ini((8, 9))), arr(ini.clone()((8, 9))))
    gen = pk.Initializer("he_normal", seed=keras.random.SeedGenerator(2))
    assert not np.array_equal(arr(gen((8, 9))), arr(gen((8, 9))))


# --- fans: 0-D to 5-D, with and without axes --------------------------------------------------------------------

FAN_CASES = [((), None, None), ((4096,), None, None), ((4096,), [0], [0]), ((64, 96), None, None),
             ((32, 8, 16), None, None), ((32, 8, 16), [0], [1, 2]), ((8, 16, 32), [0, 1], [2]),
             ((3, 3, 16, 32), None, None), ((3, 3, 16, 32), [0, 1, 2], [3]), ((3, 3, 16, 32), [2], [3]),
             ((2, 3, 3, 8, 16), None, None), ((2, 3, 3, 8, 16), [3], [4]), ((2, 3, 3, 8, 16), [0, 3], [])]


@pytest.mark.parametrize("shape,ia,oa", FAN_CASES)
def test_fans_are_keras_compute_fans(shape, ia, oa):
    from keras.src.initializers.random_initializers import compute_fans

    assert pk.compute_fans(shape, ia, oa) == compute_fans(shape, ia, oa)
    if ia is not None:                                         # one axis list alone means the default fans
        assert pk.compute_fans(shape, ia, None) == compute_fans(shape)


VS_CONFIGS = [(n, {}) for n in VS_RULES] + [
    ("VarianceScaling", {"scale": 0.5, "mode": "fan_out", "distribution": "untruncated_normal"}),
    ("VarianceScaling", {"scale": 3.0, "mode": "fan_avg", "distribution": "truncated_normal"})]


@pytest.mark.parametrize("name,kw", VS_CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(VS_CONFIGS)])
def test_std_and_bound_agree_with_keras_on_1d_to_5d_shapes_and_axes(name, kw):
    from keras.src.initializers.random_initializers import compute_fans

    scale, mode, dist = VS_RULES.get(name) or (kw["scale"], kw["mode"], kw["distribution"])
    for shape, ia, oa in FAN_CASES[1:]:
        fi, fo = compute_fans(shape, ia, oa)
        n = max(1.0, {"fan_in": fi, "fan_out": fo, "fan_avg": (fi + fo) / 2}[mode])
        sigma = math.sqrt(scale / n)                           # the std of every distribution here, after truncation
        a = arr(ours(name)(seed=3, input_axes=ia, output_axes=oa, **kw)(shape))
        b = arr(getattr(KI, name)(seed=3, input_axes=ia, output_axes=oa, **kw)(shape))
        assert a.shape == b.shape == shape
        assert agree(a, b, sigma), (shape, ia, oa, a.std(), b.std(), sigma)
        bound = {"uniform": math.sqrt(3) * sigma, "truncated_normal": 2 * sigma / 0.87962566103423978}.get(dist)
        if bound is not None:
            assert np.abs(a).max() <= bound * (1 + 1e-6) and np.abs(a).max() > 0.9 * bound


@pytest.mark.parametrize("name,kw", VS_CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(VS_CONFIGS)])
def test_axes_that_give_the_default_fans_give_the_default_values(name, kw):
    for shape, ia, oa in [((4096,), [0], [0]), ((64, 96), [0], [1]), ((3, 3, 16, 32), [0, 1, 2], [0, 1, 3])]:
        from keras.src.initializers.random_initializers import compute_fans

        assert compute_fans(shape, ia, oa) == compute_fans(shape)
        with_axes = arr(ours(name)(seed=9, input_axes=ia, output_axes=oa, **kw)(shape))
        assert np.array_equal(with_axes, arr(ours(name)(seed=9, **kw)(shape)))
        assert np.array_equal(with_axes, pj.init("keras." + SNAKE[name], shape, seed=9, layout="keras", **kw))


def test_the_generic_initializer_takes_the_axes():
    """Passing the axes used to be a TypeError; now they set the fans, as the class does."""
    a = arr(pk.Initializer("keras.lecun_normal", seed=4, input_axes=[0], output_axes=[1, 2])((32, 8, 16)))
    assert np.array_equal(a, arr(pk.LecunNormal(seed=4, input_axes=[0], output_axes=[1, 2])((32, 8, 16))))
    b = pk.Initializer("keras.variance_scaling", scale=2.0, seed=4, input_axes=[0], output_axes=[1])
    assert np.array_equal(arr(b((30, 40))), pj.init("keras.variance_scaling", (30, 40), scale=2.0, seed=4, layout="keras"))
    with pytest.raises(TypeError, match="input_axes"):
        pk.Initializer("orthogonal", input_axes=[0], output_axes=[1])


# --- the layers that dispatch on type: EinsumDense and MultiHeadAttention -----------------------------------------

def mha_kernels(kernel_initializer):
    layer = keras.layers.MultiHeadAttention(num_heads=8, key_dim=16, kernel_initializer=kernel_initializer)
    x = np.ones((2, 4, 32), "float32")
    layer(x, x)
    return [arr(getattr(layer, f"_{p}_dense").kernel) for p in ("query", "key", "value", "output")]


@pytest.mark.parametrize("name", ["GlorotUniform", "LecunNormal"])
def test_multi_head_attention_gets_keras_fans_and_distinct_projections(name):
    q, k, v, o = mha_kernels(ours(name)())
    tq = mha_kernels(getattr(KI, name)())[0]
    scale, mode, _ = VS_RULES[name]
    n = {"fan_in": 32, "fan_avg": (32 + 128) / 2}[mode]        # query kernel (32, 8, 16): axes [0] and [1, 2]
    sigma = math.sqrt(scale / n)
    assert q.shape == (32, 8, 16) and agree(q, tq, sigma), (q.std(), tq.std(), sigma)
    default = math.sqrt(scale / {"fan_in": 256, "fan_avg": 384}[mode])          # what the default fans would give
    assert abs(q.std() - default) > 20 * sigma / math.sqrt(q.size)
    assert not np.array_equal(q, k) and not np.array_equal(q, v) and not np.array_equal(k, v)
    assert o.shape == (8, 16, 32)


def test_multi_head_attention_with_an_int_seed_repeats_as_keras_does():
    for ini in (KI.GlorotUniform(seed=1), pk.GlorotUniform(seed=1)):
        q, k, v, _ = mha_kernels(ini)
        assert np.array_equal(q, k) and np.array_equal(q, v)
    q = mha_kernels(pk.GlorotUniform(seed=1))[0]
    assert np.array_equal(q, arr(pk.GlorotUniform(seed=1, input_axes=[0], output_axes=[1, 2])((32, 8, 16))))


def test_the_generic_initializer_in_multi_head_attention_gives_distinct_projections():
    q, k, v, _ = mha_kernels(pk.Initializer("keras.glorot_uniform"))
    assert not np.array_equal(q, k) and not np.array_equal(q, v)


@pytest.mark.parametrize("name", ["HeNormal", "GlorotUniform"])
def test_einsum_dense_gets_keras_fans(name):
    def kernel(ini):
        layer = keras.layers.EinsumDense("abc,cde->abde", output_shape=(None, 8, 16), kernel_initializer=ini)
        layer.build((2, 4, 32))
        return arr(layer.kernel)

    a, b = kernel(ours(name)(seed=2)), kernel(getattr(KI, name)(seed=2))
    scale, mode, _ = VS_RULES[name]
    sigma = math.sqrt(scale / {"fan_in": 32, "fan_avg": 80}[mode])
    assert agree(a, b, sigma), (a.std(), b.std(), sigma)
    n = {"fan_in": 32, "fan_avg": 80}[mode]                    # pyjinit's draw with Keras's axes: the formulas
    if VS_RULES[name][2] == "uniform":                         # of numpy_backend.scaled_dist, unqualified names
        limit = math.sqrt(3 * scale / n)
        ref = pj.init("uniform", (32, 8, 16), low=-limit, high=limit, seed=2, layout="keras")
    else:
        std = math.sqrt(scale / n) / 0.87962566103423978
        ref = pj.init("truncated_normal", (32, 8, 16), std=std, lo=-2 * std, hi=2 * std, seed=2, layout="keras")
    assert np.array_equal(a, ref)
    assert np.array_equal(a, arr(ours(name)(seed=2, input_axes=[0], output_axes=[1, 2])((32, 8, 16))))


# --- serialization ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_serialize_and_deserialize_keras_object(name):
    kw = dict(ARGS.get(name, {}))
    if name in SEEDED:
        kw["seed"] = 6
    ini = ours(name)(**kw)
    s = keras.saving.serialize_keras_object(ini)
    assert s["registered_name"] == f"pyjinit>{name}"
    back = keras.saving.deserialize_keras_object(s)
    assert type(back) is type(ini) and back.get_config() == ini.get_config()
    shape = {"STFT": (16, 1, 9), "Identity": (6, 6)}.get(name, (4, 5, 6))
    assert np.array_equal(arr(back(shape)), arr(ini(shape)))


def test_model_save_and_load_keeps_the_classes_and_the_weights(tmp_path):
    inp = keras.Input((4, 32))
    h = keras.layers.MultiHeadAttention(2, 8, kernel_initializer=pk.GlorotUniform(),
                                        bias_initializer=pk.Constant(0.1))(inp, inp)
    h = keras.layers.EinsumDense("abc,cd->abd", output_shape=(None, 6), bias_axes="d",
                                 kernel_initializer=pk.VarianceScaling(2.0, seed=keras.random.SeedGenerator(3)),
                                 bias_initializer=pk.Constant(np.arange(6.0)))(h)
    out = keras.layers.Dense(3, kernel_initializer=pk.HeNormal(seed=1), bias_initializer=pk.RandomUniform(seed=2))(h)
    model = keras.Model(inp, out)
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    for w, v in zip(model.weights, again.weights):
        assert np.array_equal(arr(w), arr(v)), w.path
    mha, ed, dense = again.layers[1], again.layers[2], again.layers[3]
    assert type(mha._kernel_initializer) is pk.GlorotUniform and mha._kernel_initializer.get_config()["seed"] is None
    assert type(ed.kernel_initializer) is pk.VarianceScaling and ed.kernel_initializer.scale == 2.0
    assert np.array_equal(arr(ed.bias_initializer.value), np.arange(6.0))
    assert dense.kernel_initializer.get_config() == {"seed": 1, "input_axes": None, "output_axes": None}
    assert np.array_equal(arr(dense.kernel), pj.init("keras.he_normal", (6, 3), seed=1, layout="keras"))


# --- the initializers that are not random: exactly Keras's values ----------------------------------------------

def test_constant_zeros_ones_identity_equal_keras():
    cases = [(pk.Zeros(), KI.Zeros(), (3, 4)), (pk.Ones(), KI.Ones(), (2, 3, 4)), (pk.Constant(0.3), KI.Constant(0.3), (5,)),
             (pk.Constant(np.arange(4.0)), KI.Constant(np.arange(4.0)), (3, 4)),
             (pk.Identity(2.0), KI.Identity(2.0), (2, 3)), (pk.Identity(), KI.Identity(), (4, 3))]
    for a, b, shape in cases:
        for dtype in (None, "float64", "int32", "bfloat16"):
            x, y = a(shape, dtype), b(shape, dtype)
            assert keras.backend.standardize_dtype(x.dtype) == keras.backend.standardize_dtype(y.dtype)
            assert np.array_equal(arr(x).astype(np.float64), arr(y).astype(np.float64)), (a, shape, dtype)
    with pytest.raises(ValueError):
        pk.Identity()((2, 3, 3))


def test_orthogonal_is_orthonormal_over_keras_flattening():
    for shape in [(20, 30), (30, 20), (3, 3, 8, 16)]:
        w = arr(pk.Orthogonal(gain=1.5, seed=1)(shape)).astype(np.float64).reshape(-1, shape[-1])
        g = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
        assert np.allclose(g, 2.25 * np.eye(len(g)), atol=1e-4)
    with pytest.raises(ValueError):
        pk.Orthogonal()((5,))


@pytest.mark.parametrize("kw", [{}, {"side": "imag"}, {"window": "hamming", "scaling": "spectrum"},
                                {"window": None}, {"window": "hann", "periodic": True, "scaling": None},
                                {"window": list(np.linspace(0.1, 1.0, 64))}])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_stft_agrees_with_keras(kw, dtype):
    """Not bit for bit (NumPy's cos/sin and sums, not the backend's), within a few float32 ulps of args ~200."""
    a, b = arr(pk.STFT(**kw)((64, 1, 33), dtype)), arr(KI.STFT(**kw)((64, 1, 33), dtype))
    assert a.dtype == b.dtype and a.shape == b.shape == (64, 1, 33)
    assert np.allclose(a, b, rtol=0, atol=1e-5 if a.dtype == np.float32 else 1e-12)


def test_dtypes_are_the_ones_keras_gives():
    """float64 where the backend holds it (JAX only with jax_enable_x64: else float32, as Keras's own), and
    then pyjinit's values of that dtype; bfloat16 and float16: pyjinit's float32 values rounded."""
    import warnings

    for dtype in ("bfloat16", "float16", "float32", "float64", None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x, y = pk.HeNormal(seed=1)((4, 4), dtype), KI.HeNormal(seed=1)((4, 4), dtype)
        held = keras.backend.standardize_dtype(x.dtype)
        assert held == keras.backend.standardize_dtype(y.dtype)
        host = "float64" if held == "float64" else "float32"
        ref = pj.init("keras.he_normal", (4, 4), seed=1, layout="keras", dtype=host)
        assert np.array_equal(arr(x).astype(np.float64), ref.astype(held).astype(np.float64))


@pytest.mark.parametrize("name", SEEDED)
@pytest.mark.parametrize("dtype", ["int32", "int8", "bool"])
def test_random_initializers_refuse_non_float_dtypes_as_keras(name, dtype):
    """Issue 21: an integer dtype used to give an integer array (mostly 0). Keras's random initializers raise a
    ValueError for it; so do ours (the class and the generic Initializer)."""
    kw = ARGS.get(name, {})
    with pytest.raises(ValueError):
        getattr(KI, name)(seed=1, **kw)((3, 4, 5), dtype)
    with pytest.raises(ValueError, match=f"dtype must be a float dtype.*got {dtype}"):
        ours(name)(seed=1, **kw)((3, 4, 5), dtype)
    with pytest.raises(ValueError, match="dtype must be a float dtype"):
        pk.Initializer("keras." + SNAKE[name], seed=1)((3, 4, 5), dtype)


@pytest.mark.parametrize("name,kw", [("Zeros", {}), ("Ones", {}), ("Constant", {"value": 3.0}),
                                     ("Identity", {"gain": 2.0})])
def test_constant_initializers_give_integer_arrays_as_keras(name, kw):
    ref = arr(getattr(KI, name)(**kw)((3, 4), "int32"))
    got = arr(ours(name)(**kw)((3, 4), "int32"))
    assert got.dtype == ref.dtype and np.array_equal(got, ref)
    gen = arr(pk.Initializer("keras." + SNAKE[name], **{k: v for k, v in kw.items()})((3, 4), "int32"))
    assert gen.dtype == np.int32 and np.array_equal(gen, np.asarray(ref, np.int32))
