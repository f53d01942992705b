"""The juliacall bridge's parts that need no Julia: the environment it sets (threads, signals), the torch
ordering warning, the state after an interrupted start, error translation, and the Flux fallback. The parts
that need Julia >= 1.10 are in test_juliacall_bridge.py (skipped here, with the reason)."""
import sys
import types

import numpy as np
import pytest

from pyjinit.julia import bridge


@pytest.mark.parametrize("env, xopts, expect", [
    ({}, {}, {}),                                                       # default: juliacall's 1 thread, Ctrl-C works
    ({"PYJINIT_JULIA_THREADS": "auto"}, {}, {"PYTHON_JULIACALL_THREADS": "auto",
                                             "PYTHON_JULIACALL_HANDLE_SIGNALS": "yes"}),
    ({"PYJINIT_JULIA_THREADS": "1"}, {}, {}),
    ({"PYJINIT_JULIA_THREADS": "4", "PYTHON_JULIACALL_THREADS": "2"}, {}, {}),   # the user's juliacall setting wins
    ({"PYJINIT_JULIA_THREADS": "4", "JULIA_NUM_THREADS": "2"}, {}, {}),
    ({"PYJINIT_JULIA_THREADS": "4"}, {"juliacall-threads": "2"}, {}),            # -X juliacall-threads=2 too
    ({"PYJINIT_JULIA_THREADS": "4"}, {"juliacall-handle-signals": "no"}, {"PYTHON_JULIACALL_THREADS": "4"}),
    ({"PYJINIT_JULIA_THREADS": "4", "PYTHON_JULIACALL_HANDLE_SIGNALS": "no"}, {}, {"PYTHON_JULIACALL_THREADS": "4"}),
])
def test_environment_for_juliacall(env, xopts, expect):
    assert bridge.configure_env(env, xopts) == expect


def test_torch_before_julia_is_a_clear_warning():
    assert "pyjinit.start_julia()" in bridge.torch_warning({"torch": 1})
    assert bridge.torch_warning({"torch": 1, "juliacall": 1}) is None and bridge.torch_warning({}) is None


@pytest.fixture
def fresh_bridge(monkeypatch):
    monkeypatch.setattr(bridge, "_state", {"module": None, "error": None, "tried": False, "log": ""})
    return bridge


def test_interrupted_start_leaves_nothing_decided(fresh_bridge, monkeypatch):
    """A Ctrl-C while juliacall starts raises KeyboardInterrupt, and the next call tries again (it used to
    leave the backend broken with the message 'None')."""
    starts = []

    def interrupted(name):
        starts.append(name)
        raise KeyboardInterrupt

    monkeypatch.setitem(sys.modules, "juliacall", types.SimpleNamespace(newmodule=interrupted))
    with pytest.raises(KeyboardInterrupt):
        bridge.module()
    assert bridge.status() == (False, None) and not bridge._state["tried"]
    with pytest.raises(KeyboardInterrupt):
        bridge.module()
    assert starts == ["PyJInit", "PyJInit"]                 # tried again, not "None"

    def failing(name):
        print("juliapkg: Querying Julia versions ...")       # start-up chatter is held back
        raise OSError("no Julia >= 1.10")

    monkeypatch.setitem(sys.modules, "juliacall", types.SimpleNamespace(newmodule=failing))
    with pytest.raises(RuntimeError, match="no Julia >= 1.10"):
        bridge.module()
    assert "Querying" in bridge.start_log() and "no Julia >= 1.10" in bridge.short_reason()
    with pytest.raises(RuntimeError, match="no Julia >= 1.10"):       # decided: said again at once
        bridge.module()


def test_method_error_of_the_called_function_is_one_clean_type_error():
    e = TypeError("Julia: MethodError: no method matching he_init(::PhiloxStream, ::Type{Float32}, ::Int64; bogus=1)\n"
                  "Closest candidates are:\n  he_init(...)")
    t = bridge.call_error("he_init", e)
    assert isinstance(t, TypeError)
    assert str(t).startswith("he_init: no method matching he_init(") and "\n" not in str(t)
    assert "python -m pyjinit list" in str(t)


def test_flux_unavailable_falls_back_to_numpy_under_auto(small_data, monkeypatch):
    """When Julia runs but Flux (or JInit's extension) cannot load, backend=None trains with NumPy from the
    same weights and says so; backend='julia' raises."""
    from pyjinit.training import trainer

    def no_flux(*a, **k):
        raise bridge.FluxUnavailable("Flux is loaded but JInit's Flux extension (JInitFluxExt) did not load")
        yield

    monkeypatch.setattr(bridge, "flux_epochs", no_flux)
    import pyjinit.inits.backend as backend
    monkeypatch.setattr(backend, "choose_backend", lambda b: "julia")
    real = trainer.initial_weights
    monkeypatch.setattr(trainer, "initial_weights", lambda sizes, *a, **k: real(sizes, *a, backend="numpy"))
    x, y, xt, yt = small_data
    with pytest.warns(RuntimeWarning, match="training with NumPy instead of Flux"):
        r = trainer.train(x, y, xt, yt, hidden=(8,), epochs=1, verbose=False, blas_threads=1)
    assert r.backend == "numpy" and len(r.history) == 1
    ref = trainer.train(x, y, xt, yt, hidden=(8,), epochs=1, verbose=False, backend="numpy", blas_threads=1)
    assert np.isclose(r.history[0]["train_loss"], ref.history[0]["train_loss"], rtol=0, atol=0)
    with pytest.raises(bridge.FluxUnavailable):
        trainer.train(x, y, xt, yt, hidden=(8,), epochs=1, verbose=False, backend="julia")
