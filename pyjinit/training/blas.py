"""BLAS threads of the NumPy trainer: fixed, or chosen by measurement while it trains (the one place for it).

Why it matters (bench/run.py ``contention``, 2 cores): quiet, 2 BLAS threads make the CNN's epoch 1.35x
faster than 1 thread; with two busy processes beside it, 1 thread is faster (OpenBLAS's threads wait for each
other whenever one is descheduled: the MLP's epoch went from 0.33 s to 18-26 s on 2 threads in issue 11's
report). No fixed count is right on both machines, so "auto" measures on the training itself: at step
``PROBE_SKIP + 1`` and then every ``PROBE_EVERY`` steps or more, it runs ``PROBE_PAIRS`` pairs of blocks, one
on 1 thread and one on all cores, and keeps the count whose steps took less time on average. A block lasts at
least ``PROBE_BLOCK`` steps and ``PROBE_BLOCK_SECONDS`` (a scheduler's time slice is a few ms: shorter blocks
do not see the load), at most ``PROBE_BLOCK_MAX`` steps. A probe stops after its first pair if all cores took
``PROBE_CLEAR`` times longer a step than 1 thread (under load such steps can take several times a normal one,
so the probe must be short there), and a probe that confirms the current choice doubles the interval to the
next (up to ``PROBE_MAX`` times).

A matrix product's rounding depends on its thread count (OpenBLAS splits the work differently). When one count
clearly wins (all cores on a quiet machine for the CNN), "auto" runs the same steps on the same counts run
after run; when they are close, or under load, the choice, and so the last bits, can differ. Pass a number
for runs that must be bitwise identical anywhere (``compare`` uses 1 by default).
"""
from __future__ import annotations

import functools
import time

from ..inits.validate import check_int

PROBE_EVERY = 500        # steps from one probe to the next (doubled, up to PROBE_MAX times, while confirmed)
PROBE_MAX = 8
PROBE_PAIRS = 4          # pairs of blocks in a full probe: 1 thread, then all cores
PROBE_BLOCK = 4          # steps a block lasts at least ...
PROBE_BLOCK_SECONDS = 0.02   # ... and seconds, up to
PROBE_BLOCK_MAX = 64     # steps
PROBE_SKIP = 2           # the run's first steps (which allocate) are not probed
PROBE_CLEAR = 1.5        # all cores this much slower a step than 1 thread after one pair: stop, take 1


def check_blas_threads(value):
    """None or "auto" -> "auto"; otherwise a thread count >= 1."""
    if value is None or value == "auto":
        return "auto"
    if isinstance(value, str):
        raise ValueError(f"blas_threads must be 'auto' or a thread count >= 1, got {value!r}")
    return check_int("blas_threads", value, 1)


@functools.lru_cache(maxsize=None)
def _libs() -> tuple:
    """The BLAS libraries NumPy loaded (threadpoolctl), or () without threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return ()
    import numpy                          # the controller sees only libraries already loaded

    del numpy

    return tuple(ThreadpoolController().select(user_api="blas").lib_controllers)


def _set(n: int) -> None:
    for lib in _libs():
        lib.set_num_threads(n)


class BlasThreads:
    """Context for one run: sets the BLAS threads on entry, restores them on exit. The trainer calls
    ``begin(k)`` before step k (1-based, counted over the whole run) and ``end()`` after it.

    ``setting``: "auto" or a count; with one core, "auto" is 1. ``used`` counts the steps run on each count,
    ``probes`` the probes made.
    """

    def __init__(self, setting):
        from ..inits.stream import threads

        self.setting = check_blas_threads(setting)
        self.cores = threads()
        self.auto = self.setting == "auto" and self.cores > 1 and bool(_libs())
        self.current = self.cores if self.setting == "auto" else self.setting
        self.used: dict = {}
        self.probes = 0
        self._saved: list = []
        self._every = PROBE_EVERY
        self._next = PROBE_SKIP + 1          # the step the next probe starts at
        self._block = None                   # the running probe's block: [threads, steps, seconds], or None
        self._pairs = 0
        self._sums: dict = {}                # per thread count: [steps, seconds] in this probe
        self._timing = None

    def __enter__(self) -> "BlasThreads":
        self._saved = [lib.get_num_threads() for lib in _libs()]
        _set(self.current)
        return self

    def __exit__(self, *exc) -> None:
        for lib, n in zip(_libs(), self._saved):
            lib.set_num_threads(n)

    def begin(self, k: int) -> None:
        n = self.current
        if self.auto:
            if self._block is None and k >= self._next:
                self._block, self._pairs = [1, 0, 0.0], 0
                self._sums = {1: [0, 0.0], self.cores: [0, 0.0]}
                self.probes += 1
            if self._block is not None:
                n = self._block[0]
                self._timing = (k, time.perf_counter())
            _set(n)
        self.used[n] = self.used.get(n, 0) + 1

    def end(self) -> None:
        if self._timing is None:
            return
        k, t = self._timing
        self._timing = None
        dt = time.perf_counter() - t
        blk = self._block
        blk[1] += 1
        blk[2] += dt
        self._sums[blk[0]][0] += 1
        self._sums[blk[0]][1] += dt
        if blk[1] < PROBE_BLOCK or (blk[2] < PROBE_BLOCK_SECONDS and blk[1] < PROBE_BLOCK_MAX):
            return                                              # the block goes on
        if blk[0] == 1:
            self._block = [self.cores, 0, 0.0]
            return
        self._pairs += 1
        one, many = (s / max(n, 1) for n, s in (self._sums[1], self._sums[self.cores]))
        if self._pairs < PROBE_PAIRS and many <= PROBE_CLEAR * one:
            self._block = [1, 0, 0.0]
            return
        choice = 1 if one <= many else self.cores
        self._every = min(2 * self._every, PROBE_MAX * PROBE_EVERY) if choice == self.current else PROBE_EVERY
        self.current, self._block, self._next = choice, None, k + self._every
        _set(choice)

    def mostly(self) -> int:
        """The thread count most steps ran on since `reset_count` (the setting before any step)."""
        return max(self.used, key=self.used.get) if self.used else self.current

    def reset_count(self) -> None:
        """Start counting `used` afresh (the trainer does at every epoch)."""
        self.used = {}
