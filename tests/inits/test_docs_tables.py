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
