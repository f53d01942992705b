"""The NumPy CNN: gradients against central finite differences (float64), equality of its convolution with
PyTorch's Conv2d on the same weights, max-pooling's backward pass at ties (one element per window, NNlib's
rule: Flux's), and training through the trainer."""
import numpy as np
import pytest

import pyjinit as pj
from pyjinit.training import networks
from pyjinit.training.networks import CNN, conv_shapes, logitcrossentropy


@pytest.mark.parametrize("activation", ["tanh", "relu", "gelu"])
def test_gradients_match_finite_differences(activation):
    """float64, eps 1e-6: central differences have truncation error O(eps^2) (negligible) and round-off error
    about c u |L| / (2 eps), u = 2^-52, from the two loss evaluations (c: the rounding errors a loss accumulates,
    under 64 for this small network, whatever the BLAS's summation order). Tolerance 1e-5 relative plus that
    absolute round-off bound (about 1.6e-8 here; a fixed 1e-9 failed with some BLAS builds). Kinks of
    relu/max-pool are hit with probability ~0 at random points."""
    rng = np.random.default_rng(3)
    shapes = conv_shapes((2, 8, 6), (3, 4), (5,))
    ws = [pj.he_init(s, seed=i, dtype="float64", backend="numpy") for i, s in enumerate(shapes)]
    net = CNN(ws, activation, (2, 8, 6), dtype=np.float64)
    for b in net.b:
        b[:] = rng.normal(scale=0.1, size=b.shape)
    x, y = rng.normal(size=(5, 96)), rng.integers(0, 10, 5)
    _, gw, gb = net.gradients(x, y)
    eps = 1e-6

    def loss():
        return logitcrossentropy(net.forward(x), y)[0]

    atol = 64 * np.finfo(np.float64).eps * abs(loss()) / (2 * eps)
    for params, grads in ((net.W, gw), (net.b, gb)):
        for p, g in zip(params, grads):
            for _ in range(6):
                idx = tuple(int(rng.integers(0, n)) for n in p.shape)
                old = p[idx]
                p[idx] = old + eps
                lp = loss()
                p[idx] = old - eps
                lm = loss()
                p[idx] = old
                num = (lp - lm) / (2 * eps)
                assert abs(num - g[idx]) <= 1e-5 * (abs(num) + abs(g[idx])) + atol, (p.shape, idx, num, g[idx])


def test_forward_equals_pytorch_on_the_same_weights():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    rng = np.random.default_rng(0)
    shapes = conv_shapes((1, 28, 28), (4, 6), (12,))
    ws = [pj.he_init(s, seed=i, backend="numpy") for i, s in enumerate(shapes)]
    net = CNN(ws, "relu")
    x = rng.random((3, 784), dtype=np.float32)
    m = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                            torch.nn.Conv2d(4, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                            torch.nn.Flatten(), torch.nn.Linear(6 * 7 * 7, 12), torch.nn.ReLU(), torch.nn.Linear(12, 10))
    with torch.no_grad():
        for layer, w in zip([l for l in m if hasattr(l, "weight")], ws):
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.zero_()
        ref = m(torch.from_numpy(x).reshape(3, 1, 28, 28)).numpy()
    assert np.allclose(net.forward(x), ref, rtol=1e-4, atol=1e-5)


def test_the_trainer_trains_a_cnn(small_data):
    # a fixed BLAS thread count: "auto" may pick another count on the second run, and rounding follows it
    kw = dict(conv=(4, 8), hidden=(16,), epochs=2, seed=1, verbose=False, backend="numpy", blas_threads=2)
    r = pj.train(*small_data, **kw)
    assert r.config["conv"] == [4, 8] and len(r.history) == 2
    assert r.history[-1]["train_loss"] < r.history[0]["train_loss"]
    again = pj.train(*small_data, **kw)
    assert again.history == [dict(h, seconds=a["seconds"]) for h, a in zip(r.history, again.history)]
    with pytest.raises(ValueError, match="square single-channel images"):
        pj.train(small_data[0][:, :700], small_data[1], small_data[2][:, :700], small_data[3], conv=(4,), epochs=1)
    with pytest.raises(ValueError, match="conv channels must be an integer >= 1"):
        pj.train(*small_data, conv=(0,), epochs=1)


def test_classes_other_than_ten(small_data):
    x, y, xt, yt = small_data
    r = pj.train(x, y % 2, xt, yt % 2, hidden=(8,), classes=2, epochs=1, verbose=False, backend="numpy")
    assert r.config["classes"] == 2 and r.history[0]["test_accuracy"] > 0.5
    with pytest.raises(ValueError, match="labels 0-1"):
        pj.train(x, y, xt, yt, hidden=(8,), classes=2, epochs=1, verbose=False, backend="numpy")


def _pool_grad(h, d):
    """_pool and _unpool on (C, H, W, N) arrays: (pooled, gradient of h)."""
    ws = networks._Workspace(h.dtype)
    p = networks._pool(h, ws, 0).copy()
    return p, networks._unpool(h, p, d, ws, 0).copy()


def _torch_pool_grad(torch, h, d):
    """torch.nn.functional.max_pool2d and its backward on the same (C, H, W, N) arrays (NCHW in torch)."""
    t = torch.from_numpy(np.ascontiguousarray(h.transpose(3, 0, 1, 2))).requires_grad_()
    y = torch.nn.functional.max_pool2d(t, 2)
    y.backward(torch.from_numpy(np.ascontiguousarray(d.transpose(3, 0, 1, 2))))
    return y.detach().numpy().transpose(1, 2, 3, 0), t.grad.numpy().transpose(1, 2, 3, 0)


@pytest.mark.parametrize("H,W", [(8, 6), (7, 9)])
def test_maxpool_backward_gives_each_window_one_element_as_pytorch(H, W):
    """ReLU of a coarse grid: most windows hold tied maxima (zeros, or equal positive values). Each window's
    gradient goes to one element, the first maximum in row-major window order, as torch's max_pool2d backward
    (the old backward gave it to every tied maximum); an odd last row/column gets none."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    rng = np.random.default_rng(7)
    h = np.maximum(rng.integers(-2, 3, (3, H, W, 16)), 0).astype(np.float32)
    d = rng.uniform(0.5, 1.5, (3, H // 2, W // 2, 16)).astype(np.float32)       # nonzero everywhere
    p, g = _pool_grad(h, d)
    tp, tg = _torch_pool_grad(torch, h, d)
    assert np.array_equal(p, tp) and np.array_equal(g, tg)
    win = g[:, :H // 2 * 2, :W // 2 * 2].reshape(3, H // 2, 2, W // 2, 2, 16)
    assert ((win != 0).sum(axis=(2, 4)) == 1).all()                      # one element per window
    assert np.array_equal(win.sum(axis=(2, 4)), d)                       # and it takes all of d
    assert not g[:, H // 2 * 2:].any() and not g[:, :, W // 2 * 2:].any()
    ties = (h[:, :H // 2 * 2, :W // 2 * 2].reshape(3, H // 2, 2, W // 2, 2, 16) == p[:, :, None, :, None]).sum(axis=(2, 4))
    assert (ties > 1).mean() > 0.3                                       # the case this test is about


def _nnlib_unpool(h, p, d):
    """NNlib's ∇maxpool_direct! for 2x2 windows, stride 2, as a loop: per window, the first element in
    (kh, kw) order, kw fastest, with isapprox(m, x) (|m - x| <= sqrt(eps) max(|m|, |x|), computed in the dtype)."""
    r = np.sqrt(np.finfo(h.dtype).eps, dtype=h.dtype)
    g = np.zeros_like(h)
    C, H2, W2, N = p.shape
    for c, i, j, n in np.ndindex(C, H2, W2, N):
        m = p[c, i, j, n]
        for a, b in ((0, 0), (0, 1), (1, 0), (1, 1)):
            x = h[c, 2 * i + a, 2 * j + b, n]
            if m == x or abs(m - x) <= r * max(abs(m), abs(x)):
                g[c, 2 * i + a, 2 * j + b, n] = d[c, i, j, n]
                break
    return g


@pytest.mark.parametrize("dtype,signed", [(np.float32, False), (np.float32, True), (np.float64, True)])
def test_maxpool_backward_is_nnlibs_at_near_ties(dtype, signed):
    """Elements within sqrt(eps) (relative) of the maximum count as tied, as NNlib's isapprox does: the first
    of them gets the gradient, even where it is slightly below the maximum (where PyTorch picks the maximum).
    Near ties at 0.2 sqrt(eps) (tied) and 5 sqrt(eps) (not) relative, of positive and (signed) negative values."""
    rng = np.random.default_rng(11)
    r = float(np.sqrt(np.finfo(dtype).eps))
    base = rng.integers(1, 4, (2, 6, 8, 8)).astype(np.float64) * (rng.choice([-1, 1], (2, 6, 8, 8)) if signed else 1)
    h = (base * (1 + r * rng.choice([0, 0.2, -0.2, 5, -5], base.shape))).astype(dtype)
    d = rng.uniform(0.5, 1.5, (2, 3, 4, 8)).astype(dtype)
    p, g = _pool_grad(h, d)
    assert np.array_equal(g, _nnlib_unpool(h, p, d))
    nearly = h.reshape(2, 3, 2, 4, 2, 8)
    assert ((g != 0).reshape(2, 3, 2, 4, 2, 8).sum(axis=(2, 4)) == 1).all()
    below = (g.reshape(2, 3, 2, 4, 2, 8) != 0) & (nearly < p[:, :, None, :, None])
    assert below.any()                           # some gradients went to an element ≈ but below the maximum


def test_cnn_gradients_equal_pytorchs_where_pooling_ties():
    """The whole CNN (conv, ReLU, max-pool, twice, then dense) against torch's autograd on the same weights and
    batch. Integer inputs and conv weights keep the convolutions exact in both, so the many tied maxima are
    tied in both; the first conv layer's weight gradient then agrees to float32 rounding (with every tied
    maximum taking the gradient, it did not)."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    rng = np.random.default_rng(5)
    shapes = conv_shapes((1, 12, 12), (4, 6), ())
    ws = [rng.integers(-1, 2, s).astype(np.float32) for s in shapes[:2]]
    ws.append(pj.he_init(shapes[2], seed=1, backend="numpy") * np.float32(0.05))
    x = rng.integers(0, 3, (16, 144)).astype(np.float32)
    y = rng.integers(0, 10, 16)
    net = CNN(ws, "relu", (1, 12, 12))
    loss, gw, _ = net.gradients(x, y)
    m = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                            torch.nn.Conv2d(4, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                            torch.nn.Flatten(), torch.nn.Linear(6 * 3 * 3, 10))
    layers = [l for l in m if hasattr(l, "weight")]
    with torch.no_grad():
        for layer, w in zip(layers, ws):
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.zero_()
    out = torch.nn.functional.cross_entropy(m(torch.from_numpy(x).reshape(16, 1, 12, 12)), torch.from_numpy(y))
    out.backward()
    assert abs(out.item() - loss) <= 1e-5 * abs(loss)
    for layer, g in zip(layers, gw):
        ref = layer.weight.grad.numpy()
        assert np.allclose(g, ref, rtol=1e-4, atol=1e-6 * np.abs(ref).max()), np.abs(g - ref).max() / np.abs(ref).max()
