"""Where the Julia package JInit is: inside the installed package (wheel) or in the checkout."""
from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def jinit_path() -> Path:
    """The folder of JInit's Project.toml: `pyjinit/julia/JInit` in a wheel, `julia/JInit` in a checkout."""
    for p in (_HERE / "julia" / "JInit", _HERE.parent / "julia" / "JInit"):
        if (p / "Project.toml").is_file():
            return p
    raise FileNotFoundError(f"JInit's Project.toml is neither in {_HERE / 'julia' / 'JInit'} nor in "
                            f"{_HERE.parent / 'julia' / 'JInit'}; the installation is incomplete")
