"""The NumPy CNN: gradients against central finite differences (float64), equality of its convolution with
PyTorch's Conv2d on the same weights, and training through the trainer."""
import numpy as np
import pytest

import pyjinit as pj
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
