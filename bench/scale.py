"""pyjinit on Dask: a large initializer written to Zarr (time, GB/s, peak memory), chunk throughput with 1 and
2 worker processes, and a comparison sweep serially and on 2 workers. Ratios in one run, on this machine.

    python bench/scale.py            # the full run of docs/benchmarks.md (a 10^9-element float32 array: 4 GB)
    python bench/scale.py --quick    # small sizes, a minute
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WRITE = """
import sys, time, resource
import pyjinit.dask as pdk
rows, cols, chunk, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
t = time.perf_counter()
pdk.to_zarr(pdk.init("he_normal", (rows, cols), chunks=chunk, seed=0), path, verbose=False)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

INMEM = """
import sys, time, resource
import pyjinit
rows, cols = int(sys.argv[1]), int(sys.argv[2])
t = time.perf_counter()
w = pyjinit.init("he_normal", (rows, cols), seed=0, backend="numpy")
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run(code, *args):
    p = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                       env={**os.environ, "PYJINIT_BACKEND": "numpy"})
    if p.returncode != 0:
        raise RuntimeError(p.stderr[-3000:])
    sec, rss_kb = p.stdout.split()[-2:]
    return float(sec), int(rss_kb) * 1024


def zarr_write(rows, cols, chunk, mem_rows, mem_cols):
    with tempfile.TemporaryDirectory(dir=os.environ.get("PYJINIT_BENCH_TMP")) as tmp:
        sec, rss = run(WRITE, rows, cols, chunk, Path(tmp) / "w.zarr")
    n = rows * cols
    msec, mrss = run(INMEM, mem_rows, mem_cols)
    m = mem_rows * mem_cols
    return [{"case": "zarr write", "elements": n, "chunk": chunk, "seconds": sec, "GB_per_s": 4 * n / sec / 1e9,
             "ns_per_element": sec / n * 1e9, "peak_rss_GB": rss / 1e9, "chunk_GB": 4 * chunk * chunk / 1e9},
            {"case": "in memory (pyjinit.init)", "elements": m, "chunk": None, "seconds": msec,
             "GB_per_s": 4 * m / msec / 1e9, "ns_per_element": msec / m * 1e9, "peak_rss_GB": mrss / 1e9,
             "chunk_GB": None}]


def throughput(rows, cols, chunk):
    import dask.array as da
    from distributed import Client, LocalCluster

    import pyjinit.dask as pdk

    out = []
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=40) as cluster, Client(cluster):
            arr = pdk.init("he_normal", (rows, cols), chunks=chunk, seed=0)
            da.map_blocks(lambda b: np.zeros((1,) * b.ndim), arr, dtype=float).sum().compute()      # warm up
            t = time.perf_counter()
            arr.sum().compute()                    # every chunk generated, reduced on the workers
            sec = time.perf_counter() - t
        out.append({"case": "dask chunks (he_normal, sum)", "workers": workers, "elements": rows * cols,
                    "seconds": sec, "ns_per_element": sec / (rows * cols) * 1e9})
    out[1]["speedup_vs_1"] = out[0]["seconds"] / out[1]["seconds"]
    return out


def sweep(n, epochs):
    from distributed import Client, LocalCluster

    from pyjinit.training.comparison import compare

    rng = np.random.default_rng(0)
    x = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    data = (x, y, x[:2000], y[:2000])
    kw = dict(seeds=(0, 1), data=data, epochs=epochs, verbose=False, backend="numpy")
    t = time.perf_counter()
    compare(["he", "xavier"], executor=None, **kw)
    serial = time.perf_counter() - t
    t = time.perf_counter()
    compare(["he", "xavier"], executor="processes", **kw)
    pool = time.perf_counter() - t
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as c:
        t = time.perf_counter()
        compare(["he", "xavier"], executor=c, **kw)
        remote = time.perf_counter() - t
    return [{"case": "compare 2 inits x 2 seeds", "executor": "serial (this process)", "seconds": serial},
            {"case": "compare 2 inits x 2 seeds", "executor": "process pool, 2 workers (forked)", "seconds": pool,
             "speedup_vs_serial": serial / pool},
            {"case": "compare 2 inits x 2 seeds", "executor": "distributed, 2 workers x 1 thread", "seconds": remote,
             "speedup_vs_serial": serial / remote}]


def table(rows):
    cols = list(dict.fromkeys(k for r in rows for k in r))
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join("—" if r.get(c) is None else f"{r[c]:.3g}" if isinstance(r[c], float)
                                     else str(r[c]) for c in cols) + " |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    a = ap.parse_args()
    if a.quick:
        res = {"zarr": zarr_write(4000, 2500, 1024, 4000, 2500), "throughput": throughput(4000, 2500, 1024),
               "sweep": sweep(3000, 1)}
    else:
        res = {"zarr": zarr_write(50_000, 20_000, 8192, 10_000, 10_000),
               "throughput": throughput(20_000, 12_500, 4096), "sweep": sweep(20_000, 2)}
    res["machine"] = {"cores": os.cpu_count(), "python": sys.version.split()[0]}
    Path(a.out).mkdir(parents=True, exist_ok=True)
    path = Path(a.out) / f"scale-{'quick-' if a.quick else ''}{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(res, indent=2))
    for k in ("zarr", "throughput", "sweep"):
        print(f"## {k}\n\n{table(res[k])}\n")
    print(f"results: {path}")


if __name__ == "__main__":
    main()
