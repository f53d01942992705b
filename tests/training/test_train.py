"""The NumPy trainer, compare() and the train/compare command line, on small data the tests make."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import pyjinit as pj
from pyjinit.training import networks as N
from pyjinit.training import trainer as T
from pyjinit.training.results import ACTIVATIONS, TrainResult

B = {"backend": "numpy", "verbose": False}


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 5)).astype(np.float32)
    y = rng.integers(0, 10, 7)
    for act in ACTIVATIONS:
        ws = [rng.normal(size=(6, 5)).astype(np.float32) * 0.5, rng.normal(size=(10, 6)).astype(np.float32) * 0.5]
        net = N.MLP(ws, act)
        net.b = [rng.normal(size=6).astype(np.float32) * 0.1, rng.normal(size=10).astype(np.float32) * 0.1]
        _, gw, gb = net.gradients(x, y)
        for params, grads in ((net.W, gw), (net.b, gb)):
            for p, g in zip(params, grads):
                for idx in [tuple(rng.integers(0, s) for s in p.shape) for _ in range(4)]:
                    old = p[idx]
                    h = 1e-2
                    p[idx] = old + h
                    lp = N.logitcrossentropy(net.forward(x), y)[0]
                    p[idx] = old - h
                    lm = N.logitcrossentropy(net.forward(x), y)[0]
                    p[idx] = old
                    num = (lp - lm) / (2 * h)
                    assert abs(num - g[idx]) <= 2e-3 + 2e-2 * abs(num), (act, idx, num, g[idx])


def test_adam_step_matches_the_formula():
    p = [np.array([1.0, -2.0], np.float32)]
    opt = N._Optimizer("adam", p, 0.1, 0.9)
    g = [np.array([0.5, -1.0], np.float32)]
    opt.step(p, g)
    opt.step(p, g)
    # two identical gradients: m_hat = g, v_hat = g^2, so each step moves by lr * g / (|g| + eps)
    assert np.allclose(p[0], [1.0 - 0.2, -2.0 + 0.2], atol=1e-6)
    q = [np.array([1.0], np.float32)]
    sgd = N._Optimizer("sgd", q, 0.1, 0.5)
    sgd.step(q, [np.array([1.0], np.float32)])
    sgd.step(q, [np.array([1.0], np.float32)])
    assert np.allclose(q[0], [1.0 - 0.1 - (0.05 + 0.1)])


def test_learns_small_data_and_is_deterministic(small_data):
    r1 = pj.train(*small_data, hidden=(32,), epochs=4, seed=3, blas_threads=2, **B)     # a fixed count: see
    r2 = pj.train(*small_data, hidden=(32,), epochs=4, seed=3, blas_threads=2, **B)     # training/blas.py
    assert r1.final_accuracy >= 0.9
    assert [h["train_loss"] for h in r1.history] == [h["train_loss"] for h in r2.history]
    assert r1.history[-1]["train_loss"] < r1.history[0]["train_loss"]
    r3 = pj.train(*small_data, hidden=(32,), epochs=1, seed=4, **B)
    assert r3.history[0]["train_loss"] != r1.history[0]["train_loss"]
    assert r1.backend == "numpy" and r1.n_train == 600 and r1.diverged is None


def test_initial_weights_come_from_layer_keys():
    ws = T.initial_weights([784, 32, 10], "he", None, 5, backend="numpy")
    assert np.array_equal(ws[0], pj.he_init((32, 784), seed=pj.param_key(5, 1, 0), backend="numpy"))
    assert np.array_equal(ws[1], pj.he_init((10, 32), seed=pj.param_key(5, 2, 0), backend="numpy"))
    u = T.initial_weights([784, 32, 10], "uniform", None, 5, backend="numpy")   # small uniform in training
    assert np.abs(u[0]).max() <= 0.05
    mixed = T.initial_weights([784, 32, 10], ["orthogonal", np.ones((10, 32))], [None, None], 5, backend="numpy")
    assert np.array_equal(mixed[1], np.ones((10, 32), np.float32))
    with pytest.raises(ValueError, match="init must be one name, or a list of 2"):
        T.initial_weights([784, 32, 10], ["he"], None, 5, backend="numpy")
    with pytest.raises(ValueError, match=r"pretrained array has dimensions \(32, 10\)"):
        T.initial_weights([784, 32, 10], ["he", np.ones((32, 10))], None, 5, backend="numpy")


def test_batch_order_is_a_seeded_permutation():
    o = T.batch_order(1, 1, 1000)
    assert sorted(o.tolist()) == list(range(1000))
    assert not np.array_equal(o, T.batch_order(1, 2, 1000)) and np.array_equal(o, T.batch_order(1, 1, 1000))


def test_batch_order_matches_julia(julia):
    from pyjinit.julia.process import run_script

    out = run_script("using JInit; println(join(batch_order(7, 3, 500) .- 1, ' '))", julia=julia)
    assert list(map(int, out.split())) == T.batch_order(7, 3, 500).tolist()


def test_divergence_is_reported_not_carried_on(small_data):
    # a step that overflows float32: the weights become Inf, the loss NaN at step 2
    r = pj.train(*small_data, hidden=(32,), epochs=3, optimizer="sgd", lr=1e38, momentum=0.9, seed=0, **B)
    assert r.diverged is not None and r.diverged["epoch"] == 1 and r.diverged["step"] == 2
    assert len(r.history) == 0


@pytest.mark.parametrize("kw,msg", [
    ({"activation": "swish"}, "activation must be one of relu, tanh, sigmoid, leaky_relu, gelu; got 'swish'"),
    ({"optimizer": "rmsprop"}, "optimizer must be one of adam, sgd; got 'rmsprop'"),
    ({"lr": 0}, "lr must be a finite number > 0, got 0"),
    ({"momentum": 1.0}, "momentum must be a number in [0, 1), got 1.0"),
    ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
    ({"hidden": (32, 0)}, "hidden size must be an integer >= 1, got 0"),
    ({"epochs": 0}, "epochs must be an integer >= 1, got 0"),
    ({"seed": -2}, "seed must be an integer in [0, 2^128), got -2"),
    ({"init": "kaiming_gauss"}, "must be an initializer name"),
])
def test_bad_training_arguments(small_data, kw, msg):
    with pytest.raises(ValueError) as e:
        pj.train(*small_data, **{**{"hidden": (8,), "epochs": 1}, **kw, **B})
    assert msg in str(e.value)


def test_bad_data(small_data):
    x, y, xt, yt = small_data
    with pytest.raises(ValueError, match=r"y_train must have shape \(600,\)"):
        pj.train(x, y[:10], xt, yt, **B)
    with pytest.raises(ValueError, match="y_test must be integer labels 0-9"):
        pj.train(x, y, xt, yt + 10, **B)
    with pytest.raises(ValueError, match="x_test has 700 features"):
        pj.train(x, y, xt[:, :700], yt, **B)


def test_result_json_roundtrip_and_plot(small_data, tmp_path):
    r = pj.train(*small_data, hidden=(16,), epochs=2, seed=1, **B)
    d = json.loads(r.to_json(tmp_path / "r.json"))
    assert d["final_accuracy"] == r.final_accuracy and len(d["history"]) == 2 and d["config"]["hidden"] == [16]
    assert TrainResult.from_dict(d).history == r.history
    r.plot(tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 1000


def test_compare_table_files_and_figure(small_data, tmp_path):
    c = pj.compare(["xavier", "he"], seeds=(0, 1), data=small_data, epochs=2, target=0.5, hidden=(16,),
                   plot=tmp_path / "c.png", json_path=tmp_path / "c.json", csv_path=tmp_path / "c.csv", **B)
    rows = c.rows()
    assert [r["init"] for r in rows] == ["xavier", "he"] and all(r["runs"] == 2 for r in rows)
    t = c.table()
    assert t.count("\n") == 3 and "| he |" in t and "±" in t
    assert (tmp_path / "c.png").stat().st_size > 1000
    assert len((tmp_path / "c.csv").read_text().splitlines()) == 1 + 2 * 2 * 2
    assert pj.Comparison.from_dict(json.loads((tmp_path / "c.json").read_text())).rows() == rows
    with pytest.raises(ValueError, match="inits must hold at least one"):
        pj.compare([], data=small_data, **B)


def _cli(*args):
    env = dict(os.environ, PYJINIT_BACKEND="numpy")
    return subprocess.run([sys.executable, "-m", "pyjinit", *args], capture_output=True, text=True, env=env, timeout=600)


def test_cli_train_and_compare(mnist_dir, tmp_path):
    p = _cli("train", "--init", "xavier", "--epochs", "2", "--hidden", "16", "--data-dir", str(mnist_dir), "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["config"]["init"] == "xavier" and len(d["history"]) == 2
    p = _cli("compare", "--inits", "he", "orthogonal", "--seeds", "0", "--epochs", "1", "--hidden", "16",
             "--data-dir", str(mnist_dir), "--plot", str(tmp_path / "p.svg"), "--csv", str(tmp_path / "p.csv"))
    assert p.returncode == 0, p.stderr
    assert "| orthogonal |" in p.stdout and (tmp_path / "p.svg").is_file()
    p = _cli("train", "--epochs", "1", "--hidden", "8", "--optimizer", "sgd", "--lr", "1e38", "--momentum", "0.9",
             "--data-dir", str(mnist_dir))
    assert p.returncode == 3 and "diverged at epoch 1" in p.stdout


def test_cli_deep_preset_yields_to_explicit_options():
    from pyjinit.cli import _train_kwargs, build_parser

    a = build_parser().parse_args(["compare", "--deep", "--activation", "relu", "--lr", "0.05"])
    kw = _train_kwargs(a)
    assert kw["activation"] == "relu" and kw["lr"] == 0.05 and kw["hidden"] == (256,) * 20 and kw["optimizer"] == "sgd"
    assert _train_kwargs(build_parser().parse_args(["compare", "--deep"]))["activation"] == "tanh"


@pytest.mark.parametrize("args,code,msg", [
    (["train", "--data-dir", "/nonexistent/mnist"], 4, "missing train-images-idx3-ubyte"),
    (["train", "--activation", "swish"], 2, "invalid choice"),
    (["train", "--init", "kaiming_gauss", "--epochs", "1"], 2, "must be an initializer name"),
    (["compare", "--seeds"], 2, "expected at least one argument"),
])
def test_cli_errors(args, code, msg, mnist_dir):
    if "--init" in args:
        args = args + ["--data-dir", str(mnist_dir)]
    p = _cli(*args)
    assert p.returncode == code, (p.stdout, p.stderr)
    assert msg in p.stderr and "Traceback" not in p.stderr


def test_flux_training_matches_numpy_start(juliacall_jl, small_data):
    """Where Julia >= 1.10 with Flux runs: the Flux run starts from the same weights and sees the same
    batches, so its first-epoch loss is the NumPy one up to float32 summation order."""
    a = pj.train(*small_data, hidden=(32,), epochs=2, seed=5, backend="julia", verbose=False)
    b = pj.train(*small_data, hidden=(32,), epochs=2, seed=5, **B)
    assert a.backend == "julia"
    assert math.isclose(a.history[0]["train_loss"], b.history[0]["train_loss"], rel_tol=1e-3)
    assert abs(a.final_accuracy - b.final_accuracy) <= 0.02


JULIA_DRAW_CASES = ("he", "uniform", "keras.he_normal", "orthogonal", "sparse", "torch.kaiming_uniform")
DRAW_KWARGS = {"sparse": {"sparsity": 0.5}}           # sparse needs its sparsity (no hidden default)


def test_julia_draws_are_the_trainers_weights():
    """Flux training gets, per layer, a JInit function and its arguments (JInit makes the weight from the layer's
    key itself, no array crosses from Python): with the NumPy backend's twin of each, they are the NumPy
    trainer's initial weights; lsuv and pretrained arrays have none (their weights go over as arrays)."""
    from pyjinit.inits import numpy_backend as nb

    shapes = [(32, 784), (10, 32)]
    for init in JULIA_DRAW_CASES:
        kw = DRAW_KWARGS.get(init)
        draws = T.julia_draws(shapes, init, kw)
        ws = T.initial_weights([784, 32, 10], init, kw, 5, backend="numpy")
        for l, ((name, kw), shape, w) in enumerate(zip(draws, shapes, ws), start=1):
            got = nb.INITIALIZERS[name](shape, np.dtype("float32"), pj.param_key(5, l, 0), **kw)
            assert np.array_equal(got, w), (init, l)
    assert T.julia_draws(shapes, "lsuv", None) is None
    assert T.julia_draws(shapes, [np.zeros(s, np.float32) for s in shapes], None) is None


def test_julia_draws_made_by_jinit_equal_the_trainers_weights(julia):
    """The same draws computed by JInit (a Julia subprocess): the Flux network's starting weights."""
    from pyjinit.julia.process import Call, run_calls

    shapes = [(32, 784), (10, 32)]
    calls, expect = [], []
    for init in JULIA_DRAW_CASES:
        ws = T.initial_weights([784, 32, 10], init, DRAW_KWARGS.get(init), 5, backend="numpy")
        for l, ((name, kw), shape) in enumerate(zip(T.julia_draws(shapes, init, DRAW_KWARGS.get(init)), shapes),
                                                start=1):
            calls.append(Call(name, shape, "float32", pj.param_key(5, l, 0), kw))
            expect.append((init, ws[l - 1]))
    from pyjinit.inits.stream import qr_tolerance

    for (init, w), got in zip(expect, run_calls(calls, julia=julia)):
        # docs/stream.md: bitwise, or within 1 ulp where log/exp enter (normals' fallback), QR rounding for orthogonal
        tol = qr_tolerance(w.dtype) if init == "orthogonal" else np.spacing(np.abs(w)).astype(np.float64)
        assert np.all(np.abs(got.astype(np.float64) - w) <= tol), init
