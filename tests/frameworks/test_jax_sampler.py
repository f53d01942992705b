"""pyjinit.frameworks.jax_sampler (the stream in pure jax.numpy/lax) against the NumPy backend.

32-bit mode (JAX's default) is bitwise for uniform, the normal's core and every constant; the normal's fallback
and the truncated normal emulate float64 with two float32 and are held to <= 1 ulp of the float32 result and to
the measured rarity of any difference (the module docstring has the numbers). float64 runs under
``jax.enable_x64(True)``. Compiled functions are cached and reused across keys and starts (traced arguments).
On a GPU (jax's default backend) the same tests check the accelerator; the throughput test runs only there.
"""
import contextlib
import functools
import math
import time

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

from pyjinit.frameworks import jax_sampler as js  # noqa: E402
from pyjinit.inits import numpy_backend as nb  # noqa: E402
from pyjinit.inits import stream, ziggurat  # noqa: E402

pytestmark = pytest.mark.slow

ml_dtypes = pytest.importorskip("ml_dtypes")

U = dict(low=-0.75, high=1.25)
N = dict(mean=0.25, std=1.5)
T = dict(mean=0.1, std=1.3, lo=-1.0, hi=2.5)
KEYS = [0, 1, (1 << 64) + 5, (1 << 128) - 1, 0x0123456789ABCDEF_FEDCBA9876543210]
DTYPES32 = ("float32", "float16", "bfloat16")


def _x64():
    """A context with jax_enable_x64 on (jax.enable_x64 in this jax; jax.experimental.enable_x64 in older)."""
    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(True)
    from jax.experimental import enable_x64                      # noqa: PLC0415
    return enable_x64()


def _items(p):
    return tuple(sorted(p.items())), repr(sorted(p.items()))        # repr: -0.0 and 0.0 are distinct params


@functools.lru_cache(None)
def _fn(kind, pitems, n, dtypes, x64=False):
    """jit(key limbs, start) -> tuple of sample(kind, params, key, start, n, d) for d in dtypes (one compile)."""
    p = dict(pitems[0])
    return jax.jit(lambda k, s: tuple(js.sample(kind, p, k, s, n, jnp.dtype(d)) for d in dtypes))


def _run(kind, p, key, start, n, dtypes, x64=False):
    f = _fn(kind, _items(p), n, tuple(dtypes), x64)
    with (_x64() if x64 else contextlib.nullcontext()):
        return [np.asarray(a) for a in f(js.key_limbs(key), jnp.uint32(start))]


def _bf16_inner(bound, up):
    v = np.float32(bound).astype(ml_dtypes.bfloat16)
    if math.isfinite(bound) and (float(v) < bound if up else float(v) > bound):
        v = np.nextafter(v, ml_dtypes.bfloat16(np.inf if up else -np.inf))
    return v


def ref(kind, p, key, start, n, dt):
    """The NumPy backend's values; bfloat16 = the float32 values rounded to nearest even (a truncated normal then
    clamped to bfloat16's inner bounds, as NumPy does for float16)."""
    host = np.dtype("float32" if dt == "bfloat16" else dt)
    r = nb.sample(nb.Draw(kind, p), (start + n,), host, key, ((start, start + n),))
    if dt == "bfloat16":
        r = r.astype(ml_dtypes.bfloat16)
        if kind == "truncated_normal":
            r = np.clip(r, _bf16_inner(p["lo"], True), _bf16_inner(p["hi"], False)).astype(ml_dtypes.bfloat16)
    return r


def bits(a):
    a = np.asarray(a)
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize])


def ulps(a, b):
    """|a - b| in units in the last place (same-dtype float arrays; sign-magnitude to a monotone integer line)."""
    a, b = np.asarray(a), np.asarray(b)
    w = {2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]
    ia, ib = a.view(w).astype(np.int64), b.view(w).astype(np.int64)
    m = np.int64(np.iinfo(w).max)
    ia = np.where(ia < 0, -(ia & m), ia)
    ib = np.where(ib < 0, -(ib & m), ib)
    return np.abs(ia - ib)


def fallbacks32(key, start, n):
    """(wedge, tail) masks of the float32 elements that leave the ziggurat's core (from the NumPy halves)."""
    h = stream.halves_at(key, start, n).astype(np.uint32)
    fb = (h >> np.uint32(9)) >= ziggurat._K2[h & np.uint32(511)]
    tail = fb & ((h & np.uint32(255)) == 0)
    return fb & ~tail, tail


# --- keys and words --------------------------------------------------------------------------------------------

def test_key_words_match_key_seed():
    from pyjinit.frameworks.jax import key_seed

    rng = np.random.default_rng(3)
    for m in (1, 2, 4, 5):
        data = rng.integers(0, 2 ** 32, (6, m), dtype=np.uint64).astype(np.uint32)
        data[0] = 0xFFFFFFFF
        got = np.asarray(jax.jit(js.key_words)(data))
        for row, g in zip(data, got):
            assert np.array_equal(g, js.key_limbs(key_seed(row)))
    k = jax.random.key(1234)
    assert np.array_equal(np.asarray(js.key_words(k)), js.key_limbs(key_seed(jax.random.key_data(k))))
    batch = jax.random.split(jax.random.key(7), 3)
    kd = jax.random.key_data(batch)
    assert np.array_equal(np.asarray(js.key_words(batch)), np.stack([js.key_limbs(key_seed(r)) for r in kd]))


def test_words_any_key_and_64bit_start():
    """Philox4x64-10 on uint32 limbs = NumPy's words, for keys up to 2^128 - 1 and starts beyond 2^32."""
    rng = np.random.default_rng(5)
    starts = np.array([0, 1, 7, 2 ** 32 - 3, 2 ** 40 + 11, 2 ** 62 + 5], np.uint64)
    L = 9
    f = jax.jit(lambda k4, lo, hi: js._gen(k4, (lo, hi), L, 4, None))
    for key in KEYS + [int(rng.integers(0, 2 ** 63)) << 65 | 12345]:
        lo, hi = f(js.key_limbs(key), (starts & np.uint64(0xFFFFFFFF)).astype(np.uint32),
                   (starts >> np.uint64(32)).astype(np.uint32))
        got = np.asarray(lo).astype(np.uint64) | (np.asarray(hi).astype(np.uint64) << np.uint64(32))
        for s, g in zip(starts, got):
            assert np.array_equal(g, stream.words_at(key, int(s), L)), (key, s)


# --- 32-bit mode: every kind x float32/float16/bfloat16 ---------------------------------------------------------

def test_uniform_bitwise():
    rng = np.random.default_rng(11)
    for key in KEYS:
        start = int(rng.integers(0, 2 ** 31))
        for dt, got in zip(DTYPES32, _run("uniform", U, key, start, 4099, DTYPES32)):
            assert np.array_equal(bits(got), bits(ref("uniform", U, key, start, 4099, dt))), (key, start, dt)


def test_uniform_signed_zero():
    """Seed 1, element 21984945 has u = 0: with low = +0 and high < low, the product is -0 and NumPy's + 0.0 makes
    it +0 (XLA folds x + 0.0 to x, which the sampler undoes); with low = -0 it stays -0."""
    k, s = 1, 21984945
    for p in (dict(low=0.0, high=-1.0), dict(low=-0.0, high=-1.0)):
        got = _run("uniform", p, k, s - 3, 8, ("float32",))[0]
        r = ref("uniform", p, k, s - 3, 8, "float32")
        assert r[3] == 0 and np.array_equal(bits(got), bits(r)), p


def test_normal_bitwise_with_fallbacks():
    """2^17 normals a key: ~1.5% take the fallback (wedges, tail); all bitwise, float32/float16/bfloat16."""
    n = 1 << 17
    rng = np.random.default_rng(13)
    wedges = tails = 0
    for key in KEYS[2:]:
        start = int(rng.integers(0, 2 ** 31))
        outs = _run("normal", N, key, start, n, DTYPES32)
        for dt, got in zip(DTYPES32, outs):
            r = ref("normal", N, key, start, n, dt)
            bad = np.flatnonzero(bits(got) != bits(r))
            assert bad.size == 0, (key, start, dt, bad[:5], got[bad[:5]], r[bad[:5]])
        w, t = fallbacks32(key, start, n)
        wedges, tails = wedges + w.sum(), tails + t.sum()
    assert wedges > 3000 and tails > 30, (wedges, tails)


def test_normal_signed_zero():
    """Seed 1, element 6770135 is the ziggurat's -0 (j = 0, sign set): mean +0 gives +0, as NumPy's + 0.0 does."""
    k, s = 1, 6770135
    got = _run("normal", dict(mean=0.0, std=1.0), k, s - 5, 8, ("float32",))[0]
    r = ref("normal", dict(mean=0.0, std=1.0), k, s - 5, 8, "float32")
    assert r[5] == 0 and not np.signbit(r[5]) and np.array_equal(bits(got), bits(r))


def test_truncated_normal_32bit():
    """Double-float Phi^-1: <= 1 ulp (float32) and rare; every value inside [lo, hi]."""
    n = 1 << 16
    rng = np.random.default_rng(17)
    diffs = 0
    for key in KEYS[2:]:
        start = int(rng.integers(0, 2 ** 31))
        for dt, got in zip(DTYPES32, _run("truncated_normal", T, key, start, n, DTYPES32)):
            r = ref("truncated_normal", T, key, start, n, dt)
            bad = bits(got) != bits(r)
            assert ulps(got, r).max() <= 1, (key, dt)
            diffs += bad.sum()
            v = got.astype(np.float64)
            assert np.all((v >= T["lo"]) & (v <= T["hi"]))
    assert diffs <= 2, diffs          # measured: ~1 in 5e6 float32 elements (module docstring)


@pytest.mark.parametrize("p", [
    dict(mean=0.0, std=1.0, lo=-math.inf, hi=math.inf),
    dict(mean=0.0, std=1.0, lo=10.0, hi=math.inf),          # Phi(b) < 2^-40: the scaled double-float path
    dict(mean=2.0, std=0.5, lo=-40.0, hi=1.5),
    dict(mean=0.3, std=0.0, lo=-2.0, hi=0.1),               # std = 0: the mean, clamped
], ids=["unbounded", "far-tail", "one-sided-wide", "std0"])
def test_truncated_normal_32bit_bounds(p):
    n = 1 << 13
    got = _run("truncated_normal", p, 21, 100, n, ("float32",))[0]
    r = ref("truncated_normal", p, 21, 100, n, "float32")
    assert ulps(got, r).max() <= 1 and (bits(got) != bits(r)).sum() <= 1
    assert np.all((got >= np.float32(p["lo"])) & (got <= np.float32(p["hi"])))


def test_truncated_normal_32bit_narrow_center():
    """An interval of a few 1e-9 std around the mean: values near z = 0, where the float64 reference's rounding of p
    to its grid (2^-53) is larger than the value's float32 ulp; the sampler rounds p - 1/2 to that grid too."""
    p = dict(mean=0.0, std=1.0, lo=-1e-9, hi=3e-9)
    got = _run("truncated_normal", p, 23, 0, 4096, ("float32",))[0]
    r = ref("truncated_normal", p, 23, 0, 4096, "float32")
    assert ulps(got, r).max() <= 1 and (got != r).sum() <= 1


def test_fallback_double_float_vs_float64():
    """The fallback on its own, 2^17 tail and 2^17 wedge starts: the double-float emulation against NumPy's
    float64 fallback rounded to float32 (measured: 1 differing element, by 1 ulp, in 6.7e7)."""
    n = 1 << 17
    key = (1 << 128) - 99
    rng = np.random.default_rng(1)
    k = rng.integers(0, 2 ** 63, 2 * n, dtype=np.uint64)
    i = np.concatenate([np.zeros(n, np.int64), rng.integers(1, 256, n)])
    x = (ziggurat.X[i + 1] + (ziggurat.X[i] - ziggurat.X[i + 1]) * rng.random(2 * n)).astype(np.float32)
    s = rng.random(2 * n) < 0.5

    @jax.jit
    def f(k4, klo, khi, i, x, s):
        v = js._fallback(js._DF, js._fallback_base(k4), (klo, khi), i, js._DF.from_f32(x), s, jnp.ones(i.shape, bool))
        return js._DF.to_f32(v)

    got = np.asarray(f(js.key_limbs(key), (k & np.uint64(0xFFFFFFFF)).astype(np.uint32),
                       (k >> np.uint64(32)).astype(np.uint32), i.astype(np.int32), x, s))
    r = ziggurat.fallback(ziggurat.key_of(key), k, i, x.astype(np.float64), s).astype(np.float32)
    assert ulps(got, r).max() <= 1 and (got != r).sum() <= 1


def test_constants():
    for kind, p, v in (("zeros", {}, 0.0), ("ones", {}, 1.0), ("constant", {"value": 0.1}, 0.1)):
        for dt in DTYPES32:
            got = np.asarray(js.sample(kind, p, 3, 0, 5, jnp.dtype(dt)))
            want = np.full(5, np.float32(v)).astype(ml_dtypes.bfloat16 if dt == "bfloat16" else dt)
            assert got.dtype == want.dtype and np.array_equal(bits(got), bits(want))
        assert js.sample_block(kind, p, 3, (4, 5), ((1, 3), (0, 2)), jnp.float32).shape == (2, 2)


def test_float64_needs_x64():
    with pytest.raises(ValueError, match="float64.*jax_enable_x64"):
        js.sample("normal", N, 1, 0, 4, jnp.float64)


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        js.sample("gamma", {}, 1, 0, 4)
    with pytest.raises(ValueError, match="missing std"):
        js.sample("normal", {"mean": 0.0}, 1, 0, 4)
    with pytest.raises(ValueError, match="seed"):
        js.sample("normal", N, 1 << 128, 0, 4)
    with pytest.raises(ValueError, match="index"):
        js.sample_block("normal", N, 1, (4, 4), ((0, 5), (0, 1)))


# --- starts, blocks, jit, vmap ------------------------------------------------------------------------------

def test_static_large_start():
    """A Python-int start beyond 2^32 (64-bit counters and element indices for the fallback)."""
    start = (1 << 61) + 12345
    got = np.asarray(jax.jit(lambda k: js.sample("normal", N, k, start, 3000))(js.key_limbs(77)))
    assert np.array_equal(bits(got), bits(ref("normal", N, 77, start, 3000, "float32")))


BLOCKS = [((5, 7, 3, 3), ((1, 4), (2, 7), (0, 3), (1, 2))),
          ((6, 33), ((2, 5), (0, 33))),
          ((3, 4, 5), ((0, 3), (3, 4), (1, 5)))]


@pytest.mark.parametrize("kind,p", [("uniform", U), ("normal", N), ("truncated_normal", T)])
def test_sample_block_equals_slice(kind, p):
    key = (1 << 128) - 1 - 31
    for shape, index in BLOCKS[:1] if kind != "uniform" else BLOCKS:
        full = ref(kind, p, key, 0, math.prod(shape), "float32").reshape(shape)
        want = full[tuple(slice(a, b) for a, b in index)]
        got = np.asarray(jax.jit(lambda k, shape=shape, index=index: js.sample_block(kind, p, k, shape, index))(
            js.key_limbs(key)))
        assert got.shape == want.shape
        if kind == "truncated_normal":
            assert ulps(got, want).max() <= 1 and (got != want).sum() <= 1
        else:
            assert np.array_equal(bits(got), bits(want)), (shape, index)


def test_sample_block_random_blocks_uniform():
    """Random shapes and blocks, one compile each (uniform compiles in a fraction of a second)."""
    rng = np.random.default_rng(29)
    for _ in range(4):
        shape = tuple(int(d) for d in rng.integers(1, 7, rng.integers(1, 5)))
        index = []
        for d in shape:
            a = int(rng.integers(0, d))
            index.append((a, int(rng.integers(a + 1, d + 1))))
        key = int(rng.integers(0, 2 ** 63)) << 64 | int(rng.integers(0, 2 ** 63))
        full = ref("uniform", U, key, 0, math.prod(shape), "float32").reshape(shape)
        want = full[tuple(slice(a, b) for a, b in index)]
        got = np.asarray(js.sample_block("uniform", U, key, shape, tuple(index)))
        assert np.array_equal(bits(got), bits(want)), (shape, index)


def test_vmap_over_keys_and_typed_keys():
    """jit(vmap(...)) over a batch of typed JAX keys (key_words inside): each row is that key's seed's stream."""
    from pyjinit.frameworks.jax import key_seed

    n = 2048
    keys = jax.random.split(jax.random.key(42), 4)
    seeds = [key_seed(d) for d in np.asarray(jax.random.key_data(keys))]
    got = np.asarray(jax.jit(jax.vmap(lambda k: js.sample("normal", N, k, 5, n)))(keys))
    for s, row in zip(seeds, got):
        assert np.array_equal(bits(row), bits(ref("normal", N, s, 5, n, "float32")))


def test_no_callback_in_jaxpr():
    for kind, p in (("uniform", U), ("normal", N), ("truncated_normal", T)):
        jaxpr = jax.make_jaxpr(lambda k, kind=kind, p=p: js.sample(kind, p, k, 0, 64))(js.key_limbs(1))
        assert "callback" not in str(jaxpr)
        jaxpr = jax.make_jaxpr(lambda k, kind=kind, p=p: js.sample_block(kind, p, k, (8, 8), ((1, 3), (2, 5))))(
            jax.random.key(0))
        assert "callback" not in str(jaxpr)


# --- jax_enable_x64: float64 and the native-float64 fallback for float32 ------------------------------------

def test_x64_float64_and_float32():
    n = 1 << 16
    key, start = (1 << 128) - 1 - 12345, 777
    for kind, p in (("uniform", U), ("normal", N), ("truncated_normal", T)):
        got64, got32 = _run(kind, p, key, start, n, ("float64", "float32"), x64=True)
        r64, r32 = ref(kind, p, key, start, n, "float64"), ref(kind, p, key, start, n, "float32")
        assert np.array_equal(bits(got32), bits(r32)), kind
        bad = bits(got64) != bits(r64)
        # bitwise but for the libm: XLA's float64 log/exp are not NumPy's (1 ulp, in the normal's tail and the
        # truncated normal's tail branch)
        assert ulps(got64, r64).max() <= 1 and bad.sum() <= (0 if kind == "uniform" else 3), (kind, bad.sum())
        with _x64():
            jaxpr = jax.make_jaxpr(lambda k, kind=kind, p=p: js.sample(kind, p, k, 0, 64, jnp.float64))(
                js.key_limbs(1))
        assert "callback" not in str(jaxpr)


def test_x64_normal64_fallbacks():
    """2^17 float64 normals: wedges and tail taken (from the words), values bitwise but for libm's 1 ulp."""
    n = 1 << 17
    key = 2 ** 100 + 3
    got = _run("normal", dict(mean=0.0, std=1.0), key, 0, n, ("float64",), x64=True)[0]
    r = ref("normal", dict(mean=0.0, std=1.0), key, 0, n, "float64")
    w = stream.words_at(key, 0, n)
    li = (w & np.uint64(255)).astype(np.int64)
    fb = ((w >> np.uint64(11)).astype(np.float64) * 2.0 ** -53) * ziggurat.X[li] >= ziggurat.X[li + 1]
    assert fb.sum() > 1500 and (fb & (li == 0)).sum() > 20
    bad = bits(got) != bits(r)
    assert not (bad & ~fb).any() and bad.sum() <= 2 and ulps(got, r).max() <= 1


# --- on a GPU ----------------------------------------------------------------------------------------------

@pytest.mark.skipif(jax.default_backend() == "cpu", reason="throughput is measured on an accelerator")
def test_gpu_throughput():
    n = 1 << 26
    for kind, p in (("uniform", U), ("normal", N), ("truncated_normal", T)):
        f = jax.jit(lambda k, kind=kind, p=p: js.sample(kind, p, k, 0, n, jnp.float32))
        k4 = jnp.asarray(js.key_limbs(3))
        t = time.perf_counter()
        f(k4).block_until_ready()
        c = time.perf_counter() - t
        t = time.perf_counter()
        for _ in range(5):
            out = f(k4)
        out.block_until_ready()
        dt = (time.perf_counter() - t) / 5
        print(f"\n{kind}: {n} float32 in {dt * 1e3:.2f} ms ({n / dt / 1e9:.2f} G/s), first call {c:.1f} s")
        r = ref(kind, p, 3, 0, 1 << 20, "float32")
        assert ulps(np.asarray(out[:1 << 20]), r).max() <= (1 if kind == "truncated_normal" else 0)
