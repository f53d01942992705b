"""The stream spec on the NumPy side: test vectors, quantile and CDF accuracy, symmetry, reach."""
import math

import numpy as np
import pytest
import scipy.special as sp

from . import make_stream_vectors
from pyjinit.inits import stream as st


def test_vectors_file_is_current():
    """The committed vectors (which the Julia suite checks) are what the NumPy backend produces now."""
    assert make_stream_vectors.PATH.read_text().splitlines() == make_stream_vectors.lines()


def test_words_are_numpy_philox_with_seed_as_key():
    for seed in (0, 5, 2**64 + 7, 2**128 - 1):
        bg = np.random.Philox(key=seed)
        assert np.array_equal(st.words(seed, 9), bg.random_raw(9))
    # key = (seed mod 2^64, seed >> 64)
    assert np.array_equal(st.words(3 + (2 << 64), 4), np.random.Philox(key=(3, 2)).random_raw(4))


def test_uniform_maps_follow_numpy_generator():
    u32 = st.uniform(9, 11, np.dtype(np.float32), 0.0, 1.0)
    w = st.words(9, 6)
    halves = np.stack([w & np.uint64(0xFFFFFFFF), w >> np.uint64(32)], axis=1).reshape(-1)[:11]
    assert np.array_equal(u32, ((halves >> np.uint64(8)).astype(np.float32) * np.float32(2.0**-24)))
    u64 = st.uniform(9, 5, np.dtype(np.float64), 0.0, 1.0)
    assert np.array_equal(u64, (st.words(9, 5) >> np.uint64(11)) * 2.0**-53)


def test_norminv_matches_scipy_everywhere():
    u = st.u52_open(st.words(1, 1 << 18))
    extra = np.array([2.0**-53, 1e-300 + 2.0**-53, 1e-10, 0.075, 0.0749999, 0.925, 0.5, 1 - 2.0**-53])
    for p in (u, extra):
        z = st.norminv(p)
        ref = sp.ndtri(p)
        assert np.all(np.abs(z - ref) <= 4e-15 * np.maximum(1, np.abs(ref)))


def test_normal_reach_and_symmetry():
    lo = 2.0**-53
    z = st.norminv(np.array([lo, 1 - lo]))
    assert z[1] == -z[0]
    assert 8.2 < z[1] < 8.21                     # the mapping reaches +-8.2095 std
    w = np.array([0, 2**64 - 1], dtype=np.uint64)
    assert np.array_equal(st.u52_open(w), [lo, 1 - lo])
    u = st.u52_open(st.words(4, 1000))
    assert np.array_equal(st.norminv(1 - u), -st.norminv(u))


@pytest.mark.parametrize("x", [-37.0, -30.0, -10.0, -6.0, -3.0001, -3.0, -2.9999, -2.0, -1.0, -1e-8, 0.0, 0.5, 2.0, 8.0])
def test_normcdf(x):
    assert math.isclose(st.normcdf(x), sp.ndtr(x), rel_tol=5e-13)


def test_bounded_is_mulhi():
    w = st.words(2, 1000)
    for n in (1, 2, 3, 1000, 2**31 - 1):
        got = st.bounded(w, n)
        ref = np.array([(int(x) * n) >> 64 for x in w])
        assert np.array_equal(got, ref) and got.min() >= 0 and got.max() < n


def test_choose_subsets_is_a_partial_shuffle():
    ch = st.choose_subsets(3, 50, 20, 7)
    assert ch.shape == (50, 7)
    assert all(len(set(r)) == 7 and min(r) >= 0 and max(r) < 20 for r in ch.tolist())
