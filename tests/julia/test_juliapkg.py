"""juliapkg finds JInit (dev, an existing path) and Flux from the checkout and from a built wheel."""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
sys.path[:] = [p for p in sys.path if p != {drop!r}]
sys.path.insert(0, {add!r})
import juliapkg.deps as d
compat, reqs = d.find_requirements()
print(json.dumps({{"julia": str(compat), "deps": [dict(name=r.name, uuid=r.uuid, dev=r.dev, path=r.path,
                                                       version=str(r.version)) for r in reqs]}}))
"""


def _requirements(add: str, drop: str = "", cwd=None) -> dict:
    p = subprocess.run([sys.executable, "-c", PROBE.format(add=add, drop=drop)], capture_output=True, text=True,
                       cwd=cwd or os.path.dirname(add), timeout=120)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.splitlines()[-1])
    reqs = {r["name"]: r for r in out["deps"]}
    reqs["julia"] = out["julia"]
    return reqs


def _check(reqs: dict, expect_path: Path):
    jinit = reqs["JInit"]
    assert jinit["dev"] is True
    assert os.path.samefile(jinit["path"], expect_path)
    assert (Path(jinit["path"]) / "Project.toml").is_file() and (Path(jinit["path"]) / "src" / "JInit.jl").is_file()
    project = (Path(jinit["path"]) / "Project.toml").read_text()
    assert f'uuid = "{jinit["uuid"]}"' in project
    assert f'version = "{jinit["version"].lstrip("=")}"' in project
    # Flux is not installed with the initializers: the first Flux training installs it (pyjinit.julia.bridge)
    assert "Flux" not in reqs
    assert "1.10" in reqs["julia"]       # juliacall needs Julia >= 1.10 (Flux >= 0.14.22 too)
    # JInit bounds the Flux versions its extension is written for (direct Julia users get the guard too)
    assert 'Flux = "0.14.22, 0.15, 0.16"' in project


def test_checkout():
    _check(_requirements(str(ROOT)), ROOT / "julia" / "JInit")


def test_built_wheel(tmp_path):
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path),
                        str(ROOT)], capture_output=True, text=True, timeout=600)
    if p.returncode != 0 and "No module named 'hatchling'" in p.stderr:
        pytest.skip("hatchling is not installed (pip install hatchling)")
    assert p.returncode == 0, p.stderr
    wheel = next(tmp_path.glob("pyjinit-*.whl"))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        assert "pyjinit/juliapkg.json" in names and "pyjinit/julia/JInit/src/JInit.jl" in names
        assert "pyjinit/julia/JInit/Project.toml" in names
        z.extractall(site)
    assert json.loads((site / "pyjinit" / "juliapkg.json").read_text())["packages"]["JInit"]["path"] == "julia/JInit"
    _check(_requirements(str(site), drop=str(ROOT)), site / "pyjinit" / "julia" / "JInit")
    # Python started in the checkout (or its parent) beside an installed wheel: juliapkg finds one pyjinit
    # (the first on sys.path, as import does), not two clashing JInit paths
    parent = tmp_path / "parent"              # the checkout's parent, without whatever else lives beside it
    parent.mkdir()
    (parent / "checkout").symlink_to(ROOT, target_is_directory=True)
    for cwd in (ROOT, parent):
        _check(_requirements(str(site), drop=str(ROOT), cwd=cwd), site / "pyjinit" / "julia" / "JInit")
    assert not (ROOT / "juliapkg.json").exists()
    # the installed package finds its own JInit
    q = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                        "from pyjinit.julia.common import jinit_path; print(jinit_path())", str(site)],
                       capture_output=True, text=True, cwd=str(tmp_path))
    assert q.returncode == 0 and os.path.samefile(q.stdout.strip(), site / "pyjinit" / "julia" / "JInit")
