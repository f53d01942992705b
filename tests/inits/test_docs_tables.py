"""docs/initializers.md's per-framework tables against the registry (so the docs cannot drift), and the
frameworks' own lists of initializers (where installed) against the tables: every name of torch.nn.init,
keras.initializers and jax.nn.initializers is in them, or is one the docs name as left out."""
import re
from pathlib import Path

import pytest

from pyjinit.inits.registry import arguments, initializers

DOC = Path(__file__).resolve().parents[2] / "docs" / "initializers.md"
PREFIXES = ("torch", "keras", "flux", "jax")


def tables() -> dict:
    """{prefix: {name: arguments cell}} of the '## Every name, per framework' section."""
    text = DOC.read_text()
    section = text[text.index("## Every name, per framework"):]
    section = section[:section.index("\n## ", 1)]
    out = {p: {} for p in PREFIXES}
    for m in re.finditer(r"^\| `([a-z]+)\.([a-z_0-9]+)` \| (.*?) \| .* \|$", section, re.M):
        out[m.group(1)][f"{m.group(1)}.{m.group(2)}"] = m.group(3)
    return out


def cell(name) -> str:
    a = arguments(name)
    return ", ".join(f"`{k}={'required' if v == 'required' else repr(v)}`" for k, v in a.items()) or "—"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_the_tables_list_every_registry_name_with_its_arguments(prefix):
    doc = tables()[prefix]
    names = {n for n in initializers() if n.startswith(prefix + ".")}
    assert set(doc) == names, f"in the docs only: {set(doc) - names}; in the registry only: {names - set(doc)}"
    for n in names:
        assert doc[n] == cell(n), n


def test_flax_names_are_the_jax_names():
    flax = {n[5:] for n in initializers() if n.startswith("flax.")}
    assert flax == {n[4:] for n in initializers() if n.startswith("jax.")}


def test_every_torch_initializer_is_listed():
    init = pytest.importorskip("torch.nn.init")
    theirs = {n[:-1] for n in dir(init) if n.endswith("_") and not n.startswith("_")}
    assert {f"torch.{n}" for n in theirs} - set(tables()["torch"]) == set()


def test_every_keras_initializer_is_listed_or_named_as_left_out():
    keras = pytest.importorskip("keras")
    classes = {n for n in dir(keras.initializers) if n[0].isupper() and not n.endswith("Initializer")
               and n != "Initializer"}
    snake = {re.sub(r"(?<!^)(?=[A-Z])", "_", n).lower() for n in classes}
    missing = {f"keras.{n}" for n in snake} - set(tables()["keras"])
    assert missing == {"keras.s_t_f_t"}                               # STFT: pyjinit.keras.STFT only (the docs)
    assert "`pyjinit.keras.STFT`" in DOC.read_text()


def test_every_jax_initializer_is_listed():
    jax = pytest.importorskip("jax")
    theirs = {n for n in dir(jax.nn.initializers) if not n.startswith("_") and n != "Initializer"}
    assert {f"jax.{n}" for n in theirs} == set(tables()["jax"])


def test_the_flux_names_are_flux_016s():
    """Flux 0.16's initializers (src/utils.jl; Flux cannot be installed here, so the list is written down)."""
    flux = {"glorot_uniform", "glorot_normal", "kaiming_uniform", "kaiming_normal", "lecun_normal",
            "truncated_normal", "orthogonal", "sparse_init", "identity_init", "rand32", "randn32", "zeros32", "ones32"}
    assert {f"flux.{n}" for n in flux} == set(tables()["flux"])


# --- issue 23: the whole-model presets, the schemes and the role inference, as pyjinit.inits.plan.PRESET_DOCS,
# pyjinit.schemes.SCHEMES and pyjinit.schemes.roles state them ------------------------------------------------

def section(heading) -> str:
    text = DOC.read_text()
    s = text[text.index("\n" + heading + "\n"):]
    return s[:s.index("\n## ", 1)]


def rows(heading) -> dict:
    """{first cell without backticks: [the other cells]} of the table rows of a section (header rows left out)."""
    out = {}
    for line in section(heading).splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            out[cells[0].strip("`")] = cells[1:]
    return out


def test_every_preset_is_in_the_docs_with_its_rule_and_reference():
    from pyjinit.inits.plan import PRESET_DOCS, PRESETS

    assert set(PRESET_DOCS) == set(PRESETS) | {"model"}, "a preset without its words in PRESET_DOCS, or words alone"
    assert rows("## Presets for whole models") == {k: [d.rule, d.reference] for k, d in PRESET_DOCS.items()}


def test_every_scheme_is_in_the_docs_with_its_formula_paper_and_call():
    from pyjinit.schemes import SCHEMES
    from pyjinit.schemes.residual import SCHEMES as RESIDUAL

    assert set(SCHEMES) == set(RESIDUAL) | {"mup", "delta_orthogonal", "zero", "mimetic"}
    assert all(d.formula and "20" in d.reference and d.call.startswith("pyjinit.") for d in SCHEMES.values())
    assert rows("## Model-aware schemes (`pyjinit.schemes`)") == {
        k: [d.formula, d.reference, f"`{d.call}`"] for k, d in SCHEMES.items()}


def test_the_role_inference_docs_say_what_infer_recognizes():
    from pyjinit.schemes import roles as R

    heading = "## Role inference: how the schemes find the blocks"
    table = rows(heading)
    assert set(table) == set(R.FAMILIES)
    for cls, (_, rules) in R.FAMILIES.items():
        assert table[cls][2] == ", ".join(f"`{p}` {r}" + (f" ({b})" if b is not None else "") for p, r, b in rules), cls
    text = section(heading)
    for name in R.ROLES + R._READOUT + R._EMBED_PARAMS:
        assert f"`{name}`" in text, name
