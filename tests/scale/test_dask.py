"""pyjinit.dask on a distributed LocalCluster (2 worker processes): every chunking gives the in-memory array
exactly, Zarr round trips (and an interrupted write never looks complete), and a comparison sweep on the
cluster equals the serial one."""
import concurrent.futures
import json
import os
import subprocess
import sys

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="dask is not installed (pip install 'pyjinit[dask]'; .ci/run does)")
distributed = pytest.importorskip("distributed", reason="distributed is not installed (pyjinit[dask])")
zarr = pytest.importorskip("zarr", reason="zarr is not installed (pyjinit[dask])")

import pyjinit as pj  # noqa: E402
import pyjinit.dask as pdk  # noqa: E402
from pyjinit.training import comparison as C  # noqa: E402

B = {"backend": "numpy"}


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as c:
        yield c


def random_chunks(rng, shape):
    out = []
    for n in shape:
        cuts = sorted(set(rng.integers(1, n, size=int(rng.integers(0, 4))).tolist())) if n > 1 else []
        edges = [0, *cuts, n]
        out.append(tuple(b - a for a, b in zip(edges, edges[1:])) or (n,))
    return tuple(out)


@pytest.mark.parametrize("name,kw", [("he_normal", {}), ("uniform", {"low": -2.0, "high": 1.0}),
                                     ("keras.glorot_normal", {}), ("truncated_normal", {"lo": -0.2, "hi": 0.4}),
                                     ("constant", {"value": 1.5})])
def test_every_chunking_equals_the_in_memory_array(client, name, kw):
    rng = np.random.default_rng(len(name))
    for shape in [(37, 29), (6, 5, 4, 3)]:
        for dtype in ("float16", "float32", "float64"):
            for layout in ("torch", "keras"):
                ref = pj.init(name, shape, seed=5, dtype=dtype, layout=layout, **kw, **B)
                for _ in range(3):
                    chunks = random_chunks(rng, shape)
                    arr = pdk.init(name, shape, chunks=chunks, seed=5, dtype=dtype, layout=layout, **kw)
                    assert arr.chunks == chunks
                    assert np.array_equal(arr.compute(), ref), (shape, dtype, layout, chunks)


def test_orthogonal_through_tsqr(client):
    for shape, layout in [((400, 30), "torch"), ((25, 300), "torch"), ((16, 8, 3, 3), "torch"), ((3, 3, 8, 50), "keras")]:
        arr = pdk.init("orthogonal", shape, chunks=64, seed=3, dtype="float64", layout=layout)
        ref = pj.orthogonal_init(shape, seed=3, dtype="float64", layout=layout, **B)
        assert arr.shape == shape and np.abs(arr.compute() - ref).max() < 1e-10     # a different QR: rounding only
    with pytest.raises(ValueError, match="small side in memory"):
        pdk.init("orthogonal", (10 ** 6, 10 ** 6), seed=0)
    with pytest.raises(ValueError, match="no block form"):
        pdk.init("sparse", (10, 10), sparsity=0.5, seed=0)


def test_seed_is_drawn_once_for_all_chunks():
    arr = pdk.init("he", (20, 10), chunks=5)
    assert np.array_equal(arr.compute(), pj.he_init((20, 10), seed=pj.last_seed(), **B))


def test_zarr_round_trip_and_attributes(tmp_path, client):
    arr = pdk.init("he_normal", (300, 200), chunks=(64, 50), seed=8)
    path = pdk.to_zarr(arr, tmp_path / "w.zarr", attrs={"name": "he_normal", "seed": 8}, verbose=False)
    z = zarr.open(str(path), mode="r")
    assert np.array_equal(z[:], pj.init("he_normal", (300, 200), seed=8, **B))
    assert z.attrs["pyjinit"] == {"name": "he_normal", "seed": 8, "complete": True}
    assert not (tmp_path / "w.zarr.incomplete").exists()
    with pytest.raises(ValueError, match="exists"):
        pdk.to_zarr(arr, path, verbose=False)


def _fails_at_one_chunk(block, block_info=None):
    if block_info[0]["chunk-location"] == (2, 3):
        raise RuntimeError("interrupted")
    return np.zeros(block.shape, block.dtype)


def test_an_interrupted_write_never_looks_complete(tmp_path):
    arr = da.empty((100, 100), chunks=20, dtype="float32").map_blocks(_fails_at_one_chunk, dtype="float32")
    with pytest.raises(RuntimeError, match="interrupted"):
        pdk.to_zarr(arr, tmp_path / "w.zarr", verbose=False)
    assert not (tmp_path / "w.zarr").exists() and (tmp_path / "w.zarr.incomplete").exists()


def test_cli_writes_a_zarr_store(tmp_path):
    out = tmp_path / "w.zarr"
    p = subprocess.run([sys.executable, "-m", "pyjinit", "init", "he_normal", "500", "300", "--chunks", "128",
                        "--out", str(out), "--seed", "3", "--json"], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYJINIT_BACKEND": "numpy"})
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert info["out"] == str(out) and info["chunks"] == [128, 128]
    assert np.array_equal(zarr.open(str(out), mode="r")[:], pj.init("he_normal", (500, 300), seed=3, **B))
    q = subprocess.run([sys.executable, "-m", "pyjinit", "init", "he_normal", "5", "3", "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert q.returncode == 2 and "exists" in q.stderr and "Traceback" not in q.stderr


def test_a_sweep_on_the_cluster_equals_the_serial_one(client, small_data, tmp_path):
    kw = dict(seeds=(0, 1), data=small_data, epochs=2, hidden=(16,), verbose=False, backend="numpy")
    serial = C.compare(["he", "xavier"], executor=None, **kw)
    remote = C.compare(["he", "xavier"], executor=client, json_path=tmp_path / "c.json", **kw)
    assert remote.complete and not remote.failures
    for name in serial.results:
        for a, b in zip(serial.results[name], remote.results[name]):        # all but the timings, exactly
            assert [{k: v for k, v in h.items() if k != "seconds"} for h in a.history] == \
                [{k: v for k, v in h.items() if k != "seconds"} for h in b.history]
    assert json.loads((tmp_path / "c.json").read_text())["finished_runs"] == 4


class _FailingForXavier(concurrent.futures.ThreadPoolExecutor):
    """An executor on which every xavier run fails (as a worker that dies would): the sweep goes on."""

    def submit(self, fn, *args, **kwargs):
        if args[1] == "xavier":
            def boom(*a, **k):
                raise OSError("worker lost")
            return super().submit(boom)
        return super().submit(fn, *args, **kwargs)


def test_a_failed_run_is_recorded_and_the_others_kept(small_data, tmp_path):
    with _FailingForXavier(2) as ex:
        c = C.compare(["he", "xavier"], seeds=(0, 1), data=small_data, epochs=1, hidden=(8,), verbose=False,
                      executor=ex, backend="numpy", json_path=tmp_path / "c.json")
    assert not c.complete and [f["init"] for f in c.failures] == ["xavier", "xavier"]
    assert "OSError: worker lost" in c.failures[0]["error"] and len(c.results["he"]) == 2
    d = json.loads((tmp_path / "c.json").read_text())
    assert d["finished_runs"] == 2 and d["complete"] is False and len(d["failures"]) == 2


def test_an_explicit_julia_backend_that_cannot_start_fails_before_any_run(small_data):
    from pyjinit.julia import bridge

    if bridge.status()[0]:
        pytest.skip("Julia runs here: nothing to refuse")
    with pytest.raises(RuntimeError, match="juliacall could not start Julia"):
        C.compare(["he"], seeds=(0,), data=small_data, epochs=1, hidden=(8,), verbose=False, executor=None,
                  backend="julia")
