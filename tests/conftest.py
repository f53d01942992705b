import os

import pytest

from pyjinit._julia_subprocess import julia_exe

REQUIRE_JULIA = os.environ.get("PYJINIT_REQUIRE_JULIA") == "1"


@pytest.fixture(scope="session")
def julia():
    """A `julia` executable for the subprocess tests: skipped without one, unless
    PYJINIT_REQUIRE_JULIA=1 (as in .ci/run), where a missing julia fails."""
    exe = julia_exe()
    if exe is None:
        if REQUIRE_JULIA:
            pytest.fail("PYJINIT_REQUIRE_JULIA=1 but no julia on PATH (and PYJINIT_JULIA unset)")
        pytest.skip("no julia on PATH: the Julia suite and the cross-backend checks need one "
                    "(bash .ci/install-julia.sh installs Debian's Julia 1.5.3)")
    return exe


def juliacall_can_start():
    """(ok, reason): whether juliacall can start Julia >= 1.10 with JInit in this process."""
    from pyjinit import _julia

    try:
        _julia.module()
        return True, None
    except RuntimeError as e:
        return False, str(e)


@pytest.fixture(scope="session")
def juliacall_jl():
    ok, why = juliacall_can_start()
    if not ok:
        pytest.skip("juliacall cannot start Julia >= 1.10 here (no Julia >= 1.10 can be downloaded on this "
                    f"machine), so the juliacall bridge is not exercised: {why}")
    from pyjinit import _julia

    return _julia.module()
