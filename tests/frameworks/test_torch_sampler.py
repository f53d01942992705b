"""pyjinit.frameworks.torch_sampler against the NumPy backend (the reference: pyjinit.inits.stream).

On the CPU every draw is bitwise the NumPy backend's (the module docstring's table): each kind x dtype at random
keys (up to 2^128 - 1) and starts, blocks of random shapes (fill_block_ against slices of the NumPy full array)
into contiguous and strided tensors, and enough normals that the ziggurat's fallback (wedges and tail, float32
and float64) runs, which the tests count. The Triton kernels are checked against the eager path under Triton's
interpreter when Triton is installed and there is no GPU, and on CUDA against the CPU (bench/gpu.py runs these).
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed")

from pyjinit.inits import numpy_backend as nb  # noqa: E402
from pyjinit.inits import stream, ziggurat  # noqa: E402
from pyjinit.frameworks import torch_sampler as ts  # noqa: E402

DTYPES = [torch.float64, torch.float32, torch.float16, torch.bfloat16]
NP_DTYPE = {torch.float64: np.float64, torch.float32: np.float32, torch.float16: np.float16,
            torch.bfloat16: np.float32}
PARAMS = {
    "uniform": {"low": -0.3, "high": 0.7},
    "normal": {"mean": 0.5, "std": 2.0},
    "truncated_normal": {"mean": 0.1, "std": 1.5, "lo": -1.0, "hi": 2.5},
}
KINDS = list(PARAMS)
KEYS = [0, 1, 42, 2 ** 64 + 5, 2 ** 128 - 1, 0x0123456789ABCDEF0FEDCBA987654321]
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _tensor(a: np.ndarray, dtype) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(a))
    return t.to(torch.bfloat16) if dtype == torch.bfloat16 else t


def ref_at(kind, p, key, start, n, dtype) -> torch.Tensor:
    """The NumPy backend's elements start .. start+n-1 (bfloat16: its float32 values, rounded by torch)."""
    nd = np.dtype(NP_DTYPE[dtype])
    return _tensor(nb.sample(nb.Draw(kind, p), (start + n,), nd, key, ((start, start + n),)), dtype)


def ref_full(kind, p, key, n, dtype) -> torch.Tensor:
    """The NumPy backend's whole array of n elements (its full-array functions)."""
    nd = np.dtype(NP_DTYPE[dtype])
    if kind == "uniform":
        a = stream.uniform(key, n, nd, p["low"], p["high"])
    elif kind == "normal":
        a = stream.normal(key, n, nd, p["mean"], p["std"])
    else:
        a = stream.TruncNormal(p["mean"], p["std"], p["lo"], p["hi"]).sample(key, n, nd)
    return _tensor(a, dtype)


_INT = {8: torch.int64, 4: torch.int32, 2: torch.int16}


def ordered(t: torch.Tensor) -> torch.Tensor:
    """Float bits as int64 in value order (adjacent floats differ by 1): for ulp distances."""
    i = t.contiguous().view(_INT[t.element_size()]).to(torch.int64)
    bits = 8 * t.element_size()
    return torch.where(i < 0, -(i & ((1 << (bits - 1)) - 1)), i)


def ulp_stats(a: torch.Tensor, b: torch.Tensor):
    """(number of elements that differ, largest distance in ulps of the dtype)."""
    assert a.dtype == b.dtype and a.shape == b.shape
    d = (ordered(a.cpu()) - ordered(b.cpu())).abs()
    return int((d != 0).sum()), int(d.max()) if d.numel() else 0


def assert_bitwise(a: torch.Tensor, b: torch.Tensor, what=""):
    n, m = ulp_stats(a, b)
    assert n == 0, f"{what}: {n} of {a.numel()} elements differ (max {m} ulp)"


def fallback_counts(key, start, n, wide):
    """(tail, wedge): how many of elements start .. start+n-1 leave their ziggurat layer's core."""
    if wide:
        w = stream.words_at(key, start, n)
        i = (w & np.uint64(255)).astype(np.intp)
        x = (w >> np.uint64(11)).astype(np.float64) * 2.0 ** -53 * ziggurat.X[i]
        rej = x >= ziggurat.X[i + 1]
    else:
        h = stream.halves_at(key, start, n)
        i = (h & np.uint64(255)).astype(np.intp)
        rej = (h >> np.uint64(9)) >= ziggurat.K[i]
    return int((rej & (i == 0)).sum()), int((rej & (i != 0)).sum())


# --- words ---------------------------------------------------------------------------------------------------

def test_philox_words_match_numpy():
    rng = np.random.default_rng(1)
    for key in KEYS:
        b0 = int(rng.integers(0, 2 ** 50))
        blocks = torch.arange(b0, b0 + 300, dtype=torch.int64)
        w = torch.stack(ts._philox_eager(ts._key_info(key), blocks), dim=1).reshape(-1)
        ref = stream.words_at(key, 4 * b0, 1200).view(np.int64)
        assert np.array_equal(w.numpy(), ref)


# --- sample: every kind x dtype, bitwise ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_sample_bitwise(kind, dtype):
    rng = np.random.default_rng(hash((kind, str(dtype))) % 2 ** 32)
    cases = [(key, int(rng.integers(0, 2 ** 45)) if j % 2 else int(rng.integers(0, 64)), int(rng.integers(1, 3000)))
             for j, key in enumerate(KEYS)]
    cases.append((int(rng.integers(0, 2 ** 63)) * 2 ** 64 + int(rng.integers(0, 2 ** 63)), 0, 1))
    for key, start, n in cases:
        got = ts.sample(kind, PARAMS[kind], key, start, n, dtype, "cpu")
        assert got.dtype == dtype and got.shape == (n,)
        assert_bitwise(got, ref_at(kind, PARAMS[kind], key, start, n, dtype), f"{kind} {dtype} key={key} start={start}")


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_normal_fallback_bitwise_and_exercised(dtype):
    """2^17 normals: the wedges and the tail of the ziggurat's fallback are taken (counted), and bitwise."""
    n, start, key = 2 ** 17 + 5, 12345, 2 ** 128 - 3
    wide = dtype == torch.float64
    tail, wedge = fallback_counts(key, start, n, wide)
    assert tail >= 5 and wedge >= 500, (tail, wedge)
    p = {"mean": -0.25, "std": 0.75}
    got = ts.sample("normal", p, key, start, n, dtype, "cpu")
    assert_bitwise(got, ref_at("normal", p, key, start, n, dtype), f"normal {dtype}")
    if wide:
        assert got.abs().max().item() > 0.75 * ziggurat.R - 0.25   # a tail value beyond R std


@pytest.mark.parametrize("bounds", [(-1.0, 2.5), (-np.inf, 0.3), (-np.inf, np.inf), (3.0, np.inf), (-7.5, -6.0),
                                    (0.0, 1e-3)])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_truncated_normal_bounds(bounds, dtype):
    lo, hi = bounds
    for mean, std in ((0.0, 1.0), (0.3, 0.002), (1.0, 0.0)):
        if std == 0.0 and not lo <= mean <= hi and (lo, hi) != (0.0, 1e-3):
            continue
        p = {"mean": mean, "std": std, "lo": lo, "hi": hi}
        got = ts.sample("truncated_normal", p, 7, 3, 4000, dtype, "cpu")
        ref = ref_at("truncated_normal", p, 7, 3, 4000, dtype)
        assert_bitwise(got, ref, f"trunc {bounds} {mean} {std} {dtype}")
        g = got.double()
        if dtype != torch.bfloat16 and not g.isnan().any():   # bfloat16: the float32 result rounded (module doc);
            assert bool(((g >= lo) & (g <= hi)).all())        # NaN: the NumPy backend's own, 1350 std out


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_constants(dtype):
    for kind, params, v in (("zeros", {}, 0.0), ("ones", {}, 1.0), ("constant", {"value": 0.1}, 0.1),
                            ("constant", {"value": -3.3e-5}, -3.3e-5)):
        got = ts.sample(kind, params, 5, 10, 17, dtype, "cpu")
        want = _tensor(stream.to_dtype(np.full(17, v), NP_DTYPE[dtype]), dtype)
        assert_bitwise(got, want, f"{kind} {dtype}")
        t = torch.empty(3, 4, dtype=dtype).t()
        ts.fill_block_(t, kind, params, 5, (9, 9), (1, 2))
        assert_bitwise(t.contiguous().reshape(-1), want[:12], f"{kind} block {dtype}")


# --- blocks --------------------------------------------------------------------------------------------------

def _random_block(rng):
    nd = int(rng.integers(0, 5))
    full = tuple(int(rng.integers(1, 9 if nd > 2 else 40)) for _ in range(nd))
    off, size = [], []
    for f in full:
        a = int(rng.integers(0, f))
        b = int(rng.integers(a + 1, f + 1))
        if rng.random() < 0.3:
            a, b = 0, f
        off.append(a)
        size.append(b - a)
    return full, tuple(off), tuple(size)


def _strided(size, dtype, rng):
    """An uninitialized tensor of `size` that is not contiguous where possible (transposed or sliced)."""
    r = rng.random()
    if len(size) >= 2 and r < 0.35:
        perm = list(range(len(size)))[::-1]
        base = torch.empty(tuple(size[i] for i in perm), dtype=dtype)
        return base.permute(*perm)
    if len(size) >= 1 and r < 0.7:
        big = torch.empty(tuple(s + 2 for s in size), dtype=dtype)
        return big[tuple(slice(1, 1 + s) for s in size)]
    return torch.empty(size, dtype=dtype)


def test_fill_block_random_blocks():
    rng = np.random.default_rng(2024)
    for case in range(90):
        kind = KINDS[case % 3]
        dtype = DTYPES[(case // 3) % 4]
        key = KEYS[case % len(KEYS)]
        full, off, size = _random_block(rng)
        n = int(np.prod(full))
        whole = ref_full(kind, PARAMS[kind], key, n, dtype).reshape(full)
        want = whole[tuple(slice(o, o + s) for o, s in zip(off, size))]
        t = _strided(size, dtype, rng)
        assert ts.fill_block_(t, kind, PARAMS[kind], key, full, off) is t
        assert_bitwise(t.contiguous(), want.contiguous(), f"{kind} {dtype} full={full} off={off} size={size}")


def test_fill_block_whole_tensor_equals_sample():
    for kind in KINDS:
        t = torch.empty(3, 5, 7, 2)
        ts.fill_block_(t, kind, PARAMS[kind], 99, t.shape, (0, 0, 0, 0))
        assert_bitwise(t.reshape(-1), ts.sample(kind, PARAMS[kind], 99, 0, t.numel(), torch.float32, "cpu"))


def test_fill_block_chunked_pieces(monkeypatch):
    """Tiny chunks: long runs split into pieces, short runs grouped, strided tensors filled by sub-blocks."""
    monkeypatch.setattr(ts, "EAGER_CHUNK_CPU", 40)
    rng = np.random.default_rng(7)
    for kind in KINDS:
        for dtype in (torch.float32, torch.float64):
            for full, off, size in (((5, 300), (1, 0), (3, 300)), ((60, 7), (3, 2), (50, 4)),
                                    ((4, 9, 11), (1, 2, 3), (3, 6, 5)), ((2000,), (13,), (1500,))):
                whole = ref_full(kind, PARAMS[kind], 11, int(np.prod(full)), dtype).reshape(full)
                want = whole[tuple(slice(o, o + s) for o, s in zip(off, size))]
                for t in (torch.empty(size, dtype=dtype), _strided(size, dtype, rng)):
                    ts.fill_block_(t, kind, PARAMS[kind], 11, full, off)
                    assert_bitwise(t.contiguous(), want.contiguous(), f"{kind} {dtype} {full} {off}")


def test_overflowing_rejection_list_is_redone(monkeypatch):
    """The overflow check (Triton path) redoes a piece eagerly; here the check itself, on the CPU."""
    calls = []
    real = ts._fill_runs
    monkeypatch.setattr(ts, "_fill_runs", lambda *a: calls.append(a[-1]) or real(*a))
    out = torch.empty(100)
    ts._check_overflow([(torch.tensor([7]), 3, (out, ts._Plan("normal", PARAMS["normal"], torch.float32),
                                                 ts._key_info(3), None, 50, 1, 100))])
    assert calls == ["eager"]
    assert_bitwise(out, ref_at("normal", PARAMS["normal"], 3, 50, 100, torch.float32))


def test_validation():
    with pytest.raises(ValueError, match="kind"):
        ts.sample("laplace", {}, 0, 0, 3, torch.float32, "cpu")
    with pytest.raises(ValueError, match="dtype"):
        ts.sample("uniform", PARAMS["uniform"], 0, 0, 3, torch.int32, "cpu")
    with pytest.raises(ValueError, match="key"):
        ts.sample("uniform", PARAMS["uniform"], 2 ** 128, 0, 3, torch.float32, "cpu")
    with pytest.raises(ValueError, match="start"):
        ts.sample("uniform", PARAMS["uniform"], 0, -1, 3, torch.float32, "cpu")
    with pytest.raises(ValueError, match="runs past"):
        ts.fill_block_(torch.empty(3, 3), "uniform", PARAMS["uniform"], 0, (4, 4), (2, 0))
    with pytest.raises(ValueError, match="dimensions"):
        ts.fill_block_(torch.empty(3, 3), "uniform", PARAMS["uniform"], 0, (4, 4, 4), (0, 0, 0))
    assert ts.sample("normal", PARAMS["normal"], 0, 5, 0, torch.float16, "cpu").shape == (0,)
    assert ts.path_for("cpu") == "eager"


# --- Triton under its interpreter (CPU; only where Triton is installed and no GPU runs the real kernels) ------

_INTERP = textwrap.dedent("""
    import os, sys
    os.environ["TRITON_INTERPRET"] = "1"
    import torch
    from pyjinit.frameworks import torch_sampler as ts
    ts.TRITON_BLOCK = 32
    ts.TRITON_CHUNK = ts.TRITON_CHUNK_PLAIN = 1024               # several launches a call
    P = {"uniform": {"low": -0.3, "high": 0.7}, "normal": {"mean": 0.5, "std": 2.0},
         "truncated_normal": {"mean": 0.1, "std": 1.5, "lo": -1.0, "hi": 2.5}}
    bad = []
    for kind in P:
        for dt in (torch.float64, torch.float32, torch.float16, torch.bfloat16):
            for key, start, n in ((2 ** 128 - 1, 0, 1500), (42, 13, 700)):
                a = ts.sample(kind, P[kind], key, start, n, dt, "cpu", path="triton")
                b = ts.sample(kind, P[kind], key, start, n, dt, "cpu", path="eager")
                bad += [(kind, str(dt), start)] if not torch.equal(a.view(torch.uint8), b.view(torch.uint8)) else []
            t = torch.empty(5, 3, 7, dtype=dt).permute(2, 1, 0)
            ts.fill_block_(t, kind, P[kind], 9, (11, 5, 9), (2, 1, 1), path="triton")
            e = torch.empty(7, 3, 5, dtype=dt)
            ts.fill_block_(e, kind, P[kind], 9, (11, 5, 9), (2, 1, 1), path="eager")
            bad += [(kind, str(dt), "block")] if not torch.equal(t.contiguous(), e) else []
    for dt in (torch.float64, torch.float32):                # AS 241's far tail (r > 5) and its near one
        p = {"mean": 0.2, "std": 1.0, "lo": -9.0, "hi": -8.5}
        a = ts.sample("truncated_normal", p, 5, 3, 500, dt, "cpu", path="triton")
        b = ts.sample("truncated_normal", p, 5, 3, 500, dt, "cpu")
        bad += [("far tail", str(dt))] if not torch.equal(a, b) else []
    ts._cap_override = 2
    a = ts.sample("normal", P["normal"], 3, 0, 3000, torch.float32, "cpu", path="triton")
    b = ts.sample("normal", P["normal"], 3, 0, 3000, torch.float32, "cpu")
    bad += [("overflow",)] if not torch.equal(a, b) else []
    print("BAD", bad)
    sys.exit(1 if bad else 0)
""")


@pytest.mark.skipif(ts.triton is None, reason="Triton is not installed (the interpreter checks the kernels' logic)")
@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device runs the compiled kernels instead")
def test_triton_kernels_under_interpreter():
    env = dict(os.environ, TRITON_INTERPRET="1")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [env.get("PYTHONPATH")] if p])
    r = subprocess.run([sys.executable, "-c", _INTERP], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


# --- CUDA: the device's result against the CPU's -------------------------------------------------------------

# Largest ulp distance allowed between CUDA and the CPU (log/exp may differ by 1 ulp between libms; the module
# docstring): uniform none; normal and truncated normal 1 ulp of the narrow dtypes, a few of float64.
ULP_BOUND = {"uniform": {d: 0 for d in DTYPES},
             "normal": {torch.float64: 2, torch.float32: 1, torch.float16: 1, torch.bfloat16: 1},
             "truncated_normal": {torch.float64: 8, torch.float32: 1, torch.float16: 1, torch.bfloat16: 1}}


def _check_close(dev, cpu, kind, dtype, what):
    n, m = ulp_stats(dev, cpu)
    assert m <= ULP_BOUND[kind][dtype] and n <= max(2, dev.numel() // 1000), \
        f"{what}: {n} of {dev.numel()} differ, max {m} ulp"
    return n, m


@CUDA
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_cuda_matches_cpu(kind, dtype):
    n = 2 ** 20 + 3                                      # ~15k fallback elements for normals (wedge and tail)
    key = 2 ** 128 - 5
    dev = ts.sample(kind, PARAMS[kind], key, 0, n, dtype, "cuda")
    assert dev.device.type == "cuda" and dev.dtype == dtype
    cpu = ts.sample(kind, PARAMS[kind], key, 0, n, dtype, "cpu")
    _check_close(dev, cpu, kind, dtype, f"{kind} {dtype}")
    assert ts.info()["triton_error"] is None


@CUDA
@pytest.mark.parametrize("kind", KINDS)
def test_cuda_blocks_and_unaligned_starts(kind):
    dtype = torch.float32
    for start, n in ((5, 100003), (2 ** 40 + 3, 4099)):
        dev = ts.sample(kind, PARAMS[kind], 77, start, n, dtype, "cuda")
        _check_close(dev, ts.sample(kind, PARAMS[kind], 77, start, n, dtype, "cpu"), kind, dtype, f"start {start}")
    full, off, size = (40, 30, 9), (3, 2, 1), (30, 25, 7)
    want = torch.empty(size, dtype=dtype)
    ts.fill_block_(want, kind, PARAMS[kind], 77, full, off)
    t = torch.empty(tuple(reversed(size)), dtype=dtype, device="cuda").permute(2, 1, 0)
    ts.fill_block_(t, kind, PARAMS[kind], 77, full, off)
    _check_close(t.contiguous(), want, kind, dtype, "strided block")
    c = torch.empty(size, dtype=dtype, device="cuda")
    ts.fill_block_(c, kind, PARAMS[kind], 77, full, off)
    _check_close(c, want, kind, dtype, "contiguous block")


@CUDA
def test_cuda_chunks_overflow_and_eager_paths(monkeypatch):
    monkeypatch.setattr(ts, "TRITON_CHUNK", 1 << 15)          # several launches for one call
    monkeypatch.setattr(ts, "TRITON_CHUNK_PLAIN", 1 << 15)
    for kind in KINDS:
        for start in (0, 7):
            dev = ts.sample(kind, PARAMS[kind], 12, start, 100000, torch.float32, "cuda")
            _check_close(dev, ts.sample(kind, PARAMS[kind], 12, start, 100000, torch.float32, "cpu"), kind,
                         torch.float32, f"chunked, start {start}")
    monkeypatch.undo()
    cpu = ts.sample("normal", PARAMS["normal"], 3, 0, 50000, torch.float32, "cpu")
    monkeypatch.setattr(ts, "_cap_override", 5)
    dev = ts.sample("normal", PARAMS["normal"], 3, 0, 50000, torch.float32, "cuda")
    _check_close(dev, cpu, "normal", torch.float32, "overflowed list")
    monkeypatch.setattr(ts, "_cap_override", None)
    for dtype in (torch.float64, torch.float32):            # AS 241's far tail (r > 5)
        p = {"mean": 0.2, "std": 1.0, "lo": -9.0, "hi": -8.5}
        dev = ts.sample("truncated_normal", p, 5, 0, 20000, dtype, "cuda")
        _check_close(dev, ts.sample("truncated_normal", p, 5, 0, 20000, dtype, "cpu"), "truncated_normal", dtype,
                     "far tail")
    for kind in KINDS:
        for dtype in (torch.float32, torch.float64):
            e = ts.sample(kind, PARAMS[kind], 8, 1, 30000, dtype, "cuda", path="eager")
            _check_close(e, ts.sample(kind, PARAMS[kind], 8, 1, 30000, dtype, "cpu"), kind, dtype, "eager on CUDA")
