"""Issue 23: the ZerO and mimetic experiments' smoke modes (bench/experiments/zero_init.py, mimetic.py --quick), end
to end on real MNIST at tiny sizes. Skipped without torch or MNIST."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(script, out):
    pytest.importorskip("torch")
    from pyjinit.training.datasets import load_mnist

    try:
        load_mnist(download_ok=False)
    except Exception as e:                                                         # no MNIST offline: nothing to run
        pytest.skip(f"MNIST is not available: {e}")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    subprocess.run([sys.executable, str(ROOT / "bench" / "experiments" / f"{script}.py"), "--quick", "--out", str(out)],
                   check=True, env=env, cwd=ROOT, capture_output=True, timeout=300)
    return json.loads(out.read_text())


@pytest.mark.slow
def test_zero_init_quick_runs_and_zero_is_identical_across_init_seeds(tmp_path):
    r = _run("zero_init", tmp_path / "zero_init_quick.json")
    assert r["config"]["quick"] is True
    s = r["summary"]
    assert s["zero"]["protocol_A_final_weights_max_abs_diff"] == 0.0              # bitwise the same run
    assert s["zero"]["protocol_A_distinct_final_digests"] == 1
    assert s["he"]["protocol_A_final_weights_max_abs_diff"] > 0                    # a random init differs
    assert s["he"]["protocol_A_distinct_final_digests"] == r["config"]["seeds"]


@pytest.mark.slow
def test_mimetic_quick_runs_and_has_the_papers_structure_at_init(tmp_path):
    r = _run("mimetic", tmp_path / "mimetic_quick.json")
    assert r["config"]["quick"] is True
    mim, dft = r["summary"]["mimetic"]["init_stats"][0], r["summary"]["default"]["init_stats"][0]
    assert mim["qk_trace_over_d"] > 0.2 and abs(dft["qk_trace_over_d"]) < 0.1      # W_q^T W_k: + identity
    assert abs(mim["vo_trace_over_d"] + 0.4) < 0.05 and abs(dft["vo_trace_over_d"]) < 0.1   # W_o W_v: -0.4 I
