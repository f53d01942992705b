"""Every snippet of README.md and docs/*.md runs verbatim.

Collected: fenced ```python blocks (each run as a script), and from ```bash/```sh blocks the `python -m pyjinit ...`
and `pyjinit ...` commands (continuation lines joined; `pyjinit` run as `python -m pyjinit`, this checkout's
code; other shell lines such as pip or venv are not run). Each snippet runs in its own subprocess, in a fresh temporary
folder (the folders of relative --out/--plot/--csv/--hist paths made there), with a timeout, with `PYJINIT_BACKEND=numpy` (the documented same-values backend: no Julia download
attempt) and without `KERAS_BACKEND` (a snippet that needs it must set it, as a reader has to).

A marker comment right before a block (blank lines between allowed) says how it runs:
  <!-- docs-test: skip (reason) -->   not run; the reason is the skip's (a GPU, Julia >= 1.10, a cluster, minutes)
  <!-- docs-test: slow (reason) -->   run only with the slow tests (`pytest -m slow`), timeout SLOW_TIMEOUT
Without a marker a snippet must finish within TIMEOUT seconds. A snippet importing a package that is not installed
(torch, keras, jax, flax, dask, zarr, distributed, matplotlib) is skipped with that reason; one that trains on MNIST
(train_mnist, compare, diagnose, or the train/compare/diagnose commands without --data-dir) is skipped when MNIST
cannot be loaded here without a download.
"""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TIMEOUT, SLOW_TIMEOUT = 120, 900
MARKER = re.compile(r"<!--\s*docs-test:\s*(skip|slow)\s*(?:\((.*)\))?\s*-->")
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
OPTIONAL = ("torch", "keras", "jax", "flax", "dask", "zarr", "distributed", "matplotlib", "transformers", "timm")
MNIST_PY = re.compile(r"\b(train_mnist|compare|diagnose)\(")
MNIST_SH = re.compile(r"\bpyjinit (train|compare|diagnose)\b")


def blocks(path: Path):
    """(line, language, text, marker, reason) of every fenced block of `path` (line: 1-based, of the fence)."""
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m.group(2):
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith("```"):
            j += 1
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        mark = MARKER.search(lines[k]) if k >= 0 else None
        indent = len(m.group(1))
        text = "\n".join(l[indent:] for l in lines[i + 1:j])
        yield i + 1, m.group(2), text, mark.group(1) if mark else None, (mark.group(2) or "") if mark else ""
        i = j + 1


def commands(text: str) -> list:
    """The pyjinit commands of a shell block: continuation lines joined, `pyjinit` as `python -m pyjinit`."""
    out, cur = [], ""
    for line in text.splitlines():
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1].strip() + " "
            continue
        s = (cur + line.strip()).strip()
        cur = ""
        if s.startswith("python -m pyjinit ") or s.startswith("pyjinit "):
            out.append(f"{sys.executable} -m pyjinit " + s.split("pyjinit ", 1)[1])
    return out


def snippets():
    for path in DOCS:
        for line, lang, text, mark, reason in blocks(path):
            if lang == "python":
                code = text
            elif lang in ("bash", "sh", "shell"):
                cmds = commands(text)
                if not cmds:
                    continue
                code = "\n".join(cmds)
            else:
                continue
            name = f"{path.relative_to(ROOT)}:{line}"
            marks = [pytest.mark.slow] if mark == "slow" else []
            yield pytest.param(lang, code, mark, reason, id=name, marks=marks)


def _mnist_offline() -> bool:
    from pyjinit.training.datasets import MNISTError, load_mnist

    try:
        load_mnist(None, download_ok=False)
        return True
    except (MNISTError, OSError):
        return False


def _missing(code: str) -> list:
    used = set(re.findall(r"^\s*(?:import|from)\s+(\w+)", code, re.M))
    used |= {m for line in re.findall(r"^\s*import\s+(.+)$", code, re.M) for m in re.findall(r"(?:^|,)\s*(\w+)", line)}
    return sorted(m for m in used & set(OPTIONAL) if importlib.util.find_spec(m) is None)


@pytest.mark.parametrize("lang, code, mark, reason", list(snippets()))
def test_snippet_runs_verbatim(lang, code, mark, reason, tmp_path):
    if mark == "skip":
        pytest.skip(reason or "marked docs-test: skip")
    missing = _missing(code)
    if missing:
        pytest.skip(f"needs {', '.join(missing)}, not installed")
    needs_mnist = MNIST_PY.search(code) if lang == "python" else (MNIST_SH.search(code) and "--data-dir" not in code)
    if needs_mnist and not _mnist_offline():
        pytest.skip("trains on MNIST, which is not available here without a download")
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env.update(PYJINIT_BACKEND="numpy", MPLBACKEND="Agg", PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), env.get("PYTHONPATH")) if p))
    for out in re.findall(r"--(?:out|plot|csv|hist)\s+(\S+)", code) if lang != "python" else ():
        if not os.path.isabs(out):                          # docs/results/... as from the checkout's root
            (tmp_path / out).parent.mkdir(parents=True, exist_ok=True)
    if lang == "python":
        (tmp_path / "snippet.py").write_text(code + "\n")
        cmd = [sys.executable, "snippet.py"]
    else:
        cmd = ["bash", "-e", "-c", code]
    p = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=SLOW_TIMEOUT if mark == "slow" else TIMEOUT)
    assert p.returncode == 0, f"exit {p.returncode}\n--- snippet\n{code}\n--- stderr\n{p.stderr[-3000:]}"
    assert "Traceback" not in p.stderr, p.stderr[-3000:]


def test_markers_are_well_formed():
    """Every docs-test marker is one of the two kinds, skip markers say why, and each sits right before a block."""
    for path in DOCS:
        lines = path.read_text().splitlines()
        for i, l in enumerate(lines):
            if "docs-test" not in l:
                continue
            m = MARKER.search(l)
            assert m, f"{path.name}:{i + 1}: malformed marker {l!r}"
            assert m.group(1) != "skip" or (m.group(2) or "").strip(), f"{path.name}:{i + 1}: a skip needs a reason"
            k = i + 1
            while k < len(lines) and not lines[k].strip():
                k += 1
            assert k < len(lines) and FENCE.match(lines[k]), f"{path.name}:{i + 1}: no block right after the marker"


def test_the_collector_finds_the_snippets():
    """The collector itself: a python block, a bash block's pyjinit lines (continuations joined) and a marker."""
    md = ("text\n<!-- docs-test: skip (needs a GPU) -->\n\n```python\nprint(1)\n```\n"
          "```bash\npip install x\npython -m pyjinit init he \\\n    3 3\npyjinit list\n```\n")
    got = list(blocks(_write(md)))
    assert [(b[1], b[3], b[4]) for b in got] == [("python", "skip", "needs a GPU"), ("bash", None, "")]
    assert commands(got[1][2]) == [f"{sys.executable} -m pyjinit init he 3 3", f"{sys.executable} -m pyjinit list"]


def _write(text: str) -> Path:
    import tempfile

    f = Path(tempfile.mkdtemp()) / "t.md"
    f.write_text(text)
    return f


# --- what the docs say depends on the dtype (docs/stream.md §3-§5, pyjinit.torch.initialize, docs/scale.md) ------

ELEMENTWISE = ("uniform", "normal", "he", "xavier", "keras.glorot_uniform", "torch.kaiming_uniform", "lecun")
TRUNCATED = ("truncated_normal", "keras.he_normal", "jax.lecun_normal")


def test_what_depends_on_the_dtype():
    """float16 is float32 rounded, for every initializer; float64 draws its own numbers (not float32's with more
    digits), except truncated normals, computed in float64 and rounded (then float32 is float64 rounded)."""
    import numpy as np

    import pyjinit as pj

    for name in ELEMENTWISE + TRUNCATED + ("orthogonal",):
        x16, x32, x64 = (pj.init(name, (64, 48), seed=3, dtype=d, backend="numpy")
                         for d in ("float16", "float32", "float64"))
        assert np.array_equal(x16, x32.astype(np.float16)), name
        if name in TRUNCATED:
            assert np.array_equal(x64.astype(np.float32), x32), name
        else:   # another sequence: most elements differ by far more than float32 rounding
            assert np.mean(np.abs(x64 - x32) > 1e-3 * np.abs(x64).max()) > 0.9, name


def test_dask_orthogonal_is_the_float64_array_rounded():
    """docs/scale.md: Dask's orthogonal factors the float64 normals for every dtype: float64 equals the in-memory
    array to rounding, float32 is the float64 array rounded, not the in-memory float32 array."""
    pytest.importorskip("dask")
    import numpy as np

    import pyjinit as pj
    import pyjinit.dask as pdk

    shape, chunks = (1200, 32), (300, 32)
    d64 = pdk.init("orthogonal", shape, chunks=chunks, seed=1, dtype="float64").compute()
    d32 = pdk.init("orthogonal", shape, chunks=chunks, seed=1, dtype="float32").compute()
    m64 = pj.init("orthogonal", shape, seed=1, dtype="float64", backend="numpy")
    m32 = pj.init("orthogonal", shape, seed=1, dtype="float32", backend="numpy")
    assert np.abs(d64 - m64).max() < 1e-12
    assert np.abs(d32 - m64).max() < 1e-7                       # float32 rounding of values below 1
    assert (np.abs(d32 - m32).max(axis=0) > 1e-3).all()         # every column differs from the in-memory float32
