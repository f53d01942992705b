"""The block API: any block of an elementwise initializer equals the same slice of the whole array, in
NumPy (bitwise, every dtype, both layouts, framework names) and in JInit (Julia subprocess) against NumPy."""
import numpy as np
import pytest

import pyjinit as pj
from pyjinit.inits import numpy_backend as nb
from pyjinit.julia.process import Call, run_calls

B = {"backend": "numpy"}
NAMES = [("uniform", {"low": -1.0, "high": 2.0}), ("normal", {"std": 3.0}), ("truncated_normal", {"lo": -0.3, "hi": 0.8}),
         ("he_uniform", {}), ("kaiming_normal", {"mode": "fan_out"}), ("xavier_normal", {}), ("lecun_uniform", {}),
         ("variance_scaling", {"mode": "fan_avg", "distribution": "uniform"}), ("constant", {"value": 0.25}),
         ("zeros", {}), ("keras.he_normal", {}), ("torch.kaiming_uniform", {"a": 5 ** 0.5}), ("jax.glorot_uniform", {}),
         ("flux.kaiming_uniform", {})]


def random_index(rng, shape):
    out = []
    for n in shape:
        a = int(rng.integers(0, n + 1))
        out.append(slice(a, int(rng.integers(a, n + 1))))
    return tuple(out)


@pytest.mark.parametrize("name,kw", NAMES, ids=[n for n, _ in NAMES])
@pytest.mark.parametrize("layout", ["torch", "keras"])
def test_any_block_equals_the_slice(name, kw, layout):
    rng = np.random.default_rng(abs(hash((name, layout))) % 2 ** 32)
    for shape in [(9, 7), (4, 3, 5, 2), (6, 5, 3)] + ([(11,)] if name.split(".")[-1] in ("uniform", "normal",
                                                     "truncated_normal", "constant", "zeros") else []):
        for dtype in ("float16", "float32", "float64"):
            full = pj.init(name, shape, seed=3, dtype=dtype, layout=layout, **kw, **B)
            for _ in range(4):
                idx = random_index(rng, shape)
                blk = pj.init_block(name, shape, idx, seed=3, dtype=dtype, layout=layout, **kw, **B)
                assert blk.shape == full[idx].shape and np.array_equal(blk, full[idx]), (shape, dtype, idx)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_a_tile_of_many_rows_equals_the_slice_bitwise(dtype):
    """Normals of a tile are mapped for all its rows at once (stream.normal_runs): 290 rows of 986 elements,
    starting at every alignment, include about 4300 wedge and tail elements (1.5%), whose fallback is keyed by
    the element index; the tile equals the slice bit for bit (signed zeros included)."""
    shape, idx = (300, 1000), (slice(3, 293), slice(7, 993))
    full = pj.init("normal", shape, seed=5, dtype=dtype, std=2.0, mean=0.1, **B)
    blk = pj.init_block("normal", shape, idx, seed=5, dtype=dtype, std=2.0, mean=0.1, **B)
    assert np.array_equal(blk.view(np.uint8), np.ascontiguousarray(full[idx]).view(np.uint8))


def test_index_forms():
    w = pj.he_init((6, 4, 3), seed=2, **B)
    assert np.array_equal(pj.init_block("he", (6, 4, 3), (slice(-2, None),), seed=2, **B), w[-2:])
    assert np.array_equal(pj.init_block("he", (6, 4, 3), ((1, 3), 2), seed=2, **B), w[1:3, 2:3])
    assert pj.init_block("he", (6, 4, 3), (slice(2, 2),), seed=2, **B).shape == (0, 4, 3)


@pytest.mark.parametrize("args, msg", [
    (("orthogonal", (4, 4), (slice(0, 2),)), "orthogonal has no block form"),
    (("sparse", (4, 4), (slice(0, 2),)), "sparse has no block form"),
    (("identity", (4, 4), (slice(0, 2),)), "identity has no block form"),
    (("he", (4, 4), (slice(0, 2, 2),)), "must have step 1"),
    (("he", (4, 4), (slice(0, 2), slice(0, 1), slice(0, 1))), "3 entries for an array of 2 dimensions"),
    (("he", (4, 4), ((0, 5),)), "0 <= start <= stop <= 4"),
])
def test_block_errors(args, msg):
    with pytest.raises(ValueError, match=msg):
        pj.init_block(*args, seed=1, **({"sparsity": 0.5} if args[0] == "sparse" else {}), **B)
    with pytest.raises(ValueError, match="seed is required"):
        pj.init_block("he", (4, 4), (slice(0, 2),), seed=None, **B)


def test_julia_blocks_equal_numpy_blocks(julia):
    rng = np.random.default_rng(8)
    calls, expect = [], []
    for name, kw in [("uniform_init", {"low": -0.5, "high": 0.5}), ("he_init", {"distribution": "uniform"}),
                     ("xavier_init", {}), ("normal_init", {"std": 0.1}), ("truncated_normal_init", {"lo": -1.0, "hi": 0.5}),
                     ("constant_init", {"value": 2.0})]:
        for shape in [(37, 23), (6, 5, 3, 3), (9, 4, 7)]:
            for dtype in ("float32", "float64"):
                idx = tuple((s.start, s.stop) for s in random_index(rng, shape))
                calls.append(Call(name, shape, dtype, 21, kw, index=idx))
                expect.append(nb.block(name, shape, np.dtype(dtype), 21, idx, **kw))
    calls.append(Call("orthogonal_init", (4, 4), "float32", 1, {}, index=((0, 2), (0, 4))))
    got = run_calls(calls, julia=julia)
    for c, g, e in zip(calls, got, expect):
        assert g.shape == e.shape, c
        ulp = np.spacing(np.abs(e)).astype(np.float64) * (8 if c.dtype == "float64" else 1)
        exact = c.name in ("uniform_init", "he_init", "xavier_init", "constant_init")
        assert np.array_equal(g, e) if exact else np.all(np.abs(g.astype(np.float64) - e) <= ulp), c
    assert "no block form" in got[-1]


def test_a_block_of_a_0d_array_is_its_element():
    for name in ("normal", "uniform", "truncated_normal"):
        assert pj.init_block(name, (), (), seed=1, backend="numpy") == pj.init(name, (), seed=1, backend="numpy")
