"""Issue 22, from the first run on Julia 1.10.8 + Flux 0.16.9: the parts that run here (Julia 1.5.3 in a
subprocess) and the parts that need juliacall with Julia >= 1.10 (skipped here, with the
reason, as in test_juliacall_bridge.py).

1. an empty test set in Flux training; 4. one-line FluxUnavailable and fallback warning, Flux installed at
most once, Julia's output held back; 5. a bad keyword as Python's TypeError; 6. messages render arguments as
the NumPy backend does; 7. bench/run.py starts Julia before importing torch; 8. the Flux probe of the
Julia suite; 9. map_words!'s docstring. (2. max-pool ties: tests/training/test_cnn.py; 3.: flux_tests.jl.)"""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pyjinit as pj
from pyjinit.inits import numpy_backend as nb
from pyjinit.julia import bridge
from pyjinit.julia.process import Call, run_calls, run_script

ROOT = Path(__file__).resolve().parents[2]

JULIA_ERROR = ("could not download https://pkg.julialang.org/registries\nStacktrace:\n"
               + "".join(f"  [{i}] f{i}(x::Int) @ Pkg ~/.julia/Pkg.jl:{i}\n" for i in range(1, 34)))


# --- 1. an empty test set -------------------------------------------------------------------------------

def test_empty_test_set_numpy_gives_zero(small_data):
    """What Flux must give too (the NumPy trainer's evaluate of no examples: 0 loss, 0 accuracy)."""
    x, y, xt, yt = small_data
    r = pj.train(x, y, xt[:0], yt[:0], hidden=(4,), epochs=1, backend="numpy", verbose=False, blas_threads=1)
    assert r.history[0]["test_loss"] == 0 and r.history[0]["test_accuracy"] == 0


def test_empty_test_set_flux_gives_what_numpy_gives(juliacall_jl, small_data):
    x, y, xt, yt = small_data
    for conv in ((), (4,)):
        f = pj.train(x, y, xt[:0], yt[:0], hidden=(4,), conv=conv, epochs=1, backend="julia", verbose=False)
        n = pj.train(x, y, xt[:0], yt[:0], hidden=(4,), conv=conv, epochs=1, backend="numpy", verbose=False)
        assert f.backend == "julia"
        assert (f.history[0]["test_loss"], f.history[0]["test_accuracy"]) == \
            (n.history[0]["test_loss"], n.history[0]["test_accuracy"]) == (0, 0)


# --- 4. Flux unavailable: one line, once ----------------------------------------------------------------

def test_first_line_drops_the_stack_trace():
    assert bridge.first_line(JULIA_ERROR) == "could not download https://pkg.julialang.org/registries"
    assert bridge.first_line("The following package names could not be resolved:\n * Flux (587475ba)\nStacktrace:") \
        == "The following package names could not be resolved: * Flux (587475ba)"


def test_quietly_holds_back_julias_stderr_and_logging(julia):
    """bridge._QUIETLY in a real Julia (1.5 here; redirect_stderr(f, io) and with_logger are in 1.10 too):
    what Pkg prints to its io, to stderr and through @warn is returned, not shown; an error comes back as its
    message."""
    src = (f"q = {bridge._QUIETLY.strip()}\n"
           'msg, out = q(io -> (println(io, "to io"); println(stderr, "to stderr"); @warn "a warning"; '
           'error("boom\\nsecond line")))\n'
           'print(repr(msg), " ", repr(out))\n'
           'msg2, out2 = q(io -> nothing)\nprint(" ", repr(msg2))')
    p = subprocess.run([julia, "-e", src], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""                                       # nothing reached the terminal
    assert p.stdout.startswith('"boom\\nsecond line"') and p.stdout.endswith(' ""')
    for text in ("to io", "to stderr", "a warning"):
        assert text in p.stdout


# --- 5. an unexpected keyword ---------------------------------------------------------------------------

def _numpy_type_error(name, **kw):
    with pytest.raises(TypeError) as e:
        getattr(pj, name)((2, 2), seed=0, backend="numpy", **kw)
    return str(e.value)


def test_unexpected_keyword_is_pythons_type_error_in_julia(julia):
    """JInit.unexpected_keyword (used by the bridge) finds the first keyword no method takes; the message is
    the NumPy backend's. Run in a Julia process (process.py's emit uses it the same way)."""
    cases = [Call("he_init", (2, 2), kwargs={"bogus": 1}),
             Call("xavier_init", (2, 2), kwargs={"gain": 1.0, "bogus": 1, "other": 2}),
             Call("he_init", (4, 4), kwargs={"bogus": 1}, index=((0, 2), (0, 2)))]
    got = run_calls(cases, julia=julia)
    assert got[0] == _numpy_type_error("he_init", bogus=1) == "he_init() got an unexpected keyword argument 'bogus'"
    assert got[1] == _numpy_type_error("xavier_init", gain=1.0, bogus=1, other=2)
    assert got[2] == got[0]
    out = run_script("using JInit\n"
                     "e1 = try JInit._he_init(PhiloxStream(0), Float32, 2; bogus = 1) catch e; e end\n"
                     "e2 = try JInit.he_init(PhiloxStream(0), Float32, 2.5) catch e; e end\n"
                     "print(JInit.unexpected_keyword(e1) === nothing, JInit.unexpected_keyword(e2) === nothing, "
                     "JInit.unexpected_keyword(ArgumentError(\"x\")) === nothing)", julia=julia)
    assert out == "truetruetrue"          # a positional mismatch, no keyword at fault, not a MethodError


def test_unexpected_keyword_through_juliacall(juliacall_jl):
    for name in ("he_init", "xavier_init"):
        with pytest.raises(TypeError) as e:
            getattr(pj, name)((2, 2), seed=0, backend="julia", bogus=1)
        assert str(e.value) == _numpy_type_error(name, bogus=1)


# --- 6. arguments in messages ---------------------------------------------------------------------------

BAD_VALUES = [
    ("normal_init", (3,), {"std": None}),
    ("normal_init", (3,), {"std": [1.0]}),
    ("normal_init", (3,), {"mean": 1j}),
    ("normal_init", (3,), {"mean": complex(1.5, -2)}),
    ("normal_init", (3,), {"std": -1e-5}),
    ("normal_init", (3,), {"std": -1e16}),
    ("normal_init", (3,), {"std": ("a", 1)}),
    ("normal_init", (3,), {"std": [True, None, "a", 1e-5, (1,), [2, 3]]}),
    ("uniform_init", (3,), {"low": 2e-7, "high": 1e-7}),
    ("constant_init", (2,), {"value": None}),
]


def _numpy_value_error(c):
    try:
        getattr(nb, c.name)(c.shape, np.dtype(c.dtype), c.seed, **c.kwargs)
    except ValueError as e:
        return str(e)
    raise AssertionError(f"NumPy backend accepted {c}")


def test_same_error_messages_for_none_lists_complex_and_floats(julia):
    """As tests/inits/test_cross_backend.py::test_same_error_messages: Julia's fmt renders what juliacall hands
    it (None -> nothing, a list -> a vector, a complex) as the NumPy backend's fmt (Python's repr)."""
    cases = [Call(n, s, "float32", 0, kw) for n, s, kw in BAD_VALUES]
    for c, jl in zip(cases, run_calls(cases, julia=julia)):
        assert jl == _numpy_value_error(c), f"{c}:\n  julia: {jl}\n  numpy: {_numpy_value_error(c)}"


def test_same_error_messages_through_juliacall(juliacall_jl):
    for name, shape, kw in BAD_VALUES:
        with pytest.raises(ValueError) as e:
            getattr(pj, name)(shape, seed=0, backend="julia", **kw)
        assert str(e.value) == _numpy_value_error(Call(name, shape, "float32", 0, kw))


# --- 7. bench/run.py: Julia before torch ----------------------------------------------------------------

def test_bench_starts_julia_before_importing_torch():
    pytest.importorskip("torch", reason="torch is not installed: nothing to order")
    code = ("import sys, warnings; sys.path.insert(0, sys.argv[1]); import run, pyjinit\n"
            "assert 'torch' not in sys.modules, 'bench/run.py imported torch at import'\n"
            "seen = []\n"
            "real = pyjinit.start_julia\n"
            "pyjinit.start_julia = lambda: (seen.append('torch' in sys.modules), real())\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    run.start_julia_then_torch()\n"
            "assert seen == [False], seen\n"
            "assert run.torch is not None and 'torch' in sys.modules\n"
            "assert not [x for x in w if 'torch was imported before' in str(x.message)], [str(x.message) for x in w]\n"
            "print('ok')")
    p = subprocess.run([sys.executable, "-c", code, str(ROOT / "bench")], capture_output=True, text=True,
                       timeout=600, cwd=str(ROOT))
    assert p.returncode == 0 and p.stdout.strip().endswith("ok"), p.stderr[-3000:]


# --- 8. the Julia suite's Flux probe --------------------------------------------------------------------

def test_flux_probe_says_why_not(julia):
    from tests.julia.test_julia_suite import flux_probe

    ok, why, code = flux_probe(julia)
    assert (ok, why) == (True, None) if code == 0 else (not ok and why)
    v = subprocess.run([julia, "-e", "print(VERSION)"], capture_output=True, text=True).stdout
    if tuple(int(p) for p in v.split(".")[:2]) < (1, 9):
        assert code == 2 and "Julia < 1.9" in why


# --- 9. fill.jl's docstrings ----------------------------------------------------------------------------

def test_map_words_docstring_is_on_map_words(julia):
    out = run_script('using JInit; print(string(@doc JInit.map_words!), "|||", string(@doc JInit.u32_value))',
                     julia=julia)
    mw, u32 = out.split("|||")
    assert "Values of logical elements" in mw and "Values of logical elements" not in u32
    assert "Uniform32" in u32
