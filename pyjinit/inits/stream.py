"""The counter-based stream, NumPy side (docs/stream.md is the specification).

Twin of ``julia/JInit/src/stream.jl`` and ``fill.jl``. Words come from NumPy's own C Philox4x64-10:
``numpy.random.Philox(key=seed)`` has key (seed mod 2^64, seed >> 64) and emits block j =
philox(counter j + 1) as 4 words in lane order, exactly as JInit's ``PhiloxStream``.
Every function returns values in *logical order* (row-major over the PyTorch-order shape).
"""
from __future__ import annotations

import math
import os

import numpy as np

from .validate import check_seed

_U64 = np.uint64


def bit_generator(seed: int) -> np.random.Philox:
    return np.random.Philox(key=check_seed(seed))


def words(seed: int, n: int) -> np.ndarray:
    """The first n 64-bit words of the stream of `seed`."""
    return bit_generator(seed).random_raw(n)


def words_at(seed: int, start: int, n: int) -> np.ndarray:
    """Words start .. start+n-1 of the stream of `seed`, generated directly: Philox's counter is set to the
    4-word block that holds word `start` (word k is lane k % 4 of block k // 4)."""
    b, r = divmod(int(start), 4)
    g = np.random.Philox(key=check_seed(seed), counter=b)
    return g.random_raw(r + n)[r:] if n > 0 else np.empty(0, np.uint64)


def halves_at(seed: int, start: int, n: int) -> np.ndarray:
    """32-bit halves start .. start+n-1 (half k is the low half of word k // 2 when k is even, else the
    high half), as uint64 values < 2^32."""
    w = words_at(seed, start // 2, (start % 2 + n + 1) // 2)
    h = np.empty(2 * len(w), np.uint64)
    h[0::2] = w & _U64(0xFFFFFFFF)
    h[1::2] = w >> _U64(32)
    return h[start % 2:start % 2 + n]


def u52_open(w: np.ndarray) -> np.ndarray:
    """Uniform on the open interval (0, 1): ((w >> 12) + 0.5) * 2^-52 (exact; symmetric under u -> 1-u)."""
    u = (w >> _U64(12)).astype(np.float64)
    u += 0.5
    u *= 2.0 ** -52
    return u


# Wichura (1988), AS 241: coefficients c1..c8 of numerator/denominator polynomials.
AS241_A = (3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
           45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727)
AS241_B = (1.0, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077,
           21213.794301586595867, 39307.89580009271061, 28729.085735721942674, 5226.495278852545925)
AS241_C = (1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
           1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4)
AS241_D = (1.0, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455,
           0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9)
AS241_E = (6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
           0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7)
AS241_F = (1.0, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525,
           7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15)


def _horner8(x: np.ndarray, c) -> np.ndarray:
    """((((((c8 x + c7) x + c6) x + …) x + c1, one rounding per operation (no FMA), like the Julia twin."""
    r = np.multiply(x, c[7])
    for i in range(6, 0, -1):
        r += c[i]
        r *= x
    r += c[0]
    return r


def _ratio(x, num, den):
    return _horner8(x, num) / _horner8(x, den)


_CHUNK = 1 << 16   # elements per pass: keeps the temporaries in cache


def norminv(p: np.ndarray) -> np.ndarray:
    """Phi^-1(p), the standard normal quantile by AS 241, elementwise (float64 in, float64 out)."""
    p = np.asarray(p, dtype=np.float64)
    out = np.empty_like(p)
    flat_p, flat_o = p.reshape(-1), out.reshape(-1)
    for s in range(0, flat_p.size, _CHUNK):
        _norminv_chunk(flat_p[s:s + _CHUNK], flat_o[s:s + _CHUNK])
    return out


def _norminv_chunk(p: np.ndarray, out: np.ndarray) -> None:
    q = p - 0.5
    r = q * q
    np.subtract(0.180625, r, out=r)
    num = _horner8(r, AS241_A)
    num *= q
    np.divide(num, _horner8(r, AS241_B), out=out)        # the central branch, for every element
    np.abs(q, out=q)
    tail = np.flatnonzero(q > 0.425)                     # ~15%: recomputed with the tail branches
    if tail.size == 0:
        return
    pt = p[tail]
    lower = pt < 0.5                                     # q < 0 exactly when p < 0.5
    rt = np.where(lower, pt, 1.0 - pt)
    np.log(rt, out=rt)
    np.negative(rt, out=rt)
    np.sqrt(rt, out=rt)
    v = np.empty_like(rt)
    near = rt <= 5.0
    x = rt[near] - 1.6
    v[near] = _ratio(x, AS241_C, AS241_D)
    far = ~near
    if far.any():
        x = rt[far] - 5.0
        v[far] = _ratio(x, AS241_E, AS241_F)
    np.negative(v, out=v, where=lower)
    out[tail] = v


def normcdf(x: float) -> float:
    """Phi(x) (scalar): Marsaglia's Taylor series for |x| < 3, the Mills-ratio continued fraction
    beyond; Phi(x) = 1 - Phi(-x) for x > 0. Same operations as the Julia twin."""
    x = float(x)
    if math.isnan(x):
        return x
    if x > 0:
        return 1.0 - normcdf(-x)
    if x == -math.inf:
        return 0.0
    pdf = math.exp(-0.5 * x * x) * 0.3989422804014327
    if x > -3.0:
        s, t, i = x, x, 1.0
        while True:
            i += 2.0
            t = t * x * x / i
            s2 = s + t
            if s2 == s:
                break
            s = s2
        return 0.5 + pdf * s
    z = -x
    f = z
    for n in range(200, 0, -1):
        f = z + n / f
    return pdf / f


def to_dtype(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Round float64 values to dtype (float16 through float32, as the Julia twin)."""
    if dtype == np.float16:
        return x.astype(np.float32).astype(np.float16)
    return x.astype(dtype, copy=False)


def inner_bound(dtype: np.dtype, bound: float, up: bool):
    """`bound` rounded into dtype, moved inward if rounding took it outside."""
    t = to_dtype(np.array([bound]), dtype)[0]
    if up and float(t) < bound:          # compare in float64 (NumPy 2 would compare in dtype)
        return np.nextafter(t, dtype.type(np.inf))
    if not up and float(t) > bound:
        return np.nextafter(t, dtype.type(-np.inf))
    return t


# --- distributions: n values in logical order ------------------------------------------------------

THREADS_ENV = "PYJINIT_NUM_THREADS"


def env_threads():
    """$PYJINIT_NUM_THREADS as a thread count (the NumPy backend's fill threads, stream.threads), or None when it
    is unset or empty (then every CPU the process may use). Anything else than an integer >= 1 ("0", "abc",
    "-2", "1.5") is a UsageError (a ValueError) naming the variable and the allowed values, never ignored.

    >>> n = env_threads(); n is None or n >= 1
    True
    """
    v = os.environ.get(THREADS_ENV, "").strip()
    if not v:
        return None
    if v.isdigit() and int(v) >= 1:
        return int(v)
    from ..support.messages import UsageError

    raise UsageError(f"{THREADS_ENV} must be an integer >= 1 (the NumPy backend's threads; unset or empty: every "
                     f"CPU this process may use), got {v!r}")


def threads() -> int:
    """Threads the NumPy backend fills large arrays with: PYJINIT_NUM_THREADS, else every CPU this process may
    use. Values never depend on it (each chunk is a function of the seed and its element indices). A value that
    is not a count >= 1 is an error naming the variable (env_threads)."""
    n = env_threads()
    if n is not None:
        return n
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _fill(n: int, dtype: np.dtype, chunk, size: int = _CHUNK) -> np.ndarray:
    """A new (n,) array of dtype whose elements a .. a+m-1 `chunk(a, m, view)` writes, chunk by chunk (`size`
    elements, a multiple of 8, so each starts a Philox block), on `threads()` threads. Random words, ufuncs and
    the copies release the GIL; the temporaries are a few chunks, not the array. A chunk's Python overhead
    (about ten NumPy calls) holds the GIL, so the kinds with few temporaries take larger chunks."""
    out = np.empty(n, dtype)
    starts = range(0, n, size)
    k = min(threads(), len(starts))
    if k <= 1:
        for a in starts:
            chunk(a, min(size, n - a), out[a:a + size])
        return out
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(k) as pool:
        for f in [pool.submit(chunk, a, min(size, n - a), out[a:a + size]) for a in starts]:
            f.result()
    return out


def _uniform_chunk(seed, a, m, dtype, low, high, out) -> None:
    """Elements a .. a+m-1 (a a multiple of 8) of `uniform`, with NumPy's Generator.random on a Philox whose
    counter starts at the block of element a."""
    if dtype == np.float64:
        np.random.Generator(np.random.Philox(key=check_seed(seed), counter=a // 4)).random(m, np.float64, out=out)
        out *= high - low
        out += low
        return
    u = out if dtype == np.float32 else np.empty(m, np.float32)
    np.random.Generator(np.random.Philox(key=check_seed(seed), counter=a // 8)).random(m, np.float32, out=u)
    u *= np.float32(high - low)
    u += np.float32(low)
    if u is not out:
        out[...] = u


def uniform(seed: int, n: int, dtype: np.dtype, low: float, high: float) -> np.ndarray:
    """U[low, high): float32/float16 from 32-bit halves (two a word, low half first), (h >> 8) * 2^-24,
    then low32 + (high - low)32 * u in float32; float64 from whole words, (w >> 11) * 2^-53."""
    return _fill(n, dtype, lambda a, m, out: _uniform_chunk(seed, a, m, dtype, low, high, out), 16 * _CHUNK)


def uniform_at(seed: int, start: int, n: int, dtype: np.dtype, low: float, high: float) -> np.ndarray:
    """Elements start .. start+n-1 of `uniform(seed, ...)`, bitwise: the same maps as NumPy's Generator.random
    ((h >> 8) * 2^-24 in float32; (w >> 11) * 2^-53 in float64), from words generated directly."""
    if dtype == np.float64:
        u = (words_at(seed, start, n) >> _U64(11)).astype(np.float64)
        u *= 2.0 ** -53
        u *= high - low
        u += low
        return u
    u = (halves_at(seed, start, n) >> _U64(8)).astype(np.float32)
    u *= np.float32(2.0 ** -24)
    u *= np.float32(high - low)
    u += np.float32(low)
    return u if dtype == np.float32 else u.astype(np.float16)


STREAM_VERSION = 3          # docs/stream.md: v3 keys by a Philox block (keys.py); v2 normals by a ziggurat (§3)


def _normal_chunk(seed, a, m, dtype, mean, std, out) -> None:
    """Elements a .. a+m-1 of `normal` into out (a a multiple of 8): the ziggurat's standard normals
    (ziggurat.normal32 from halves below float64, normal64 from words), then std * z + mean in the working
    precision (float32 below float64; float16 rounds the float32 result)."""
    from . import ziggurat

    if dtype == np.float64:
        ziggurat.normal64(seed, a, m, out)
        out *= std
        out += mean
        return
    _scaled32(lambda z: ziggurat.normal32(seed, a, m, z), dtype, mean, std, out)


def _scaled32(draw, dtype, mean, std, out) -> None:
    """out = std * z + mean in float32 (float16 rounds the float32 result), z the standard normals `draw(z)`
    writes into a float32 array of out's length (out itself when it is float32)."""
    z = out if dtype == np.float32 else np.empty(len(out), np.float32)
    draw(z)
    z *= np.float32(std)
    z += np.float32(mean)
    if z is not out:
        out[...] = z


def normal(seed: int, n: int, dtype: np.dtype, mean: float, std: float) -> np.ndarray:
    """N(mean, std²) by the ziggurat of stream v2 (docs/stream.md §3)."""
    return _fill(n, dtype, lambda a, m, out: _normal_chunk(seed, a, m, dtype, mean, std, out), 4 * _CHUNK)


def normal_at(seed: int, start: int, n: int, dtype: np.dtype, mean: float, std: float) -> np.ndarray:
    """Elements start .. start+n-1 of `normal(seed, ...)`, bitwise: generated from the 8-element boundary below
    `start` (the ziggurat's chunks start on a Philox block) and cut."""
    a = int(start) - int(start) % 8
    buf = np.empty(int(start) - a + n, dtype)
    _normal_chunk(seed, a, len(buf), dtype, mean, std, buf)
    return buf[int(start) - a:]


def normal_runs(seed: int, runs: list, dtype: np.dtype, mean: float, std: float) -> np.ndarray:
    """The elements of `normal(seed, ...)` at the runs [(k0, length)], concatenated: bitwise `normal_at`'s. For
    float32/float16 the runs are mapped together, in groups of about 4 _CHUNK elements (a tile's many short
    rows would otherwise each pay the per-call work); float64 goes run by run."""
    out = np.empty(sum(m for _, m in runs), dtype)
    if dtype == np.float64:
        pos = 0
        for k0, m in runs:
            out[pos:pos + m] = normal_at(seed, k0, m, dtype, mean, std)
            pos += m
        return out
    from . import ziggurat

    pos, group, size = 0, [], 0
    for i, (k0, m) in enumerate(runs):
        group.append((k0, m))
        size += m
        if size >= 4 * _CHUNK or i == len(runs) - 1:
            _scaled32(lambda z, g=group: ziggurat.normal32_runs(seed, g, z), dtype, mean, std, out[pos:pos + size])
            pos, group, size = pos + size, [], 0
    return out


class TruncNormal:
    """Normal(mean, std) truncated to [lo, hi] by inverse CDF, sampled on the side of zero with the
    smaller tail probabilities (negated when a + b > 0); mirrors JInit's `truncnormal`."""

    def __init__(self, mean: float, std: float, lo: float, hi: float):
        # std == 0: z = 0 for every draw, so each value is the mean, then clamped to [lo, hi]
        a, b = ((lo - mean) / std, (hi - mean) / std) if std > 0 else (0.0, 0.0)
        self.flip = a + b > 0
        if self.flip:
            a, b = -b, -a
        self.pa = normcdf(a)
        self.dp = normcdf(b) - self.pa
        self.a, self.b, self.mean, self.std, self.lo, self.hi = a, b, mean, std, lo, hi

    def sample(self, seed: int, n: int, dtype: np.dtype) -> np.ndarray:
        def chunk(a, m, out):
            out[...] = self.from_words(words_at(seed, a, m), dtype)

        return _fill(n, dtype, chunk)

    def sample_at(self, seed: int, start: int, n: int, dtype: np.dtype) -> np.ndarray:
        """Elements start .. start+n-1 of `sample(seed, ...)`, bitwise."""
        return self.from_words(words_at(seed, start, n), dtype)

    def from_words(self, w: np.ndarray, dtype: np.dtype) -> np.ndarray:
        u = u52_open(w)
        u *= self.dp
        u += self.pa
        z = np.clip(norminv(u), self.a, self.b)
        if self.flip:
            np.negative(z, out=z)
        z *= self.std
        z += self.mean
        x = to_dtype(z, dtype)
        return np.clip(x, inner_bound(dtype, self.lo, True), inner_bound(dtype, self.hi, False), out=x)


QR_TOLERANCE = {"float32": 1e-5, "float64": 1e-10}


def qr_tolerance(dtype) -> float:
    """The absolute tolerance within which two implementations of orthogonal (docs/stream.md §5) agree, element
    for element: a QR by another LAPACK, cuSOLVER or Julia's rounds differently, and a Gaussian matrix's
    conditioning can amplify that beyond a few ulps. 1e-5 for float32/float16 (working precision float32),
    1e-10 for float64. Measured: torch's CPU LAPACK against NumPy's, 10x64 to 256x256, at most 7.2e-7 (float32)
    and 4.1e-15 (float64); Julia's against NumPy's within the same bounds (tests/inits/test_cross_backend.py)."""
    return QR_TOLERANCE["float64" if np.dtype(dtype) == np.float64 else "float32"]


def bounded(w: np.ndarray, n) -> np.ndarray:
    """floor(w * n / 2^64) for words w and 0 < n < 2^32: an integer in [0, n) from one word."""
    n = np.asarray(n, dtype=_U64)
    hi = (w >> _U64(32)) * n
    lo = ((w & _U64(0xFFFFFFFF)) * n) >> _U64(32)
    return ((hi + lo) >> _U64(32)).astype(np.int64)


def choose_subsets(seed: int, groups: int, n: int, m: int) -> np.ndarray:
    """For each of `groups` groups, m distinct indices of 0..n-1 by a partial Fisher-Yates shuffle.
    Step i (0 <= i < m) of group g reads word i * groups + g: j = i + bounded(word, n - i), then swaps
    positions i and j. Returns a (groups, m) array."""
    w = words(seed, m * groups)
    perm = np.tile(np.arange(n, dtype=np.int64), (groups, 1))
    rows = np.arange(groups)
    for i in range(m):
        j = i + bounded(w[i * groups:(i + 1) * groups], n - i)
        pi = perm[rows, i].copy()
        perm[rows, i] = perm[rows, j]
        perm[rows, j] = pi
    return perm[:, :m]
