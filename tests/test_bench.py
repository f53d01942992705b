"""`bench/run.py --quick` runs and writes its results (it asserts nothing about speed)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def test_bench_quick_runs(tmp_path):
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-3000:]
    res = json.loads(next(tmp_path.glob("quick-*.json")).read_text())
    engines = {r["engine"] for r in res["elementwise"]}
    assert {"pyjinit numpy", "fill (numpy)", "numpy Philox.random"} <= engines
    assert all(r["ns_per_element"] > 0 for r in res["elementwise"])
    assert res["training"][0]["seconds_per_epoch"] > 0
    assert res["overheads"][0]["starts_julia"] is False        # import pyjinit does not start Julia
    assert "## elementwise" in p.stdout
