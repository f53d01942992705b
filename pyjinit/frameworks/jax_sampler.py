"""The pyjinit stream in pure ``jax.numpy``/``lax``: usable under ``jax.jit`` and ``jax.vmap``, no host callback.

docs/stream.md is the specification; ``pyjinit.inits.stream`` and ``pyjinit.inits.ziggurat`` (NumPy) are the
reference. Everything runs in JAX's default 32-bit mode except float64 output, which needs ``jax_enable_x64``.

API
---
- ``sample(kind, params, key, start, n, dtype)``: logical elements start .. start+n-1 (a 1-D array).
- ``sample_block(kind, params, key, full_shape, index, dtype)``: the block ``index`` (``((start, stop), ...)`` per
  dimension) of the whole PyTorch-order array, from its contiguous runs of logical indices, without the rest.
- ``key_words(key_data)``: JAX key data (uint32 words, most significant first, as ``jax.random.key_data``) to the
  key representation used here: four uint32 limbs ``(k0 lo, k0 hi, k1 lo, k1 hi)`` of the Philox key
  ``(k0, k1) = (seed mod 2^64, seed >> 64)``, seed = the words folded ``seed = seed * 2^32 + w`` mod 2^128, so
  equal to ``key_limbs(pyjinit.frameworks.jax.key_seed(bits))``. Works on traced arrays and batches of keys
  (leading axes).
- ``key_limbs(seed)``: the same four limbs of a Python int seed (0 <= seed < 2^128).

Kinds and params: "uniform" {low, high}; "normal" {mean, std}; "truncated_normal" {mean, std, lo, hi} (absolute
bounds, ±inf allowed); "constant" {value}; "zeros" {}; "ones" {}. ``key``: a Python int, a uint32 array of the four
limbs (traced is fine), or a typed JAX PRNG key (converted by ``key_words``). ``start``: a Python int
(0 <= start, start + n <= 2^64) or a traced integer scalar (< 2^32). ``n`` (static) < 2^31. dtypes: float32,
float16, bfloat16 always; float64 with ``jax_enable_x64`` (else ValueError). float16/bfloat16 are the float32
value rounded (nearest even), as in NumPy; a truncated normal is then clamped to that dtype's inner bounds (§4;
for bfloat16 exactly as NumPy does it for float16).

How
---
Philox4x64-10 and SplitMix64 run on 64-bit integers held as (lo, hi) uint32 limbs; the 32x32 -> 64-bit products
are four 16x16-bit products. A request is computed per Philox block (8 float32 elements or 4 words a block); the
ten rounds are a ``lax.fori_loop`` (a tenth of the graph to compile, the lanes materialized once), and the lanes
are interleaved by selects. The rest is elementwise XLA work plus, for normals, one prefix sum, a scatter of the
~1.5% of elements that leave the ziggurat's core into a buffer (capacity 1.49% n + 6 sigma + 32; a
``lax.while_loop`` takes another round in the unlikely case it overflows), the fallback there (a
``lax.while_loop`` over attempts, all live elements each round) and a scatter back. No Python loop runs per
element; everything traces once per (kind, params, n, dtype). Measured on one H200 (jax 0.11.2), jit of
``sample(kind, params, key, 0, 2**26, float32)``: uniform 2.9 ms, normal 4.8 ms, truncated normal 8.6 ms.

XLA contracts ``a * b + c`` into one fused multiply-add (one rounding) on CPU and GPU, turns ``x / c`` into
``x * (1/c)`` and reassociates constants (``(x + c1) - c2`` into ``x + (c1 - c2)``); the stream rounds each
operation. So each product that feeds a sum goes through an integer no-op the compiler cannot see through (its
bits xor ``(b * (b + 1)) & 1``, always 0), native-float64 constants are made opaque the same way, and a
double-float's constants always go second in its error-free sums. XLA also folds ``x + 0.0`` (which IEEE turns
from -0 to +0): a zero mean or low is handled explicitly.

Exactness against the NumPy backend
-----------------------------------
Bitwise everywhere (the test suite passes bitwise on CPU and on an H200), except where the stream computes in
float64 while JAX runs in 32-bit mode, and except libm: float64 log and exp, which the spec already allows to
differ by 1 ulp between implementations (NumPy's own exp is correctly rounded for ~95% of arguments and its log
for ~99.7% here; XLA's CPU exp differs from NumPy's for ~15% of arguments, its log for ~0.4%; a GPU uses
libdevice's). Measured on CPU (tests/frameworks/test_jax_sampler.py asserts the bounds):

========================  =============================================  ========================================
kind                      32-bit mode (float32 / float16 / bfloat16)      jax_enable_x64 (float64; float32 too)
========================  =============================================  ========================================
constant, zeros, ones     bitwise                                         bitwise
uniform                   bitwise                                         bitwise
normal, core (98.5%)      bitwise                                         bitwise
normal, fallback (1.5%)   double-float emulation of the float64           native float64: bitwise but for libm.
                          fallback: <= 1 ulp of the float32 value.        0 differences in 8.4e6 float64 and
                          0 differences in 1.7e7 normals (2.5e5           8.4e6 float32 normals
                          fallbacks); run on the fallback alone, 1
                          value in 6.7e7 (a tail value) was 1 ulp off
truncated normal          double-float Phi^-1: <= 1 ulp of the float32    native float64: float64 values 1 ulp off
                          value; ~1 element in 10^7 differs (7 in 1e8:    for ~1.5e-5 of the elements (XLA's log
                          N(0,1) on [-2, 2] and unbounded, N(.5,.2) on    in the tail branch); float32 bitwise
                          [0, 1]); 0 in 2.6e5 for intervals of 1e-9 to    (0 in 1.7e7)
                          2e-4 std around the mean
========================  =============================================  ========================================

The double-float arithmetic (a value is hi + lo, two float32; products exact by Dekker's method with 12-bit
halves cut by a mask, sums by Knuth's two-sum) carries ~48 bits, fewer than float64's 53, so it cannot repeat
the float64 roundings: it lands within ~2^-46 (relative) of the exact value, as float64 lands within ~2^-50.
Their float32 roundings differ only when the value lies that close to a float32 rounding boundary (about 2^-22
per value, and then by 1 ulp). A fallback accept/reject test (the tail's ``2b > a^2``; the wedge's
``y < exp(-x^2/2)``, evaluated here as ``log(y) < -x^2/2``) decides differently only when its two sides agree to
~2^-46 (< 2^-30 per test, never seen). In the normal's fallback, a wedge's first draw is exact; the tail's
``R + a`` and a redrawn ``u53 * X[i]`` carry the 1-ulp risk. In the truncated normal, ``p - 1/2`` and ``1 - p``
are formed from quantities exact in the word (so each keeps its relative precision; p itself would hold only
~2^-49 absolute), and ``p - 1/2`` is rounded to the float64 grid of p as the reference's is (near p = 1/2 that
grid, 2^-53, is coarser than the value's float32 ulp). When every p is below 2^-40 (a far tail, such as
[10, inf) std) the double-float samples p 2^E, so float32's exponent range suffices.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ..inits import stream, ziggurat
from ..inits.keys import PHILOX_M, PHILOX_W
from ..inits.validate import check_seed, fmt

__all__ = ["KINDS", "sample", "sample_block", "key_words", "key_limbs", "x64_enabled"]

KINDS = ("uniform", "normal", "truncated_normal", "constant", "zeros", "ones")
_PARAMS = {"uniform": ("low", "high"), "normal": ("mean", "std"), "truncated_normal": ("mean", "std", "lo", "hi"),
           "constant": ("value",), "zeros": (), "ones": ()}

_U32 = jnp.uint32
GAMMA, MIX_C = ziggurat.GAMMA, ziggurat.MIX_C


def x64_enabled() -> bool:
    """Whether float64 arrays exist now (jax_enable_x64, or inside ``jax.enable_x64(True)``)."""
    return jax.dtypes.canonicalize_dtype(np.float64) == np.float64


# ---------------------------------------------------------------------------------------------------------------
# keys

def key_limbs(seed: int) -> np.ndarray:
    """The four uint32 limbs (k0 lo, k0 hi, k1 lo, k1 hi) of the Philox key of ``seed`` (k0 = seed mod 2^64,
    k1 = seed >> 64)."""
    s = check_seed(seed)
    return np.array([(s >> (32 * i)) & 0xFFFFFFFF for i in range(4)], np.uint32)


def key_words(key_data):
    """Key limbs from JAX key data: ``key_data[..., m]`` uint32 words, most significant first (the layout of
    ``jax.random.key_data``; a typed key is accepted too). The seed is the fold ``seed = seed * 2^32 + w`` over
    the words, mod 2^128 (``pyjinit.frameworks.jax.key_seed``): its limbs are the last four words reversed
    (missing words are 0). Returns ``uint32[..., 4]``; traceable, batch axes are kept."""
    if hasattr(key_data, "dtype") and jnp.issubdtype(key_data.dtype, jax.dtypes.prng_key):
        key_data = jax.random.key_data(key_data)
    w = jnp.asarray(key_data)
    if w.dtype != jnp.uint32:
        w = w.astype(jnp.uint32)
    m = w.shape[-1]
    if m < 4:
        w = jnp.concatenate([jnp.zeros(w.shape[:-1] + (4 - m,), jnp.uint32), w], axis=-1)
    return w[..., ::-1][..., :4]


def _key(key):
    """Key limbs as a uint32[4] array (constant for a Python int)."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
        return jnp.asarray(key_limbs(int(key)))
    if hasattr(key, "dtype") and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return key_words(jax.random.key_data(key))
    k = jnp.asarray(key)
    if k.shape != (4,) or not (jnp.issubdtype(k.dtype, jnp.integer)):
        raise ValueError(f"key must be an integer seed, a typed JAX key or uint32[4] limbs (key_words), got "
                         f"{k.dtype}{list(k.shape)}")
    return k.astype(jnp.uint32)


# ---------------------------------------------------------------------------------------------------------------
# 64-bit integers as (lo, hi) uint32 limbs

def _c32(v: int):
    return np.uint32(v & 0xFFFFFFFF)


def _mulhilo(a, m: int):
    """(lo, hi) of the 64-bit product a * m, a uint32 array, m a 32-bit constant: four 16x16-bit products."""
    ml, mh = _c32(m & 0xFFFF), _c32(m >> 16)
    al, ah = a & _c32(0xFFFF), a >> _c32(16)
    ll, lh, hl, hh = al * ml, al * mh, ah * ml, ah * mh
    mid = (ll >> _c32(16)) + (lh & _c32(0xFFFF)) + (hl & _c32(0xFFFF))
    hi = hh + (lh >> _c32(16)) + (hl >> _c32(16)) + (mid >> _c32(16))
    lo = (mid << _c32(16)) | (ll & _c32(0xFFFF))
    return lo, hi


def _carry(s, a):
    return (s < a).astype(_U32)


def _mul128(x, m: int):
    """The 128-bit product of x = (lo, hi) and the 64-bit constant m, as limbs (r0, r1, r2, r3)."""
    x0, x1 = x
    m0, m1 = m & 0xFFFFFFFF, m >> 32
    a0, a1 = _mulhilo(x0, m0)
    b0, b1 = _mulhilo(x0, m1)
    c0, c1 = _mulhilo(x1, m0)
    d0, d1 = _mulhilo(x1, m1)
    s1 = a1 + b0
    k1 = _carry(s1, a1)
    r1 = s1 + c0
    k1 = k1 + _carry(r1, s1)
    t1 = b1 + c1
    k2 = _carry(t1, b1)
    t2 = t1 + d0
    k2 = k2 + _carry(t2, t1)
    r2 = t2 + k1
    k2 = k2 + _carry(r2, t2)
    return a0, r1, r2, d1 + k2


def _mul64lo(x, m: int):
    """The low 64 bits of x * m (m a 64-bit constant)."""
    x0, x1 = x
    m0, m1 = m & 0xFFFFFFFF, m >> 32
    lo, hi = _mulhilo(x0, m0)
    return lo, hi + x0 * _c32(m1) + x1 * _c32(m0)


def _add64(x, y):
    lo = x[0] + y[0]
    return lo, x[1] + y[1] + _carry(lo, x[0])


def _xor64(x, y):
    return x[0] ^ y[0], x[1] ^ y[1]


def _shr64(x, s: int):
    """x >> s for 0 < s < 32."""
    return (x[0] >> _c32(s)) | (x[1] << _c32(32 - s)), x[1] >> _c32(s)


def _const64(v: int):
    return _c32(v), _c32(v >> 32)


def _philox(c0, key4):
    """philox4x64_10((c0, 0, 0, 0), key) for an array of 64-bit counters c0 = (lo, hi): 4 lanes of (lo, hi)."""
    zero = jnp.zeros_like(c0[0])

    def round_(_, st):
        c, k0, k1 = st
        p0 = _mul128(c[0], PHILOX_M[0])
        p1 = _mul128(c[2], PHILOX_M[1])
        c = (_xor64(_xor64((p1[2], p1[3]), c[1]), k0), (p1[0], p1[1]),
             _xor64(_xor64((p0[2], p0[3]), c[3]), k1), (p0[0], p0[1]))
        return c, _add64(k0, _const64(PHILOX_W[0])), _add64(k1, _const64(PHILOX_W[1]))

    # the rounds in a loop, not unrolled: a tenth of the graph to compile, and the lanes come out materialized
    st = ((c0, (zero, zero), (zero, zero), (zero, zero)), (key4[0], key4[1]), (key4[2], key4[3]))
    return list(lax.fori_loop(0, 10, round_, st)[0])


def _mix64(z):
    """SplitMix64's finalizer on (lo, hi) limbs."""
    z = _xor64(z, _shr64(z, 30))
    z = _mul64lo(z, MIX_C[0])
    z = _xor64(z, _shr64(z, 27))
    z = _mul64lo(z, MIX_C[1])
    return _xor64(z, _shr64(z, 31))


def _fallback_base(key4):
    """mix64(k0 xor mix64(k1 + GAMMA)) (docs/stream.md §3), as limbs."""
    return _mix64(_xor64((key4[0], key4[1]), _mix64(_add64((key4[2], key4[3]), _const64(GAMMA)))))


def _fallback_words(base, k, t):
    """Words l = 1, 2, 3 of attempt t of elements k: mix64(base + (2^16 k + 4t + l) GAMMA)."""
    n = (k[0] << _c32(16), (k[1] << _c32(16)) | (k[0] >> _c32(16)))
    out = []
    for j in (1, 2, 3):
        m = _add64(n, (4 * t + j, jnp.zeros_like(t)))
        out.append(_mix64(_add64(base, _mul64lo(m, GAMMA))))
    return out


# ---------------------------------------------------------------------------------------------------------------
# keeping the compiler's hands off the roundings

def _opaque_zero(bits):
    """0, computed from `bits` so that no compiler can prove it: b (b + 1) is even."""
    b = bits if bits.dtype == jnp.uint32 else bits.astype(jnp.uint32)
    return (b * (b + _c32(1))) & _c32(1)


def _launder(p):
    """p itself, through an integer xor with an opaque 0: a product laundered so is rounded before a following
    addition (no fused multiply-add)."""
    ut = jnp.uint64 if p.dtype == jnp.float64 else jnp.uint32
    b = lax.bitcast_convert_type(p, ut)
    return lax.bitcast_convert_type(b ^ _opaque_zero(b).astype(ut), p.dtype)


def _opaque(c, like):
    """The constant c (a float) as a runtime value XLA cannot fold (e.g. so that x / c stays a division)."""
    ut = jnp.uint64 if like.dtype == jnp.float64 else jnp.uint32
    z = _opaque_zero(lax.bitcast_convert_type(like, ut)).astype(ut)
    cb = lax.bitcast_convert_type(jnp.asarray(c, like.dtype), ut)
    return lax.bitcast_convert_type(cb ^ z, like.dtype)


def _plus(p, c: float):
    """p + c for a laundered product p and a host constant c, as IEEE does it: XLA folds x + 0.0 to x, which
    keeps -0 where IEEE gives +0."""
    if c == 0.0:
        return p if math.copysign(1.0, c) < 0 else jnp.where(p == 0, jnp.zeros((), p.dtype), p)
    return p + jnp.asarray(c, p.dtype)


# ---------------------------------------------------------------------------------------------------------------
# arithmetic for the float64 parts of the stream: native float64 (x64) or double-float (two float32)

_SQRT2_F32 = np.float32(math.sqrt(2.0))


def _dfc(v: float):
    """A float64 constant as a double-float (hi, lo) of float32."""
    hi = np.float32(v)
    lo = np.float32(v - float(hi)) if math.isfinite(v) else np.float32(0.0)
    return hi, lo


def _isconst(v) -> bool:
    """A host constant (a NumPy or Python scalar), as A.const makes them; jax arrays, even concrete, are not."""
    return not isinstance(v, jax.Array)


def _two_sum(a, b):
    """s + e = a + b exactly. A constant goes second: XLA rewrites (C + x) - C to x (it reassociates constants),
    which would zero the error term."""
    if _isconst(a):
        a, b = b, a
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fast_two_sum(a, b):
    assert not _isconst(a), "fast_two_sum needs a traced first operand (see _two_sum)"
    s = a + b
    return s, b - (s - a)


def _split(a):
    """a = hi + lo with 12 significant bits each (a mask, not Veltkamp's multiply, which could be fused)."""
    hi = lax.bitcast_convert_type(lax.bitcast_convert_type(a, jnp.uint32) & _c32(0xFFFFF000), jnp.float32)
    return hi, a - hi


def _two_prod(a, b):
    """p + e = a * b exactly (Dekker): p = fl(a b), laundered so that no fused multiply-add replaces it; the partial
    products of the 12-bit halves are exact, so fusing them with the additions changes nothing."""
    ah, al = _split(a)
    bh, bl = _split(b)
    p = _launder(a * b)
    return p, (((ah * bh - p) + ah * bl) + al * bh) + al * bl


class _DF:
    """Double-float arithmetic: a value is (hi, lo), float32, |lo| <= ulp(hi)/2; ~47 bits."""

    @staticmethod
    def const(v):
        return _dfc(float(v))

    @staticmethod
    def from_f32(x):
        return x, jnp.zeros_like(x)

    @staticmethod
    def table(tab, idx):
        """Rows idx of a float64 table (along its first axis), as a double-float."""
        hi = tab.astype(np.float32)
        lo = (tab - hi.astype(np.float64)).astype(np.float32)
        return (jnp.take(jnp.asarray(hi), idx, axis=0, mode="clip"),
                jnp.take(jnp.asarray(lo), idx, axis=0, mode="clip"))

    @staticmethod
    def u52(w):
        """((w >> 12) + 0.5) 2^-52 = H1 2^-16 + H0 2^-32 + (L + 0.5) 2^-52 (three exact float32)."""
        lo, hi = w
        a = (hi >> _c32(16)).astype(jnp.float32) * np.float32(2.0 ** -16)
        b = (hi & _c32(0xFFFF)).astype(jnp.float32) * np.float32(2.0 ** -32)
        c = ((lo >> _c32(12)).astype(jnp.float32) + np.float32(0.5)) * np.float32(2.0 ** -52)
        s, e = _two_sum(a, b)
        return _DF.add_f((s, e), c)

    @staticmethod
    def u53(w):
        lo, hi = w
        a = (hi >> _c32(16)).astype(jnp.float32) * np.float32(2.0 ** -16)
        b = (hi & _c32(0xFFFF)).astype(jnp.float32) * np.float32(2.0 ** -32)
        c = (lo >> _c32(11)).astype(jnp.float32) * np.float32(2.0 ** -53)
        s, e = _two_sum(a, b)
        return _DF.add_f((s, e), c)

    @staticmethod
    def add(x, y):
        s, e = _two_sum(x[0], y[0])
        t, f = _two_sum(x[1], y[1])
        s, e = _fast_two_sum(s, e + t)
        return _fast_two_sum(s, e + f)

    @staticmethod
    def add_f(x, b):
        s, e = _two_sum(x[0], b)
        return _fast_two_sum(s, e + x[1])

    @staticmethod
    def neg(x):
        return -x[0], -x[1]

    @staticmethod
    def sub(x, y):
        return _DF.add(x, _DF.neg(y))

    @staticmethod
    def mul(x, y):
        p, e = _two_prod(x[0], y[0])
        return _fast_two_sum(p, e + (x[0] * y[1] + x[1] * y[0]))

    @staticmethod
    def mul_f(x, b):
        p, e = _two_prod(x[0], b)
        return _fast_two_sum(p, e + x[1] * b)

    @staticmethod
    def div(x, y):
        q1 = x[0] / y[0]
        r = _DF.sub(x, _DF.mul_f(y, q1))
        q2 = r[0] / y[0]
        r = _DF.sub(r, _DF.mul_f(y, q2))
        q3 = r[0] / y[0]
        return _DF.add_f(_fast_two_sum(q1, q2), q3)

    @staticmethod
    def sqrt(x):
        pos = x[0] > 0
        xs = jnp.where(pos, x[0], np.float32(1.0))
        s = jnp.sqrt(xs)
        r = _DF.sub((xs, jnp.where(pos, x[1], np.float32(0.0))), _two_prod(s, s))
        hi, lo = _fast_two_sum(s, r[0] / (s + s))
        return jnp.where(pos, hi, np.float32(0.0)), jnp.where(pos, lo, np.float32(0.0))

    _LOG_T = [np.float32(1.0 / (2 * j + 1)) for j in range(5, 11)]
    _LOG_P = [_dfc(1.0 / (2 * j + 1)) for j in (4, 3, 2, 1, 0)]
    _LN2 = _dfc(math.log(2.0))

    @staticmethod
    def log(x):
        """log of a positive normal double-float: x = 2^e m, m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(f),
        f = (m - 1)/(m + 1), sum_j f^(2j+1)/(2j+1) to j = 10 (|f| <= 0.172: error < 2^-60)."""
        bits = lax.bitcast_convert_type(x[0], jnp.uint32)
        e = (bits >> _c32(23)).astype(jnp.int32) - 127
        m_hi = lax.bitcast_convert_type((bits & _c32(0x007FFFFF)) | _c32(0x3F800000), jnp.float32)
        scale = lax.bitcast_convert_type(((127 - e) << 23).astype(jnp.uint32), jnp.float32)
        m_lo = x[1] * scale
        big = m_hi > _SQRT2_F32
        half = jnp.where(big, np.float32(0.5), np.float32(1.0))
        m = (m_hi * half, m_lo * half)
        e = e + big.astype(jnp.int32)
        f = _DF.div(_DF.add_f(m, np.float32(-1.0)), _DF.add_f(m, np.float32(1.0)))
        s = _DF.mul(f, f)
        sh = s[0]
        t = _DF._LOG_T[-1]
        for c in reversed(_DF._LOG_T[:-1]):
            t = c + sh * t
        p = (t, jnp.zeros_like(sh))
        for c in _DF._LOG_P:
            p = _DF.add(c, _DF.mul(s, p))
        logm = _DF.mul((f[0] * np.float32(2.0), f[1] * np.float32(2.0)), p)
        return _DF.add(logm, _DF.mul_f(_DF._LN2, e.astype(jnp.float32)))

    @staticmethod
    def lt(x, y):
        return (x[0] < y[0]) | ((x[0] == y[0]) & (x[1] < y[1]))

    @staticmethod
    def logs_lt_exp(u1, u2, y, t):
        """(log u1, log u2, y < exp(t)), the last as log(y) < t."""
        return _DF.log(u1), _DF.log(u2), _DF.lt(_DF.log(y), t)

    @staticmethod
    def select(c, x, y):
        return jnp.where(c, x[0], y[0]), jnp.where(c, x[1], y[1])

    @staticmethod
    def to_f32(x):
        return x[0]

    @staticmethod
    def zeros(shape):
        z = jnp.zeros(shape, jnp.float32)
        return z, z

    @staticmethod
    def divc(x, c: float):
        return _DF.div(x, _dfc(c))


class _N64:
    """Native float64 (x64 mode), with the stream's operation order and roundings."""

    @staticmethod
    def const(v):
        return np.float64(v)

    @staticmethod
    def from_f32(x):
        return x.astype(jnp.float64)

    @staticmethod
    def table(tab, idx):
        return jnp.take(jnp.asarray(tab, jnp.float64), idx, axis=0, mode="clip")

    @staticmethod
    def u52(w):
        lo, hi = w
        m = hi.astype(jnp.float64) * 2.0 ** 20 + (lo >> _c32(12)).astype(jnp.float64)
        return (m + 0.5) * 2.0 ** -52

    @staticmethod
    def u53(w):
        lo, hi = w
        return (hi.astype(jnp.float64) * 2.0 ** 21 + (lo >> _c32(11)).astype(jnp.float64)) * 2.0 ** -53

    @staticmethod
    def _ops(x, y):
        """Operands with a constant made opaque: XLA reassociates constants ((x + c1) - c2 -> x + (c1 - c2)),
        which changes the roundings."""
        if _isconst(x) and not _isconst(y):
            x = _opaque(x, y)
        elif _isconst(y) and not _isconst(x):
            y = _opaque(y, x)
        return x, y

    @staticmethod
    def add(x, y):
        x, y = _N64._ops(x, y)
        return x + y

    @staticmethod
    def sub(x, y):
        x, y = _N64._ops(x, y)
        return x - y

    @staticmethod
    def mul(x, y):
        x, y = _N64._ops(x, y)
        return _launder(x * y)

    @staticmethod
    def div(x, y):
        x, y = _N64._ops(x, y)
        return x / y

    neg = staticmethod(lambda x: -x)
    sqrt = staticmethod(jnp.sqrt)
    log = staticmethod(jnp.log)
    lt = staticmethod(lambda x, y: x < y)
    select = staticmethod(jnp.where)
    to_f32 = staticmethod(lambda x: x.astype(jnp.float32))

    @staticmethod
    def logs_lt_exp(u1, u2, y, t):
        """(log u1, log u2, y < exp(t)), as the reference computes them."""
        return jnp.log(u1), jnp.log(u2), y < jnp.exp(t)

    @staticmethod
    def zeros(shape):
        return jnp.zeros(shape, jnp.float64)

    @staticmethod
    def divc(x, c: float):
        return _N64.div(x, c)


def _arith():
    return _N64 if x64_enabled() else _DF


# ---------------------------------------------------------------------------------------------------------------
# the ziggurat's fallback (wedges and tail), vectorized over a buffer of elements, attempts in a while_loop

_R = ziggurat.R
_X = ziggurat.X
_F = ziggurat.F
_DFW = ziggurat.F[1:] - ziggurat.F[:-1]          # F[i+1] - F[i] in float64, as the reference rounds it


def _fallback(A, base, k, i, x, s, live):
    """Signed standard normals (A's numbers) of elements k (limbs) whose first draw left its layer's core (layer i,
    |value| x (A's number), sign s); `live` marks the used slots of the buffer."""

    def body(st):
        t, i, x, s, done, val = st
        w1, w2, w3 = _fallback_words(base, k, jnp.broadcast_to(t, k[0].shape).astype(_U32))
        tail = i == 0
        u1 = A.u52(w1)
        y = A.add(A.table(_F, i), A.mul(u1, A.table(_DFW, i)))
        l1, l2, ok_w = A.logs_lt_exp(u1, A.u52(w2), y, A.mul(A.mul(A.const(-0.5), x), x))
        a = A.divc(A.neg(l1), _R)
        b = A.neg(l2)
        ok_t = A.lt(A.mul(a, a), A.add(b, b))
        val_t = A.add(A.const(_R), a)
        ni = (w3[0] & _c32(255)).astype(jnp.int32)
        ns = ((w3[0] >> _c32(8)) & _c32(1)).astype(bool)
        nx = A.mul(A.u53(w3), A.table(_X, ni))
        core = A.lt(nx, A.table(_X, ni + 1))
        fin = ~done & jnp.where(tail, ok_t, ok_w | core)
        v = A.select(tail, val_t, A.select(ok_w, x, nx))
        sg = jnp.where(tail | ok_w, s, ns)
        val = A.select(fin, A.select(sg, A.neg(v), v), val)
        upd = ~done & ~tail & ~ok_w & ~core
        return (t + 1, jnp.where(upd, ni, i), A.select(upd, nx, x), jnp.where(upd, ns, s), done | fin, val)

    st = (jnp.zeros((), jnp.int32), i, x, s, ~live, A.zeros(k[0].shape))
    return lax.while_loop(lambda st: jnp.any(~st[4]), body, st)[5]


def _cap(n: int) -> int:
    """Buffer size for the ~1.49% of elements that take the fallback: mean + 6 sigma + 32."""
    m = 0.0149 * n
    return int(min(n, math.ceil(m + 6.0 * math.sqrt(m) + 32)))


def _with_fallback(out, rej, kfun, i_all, x_all, s_all, key4, to_out, A):
    """out with the elements rej replaced by their fallback values (to_out(A number) -> out.dtype)."""
    n = out.shape[0]
    if n == 0:
        return out
    cap = _cap(n)
    base = _fallback_base(key4)
    rank = jnp.cumsum(rej.astype(jnp.int32)) - 1
    count = rank[-1] + 1
    pos = jnp.arange(n, dtype=jnp.int32)

    def body(st):
        c, out = st
        lo = c * cap
        slot = jnp.where(rej & (rank >= lo) & (rank < lo + cap), rank - lo, cap)
        idx = jnp.full((cap,), n, jnp.int32).at[slot].set(pos, mode="drop")
        live = idx < n
        g = jnp.minimum(idx, n - 1)
        i = jnp.where(live, jnp.take(i_all, g), 1)
        val = _fallback(A, base, kfun(g), i, x_all(g), jnp.take(s_all, g), live)
        return c + 1, out.at[idx].set(to_out(val), mode="drop")

    return lax.while_loop(lambda st: st[0] * cap < count, body, (jnp.zeros((), jnp.int32), out))[1]


# ---------------------------------------------------------------------------------------------------------------
# words -> numbers

_K2 = np.asarray(ziggurat._K2, np.uint32)
_W2 = np.asarray(ziggurat._W2, np.float32)


def _uniform32(h, low, high):
    u = (h >> _c32(8)).astype(jnp.float32) * np.float32(2.0 ** -24)
    return _plus(_launder(u * np.float32(high - low)), float(np.float32(low)))


def _uniform64(w, low, high):
    return _plus(_launder(_N64.u53(w) * (high - low)), float(low))


def _normal32(h, kfun, key4, mean, std):
    """The float32 ziggurat (docs/stream.md §3) on halves h, then z std + mean in float32."""
    ix = (h & _c32(511)).astype(jnp.int32)
    j = h >> _c32(9)
    core = j < jnp.take(jnp.asarray(_K2), ix, mode="clip")
    z = j.astype(jnp.float32) * jnp.take(jnp.asarray(_W2), ix, mode="clip")
    A = _arith()
    z = _with_fallback(z, ~core, kfun, ix & 255, lambda g: A.from_f32(jnp.abs(jnp.take(z, g))), ix > 255, key4,
                       A.to_f32, A)
    return _plus(_launder(z * np.float32(std)), float(np.float32(mean)))


def _normal64(w, kfun, key4, mean, std):
    ix = (w[0] & _c32(511)).astype(jnp.int32)
    li = ix & 255
    x = _N64.u53(w) * jnp.take(jnp.asarray(_X), li, mode="clip")
    rej = x >= jnp.take(jnp.asarray(_X), li + 1, mode="clip")
    z = jnp.where(ix > 255, -x, x)
    z = _with_fallback(z, rej, kfun, li, lambda g: jnp.take(x, g), ix > 255, key4, lambda v: v, _N64)
    return _plus(_launder(z * std), float(mean))


_NUM = np.array([stream.AS241_A, stream.AS241_C, stream.AS241_E])     # [branch, coefficient]
_DEN = np.array([stream.AS241_B, stream.AS241_D, stream.AS241_F])


def _horner(A, x, tab, br):
    """((((((c8 x + c7) x + c6)...) x + c1 with the coefficients of branch br (per element). (Each coefficient is
    its own 1-D gather: XLA's CPU emitter re-emits a shared graph for every differently-indexed use, so broadcasts,
    slices and stacks of the per-element graph cost compile time exponentially.)"""
    c = [A.table(tab[:, j], br) for j in range(8)]
    r = A.mul(x, c[7])
    for j in range(6, 0, -1):
        r = A.mul(A.add(r, c[j]), x)
    return A.add(r, c[0])


def _trunc_scale(t) -> int:
    """E: the double-float path samples p 2^E when every p is tiny (float32's exponent range is float64's
    scaled down); 0 unless Phi(b) < 2^-40."""
    top = t.pa + t.dp
    if top >= 2.0 ** -40 or top <= 0.0:
        return 0
    return int(-math.floor(math.log2(top)))


def _trunc(w, t, dtype):
    """Truncated normal (docs/stream.md §4) from words w: values in dtype, clamped to its inner bounds."""
    A = _arith()
    E = 0 if A is _N64 else _trunc_scale(t)
    u = A.u52(w)
    p = A.add(A.const(math.ldexp(t.pa, E)), A.mul(u, A.const(math.ldexp(t.dp, E))))
    shape = w[0].shape
    if E == 0 and A is _DF:                    # double-float
        # p - 1/2 and 1 - p each from quantities exact in the word, so that each keeps its own relative precision
        # (p itself holds only ~2^-49 absolute): q = (pa + dp/2 - 1/2) + (u - 1/2) dp and
        # 1 - p = (1 - pa - dp) + (1 - u) dp, with |u - 1/2| = u52 of the word (complemented if bit 63 is clear)
        # without bit 63, and 1 - u = u52(~w); the constants exact (Fraction) before their rounding to float64.
        from fractions import Fraction

        fpa, fdp = Fraction(t.pa), Fraction(t.dp)
        top = (w[1] >> _c32(31)) == 1
        wc = (jnp.where(top, w[0], ~w[0]), jnp.where(top, w[1], ~w[1]) & _c32(0x7FFFFFFF))
        um = A.mul(A.u52(wc), A.const(t.dp))
        q = A.add(A.select(top, um, A.neg(um)), A.const(float(fpa + fdp / 2 - Fraction(1, 2))))
        # the reference's q is p rounded to float64 minus 1/2: a multiple of 2^-53 (p >= 1/2) or 2^-54 (p < 1/2);
        # near p = 1/2 that rounding is larger than q's error here, so round q to the same grid (ties aside)
        g = jnp.where(q[0] < 0, np.float32(2.0 ** -54), np.float32(2.0 ** -53))
        k1 = jnp.round(q[0] / g)
        k2 = jnp.round((q[0] / g - k1) + q[1] / g)
        q = _fast_two_sum(k1 * g, k2 * g)
        qa = A.select(A.lt(q, A.const(0.0)), A.neg(q), q)
        central = ~A.lt(A.const(0.425), qa)
        lower = A.lt(q, A.const(0.0))
        up = A.add(A.mul(A.u52((~w[0], ~w[1])), A.const(t.dp)), A.const(float(1 - fpa - fdp)))
        rt = A.select(lower, p, up)
        nlog = A.neg(A.log(rt))
    elif E == 0:
        q = A.sub(p, A.const(0.5))
        qa = A.select(A.lt(q, A.const(0.0)), A.neg(q), q)
        central = ~A.lt(A.const(0.425), qa)
        lower = A.lt(p, A.const(0.5))
        rt = A.select(lower, p, A.sub(A.const(1.0), p))
        nlog = A.neg(A.log(rt))
    else:                                      # double-float only: p < 2^-40, the lower tail
        q = A.zeros(shape)
        central = jnp.zeros(shape, bool)
        lower = jnp.ones(shape, bool)
        nlog = A.sub(A.mul_f(A._LN2, np.float32(E)), A.log(p))
    r = A.sqrt(nlog)
    near = ~A.lt(A.const(5.0), r)
    xc = A.sub(A.const(0.180625), A.mul(q, q))
    xt = A.select(near, A.sub(r, A.const(1.6)), A.sub(r, A.const(5.0)))
    xarg = A.select(central, xc, xt)
    br = jnp.where(central, 0, jnp.where(near, 1, 2))
    num = _horner(A, xarg, _NUM, br)
    num = A.select(central, A.mul(num, q), num)
    v = A.div(num, _horner(A, xarg, _DEN, br))
    v = A.select(~central & lower, A.neg(v), v)
    if t.a > -math.inf:
        v = A.select(A.lt(v, A.const(t.a)), A.const(t.a), v)
    if t.b < math.inf:
        v = A.select(A.lt(A.const(t.b), v), A.const(t.b), v)
    if t.flip:
        v = A.neg(v)
    if A is _N64:
        x = _plus(_launder(v * t.std), float(t.mean))
        x32 = x if dtype == jnp.float64 else x.astype(jnp.float32)
    else:
        x = A.add(A.mul(v, A.const(t.std)), A.const(t.mean))
        x32 = A.to_f32(x)
        if t.mean == 0.0:
            x32 = _plus(x32, float(t.mean))
    xd = x32 if x32.dtype == dtype else x32.astype(dtype)
    lo, hi = _inner_bound(dtype, t.lo, True), _inner_bound(dtype, t.hi, False)
    return jnp.clip(xd, lo, hi)


def _inner_bound(dtype, bound: float, up: bool):
    """`bound` in dtype (through float32 below float64), moved one ulp inward if rounding took it outside."""
    if dtype in (jnp.float64, jnp.float32, jnp.float16):
        return jnp.asarray(stream.inner_bound(np.dtype(dtype), bound, up), dtype)
    import ml_dtypes                                            # bfloat16 (a dependency of jax)

    bf = ml_dtypes.bfloat16
    v = np.float32(bound).astype(bf)
    if math.isfinite(bound) and (float(v) < bound if up else float(v) > bound):
        v = np.nextafter(v, bf(np.inf if up else -np.inf))
    return jnp.asarray(v, dtype)


# ---------------------------------------------------------------------------------------------------------------
# the elements of runs of logical indices

def _interleave(parts):
    """stack(parts, -1) as a chain of selects on a lane iota. A concatenate would make XLA emit the whole Philox
    graph once per operand, in branches (LLVM then takes minutes on CPU); a select evaluates the operands at one
    index, so the graph is emitted once."""
    shape = parts[0].shape + (len(parts),)
    q = lax.broadcasted_iota(jnp.int32, shape, len(shape) - 1)
    out = jnp.broadcast_to(parts[-1][..., None], shape)
    for i in range(len(parts) - 2, -1, -1):
        out = jnp.where(q == i, parts[i][..., None], out)
    return out


def _gen(key4, starts, L: int, upb: int, static_off):
    """Raw bits of R runs of L units each (upb = 8 halves or 4 words a Philox block) starting at the 64-bit unit
    indices starts = (lo[R], hi[R]). Returns halves uint32[R, L] (upb 8) or words (lo, hi) uint32[R, L] (upb 4)."""
    sh = 3 if upb == 8 else 2
    j0 = ((starts[0] >> _c32(sh)) | (starts[1] << _c32(32 - sh)), starts[1] >> _c32(sh))
    if static_off is not None:
        nb = -(-(static_off + L) // upb)
    else:
        nb = -(-(upb - 1 + L) // upb)
    b = jnp.arange(1, nb + 1, dtype=jnp.uint32)[None, :]
    c0 = _add64((j0[0][:, None], j0[1][:, None]), (b, jnp.zeros_like(b)))
    lanes = _philox(c0, key4)
    R = starts[0].shape[0]
    if upb == 8:
        units = (_interleave([x for lane in lanes for x in lane]).reshape(R, nb * 8),)
    else:
        units = (_interleave([lane[0] for lane in lanes]).reshape(R, nb * 4),
                 _interleave([lane[1] for lane in lanes]).reshape(R, nb * 4))
    if static_off is not None:
        units = tuple(u[:, static_off:static_off + L] for u in units)
    else:
        off = (starts[0] & _c32(upb - 1)).astype(jnp.int32)
        cols = off[:, None] + jnp.arange(L, dtype=jnp.int32)[None, :]
        units = tuple(jnp.take_along_axis(u, cols, axis=1) for u in units)
    return units[0] if upb == 8 else units


def _values(kind, params, key4, starts, L: int, dtype, static_off):
    """The values of R runs of L logical elements (element k of a run: starts[r] + k), flattened."""
    R = starts[0].shape[0]
    n = R * L

    def kfun(g):
        if R == 1:
            return _add64((starts[0][0], starts[1][0]), (g.astype(_U32), jnp.zeros_like(g, _U32)))
        r, e = g // L, g % L
        return _add64((jnp.take(starts[0], r), jnp.take(starts[1], r)), (e.astype(_U32), jnp.zeros_like(e, _U32)))

    wide = dtype == jnp.float64
    if kind in ("uniform", "normal") and not wide:
        h = _gen(key4, starts, L, 8, static_off).reshape(n)
        if kind == "uniform":
            v = _uniform32(h, float(params["low"]), float(params["high"]))
        else:
            v = _normal32(h, kfun, key4, float(params["mean"]), float(params["std"]))
        return v if dtype == jnp.float32 else v.astype(dtype)
    w = tuple(u.reshape(n) for u in _gen(key4, starts, L, 4, static_off))
    if kind == "uniform":
        return _uniform64(w, float(params["low"]), float(params["high"]))
    if kind == "normal":
        return _normal64(w, kfun, key4, float(params["mean"]), float(params["std"]))
    t = stream.TruncNormal(float(params["mean"]), float(params["std"]), float(params["lo"]), float(params["hi"]))
    return _trunc(w, t, dtype)


# ---------------------------------------------------------------------------------------------------------------
# public

def _dtype(dtype):
    d = jnp.dtype(dtype)
    if d not in (jnp.dtype(jnp.float32), jnp.dtype(jnp.float16), jnp.dtype(jnp.bfloat16), jnp.dtype(jnp.float64)):
        raise ValueError(f"dtype must be float32, float16, bfloat16 or float64, got {fmt(str(d))}")
    if d == jnp.float64 and not x64_enabled():
        raise ValueError("dtype float64 needs 64-bit JAX: set jax_enable_x64 (jax.config.update('jax_enable_x64', "
                         "True), or JAX_ENABLE_X64=1, or inside jax.enable_x64(True))")
    return d


def _check(kind, params):
    if kind not in _PARAMS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {fmt(kind)}")
    missing = [p for p in _PARAMS[kind] if p not in params]
    if missing:
        raise ValueError(f"{kind} needs params {', '.join(_PARAMS[kind])}; missing {', '.join(missing)}")


def _constant(kind, params, shape, dtype):
    v = {"zeros": 0.0, "ones": 1.0}.get(kind, None)
    v = float(params["value"]) if v is None else v
    host = np.dtype(np.float64) if dtype == jnp.float64 else np.dtype(np.float32)
    return jnp.full(shape, jnp.asarray(stream.to_dtype(np.array(v), host)).astype(dtype), dtype)


def sample(kind: str, params: dict, key, start, n: int, dtype=jnp.float32):
    """Logical elements start .. start+n-1 of the stream of `key` mapped by `kind` (see the module docstring),
    equal to the NumPy backend's ``stream.uniform_at`` / ``normal_at`` / ``TruncNormal.sample_at``. Traceable in
    `key` and `start`; `n`, `kind`, `params` and `dtype` are static."""
    params = dict(params or {})
    _check(kind, params)
    dtype = _dtype(dtype)
    n = int(n)
    if n < 0 or n >= 1 << 31:
        raise ValueError(f"n must be an integer in [0, 2^31), got {fmt(n)}")
    if kind in ("constant", "zeros", "ones"):
        return _constant(kind, params, (n,), dtype)
    key4 = _key(key)
    if isinstance(start, (int, np.integer)) and not isinstance(start, (bool, np.bool_)):
        start = int(start)
        if start < 0 or start + n > 1 << 64:
            raise ValueError(f"start must be an integer >= 0 with start + n <= 2^64, got {fmt(start)}")
        if n == 0:
            return jnp.zeros((0,), dtype)
        starts = (jnp.asarray([_c32(start)]), jnp.asarray([_c32(start >> 32)]))
        upb = 8 if (kind in ("uniform", "normal") and dtype != jnp.float64) else 4
        return _values(kind, params, key4, starts, n, dtype, start % upb)
    s = jnp.asarray(start)
    if s.shape != () or not jnp.issubdtype(s.dtype, jnp.integer):
        raise ValueError(f"start must be an integer or an integer scalar array, got {s.dtype}{list(s.shape)}")
    if n == 0:
        return jnp.zeros((0,), dtype)
    starts = (s.astype(_U32).reshape(1), jnp.zeros((1,), _U32))
    return _values(kind, params, key4, starts, n, dtype, None)


def _block_runs(full_shape, index):
    """(block shape, run starts (int array), run length): the contiguous runs of logical indices of the block,
    in block order (as ``numpy_backend._runs``)."""
    shape = tuple(int(d) for d in full_shape)
    index = tuple((int(a), int(b)) for a, b in index)
    if len(index) != len(shape) or any(not 0 <= a <= b <= d for (a, b), d in zip(index, shape)):
        raise ValueError(f"index must hold one (start, stop) with 0 <= start <= stop <= dim per dimension of "
                         f"{fmt(shape)}, got {fmt(index)}")
    bshape = tuple(b - a for a, b in index)
    if not shape or 0 in bshape:
        return bshape, np.zeros(0 if 0 in bshape else 1, np.uint64), (0 if 0 in bshape else 1)
    j = len(shape) - 1
    while j > 0 and index[j] == (0, shape[j]):
        j -= 1
    strides = [math.prod(shape[i + 1:]) for i in range(len(shape))]
    run = (index[j][1] - index[j][0]) * strides[j]
    starts = np.array([index[j][0] * strides[j]], np.uint64)
    for i in range(j - 1, -1, -1):
        rows = np.arange(index[i][0], index[i][1], dtype=np.uint64) * np.uint64(strides[i])
        starts = (rows[:, None] + starts[None, :]).reshape(-1)
    return bshape, starts, run


def sample_block(kind: str, params: dict, key, full_shape, index, dtype=jnp.float32):
    """The block `index` (((start, stop), ...) per dimension) of the full logical array of shape `full_shape`
    (PyTorch order, row-major: element k of ``sample(kind, params, key, 0, prod(full_shape), dtype)``), without
    generating the rest; equal to slicing the full result. Traceable in `key`."""
    params = dict(params or {})
    _check(kind, params)
    dtype = _dtype(dtype)
    if math.prod(int(d) for d in full_shape) > 1 << 64:
        raise ValueError(f"full_shape must have at most 2^64 elements, got {fmt(tuple(full_shape))}")
    bshape, starts, run = _block_runs(full_shape, index)
    if kind in ("constant", "zeros", "ones"):
        return _constant(kind, params, bshape, dtype)
    total = len(starts) * run
    if total == 0:
        return jnp.zeros(bshape, dtype)
    if total >= 1 << 31:
        raise ValueError(f"a block must have fewer than 2^31 elements, got {total}")
    key4 = _key(key)
    upb = 8 if (kind in ("uniform", "normal") and dtype != jnp.float64) else 4
    lo = (starts & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    hi = (starts >> np.uint64(32)).astype(np.uint32)
    static = int(starts[0]) % upb if len(starts) == 1 else None
    return _values(kind, params, key4, (jnp.asarray(lo), jnp.asarray(hi)), run, dtype, static).reshape(bshape)



def block_runs(full_shape, index):
    """(block shape, run starts as a uint64 array, run length) of the block `index` of `full_shape` (PyTorch
    order): the contiguous runs of logical indices ``sample_block`` generates, host-side and static. The runs of a
    block depend only on its shape and on which trailing dimensions it spans whole, so the runs of a block at
    offset o are those of the block at the origin shifted by o's logical index (``offset_runs``)."""
    return _block_runs(full_shape, index)


def offset_runs(starts, terms):
    """The run starts ``starts`` (uint64, host-side) plus ``sum(s * c for s, c in terms)`` (s a traceable integer
    scalar, e.g. a ``lax.axis_index``, c a Python int; the sum < 2^64) as uint32 limbs (lo, hi), mod 2^64."""
    starts = np.asarray(starts, np.uint64)
    x = (jnp.asarray((starts & np.uint64(0xFFFFFFFF)).astype(np.uint32)),
         jnp.asarray((starts >> np.uint64(32)).astype(np.uint32)))
    for s, c in terms:
        s = jnp.asarray(s).astype(_U32)
        x = _add64(x, _mul64lo((s, jnp.zeros_like(s)), int(c) % (1 << 64)))
    return x


def sample_runs(kind: str, params: dict, key, lo, hi, run: int, dtype=jnp.float32):
    """The values of R runs of `run` logical elements each (run r starts at logical index hi[r] * 2^32 + lo[r]),
    flattened: ``sample_block``'s computation with the run starts as (traceable) uint32 arrays, so one program
    serves every block of the same run count and length (each device's block of a sharded array, inside
    ``jax.shard_map``). `run` and R = len(lo) static, 0 < R * run < 2^31."""
    params = dict(params or {})
    _check(kind, params)
    dtype = _dtype(dtype)
    n = lo.shape[0] * int(run)
    if not 0 < n < 1 << 31:
        raise ValueError(f"a block must have 1 to 2^31 - 1 elements, got {n}")
    if kind in ("constant", "zeros", "ones"):
        return _constant(kind, params, (n,), dtype)
    return _values(kind, params, _key(key), (jnp.asarray(lo, _U32), jnp.asarray(hi, _U32)), int(run), dtype, None)
