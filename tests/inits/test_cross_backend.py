"""JInit (Julia, in a subprocess) against the NumPy backend, element for element.

Exact (bitwise) for everything whose arithmetic is IEEE basic operations: uniform-based draws,
zeros/ones/constant/identity, the normals (stream v2's ziggurat: products and compares; its 1.5% of wedge and tail
draws use log/exp, and were equal in every case here) and the central 85% of truncated normal draws. The only
library functions are `log` (the ziggurat's fallback, truncated normal tails), `exp` (the ziggurat's wedges, the
scalar Phi at truncation bounds) and LAPACK (orthogonal):
Julia's and NumPy's log/exp are each within 1 ulp of the true value, so a float64 result can differ by
a few ulp; after rounding to float32/float16 it can differ by at most 1 ulp of that type (tolerance:
1 ulp of the dtype, 8 ulp for float64). Orthogonal: Householder QR in two LAPACK builds, rounding
differences ~1e-15 relative; tolerance stream.qr_tolerance: 1e-5 (float32), 1e-10 (float64).
"""
import numpy as np
import pytest

from pyjinit.inits import numpy_backend as nb
from pyjinit.inits.stream import qr_tolerance
from pyjinit.julia.process import Call, run_calls

SHAPES = [(1, 1), (3, 5), (7, 1), (64, 33), (129, 257), (8, 3, 3, 3), (5, 4, 7), (16, 8, 2, 2, 2), (300, 220)]
UNIFORM_BASED = [
    ("uniform_init", {"low": -0.3, "high": 0.7}),
    ("xavier_init", {}),
    ("xavier_init", {"gain": 1.7}),
    ("he_init", {"distribution": "uniform", "mode": "fan_out"}),
    ("he_init", {"distribution": "uniform", "a": 2.23606797749979, "nonlinearity": "leaky_relu"}),
    ("lecun_init", {"distribution": "uniform"}),
    ("variance_scaling_init", {"scale": 3.0, "mode": "fan_geo_avg", "distribution": "uniform"}),
    ("constant_init", {"value": 0.1}),
    ("zeros_init", {}),
    ("ones_init", {}),
    ("identity_init", {"gain": 0.5}),
]
NORMAL_BASED = [
    ("normal_init", {"mean": 0.1, "std": 0.02}),
    ("xavier_init", {"distribution": "normal"}),
    ("xavier_init", {"distribution": "truncated_normal"}),
    ("he_init", {}),
    ("he_init", {"nonlinearity": "tanh", "mode": "fan_out"}),
    ("lecun_init", {}),
    ("variance_scaling_init", {}),
    ("variance_scaling_init", {"scale": 2.0, "mode": "fan_avg", "distribution": "normal"}),
    ("truncated_normal_init", {}),
    ("truncated_normal_init", {"std": 0.002, "lo": -2.0, "hi": 2.0}),
    ("truncated_normal_init", {"mean": 1.0, "lo_std": 0.5, "hi_std": 3.0}),
    ("truncated_normal_init", {"lo": 4.0, "hi": float("inf")}),
    ("truncated_normal_init", {"mean": 3.0, "std": 0.0, "lo": -1.0, "hi": 1.0}),
]
DTYPES = ["float32", "float64", "float16"]


def _ulp_tol(ref: np.ndarray, dtype: str, ulps: int) -> np.ndarray:
    return ulps * np.spacing(np.abs(ref.astype(np.dtype(dtype)))).astype(np.float64)


def _numpy(c):
    try:
        return getattr(nb, c.name)(c.shape, np.dtype(c.dtype), c.seed, **c.kwargs)
    except ValueError as e:
        return str(e)


def _cases(specs, seeds):
    cases = []
    for i, (name, kw) in enumerate(specs):
        for j, shape in enumerate(SHAPES):
            dtype = DTYPES[(i + j) % 3]
            seed = seeds[(i * 7 + j) % len(seeds)]
            cases.append(Call(name, shape, dtype, seed, kw))
    return cases


SEEDS = [0, 1, 12345, 2**63 + 11, 2**64 + 3, 2**128 - 1]


@pytest.fixture(scope="module")
def julia_results(julia):
    """Every Julia call of this module in one Julia process with 2 threads (the fill is threaded above
    2^15 elements, so these also check that threads do not change values)."""
    big = [Call("normal_init", (512, 300), "float32", 77, {}), Call("uniform_init", (4, 128, 128), "float32", 78, {}),
           Call("he_init", (1000, 500), "float64", 79, {"distribution": "uniform"}),
           Call("truncated_normal_init", (70001,), "float32", 80, {})]
    orth = [Call("orthogonal_init", s, d, 5 + k, {"gain": g}) for k, (s, d, g) in enumerate(
        [((64, 32), "float32", 1.0), ((32, 64), "float32", 2.0), ((50, 50), "float64", 1.0),
         ((16, 8, 3, 3), "float32", 1.0), ((4, 8, 3, 3), "float64", 1.0), ((200, 180), "float32", 1.0)])]
    sparse = [Call("sparse_init", s, d, 9 + k, kw) for k, (s, d, kw) in enumerate(
        [((10, 7), "float32", {"sparsity": 0.3}), ((100, 40), "float64", {"sparsity": 0.9, "std": 1.0}),
         ((30, 50), "float32", {"nonzeros": 7}), ((33, 20), "float16", {"sparsity": 0.0}),
         ((20, 30), "float32", {"sparsity": 1.0})])]
    dirac = [Call("identity_init", s, "float32", 0, kw) for s, kw in
             [((6, 4, 3, 3), {"groups": 2}), ((4, 4, 2, 4), {}), ((3, 5), {}), ((8, 2, 3, 3, 3), {"groups": 4})]]
    groups = {"uniform": _cases(UNIFORM_BASED, SEEDS), "normal": _cases(NORMAL_BASED, SEEDS), "big": big,
              "orth": orth, "sparse": sparse, "dirac": dirac}
    flat = [c for g in groups.values() for c in g]
    res = run_calls(flat, julia=julia, threads=2)
    out, k = {}, 0
    for name, cs in groups.items():
        out[name] = list(zip(cs, res[k:k + len(cs)]))
        k += len(cs)
    return out


def test_uniform_based_exact(julia_results):
    for c, jl in julia_results["uniform"]:
        py = _numpy(c)
        assert isinstance(jl, np.ndarray), (c, jl)
        assert jl.shape == py.shape and jl.dtype == py.dtype, c
        assert np.array_equal(jl, py), f"{c}: max diff {np.max(np.abs(jl.astype(float) - py))}"


def test_normal_based_within_ulps(julia_results):
    exact = 0
    for c, jl in julia_results["normal"]:
        py = _numpy(c)
        assert isinstance(jl, np.ndarray), (c, jl)
        assert jl.shape == py.shape and jl.dtype == py.dtype, c
        ulps = 8 if c.dtype == "float64" else 1
        diff = np.abs(jl.astype(np.float64) - py.astype(np.float64))
        assert np.all(diff <= _ulp_tol(py, c.dtype, ulps)), f"{c}: max diff {diff.max()}"
        exact += np.array_equal(jl, py)
        if c.name == "normal_init" or c.kwargs.get("distribution") == "normal":
            # the ziggurat (stream v2): products and compares, log/exp only in the 1.5% of wedge/tail draws
            assert np.array_equal(jl, py), f"{c}: ziggurat normals differ, max diff {diff.max()}"
    # almost all are bitwise equal: the tolerance is for rare last-ulp differences of log/exp
    assert exact >= 0.9 * len(julia_results["normal"])


def test_threaded_large_arrays_match(julia_results):
    for c, jl in julia_results["big"]:
        py = _numpy(c)
        if c.name == "he_init":
            assert np.array_equal(jl, py), c
        else:
            diff = np.abs(jl.astype(np.float64) - py.astype(np.float64))
            assert np.all(diff <= _ulp_tol(py, c.dtype, 1)), c


def test_orthogonal_agrees_to_lapack_rounding(julia_results):
    for c, jl in julia_results["orth"]:
        py = _numpy(c)
        tol = qr_tolerance(c.dtype)
        assert jl.shape == py.shape == c.shape
        assert np.max(np.abs(jl.astype(np.float64) - py)) <= tol, c


def test_sparse_same_pattern_and_values(julia_results):
    for c, jl in julia_results["sparse"]:
        py = _numpy(c)
        assert np.array_equal(jl == 0, py == 0), c
        diff = np.abs(jl.astype(np.float64) - py.astype(np.float64))
        assert np.all(diff <= _ulp_tol(py, c.dtype, 8 if c.dtype == "float64" else 1)), c


def test_dirac_exact(julia_results):
    for c, jl in julia_results["dirac"]:
        assert np.array_equal(jl, _numpy(c)), c


BAD = [
    ("he_init", (3, 4), {"mode": "fan_avg"}),
    ("he_init", (3, 4), {"nonlinearity": "swish"}),
    ("he_init", (3, 4), {"nonlinearity": "relu", "a": 0.1}),
    ("he_init", (3, 4), {"gain": 1.0, "a": 0.1}),
    ("he_init", (3, 4), {"gain": -1.0}),
    ("he_init", (5,), {}),
    ("xavier_init", (3, 4), {"distribution": "gauss"}),
    ("variance_scaling_init", (3, 4), {"mode": "fan_max"}),
    ("variance_scaling_init", (3, 4), {"scale": -2.0}),
    ("normal_init", (3,), {"std": -1.0}),
    ("normal_init", (3,), {"mean": float("nan")}),
    ("uniform_init", (3,), {"low": 2.0, "high": 1.0}),
    ("truncated_normal_init", (3,), {"lo": 1.0, "hi": 0.0}),
    ("truncated_normal_init", (3,), {"lo": float("nan")}),
    ("orthogonal_init", (5,), {}),
    ("sparse_init", (3, 3), {"sparsity": 1.5}),
    ("sparse_init", (3, 3), {}),
    ("sparse_init", (3, 3), {"sparsity": 0.5, "nonzeros": 1}),
    ("sparse_init", (3, 3), {"nonzeros": 5}),
    ("sparse_init", (3, 3, 3), {"sparsity": 0.1}),
    ("identity_init", (6, 4, 3, 3), {"groups": 4}),
    ("identity_init", (5,), {}),
    ("constant_init", (2,), {"value": float("inf")}),
]


def test_same_error_messages(julia):
    cases = [Call(n, s, "float32", 0, kw) for n, s, kw in BAD]
    for c, jl in zip(cases, run_calls(cases, julia=julia)):
        py = _numpy(c)
        assert isinstance(py, str), f"NumPy backend accepted {c}"
        assert jl == py, f"{c}:\n  julia: {jl}\n  numpy: {py}"


def test_thread_count_does_not_change_values(julia):
    calls = [Call("normal_init", (600, 300), "float32", 3, {}), Call("uniform_init", (2, 3, 128, 128), "float32", 4, {}),
             Call("lecun_init", (300, 250), "float64", 5, {})]
    one = run_calls(calls, julia=julia, threads=1)
    two = run_calls(calls, julia=julia, threads=2)
    for a, b in zip(one, two):
        assert np.array_equal(a, b)
