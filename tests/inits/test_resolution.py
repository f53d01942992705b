"""A name is resolved once: the call path of an initializer stays short, framework names are table rows, and
every error message names only initializers that exist."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pyjinit as pj
from pyjinit.inits import registry

ROOT = Path(__file__).resolve().parents[2]


def test_he_init_visits_at_most_8_module_stays():
    """bench/trace_calls.py counts, with sys.setprofile, the runs of consecutive pyjinit calls in one module
    while `pyjinit.he_init((128, 784), seed=0)` runs on the NumPy path (the trace was 24 stays and 90 calls
    before the draw was resolved once: validation, the backend, the draw, the stream, the ziggurat)."""
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "trace_calls.py")], capture_output=True, text=True,
                       timeout=120, env={"PYJINIT_BACKEND": "numpy", "PATH": "/usr/bin:/bin"}, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    stays = int(re.search(r"(\d+) module stays", p.stdout).group(1))
    assert stays <= 8, p.stdout


def test_no_context_variables_or_magic_keys_carry_the_call():
    src = "\n".join(f.read_text() for f in (ROOT / "pyjinit").rglob("*.py"))
    assert "ContextVar" not in src and '"__func__"' not in src


@pytest.mark.parametrize("name, kw", [("kaiming_normal", {"distribution": "uniform"}),
                                      ("glorot_uniform", {"distribution": "normal"}),
                                      ("lecun_normal", {"distribution": "uniform"}),
                                      ("keras.he_normal", {"distribution": "uniform"})])
def test_messages_name_only_initializers_that_exist(name, kw):
    with pytest.raises((ValueError, TypeError)) as e:
        pj.init(name, (4, 3), seed=0, **kw)
    for named in re.findall(r"use (\S+) with", str(e.value)):
        assert named in pj.initializers(), str(e.value)


def test_framework_names_resolve_to_a_function_and_arguments():
    """The resolution table: a framework name with its own arguments gives a pyjinit function and the arguments
    it is called with, once; `init` is that call."""
    func, kw = registry.resolve("torch.kaiming_uniform", (8, 4), {"a": 5 ** 0.5, "seed": 1})
    assert func is pj.he_init and kw["distribution"] == "uniform" and kw["a"] == 5 ** 0.5 and kw["seed"] == 1
    func, kw = registry.resolve("keras.he_normal", (4, 8), {"seed": 1, "layout": "keras"})
    assert func is pj.truncated_normal_init and kw["std"] > 0
    assert (pj.init("keras.he_normal", (4, 8), seed=1, layout="keras", backend="numpy")
            == func((4, 8), **kw, backend="numpy")).all()
