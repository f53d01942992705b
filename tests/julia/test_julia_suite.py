"""The Julia test suite (julia/JInit/test/runtests.jl), run by pytest; a failed Julia test fails here.

JInit's Flux tests (julia/JInit/test/flux_tests.jl) run whenever Flux is in the active Julia environment:
the suite runs as `julia --project=julia/JInit` (this checkout's JInit), and Julia looks for Flux along its
load path after JInit's project, i.e. in the default environment (`@v#.#`, e.g. ~/.julia/environments/v1.10)
or wherever JULIA_LOAD_PATH points. PYJINIT_JULIA_FLUX_ENV=<folder of a Julia environment with Flux> puts one
more environment on that path (juliacall's, e.g. `<venv>/julia_env` after pyjinit's first Flux training, or
one made with `julia --project=DIR -e 'using Pkg; Pkg.add("Flux")'`). A probe decides, with the same julia
(PYJINIT_JULIA or the first on PATH) and the same environment: `using JInit, Flux` and JInit's Flux extension
loaded. No Flux there (or Julia < 1.9, as Debian's 1.5.3): the suite runs without the Flux tests and this test
says so in a warning. Flux there but the probe fails (Flux does not load, or the extension does not: a Flux
outside JInit's compat), or PYJINIT_JULIA_FLUX_ENV set without a working Flux: the test fails.
"""
import os
import subprocess
import warnings

from pyjinit.julia.common import jinit_path

# exit codes: 0 Flux and JInit's extension load, 2 Julia < 1.9, 3 no Flux on the load path, 4 no extension
PROBE = ('VERSION >= v"1.9" || exit(2); Base.find_package("Flux") === nothing && exit(3); '
         'using JInit, Flux; exit(Base.get_extension(JInit, :JInitFluxExt) === nothing ? 4 : 0)')


def julia_env() -> dict:
    """The environment for julia: PYJINIT_JULIA_FLUX_ENV, when set, goes on the load path after JInit's project."""
    env = dict(os.environ)
    extra = os.environ.get("PYJINIT_JULIA_FLUX_ENV")
    if extra:
        env["JULIA_LOAD_PATH"] = os.pathsep.join(["@", extra, "@v#.#", "@stdlib"])
    return env


def flux_probe(julia) -> tuple:
    """(Flux tests will run, why not): runs PROBE as the suite will run."""
    p = subprocess.run([julia, f"--project={jinit_path()}", "-e", PROBE], capture_output=True, text=True,
                       timeout=900, env=julia_env())
    why = {0: None, 2: "Julia < 1.9 has no package extensions", 3: "no Flux on Julia's load path",
           4: "Flux loads but JInit's Flux extension does not (is the Flux within JInit's compat?)"}
    return p.returncode == 0, why.get(p.returncode, f"`using JInit, Flux` failed:\n{(p.stdout + p.stderr)[-3000:]}"), \
        p.returncode


def test_julia_suite_passes(julia):
    jinit = jinit_path()
    with_flux, why, code = flux_probe(julia)
    if code not in (0, 2, 3) or (os.environ.get("PYJINIT_JULIA_FLUX_ENV") and not with_flux):
        raise AssertionError(f"Flux is on Julia's load path but JInit's Flux tests cannot run: {why}")
    proc = subprocess.run([julia, "--threads=2", f"--project={jinit}", str(jinit / "test" / "runtests.jl")],
                          capture_output=True, text=True, timeout=1800, env=julia_env())
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"Julia tests failed:\n{out[-6000:]}"
    assert "Test Summary:" in out and "JInit" in out
    if with_flux:
        assert "FLUX TESTS NOT RUN" not in out, "the probe loaded Flux, yet the suite skipped the Flux tests"
    elif "FLUX TESTS NOT RUN" in out:
        # say so in the test report rather than passing silently (Debian's Julia 1.5.3 cannot load Flux)
        warnings.warn("the Julia suite ran without its Flux extension tests (julia/JInit/test/flux_tests.jl): "
                      f"{why}; " + out[out.index("FLUX TESTS NOT RUN"):].splitlines()[0], UserWarning)
