"""Stream v3 keys (docs/stream.md §6): one derivation function, distinct keys for distinct inputs, and
parameters of real models whose values do not correlate with each other or with the batch order."""
import math

import numpy as np
import pytest

from pyjinit.inits import keys as K
from pyjinit.inits import stream as st


def test_philox_is_numpys_block_function():
    """The reference philox() is NumPy's Philox4x64-10 at any counter (NumPy increments before a block)."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        key = int(rng.integers(0, 2**63)) << 65 | int(rng.integers(0, 2**63))
        ctr = [int(v) for v in rng.integers(0, 2**63, 4, dtype=np.uint64)]
        c = sum(v << (64 * i) for i, v in enumerate(ctr))
        ref = np.random.Philox(key=key % (1 << 128), counter=(c - 1) % (1 << 256)).random_raw(4)
        assert K.philox(ctr, key % (1 << 128)) == tuple(int(v) for v in ref)


def test_vectorized_derivation_equals_the_scalar_one():
    for seed in (0, 5, 2**64 + 5, 2**128 - 1):
        m = K.derive_many(seed, "param", np.arange(50), np.arange(50) % 3)
        got = [int(a) | int(b) << 64 for a, b in m]
        assert got == [K.derive(seed, "param", i, i % 3) for i in range(50)]


def test_the_old_collisions_are_gone():
    """v2: param_seed(s, l, 1) == param_seed(s, l + 1, 0) and param_seed(5, 3, 2) == param_seed(5, 5, 0)."""
    assert K.param_key(0, 1, 1) != K.param_key(0, 2, 0)
    assert K.param_key(5, 3, 2) != K.param_key(5, 5, 0)
    assert K.param_key(5, 1, 0) != K.param_key(5 + (1 << 64), 1, 0)


def test_a_million_keys_are_distinct():
    """10^6 keys over (seed, layer, parameter, tag, epoch), seeds 0, 1, 2^64, 2^65, 2^64 + 1, 2^128 - 2^64
    (differing by multiples of 2^64, as v2's substreams did), and the seeds themselves: all distinct. v2's
    seed + i 2^64 gave hundreds of thousands of equal pairs on the same grid."""
    seeds = (0, 1, 1 << 64, 1 << 65, (1 << 64) + 1, (1 << 128) - (1 << 64))
    parts = []
    l, j = np.meshgrid(np.arange(1, 411), np.arange(0, 400), indexing="ij")
    for s in seeds:
        parts.append(K.derive_many(s, "param", l.ravel(), j.ravel()))          # 164,000 per seed
        parts.append(K.derive_many(s, "epoch", np.arange(0, 5000)))
    for t in ("bias", "sparse", "diagnose", "subset"):
        parts.append(K.derive_many(1, t, np.zeros(1, np.uint64)))
    allk = np.concatenate(parts + [np.array([[s & K.M64, s >> 64] for s in seeds], np.uint64)])
    assert len(allk) >= 10**6
    assert len(np.unique(allk, axis=0)) == len(allk)
    # the same grid under v2's rule collides massively: the test can fail
    v2 = {(s + (l_ << 64) + ((j_ << 64) if j_ else 0)) % (1 << 128) for s in seeds[:2] for l_ in range(1, 50)
          for j_ in range(0, 50)}
    assert len(v2) < 2 * 49 * 50


def test_derive_checks_its_arguments():
    with pytest.raises(ValueError, match="stream must be one of param"):
        K.derive(0, "weights", 1)
    with pytest.raises(ValueError, match="at most 3 indices"):
        K.derive(0, "param", 1, 2, 3, 4)
    with pytest.raises(ValueError, match=r"index must be an integer in \[0, 2\^64\)"):
        K.derive(0, "param", -1)
    with pytest.raises(ValueError, match="seed"):
        K.derive(-1, "param", 1)
    assert K.tag("param") == int.from_bytes(b"param\0\0\0", "little") and all(K.tag(t) for t in K.STREAMS)


def test_name_keys_depend_on_every_byte_and_the_length():
    names = ["w", "w\0", "layers.5.attn.wq.weight", "layers.5.attn.wk.weight", "x" * 24, "x" * 25, "x" * 48, ""]
    ks = [K.name_key(7, n) for n in names]
    assert len(set(ks)) == len(ks)
    assert K.name_key(7, "a") != K.name_key(8, "a")


def test_vectors_file_matches():
    """The v3 key vectors in stream_vectors.txt (checked by Julia too) are what this module derives."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "julia" / "JInit" / "test" / "stream_vectors.txt"
    n = 0
    for line in path.read_text().splitlines():
        f = line.split()
        if f and f[0] == "derive":
            idx = [] if f[3] == "-" else [int(v) for v in f[3].split(",")]
            assert K.derive(int(f[1]), f[2], *idx) == int(f[4], 16)
            n += 1
        elif f and f[0] == "namekey":
            assert K.name_key(int(f[1]), "" if f[2] == "-" else f[2]) == int(f[3], 16)
            n += 1
    assert n >= 15


# --- independence on real models ------------------------------------------------------------------------------

def _standardized(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, np.float64).ravel()
    s = a.std()
    return (a - a.mean()) / s if s > 0 else None


def _max_abs_corr(vectors: dict, n_cap: int = 4096):
    """The largest |Pearson correlation| between the first m elements of any two (standardized) vectors, m the
    shorter length (capped), with its pair and m. Two independent vectors of length m have correlation ~ N(0, 1/m)."""
    items = [(k, v) for k, v in vectors.items() if v is not None and len(v) >= 16]
    worst = (0.0, None, None)
    for a in range(len(items)):
        for b in range(a + 1, len(items)):
            (ka, va), (kb, vb) = items[a], items[b]
            m = min(len(va), len(vb), n_cap)
            x, y = va[:m] - va[:m].mean(), vb[:m] - vb[:m].mean()
            den = math.sqrt(float(x @ x) * float(y @ y))
            if den == 0:
                continue
            r = abs(float(x @ y) / den)
            z = r * math.sqrt(m)                   # in sigmas
            if z > worst[0]:
                worst = (z, (ka, kb), m)
    return worst


def _models():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    cnn = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
                        nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
    lstm = nn.LSTM(32, 64, num_layers=2)
    tr = nn.Transformer(d_model=32, nhead=4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=64)
    return {"mlp": mlp, "cnn": cnn, "lstm": lstm, "transformer": tr}


@pytest.mark.parametrize("preset", ["torch", "keras", "flax", "flux"])
def test_no_two_parameters_of_real_models_correlate(preset):
    """Every random parameter of the MNIST MLP, the CNN, an LSTM and a torch.nn.Transformer, under each preset:
    no pair of parameters (and no parameter and the epoch-1 batch order's words) correlates beyond 6 sigma
    (|r| sqrt(m) < 6 for the first m = min(lengths, 4096) elements; with a few thousand pairs per model, the
    largest of independent pairs is about 4.5 sigma). v2 gave layer 1's bias and layer 2's weight of the MLP
    r = 0.99999999 (thousands of sigma) under preset "torch"."""
    import pyjinit.torch as pt

    for mname, model in _models().items():
        pt.initialize(model, preset=preset, seed=0, strict=False)
        vecs = {n: _standardized(p.detach().numpy()) for n, p in model.named_parameters()}
        vecs = {n: v for n, v in vecs.items() if v is not None and np.unique(v).size > 2}      # random ones
        order_words = st.words(K.epoch_key(0, 1), 4096).astype(np.float64)
        vecs["epoch-1 batch order words"] = _standardized(order_words)
        z, pair, m = _max_abs_corr(vecs)
        assert z < 6.0, f"{mname}/{preset}: {pair} correlate at {z:.1f} sigma over {m} elements"


def test_the_correlation_check_can_fail():
    """v2's rule, rebuilt here: layer 1's bias (substream 1 of layer 1's seed) is layer 2's weight stream."""
    import pyjinit as pj

    s = 0
    v2_l1_bias = pj.uniform_init((128,), -1, 1, seed=(s + (1 << 64) + (1 << 64)) % (1 << 128), backend="numpy")
    v2_l2_weight = pj.uniform_init((64, 128), -0.3, 0.3, seed=(s + (2 << 64)) % (1 << 128), backend="numpy")
    z, _, m = _max_abs_corr({"b": _standardized(v2_l1_bias), "w": _standardized(v2_l2_weight)})
    assert m == 128 and z > 0.999 * math.sqrt(m) > 6.0        # r > 0.999: a rescaled copy
