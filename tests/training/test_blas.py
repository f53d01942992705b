"""The trainer's BLAS threads: a fixed count is applied and restored; "auto" keeps the faster count by timing."""
import time

import numpy as np
import pytest

import pyjinit as pj
from pyjinit.training import blas as B

pytestmark = pytest.mark.skipif(not B._libs(), reason="threadpoolctl sees no BLAS library in NumPy")


def _now() -> int:
    return B._libs()[0].get_num_threads()


def test_check_blas_threads_names_the_argument_and_the_allowed_values():
    assert B.check_blas_threads(None) == "auto" and B.check_blas_threads("auto") == "auto"
    assert B.check_blas_threads(2) == 2
    with pytest.raises(ValueError, match="blas_threads must be 'auto' or a thread count >= 1, got 'all'"):
        B.check_blas_threads("all")
    with pytest.raises(ValueError, match="blas_threads must be an integer >= 1"):
        B.check_blas_threads(0)


def test_fixed_count_is_set_inside_and_restored_after():
    before = _now()
    with B.BlasThreads(1) as b:
        assert _now() == 1
        b.begin(1)
        b.end()
    assert _now() == before and b.used == {1: 1}


@pytest.mark.parametrize("slow_on", ["many", "one"])
def test_auto_keeps_the_count_whose_steps_are_faster(monkeypatch, slow_on):
    """Steps whose time depends on the BLAS threads they run with (2 ms more on the slow count). Outside the
    probes every step runs on the fast count. All cores 2 ms slower: each probe stops after its first pair of
    blocks (PROBE_BLOCK slow steps). 1 thread slower: probes run in full (PROBE_STEPS slow steps each). A
    probe that confirms the choice doubles the interval to the next."""
    monkeypatch.setenv("PYJINIT_NUM_THREADS", "2")
    monkeypatch.setattr(B, "PROBE_BLOCK_SECONDS", 0.0)          # blocks of exactly PROBE_BLOCK steps
    fast = 1 if slow_on == "many" else 2
    steps = 8 * B.PROBE_EVERY
    with B.BlasThreads("auto") as b:
        assert b.auto and b.cores == 2
        in_probe = []
        for k in range(1, steps + 1):
            b.begin(k)
            in_probe.append(b._block is not None)
            if (_now() > 1) == (slow_on == "many"):
                time.sleep(0.002)
            b.end()
            if not in_probe[-1] and k > B.PROBE_SKIP:          # the first steps run on all cores
                assert _now() == b.current == fast, k
    # probes start at steps 3, then 500 (first choice: 1 = a change from all cores, or all cores = confirmed)
    # later, then at doubling intervals: at most 1 + log2(8 * 500 / 500) + 1 probes in 4000 steps
    assert 2 <= b.probes <= 5
    per_probe = B.PROBE_BLOCK * (1 if slow_on == "many" else B.PROBE_PAIRS)
    assert b.used[3 - fast] == b.probes * per_probe + (B.PROBE_SKIP if fast == 1 else 0)
    assert b.used[fast] == steps - b.used[3 - fast] and b.mostly() == fast


def test_probe_blocks_last_long_enough_to_see_the_load(monkeypatch):
    """Steps of about 1 ms: a block runs until it has lasted PROBE_BLOCK_SECONDS (10 ms here), so about 10
    steps, never fewer than PROBE_BLOCK nor more than PROBE_BLOCK_MAX."""
    monkeypatch.setenv("PYJINIT_NUM_THREADS", "2")
    monkeypatch.setattr(B, "PROBE_BLOCK_SECONDS", 0.01)
    with B.BlasThreads("auto") as b:
        k = 0
        while b.probes == 0 or b._block is not None:
            k += 1
            b.begin(k)
            time.sleep(0.001)
            b.end()
    per_pair = (k - B.PROBE_SKIP) / B.PROBE_PAIRS      # equal steps: no early stop, every pair runs
    assert 2 * B.PROBE_BLOCK <= per_pair <= 2 * 11, per_pair


def test_trainer_records_its_threads_and_a_fixed_count_reproduces(small_data):
    x, y, xt, yt = small_data
    kw = dict(hidden=(32,), epochs=2, verbose=False, backend="numpy", seed=3)
    a = pj.train(x, y, xt, yt, blas_threads=1, **kw)
    b = pj.train(x, y, xt, yt, blas_threads=1, **kw)
    assert a.blas_threads == [1, 1]
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
    auto = pj.train(x, y, xt, yt, **kw)
    assert len(auto.blas_threads) == 2 and all(1 <= n for n in auto.blas_threads)
    assert np.isclose(auto.history[-1]["train_loss"], a.history[-1]["train_loss"], rtol=1e-3)
    assert pj.TrainResult.from_dict(auto.to_dict()).blas_threads == auto.blas_threads
    with pytest.raises(ValueError, match="blas_threads"):
        pj.train(x, y, xt, yt, blas_threads="many", **kw)
