"""The device samplers on a GPU: tests, agreement with the NumPy backend, and speed against the frameworks' own.

    python bench/gpu.py                     # the real run, on a CUDA machine (under 6 minutes on an H200)
    python bench/gpu.py --quick --out /tmp/gpuq   # small sizes; runs on a CPU-only machine (CUDA parts skipped)

Sections, each under a time guard (a section that runs out of time records what it finished and a note):
1. tests: ``python -m pytest -q tests/frameworks/test_torch_sampler.py [tests/frameworks/test_jax_sampler.py]``
   (the second where it exists): pass/fail counts.
2. agreement (CUDA): ``torch_sampler.sample`` on cuda against the NumPy backend for each kind x dtype: how many
   elements differ, and by how many ulps at most.
3. torch (CUDA): 2^28 float32 elements: pyjinit's sampler (``fill_block_`` of the whole tensor) for uniform,
   normal and truncated_normal against ``uniform_``, ``normal_``, ``nn.init.kaiming_uniform_``,
   ``nn.init.kaiming_normal_`` and ``nn.init.trunc_normal_`` (best of k, ``torch.cuda.synchronize``), the ratio,
   and the first call (Triton compile) separately.
4. jax (GPU): ``jax_sampler.sample`` under ``jax.jit`` against ``jax.random.uniform/normal/truncated_normal`` for
   2^26 float32 (errors recorded, not raised).
5. cpu: the torch sampler (eager torch ops) against the NumPy backend (``stream.uniform`` / ``stream.normal``) for
   2^24 float32, ns per element, at 1, 4 and all torch threads (the NumPy backend at the same thread counts).

Writes ``gpu.md`` (the tables) and ``gpu.json`` into ``--out`` (default docs/results/gpu) and prints the tables.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
import traceback
from pathlib import Path

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")   # JAX beside torch on one GPU
os.environ.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", "0.5")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

KINDS = ("uniform", "normal", "truncated_normal")
PARAMS = {"uniform": {"low": -0.05, "high": 0.05}, "normal": {"mean": 0.0, "std": 0.02},
          "truncated_normal": {"mean": 0.0, "std": 0.02, "lo": -0.04, "hi": 0.04}}
KEY = 0x0123456789ABCDEF0FEDCBA987654321


class Guard:
    """Time left to the whole run and to one section."""

    def __init__(self, total: float):
        self.end = time.perf_counter() + total

    def left(self) -> float:
        return self.end - time.perf_counter()

    def section(self, budget: float) -> float:
        return time.perf_counter() + min(budget, max(self.left(), 0.0))


def _err(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"[:500]


# --- 1. tests ---------------------------------------------------------------------------------------------------

def run_tests(timeout: float) -> dict:
    files = ["tests/frameworks/test_torch_sampler.py"]
    if (ROOT / "tests/frameworks/test_jax_sampler.py").exists():
        files.append("tests/frameworks/test_jax_sampler.py")
    res = {"files": files}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", *files]
    t = time.perf_counter()
    try:
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=max(timeout, 1.0))
        out = r.stdout + r.stderr
        res["returncode"] = r.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        res["returncode"] = None
        res["note"] = f"timed out after {timeout:.0f} s"
    res["seconds"] = round(time.perf_counter() - t, 1)
    for word in ("passed", "failed", "skipped", "error", "errors", "xfailed"):
        m = re.findall(rf"(\d+) {word}\b", out.splitlines()[-1] if out.strip() else "")
        res[word] = int(m[-1]) if m else 0
    res["errors"] = res.pop("errors") + res.pop("error")
    res["failures"] = [ln for ln in out.splitlines() if ln.startswith(("FAILED", "ERROR"))][:40]
    res["tail"] = out[-2500:]
    return res


# --- 2. agreement on CUDA -----------------------------------------------------------------------------------------

def agreement(n: int, deadline: float) -> dict:
    import torch

    from pyjinit.frameworks import torch_sampler as ts
    from pyjinit.inits import stream

    npd = {torch.float64: np.float64, torch.float32: np.float32, torch.float16: np.float16,
           torch.bfloat16: np.float32}
    ints = {8: torch.int64, 4: torch.int32, 2: torch.int16}

    def ordered(t):
        i = t.contiguous().view(ints[t.element_size()]).to(torch.int64)
        return torch.where(i < 0, -(i & ((1 << (8 * t.element_size() - 1)) - 1)), i)

    rows = []
    for kind in KINDS:
        for dt in (torch.float64, torch.float32, torch.float16, torch.bfloat16):
            if time.perf_counter() > deadline:
                rows.append({"kind": kind, "dtype": str(dt), "note": "skipped: time guard"})
                continue
            p, nd = PARAMS[kind], np.dtype(npd[dt])
            try:
                dev = ts.sample(kind, p, KEY, 3, n, dt, "cuda").cpu()
                if kind == "uniform":
                    ref = stream.uniform_at(KEY, 3, n, nd, p["low"], p["high"])
                elif kind == "normal":
                    ref = stream.normal_at(KEY, 3, n, nd, p["mean"], p["std"])
                else:
                    ref = stream.TruncNormal(p["mean"], p["std"], p["lo"], p["hi"]).sample_at(KEY, 3, n, nd)
                ref = torch.from_numpy(np.ascontiguousarray(ref))
                ref = ref.to(torch.bfloat16) if dt == torch.bfloat16 else ref
                d = (ordered(dev) - ordered(ref)).abs()
                rows.append({"kind": kind, "dtype": str(dt), "n": n, "differ": int((d != 0).sum()),
                             "max_ulp": int(d.max())})
            except Exception as e:
                rows.append({"kind": kind, "dtype": str(dt), "error": _err(e)})
    return {"rows": rows, "triton": ts.info()}


# --- 3. torch on CUDA ---------------------------------------------------------------------------------------------

def _cuda_time(fn, reps: int, deadline: float):
    import torch

    torch.cuda.synchronize()
    t = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    first = time.perf_counter() - t
    best = math.inf
    for _ in range(reps):
        if time.perf_counter() > deadline and best < math.inf:
            break
        torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return first, best


def torch_cuda(log2n: int, reps: int, deadline: float) -> dict:
    import torch

    from pyjinit.frameworks import torch_sampler as ts

    n = 1 << log2n
    shape = (1 << (log2n // 2), 1 << (log2n - log2n // 2))
    t = torch.empty(shape, dtype=torch.float32, device="cuda")
    fan_in = shape[1]
    gain = math.sqrt(2.0)
    he = {"uniform": {"low": -gain * math.sqrt(3.0 / fan_in), "high": gain * math.sqrt(3.0 / fan_in)},
          "normal": {"mean": 0.0, "std": gain / math.sqrt(fan_in)},
          "truncated_normal": {"mean": 0.0, "std": 0.02, "lo": -0.04, "hi": 0.04}}
    ours = {k: (lambda k=k: ts.fill_block_(t, k, he[k], KEY, shape, (0, 0))) for k in KINDS}
    theirs = {
        "uniform_": lambda: t.uniform_(-0.05, 0.05),
        "normal_": lambda: t.normal_(0.0, 0.02),
        "kaiming_uniform_": lambda: torch.nn.init.kaiming_uniform_(t, nonlinearity="relu"),
        "kaiming_normal_": lambda: torch.nn.init.kaiming_normal_(t, nonlinearity="relu"),
        "trunc_normal_": lambda: torch.nn.init.trunc_normal_(t, std=0.02, a=-0.04, b=0.04),
    }
    pairs = [("uniform", "uniform_"), ("uniform", "kaiming_uniform_"), ("normal", "normal_"),
             ("normal", "kaiming_normal_"), ("truncated_normal", "trunc_normal_")]
    res = {"n": n, "shape": list(shape), "dtype": "float32", "reps": reps, "ours": {}, "torch": {}, "pairs": []}
    for name, fn in list(ours.items()):
        if time.perf_counter() > deadline:
            res["ours"][name] = {"note": "skipped: time guard"}
            continue
        try:
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
            first, best = _cuda_time(fn, reps, deadline)
            res["ours"][name] = {"first_s": first, "best_s": best, "ns_per_el": best / n * 1e9,
                                 "GB_per_s": 4 * n / best / 1e9,
                                 "peak_extra_MB": (torch.cuda.max_memory_allocated() - base) / 2 ** 20}
        except Exception as e:
            res["ours"][name] = {"error": _err(e), "trace": traceback.format_exc()[-1500:]}
    for name, fn in theirs.items():
        if time.perf_counter() > deadline:
            res["torch"][name] = {"note": "skipped: time guard"}
            continue
        try:
            first, best = _cuda_time(fn, reps, deadline)
            res["torch"][name] = {"first_s": first, "best_s": best, "ns_per_el": best / n * 1e9}
        except Exception as e:
            res["torch"][name] = {"error": _err(e)}
    for a, b in pairs:
        oa, tb = res["ours"].get(a, {}), res["torch"].get(b, {})
        if "best_s" in oa and "best_s" in tb:
            res["pairs"].append({"ours": a, "torch": b, "ours_s": oa["best_s"], "torch_s": tb["best_s"],
                                 "ratio": oa["best_s"] / tb["best_s"]})
    res["triton"] = ts.info()
    t = None
    torch.cuda.empty_cache()
    return res


def profile_cuda(log2n: int, deadline: float) -> dict:
    """CUDA time per kernel (torch.profiler) of one fill of 2^log2n float32 elements per kind: where time goes."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from pyjinit.frameworks import torch_sampler as ts

    n = 1 << log2n
    t = torch.empty(n, dtype=torch.float32, device="cuda")
    res = {}
    for kind in KINDS:
        if time.perf_counter() > deadline:
            res[kind] = {"note": "skipped: time guard"}
            continue
        ts.fill_block_(t, kind, PARAMS[kind], KEY, (n,), (0,))
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            ts.fill_block_(t, kind, PARAMS[kind], KEY, (n,), (0,))
            torch.cuda.synchronize()
        rows = {}
        for ev in prof.key_averages():
            us = getattr(ev, "device_time_total", None) or getattr(ev, "cuda_time_total", 0)
            if us:
                rows[ev.key[:60]] = round(us / 1000.0, 4)
        res[kind] = dict(sorted(rows.items(), key=lambda kv: -kv[1])[:8])
    t = None
    torch.cuda.empty_cache()
    return res


def variants(log2n: int, deadline: float) -> dict:
    """Kernel variants (one module switch of torch_sampler at a time), best of 3 on 2^log2n float32: what the
    defaults beat."""
    import torch

    from pyjinit.frameworks import torch_sampler as ts

    n = 1 << log2n
    t = torch.empty(n, dtype=torch.float32, device="cuda")
    names = ("TRITON_TABLES", "TRITON_WARPS", "TRITON_BLOCK", "TRITON_FB", "TRITON_FB_WARPS")
    saved = {k: getattr(ts, k) for k in names}
    res = []
    for kind, sw in (("normal", {"TRITON_BLOCK": 256}), ("normal", {"TRITON_BLOCK": 64}),
                     ("normal", {"TRITON_WARPS": 8}), ("normal", {"TRITON_FB": 64, "TRITON_FB_WARPS": 2}),
                     ("normal", {"TRITON_FB": 32, "TRITON_FB_WARPS": 1}), ("normal", {"TRITON_TABLES": 1}),
                     ("truncated_normal", {"TRITON_BLOCK": 64}), ("truncated_normal", {"TRITON_BLOCK": 256}),
                     ("truncated_normal", {"TRITON_WARPS": 8}), ("uniform", {"TRITON_BLOCK": 128}),
                     ("uniform", {"TRITON_BLOCK": 512})):
        row = {"kind": kind, "switch": sw}
        if time.perf_counter() > deadline:
            res.append(dict(row, note="skipped"))
            continue
        for k, v in sw.items():
            setattr(ts, k, v)
        try:
            first, best = _cuda_time(lambda: ts.fill_block_(t, kind, PARAMS[kind], KEY, (n,), (0,)), 3, deadline)
            res.append(dict(row, best_s=best, first_s=first))
        except Exception as e:
            res.append(dict(row, error=_err(e)))
        finally:
            for k, v in saved.items():
                setattr(ts, k, v)
    t = None
    torch.cuda.empty_cache()
    return res


# --- 4. jax on GPU ------------------------------------------------------------------------------------------------

def jax_gpu(log2n: int, reps: int, deadline: float) -> dict:
    res = {}
    try:
        import jax
        import jax.numpy as jnp

        from pyjinit.frameworks import jax_sampler as js
        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        res["devices"] = [str(d) for d in jax.devices()]
        if not gpus:
            res["note"] = "jax sees no GPU: skipped"
            return res
        n = 1 << log2n

        def timed(f):
            t = time.perf_counter()
            f().block_until_ready()
            first = time.perf_counter() - t
            best = math.inf
            for _ in range(reps):
                if time.perf_counter() > deadline and best < math.inf:
                    break
                t = time.perf_counter()
                f().block_until_ready()
                best = min(best, time.perf_counter() - t)
            return first, best

        key = jax.random.key(0)
        theirs = {"uniform": jax.jit(lambda k: jax.random.uniform(k, (n,), jnp.float32, -0.05, 0.05)),
                  "normal": jax.jit(lambda k: jax.random.normal(k, (n,), jnp.float32) * 0.02),
                  "truncated_normal": jax.jit(lambda k: jax.random.truncated_normal(k, -2.0, 2.0, (n,),
                                                                                     jnp.float32) * 0.02)}
        rows = []
        for kind in KINDS:
            if time.perf_counter() > deadline:
                rows.append({"kind": kind, "note": "skipped: time guard"})
                continue
            row = {"kind": kind, "n": n}
            try:
                f = jax.jit(lambda kind=kind: js.sample(kind, PARAMS[kind], KEY, 0, n, jnp.float32))
                row["ours_first_s"], row["ours_s"] = timed(f)
            except Exception as e:
                row["ours_error"] = _err(e)
            try:
                g = theirs[kind]
                row["jax_first_s"], row["jax_s"] = timed(lambda g=g: g(key))
            except Exception as e:
                row["jax_error"] = _err(e)
            if "ours_s" in row and "jax_s" in row:
                row["ratio"] = row["ours_s"] / row["jax_s"]
            rows.append(row)
        res["rows"] = rows
    except Exception as e:
        res["error"] = _err(e)
    return res


# --- 5. CPU -------------------------------------------------------------------------------------------------------

def cpu(log2n: int, reps: int, deadline: float) -> dict:
    import torch

    from pyjinit.frameworks import torch_sampler as ts
    from pyjinit.inits import stream

    n = 1 << log2n
    cores = os.cpu_count() or 1
    res = {"n": n, "cores": cores, "rows": []}
    saved = os.environ.get("PYJINIT_NUM_THREADS")
    saved_t = torch.get_num_threads()
    try:
        for threads in sorted({1, min(4, cores), cores}):
            torch.set_num_threads(threads)
            os.environ["PYJINIT_NUM_THREADS"] = str(threads)
            for kind in ("uniform", "normal"):
                if time.perf_counter() > deadline:
                    res["rows"].append({"kind": kind, "threads": threads, "note": "skipped: time guard"})
                    continue
                p = PARAMS[kind]
                fns = {"torch_sampler": lambda: ts.sample(kind, p, KEY, 0, n, torch.float32, "cpu"),
                       "numpy_backend": (lambda: stream.uniform(KEY, n, np.float32, p["low"], p["high"]))
                       if kind == "uniform" else (lambda: stream.normal(KEY, n, np.float32, p["mean"], p["std"]))}
                row = {"kind": kind, "threads": threads}
                for name, fn in fns.items():
                    best = math.inf
                    for _ in range(reps):
                        t = time.perf_counter()
                        fn()
                        best = min(best, time.perf_counter() - t)
                        if time.perf_counter() > deadline:
                            break
                    row[name + "_ns"] = best / n * 1e9
                row["ratio"] = row["torch_sampler_ns"] / row["numpy_backend_ns"]
                res["rows"].append(row)
    finally:
        torch.set_num_threads(saved_t)
        if saved is None:
            os.environ.pop("PYJINIT_NUM_THREADS", None)
        else:
            os.environ["PYJINIT_NUM_THREADS"] = saved
    return res


# --- report -------------------------------------------------------------------------------------------------------

def _gptish(d: int, layers: int, vocab: int):
    """A GPT-2-shaped stack of plain modules (Embedding, LayerNorm, Linear): `layers` blocks of width `d`."""
    from torch import nn

    blocks = []
    for _ in range(layers):
        blocks += [nn.LayerNorm(d), nn.Linear(d, 3 * d), nn.Linear(d, d), nn.LayerNorm(d), nn.Linear(d, 4 * d),
                   nn.Linear(4 * d, d)]
    return nn.Sequential(nn.Embedding(vocab, d), *blocks, nn.LayerNorm(d), nn.Linear(d, vocab, bias=False))


def models(quick: bool, deadline: float, device: str = "cuda") -> dict:
    """Whole models on cuda: pyjinit.torch.initialize(preset="torch") against torch's construction-time init, for
    a GPT-2-small-shaped model on cuda and a 1.3B-parameter one built on meta (initialize(..., device="cuda") vs
    torch building it on cuda); orthogonal 4096^2 against torch.nn.init.orthogonal_; and the CUDA tests of
    tests/frameworks/test_torch.py."""
    import torch

    import pyjinit.torch as pt

    out = {}
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    backend = None if device == "cuda" else "torch"          # on the CPU: time the torch sampler itself
    cfgs = {"gpt2-small": (768, 12, 50257), "1.3B": (2048, 24, 50257)} if not quick else {"tiny": (64, 2, 1000)}
    for name, (d, L, V) in cfgs.items():
        if time.perf_counter() > deadline:
            out[name] = {"note": "out of time"}
            continue
        with torch.device(device):
            m = _gptish(d, L, V)
        n = sum(p.numel() for p in m.parameters())

        def native():
            with torch.device(device):
                _gptish(d, L, V)

        def ours_on_cuda(m=m):
            pt.initialize(m, preset="torch", seed=0, verbose=False, backend=backend)

        def ours_from_meta():
            with torch.device("meta"):
                mm = _gptish(d, L, V)
            pt.initialize(mm, preset="torch", seed=0, device=device, verbose=False, backend=backend)

        ours_on_cuda()                                   # compile the kernels
        row = {"params": n}
        for label, fn in (("native_build_s", native), ("initialize_s", ours_on_cuda),
                          ("meta_initialize_s", ours_from_meta)):
            best = math.inf
            for _ in range(3):
                sync()
                t = time.perf_counter()
                fn()
                sync()
                best = min(best, time.perf_counter() - t)
            row[label] = best
        row["ratio_initialize"] = row["initialize_s"] / row["native_build_s"]
        row["ratio_meta"] = row["meta_initialize_s"] / row["native_build_s"]
        out[name] = row
        del m
        if device == "cuda":
            torch.cuda.empty_cache()
    if time.perf_counter() < deadline:
        k = 512 if quick else 4096
        w = torch.empty(k, k, device=device)
        best_t, best_o = math.inf, math.inf
        pt.init_(w, "orthogonal", seed=1, backend=backend)
        torch.nn.init.orthogonal_(w)
        for _ in range(3):
            sync()
            t = time.perf_counter()
            torch.nn.init.orthogonal_(w)
            sync()
            best_t = min(best_t, time.perf_counter() - t)
            t = time.perf_counter()
            pt.init_(w, "orthogonal", seed=1, backend=backend)
            sync()
            best_o = min(best_o, time.perf_counter() - t)
        import pyjinit as pj
        from pyjinit.inits.stream import qr_tolerance

        host = pj.orthogonal_init((k, k), seed=1, backend="numpy")
        out["orthogonal"] = {"n": k, "pyjinit_s": best_o, "torch_s": best_t, "ratio": best_o / best_t,
                             "max_abs_diff_vs_numpy": float((w.cpu().numpy() - host).__abs__().max()),
                             "tolerance": qr_tolerance("float32")}
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/frameworks/test_torch.py",
                        "-k", "cuda or device"], cwd=ROOT, capture_output=True, text=True,
                       timeout=max(30.0, deadline - time.perf_counter() + 30))
    tail = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else p.stderr[-300:]
    out["tests"] = {"summary": tail, "returncode": p.returncode, "seconds": round(time.perf_counter() - t, 1)}
    return out


def _f(x, fmt="{:.3g}"):
    return fmt.format(x) if isinstance(x, (int, float)) else "–"


def markdown(r: dict) -> str:
    L = [f"# pyjinit device samplers ({'quick' if r['quick'] else 'full'} run, {r['date']})", "",
         f"Machine: {r['machine']}. torch {r['torch']}, triton {r['triton_version']}, numpy {r['numpy']}.", ""]
    t = r.get("tests", {})
    L += ["## Tests", "", "| files | passed | failed | skipped | errors | seconds |", "|---|---|---|---|---|---|",
          f"| {', '.join(t.get('files', []))} | {t.get('passed', '–')} | {t.get('failed', '–')} | "
          f"{t.get('skipped', '–')} | {t.get('errors', '–')} | {t.get('seconds', '–')} |", ""]
    if t.get("note"):
        L += [f"Note: {t['note']}", ""]
    for f in t.get("failures", []):
        L.append(f"- {f}")
    m = r.get("models", {})
    if m and "note" not in m:
        L += ["## Whole models and orthogonal on CUDA (pyjinit.torch)", "",
              "| model | parameters | torch builds it on cuda s | initialize(preset='torch') s | ratio | "
              "initialize(meta, device='cuda') s | ratio |", "|---|---|---|---|---|---|---|"]
        for k, v in m.items():
            if isinstance(v, dict) and "params" in v:
                L.append(f"| {k} | {v['params']:,} | {_f(v['native_build_s'])} | {_f(v['initialize_s'])} | "
                         f"{_f(v['ratio_initialize'])} | {_f(v['meta_initialize_s'])} | {_f(v['ratio_meta'])} |")
        o = m.get("orthogonal")
        if o:
            L += ["", f"Orthogonal {o['n']}x{o['n']} float32 on cuda: pyjinit {_f(o['pyjinit_s'])} s, "
                      f"torch.nn.init.orthogonal_ {_f(o['torch_s'])} s, ratio {_f(o['ratio'])}; max difference from "
                      f"the NumPy backend {_f(o['max_abs_diff_vs_numpy'])} (tolerance {o['tolerance']})."]
        if m.get("tests"):
            L += ["", f"tests/frameworks/test_torch.py -k 'cuda or device' on this machine: "
                      f"{m['tests']['summary']}"]
        L.append("")
    a = r.get("agreement", {})
    L += ["## CUDA against the NumPy backend", ""]
    if "rows" in a:
        L += [f"torch_sampler.sample on cuda (path: {a.get('path', '?')}) vs NumPy, per kind x dtype.", "",
              "| kind | dtype | n | elements that differ | max ulp |", "|---|---|---|---|---|"]
        for row in a["rows"]:
            L.append(f"| {row['kind']} | {row['dtype']} | {row.get('n', '–')} | "
                     f"{row.get('differ', row.get('error', row.get('note', '–')))} | {row.get('max_ulp', '–')} |")
        L.append("")
    else:
        L += [a.get("note", "–"), ""]
    c = r.get("torch_cuda", {})
    L += ["## torch on CUDA", ""]
    if "ours" in c:
        L += [f"{c['n']} float32 elements ({c['shape'][0]} x {c['shape'][1]}), best of {c['reps']}; first call "
              f"includes the Triton compile (a warm disk cache makes it short).", "",
              "| pyjinit kind | seconds | ns/element | GB/s | first call s | extra peak MB |",
              "|---|---|---|---|---|---|"]
        for k, v in c["ours"].items():
            L.append(f"| {k} | {_f(v.get('best_s'))} | {_f(v.get('ns_per_el'))} | {_f(v.get('GB_per_s'))} | "
                     f"{_f(v.get('first_s'))} | {_f(v.get('peak_extra_MB'))} |"
                     + (f" {v['error']}" if "error" in v else ""))
        L += ["", "| torch | seconds | ns/element | first call s |", "|---|---|---|---|"]
        for k, v in c["torch"].items():
            L.append(f"| {k} | {_f(v.get('best_s'))} | {_f(v.get('ns_per_el'))} | {_f(v.get('first_s'))} |")
        L += ["", "| pyjinit | torch | pyjinit s | torch s | ratio |", "|---|---|---|---|---|"]
        for p in c["pairs"]:
            L.append(f"| {p['ours']} | {p['torch']} | {_f(p['ours_s'])} | {_f(p['torch_s'])} | "
                     f"{_f(p['ratio'], '{:.2f}')} |")
        L.append("")
    else:
        L += [c.get("note", "–"), ""]
    if isinstance(r.get("profile_ms"), dict) and r["profile_ms"]:
        L += ["CUDA milliseconds per kernel, one fill of the whole tensor (torch.profiler):", ""]
        for k, v in r["profile_ms"].items():
            L.append(f"- {k}: " + ", ".join(f"{a} {b}" for a, b in v.items()))
        L.append("")
    if r.get("variants"):
        L += ["Kernel variants: one switch of torch_sampler's tiling from its defaults (2^28 float32, best of 3):", "",
              "| kind | switch | seconds |", "|---|---|---|"]
        for v in r["variants"]:
            L.append(f"| {v['kind']} | {v['switch']} | "
                     f"{_f(v.get('best_s')) if 'best_s' in v else v.get('error', v.get('note'))} |")
        L.append("")
    j = r.get("jax", {})
    L += ["## JAX on GPU", ""]
    if "rows" in j:
        L += ["| kind | n | pyjinit s | jax.random s | ratio | pyjinit first s | jax first s |",
              "|---|---|---|---|---|---|---|"]
        for row in j["rows"]:
            L.append(f"| {row['kind']} | {row.get('n', '–')} | {_f(row.get('ours_s'))} | {_f(row.get('jax_s'))} | "
                     f"{_f(row.get('ratio'), '{:.2f}')} | {_f(row.get('ours_first_s'))} | "
                     f"{_f(row.get('jax_first_s'))} |"
                     + "".join(f" {row[e]}" for e in ("ours_error", "jax_error", "note") if e in row))
        L.append("")
    else:
        L += [j.get("note") or j.get("error") or "–", ""]
    p = r.get("cpu", {})
    L += ["## CPU: torch sampler (eager torch ops) vs NumPy backend", ""]
    if "rows" in p:
        L += [f"{p['n']} float32 elements, {p['cores']} cores; ns per element (best of {r['cpu_reps']}).", "",
              "| kind | threads | torch_sampler ns/el | NumPy backend ns/el | ratio |", "|---|---|---|---|---|"]
        for row in p["rows"]:
            L.append(f"| {row['kind']} | {row['threads']} | {_f(row.get('torch_sampler_ns'))} | "
                     f"{_f(row.get('numpy_backend_ns'))} | {_f(row.get('ratio'), '{:.1f}')} |"
                     + (f" {row['note']}" if "note" in row else ""))
        L.append("")
    else:
        L += [p.get("note") or p.get("error") or "–", ""]
    return "\n".join(L)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes; CUDA parts skipped without a GPU")
    ap.add_argument("--out", default=str(ROOT / "docs/results/gpu"))
    ap.add_argument("--budget", type=float, default=None, help="seconds for the whole run (default 330, quick 240)")
    ap.add_argument("--no-tests", action="store_true")
    ap.add_argument("--variants", action="store_true", help="also time kernel variants (table loads, warps, block)")
    ap.add_argument("--only", nargs="*", default=None,
                    help="run only these sections: tests agreement torch jax models cpu (default: all)")
    args = ap.parse_args(argv)

    import torch

    from pyjinit.frameworks import torch_sampler as ts

    g = Guard(args.budget or (240.0 if args.quick else 330.0))
    cuda = torch.cuda.is_available()
    r = {"quick": args.quick, "date": time.strftime("%Y-%m-%d %H:%M:%S"), "torch": torch.__version__,
         "numpy": np.__version__, "triton_version": ts.info()["triton_version"], "cpu_reps": 1 if args.quick else 2,
         "machine": (torch.cuda.get_device_name(0) if cuda else "no CUDA device") + f", {os.cpu_count()} CPUs, "
                    f"{platform.python_implementation()} {platform.python_version()}"}
    t0 = time.perf_counter()
    want = (lambda sec: args.only is None or sec in args.only)
    if not args.no_tests and want("tests"):
        r["tests"] = run_tests(min(g.left() - 60, 100.0 if args.quick else 170.0))
        print(f"tests: {r['tests'].get('passed')} passed, {r['tests'].get('failed')} failed "
              f"({r['tests']['seconds']} s)", flush=True)
    if cuda and want("models"):
        try:
            r["models"] = models(args.quick, g.section(150))
        except Exception as e:
            r["models"] = {"error": _err(e)}
        print("models done", json.dumps(r["models"], default=str), flush=True)
    if cuda and want("agreement"):
        try:
            r["agreement"] = agreement(1 << (16 if args.quick else 22), g.section(40))
            r["agreement"]["path"] = ts.path_for("cuda")
        except Exception as e:
            r["agreement"] = {"error": _err(e)}
        print("agreement done", flush=True)
    if cuda and want("torch"):
        try:
            r["torch_cuda"] = torch_cuda(20 if args.quick else 28, 3 if args.quick else 5, g.section(60))
        except Exception as e:
            r["torch_cuda"] = {"note": _err(e)}
        print("torch cuda done", flush=True)
        try:
            r["profile_ms"] = profile_cuda(16 if args.quick else 28, g.section(20))
        except Exception as e:
            r["profile_ms"] = {"error": _err(e)}
        if args.variants:
            r["variants"] = variants(16 if args.quick else 28, g.section(60))
    if cuda and want("jax"):
        r["jax"] = jax_gpu(20 if args.quick else 26, 3 if args.quick else 5, g.section(60))
        print("jax done", flush=True)
    if not cuda:
        note = "no CUDA device: skipped"
        r["agreement"], r["torch_cuda"], r["jax"], r["models"] = {"note": note}, {"note": note}, {"note": note}, {"note": note}
    if want("cpu"):
        try:
            r["cpu"] = cpu(18 if args.quick else 24, r["cpu_reps"], g.section(60))
        except Exception as e:
            r["cpu"] = {"error": _err(e)}
    r["seconds"] = round(time.perf_counter() - t0, 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    md = markdown(r)
    (out / "gpu.md").write_text(md + f"\nTotal: {r['seconds']} s.\n")
    (out / "gpu.json").write_text(json.dumps(r, indent=1, default=str))
    print(md)
    print(f"Total: {r['seconds']} s; written to {out}/gpu.md and gpu.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
