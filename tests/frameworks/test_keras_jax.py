"""pyjinit.keras and pyjinit.jax against Keras's and JAX's own initializers and models.

Random initializers are compared with the framework's own sample by a two-sample KS test (fixed seeds on
both sides, so deterministic; p < 1e-3 fails, which a correct implementation does with probability 1e-3 per
comparison). Model-level tests check element-for-element equality with the NumPy trainer's network.
"""
import math

import numpy as np
import pytest

keras = pytest.importorskip("keras", reason="keras is not installed (.ci/run installs it with jax and flax)")
jax = pytest.importorskip("jax", reason="jax is not installed (.ci/run installs jax[cpu])")
nn = pytest.importorskip("flax.linen", reason="flax is not installed (.ci/run installs it)")
stats = pytest.importorskip("scipy.stats")
import jax.numpy as jnp  # noqa: E402

import pyjinit as pj  # noqa: E402
import pyjinit.jax as pjx  # noqa: E402
import pyjinit.keras as pk  # noqa: E402
from pyjinit.training.trainer import initial_weights  # noqa: E402

ALPHA = 1e-3
SIZES = [784, 128, 64, 10]


def ks(a, b):
    return stats.ks_2samp(np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()).pvalue


def trainer_weights(init="he", seed=11):
    return initial_weights(SIZES, init, None, seed, backend="numpy")


# --- Keras ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,theirs", [
    ("keras.he_normal", keras.initializers.HeNormal), ("keras.glorot_uniform", keras.initializers.GlorotUniform),
    ("keras.lecun_normal", keras.initializers.LecunNormal), ("keras.random_normal", keras.initializers.RandomNormal),
    ("keras.truncated_normal", keras.initializers.TruncatedNormal),
    ("keras.orthogonal", keras.initializers.Orthogonal),
])
@pytest.mark.parametrize("shape", [(300, 200), (3, 3, 32, 64)])
def test_keras_initializer_matches_keras_by_distribution(name, theirs, shape):
    ours = np.asarray(pk.Initializer(name, seed=3)(shape))
    ref = np.asarray(theirs(seed=3)(shape))
    assert ours.shape == ref.shape == shape
    assert ks(ours, ref) > ALPHA


def test_keras_initializer_seeding_and_identity():
    a, b = pk.Initializer("he_normal", seed=4), pk.Initializer("he_normal")
    assert np.array_equal(np.asarray(a((5, 3))), np.asarray(a((5, 3))))        # the same at every call
    assert np.array_equal(np.asarray(b((5, 3))), np.asarray(b((5, 3))))        # unseeded: drawn once, as Keras
    assert np.array_equal(np.asarray(a((5, 3))), pj.he_init((5, 3), seed=4, layout="keras"))
    assert np.array_equal(np.asarray(pk.Initializer("keras.identity")((3, 3))),
                          np.asarray(keras.initializers.Identity()((3, 3))))


def test_keras_model_save_and_load_round_trip(tmp_path):
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, kernel_initializer=pk.Initializer(
        "keras.glorot_normal", seed=9), bias_initializer=pk.Initializer("constant", value=0.5))])
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    assert np.array_equal(np.asarray(model.layers[0].kernel), np.asarray(again.layers[0].kernel))
    cfg = again.layers[0].kernel_initializer.get_config()
    assert isinstance(again.layers[0].kernel_initializer, pk.Initializer)
    assert cfg == {"initializer": "keras.glorot_normal", "seed": 9}
    assert again.layers[0].bias_initializer.get_config()["value"] == 0.5


def keras_mlp():
    return keras.Sequential([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                             keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)])


def test_keras_model_equals_the_trainers_network():
    m = pk.initialize(keras_mlp(), weight="he", seed=11)
    for layer, w in zip(m.layers, trainer_weights()):
        assert np.array_equal(np.asarray(layer.kernel).T, w)
        assert not np.asarray(layer.bias).any()


def test_keras_initialize_presets_and_strict():
    lstm = keras.Sequential([keras.Input((5, 6)), keras.layers.LSTM(8), keras.layers.BatchNormalization()])
    pk.initialize(lstm, preset="keras", seed=1)
    cell = lstm.layers[0].cell
    b = np.asarray(cell.bias)
    assert (b[8:16] == 1).all() and not b[:8].any() and not b[16:].any()          # unit_forget_bias
    r = np.asarray(cell.recurrent_kernel, np.float64)                             # (8, 32): orthonormal rows
    assert np.allclose(r @ r.T, np.eye(8), atol=1e-5)
    assert (np.asarray(lstm.layers[1].gamma) == 1).all()
    with pytest.raises(TypeError, match="needs weight="):
        pk.initialize(keras_mlp(), seed=0)


# --- JAX / Flax -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,theirs", [
    ("jax.lecun_normal", jax.nn.initializers.lecun_normal()), ("jax.he_uniform", jax.nn.initializers.he_uniform()),
    ("jax.glorot_normal", jax.nn.initializers.glorot_normal()), ("jax.normal", jax.nn.initializers.normal()),
    ("jax.orthogonal", jax.nn.initializers.orthogonal()),
])
@pytest.mark.parametrize("shape", [(300, 200), (3, 3, 32, 64)])
def test_jax_initializer_matches_jax_by_distribution(name, theirs, shape):
    ours = np.asarray(pjx.initializer(name)(jax.random.key(2), shape))
    ref = np.asarray(theirs(jax.random.key(2), shape))
    assert ours.shape == ref.shape == shape
    assert ks(ours, ref) > ALPHA


def test_the_key_bits_are_the_seed_and_jit_gives_the_same():
    f = pjx.initializer("he")
    key = jax.random.key(5)
    assert pjx.key_seed(jax.random.key_data(key)) == 5
    eager = np.asarray(f(key, (64, 32)))
    jitted = np.asarray(jax.jit(f, static_argnums=(1,))(key, (64, 32)))
    assert np.array_equal(eager, jitted)
    assert np.array_equal(eager, pj.he_init((64, 32), seed=5, layout="keras"))
    assert np.array_equal(np.asarray(f(jax.random.PRNGKey(5), (64, 32))), eager)     # raw uint32 keys too
    assert f(key, (4, 3), jnp.bfloat16).dtype == jnp.bfloat16


class FlaxMLP(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Dense(128)(x))
        x = nn.relu(nn.Dense(64)(x))
        return nn.Dense(10)(x)


def test_flax_params_equal_the_trainers_network():
    params = FlaxMLP().init(jax.random.key(0), jnp.ones((1, 784)))
    new = pjx.initialize(params, "he", seed=11)
    for i, w in enumerate(trainer_weights()):
        assert np.array_equal(np.asarray(new["params"][f"Dense_{i}"]["kernel"]).T, w)
        assert not np.asarray(new["params"][f"Dense_{i}"]["bias"]).any()
    assert FlaxMLP().apply(new, jnp.ones((2, 784))).shape == (2, 10)


def test_flax_kernel_init_inside_a_jitted_init():
    layer = nn.Dense(32, kernel_init=pjx.initializer("xavier"))
    p = jax.jit(layer.init)(jax.random.key(1), jnp.ones((2, 16)))["params"]["kernel"]
    assert p.shape == (16, 32) and np.abs(np.asarray(p)).max() <= math.sqrt(6 / 48)


def test_all_three_frameworks_and_the_trainer_agree():
    """One seed, one architecture: the same weights in PyTorch, Keras, Flax and the NumPy trainer."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    import pyjinit.torch as pt

    tm = pt.initialize(torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64),
                                           torch.nn.ReLU(), torch.nn.Linear(64, 10)), weight="xavier", seed=3)
    km = pk.initialize(keras_mlp(), weight="xavier", seed=3)
    fp = pjx.initialize(FlaxMLP().init(jax.random.key(0), jnp.ones((1, 784))), "xavier", seed=3)
    for i, (w, tl, kl) in enumerate(zip(trainer_weights("xavier", 3), (tm[0], tm[2], tm[4]), km.layers)):
        assert np.array_equal(tl.weight.detach().numpy(), w)
        assert np.array_equal(np.asarray(kl.kernel).T, w)
        assert np.array_equal(np.asarray(fp["params"][f"Dense_{i}"]["kernel"]).T, w)


# --- keras.* and jax.* names: the frameworks' own arguments, defaults and fans ----------------------------------

KERAS_CASES = [
    ("keras.variance_scaling", keras.initializers.VarianceScaling,
     {"scale": 0.5, "mode": "fan_out", "distribution": "untruncated_normal"}),
    ("keras.variance_scaling", keras.initializers.VarianceScaling, {"scale": 3.0, "mode": "fan_avg", "distribution": "normal"}),
    ("keras.variance_scaling", keras.initializers.VarianceScaling, {"distribution": "uniform"}),
    ("keras.he_uniform", keras.initializers.HeUniform, {}), ("keras.glorot_normal", keras.initializers.GlorotNormal, {}),
    ("keras.random_uniform", keras.initializers.RandomUniform, {"minval": 0.1, "maxval": 0.3}),
    ("keras.random_normal", keras.initializers.RandomNormal, {"mean": -1.0, "stddev": 0.2}),
    ("keras.truncated_normal", keras.initializers.TruncatedNormal, {"mean": 1.0, "stddev": 0.2}),
]


@pytest.mark.parametrize("name,cls,kw", KERAS_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(KERAS_CASES)])
@pytest.mark.parametrize("shape", [(3000,), (200, 300), (3, 3, 16, 32)])        # (3000,): Keras's 1-D fans n, n
def test_keras_names_take_keras_arguments(name, cls, kw, shape):
    ours = pj.init(name, shape, layout="keras", seed=1, **kw)
    ref = np.asarray(cls(seed=1, **kw)(shape))
    assert ks(ours, ref) > ALPHA
    if kw.get("distribution") == "uniform" or "uniform" in name:
        assert np.abs(ours).max() <= np.abs(ref).max() * 1.01


def test_keras_names_refuse_other_arguments_and_keras_edges():
    with pytest.raises(TypeError, match="takes minval, maxval"):
        pj.init("keras.random_uniform", (3, 3), low=0)
    with pytest.raises(ValueError, match="distribution must be one of truncated_normal, untruncated_normal, uniform"):
        pj.init("keras.variance_scaling", (3, 3), distribution="gamma")
    with pytest.raises(ValueError, match="2-D"):
        pj.init("keras.identity", (3, 3, 3))
    assert np.array_equal(pj.init("keras.identity", (2, 3), gain=2.0), np.asarray(keras.initializers.Identity(2.0)((2, 3))))


JAX_CASES = [
    ("jax.variance_scaling", jax.nn.initializers.variance_scaling(0.5, "fan_geo_avg", "normal"),
     {"scale": 0.5, "mode": "fan_geo_avg", "distribution": "normal"}),
    ("jax.glorot_normal", jax.nn.initializers.glorot_normal(in_axis=0, out_axis=1), {"in_axis": 0, "out_axis": 1}),
    ("jax.he_uniform", jax.nn.initializers.he_uniform(batch_axis=0), {"batch_axis": 0}),
    ("jax.truncated_normal", jax.nn.initializers.truncated_normal(0.3, lower=-1.0, upper=3.0),
     {"stddev": 0.3, "lower": -1.0, "upper": 3.0}),
    ("jax.uniform", jax.nn.initializers.uniform(0.5), {"scale": 0.5}),
    ("jax.normal", jax.nn.initializers.normal(2.0), {"stddev": 2.0}),
]


@pytest.mark.parametrize("name,theirs,kw", JAX_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(JAX_CASES)])
@pytest.mark.parametrize("shape", [(200, 300), (3, 3, 16, 32)])
def test_jax_names_take_jax_arguments(name, theirs, kw, shape):
    ours = pj.init(name, shape, layout="keras", seed=1, **kw)
    ref = np.asarray(theirs(jax.random.key(1), shape))
    assert ks(ours, ref) > ALPHA
    if name == "jax.truncated_normal":                       # stddev times N(0, 1) truncated to [lower, upper]
        assert ours.min() >= -0.3 * (1 + 1e-6) and ours.max() <= 0.9 * (1 + 1e-6)
    if name == "jax.uniform":                                # U[0, scale)
        assert ours.min() >= 0 and ours.max() < 0.5


def test_jax_names_refuse_what_jax_refuses():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        pj.init("jax.glorot_uniform", (5,))
    with pytest.raises(ValueError):
        jax.nn.initializers.glorot_uniform()(jax.random.key(0), (5,))
    with pytest.raises(TypeError, match="needs value"):
        pj.init("jax.constant", (2,))
    assert (pj.init("jax.constant", (2, 2), value=3.0) == 3).all()


# --- flux.* names: Flux's semantics (Flux cannot run here: checked against Flux's source, src/utils.jl) -------

def test_flux_fans_of_a_vector_are_1_and_n():
    """Flux: nfan(n) = (1, n), so kaiming_uniform(n) is U(±gain·√3) and glorot_uniform(n) U(±√(6/(1+n)))."""
    k = pj.init("flux.kaiming_uniform", (4000,), seed=0)
    assert np.abs(k).max() <= math.sqrt(2) * math.sqrt(3) and np.abs(k).max() > 0.99 * math.sqrt(6)
    g = pj.init("flux.glorot_uniform", (4000,), gain=2.0, seed=0)
    assert np.abs(g).max() <= 2 * math.sqrt(6 / 4001) and np.abs(g).max() > 0.99 * 2 * math.sqrt(6 / 4001)
    # matrices and kernels: the same values as the unqualified names (the same fans)
    assert np.array_equal(pj.init("flux.glorot_normal", (30, 20, 3), seed=1), pj.init("glorot_normal", (30, 20, 3), seed=1))
    assert np.array_equal(pj.init("flux.kaiming_normal", (30, 20), gain=1.0, seed=1), pj.he_init((30, 20), gain=1.0, seed=1))


def test_flux_identity_init_as_flux_documents_it():
    assert not pj.init("flux.identity_init", (5,)).any()                                   # a vector: zeros (bias)
    assert np.array_equal(pj.init("flux.identity_init", (3, 5)), np.eye(3, 5, dtype=np.float32))
    # Flux's doctest: identity_init(3, 3, 2; gain=100) in Julia dims (k=3, in=3, out=2) has 100 at [2, i, i]
    w = pj.init("flux.identity_init", (2, 3, 3), gain=100)                                 # PyTorch order (out, in, k)
    assert np.argwhere(w).tolist() == [[0, 0, 1], [1, 1, 1]] and w.max() == 100
    # an even kernel: Flux's centre is cld(k, 2), the first of the two middle taps (PyTorch's is the second)
    assert np.argwhere(pj.init("flux.identity_init", (1, 1, 4)))[0].tolist() == [0, 0, 1]
    assert np.argwhere(pj.init("identity", (1, 1, 4)))[0].tolist() == [0, 0, 2]
    assert np.array_equal(pj.init("flux.identity_init", (3, 3), shift=1), np.roll(np.eye(3, dtype=np.float32), 1, 0))


def test_flux_sparse_init_clamps_sparsity():
    assert not pj.init("flux.sparse_init", (4, 3), sparsity=3.0, seed=0).any()            # min(1, sparsity)
    assert (pj.init("flux.sparse_init", (4, 3), sparsity=-1.0, seed=0) != 0).all()        # ceil(<0) zeroes none
    with pytest.raises(ValueError):
        pj.init("flux.sparse_init", (4, 3, 2), sparsity=0.5)                               # 2-D only, as Flux


def test_flax_initialize_does_not_depend_on_dict_order():
    """jax.jit(model.init) and tree_map return sorted keys (Dense_10 before Dense_2, bias before kernel): the
    same weights as the eager tree, layer by layer, and the PyTorch model's."""
    pytest.importorskip("flax")
    import flax.linen as fnn
    import jax
    import jax.numpy as jnp

    import pyjinit.jax as pjx

    class MLP(fnn.Module):
        @fnn.compact
        def __call__(self, x):
            for _ in range(11):
                x = fnn.relu(fnn.Dense(8)(x))
            return fnn.Dense(3)(x)

    x = jnp.ones((1, 5))
    eager = MLP().init(jax.random.key(0), x)["params"]
    jitted = jax.jit(MLP().init)(jax.random.key(0), x)["params"]
    shuffled = {k: {"bias": v["bias"], "kernel": v["kernel"]} for k, v in sorted(eager.items(), key=lambda kv: kv[0])}
    a = pjx.initialize(eager, "he", seed=4)
    for other in (jitted, shuffled):
        b = pjx.initialize(other, "he", seed=4)
        for name in a:
            assert np.array_equal(np.asarray(a[name]["kernel"]), np.asarray(b[name]["kernel"])), name
    import pyjinit.torch as pt
    torch = pytest.importorskip("torch")
    layers = [torch.nn.Linear(5, 8)] + [torch.nn.Linear(8, 8) for _ in range(10)] + [torch.nn.Linear(8, 3)]
    tm = pt.initialize(torch.nn.Sequential(*layers), weight="he", seed=4)
    for i in range(12):
        assert np.array_equal(np.asarray(a[f"Dense_{i}"]["kernel"]).T, tm[i].weight.detach().numpy()), i


def test_jax_initializer_is_a_jax_program_equal_to_numpy():
    """pyjinit.jax.initializer makes its values with JAX operations (no host callback in the jaxpr), under jit and
    vmap, equal to the NumPy backend for the key's seed (bitwise here: uniform, the normal's core and these
    truncated normals; jax_sampler states the 1-ulp cases)."""
    import jax

    import pyjinit.jax as pjx
    from pyjinit.frameworks.jax import key_seed

    keys = jax.random.split(jax.random.key(7), 3)
    for name in ("he", "jax.lecun_normal", "torch.kaiming_uniform", "keras.glorot_uniform"):
        f = pjx.initializer(name)
        assert "callback" not in str(jax.make_jaxpr(lambda k: f(k, (6, 5)))(keys[0]))
        batch = jax.vmap(lambda k: f(k, (6, 5)))(keys)
        for i in range(3):
            seed = key_seed(jax.random.key_data(keys[i]))
            ref = pj.init(name, (6, 5), seed=seed, layout="keras", backend="numpy")
            assert np.array_equal(np.asarray(batch[i]), ref), name
            assert np.array_equal(np.asarray(jax.jit(f, static_argnums=1)(keys[i], (6, 5))), ref), name


def test_jax_initializer_checks_its_arguments_when_made():
    import pyjinit.jax as pjx

    with pytest.raises(ValueError, match="mode must be one of"):
        pjx.initializer("jax.variance_scaling", scale=1.0, mode="fan_sideways", distribution="normal")
    with pytest.raises(TypeError, match="takes"):
        pjx.initializer("jax.he_normal", bogus=1)


def test_flax_mixed_layer_types_keep_call_order():
    """Dense -> LayerNorm -> Dense (auto-named Dense_0, LayerNorm_0, Dense_1): the eager tree is in call order and
    equals the PyTorch model's layers; names alone cannot order a sorted tree of several types (docstring)."""
    pytest.importorskip("flax")
    import flax.linen as fnn
    import jax
    import jax.numpy as jnp

    import pyjinit.jax as pjx
    import pyjinit.torch as pt
    torch = pytest.importorskip("torch")

    class M(fnn.Module):
        @fnn.compact
        def __call__(self, x):
            x = fnn.Dense(8)(x)
            x = fnn.LayerNorm()(x)
            return fnn.Dense(3)(x)

    p = pjx.initialize(M().init(jax.random.key(0), jnp.ones((1, 5)))["params"], "he", seed=0)
    tm = pt.initialize(torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.LayerNorm(8), torch.nn.Linear(8, 3)),
                       weight="he", seed=0)
    assert np.array_equal(np.asarray(p["Dense_1"]["kernel"]).T, tm[2].weight.detach().numpy())


def test_jax_initializer_accepts_shape_restricted_names():
    import pyjinit.jax as pjx

    pjx.initializer("torch.dirac")                     # 3-D to 5-D only: not refused on a probe shape


def flux_identity_reference(flux_dims, gain, shifts):
    """Flux's identity_init written from its source (src/utils.jl): a Flux-indexed array (k..., in, out) with gain
    at (cld(k, 2)..., i, i), then circshift by `shifts` (a tuple: one per Flux dimension); returned in PyTorch
    order (a kernel's dimensions reversed; a matrix (out, in) as it is)."""
    a = np.zeros(flux_dims, np.float32)
    centre = tuple((k + 1) // 2 - 1 for k in flux_dims[:-2])                     # cld(k, 2), 0-based
    for i in range(min(flux_dims[-2:])):
        a[centre + (i, i)] = gain
    a = np.roll(a, shifts, axis=tuple(range(len(shifts))))
    return a if a.ndim == 2 else a.transpose(tuple(reversed(range(a.ndim))))


@pytest.mark.parametrize("flux_dims,shift", [((3, 3), (1, 1)), ((4, 3), (1, 2)), ((3, 3, 2, 2), (1, 0, 0, 1)),
                                             ((4, 3, 2, 5), (0, 1)), ((3, 3, 3, 2, 2), (2,)), ((3, 3, 2, 2), 1)])
def test_flux_identity_init_takes_a_tuple_shift(flux_dims, shift):
    torch_dims = flux_dims if len(flux_dims) == 2 else tuple(reversed(flux_dims))
    shifts = shift if isinstance(shift, tuple) else (shift,)
    got = pj.init("flux.identity_init", torch_dims, gain=2.0, shift=shift)
    assert np.array_equal(got, flux_identity_reference(flux_dims, 2.0, shifts))
    with pytest.raises(ValueError, match="shift must be an integer or a tuple of at most"):
        pj.init("flux.identity_init", torch_dims, shift=(1,) * (len(flux_dims) + 1))
    with pytest.raises(ValueError, match="shift must be"):
        pj.init("flux.identity_init", torch_dims, shift=1.5)


def test_flux_orthogonal_of_a_vector_is_a_unit_vector_times_gain():
    """Flux: orthogonal(n) reshapes the prod(dims[1:end-1]) x dims[end] = 1 x n orthogonal matrix: one row of
    norm 1. Ours: gain * x / |x| for the stream's normals x (the (1, n) orthogonal draw)."""
    v = pj.init("flux.orthogonal", (7,), gain=3.0, seed=2, dtype="float64")
    assert v.shape == (7,) and abs(np.linalg.norm(v) - 3.0) < 1e-12
    x = pj.init("normal", (7,), seed=2, dtype="float64")
    assert np.allclose(v, 3.0 * x / np.linalg.norm(x), atol=1e-12)
    assert np.array_equal(v, pj.orthogonal_init((1, 7), 3.0, seed=2, dtype="float64").ravel())
    with pytest.raises(ValueError):
        pj.init("orthogonal", (7,))                                     # the unqualified name keeps >= 2-D


def test_flux_lecun_normal_is_fluxs():
    """Flux.lecun_normal(dims...; gain = 1) = truncated_normal(dims...; mean = 0, std = gain / sqrt(fan_in)) with
    Flux's absolute bounds [-2, 2] and Flux's nfan (a vector: fan_in 1)."""
    from pyjinit.inits.registry import arguments

    assert arguments("flux.lecun_normal") == {"gain": 1.0}
    w = pj.init("flux.lecun_normal", (30, 20, 3), seed=5, gain=2.0)
    ref = pj.init("flux.truncated_normal", (30, 20, 3), seed=5, mean=0.0, std=2.0 / math.sqrt(60), lo=-2.0, hi=2.0)
    assert np.array_equal(w, ref)
    v = pj.init("flux.lecun_normal", (5000,), seed=1)                   # std 1, truncated at +-2 (absolute)
    assert np.abs(v).max() <= 2.0 and np.abs(v).max() > 1.95
    # sd of the sample std <= 1 / sqrt(2 n) (kurtosis <= 3): 6 sigma = 0.06; N(0,1) truncated at +-2 has std 0.8796
    assert abs(v.std() - 0.87962566) <= 6 / math.sqrt(2 * 5000)
    with pytest.raises(ValueError, match="gain must be"):
        pj.init("flux.lecun_normal", (3, 3), gain=-1.0)


def test_jinit_delta_orthogonal_and_flux_names_equal_pythons(julia):
    """JInit (Julia, in a subprocess, as tests/inits/test_cross_backend.py) against the Python definitions:
    delta_orthogonal's zero taps exactly and its centre tap to LAPACK rounding (stream.qr_tolerance), both
    orthonormal; Flux's identity_init (tuple shifts) exactly; lecun_normal within 1 ulp (its truncated normal
    uses log/exp); orthogonal of a vector to QR rounding."""
    from pyjinit.inits import numpy_backend as nb
    from pyjinit.inits.stream import qr_tolerance
    from pyjinit.julia.process import Call, run_calls

    delta = [Call("delta_orthogonal_init", s, d, 3 + k, {"gain": g}) for k, (s, d, g) in enumerate(
        [((6, 4, 3), "float32", 1.0), ((8, 8, 3, 3), "float64", 1.5), ((5, 2, 3, 4, 3), "float32", 2.0),
         ((4, 4, 2, 2), "float64", 1.0)])]
    flux = [Call("flux_identity_init", (3, 3), "float32", 0, {"shift": (1, 2)}),
            Call("flux_identity_init", (2, 2, 3, 4), "float32", 0, {"gain": 2.0, "shift": (1, 0, 0, 1)}),
            Call("flux_identity_init", (5,), "float32", 0, {}),
            Call("flux_lecun_normal", (30, 20), "float32", 7, {"gain": 2.0}),
            Call("flux_lecun_normal", (8, 4, 3, 3), "float64", 8, {}),
            Call("flux_orthogonal", (9,), "float64", 9, {"gain": 3.0})]
    errors = [Call("delta_orthogonal_init", (4, 8, 3), "float32", 0, {}),
              Call("flux_identity_init", (3, 3), "float32", 0, {"shift": (1, 2, 3)})]
    res = run_calls(delta + flux + errors, julia=julia)
    for c, jl in zip(delta, res[:len(delta)]):
        py = nb.delta_orthogonal_init(c.shape, np.dtype(c.dtype), c.seed, **c.kwargs)
        assert isinstance(jl, np.ndarray) and jl.shape == py.shape and jl.dtype == py.dtype, (c, jl)
        assert np.array_equal(jl == 0, py == 0) and np.count_nonzero(py) == c.shape[0] * c.shape[1], c
        assert np.abs(jl.astype(float) - py).max() <= qr_tolerance(np.dtype(c.dtype)), c
        centre = jl[(slice(None), slice(None)) + tuple((k - 1) // 2 for k in c.shape[2:])].astype(float)
        g = c.kwargs["gain"]
        assert np.abs(centre.T @ centre - g * g * np.eye(c.shape[1])).max() < 1e-5, c
    name = {"flux_identity_init": "flux.identity_init", "flux_lecun_normal": "flux.lecun_normal",
            "flux_orthogonal": "flux.orthogonal"}
    for c, jl in zip(flux, res[len(delta):len(delta) + len(flux)]):
        py = pj.init(name[c.name], c.shape, seed=c.seed, dtype=c.dtype, **c.kwargs)
        assert isinstance(jl, np.ndarray) and jl.shape == py.shape and jl.dtype == py.dtype, (c, jl)
        if c.name == "flux_identity_init":
            assert np.array_equal(jl, py), c
        elif c.name == "flux_lecun_normal":
            assert np.all(np.abs(jl - py) <= np.spacing(np.abs(py)) * (8 if c.dtype == "float64" else 1)), c
        else:
            assert np.abs(jl - py).max() <= qr_tolerance(np.dtype(c.dtype)), c
    py_errors = []
    for c in errors:
        try:
            (nb.delta_orthogonal_init(c.shape, np.dtype(c.dtype), c.seed) if c.name == "delta_orthogonal_init"
             else pj.init("flux.identity_init", c.shape, **c.kwargs))
        except ValueError as e:
            py_errors.append(str(e))
    assert res[len(delta) + len(flux):] == py_errors
