"""The juliacall path: JInit called in-process. Runs wherever juliacall can start Julia >= 1.10;
skipped here (no such Julia can be installed on this machine), with that reason."""
import os

import numpy as np
import pytest

import pyjinit as pj

CASES = [
    ("xavier_init", (64, 32), {}), ("he_init", (16, 8, 3, 3), {"distribution": "uniform"}),
    ("normal_init", (1000,), {"std": 0.1}), ("truncated_normal_init", (50, 20), {"lo": -0.5, "hi": 1.0}),
    ("orthogonal_init", (30, 40), {}), ("sparse_init", (40, 30), {"sparsity": 0.4}),
    ("identity_init", (8, 4, 3, 3), {"groups": 2}), ("lecun_init", (7, 5, 2), {}),
]


@pytest.mark.parametrize("name,shape,kw", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_julia_backend_equals_numpy(juliacall_jl, name, shape, kw, dtype):
    f = getattr(pj, name)
    a = f(shape, **kw, dtype=dtype, seed=17, backend="julia")
    b = f(shape, **kw, dtype=dtype, seed=17, backend="numpy")
    assert a.shape == b.shape == shape and a.dtype == b.dtype
    tol = 1e-5 if name == "orthogonal_init" else 0
    ulp = np.spacing(np.abs(b)).astype(np.float64) * (8 if dtype == "float64" else 1)
    assert np.all(np.abs(a.astype(np.float64) - b.astype(np.float64)) <= np.maximum(ulp, tol))


def test_no_copy_handoff(juliacall_jl):
    a = pj.he_init((16, 8, 3, 3), seed=1, backend="julia")
    assert a.flags["C_CONTIGUOUS"] and a.base is not None      # a transposed view of Julia's array
    m = pj.he_init((16, 8), seed=1, backend="julia")
    assert m.flags["F_CONTIGUOUS"] and m.base is not None


@pytest.mark.parametrize("call,msg", [
    (lambda: pj.he_init((3, 4), mode="fan_avg", backend="julia"), "mode must be one of fan_in, fan_out; got 'fan_avg'"),
    (lambda: pj.sparse_init((3, 3), sparsity=1.5, backend="julia"), "sparsity must be a number in [0, 1], got 1.5"),
    (lambda: pj.orthogonal_init((5,), backend="julia"), "orthogonal needs at least 2 dimensions"),
])
def test_julia_errors_are_python_valueerrors(juliacall_jl, call, msg):
    with pytest.raises(ValueError) as e:
        call()
    assert msg in str(e.value)
    assert "Stacktrace" not in str(e.value)


def test_keras_layout_and_presets_through_julia(juliacall_jl):
    a = pj.xavier_init((3, 3, 16, 32), layout="keras", seed=2, backend="julia")
    b = pj.xavier_init((3, 3, 16, 32), layout="keras", seed=2, backend="numpy")
    assert np.array_equal(a, b)
    wa, ba = pj.layer_init((10, 20), "torch", seed=3, backend="julia")
    wb, bb = pj.layer_init((10, 20), "torch", seed=3, backend="numpy")
    assert np.array_equal(wa, wb) and np.array_equal(ba, bb)


def test_backend_info_after_start_names_jinits_folder(juliacall_jl):
    info = pj.backend_info()
    assert info["backend"] == "julia"
    assert os.path.isfile(os.path.join(info["jinit_path"], "Project.toml"))    # a folder, not .../src/JInit.jl


def test_method_error_through_juliacall_is_one_type_error(juliacall_jl):
    with pytest.raises(TypeError) as e:
        pj.init("he", (3, 3), backend="julia", bogus=1)
    assert "\n" not in str(e.value)


def test_flux_trains_epoch_by_epoch_and_loads_the_extension(juliacall_jl, small_data):
    x, y, xt, yt = small_data
    r = pj.train(x, y, xt, yt, hidden=(16,), epochs=2, seed=0, backend="julia", verbose=False)
    assert r.backend == "julia" and [h["epoch"] for h in r.history] == [1, 2]
    assert bool(juliacall_jl.seval("Base.get_extension(JInit, :JInitFluxExt) !== nothing"))
    n = pj.train(x, y, xt, yt, hidden=(16,), epochs=2, seed=0, backend="numpy", verbose=False)
    assert abs(r.history[-1]["test_accuracy"] - n.history[-1]["test_accuracy"]) < 0.1
    e = pj.train(x, y, xt[:0], yt[:0], hidden=(4,), epochs=1, backend="julia", verbose=False)
    assert e.history[0]["test_accuracy"] == 0 and e.history[0]["test_loss"] == 0      # as NumPy, not NaN


def test_flux_cnn_is_the_numpy_cnn(juliacall_jl, small_data):
    """The same CNN, weights and batch order in Flux and NumPy: plain SGD on the same batches gives the same
    training losses up to float32 rounding (conv sums in another order), and "lsuv" the same weights."""
    x, y, xt, yt = small_data
    kw = dict(conv=(4, 6), hidden=(16,), epochs=2, seed=3, optimizer="sgd", lr=0.01, momentum=0.0, verbose=False)
    f = pj.train(x, y, xt, yt, backend="julia", **kw)
    n = pj.train(x, y, xt, yt, backend="numpy", **kw)
    assert f.backend == "julia" and f.config["conv"] == [4, 6]
    for a, b in zip(f.history, n.history):
        assert abs(a["train_loss"] - b["train_loss"]) <= 1e-3 * b["train_loss"], (a, b)
    f = pj.train(x, y, xt, yt, backend="julia", init="lsuv", **{**kw, "epochs": 1})
    n = pj.train(x, y, xt, yt, backend="numpy", init="lsuv", **{**kw, "epochs": 1})
    assert abs(f.history[0]["train_loss"] - n.history[0]["train_loss"]) <= 1e-3 * n.history[0]["train_loss"]
