"""The library presets (issue 23) against the libraries' own initialization, on the libraries' own model classes.

For each preset, the library's model is built at a small config with its own construction-time init (seeded with
``torch.manual_seed``) and again initialized by ``pyjinit.torch.initialize(model, preset=...)`` (seed 0): every
parameter is compared (``_compare``):

- deterministic ones (all values equal in the library's model: zeros, ones, constants): exactly equal;
- random ones: a two-sample Kolmogorov-Smirnov test at alpha = 1e-3 for the whole model, Bonferroni over its
  parameters (alpha / n per parameter), and the sample stds' ratio within 5 sigma of 1, sigma = sqrt(1/(2 n_a) +
  1/(2 n_b)) (the standard error of a normal sample's std relative to sigma is 1/sqrt(2n); uniform and truncated
  samples have a smaller one). Both sides use fixed seeds, so each test is deterministic.

``test_a_ten_percent_std_error_is_caught`` shows that the comparison fails on a 10% wrong factor.

transformers and timm come from PyPI (timm with --no-deps: its declared torchvision dependency pulls a CUDA torch).
torchvision's compiled ops are built against a torch other than the CPU wheel and do not load: .ci/run installs
torchvision 0.28.0 (torch 2.13's) with --no-deps into ~/.cache/pyjinit-torchvision, and `_torchvision_models` imports
its model modules (the real ResNet, MobileNetV3, VisionTransformer classes) without the package __init__ that
registers the ops. Megatron-Core (0.16.1, --no-deps into ~/.cache/pyjinit-megatron) runs on the CPU with a
one-process gloo group, in a subprocess. torchtitan is not on PyPI: its preset is checked against the formulas of
its source (torchtitan/models/llama3/model/model.py) on a model with its parameter names, built here; the Megatron
formulas are checked the same way too, for machines without megatron-core.
"""
import importlib
import importlib.machinery
import importlib.util
import math
import os
import sys
import types
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (.ci/run installs the CPU build)")
stats = pytest.importorskip("scipy.stats")

import pyjinit.torch as pt  # noqa: E402
from pyjinit.inits.plan import PRESETS  # noqa: E402

ALPHA = 1e-3                  # per model, Bonferroni over its parameters
TV_DIR = os.environ.get("PYJINIT_TORCHVISION", os.path.expanduser("~/.cache/pyjinit-torchvision"))


def _mismatches(ours: torch.nn.Module, theirs: torch.nn.Module, alpha: float = ALPHA) -> list:
    """The parameters of `ours` whose values do not match `theirs` (see the module docstring), with why."""
    o, t = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert o.keys() == t.keys()
    bad = []
    for name, p in o.items():
        a, b = p.detach().double().flatten().numpy(), t[name].detach().double().flatten().numpy()
        if b.size == 0:
            continue
        if np.unique(b).size == 1:
            if not np.array_equal(a, b):
                bad.append((name, f"expected all {b[0]}"))
            continue
        pv = stats.ks_2samp(a, b).pvalue
        ratio = a.std() / b.std()
        tol = 5 * math.sqrt(1 / (2 * a.size) + 1 / (2 * b.size))      # 5 sigma of the std ratio
        if pv < alpha / len(o) or abs(ratio - 1) > tol:
            bad.append((name, f"KS p={pv:.2g}, std ratio {ratio:.3f} (tolerance {tol:.3f})"))
    return bad


def _compare(ours, theirs):
    bad = _mismatches(ours, theirs)
    assert not bad, bad


def _hf():
    return pytest.importorskip("transformers", reason="transformers is not installed (the test extra has it)")


@pytest.fixture(scope="module")
def vision():
    """torchvision's model modules and timm, importable (see the module docstring); the modules this made
    importable are removed from sys.modules afterwards."""
    before = set(sys.modules)
    tv = _torchvision_models()
    try:
        timm_vit = importlib.import_module("timm.models.vision_transformer") if tv else None
    except ImportError:
        timm_vit = None
    yield tv, timm_vit
    for name in set(sys.modules) - before:
        if name.split(".")[0] in ("torchvision", "timm"):
            del sys.modules[name]


def _torchvision_models():
    """{"resnet": ..., "mobilenetv3": ..., "vision_transformer": ...} (torchvision.models modules) or None."""
    names = ("resnet", "mobilenetv3", "vision_transformer")
    try:
        return {n: importlib.import_module(f"torchvision.models.{n}") for n in names}
    except Exception:         # absent, or present with ops built for another torch (RuntimeError at import)
        for k in [k for k in sys.modules if k.split(".")[0] == "torchvision"]:
            del sys.modules[k]
    spec = importlib.util.find_spec("torchvision") if "torchvision" not in sys.modules else None
    roots = [os.path.join(TV_DIR, "torchvision")] + ([os.path.dirname(spec.origin)] if spec and spec.origin else [])
    root = next((r for r in roots if os.path.isfile(os.path.join(r, "models", "resnet.py"))), None)
    if root is None:
        return None
    for name, path in (("torchvision", root), ("torchvision.models", os.path.join(root, "models"))):
        mod = types.ModuleType(name)
        mod.__path__ = [path]
        mod.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
        mod.__spec__.submodule_search_locations = [path]
        sys.modules[name] = mod
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return {n: importlib.import_module(f"torchvision.models.{n}") for n in names}
    except Exception:
        for k in [k for k in sys.modules if k.split(".")[0] == "torchvision"]:
            del sys.modules[k]
        return None


def _both(make, preset="model", seed=0):
    """(ours, theirs): `make()` initialized by pyjinit with `preset`, and `make()` with the library's own init."""
    torch.manual_seed(seed)
    theirs = make()
    ours = pt.initialize(make(), preset=preset, seed=seed)
    return ours, theirs


# --- Hugging Face ---------------------------------------------------------------------------------------------------

def test_hf_llama_is_llamas_own_init():
    """LLaMA keeps PreTrainedModel._init_weights: Linear and Embedding N(0, 0.02), RMSNorm ones."""
    tr = _hf()
    cfg = tr.LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, vocab_size=300, max_position_embeddings=64)
    model = tr.LlamaForCausalLM(cfg)
    assert pt.model_preset(model) == "hf-llama"
    _compare(*_both(lambda: tr.LlamaForCausalLM(cfg)))
    plain = pt.initialize(tr.LlamaForCausalLM(cfg), preset="torch", seed=0)     # N(0, 1) embeddings: not LLaMA's
    assert float(plain.model.embed_tokens.weight.detach().std()) > 0.9


def test_hf_bert_is_berts_own_init():
    """BERT: the generic init plus the MLM head's own bias zero (tied to the decoder's), the padding row zero."""
    tr = _hf()
    cfg = tr.BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                        vocab_size=300, max_position_embeddings=64)
    assert pt.model_preset(tr.BertModel(cfg)) == "hf-bert"
    ours, theirs = _both(lambda: tr.BertForMaskedLM(cfg))
    _compare(ours, theirs)
    assert not ours.bert.embeddings.word_embeddings.weight[cfg.pad_token_id].any()


T5_SMALL = dict(d_model=64, d_kv=32, num_heads=4, d_ff=256, num_layers=2, vocab_size=300)


@pytest.mark.parametrize("cls,kw", [
    ("T5Model", {}),
    ("T5ForConditionalGeneration", {"feed_forward_proj": "gated-gelu", "tie_word_embeddings": False,
                                    "initializer_factor": 0.5}),
])
def test_hf_t5_is_t5s_own_init(cls, kw):
    """T5's per-projection factors (q 1/sqrt(d_model d_kv), k/v 1/sqrt(d_model), o 1/sqrt(heads d_kv), wi
    1/sqrt(d_model), wo 1/sqrt(d_ff), relative_attention_bias 1/sqrt(d_model), shared embedding and an untied
    lm_head 1, all times initializer_factor; T5LayerNorm = initializer_factor), with the gated MLP and factor 0.5."""
    tr = _hf()
    cfg = tr.T5Config(**T5_SMALL, **kw)
    make = lambda: getattr(tr, cls)(cfg)  # noqa: E731
    assert pt.model_preset(make()) == "hf-t5"
    ours, theirs = _both(make)
    _compare(ours, theirs)
    f = cfg.initializer_factor
    q = ours.encoder.block[1].layer[0].SelfAttention.q.weight
    assert abs(float(q.std()) / (f * (64 * 32) ** -0.5) - 1) < 5 / math.sqrt(2 * q.numel())
    if kw:
        assert torch.equal(ours.encoder.final_layer_norm.weight, torch.full((64,), 0.5))


def test_a_ten_percent_std_error_is_caught():
    """The comparison can fail: T5's q projections at 1.1 times their std (8192 values each: the std ratio's 5 sigma
    tolerance is 0.055) are found, and nothing else is."""
    tr = _hf()
    cfg = tr.T5Config(**T5_SMALL)
    ours, theirs = _both(lambda: tr.T5Model(cfg))
    with torch.no_grad():
        for name, p in ours.named_parameters():
            if name.endswith(".q.weight"):
                p.mul_(1.1)
    bad = {name for name, _ in _mismatches(ours, theirs)}
    assert bad == {n for n, _ in ours.named_parameters() if n.endswith(".q.weight")}


# --- timm and torchvision -------------------------------------------------------------------------------------------

def test_timm_vit_is_timms_own_init(vision):
    """timm ViT (init_weights mode ''): Linear trunc_normal 0.02 and zero biases, pos_embed trunc_normal 0.02,
    cls_token N(0, 1e-6), the patch Conv2d torch's default, LayerNorm ones/zeros."""
    _, vit = vision
    if vit is None:
        pytest.skip("timm is not installed (.ci/run: pip install --no-deps timm) or torchvision is not loadable")
    make = lambda: vit.VisionTransformer(img_size=32, patch_size=8, embed_dim=64, depth=2, num_heads=2)  # noqa: E731
    assert pt.model_preset(make()) == "timm-vit"
    _compare(*_both(make))


@pytest.mark.parametrize("module,factory", [("resnet", "resnet18"), ("mobilenetv3", "mobilenet_v3_small"),
                                            pytest.param("vision_transformer", "vit_b_16", marks=pytest.mark.slow)])
def test_torchvision_models_own_init(vision, module, factory):
    """torchvision's construction-time init (weights=None), the real classes: ResNet conv kaiming_normal fan_out
    relu, MobileNetV3 conv kaiming_normal fan_out + Linear N(0, 0.01), ViT's class token, pos_embedding, conv_proj,
    MLP and head rules. preset='torch' (the modules' reset_parameters) does not match them."""
    tv, _ = vision
    if tv is None:
        pytest.skip(f"torchvision's model sources are not available (.ci/run installs them into {TV_DIR})")
    make = lambda: getattr(tv[module], factory)(weights=None)  # noqa: E731
    ours, theirs = _both(make)
    _compare(ours, theirs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # ViT's class_token/pos_embedding: no torch rule, left as they are
        plain = pt.initialize(make(), preset="torch", seed=0, strict=False)
    assert _mismatches(plain, theirs)


# --- torchtitan and Megatron: formulas from their source, on models with their parameter names -----------------------

class _TitanBlock(torch.nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.attention = torch.nn.Module()
        for n in ("wq", "wk", "wv", "wo"):
            setattr(self.attention, n, torch.nn.Linear(dim, dim, bias=False))
        self.feed_forward = torch.nn.Module()
        self.feed_forward.w1 = torch.nn.Linear(dim, hidden, bias=False)
        self.feed_forward.w2 = torch.nn.Linear(hidden, dim, bias=False)
        self.feed_forward.w3 = torch.nn.Linear(dim, hidden, bias=False)
        self.attention_norm = torch.nn.RMSNorm(dim)
        self.ffn_norm = torch.nn.RMSNorm(dim)


class _TitanLlama(torch.nn.Module):
    """torchtitan's llama3 Transformer's parameter names and shapes (torchtitan is not on PyPI)."""

    def __init__(self, dim=128, hidden=256, n_layers=4, vocab=512):
        super().__init__()
        self.tok_embeddings = torch.nn.Embedding(vocab, dim)
        self.layers = torch.nn.ModuleDict({str(i): _TitanBlock(dim, hidden) for i in range(n_layers)})
        self.norm = torch.nn.RMSNorm(dim)
        self.output = torch.nn.Linear(dim, vocab, bias=False)


def _std_off(t: torch.Tensor, std: float) -> float:
    """|sample std / std - 1| in units of its standard error 1/sqrt(2n) (normal; a truncated normal's is smaller)."""
    return abs(float(t.double().std()) / std - 1) * math.sqrt(2 * t.numel())


def test_torchtitan_llama3_depth_scaled_std():
    """torchtitan llama3 init_weights (depth_init): wq/wk/wv/w1 trunc_normal 0.02, wo/w2/w3 0.02/sqrt(2 (layer_id+1)),
    tok_embeddings N(0, 1), output trunc_normal dim^-0.5 cut at 3 std, norms ones; each std within 5 sigma, and a 10%
    error on a wo is outside it."""
    model = pt.initialize(_TitanLlama(), preset="torchtitan-llama3", seed=0)
    for i, block in model.layers.items():
        deep = 0.02 / math.sqrt(2 * (int(i) + 1))
        for w, std in ((block.attention.wq, 0.02), (block.attention.wk, 0.02), (block.attention.wv, 0.02),
                       (block.feed_forward.w1, 0.02), (block.attention.wo, deep), (block.feed_forward.w2, deep),
                       (block.feed_forward.w3, deep)):
            assert _std_off(w.weight, std) < 5, (i, std)
        assert torch.equal(block.ffn_norm.weight, torch.ones(128))
    assert _std_off(model.layers["3"].attention.wo.weight, 1.1 * 0.02 / math.sqrt(8)) > 5     # the check can fail
    assert _std_off(model.tok_embeddings.weight, 1.0) < 5
    out, s = model.output.weight, 128 ** -0.5
    assert float(out.abs().max()) <= 3 * s
    # N(0, s) cut at 3 s: std = s * sqrt(1 - 6 phi(3) / (2 Phi(3) - 1)) = 0.98658 s
    assert _std_off(out, s * 0.98658) < 5


def test_megatron_init_method_normal_and_scaled():
    """Megatron: every weight N(0, init_method_std), linear_proj and linear_fc2 N(0, sigma/sqrt(2 num_layers)),
    biases zero, on megatron-core's parameter names; sigma and num_layers from the model's config."""
    class Layer(torch.nn.Module):
        def __init__(self, d):
            super().__init__()
            self.self_attention = torch.nn.Module()
            self.self_attention.linear_qkv = torch.nn.Linear(d, 3 * d)
            self.self_attention.linear_proj = torch.nn.Linear(d, d)
            self.mlp = torch.nn.Module()
            self.mlp.linear_fc1 = torch.nn.Linear(d, 4 * d)
            self.mlp.linear_fc2 = torch.nn.Linear(4 * d, d)

    class GPT(torch.nn.Module):
        def __init__(self, d=96, n=3):
            super().__init__()
            self.config = types.SimpleNamespace(init_method_std=0.01, num_layers=n)
            self.embedding = torch.nn.Module()
            self.embedding.word_embeddings = torch.nn.Embedding(400, d)
            self.decoder = torch.nn.Module()
            self.decoder.layers = torch.nn.ModuleList(Layer(d) for _ in range(n))
            self.decoder.final_layernorm = torch.nn.LayerNorm(d)
            self.output_layer = torch.nn.Linear(d, 400, bias=False)

    m = pt.initialize(GPT(), preset="megatron", seed=0)
    scaled = 0.01 / math.sqrt(6)
    for layer in m.decoder.layers:
        assert _std_off(layer.self_attention.linear_qkv.weight, 0.01) < 5
        assert _std_off(layer.mlp.linear_fc1.weight, 0.01) < 5
        assert _std_off(layer.self_attention.linear_proj.weight, scaled) < 5
        assert _std_off(layer.mlp.linear_fc2.weight, scaled) < 5
        assert _std_off(layer.mlp.linear_fc2.weight, 0.01) > 5
        assert not layer.mlp.linear_fc2.bias.any()
    assert _std_off(m.embedding.word_embeddings.weight, 0.01) < 5 and _std_off(m.output_layer.weight, 0.01) < 5


MEGATRON_DIR = os.environ.get("PYJINIT_MEGATRON", os.path.expanduser("~/.cache/pyjinit-megatron"))
_MEGATRON = r"""
import json, os, sys, tempfile, warnings
import torch
warnings.simplefilter("ignore")
torch.set_num_threads(1)
torch.distributed.init_process_group("gloo", init_method="file://" + tempfile.mktemp(), rank=0, world_size=1)
from megatron.core import parallel_state
parallel_state.initialize_model_parallel(1, 1)
from megatron.core.models.gpt.gpt_layer_specs import get_gpt_layer_local_spec
from megatron.core.models.gpt.gpt_model import GPTModel
from megatron.core.transformer.transformer_config import TransformerConfig
import pyjinit.torch as pt
import test_presets as T
cfg = TransformerConfig(num_layers=3, hidden_size=64, num_attention_heads=4, use_cpu_initialization=True,
                        init_method_std=float(sys.argv[1]))
make = lambda: GPTModel(config=cfg, transformer_layer_spec=get_gpt_layer_local_spec(), vocab_size=256,
                        max_sequence_length=32)
ours, theirs = T._both(make)
print(json.dumps({"preset": pt.model_preset(theirs), "bad": T._mismatches(ours, theirs),
                  "proj": float(ours.decoder.layers[0].mlp.linear_fc2.weight.detach().std())}))
torch.distributed.destroy_process_group()
"""


@pytest.mark.slow
def test_megatron_is_megatron_cores_own_init():
    """Megatron-Core's GPTModel (local layer spec, CPU initialization, 3 layers, sigma 0.01): every parameter matches
    its own init (init_method_normal / scaled_init_method_normal). In a subprocess: Megatron needs a
    torch.distributed process group and its model-parallel state, which must not leak into this process."""
    import json
    import subprocess

    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    have = importlib.util.find_spec("megatron") is not None or os.path.isdir(os.path.join(MEGATRON_DIR, "megatron"))
    if not have:
        pytest.skip(f"megatron-core is not installed (.ci/run installs it with --no-deps into {MEGATRON_DIR})")
    env = {**os.environ, "PYJINIT_BACKEND": "numpy",
           "PYTHONPATH": os.pathsep.join([MEGATRON_DIR, root, here, os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", _MEGATRON, "0.01"], capture_output=True, text=True, env=env,
                         timeout=600)
    if run.returncode != 0 and "megatron" in run.stderr and "ModuleNotFoundError" in run.stderr:
        pytest.skip("megatron-core does not import here: " + run.stderr.strip().splitlines()[-1])
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["preset"] == "megatron"
    assert out["bad"] == []
    assert abs(out["proj"] / (0.01 / math.sqrt(6)) - 1) < 5 / math.sqrt(2 * 64 * 256)


# --- preset="model" refusals, every preset writable, the zero-element warning -----------------------------------------

def test_preset_model_refuses_what_it_does_not_know():
    """A model of its own is refused by class name (Hugging Face models with their own _init_weights: test_torch.py);
    a preset leaves a bare parameter it does not name to strict= (an error naming it)."""
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(3))

    with pytest.raises(ValueError, match="does not know how a Net initializes itself"):
        pt.model_preset(Net())
    with pytest.raises(TypeError, match="no rule for parameter 'scale' of a Net"):
        pt.initialize(Net(), preset="timm-vit", seed=0)      # a bare parameter timm's rules do not name


def test_every_library_preset_is_in_the_table():
    for name in ("hf-llama", "hf-bert", "hf-t5", "timm-vit", "torchtitan-llama3", "megatron", "torchvision-resnet",
                 "torchvision-mobilenetv3", "torchvision-vit"):
        assert name in PRESETS


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0,), (4, 0, 3, 3)])
@pytest.mark.parametrize("name,fn", [("torch.kaiming_uniform", torch.nn.init.kaiming_uniform_),
                                     ("torch.kaiming_normal", torch.nn.init.kaiming_normal_),
                                     ("torch.xavier_uniform", torch.nn.init.xavier_uniform_),
                                     ("torch.normal", torch.nn.init.normal_),
                                     ("torch.trunc_normal", torch.nn.init.trunc_normal_)])
def test_zero_element_tensors_warn_as_torch_does(shape, name, fn):
    """On a tensor with a zero dimension, pyjinit.torch.init_ warns exactly when torch.nn.init does, with its text
    and category, and returns the tensor (or raises where torch raises: xavier on a vector)."""
    def run(f):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            t = torch.empty(shape)
            try:
                out = f(t)
            except (ValueError, RuntimeError):
                return "raises", []
        assert out is t
        return "ok", [(type(w.message), str(w.message)) for w in rec if w.category is not RuntimeWarning]

    theirs = run(fn)
    ours = run(lambda t: pt.init_(t, name, seed=0))
    assert ours == theirs
