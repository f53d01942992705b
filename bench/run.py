"""pyjinit benchmarks: initializer throughput and training speed against PyTorch, NumPy and the
memory-bandwidth ceiling (filling a preallocated array with a constant), measured in one run.

    python bench/run.py [--quick] [--out DIR] [--docs]

Every in-process engine (pyjinit's NumPy backend, NumPy's own generators, PyTorch, the fill ceiling) runs
interleaved, case by case: a warm-up call, then repetitions in rotation, reporting the median. JInit
runs in one Julia process per thread count, timed inside Julia after a warm-up call (the juliacall
bridge adds no compute; Julia >= 1.10 with juliacall is not available on every machine). Rows for
PyTorch appear when torch is installed, Julia rows when `julia` is on PATH. Nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyjinit as pj  # noqa: E402
from pyjinit.julia.process import julia_exe  # noqa: E402
from pyjinit.julia.common import jinit_path  # noqa: E402

torch = None      # imported by main() once Julia has started (start_julia_then_torch): juliacall asks for that order


def start_julia_then_torch():
    """Start Julia (juliacall), which the Flux training and overhead rows use, and only then import torch (when
    installed), the order juliacall asks for; pyjinit warns when torch comes first. A Julia that cannot start
    is skipped here: the rows that need it say why (backend_info). PYJINIT_BACKEND=numpy starts no Julia."""
    global torch
    if os.environ.get("PYJINIT_BACKEND", "auto") != "numpy":
        try:
            pj.start_julia()
        except RuntimeError:
            pass
    try:
        import torch as _torch
    except ImportError:
        _torch = None
    torch = _torch
    return torch

ELEMENTWISE = ("uniform", "normal", "xavier_uniform", "he_normal", "truncated_normal")
NCPU = os.cpu_count() or 1


def median_time(fns: dict, reps: int) -> dict:
    """{name: median seconds} for zero-argument callables, warm-up first, repetitions interleaved."""
    for f in fns.values():
        f()
    times = {k: [] for k in fns}
    for _ in range(reps):
        for k, f in fns.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


# --- in-process engines ----------------------------------------------------------------------------------

def pyjinit_numpy(kind, shape):
    seed = 1
    if kind == "uniform":
        return lambda: pj.uniform_init(shape, -0.1, 0.1, seed=seed, backend="numpy")
    if kind == "normal":
        return lambda: pj.normal_init(shape, 0.0, 0.02, seed=seed, backend="numpy")
    if kind == "xavier_uniform":
        return lambda: pj.xavier_init(shape, seed=seed, backend="numpy")
    if kind == "he_normal":
        return lambda: pj.he_init(shape, seed=seed, backend="numpy")
    return lambda: pj.truncated_normal_init(shape, std=0.02, seed=seed, backend="numpy")


def numpy_generators(kind, shape):
    pcg = np.random.Generator(np.random.PCG64(1))
    phi = np.random.Generator(np.random.Philox(key=1))
    out = np.empty(shape, np.float32)
    if kind in ("uniform", "xavier_uniform"):
        return {"numpy PCG64.random": lambda: pcg.random(dtype=np.float32, out=out),
                "numpy Philox.random": lambda: phi.random(dtype=np.float32, out=out)}
    return {"numpy PCG64.standard_normal": lambda: pcg.standard_normal(dtype=np.float32, out=out),
            "numpy Philox.standard_normal": lambda: phi.standard_normal(dtype=np.float32, out=out)}


def torch_init(kind, shape, threads):
    t = torch.empty(shape, dtype=torch.float32)
    init = torch.nn.init
    f = {"uniform": lambda: init.uniform_(t, -0.1, 0.1), "normal": lambda: init.normal_(t, 0.0, 0.02),
         "xavier_uniform": lambda: init.xavier_uniform_(t), "he_normal": lambda: init.kaiming_normal_(t),
         "truncated_normal": lambda: init.trunc_normal_(t, std=0.02, a=-0.04, b=0.04)}[kind]

    def run():
        torch.set_num_threads(threads)
        f()
    return run


def fill_ceiling(shape):
    out = np.empty(shape, np.float32)
    return lambda: out.fill(0.5)


# --- JInit in Julia ------------------------------------------------------------------------------------

JULIA_SCRIPT = r"""
using JInit, LinearAlgebra, Statistics
BLAS.set_num_threads(Threads.nthreads())
reps = parse(Int, ARGS[1])
function med(f)
    f()
    ts = Float64[]
    for _ in 1:reps
        t = time_ns(); f(); push!(ts, (time_ns() - t) / 1e9)
    end
    median(ts)
end
# in place (init!, like torch.nn.init.*_ and NumPy's out=), except "alloc:" kinds and orthogonal
kinds = Dict("uniform" => (A) -> init!(uniform_init, A; seed = 1, low = -0.1, high = 0.1),
             "normal" => (A) -> init!(normal_init, A; seed = 1, std = 0.02),
             "xavier_uniform" => (A) -> init!(xavier_init, A; seed = 1),
             "he_normal" => (A) -> init!(he_init, A; seed = 1),
             "truncated_normal" => (A) -> init!(truncated_normal_init, A; seed = 1, std = 0.02),
             "fill" => (A) -> fill!(A, 0.5f0))
for line in eachline(stdin)
    kind, a, b = split(line)
    d = (parse(Int, a), parse(Int, b))
    if kind == "orthogonal"
        t = med(() -> orthogonal_init(PhiloxStream(1), Float32, d...))
    elseif kind == "alloc:uniform"
        t = med(() -> uniform_init(PhiloxStream(1), Float32, d...; low = -0.1, high = 0.1))
    else
        A = Array{Float32}(undef, d)
        f = kinds[kind]
        t = med(() -> f(A))
    end
    println(kind, " ", a, " ", b, " ", t)
    flush(stdout)
end
"""


def julia_times(cases, threads, reps) -> dict:
    exe = julia_exe()
    if exe is None:
        return {}
    inp = "".join(f"{k} {s[0]} {s[1]}\n" for k, s in cases)
    p = subprocess.run([exe, f"--threads={threads}", f"--project={jinit_path()}", "-e", JULIA_SCRIPT, str(reps)],
                       input=inp, capture_output=True, text=True, timeout=3600)
    if p.returncode != 0:
        print(f"julia failed:\n{p.stderr[-3000:]}", file=sys.stderr)
        return {}
    out = {}
    for line in p.stdout.splitlines():
        k, a, b, t = line.split()
        out[(k, (int(a), int(b)))] = float(t)
    return out


def julia_env(name):
    """An environment variable as Julia sees it (the julia wrapper of .ci/install-julia.sh sets some)."""
    exe = julia_exe()
    if exe is None:
        return None
    return subprocess.run([exe, "-e", f'print(get(ENV, "{name}", "unset"))'], capture_output=True, text=True).stdout


def julia_version():
    exe = julia_exe()
    if exe is None:
        return None
    return subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()


# --- cases ----------------------------------------------------------------------------------------------

def elementwise(shapes, reps, thread_counts):
    rows = []
    jl = {t: julia_times([(k, s) for s in shapes for k in ELEMENTWISE + ("fill", "alloc:uniform")], t, reps)
          for t in thread_counts}
    for shape in shapes:
        n = shape[0] * shape[1]
        fill_t = median_time({"fill": fill_ceiling(shape)}, reps)["fill"]
        for kind in ELEMENTWISE:
            fns = {"pyjinit numpy": pyjinit_numpy(kind, shape)}
            fns.update(numpy_generators(kind, shape))
            if torch is not None:
                for t in thread_counts:
                    fns[f"torch ({t} thr)"] = torch_init(kind, shape, t)
            fns["fill (numpy)"] = fill_ceiling(shape)
            times = median_time(fns, reps)
            for t in thread_counts:
                if (kind, shape) in jl[t]:
                    times[f"JInit ({t} thr)"] = jl[t][(kind, shape)]
                    times[f"fill (julia {t} thr)"] = jl[t][("fill", shape)]
                    if kind == "uniform":
                        times[f"JInit allocating ({t} thr)"] = jl[t][("alloc:uniform", shape)]
            for engine, sec in times.items():
                thr = next((t for t in thread_counts if f"({t} thr)" in engine), 1)
                tt = times.get(f"torch ({thr} thr)")
                rows.append({"case": kind, "shape": list(shape), "engine": engine, "threads": thr,
                             "seconds": sec, "ns_per_element": 1e9 * sec / n, "GB_per_s": 4 * n / sec / 1e9,
                             "x_faster_than_torch": (tt / sec) if tt else None,
                             "x_of_fill": sec / fill_t})
    return rows


def orthogonal(sizes, reps, thread_counts):
    rows = []
    jl = {t: julia_times([("orthogonal", (s, s)) for s in sizes], t, reps) for t in thread_counts}
    for s in sizes:
        fns = {"pyjinit numpy": lambda s=s: pj.orthogonal_init((s, s), seed=1, backend="numpy"),
               "numpy QR": lambda s=s: np.linalg.qr(np.random.default_rng(1).standard_normal((s, s)))}
        if torch is not None:
            t = torch.empty(s, s)
            for th in thread_counts:
                fns[f"torch orthogonal_ ({th} thr)"] = (lambda t=t, th=th: (torch.set_num_threads(th),
                                                                            torch.nn.init.orthogonal_(t)))
        times = median_time(fns, reps)
        for th in thread_counts:
            if ("orthogonal", (s, s)) in jl[th]:
                times[f"JInit ({th} thr)"] = jl[th][("orthogonal", (s, s))]
        for engine, sec in times.items():
            rows.append({"case": "orthogonal", "shape": [s, s], "engine": engine, "seconds": sec})
    return rows


def training(n, epochs, batch=128):
    rng = np.random.default_rng(0)
    x = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    xt, yt = x[:1000], y[:1000]
    rows = []
    r = pj.train(x, y, xt, yt, epochs=epochs, backend="numpy", verbose=False, seed=0)
    sec = statistics.median(h["seconds"] for h in r.history)
    rows.append({"case": "train epoch", "engine": "pyjinit numpy", "n": n, "seconds_per_epoch": sec})
    if torch is not None:
        torch.set_num_threads(NCPU)
        model = torch_mlp_model()
        rows.append({"case": "train epoch", "engine": f"torch ({NCPU} thr)", "n": n,
                     "seconds_per_epoch": torch_epochs(model, torch.from_numpy(x), torch.from_numpy(y), epochs, batch)})
    rows[0]["x_of_torch"] = rows[0]["seconds_per_epoch"] / rows[1]["seconds_per_epoch"] if len(rows) > 1 else None
    rows.extend(cnn_epochs(x, y, xt, yt, min(epochs, 2), batch))
    rows.extend(flux_epochs(x, y, xt, yt, epochs))
    return rows


def torch_mlp_model():
    """The default network, 784-128-64-10 with ReLU, in PyTorch."""
    return torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64),
                               torch.nn.ReLU(), torch.nn.Linear(64, 10))


def torch_epochs(model, X, Y, epochs, batch) -> float:
    """Median seconds per epoch of PyTorch training (Adam 1e-3, cross-entropy, a random batch order)."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lossf = torch.nn.CrossEntropyLoss()
    n, ts = len(X), []
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            opt.zero_grad()
            lossf(model(X[idx]), Y[idx]).backward()
            opt.step()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def cnn_epochs(x, y, xt, yt, epochs, batch=128):
    """conv 16 - pool - conv 32 - pool - dense 10 (3x3 "same", ReLU, Adam): the NumPy CNN against PyTorch's."""
    n = len(x)
    r = pj.train(x, y, xt, yt, conv=(16, 32), hidden=(), epochs=epochs, backend="numpy", verbose=False, seed=0)
    rows = [{"case": "train epoch (CNN)", "engine": "pyjinit numpy CNN", "n": n,
             "seconds_per_epoch": statistics.median(h["seconds"] for h in r.history)}]
    if torch is not None:
        torch.set_num_threads(NCPU)
        m = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Flatten(), torch.nn.Linear(32 * 7 * 7, 10))
        sec = torch_epochs(m, torch.from_numpy(x).reshape(n, 1, 28, 28), torch.from_numpy(y), epochs, batch)
        rows.append({"case": "train epoch (CNN)", "engine": f"torch CNN ({NCPU} thr)", "n": n, "seconds_per_epoch": sec})
        rows[0]["x_of_torch"] = rows[0]["seconds_per_epoch"] / rows[1]["seconds_per_epoch"]
    return rows


def flux_epochs(x, y, xt, yt, epochs):
    """Flux through juliacall (when it can start Julia >= 1.10 with Flux), for the default MLP and the
    conv 16-32 CNN: wall seconds from Python of building the trainer plus epoch 1 (the trainer compiles its
    training step on a copy first: JInitFluxExt.warmup) and of each later epoch, and the seconds Julia times
    inside epoch 1 (what the history records)."""
    info = pj.backend_info()
    if not info["julia_available"]:
        return [{"case": "train epoch", "engine": "Flux (juliacall)", "n": len(x), "seconds_per_epoch": None,
                 "note": f"not measured: {info['why_not_julia']}"[:200]}]
    from pyjinit.julia import bridge
    rows = []
    for case, kw, shapes in (("train epoch", {"hidden": (128, 64)}, [(128, 784), (64, 128), (10, 64)]),
                             ("train epoch (CNN)", {"hidden": (), "conv": (16, 32)},
                              [(16, 1, 3, 3), (32, 16, 3, 3), (10, 32 * 7 * 7)])):
        weights = [pj.init("he", s, seed=i + 1, backend="numpy") for i, s in enumerate(shapes)]
        try:
            t0 = time.perf_counter()
            gen = bridge.flux_epochs(weights, x, y, xt, yt, activation="relu", optimizer="adam", lr=1e-3,
                                     momentum=0.9, batch_size=128, epochs=max(epochs, 3), seed=0, **kw)
            walls, julia = [], []
            for row, _ in gen:
                walls.append(time.perf_counter() - t0)
                julia.append(row[4])
                t0 = time.perf_counter()
        except RuntimeError as e:
            return rows + [{"case": case, "engine": "Flux (juliacall)", "n": len(x), "seconds_per_epoch": None,
                            "note": f"not measured: {e}"[:200]}]
        later = statistics.median(walls[1:])
        rows += [{"case": case, "engine": "Flux (juliacall), trainer + first epoch (wall)", "n": len(x),
                  "seconds_per_epoch": walls[0], "x_of_later": walls[0] / later, "julia_epoch_1": julia[0]},
                 {"case": case, "engine": "Flux (juliacall), later epochs (wall)", "n": len(x),
                  "seconds_per_epoch": later}]
    return rows


def memory(shape, orth):
    """Peak memory an initializer allocates while it runs (tracemalloc: NumPy reports its buffers to it,
    from every thread), as a multiple of the output's bytes. 1.0 is the output alone."""
    import tracemalloc

    cases = {kind: pyjinit_numpy(kind, shape) for kind in ELEMENTWISE}
    cases["orthogonal"] = lambda: pj.orthogonal_init((orth, orth), seed=1, backend="numpy")
    pcg = np.random.Generator(np.random.PCG64(1))
    cases["numpy PCG64.standard_normal (new array)"] = lambda: pcg.standard_normal(shape, dtype=np.float32)
    rows = []
    for kind, f in cases.items():
        f()                                            # warm-up: lazy imports and caches are not counted
        tracemalloc.start()
        try:
            out = f()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        rows.append({"case": kind, "shape": list(out.shape), "output_MB": out.nbytes / 1e6,
                     "peak_MB": peak / 1e6, "x_of_output": peak / out.nbytes})
        del out
    return rows


def _busy(stop):
    while not stop.is_set():
        pass


def contention(n, n_cnn, epochs=1):
    """Seconds per epoch (scaled to 60 000 examples) of the NumPy trainer, quiet and with two busy processes
    beside it (one per core on this 2-core machine), for each BLAS thread setting; and PyTorch's MLP epoch in
    the same two states. The MLP is the default network, the CNN conv 16 - pool - conv 32 - pool - dense 10."""
    import multiprocessing as mp

    rng = np.random.default_rng(0)
    x = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    nets = {"MLP": ({}, n), "CNN": ({"conv": (16, 32), "hidden": ()}, n_cnn)}
    settings = ["auto", 1, NCPU] if NCPU > 1 else [1]

    def epoch(kw, m, blas):
        r = pj.train(x[:m], y[:m], x[:500], y[:500], epochs=epochs, backend="numpy", verbose=False, seed=0,
                     blas_threads=blas, **kw)
        # full epochs (60 000 examples in the full run): the probes' share of the steps is as in real use
        return statistics.median(h["seconds"] for h in r.history) * 60000 / m, r.blas_threads

    def torch_mlp():
        if torch is None:
            return None
        torch.set_num_threads(NCPU)
        return torch_epochs(torch_mlp_model(), torch.from_numpy(x), torch.from_numpy(y), epochs, 128) * 60000 / n

    def measure_all():
        out = {}
        for net, (kw, m) in nets.items():
            for blas in settings:
                out[(net, blas)] = epoch(kw, m, blas)
        out[("MLP", "torch")] = (torch_mlp(), None)
        return out

    for kw, _ in nets.values():                        # warm-up: first-call costs are not any setting's
        epoch(kw, 512, "auto")
    quiet = measure_all()
    ctx = mp.get_context("fork")
    stop = ctx.Event()
    busy = [ctx.Process(target=_busy, args=(stop,), daemon=True) for _ in range(NCPU)]
    for p in busy:
        p.start()
    try:
        time.sleep(0.5)
        loaded = measure_all()
    finally:
        stop.set()
        for p in busy:
            p.join(5)
            if p.is_alive():
                p.terminate()
    rows = []
    for (net, blas), (q, used) in quiet.items():
        l, used_l = loaded[(net, blas)]
        if q is None:
            continue
        engine = f"torch MLP ({NCPU} thr)" if blas == "torch" else f"pyjinit numpy {net}, blas_threads={blas}"
        rows.append({"case": "train epoch", "engine": engine, "n": nets[net][1], "quiet_s": q, "busy_s": l,
                     "x_of_own_quiet": l / q, "x_of_default_quiet": l / quiet[(net, settings[0])][0]
                     if blas != "torch" else None,
                     "threads_used": None if used is None else f"{used} / {used_l}"})
    return rows


def overheads(reps):
    ts = []
    for _ in range(reps):
        p = subprocess.run([sys.executable, "-c", "import time; t=time.perf_counter(); import pyjinit, sys; "
                            "print(time.perf_counter()-t, 'juliacall' in sys.modules)"],
                           capture_output=True, text=True, cwd=str(ROOT))
        t, started = p.stdout.split()
        ts.append(float(t))
    rows = [{"case": "import pyjinit", "seconds": statistics.median(ts), "starts_julia": started == "True"}]
    info = pj.backend_info()
    if info["julia_available"]:
        t = time.perf_counter()
        pj.he_init((256, 256), seed=1, backend="julia")
        rows.append({"case": "later julia call (256x256)", "seconds": time.perf_counter() - t})
    else:
        rows.append({"case": "first julia call", "seconds": None, "note": info["why_not_julia"]})
    return rows


# --- report ----------------------------------------------------------------------------------------------

def machine() -> dict:
    cpu = "unknown"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": NCPU, "python": platform.python_version(), "numpy": np.__version__,
            "torch": getattr(torch, "__version__", None), "julia": julia_version(),
            "OPENBLAS_CORETYPE": julia_env("OPENBLAS_CORETYPE"), "date": time.strftime("%Y-%m-%d %H:%M")}


def fmt_table(rows, cols) -> str:
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            cells.append("—" if v is None else (f"{v:.3g}" if isinstance(v, float) else str(v)))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def sweep_plot(rows, path):
    from pyjinit.training.plots import _plt

    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    engines = sorted({r["engine"] for r in rows if r["case"] in ("uniform", "normal")})

    def look(e):
        """One colour and marker per family (pyjinit's NumPy backend, JInit, PyTorch, NumPy's generators, the
        fill ceiling), solid on all threads and dashed on 1."""
        fam = [("pyjinit numpy", "black", "o"), ("JInit allocating", "C9", "^"), ("JInit", "C0", "s"),
               ("torch", "C3", "D"), ("numpy PCG64", "C7", "v"), ("numpy Philox", "C8", "<"),
               ("fill (numpy)", "C2", ""), ("fill (julia", "C1", "")]
        c, m = next((c, m) for p, c, m in fam if e.startswith(p))
        return c, m, "--" if "1 thr)" in e else "-", 2.4 if c == "black" else 1.2

    for ax, kind in zip(axes, ("uniform", "normal")):
        for e in engines:
            pts = sorted((r["shape"][0] * r["shape"][1], r["ns_per_element"]) for r in rows
                         if r["case"] == kind and r["engine"] == e)
            if pts:
                c, m, ls, lw = look(e)
                ax.plot([p[0] for p in pts], [p[1] for p in pts], color=c, marker=m or None, ms=4, ls=ls, lw=lw,
                        label=e)
        ax.set(xscale="log", yscale="log", xlabel="elements", title=f"{kind} (float32)")
        ax.legend(fontsize=6.5, loc="upper right", ncol=2)
    axes[0].set_ylabel("ns per element (median)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


BEGIN, END = "<!-- bench:begin (written by bench/run.py --docs) -->", "<!-- bench:end -->"


def write_docs(res, tables, main_shape, name):
    """Replace the generated part of docs/benchmarks.md (between the markers) with this run's tables."""
    m = res["machine"]
    body = (f"{BEGIN}\n\nRun `{name}`: {m['date']}, {m['cpu']}, {m['cores']} cores; Python {m['python']}, "
            f"NumPy {m['numpy']}, PyTorch {m['torch']}, {m['julia']} (OPENBLAS_CORETYPE={m['OPENBLAS_CORETYPE']}).\n\n"
            f"### Elementwise initializers, float32, {main_shape[0]}×{main_shape[1]}\n\n{tables['elementwise']}\n\n"
            f"### Orthogonal\n\n{tables['orthogonal']}\n\n### Training (784-128-64-10, batch 128, Adam)\n\n"
            f"{tables['training']}\n\n### Memory: peak allocation while initializing (tracemalloc)\n\n"
            f"{tables['memory']}\n\n### Training under contention (s/epoch per 60 000 examples; busy: one "
            f"spinning process per core beside it)\n\n{tables['contention']}\n\n### Overheads\n\n{tables['overheads']}\n\n"
            f"![ns per element against size](figures/bench_sweep.png)\n\n{END}")
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1] if END in rest else ""
    path.write_text(head + body + tail)


def report(res, main_shape, name, docs: bool):
    """Print the tables of a result (and with `docs`, write docs/benchmarks.md and the figure)."""
    main_rows = [r for r in res["elementwise"] if tuple(r["shape"]) == tuple(main_shape)]
    tables = {
        "elementwise": fmt_table(main_rows, ["case", "engine", "ns_per_element", "GB_per_s", "x_faster_than_torch", "x_of_fill"]),
        "orthogonal": fmt_table(res["orthogonal"], ["shape", "engine", "seconds"]),
        "training": fmt_table(res["training"], ["engine", "n", "seconds_per_epoch", "x_of_torch", "note"]),
        "overheads": fmt_table(res["overheads"], ["case", "seconds", "starts_julia", "note"]),
        "memory": fmt_table(res.get("memory", []), ["case", "shape", "output_MB", "peak_MB", "x_of_output"]),
        "contention": fmt_table(res.get("contention", []), ["engine", "quiet_s", "busy_s", "x_of_own_quiet",
                                                             "x_of_default_quiet", "threads_used"]),
    }
    for k, t in tables.items():
        print(f"\n## {k}\n{t}")
    if docs:
        sweep_plot(res["elementwise"], ROOT / "docs" / "figures" / "bench_sweep.png")
        write_docs(res, tables, main_shape, name)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few repetitions (CI)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"), help="folder for the JSON results")
    ap.add_argument("--docs", action="store_true", help="also write docs/benchmarks.md and its figure")
    ap.add_argument("--from", dest="from_json", default=None, metavar="RESULTS.json",
                    help="print (and with --docs, write) the report of a saved run instead of measuring")
    a = ap.parse_args(argv)
    if a.from_json:
        res = json.loads(Path(a.from_json).read_text())
        main_shape = (256, 256) if res["quick"] else (4096, 4096)
        report(res, main_shape, Path(a.from_json).name, a.docs)
        return res
    start_julia_then_torch()
    threads = sorted({1, NCPU})
    if a.quick:
        shapes, sweep, orth, reps, train_n, train_epochs = [(256, 256)], [(64, 64)], [128], 3, 4096, 2
    else:
        shapes = [(4096, 4096)]
        sweep = [(64, 64), (256, 256), (1024, 1024), (2048, 2048), (8192, 4096)]
        orth, reps, train_n, train_epochs = [1024, 4096], 5, 60000, 3
    t0 = time.time()
    res = {"machine": machine(), "quick": a.quick, "threads": threads}
    print(f"machine: {res['machine']}", file=sys.stderr)
    res["elementwise"] = elementwise(shapes + [s for s in sweep if s not in shapes], reps, threads)
    res["orthogonal"] = orthogonal(orth, 3 if not a.quick else 2, threads)
    res["training"] = training(train_n, train_epochs)
    res["memory"] = memory(shapes[0], orth[0])
    res["contention"] = contention(*((4096, 1024, 2) if a.quick else (60000, 60000, 1)))
    res["overheads"] = overheads(3)
    res["seconds"] = time.time() - t0
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    name = ("quick-" if a.quick else "") + time.strftime("%Y%m%d-%H%M%S") + ".json"
    (out / name).write_text(json.dumps(res, indent=2))
    report(res, shapes[0], name, a.docs)
    print(f"\nwrote {out / name} ({res['seconds']:.0f} s)")
    return res


if __name__ == "__main__":
    main()
