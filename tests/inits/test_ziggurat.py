"""Stream v2's normals (docs/stream.md §3): the ziggurat's tables (one set of numbers in both languages), its
mixer, and its distribution against the normal's, with sample-size-derived tolerances."""
import math
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.stats as ss

from pyjinit.inits import stream as st
from pyjinit.inits import ziggurat as z

JL = Path(__file__).resolve().parents[2] / "julia" / "JInit" / "src" / "ziggurat.jl"


def _julia_table(name):
    body = re.search(rf"const {name} = \[(.*?)\]", JL.read_text(), re.S).group(1)
    return np.array([float.fromhex(t) for t in body.replace(",", " ").split()])


def test_the_julia_file_has_the_same_tables():
    assert np.array_equal(_julia_table("ZIG_X"), z.X) and np.array_equal(_julia_table("ZIG_F"), z.F)
    keys_jl = JL.parent / "keys.jl"
    assert f"const STREAM_VERSION = {st.STREAM_VERSION}" in keys_jl.read_text() and st.STREAM_VERSION == 3
    assert float(re.search(r"const ZIG_R = (\S+)", JL.read_text()).group(1)) == z.R


def test_tables_are_a_ziggurat_of_equal_layers():
    """Every layer (X[i] wide, from f(X[i]) to f(X[i+1])) has the base layer's area V, to 1e-12 relative; the
    base layer is the rectangle [0, R] x [0, f(R)] plus the tail beyond R; F = f(X) to 1 ulp."""
    X, F = z.X, z.F
    v = z.R * math.exp(-z.R ** 2 / 2) + math.sqrt(math.pi / 2) * math.erfc(z.R / math.sqrt(2))
    assert X[0] * F[1] == pytest.approx(v, rel=1e-12) and X[1] == z.R and X[256] == 0
    areas = X[1:256] * (F[2:] - F[1:256])
    assert np.allclose(areas, v, rtol=1e-12, atol=0)
    assert np.all(np.abs(F - np.exp(-X ** 2 / 2)) <= np.spacing(F))
    assert np.all(np.diff(X[1:]) < 0) and z.K.dtype == np.uint32 and z.K[255] == 0
    assert np.all(z.K[:255] <= 2 ** 23) and np.array_equal(z.W32, (X[:256] * 2.0 ** -23).astype(np.float32))


def test_mix64_is_splitmix64():
    """SplitMix64 seeded with 0: its first outputs (the published reference values) are mix64(k * GAMMA)."""
    assert [z.mix64(k * z.GAMMA) for k in (1, 2)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4]
    arr = z.mix64(np.array([z.GAMMA, 2 * z.GAMMA % 2 ** 64], np.uint64))
    assert arr.tolist() == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ziggurat_is_normal(dtype):
    """n = 2^23 draws (fixed seed): KS distance below 2.7/sqrt(n) (the 1e-6 quantile of the Kolmogorov
    distribution); tail counts beyond 2, 3, 4 sigma within 5 binomial sigma; mean and variance within 5 sigma."""
    n = 1 << 23
    x = st.normal(11, n, np.dtype(dtype), 0.0, 1.0).astype(np.float64)
    assert ss.kstest(x, "norm").statistic < 2.7 / math.sqrt(n)
    for t in (2.0, 3.0, 4.0):
        p = math.erfc(t / math.sqrt(2))
        assert abs(np.sum(np.abs(x) > t) - n * p) < 5 * math.sqrt(n * p * (1 - p)), t
    assert abs(x.mean()) < 5 / math.sqrt(n) and abs(x.var() - 1) < 5 * math.sqrt(2 / n)
    assert (x > z.R).any() and (x < -z.R).any()            # the tail path (Marsaglia's) is used, both signs


def test_fallback_fraction_and_reach():
    """1.5% of float32 draws leave their layer's core (the expected fraction from the tables, 0.25 percentage
    points = many binomial sigmas at n = 2^20); the tail reaches R + 36.7 / R = 13.7 sigma (the smallest u52)."""
    h = st.words(3, 1 << 19).view(np.uint32)
    frac = np.mean((h >> 9) >= z.K[h & 255])
    expect = 1 - np.mean(z.X[1:] / z.X[:-1])
    assert abs(frac - expect) < 0.0025 and 0.013 < expect < 0.016
    assert z.R - math.log(z._u52_open(np.uint64(0))) / z.R > 13.7


def test_any_slice_is_the_whole_arrays():
    for dtype in (np.float16, np.float32, np.float64):
        whole = st.normal(5, 70001, np.dtype(dtype), 0.25, 3.0)
        for a, m in ((0, 70001), (1, 9), (65533, 11), (69990, 11), (12345, 1)):
            assert np.array_equal(st.normal_at(5, a, m, np.dtype(dtype), 0.25, 3.0), whole[a:a + m])
