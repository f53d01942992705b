"""The package's layout: no import cycles, imports point down the layers, optional dependencies stay in
the one module that needs them, and `import pyjinit` loads none of them.

The import graph is read from the source with `ast` (every import, including those inside functions).
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "pyjinit"

# Layers of subpackages: a module may import its own subpackage and the layers below it. Modules directly in
# pyjinit/ (the public names, the CLI, the `pyjinit.torch`-style entry points) sit on top and may import any.
LAYERS = {"julia": 0, "inits": 1, "support": -1, "frameworks": 2, "scale": 2, "training": 3, "schemes": 3}
# Optional dependencies and the only modules that may import them.
OPTIONAL = {"matplotlib": {"pyjinit.training.plots"}, "juliacall": {"pyjinit.julia.bridge"},
            "juliapkg": {"pyjinit.julia.bridge"}, "tqdm": {"pyjinit.support.progress"}, "dask": {"pyjinit.scale.dask"}, "zarr": {"pyjinit.scale.dask"},
            "threadpoolctl": {"pyjinit.training.blas"}, "distributed": set(), "torch": {"pyjinit.frameworks.torch", "pyjinit.frameworks.torch_sampler",
                                                                 # the schemes that act on PyTorch modules
                                                                 *(f"pyjinit.schemes.{m}" for m in ("conv", "mimetic", "modules", "mup", "residual", "zero"))}, "keras": {"pyjinit.frameworks.keras"},
            "jax": {"pyjinit.frameworks.jax", "pyjinit.frameworks.jax_sampler", "pyjinit.frameworks.jax_shard"}, "flax": set()}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read_imports(root: Path) -> dict:
    """{module: {(imported module, line)}} for every module of the package at `root`; an import of a name
    from a package counts as an import of the submodule when the name is one."""
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    out = {}
    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                edges |= {(a.name, node.lineno) for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".")[: len(mod.split(".")) - node.level + (1 if is_pkg else 0)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    edges.add((sub if sub in files else target, node.lineno))
        out[mod] = edges
    return out


def internal_graph(imports: dict, pkg: str) -> dict:
    return {m: {t for t, _ in e if (t == pkg or t.startswith(pkg + ".")) and t in imports and t != m}
            for m, e in imports.items()}


def find_cycle(graph: dict):
    """One import cycle as a list of modules [a, b, ..., a], or None."""
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if t not in state:
                c = visit(t)
                if c:
                    return c
        state[m] = 2
        stack.pop()
        return None

    for m in sorted(graph):
        if m not in state:
            c = visit(m)
            if c:
                return c
    return None


def layer_of(mod: str):
    parts = mod.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def upward_imports(graph: dict) -> list:
    bad = []
    for m, targets in graph.items():
        for t in targets:
            lm, lt = layer_of(m), layer_of(t)
            in_subpackage = len(m.split(".")) > 1 and m.split(".")[1] in LAYERS
            if in_subpackage and (lt is None or (lt > lm)):
                bad.append(f"{m} -> {t}")
    return sorted(bad)


def test_no_import_cycles():
    cycle = find_cycle(internal_graph(read_imports(PKG), "pyjinit"))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle(tmp_path):
    """The check can fail: a package whose modules import each other in a ring is caught."""
    pkg = tmp_path / "ring"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .a import f\n")
    (pkg / "a.py").write_text("def f():\n    from .sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text("from ..a import f\nfrom .. import sub\n")
    graph = internal_graph(read_imports(pkg), "ring")
    assert find_cycle(graph) == ["ring.a", "ring.sub.b", "ring.a"]
    (pkg / "sub" / "b.py").write_text("import os\n")
    assert find_cycle(internal_graph(read_imports(pkg), "ring")) is None


def test_imports_point_down_the_layers():
    bad = upward_imports(internal_graph(read_imports(PKG), "pyjinit"))
    assert not bad, "imports that point up the layers: " + "; ".join(bad)


def test_every_folder_says_what_lives_there_and_what_it_may_import():
    for init in PKG.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and "May import" in doc, f"{init} has no docstring saying what it may import"


def test_optional_dependencies_only_where_they_are_used():
    wrong = []
    for mod, edges in read_imports(PKG).items():
        for target, line in edges:
            top = target.split(".")[0]
            if top in OPTIONAL and mod not in OPTIONAL[top]:
                wrong.append(f"{mod}:{line} imports {target}")
    assert wrong == []


@pytest.mark.parametrize("dep", ["matplotlib", "juliacall", "juliapkg", "torch", "jax", "keras", "flax", "dask",
                                 "distributed", "zarr", "tqdm", "scipy"])
def test_import_pyjinit_loads_no_optional_dependency(dep):
    p = subprocess.run([sys.executable, "-c", f"import sys, pyjinit; print({dep!r} in sys.modules)"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "False"
