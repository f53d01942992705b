"""BLAS threads of the NumPy trainer: fixed, or chosen by measurement while it trains (the one place for it).

Why it matters (bench/run.py ``contention``, 2 cores): quiet, the MLP's epoch takes 0.38 s on 2 BLAS threads
and 0.70 s on 1; with two busy processes beside it, 1.75 s on 2 threads (OpenBLAS's threads wait for each
other whenever one is descheduled) and 1.37 s on 1. No fixed count is right on both machines, so "auto"
measures on the training itself: every ``PROBE_EVERY`` steps it runs ``PROBE_STEPS`` steps on 1 thread and as
many on all cores, in alternating blocks, and keeps the count whose steps took less time in all, until the next
probe.

A matrix product's rounding depends on its thread count (OpenBLAS splits the work differently). The probe
steps always use the same counts, so on a quiet machine (all cores win every probe) "auto" gives the same
numbers run after run; under load the choice, and so the rounding, can differ. Pass a number for runs that
must be bitwise identical anywhere (``compare`` uses 1 by default).
"""
from __future__ import annotations

import functools
import time

from ..inits.validate import check_int

PROBE_EVERY = 500        # steps from one probe to the next
PROBE_STEPS = 16         # steps on each thread count per probe, after PROBE_SKIP steps: in blocks of
PROBE_BLOCK = 4          # PROBE_BLOCK steps, 1 thread and all cores alternately (each block spans a few ms)
PROBE_SKIP = 2           # the first steps of a window are not timed (the run's first steps allocate)


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
    import numpy  # noqa: F401  (the controller sees only libraries already loaded)

    return tuple(ThreadpoolController().select(user_api="blas").lib_controllers)


def _set(n: int) -> None:
    for lib in _libs():
        lib.set_num_threads(n)


class BlasThreads:
    """Context for one run: sets the BLAS threads on entry, restores them on exit. The trainer calls
    ``begin(k)`` before step k (1-based, counted over the whole run) and ``end()`` after it.

    ``setting``: "auto" or a count; with one core, "auto" is 1. ``used`` counts the steps run on each count.
    """

    def __init__(self, setting):
        from ..inits.stream import threads

        self.setting = check_blas_threads(setting)
        self.cores = threads()
        self.auto = self.setting == "auto" and self.cores > 1 and bool(_libs())
        self.current = self.cores if self.setting == "auto" else self.setting
        self.used: dict = {}
        self._saved: list = []
        self._probe: dict = {}
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
            p = (k - 1) % PROBE_EVERY - PROBE_SKIP
            if p == 0:
                self._probe = {1: 0.0, self.cores: 0.0}
            if 0 <= p < 2 * PROBE_STEPS and self._probe:
                n = 1 if (p // PROBE_BLOCK) % 2 == 0 else self.cores
                self._timing = (n, time.perf_counter())
            elif p == 2 * PROBE_STEPS and self._probe:
                self.current = n = min(self._probe, key=self._probe.get)   # ties: 1 thread
                self._probe = {}
            _set(n)
        self.used[n] = self.used.get(n, 0) + 1

    def end(self) -> None:
        if self._timing is not None:
            n, t = self._timing
            self._probe[n] += time.perf_counter() - t
            self._timing = None

    def mostly(self) -> int:
        """The thread count most steps ran on (the setting before any step)."""
        return max(self.used, key=self.used.get) if self.used else self.current
