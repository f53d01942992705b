"""The Julia test suite (julia/JInit/test/runtests.jl), run by pytest; a failed Julia test fails here."""
import subprocess

from pyjinit.julia.common import jinit_path


def test_julia_suite_passes(julia):
    jinit = jinit_path()
    proc = subprocess.run([julia, "--threads=2", f"--project={jinit}", str(jinit / "test" / "runtests.jl")],
                          capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"Julia tests failed:\n{out[-6000:]}"
    assert "Test Summary:" in out and "JInit" in out
