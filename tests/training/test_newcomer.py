"""A newcomer's first hour: results never lost, strict JSON, range-checked arguments, one-line errors,
progress off a terminal, reproducible seeds, readable figures. The CLI is run as a real subprocess."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pyjinit as pj
from pyjinit.training import comparison as C
from pyjinit.training.plots import style

from ..conftest import write_mnist_dir

ROOT = Path(__file__).resolve().parents[2]


def cli(*args, env=None, cwd=None, timeout=300):
    e = {**os.environ, "PYJINIT_BACKEND": "numpy", **(env or {})}
    return subprocess.run([sys.executable, "-m", "pyjinit", *map(str, args)], capture_output=True, text=True,
                          env=e, cwd=cwd, timeout=timeout)


def no_traceback(p):
    assert "Traceback" not in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) <= 2, p.stderr


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_mnist_dir(tmp_path_factory.mktemp("newcomer") / "mnist", n_train=300, n_test=100)


@pytest.fixture
def no_matplotlib(tmp_path):
    """An environment in which `import matplotlib` fails, as on a fresh install without it."""
    fake = tmp_path / "fake"
    (fake / "matplotlib").mkdir(parents=True)
    (fake / "matplotlib" / "__init__.py").write_text("raise ImportError('No module named matplotlib')\n")
    return {"PYTHONPATH": f"{fake}{os.pathsep}{ROOT}"}


def strict_loads(s):
    def bad(c):
        raise AssertionError(f"non-strict JSON constant {c}")
    return json.loads(s, parse_constant=bad)


# --- matplotlib missing: said before any work; plot failures never lose results ---------------------------

@pytest.mark.parametrize("cmd", [["train", "--epochs", "1"], ["compare", "--inits", "he", "--seeds", "0", "--epochs", "1"]])
def test_plot_without_matplotlib_says_so_before_training(cmd, data_dir, tmp_path, no_matplotlib):
    out = tmp_path / "r.json"
    p = cli(*cmd, "--data-dir", data_dir, "--out", out, "--plot", tmp_path / "f.png", env=no_matplotlib)
    assert p.returncode == 2 and "pip install matplotlib" in p.stderr
    assert "epoch" not in p.stderr.replace("--epochs", "")          # no training happened
    assert not out.exists()
    no_traceback(p)


def test_compare_results_survive_a_failing_plot(data_dir, tmp_path):
    broken = tmp_path / "broken"
    (broken / "matplotlib").mkdir(parents=True)          # imports, but cannot draw
    (broken / "matplotlib" / "__init__.py").write_text("def use(*a, **k):\n    raise RuntimeError('no backend')\n")
    out, csv = tmp_path / "c.json", tmp_path / "c.csv"
    p = cli("compare", "--inits", "he", "xavier", "--seeds", "0", "--epochs", "1", "--data-dir", data_dir,
            "--out", out, "--csv", csv, "--plot", tmp_path / "c.png", "--quiet",
            env={"PYTHONPATH": f"{broken}{os.pathsep}{ROOT}"})
    assert p.returncode == 1 and "could not be drawn" in p.stderr and str(out) in p.stderr
    d = strict_loads(out.read_text())
    assert set(d["runs"]) == {"he", "xavier"} and d["complete"] is True
    assert len(csv.read_text().splitlines()) == 3
    no_traceback(p)


# --- arguments checked, with the option named, before any work -------------------------------------------

@pytest.mark.parametrize("args, msg", [
    (["train", "--epochs", "0"], "argument --epochs: must be an integer >= 1, got 0"),
    (["compare", "--max-train", "0"], "argument --max-train: must be an integer >= 1, got 0"),
    (["compare", "--max-train", "-5"], "argument --max-train: must be an integer >= 1, got -5"),
    (["compare", "--target", "97"], "argument --target: must be a fraction in (0, 1]"),
    (["train", "--lr", "0"], "argument --lr: must be a number > 0"),
    (["train", "--momentum", "1"], "argument --momentum: must be a number in [0, 1)"),
    (["compare", "--seeds", "-1"], "argument --seeds: must be an integer >= 0"),
    (["train", "--out", "/no/such/folder/r.json"], "--out: the folder '/no/such/folder' does not exist"),
    (["train", "--out", "result.txt"], "--out must end in .json"),
    (["compare", "--inits", "he", "xavire"], "Did you mean 'xavier"),
    (["init", "he", "1000000", "1000000", "--backend", "numpy"], "is too large"),
    (["init", "he", "3", "3", "--out", "/no/such/folder/w.npy"], "does not exist"),
])
def test_bad_arguments_one_line_exit_2(args, msg):
    p = cli(*args, "--data-dir", "/nonexistent") if args[0] != "init" else cli(*args)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert msg in p.stderr
    no_traceback(p)


def test_compare_checks_every_name_before_the_first_run(data_dir):
    with pytest.raises(ValueError, match="got 'kaimin'. Did you mean 'kaiming_normal'"):
        pj.compare(["he", "xavier", "kaimin"], seeds=(0,), data_dir="/nonexistent")   # not an MNISTError
    with pytest.raises(TypeError, match="unknown keyword argument"):
        pj.compare(["he"], seeds=(0,), data_dir="/nonexistent", hiden=(3,))


def test_unknown_name_points_at_the_list():
    with pytest.raises(ValueError) as e:
        pj.init("kaiming", (3, 3))
    assert "kaiming_normal" in str(e.value) and "python -m pyjinit list" in str(e.value)


def test_list_shows_arguments():
    p = cli("list")
    line = next(l for l in p.stdout.splitlines() if l.startswith("kaiming_normal "))
    assert "a=None" in line and "mode='fan_in'" in line
    line = next(l for l in p.stdout.splitlines() if l.startswith("torch.kaiming_normal "))
    assert "a=0" in line and "nonlinearity='leaky_relu'" in line           # torch's own arguments
    d = json.loads(cli("list", "--json").stdout)
    assert d["keras.random_uniform"]["arguments"] == {"minval": -0.05, "maxval": 0.05}      # Keras's own names


def test_too_large_is_a_value_error_naming_the_shape():
    with pytest.raises(ValueError, match=r"shape \(1000000, 1000000\) is too large.*4.0 TB"):
        pj.he_init((10 ** 6, 10 ** 6), backend="numpy")


# --- reproducibility: the seed drawn is reported ------------------------------------------------------------

def test_init_without_seed_reports_it_and_noext_out_reports_the_file(tmp_path):
    p = cli("init", "he", "4", "3", "--out", tmp_path / "w", "--json")
    assert p.returncode == 0, p.stderr
    d = strict_loads(p.stdout)
    assert d["out"] == str(tmp_path / "w.npy") and (tmp_path / "w.npy").is_file()
    again = pj.he_init((4, 3), seed=d["seed"], backend="numpy")
    assert np.array_equal(np.load(tmp_path / "w.npy"), again)
    p = cli("init", "he", "4", "3")
    assert "the seed drawn was" in p.stderr and "seed: " in p.stdout


def test_last_seed_reproduces_an_unseeded_call():
    w = pj.xavier_init((5, 7), backend="numpy")
    assert np.array_equal(pj.xavier_init((5, 7), seed=pj.last_seed(), backend="numpy"), w)


# --- strict JSON, results first, interruption keeps finished runs ---------------------------------------------

def test_json_is_strict_even_for_a_diverged_run(small_data):
    x, y, xt, yt = small_data
    r = pj.train(x, y, xt, yt, hidden=(16,), epochs=1, lr=1e30, optimizer="sgd", momentum=0.0, seed=0,
                 init="normal", init_kwargs={"std": 10.0}, backend="numpy", verbose=False)
    assert r.diverged is not None and r.diverged["loss"] == "non-finite"
    d = strict_loads(r.to_json())
    assert d["final_accuracy"] is None


def test_interrupted_sweep_keeps_finished_runs(small_data, tmp_path, monkeypatch):
    calls = []
    real = C.train

    def train_then_interrupt(*a, **k):
        calls.append(k["init"])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(C, "train", train_then_interrupt)
    out = tmp_path / "c.json"
    c = C.compare(["he", "xavier"], seeds=(0, 1), data=small_data, epochs=1, hidden=(8,), json_path=out, executor=None,
                  verbose=False, backend="numpy")
    assert not c.complete and c.planned == 4 and sum(map(len, c.results.values())) == 2
    d = strict_loads(out.read_text())
    assert d["complete"] is False and d["finished_runs"] == 2 and len(d["runs"]["he"]) == 2


def test_files_are_written_atomically_and_readable(tmp_path):
    from pyjinit.support.files import write_text

    p = write_text(tmp_path / "a.json", "{}")
    assert p.read_text() == "{}" and oct(p.stat().st_mode & 0o777) != "0o600"
    assert [f.name for f in tmp_path.iterdir()] == ["a.json"]       # no temporary left behind


# --- progress off a terminal, quiet on request ------------------------------------------------------------

def test_progress_is_shown_when_stderr_is_not_a_terminal(data_dir):
    p = cli("train", "--epochs", "2", "--hidden", "8", "--data-dir", data_dir)
    assert p.returncode == 0, p.stderr
    assert "epoch   1/2" in p.stderr and "2/2" in p.stderr
    q = cli("train", "--epochs", "2", "--hidden", "8", "--data-dir", data_dir, "--quiet")
    assert q.returncode == 0 and "epoch" not in q.stderr
    assert "seed=0" in q.stdout                                      # the seed of the run is shown


# --- figures ---------------------------------------------------------------------------------------------------

def test_figure_colours_titles_and_labels(small_data):
    pytest.importorskip("matplotlib")
    kw = dict(seeds=(0,), data=small_data, epochs=2, hidden=(8,), verbose=False, backend="numpy")
    a = C.compare(["he", "xavier"], **kw)
    b = C.compare(["xavier", "he"], **kw)
    fa, fb = a.plot(), b.plot()
    colours = [{l.get_label(): l.get_color() for l in f.axes[0].get_lines()} for f in (fa, fb)]
    assert colours[0] == colours[1]                                  # one colour per initializer, any order
    assert colours[0]["he (1 seed)"] != colours[0]["xavier (1 seed)"]
    assert "target 97%" in colours[0]
    title = fa._suptitle.get_text()
    assert "MLP 8 relu" in title and "2 epochs" in title and "1 seed" in title
    ticks = fa.axes[0].get_xticks()
    assert all(float(t).is_integer() for t in ticks)
    assert style("keras.glorot_normal")[0] == style("xavier")[0]    # the same family, the same colour


def test_license_and_readme_install_steps():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    readme = (ROOT / "README.md").read_text()
    for words in ("python3 -m venv", "Python ≥ 3.10", "apt", "--no-deps", "numpy<2", "--quiet"):
        assert words in readme, words


def test_sweeps_give_the_same_results_on_any_executor(small_data):
    """blas_threads fixes each run's BLAS threads, so a local process pool gives the serial results exactly."""
    kw = dict(seeds=(0, 1), data=small_data, epochs=2, hidden=(16,), verbose=False, backend="numpy")
    serial = C.compare(["he", "xavier"], executor=None, **kw)
    pool = C.compare(["he", "xavier"], executor="processes", **kw)
    strip = lambda r: [{k: v for k, v in h.items() if k != "seconds"} for h in r.history]  # noqa: E731
    for name in serial.results:
        assert [strip(r) for r in serial.results[name]] == [strip(r) for r in pool.results[name]]
    with pytest.raises(TypeError, match="executor must be"):
        C.compare(["he"], seeds=(0,), data=small_data, executor=42)
    with pytest.raises(ValueError, match="blas_threads must be an integer >= 1"):
        C.compare(["he"], seeds=(0,), data=small_data, blas_threads=0)
