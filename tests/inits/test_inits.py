"""Every initializer on the NumPy backend: distribution (moments with tolerances from the sample size,
KS against the exact CDF), bounds, shapes, layouts, dtypes, seeds, errors.

Tolerances: Z = 5 standard errors. A sample mean has standard error sigma/sqrt(n); a sample variance
sigma^2 sqrt((kappa - 1)/n), kappa the kurtosis (3 normal, 1.8 uniform, <= 3 truncated normal).
KS tests use fixed seeds and alpha = 1e-6.
"""
import math

import numpy as np
import pytest
from scipy import stats

import pyjinit as pj
from pyjinit.inits import validate as _validate

Z = 5.0
N = 1 << 18
B = {"backend": "numpy"}


def moments_ok(x, mean, var, kurt):
    x = np.asarray(x, dtype=np.float64).ravel()
    n = x.size
    return (abs(x.mean() - mean) <= Z * math.sqrt(var / n)
            and abs(x.var() - var) <= Z * var * math.sqrt((kurt - 1) / n) + 1e-15)


def ks_ok(x, cdf):
    return stats.kstest(np.asarray(x, np.float64).ravel(), cdf).pvalue > 1e-6


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_uniform(dtype):
    x = pj.uniform_init((N,), -0.5, 1.5, dtype=dtype, seed=1, **B)
    assert x.dtype == dtype and x.shape == (N,)
    assert x.min() >= -0.5 and x.max() <= 1.5
    assert moments_ok(x, 0.5, 4 / 12, 1.8)
    if dtype != "float16":
        assert x.max() < 1.5 and ks_ok(x, stats.uniform(-0.5, 2).cdf)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal(dtype):
    x = pj.normal_init((512, 512), 1.0, 0.5, dtype=dtype, seed=2, **B)
    assert moments_ok(x, 1.0, 0.25, 3.0)
    assert ks_ok(x, stats.norm(1.0, 0.5).cdf)


def test_normal_tails_frequency():
    x = pj.normal_init((4 * N,), dtype="float64", seed=3, **B)
    lam = x.size * 2 * stats.norm.sf(4)
    k = int((np.abs(x) > 4).sum())
    assert abs(k - lam) <= Z * math.sqrt(lam)


def test_truncated_normal():
    a, b = -1.0, 2.5
    x = pj.truncated_normal_init((N,), lo=a, hi=b, dtype="float64", seed=4, **B)
    d = stats.truncnorm(a, b)
    assert x.min() >= a and x.max() <= b
    assert moments_ok(x, d.mean(), d.var(), 3.0)
    assert ks_ok(x, d.cdf)
    y = pj.truncated_normal_init((N,), lo_std=6.0, hi_std=7.0, dtype="float64", seed=5, **B)
    assert y.min() >= 6 and y.max() <= 7 and ks_ok(y, stats.truncnorm(6, 7).cdf)


def test_truncated_normal_zero_std_is_the_clamped_mean():
    assert np.array_equal(pj.truncated_normal_init((5,), 5.0, 0.0, lo=-1.0, hi=1.0, dtype="float64", **B), np.ones(5))
    assert np.array_equal(pj.truncated_normal_init((5,), 0.5, 0.0, lo=-1.0, hi=1.0, dtype="float64", **B), np.full(5, 0.5))


def test_truncated_normal_tiny_std_has_no_outliers():
    # PyTorch's old erfinv method put values at +-2 for std=0.002 with bounds +-2
    t = pj.truncated_normal_init((N,), std=0.002, lo=-2.0, hi=2.0, seed=6, **B)
    assert np.abs(t).max() < 0.002 * 6
    assert moments_ok(t, 0.0, 0.002**2, 3.0)


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_truncated_normal_exactly_inside_bounds_after_rounding(dtype):
    t = pj.truncated_normal_init((N,), lo=-0.1, hi=0.1, dtype=dtype, seed=7, **B)
    assert t.astype(np.float64).min() >= -0.1 and t.astype(np.float64).max() <= 0.1
    v = pj.variance_scaling_init((300, 220), dtype=dtype, seed=12345, **B)
    bound = 2 * math.sqrt(1 / 220) / 0.87962566103423978
    assert np.abs(v.astype(np.float64)).max() <= bound


OUT, IN = 256, 1024
FAN_CASES = [
    (pj.xavier_init, {}, 2 / (IN + OUT), 1.8),
    (pj.xavier_init, {"distribution": "normal", "gain": 2.0}, 8 / (IN + OUT), 3.0),
    (pj.xavier_init, {"distribution": "truncated_normal"}, 2 / (IN + OUT), 2.8),
    (pj.he_init, {}, 2 / IN, 3.0),
    (pj.he_init, {"distribution": "uniform", "mode": "fan_out"}, 2 / OUT, 1.8),
    (pj.he_init, {"nonlinearity": "tanh"}, (5 / 3) ** 2 / IN, 3.0),
    (pj.he_init, {"a": 0.2, "nonlinearity": "leaky_relu"}, 2 / 1.04 / IN, 3.0),
    (pj.lecun_init, {}, 1 / IN, 3.0),
    (pj.lecun_init, {"distribution": "uniform"}, 1 / IN, 1.8),
    (pj.variance_scaling_init, {"scale": 2.0, "mode": "fan_geo_avg"}, 2 / math.sqrt(IN * OUT), 2.8),
    (pj.variance_scaling_init, {"mode": "fan_avg", "distribution": "normal"}, 2 / (IN + OUT), 3.0),
]


@pytest.mark.parametrize("f,kw,var,kurt", FAN_CASES)
def test_fan_scaled_variance(f, kw, var, kurt):
    x = f((OUT, IN), dtype="float64", seed=9, **kw, **B)
    assert x.shape == (OUT, IN)
    assert moments_ok(x, 0.0, var, kurt)


def test_xavier_uniform_bound_and_conv_fans():
    assert np.abs(pj.xavier_init((OUT, IN), seed=1, **B)).max() <= math.sqrt(6 / (IN + OUT))
    c = pj.he_init((128, 64, 3, 3), dtype="float64", seed=2, **B)
    assert moments_ok(c, 0.0, 2 / (9 * 64), 3.0)
    assert pj.fans((128, 64, 3, 3)) == (576, 1152)


def test_keras_layout_is_the_transposed_torch_array():
    t = pj.he_init((32, 16, 3, 5), seed=3, **B)
    k = pj.he_init((3, 5, 16, 32), seed=3, layout="keras", **B)
    assert k.shape == (3, 5, 16, 32)
    assert np.array_equal(k, t.transpose(2, 3, 1, 0))
    assert np.array_equal(pj.xavier_init((4, 7), seed=1, layout="keras", **B), pj.xavier_init((7, 4), seed=1, **B).T)


def test_seed_reproducible_and_none_fresh():
    assert np.array_equal(pj.he_init((5, 5), seed=3, **B), pj.he_init((5, 5), seed=3, **B))
    assert not np.array_equal(pj.he_init((5, 5), **B), pj.he_init((5, 5), **B))


def test_orthogonal():
    for shape in [(64, 32), (32, 64), (50, 50), (16, 8, 3, 3), (4, 64, 3, 3)]:
        q = pj.orthogonal_init(shape, gain=2.0, dtype="float64", seed=1, **B)
        m = q.reshape(shape[0], -1)
        g = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
        assert q.shape == shape and np.allclose(g, 4 * np.eye(g.shape[0]), atol=1e-10)
    s = sum(pj.orthogonal_init((4, 4), dtype="float64", seed=k, **B) for k in range(4000)) / 4000
    assert np.abs(s).max() < Z * math.sqrt(0.25 / 4000)      # Haar: E[Q_ij] = 0, var 1/4


def test_sparse():
    w = pj.sparse_init((100, 40), sparsity=0.25, std=0.5, dtype="float64", seed=3, **B)
    assert all((w[:, j] == 0).sum() == 25 for j in range(40))
    assert moments_ok(w[w != 0], 0.0, 0.25, 3.0)
    w = pj.sparse_init((30, 50), nonzeros=7, seed=3, **B)
    assert all((w[i] != 0).sum() == 7 for i in range(30))
    zc = sum((pj.sparse_init((100, 10), sparsity=0.25, seed=s, **B) == 0).sum(axis=1) for s in range(400)) / 4000
    assert np.abs(zc - 0.25).max() < Z * math.sqrt(0.25 * 0.75 / 4000)


def test_identity_and_dirac():
    assert np.array_equal(pj.identity_init((2, 3), **B), np.eye(2, 3, dtype=np.float32))
    k = pj.identity_init((4, 4, 3, 3), **B)
    assert all(k[o, i, 1, 1] == (o == i) for o in range(4) for i in range(4)) and k.sum() == 4
    e = pj.identity_init((2, 2, 4, 4), **B)           # even kernel: tap 4 // 2 = 2 (0-based)
    assert e[0, 0, 2, 2] == 1 and e.sum() == 2
    g = pj.identity_init((6, 4, 3), groups=2, **B)
    assert g.sum() == 6 and g[0, 0, 1] == 1 and g[3, 0, 1] == 1


def test_zero_size_arrays_are_empty():
    for f in (pj.zeros_init, pj.ones_init, pj.uniform_init, pj.normal_init, pj.truncated_normal_init, pj.xavier_init,
              pj.he_init, pj.lecun_init, pj.variance_scaling_init, pj.orthogonal_init, pj.identity_init):
        assert f((0, 5), **B).shape == (0, 5)
    assert pj.sparse_init((0, 5), sparsity=0.5, **B).shape == (0, 5)


def test_calculate_gain_table():
    assert pj.calculate_gain("linear") == 1 and pj.calculate_gain("conv3d") == 1 and pj.calculate_gain("sigmoid") == 1
    assert pj.calculate_gain("tanh") == 5 / 3 and pj.calculate_gain("relu") == math.sqrt(2)
    assert pj.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert pj.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04) and pj.calculate_gain("selu") == 0.75
    # second-moment gains 1/sqrt(E f(z)^2) re-derived by adaptive quadrature, split at the kink z = 0
    from scipy import integrate

    fs = {"gelu": lambda z: z * stats.norm.cdf(z), "silu": lambda z: z / (1 + math.exp(-z)),
          "elu": lambda z: z if z > 0 else math.expm1(z), "softplus": lambda z: np.logaddexp(0, z),
          "relu": lambda z: max(z, 0.0)}
    for nl, f in fs.items():
        m2 = sum(integrate.quad(lambda z: f(z) ** 2 * stats.norm.pdf(z), lo, hi, epsabs=1e-13, epsrel=1e-12)[0]
                 for lo, hi in ((-40, 0), (0, 40)))
        assert math.isclose(pj.calculate_gain(nl), 1 / math.sqrt(m2), rel_tol=1e-9), nl


def test_pretrained(tmp_path):
    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(tmp_path / "w.npy", w)
    np.savez(tmp_path / "m.npz", fc1=w, fc2=w.T.copy())
    assert np.array_equal(pj.pretrained_init(w, (3, 4)), w)
    assert np.array_equal(pj.pretrained_init(tmp_path / "w.npy", (3, 4)), w)
    assert np.array_equal(pj.pretrained_init(str(tmp_path / "m.npz"), (4, 3), key="fc2"), w.T)
    with pytest.raises(ValueError, match=r"pretrained array has dimensions \(3, 4\), the initializer was asked for \(4, 3\)"):
        pj.pretrained_init(w, (4, 3))
    with pytest.raises(ValueError, match="element type float32, the initializer was asked for float64"):
        pj.pretrained_init(w, (3, 4), dtype="float64")
    with pytest.raises(ValueError, match="holds 2 arrays"):
        pj.pretrained_init(tmp_path / "m.npz", (3, 4))
    with pytest.raises(ValueError, match="key must be one of fc1, fc2"):
        pj.pretrained_init(tmp_path / "m.npz", (3, 4), key="fc3")
    with pytest.raises(ValueError, match="does not exist"):
        pj.pretrained_init(tmp_path / "nope.npy", (3, 4))


def test_layer_presets():
    w, b = pj.layer_init((64, 100), "torch", seed=1, **B)
    assert w.shape == (64, 100) and b.shape == (64,)
    assert np.abs(w).max() <= 0.1 and np.abs(b).max() <= 0.1 and np.abs(b).max() > 0.05
    assert moments_ok(w, 0, 1 / 300, 1.8)
    w, b = pj.layer_init((64, 100), "keras", seed=1, **B)
    assert np.array_equal(w, pj.xavier_init((64, 100), seed=1, **B)) and not b.any()
    w, b = pj.layer_init((64, 100), "flax", seed=1, **B)
    assert np.array_equal(w, pj.variance_scaling_init((64, 100), seed=1, **B)) and not b.any()
    w, b = pj.layer_init((8, 4, 3, 3), "torch", seed=2, **B)
    assert b.shape == (8,) and np.abs(w).max() <= 1 / 6


def test_registry_knows_framework_names():
    names = pj.initializers()
    for n in ("kaiming_normal", "glorot_uniform", "lecun_normal", "xavier_normal", "torch.trunc_normal",
              "keras.he_normal", "flux.kaiming_uniform", "jax.lecun_normal", "orthogonal", "sparse", "dirac"):
        assert n in names
    for n in names:
        required = {"torch.constant": {"val": 0.5}, "jax.constant": {"value": 0.5},     # the frameworks' required
                    "jax.variance_scaling": {"scale": 1.0, "mode": "fan_in", "distribution": "normal"}}
        kw = {"sparsity": 0.5} if "sparse" in n else required.get(n.replace("flax.", "jax."), {})
        # torch's dirac_ and delta_orthogonal are for 3-D to 5-D
        shape = (6, 4, 3) if n == "torch.dirac" or "delta_orthogonal" in n else (6, 4)
        assert pj.init(n, shape, seed=0, **kw, **B).shape == shape, n
    # Keras/JAX *_normal are truncated at 2 std; PyTorch/Flux ones are not
    k = pj.init("keras.he_normal", (300, 400), seed=1, **B)
    assert np.abs(k).max() <= 2 * math.sqrt(2 / 400) / 0.87962566103423978
    assert moments_ok(k, 0, 2 / 400, 2.8)
    t = pj.init("kaiming_normal", (300, 400), seed=1, **B)
    assert np.abs(t).max() > 2 * math.sqrt(2 / 400) / 0.87962566103423978
    assert np.abs(pj.init("keras.random_uniform", (100, 100), seed=1, **B)).max() <= 0.05
    assert np.abs(pj.init("torch.trunc_normal", (100, 100), std=0.01, seed=1, **B)).max() < 0.1
    with pytest.raises(ValueError, match="must be an initializer name"):
        pj.init("kaiming_gauss", (3, 3))
    with pytest.raises(ValueError, match="fixes distribution='normal'"):
        pj.init("kaiming_normal", (3, 3), distribution="uniform")


BAD_COMMON = [
    (lambda: pj.he_init((3, -4), **B), "dimensions must be non-negative integers, got (3, -4)"),
    (lambda: pj.he_init((3, 4.5), **B), "dimensions must be non-negative integers, got (3, 4.5)"),
    (lambda: pj.he_init("3x4", **B), "dimensions must be non-negative integers"),
    (lambda: pj.he_init((3, 4), dtype="int32", **B), "dtype must be one of float16, float32, float64; got 'int32'"),
    (lambda: pj.he_init((3, 4), seed=-1, **B), "seed must be an integer in [0, 2^128), got -1"),
    (lambda: pj.he_init((3, 4), seed=1.5, **B), "seed must be an integer in [0, 2^128), got 1.5"),
    (lambda: pj.he_init((3, 4), backend="torch"), "backend must be one of auto, julia, numpy; got 'torch'"),
    (lambda: pj.he_init((3, 4), layout="flux", **B), "layout must be one of torch, keras; got 'flux'"),
    (lambda: pj.he_init((3,), **B), "fans are undefined for an array with fewer than 2 dimensions"),
    (lambda: pj.he_init((3, 4), mode="fan_avg", **B), "mode must be one of fan_in, fan_out; got 'fan_avg'"),
    (lambda: pj.xavier_init((3, 4), gain=float("nan"), **B), "gain must be a finite number >= 0, got NaN"),
    (lambda: pj.sparse_init((3, 3), sparsity=2, **B), "sparsity must be a number in [0, 1], got 2"),
    (lambda: pj.layer_init((3, 3), "caffe", **B), "preset must be one of torch, keras, flux, flax; got 'caffe'"),
    (lambda: pj.calculate_gain("swish"), "nonlinearity must be one of linear"),
    (lambda: pj.he_init((3, 3), a=0.1, **B), "a (the negative slope) is only used with nonlinearity 'leaky_relu', got nonlinearity 'relu'"),
]


@pytest.mark.parametrize("call,msg", BAD_COMMON)
def test_bad_input_errors_name_the_argument(call, msg):
    with pytest.raises(ValueError) as e:
        call()
    assert msg in str(e.value)


def test_messages_are_formatted_like_julia():
    assert _validate.fmt((3,)) == "(3,)" and _validate.fmt(float("-inf")) == "-Inf" and _validate.fmt("x") == "'x'"
