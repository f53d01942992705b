"""Issue 21, the command line and runs: no hidden initializer defaults, environment variables checked, output
paths tried before any work, failures reported as failures, only the user's errors mapped to exit 2, workers
started safely after threaded runtimes, presets and schemes listed. Commands run as real subprocesses."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pyjinit as pj
from pyjinit import cli
from pyjinit.training import comparison as C

from ..conftest import write_mnist_dir

ROOT = Path(__file__).resolve().parents[2]
UNWRITABLE = Path("/proc")          # a folder no one can create files in, root included (os.access says yes)


def run(*args, env=None, timeout=300, code=None):
    e = {**os.environ, "PYJINIT_BACKEND": "numpy", **(env or {})}
    cmd = [sys.executable, "-c", code] if code is not None else [sys.executable, "-m", "pyjinit", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_mnist_dir(tmp_path_factory.mktemp("cli21") / "mnist", n_train=300, n_test=100)


@pytest.fixture(autouse=True)
def _keep_warning_display(monkeypatch):
    import warnings

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)    # cli.main sets its own; undone after


def one_line(p):
    assert "Traceback" not in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr


# --- 1. no hidden initializer keyword: sparse needs its sparsity; what is used is recorded ---------------------

def test_train_sparse_needs_sparsity_like_init_does(data_dir):
    p = run("train", "--init", "torch.sparse", "--epochs", "1", "--hidden", "8", "--data-dir", data_dir)
    assert p.returncode == 2 and "torch.sparse needs sparsity" in p.stderr, (p.returncode, p.stderr)
    one_line(p)
    q = run("init", "torch.sparse", "4", "4")                  # the rule the rest of the CLI follows
    assert q.returncode == 2 and "torch.sparse needs sparsity" in q.stderr
    with pytest.raises(ValueError, match="sparse needs sparsity"):
        pj.train(*_small(), init="sparse", hidden=(8,), epochs=1, verbose=False, backend="numpy")


@pytest.mark.parametrize("sparsity", [-0.5, -1e-9, float("nan"), float("inf"), True, "0.5"])
def test_torch_sparse_refuses_a_sparsity_torch_does_not_take(sparsity):
    """torch.nn.init.sparse_ zeroes ceil(sparsity * rows) rows per column: above 1 every row (accepted, as torch);
    NaN and inf are torch's errors; below 0 its slice counts from the end (an accident): a ValueError naming the
    argument and the range."""
    with pytest.raises(ValueError, match=r"^sparsity must be a finite number >= 0 \(torch.nn.init.sparse_ zeroes "):
        pj.init("torch.sparse", (4, 4), sparsity=sparsity, seed=0, backend="numpy")
    assert not pj.init("torch.sparse", (4, 4), sparsity=2.0, seed=0, backend="numpy").any()
    assert [(c == 0).sum() for c in pj.init("torch.sparse", (10, 3), sparsity=0.25, seed=0, backend="numpy").T] \
        == [3, 3, 3]                                                           # ceil(0.25 * 10)
    p = run("init", "torch.sparse", "4", "4", "--kw", "sparsity=-0.5")
    assert p.returncode == 2 and "sparsity must be a finite number >= 0" in p.stderr
    one_line(p)


def test_train_records_the_initializer_keywords_it_used(data_dir):
    p = run("train", "--init", "torch.sparse", "--init-kw", "sparsity=0.3", "--epochs", "1", "--hidden", "8",
            "--data-dir", data_dir, "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["config"]["init_kwargs"] == {"sparsity": 0.3}
    # plain "uniform" in training means U(-0.05, 0.05): recorded, and printed, not left implicit (null)
    p = run("train", "--init", "uniform", "--epochs", "1", "--hidden", "8", "--data-dir", data_dir, "--quiet")
    assert p.returncode == 0, p.stderr
    assert "init=uniform (low=-0.05, high=0.05) seed=0" in p.stdout, p.stdout
    r = pj.train(*_small(), init="uniform", hidden=(8,), epochs=1, verbose=False, backend="numpy")
    assert r.config["init_kwargs"] == {"low": -0.05, "high": 0.05}
    explicit = pj.train(*_small(), init="uniform", init_kwargs={"low": -0.05, "high": 0.05}, hidden=(8,), epochs=1,
                        verbose=False, backend="numpy")
    strip = lambda h: [{k: v for k, v in e.items() if k != "seconds"} for e in h]     # noqa: E731
    assert strip(explicit.history) == strip(r.history)         # the recorded keywords are the ones used


def _small(n=300, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    return x, y, x[:100], y[:100]


# --- 2. PYJINIT_NUM_THREADS: a bad value is an error naming the variable ---------------------------------------

@pytest.mark.parametrize("value", ["0", "abc", "-2", "1.5"])
def test_bad_num_threads_is_an_error_naming_the_variable(value, monkeypatch):
    p = run("init", "he", "3", "3", "--seed", "0", env={"PYJINIT_NUM_THREADS": value})
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "PYJINIT_NUM_THREADS must be an integer >= 1" in p.stderr and repr(value) in p.stderr
    one_line(p)
    monkeypatch.setenv("PYJINIT_NUM_THREADS", value)
    with pytest.raises(ValueError, match="PYJINIT_NUM_THREADS"):
        pj.init("he", (3, 3), seed=0, backend="numpy")


def test_good_num_threads_values(monkeypatch):
    from pyjinit.inits.stream import threads

    monkeypatch.setenv("PYJINIT_NUM_THREADS", " 3 ")
    assert threads() == 3
    monkeypatch.setenv("PYJINIT_NUM_THREADS", "")               # empty means unset: every CPU
    assert threads() == len(os.sched_getaffinity(0))


# --- 3. output paths tried before any work ---------------------------------------------------------------------

OUT_CASES = [
    ["init", "he", "4", "4", "--out", UNWRITABLE / "w.npy"],
    ["init", "he", "4", "4", "--out", UNWRITABLE / "w.zarr"],
    ["train", "--epochs", "1", "--out", UNWRITABLE / "r.json"],
    ["compare", "--inits", "he", "--seeds", "0", "--epochs", "1", "--out", UNWRITABLE / "c.json"],
    ["compare", "--inits", "he", "--seeds", "0", "--epochs", "1", "--csv", UNWRITABLE / "c.csv"],
    ["diagnose", "--inits", "he", "--hidden", "8", "--out", UNWRITABLE / "d.json"],
]


@pytest.mark.skipif(not UNWRITABLE.is_dir(), reason="needs /proc (Linux) as a folder no file can be created in")
@pytest.mark.parametrize("args", OUT_CASES, ids=lambda a: f"{a[0]}-{Path(str(a[-1])).suffix}")
def test_unwritable_output_is_said_before_any_work(args, data_dir):
    if args[0] in ("train", "compare", "diagnose"):
        args = args + ["--data-dir", data_dir]
    p = run(*args)
    path = str(args[args.index("--out" if "--out" in args else "--csv") + 1])
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert f"cannot write '{path}'" in p.stderr and ".tmp" not in p.stderr, p.stderr
    assert "epoch" not in p.stderr.replace("--epochs", "") and "test accuracy" not in p.stdout   # no work done
    one_line(p)


def test_atomic_write_names_the_file_not_its_temporary():
    from pyjinit.support.files import write_text

    with pytest.raises(OSError) as e:
        write_text(UNWRITABLE / "x.json", "{}")
    assert "'/proc/x.json'" in str(e.value) and ".tmp" not in str(e.value)


def test_a_finished_run_is_never_lost_when_its_file_cannot_be_written(data_dir, monkeypatch, capsys):
    """The folder passes the check, then cannot be written (it went away, the disk filled): the finished run is
    written to the temporary folder instead and the failure names both (exit 1)."""
    monkeypatch.setattr(cli, "_check_outputs", lambda *a, **k: None)         # the check passed; then the write fails
    rc = cli.main(["train", "--epochs", "1", "--hidden", "8", "--quiet", "--data-dir", str(data_dir),
                   "--out", str(UNWRITABLE / "r.json")])
    err = capsys.readouterr().err
    assert rc == 1 and "could not write /proc/r.json" in err, err
    rescue = Path(err.split("the result is in ")[1].split()[0])
    try:
        assert json.loads(rescue.read_text())["config"]["hidden"] == [8]
    finally:
        rescue.unlink()


# --- 4. a failed run is a failure (exit 1, its message, even with --quiet); Ctrl-C is 130 -----------------------

FAIL_ONE = """
import sys
from pyjinit.training import comparison as C
real = C.train
def train(*a, **k):
    if k["init"] == "xavier":
        {what}
    return real(*a, **k)
C.train = train
from pyjinit.cli import main
sys.exit(main(["compare", "--inits", "he", "xavier", "--seeds", "0", "--epochs", "1", "--hidden", "8",
               "--data-dir", {data!r}, "--out", {out!r}, "--quiet"]))
"""


def test_compare_reports_a_failed_run_as_a_failure(data_dir, tmp_path):
    out = tmp_path / "c.json"
    p = run(code=FAIL_ONE.format(what="raise RuntimeError('boom')", data=str(data_dir), out=str(out)))
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "run init=xavier seed=0 failed: RuntimeError: boom" in p.stderr          # shown although --quiet
    assert "interrupted" not in p.stderr and "1 of 2 runs failed, 1 finished" in p.stderr
    d = json.loads(out.read_text())
    assert d["finished_runs"] == 1 and d["interrupted"] is False and d["failures"][0]["init"] == "xavier"


def test_compare_interrupt_is_still_130(data_dir, tmp_path):
    out = tmp_path / "c.json"
    p = run(code=FAIL_ONE.format(what="raise KeyboardInterrupt", data=str(data_dir), out=str(out)))
    assert p.returncode == 130 and "interrupted after 1 of 2 runs" in p.stderr, p.stderr
    assert json.loads(out.read_text())["interrupted"] is True


def test_library_compare_tells_failure_from_interrupt(monkeypatch):
    real = C.train
    monkeypatch.setattr(C, "train", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom"))
                        if k["seed"] == 1 else real(*a, **k))
    c = C.compare(["he"], seeds=(0, 1), data=_small(), epochs=1, hidden=(8,), executor=None, verbose=False,
                  backend="numpy")
    assert not c.complete and not c.interrupted and c.failures == [{"init": "he", "seed": 1,
                                                                     "error": "RuntimeError: boom"}]
    assert C.Comparison.from_dict(json.loads(c.to_json())).failures == c.failures


# --- 5. only the user's errors are "bad arguments" -------------------------------------------------------------

def test_an_internal_error_is_shown_as_a_bug(monkeypatch, capsys, data_dir):
    import pyjinit.training as T

    def broken(**kw):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'NoneType'")

    monkeypatch.setattr(T, "train_mnist", broken)
    rc = cli.main(["train", "--epochs", "1", "--data-dir", str(data_dir)])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" in err and "internal error (a bug in pyjinit" in err, err
    assert "error: unsupported" not in err


@pytest.mark.parametrize("args, msg", [
    (["train", "--init-kw", "foo=1", "--epochs", "1"], "unexpected keyword argument 'foo'"),
    (["train", "--init-kw", "oops", "--epochs", "1"], "--init-kw takes name=value"),
    (["compare", "--inits", "he", "he"], "inits must not repeat a name"),
    (["compare", "--inits", "he", "--conv", "4", "--hidden", "8", "--init-kw", "gain=x"], "gain"),
    (["diagnose", "--inits", "he", "--init-kw", "mode=fan_sideways"], "mode"),
    (["init", "he", "4", "4", "--kw", "mode=fan_sideways"], "mode"),
])
def test_the_users_errors_are_one_line_exit_2(args, msg, data_dir):
    p = run(*args, "--data-dir", data_dir) if args[0] != "init" else run(*args)
    assert p.returncode == 2 and msg in p.stderr, (p.returncode, p.stderr)
    one_line(p)


# --- 6. workers start safely once threaded runtimes run here ----------------------------------------------------

SWEEP_AFTER = """
import numpy as np, warnings, sys
warnings.simplefilter("always")
{runtime}
from pyjinit.training import comparison as C
rng = np.random.default_rng(0)
x = rng.random((200, 784), dtype=np.float32); y = rng.integers(0, 10, 200)
data = (x, y, x[:50], y[:50])
kw = dict(data=data, epochs=1, hidden=(8,), verbose=False, backend="numpy")
there = C.compare(["he", "xavier"], seeds=(0,), executor="processes", **kw)
here = C.compare(["he", "xavier"], seeds=(0,), executor=None, **kw)
same = all(a.history[0]["train_loss"] == b.history[0]["train_loss"]
           for n in here.results for a, b in zip(here.results[n], there.results[n]))
print(C.start_method(), there.complete, same)
"""
TORCH = "import torch; torch.set_num_threads(2); torch.randn(300, 300) @ torch.randn(300, 300)"
JAX = "import jax.numpy as jnp; (jnp.ones((300, 300)) @ jnp.ones((300, 300))).block_until_ready()"


@pytest.mark.parametrize("module, runtime", [("torch", TORCH), ("jax", JAX)], ids=["torch", "jax"])
def test_compare_workers_start_fresh_after_threaded_runtimes(module, runtime):
    pytest.importorskip(module)
    p = run(code=SWEEP_AFTER.format(runtime=runtime), timeout=240)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["forkserver", "True", "True"], (p.stdout, p.stderr)
    assert "fork()" not in p.stderr and "deadlock" not in p.stderr, p.stderr     # JAX warns on a fork


def test_a_single_threaded_process_forks():
    p = run(code="from pyjinit.training import comparison as C; print(C.start_method())")
    assert p.returncode == 0 and p.stdout.strip() == "fork", (p.stdout, p.stderr)


# --- 9. list: initializers, presets, schemes (without importing torch) ------------------------------------------

def test_list_shows_presets_and_schemes_without_torch():
    from pyjinit.inits.plan import PRESET_DOCS
    from pyjinit.schemes import SCHEMES

    code = ("import sys; from pyjinit.cli import main; rc = main(['list']); "
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH'); sys.exit(rc)")
    p = run(code=code)
    assert p.returncode == 0 and p.stdout.rstrip().endswith("NO-TORCH"), p.stdout[-500:]
    lines = p.stdout.splitlines()
    assert any(l.startswith("presets") for l in lines) and any(l.startswith("schemes") for l in lines)
    assert any(l.startswith("kaiming_normal ") for l in lines)                 # the initializers still come first
    words = " ".join(p.stdout.split())                                         # the wrapped lines joined
    for name, d in {**PRESET_DOCS, **SCHEMES}.items():                        # every preset and scheme, in full
        assert any(l.startswith(f"  {name}: ") for l in lines), name
        for field in d:
            assert " ".join(field.split()) in words, (name, field)
    d = json.loads(run("list", "presets", "--json").stdout)
    assert set(d) == set(PRESET_DOCS) and d["keras"]["roles"]["bias"] == "zeros" and d["model"]["roles"] is None
    assert d["hf-t5"]["reference"] == PRESET_DOCS["hf-t5"].reference
    s = json.loads(run("list", "schemes", "--json").stdout)
    assert s == {k: v._asdict() for k, v in SCHEMES.items()}


def test_list_each_section_alone(capsys):
    assert cli.main(["list", "schemes"]) == 0
    out = capsys.readouterr().out
    assert "  fixup: " in out and "arXiv:1901.09321" in out and "presets" not in out and "kaiming_normal" not in out
    assert cli.main(["list", "presets"]) == 0
    out = capsys.readouterr().out
    assert "  megatron: " in out and "scaled_init_method_normal" in out and "schemes (" not in out
