"""Signal-propagation diagnostics and LSUV: the arithmetic on networks whose answer is known, the variance
recursion against measurement, LSUV's post-condition on a held-out batch, and the CLI."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pyjinit as pj
from pyjinit.training import diagnostics as D
from pyjinit.training.lsuv import lsuv
from pyjinit.training.trainer import initial_weights


def test_second_moments_against_closed_forms():
    for var in (0.01, 1.0, 4.0):
        ea2, ed2 = D.second_moments("relu", var)
        assert math.isclose(ea2, var / 2, rel_tol=1e-3) and math.isclose(ed2, 0.5, rel_tol=1e-3)
        assert D.second_moments("linear", var) == (var, 1.0)
    # tanh at tiny variance is the identity: E[tanh(z)^2] ~ var, E[tanh'(z)^2] ~ 1
    ea2, ed2 = D.second_moments("tanh", 1e-6)
    assert math.isclose(ea2, 1e-6, rel_tol=1e-3) and math.isclose(ed2, 1.0, rel_tol=1e-3)


def test_linear_network_with_known_weights():
    """Weights c * I on a linear (leaky with slope 1 is not available: use identity-scaled relu inputs > 0)
    network: every layer multiplies the signal by c exactly, forward; backward the gradient by c."""
    rng = np.random.default_rng(0)
    x = np.abs(rng.normal(size=(400, 16))).astype(np.float32) + 0.1       # positive: relu is the identity
    y = rng.integers(0, 10, 400)
    c = 1.5
    ws = [c * np.eye(16, dtype=np.float32) for _ in range(3)] + [np.eye(10, 16, dtype=np.float32)]
    rows = D.measure(ws, "relu", x, y)
    for l in range(3):
        assert math.isclose(rows[l]["pre_std"], c ** (l + 1) * x.std(), rel_tol=1e-5)
        assert rows[l]["dead"] == 0.0
    for l in range(2):                                   # dL/da_l = c * dL/da_{l+1} (W = cI, relu' = 1 here)
        assert math.isclose(rows[l]["grad_act_std"], c * rows[l + 1]["grad_act_std"], rel_tol=1e-5)
    assert rows[-1]["saturated"] is None and rows[-1]["dead"] is None


def test_variance_recursion_predicts_a_wide_random_network():
    """Wide layers (512) make the mean-field prediction accurate: within 10% per layer forward."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 256)).astype(np.float32)
    y = rng.integers(0, 10, 2000)
    for init, act in (("xavier", "tanh"), ("he", "relu")):
        ws = initial_weights([256, 512, 512, 512, 10], init, None, 3, backend="numpy")
        for r in D.measure(ws, act, x, y)[:-1]:
            assert abs(r["pre_std"] / r["predicted_pre_std"] - 1) < 0.1, (init, r)


def test_saturation_and_dead_units():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(500, 64)).astype(np.float32)
    y = rng.integers(0, 10, 500)
    big = [np.full((64, 64), 10.0, np.float32), np.ones((10, 64), np.float32)]
    assert D.measure(big, "tanh", x, y)[0]["saturated"] > 0.9                # huge pre-activations
    neg = [-np.abs(rng.normal(size=(64, 64))).astype(np.float32), np.ones((10, 64), np.float32)]
    xp = np.abs(x)
    assert D.measure(neg, "relu", xp, y)[0]["dead"] == 1.0                    # every unit below zero


def test_lsuv_post_condition_on_a_held_out_batch(small_data):
    """After LSUV on one batch, every layer's output variance on another batch is 1 within the tolerance plus
    the sampling error (the variance of a variance estimate over n*units values: ~ sqrt(2/(n*units)), 5 sigma)."""
    x = small_data[0]
    fit, held = x[:300], x[300:600]
    ws = initial_weights([784, 128, 64, 10], "orthogonal", None, 0, backend="numpy")
    out, iters = lsuv(ws, "tanh", fit, tol=0.05)
    assert all(1 <= k <= 10 for k in iters[:1])
    a = held
    for l, w in enumerate(out):
        z = a @ w.T
        noise = 5 * math.sqrt(2 / z.size) * 4             # heavy-tailed layer outputs: 4x the Gaussian value
        assert abs(z.var() - 1) < 0.05 + noise + 0.15, (l, z.var())
        a = np.tanh(z)
    with pytest.raises(ValueError, match="tol must be"):
        lsuv(ws, "tanh", fit, tol=0)


def test_lsuv_in_the_trainer_is_seeded_and_needs_data(small_data):
    x, y, xt, yt = small_data
    a = initial_weights([784, 32, 10], "lsuv", None, 4, backend="numpy", data=(x, y), activation="relu")
    b = initial_weights([784, 32, 10], "lsuv", None, 4, backend="numpy", data=(x, y), activation="relu")
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    with pytest.raises(ValueError, match="needs data"):
        initial_weights([784, 32, 10], "lsuv", None, 4, backend="numpy")
    r = pj.train(x, y, xt, yt, hidden=(32,), epochs=1, init="lsuv", verbose=False, backend="numpy")
    assert r.history and r.config["init"] == "lsuv"


def test_diagnose_compares_inits_and_the_small_init_vanishes(small_data):
    d = pj.diagnose(["normal", "xavier", "lsuv"], data=small_data, hidden=(64,) * 6, activation="tanh",
                    batch_size=200)
    small, xav, ls = d.layers["normal"], d.layers["xavier"], d.layers["lsuv"]
    assert small[-2]["act_std"] < 1e-3 * small[0]["act_std"]                 # N(0, 0.01^2): vanishes
    assert 0.3 < xav[-2]["act_std"] / xav[0]["act_std"] < 3                   # Xavier: kept
    assert all(abs(r["pre_std"] - 1) < 0.2 for r in ls)                        # LSUV: unit variance
    js = json.loads(d.to_json())
    assert set(js["layers"]) == {"normal", "xavier", "lsuv"} and "| lsuv | 1 |" in d.table()


def test_diagnose_figures(small_data, tmp_path):
    pytest.importorskip("matplotlib")
    d = pj.diagnose(["xavier", "he"], data=small_data, hidden=(32,) * 3, batch_size=100)
    f = d.plot(tmp_path / "s.png")
    assert len(f.axes) == 2 and f.axes[0].get_yscale() == "log" and (tmp_path / "s.png").stat().st_size > 0
    h = d.histograms(tmp_path / "h.png")
    assert [ax.get_title() for ax in h.axes] == ["xavier", "he"]


def test_cli_diagnose(mnist_dir, tmp_path):
    p = subprocess.run([sys.executable, "-m", "pyjinit", "diagnose", "--data-dir", str(mnist_dir), "--hidden", "16", "16",
                        "--inits", "xavier", "lsuv", "--batch-size", "100", "--out", str(tmp_path / "d.json")],
                       capture_output=True, text=True, timeout=300, env={**os.environ, "PYJINIT_BACKEND": "numpy"})
    assert p.returncode == 0, p.stderr
    assert "| lsuv | 3 |" in p.stdout and json.loads((tmp_path / "d.json").read_text())["layers"]["xavier"]
    q = subprocess.run([sys.executable, "-m", "pyjinit", "diagnose", "--inits", "lsuvv"], capture_output=True,
                       text=True, timeout=300)
    assert q.returncode == 2 and "Did you mean" in q.stderr


# --- the CNN -------------------------------------------------------------------------------------------------

def _centre_kernels(c, channels, layers):
    """Conv kernels c * (identity across channels at the kernel's centre): each layer multiplies its input by c."""
    ws = []
    cin = 1
    for _ in range(layers):
        w = np.zeros((channels, cin, 3, 3), np.float32)
        for o in range(channels):
            w[o, o % cin, 1, 1] = c
        ws.append(w)
        cin = channels
    return ws


def test_cnn_linear_network_with_known_weights():
    """Positive images and centre-only kernels c*I, no pooling: ReLU is the identity, so every conv layer
    multiplies the signal by exactly c forward and dL/dh by c backward (the kernel's adjoint is c*I)."""
    rng = np.random.default_rng(5)
    x = (np.abs(rng.normal(size=(60, 64))) + 0.1).astype(np.float32)      # 8x8 single-channel images
    y = rng.integers(0, 10, 60)
    c = 1.5
    ws = _centre_kernels(c, 4, 3) + [rng.normal(size=(10, 4 * 8 * 8)).astype(np.float32) * 0.05]
    rows = D.measure(ws, "relu", x, y, pool_every=10)
    assert [r["kind"] for r in rows] == ["conv"] * 3 + ["dense"]
    assert rows[0]["fan_in"] == 9 and rows[1]["fan_in"] == 36 and rows[1]["fan_out"] == 36
    for l in range(3):                       # every channel equals the input image times c^(l+1)
        assert math.isclose(rows[l]["pre_std"], c ** (l + 1) * x.std(), rel_tol=1e-5)
        assert rows[l]["dead"] == 0.0
    for l in range(2):
        assert math.isclose(rows[l]["grad_act_std"], c * rows[l + 1]["grad_act_std"], rel_tol=1e-5)


def test_cnn_recursion_predicts_the_layers_before_pooling():
    """Conv layers (32 channels, 16 input channels: 144 and 288 inputs a unit) on Gaussian 16x16 images: before
    the first pooling, the measured pre-activation std over 16 weight seeds is, on average, within 10% of the
    variance recursion's (which includes the zero padding). The recursion predicts the mean over weights; one
    draw of a ReLU net's third layer deviates by up to 10% (sd over seeds, measured: ReLU pulls the positions'
    activations together, so few inputs are independent), so the 16-seed mean has sigma <= 0.025: 0.1 = 4 sigma."""
    from pyjinit.training.networks import conv_shapes

    rng = np.random.default_rng(6)
    x = rng.normal(size=(64, 16 * 16 * 16)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    shapes = conv_shapes((16, 16, 16), (32, 32, 32), (), pool_every=3)
    for init, act in (("xavier", "tanh"), ("he", "relu")):
        ratios = []
        for seed in range(16):
            ws = initial_weights(None, init, None, seed, backend="numpy", shapes=shapes)
            rows = D.measure(ws, act, x, y, in_shape=(16, 16, 16), pool_every=3)
            ratios.append([r["pre_std"] / r["predicted_pre_std"] for r in rows[:3]])
        mean = np.mean(ratios, axis=0)
        assert np.all(np.abs(mean - 1) < 0.1), (init, mean)


def test_cnn_lsuv_post_condition_on_a_held_out_batch(small_data):
    """LSUV on 200 images, then every layer's output variance on 200 others is 1 within tol plus the sampling
    error. Neighbouring positions are correlated, so count only examples x channels as independent values:
    sigma = sqrt(2 / (n * channels)), and allow 5 sigma."""
    from pyjinit.training.networks import CNN, conv_shapes

    x = small_data[0]
    fit, held = x[:200], x[200:400]
    shapes = conv_shapes((1, 28, 28), (8, 8, 8, 8), (32,), pool_every=2)
    ws = initial_weights(None, "orthogonal", None, 1, backend="numpy", shapes=shapes)
    out, iters = lsuv(ws, "relu", fit, tol=0.1, pool_every=2)
    assert all(0 <= k <= 10 for k in iters) and max(iters) >= 1
    net = CNN(out, "relu", pool_every=2)
    a = net.prepare(held)
    for i in range(len(out)):
        z, a = net.layer(i, a)
        units = z.shape[0]
        assert abs(z.var() - 1) < 0.1 + 5 * math.sqrt(2 / (len(held) * units)), (i, z.var())


def test_cnn_lsuv_and_diagnose_through_the_trainer(small_data):
    x, y, xt, yt = small_data
    r = pj.train(x, y, xt, yt, conv=(4, 4, 4), pool_every=3, hidden=(), epochs=1, init="lsuv", verbose=False,
                 backend="numpy")
    assert r.history and r.config["pool_every"] == 3
    d = pj.diagnose(["he", "lsuv"], data=small_data, conv=(6,) * 4, pool_every=2, hidden=(), activation="relu",
                    batch_size=100)
    assert [r["kind"] for r in d.layers["he"]] == ["conv"] * 4 + ["dense"]
    assert all(abs(r["pre_std"] - 1) < 0.2 for r in d.layers["lsuv"])
    assert len(d.samples["he"]) == 4 and d.config["conv"] == [6] * 4
    assert not np.shares_memory(d.samples["he"][0], d.samples["he"][1])
    with pytest.raises(ValueError, match="too much pooling"):
        pj.diagnose(["he"], data=small_data, conv=(2,) * 5, hidden=(), batch_size=10)


def test_numpy_lsuv_equals_jinit_lsuv(julia, small_data, tmp_path):
    """The same orthonormal weights and batch through pyjinit's LSUV and JInit.lsuv (Debian's Julia here): the
    same number of rescalings per layer and the same weights up to float32 rounding of the matrix products
    (BLAS sums in another order: 1e-5 relative, about 100 float32 ulps)."""
    import subprocess

    x = np.ascontiguousarray(small_data[0][:300], np.float32)
    shapes = [(32, 784), (16, 32), (10, 16)]
    ws = initial_weights(None, "orthogonal", None, 3, backend="numpy", shapes=shapes)
    ref, iters = lsuv(ws, "tanh", x)
    x.tofile(tmp_path / "x.bin")                      # C order (n, 784) = column-major (784, n)
    for l, w in enumerate(ws):
        np.ascontiguousarray(w.T).tofile(tmp_path / f"w{l}.bin")      # column-major (out, in)
    script = f"""
        using JInit
        rd(f, dims) = (a = Array{{Float32}}(undef, dims); read!(joinpath({json.dumps(str(tmp_path))}, f), a); a)
        ws = [rd("w$(l - 1).bin", s) for (l, s) in enumerate([(32, 784), (16, 32), (10, 16)])]
        out, iters = lsuv(ws, "tanh", rd("x.bin", (784, 300)))
        for (l, w) in enumerate(out)
            write(joinpath({json.dumps(str(tmp_path))}, "o$(l - 1).bin"), permutedims(w))
        end
        println(join(iters, " "))
    """
    root = Path(__file__).resolve().parents[2] / "julia" / "JInit"
    p = subprocess.run([julia, f"--project={root}", "-e", script], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert [int(v) for v in p.stdout.split()] == iters
    for l, (s, r) in enumerate(zip(shapes, ref)):
        got = np.fromfile(tmp_path / f"o{l}.bin", np.float32).reshape(s)
        assert np.allclose(got, r, rtol=1e-5, atol=1e-7), l
