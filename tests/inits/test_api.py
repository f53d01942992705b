"""Import cost, backend selection, backend_info and the command line."""
import json
import re
import os
import subprocess
import sys

import numpy as np
import pytest

import pyjinit as pj


def _py(code, env=None, **kw):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e, timeout=300, **kw)


def _cli(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "pyjinit", *args], capture_output=True, text=True, env=e, timeout=300)


def test_import_does_not_start_julia():
    p = _py("import pyjinit, sys; print('juliacall' in sys.modules, 'juliapkg' in sys.modules)")
    assert p.returncode == 0 and p.stdout.split() == ["False", "False"]


def test_numpy_backend_explicit_and_by_env():
    a = pj.xavier_init((3, 4), seed=1, backend="numpy")
    p = _py("import pyjinit, numpy; numpy.save('/dev/stdout', pyjinit.xavier_init((3, 4), seed=1))",
            env={"PYJINIT_BACKEND": "numpy"})
    assert p.returncode == 0 and "RuntimeWarning" not in p.stderr
    assert a.dtype == np.float32


def test_auto_falls_back_once_with_the_reason_or_uses_julia():
    code = ("import warnings, pyjinit\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    a = pyjinit.he_init((4, 4), seed=1); b = pyjinit.he_init((4, 4), seed=1)\n"
            "print(len([x for x in w if 'computes with NumPy' in str(x.message)]), pyjinit.backend_info()['backend'])\n"
            "print(w[0].message if w else '')\n"
            "print(w[0].filename if w else '')")
    p = _py(code, env={"PYJINIT_BACKEND": "auto"})
    assert p.returncode == 0, p.stderr
    n, backend = p.stdout.splitlines()[0].split()
    assert (backend == "julia" and n == "0") or (backend == "numpy" and n == "1")
    if backend == "numpy":
        message, filename = p.stdout.splitlines()[1:3]
        assert "juliacall could not start Julia" in message and len(message) < 400
        assert filename == "<string>"            # the caller's line, not pyjinit's
        # nothing from juliapkg/juliacall when Julia does not actually start
        assert not re.search(r"juliapkg|Querying|You have Julia", p.stdout + p.stderr), p.stdout + p.stderr


def test_backend_julia_raises_when_julia_cannot_start():
    info = pj.backend_info()
    if info["julia_available"]:
        pytest.skip("Julia >= 1.10 is available here: the julia backend works")
    with pytest.raises(RuntimeError, match="juliacall could not start Julia"):
        pj.he_init((3, 3), backend="julia")
    assert info["backend"] == "numpy" and info["why_not_julia"]


def test_backend_info_keys():
    info = pj.backend_info(start=False)
    for k in ("backend", "julia_available", "why_not_julia", "numpy", "jinit_path", "juliacall"):
        assert k in info
    assert os.path.isfile(os.path.join(info["jinit_path"], "Project.toml"))


def test_cli_info_json():
    p = _cli("info", "--json")
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert info["backend"] in ("julia", "numpy")
    assert info["julia_available"] or info["why_not_julia"]


def test_cli_list_and_init(tmp_path):
    p = _cli("list", "--json")
    assert p.returncode == 0 and "keras.he_normal" in json.loads(p.stdout)
    out = tmp_path / "w.npy"
    p = _cli("init", "kaiming_normal", "64", "32", "--seed", "3", "--backend", "numpy", "--out", str(out), "--json")
    assert p.returncode == 0, p.stderr
    assert np.array_equal(np.load(out), pj.init("kaiming_normal", (64, 32), seed=3, backend="numpy"))
    assert json.loads(p.stdout)["shape"] == [64, 32]
    p = _cli("init", "sparse", "10", "4", "--kw", "sparsity=0.5", "--backend", "numpy")
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("args,msg", [
    (["init", "kaiming_gauss", "3", "3", "--backend", "numpy"], "Did you mean 'kaiming_normal'"),
    (["init", "he", "3", "3", "--kw", "mode=fan_avg", "--backend", "numpy"], "mode must be one of fan_in, fan_out"),
    (["init", "he", "3", "x"], "must be an integer >= 0, got 'x'"),
    (["init", "he", "3", "3", "--dtype", "int8"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
])
def test_cli_bad_arguments_exit_2_without_traceback(args, msg):
    p = _cli(*args)
    assert p.returncode == 2
    assert msg in p.stderr and "Traceback" not in p.stderr


def test_cli_help():
    for args in (["--help"], ["info", "--help"], ["init", "--help"], ["list", "--help"]):
        p = _cli(*args)
        assert p.returncode == 0 and "usage" in p.stdout
