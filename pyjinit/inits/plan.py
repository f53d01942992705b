"""The planner: which initializer and which key every parameter of a model gets, for every framework.

The framework adapters (``pyjinit.torch``, ``pyjinit.keras``, ``pyjinit.jax``) only describe their parameters as
`Param`s (a framework-neutral role, the shape in the framework's own layout, the module facts a rule needs) and
copy the planned values in; the trainer takes its layers' keys from `key_of`. The presets table `PRESETS` is
the one place where a framework's defaults are written.

Keys (docs/stream.md §6): ``key_by="position"`` (default) gives parameter j (0-based, the module's own
registration order) of the l-th module that owns parameters (1-based) the key ``param_key(seed, l, j)``, so
equivalent models in PyTorch, Keras, Flax, Flux and the trainer get the same weights. ``key_by="name"`` gives
it ``name_key(seed, path)`` (the parameter's path, e.g. ``layers.5.attn.wq.weight``), so a parameter keeps its
values when the model is split into pipeline stages or changed elsewhere, as long as its name stays.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from .api import F32, new_seed
from .keys import bias_key, name_key, param_key
from .registry import check_name, init
from .validate import check_choice, check_seed, check_shape, fans, fmt

KEY_BY = ("position", "name")
# attention's bias_k/bias_v are learned key/value rows that torch draws like weights (xavier_normal_)
WEIGHT_ROLES = ("weight", "embedding", "rnn_input", "rnn_recurrent", "attn_weight", "attn_bias_kv")
BIAS_ROLES = ("bias", "rnn_bias", "attn_bias")
# "param": a parameter of a module whose type no other role covers (ViT's class token and position embedding,
# BERT's MLM-head bias, any custom nn.Parameter): only a preset's rule that knows it by its name gives it values
ROLES = WEIGHT_ROLES + BIAS_ROLES + ("norm_scale", "norm_shift", "stat_mean", "stat_var", "param")


@dataclass(frozen=True)
class Param:
    """One parameter as the planner sees it.

    - ``path``: its name in the model (``"0.weight"``, ``"dense_1/kernel"``); ``layer``: 1-based index of its
      module among the modules that own parameters; ``j``: 0-based index within that module.
    - ``role``: one of ROLES, or None for a parameter no rule knows; ``module``: the module's class name (messages).
    - ``shape`` in ``layout`` ("torch": (out, in, *kernel); "keras": (*kernel, in, out)).
    - ``info``: module facts rules use: ``fan_in`` (of the module's weight), ``bilinear_in1``, ``hidden`` (RNN
      hidden size), ``attn_out`` (an attention output projection), ``padding_idx`` (its row stays zero under every
      rule), ``forget_gate`` (an LSTM bias whose gates are i, f, ...: the f slice is [hidden, 2 hidden)),
      ``tied_to`` (the path of the first occurrence of a parameter shared by several modules: it is made once, by
      that occurrence's rule and key, and this one gets no step).
    """
    path: str
    layer: int
    j: int
    role: str | None
    module: str
    shape: tuple
    layout: str = "torch"
    info: dict = field(default_factory=dict, compare=False)


class Step(NamedTuple):
    """What the planner decided for one parameter: initializer `name` with `kwargs`, drawn with `key`, then
    `post`: None or (start, stop, value), a slice of the first axis set to `value` (a padding row, Keras's LSTM
    forget-gate bias)."""
    param: Param
    name: str
    kwargs: dict
    key: int
    post: tuple | None = None


def _torch_uniform(bound: float):
    return "torch.uniform", {"a": -bound, "b": bound}


def _inv_sqrt(n) -> float:
    return 1 / math.sqrt(n) if n and n > 0 else 0.0


def _torch_weight(p: Param):
    if "bilinear_in1" in p.info:                       # nn.Bilinear: U(±1/√in1) for weight and bias
        return _torch_uniform(_inv_sqrt(p.info["bilinear_in1"]))
    return "torch.kaiming_uniform", {"a": math.sqrt(5)}


def _torch_bias(p: Param):
    if p.info.get("attn_out"):                         # MultiheadAttention zeroes its out_proj bias
        return "zeros", {}
    if "bilinear_in1" in p.info:
        return _torch_uniform(_inv_sqrt(p.info["bilinear_in1"]))
    return _torch_uniform(_inv_sqrt(p.info.get("fan_in", 0)))


def _rnn_torch(p: Param):                             # every RNN parameter: U(±1/√hidden)
    return _torch_uniform(_inv_sqrt(p.info.get("hidden", 0)))


ZEROS, ONES, XAVIER = ("zeros", {}), ("ones", {}), ("xavier", {"distribution": "uniform"})
LECUN_T = ("jax.lecun_normal", {})
# preset -> role -> rule: (initializer name, kwargs) or a function of the Param giving one.
PRESETS = {
    "torch": {   # each module's own reset_parameters (torch.nn defaults)
        "weight": _torch_weight, "bias": _torch_bias, "embedding": ("torch.normal", {}),
        "rnn_input": _rnn_torch, "rnn_recurrent": _rnn_torch, "rnn_bias": _rnn_torch,
        "attn_weight": ("torch.xavier_uniform", {}), "attn_bias": ZEROS, "attn_bias_kv": ("torch.xavier_normal", {}),
    },
    "keras": {   # glorot_uniform kernels, orthogonal recurrent kernels, zero biases (LSTM forget gate 1)
        "weight": XAVIER, "bias": ZEROS, "embedding": ("keras.random_uniform", {}),
        "rnn_input": XAVIER, "rnn_recurrent": ("orthogonal", {}), "rnn_bias": ZEROS,
        "attn_weight": XAVIER, "attn_bias": ZEROS, "attn_bias_kv": ZEROS,
    },
    "flux": {    # Flux 0.15+: glorot_uniform everywhere (recurrent too), zero biases, Embedding N(0, 1)
        "weight": XAVIER, "bias": ZEROS, "embedding": ("normal", {}),
        "rnn_input": XAVIER, "rnn_recurrent": XAVIER, "rnn_bias": ZEROS,
        "attn_weight": XAVIER, "attn_bias": ZEROS, "attn_bias_kv": ZEROS,
    },
    "flax": {    # lecun_normal (truncated) kernels, orthogonal recurrent kernels, Embed N(0, 1/features)
        "weight": LECUN_T, "bias": ZEROS,
        "embedding": lambda p: ("normal", {"std": _inv_sqrt(p.shape[-1] if p.layout == "keras" else p.shape[1])}),
        "rnn_input": LECUN_T, "rnn_recurrent": ("orthogonal", {}), "rnn_bias": ZEROS,
        "attn_weight": LECUN_T, "attn_bias": ZEROS, "attn_bias_kv": ZEROS,
    },
}
def _hf_std(p: Param) -> float:
    return float(p.info.get("init_std") or 0.02)


def _hf_normal(p: Param):
    return "normal", {"std": _hf_std(p)}


def _gpt2_weight(p: Param):
    """Hugging Face GPT-2: N(0, initializer_range), and the residual branches' last projections (c_proj of the
    attention and of the MLP) N(0, initializer_range / √(2 n_layer)) (GPT-2's scaled initialization)."""
    if p.path.endswith("c_proj.weight"):
        return "normal", {"std": _hf_std(p) / math.sqrt(2 * p.info["n_layer"])}
    return _hf_normal(p)


_HF = {  # Hugging Face PreTrainedModel._init_weights (transformers 4.x/5.x): N(0, initializer_range), zero biases
    "weight": _hf_normal, "bias": ZEROS, "embedding": _hf_normal,
    "rnn_input": XAVIER, "rnn_recurrent": XAVIER, "rnn_bias": ZEROS,
    "attn_weight": ("torch.xavier_uniform", {}), "attn_bias": ZEROS, "attn_bias_kv": ("torch.xavier_normal", {}),
}
PRESETS["hf"] = _HF
PRESETS["hf-gpt2"] = {**_HF, "weight": _gpt2_weight}
# torch.nn.Transformer's construction: each module's reset_parameters, then xavier_uniform_ on every parameter of
# more than one dimension (Transformer._reset_parameters)
PRESETS["torch-transformer"] = {**PRESETS["torch"], "weight": ("torch.xavier_uniform", {}),
                                "attn_weight": ("torch.xavier_uniform", {}), "embedding": ("torch.xavier_uniform", {}),
                                "rnn_input": ("torch.xavier_uniform", {}), "rnn_recurrent": ("torch.xavier_uniform", {})}


# --- the libraries' own initializations (issue 23): rules by role, parameter-name pattern and module facts ---------
# Facts a rule reads from Param.info (pyjinit.torch.describe fills them from the model and its config): "init_std"
# (a config's initializer_range / init_method_std), "n_layer" (the number of blocks), "init_factor" (T5's
# initializer_factor), "d_model", "d_kv", "n_heads", "d_ff" (T5), "depth_init" (torchtitan).
def _block(p: Param):
    """The 0-based index of the block a parameter belongs to (``layers.3.``, ``h.3.``, ``block.3.``), or None."""
    m = re.search(r"(?:^|\.)(?:layers|layer|h|block|blocks)\.(\d+)\.", p.path)
    return int(m.group(1)) if m else None


def _ends(p: Param, *suffixes) -> bool:
    return any(p.path == s or p.path.endswith("." + s) for s in suffixes)


def _bert_param(p: Param):
    """BERT: the MLM head's own bias (BertLMPredictionHead.bias) zeros"""
    return ZEROS if _ends(p, "predictions.bias") else None


def _t5_factor(p: Param) -> float:
    return float(p.info.get("init_factor", 1.0))


def _t5_weight(p: Param):
    """T5 (T5PreTrainedModel._init_weights): attention q N(0, f/sqrt(d_model d_kv)), k, v N(0, f/sqrt(d_model)),
    o N(0, f/sqrt(n_heads d_kv)); MLP wi/wi_0/wi_1 N(0, f/sqrt(d_model)), wo N(0, f/sqrt(d_ff)); untied lm_head and
    token classifier N(0, f); QA and classification heads N(0, f/sqrt(d_model)); f = initializer_factor"""
    f, i = _t5_factor(p), p.info
    d = i["d_model"]
    if _ends(p, "q.weight"):
        std = f * (d * i["d_kv"]) ** -0.5
    elif _ends(p, "k.weight", "v.weight", "wi.weight", "wi_0.weight", "wi_1.weight", "qa_outputs.weight",
               "classification_head.dense.weight", "classification_head.out_proj.weight"):
        std = f * d ** -0.5
    elif _ends(p, "o.weight"):
        std = f * (i["n_heads"] * i["d_kv"]) ** -0.5
    elif _ends(p, "wo.weight"):
        std = f * i["d_ff"] ** -0.5
    else:                                             # lm_head (untied), classifier, any other Linear: N(0, f)
        std = f
    return "normal", {"std": std}


def _t5_embedding(p: Param):
    """T5: the shared token embedding N(0, f), relative_attention_bias N(0, f/sqrt(d_model))"""
    f = _t5_factor(p)
    if _ends(p, "relative_attention_bias.weight"):
        return "normal", {"std": f * p.info["d_model"] ** -0.5}
    return "normal", {"std": f}


def _timm_weight(p: Param):
    """timm ViT (init_weights_vit_timm, mode ''): Linear trunc_normal_(std=0.02) (torch's absolute cut at +-2);
    the patch embedding's Conv2d keeps torch's reset_parameters"""
    return ("torch.trunc_normal", {"std": 0.02}) if len(p.shape) == 2 else _torch_weight(p)


def _timm_bias(p: Param):
    """timm ViT: Linear biases zeros; the patch embedding's Conv2d bias torch's U(+-1/sqrt(fan_in))"""
    return ZEROS if "Linear" in p.module else _torch_bias(p)


def _timm_param(p: Param):
    """timm ViT: pos_embed trunc_normal_(std=0.02), cls_token and reg_token N(0, 1e-6)"""
    if _ends(p, "pos_embed"):
        return "torch.trunc_normal", {"std": 0.02}
    if _ends(p, "cls_token", "reg_token"):
        return "normal", {"std": 1e-6}
    return None


def _tv_conv_relu(p: Param):
    """torchvision ResNet: Conv2d kaiming_normal_(mode='fan_out', nonlinearity='relu'); fc torch's default"""
    if len(p.shape) > 2:
        return "torch.kaiming_normal", {"mode": "fan_out", "nonlinearity": "relu"}
    return _torch_weight(p)


def _tv_mobilenet_weight(p: Param):
    """torchvision MobileNetV3: Conv2d kaiming_normal_(mode='fan_out') (gain sqrt 2), Linear N(0, 0.01)"""
    if len(p.shape) > 2:
        return "torch.kaiming_normal", {"mode": "fan_out"}
    return "normal", {"std": 0.01}


def _tv_vit_weight(p: Param):
    """torchvision ViT: conv_proj and pre_logits trunc_normal_(std=sqrt(1/fan_in)), MLP Linears xavier_uniform_,
    heads.head zeros, attention out_proj torch's default (kaiming_uniform a=sqrt 5)"""
    if _ends(p, "conv_proj.weight", "heads.pre_logits.weight"):
        return "torch.trunc_normal", {"std": math.sqrt(1 / fans(p.shape)[0])}
    if _ends(p, "heads.head.weight"):
        return ZEROS
    if ".mlp." in "." + p.path:
        return "torch.xavier_uniform", {}
    return _torch_weight(p)


def _tv_vit_bias(p: Param):
    """torchvision ViT: MLP biases N(0, 1e-6), conv_proj, heads and attention out_proj biases zeros"""
    if ".mlp." in "." + p.path:
        return "normal", {"std": 1e-6}
    if _ends(p, "conv_proj.bias", "heads.head.bias", "heads.pre_logits.bias") or p.info.get("attn_out"):
        return ZEROS
    return _torch_bias(p)


def _tv_vit_param(p: Param):
    """torchvision ViT: class_token zeros, encoder pos_embedding N(0, 0.02)"""
    if _ends(p, "class_token"):
        return ZEROS
    if _ends(p, "pos_embedding"):
        return "normal", {"std": 0.02}
    return None


def _titan_std(p: Param) -> float:
    """torchtitan llama3 TransformerBlock.weight_init_std: 0.02/sqrt(2 (layer_id + 1)) with depth_init (the
    default), else 0.02/sqrt(2 n_layers)"""
    if p.info.get("depth_init", True):
        return 0.02 / math.sqrt(2 * (_block(p) + 1))
    return 0.02 / math.sqrt(2 * p.info["n_layer"])


def _titan_weight(p: Param):
    """torchtitan llama3 init_weights: wq, wk, wv, w1 trunc_normal_(std=0.02); wo, w2, w3 trunc_normal_(std=
    0.02/sqrt(2 (layer_id + 1))) (depth_init); output trunc_normal_(std=dim^-0.5, cut at +-3 std)"""
    if _ends(p, "output.weight") and _block(p) is None:
        s = fans(p.shape)[0] ** -0.5
        return "torch.trunc_normal", {"std": s, "a": -3 * s, "b": 3 * s}
    if _block(p) is None:
        return None
    if _ends(p, "attention.wo.weight", "feed_forward.w2.weight", "feed_forward.w3.weight"):
        return "torch.trunc_normal", {"std": _titan_std(p)}
    if _ends(p, "attention.wq.weight", "attention.wk.weight", "attention.wv.weight", "feed_forward.w1.weight"):
        return "torch.trunc_normal", {"std": 0.02}
    return None


_MEGATRON_OUT = ("linear_proj.weight", "linear_fc2.weight", "self_attention.dense.weight", "dense_4h_to_h.weight")


def _megatron_weight(p: Param):
    """Megatron: init_method_normal(sigma) = N(0, sigma) for every weight, scaled_init_method_normal(sigma,
    num_layers) = N(0, sigma/sqrt(2 num_layers)) for the attention output (linear_proj / dense) and the MLP's
    second layer (linear_fc2 / dense_4h_to_h); sigma = init_method_std (0.02)"""
    std = _hf_std(p)
    if _ends(p, *_MEGATRON_OUT):
        std /= math.sqrt(2 * p.info["n_layer"])
    return "normal", {"std": std}


def _t5_norm(p: Param):
    """T5: T5LayerNorm's weight = initializer_factor"""
    return "constant", {"value": _t5_factor(p)}


PRESETS["hf-llama"] = {**_HF}                     # LlamaPreTrainedModel keeps the generic _init_weights
PRESETS["hf-bert"] = {**_HF, "param": _bert_param}
PRESETS["hf-t5"] = {**_HF, "weight": _t5_weight, "embedding": _t5_embedding, "norm_scale": _t5_norm}
PRESETS["timm-vit"] = {**PRESETS["torch"], "weight": _timm_weight, "bias": _timm_bias, "param": _timm_param}
PRESETS["torchvision-resnet"] = {**PRESETS["torch"], "weight": _tv_conv_relu}
PRESETS["torchvision-mobilenetv3"] = {**PRESETS["torch"], "weight": _tv_mobilenet_weight, "bias": ZEROS}
PRESETS["torchvision-vit"] = {**PRESETS["torch"], "weight": _tv_vit_weight, "bias": _tv_vit_bias,
                              "param": _tv_vit_param}
PRESETS["torchtitan-llama3"] = {**PRESETS["torch"], "weight": _titan_weight, "embedding": ("normal", {})}
PRESETS["megatron"] = {"weight": _megatron_weight, "bias": ZEROS, "embedding": _hf_normal}


class PresetDoc(NamedTuple):
    """A preset in words: its ``rule`` (the formula per parameter) and the ``reference`` it reproduces (the
    library source it copies)."""
    rule: str
    reference: str


# Every preset in words: what `python -m pyjinit list presets` prints and docs/initializers.md states (checked by
# tests/inits/test_docs_tables.py). "model" is not a table of rules but the choice of one of them (pyjinit.torch).
# σ = the config's initializer_range / init_method_std (0.02 by default), L = the number of blocks; biases 0 and
# norms 1/0 unless said otherwise.
PRESET_DOCS = {
    "torch": PresetDoc(
        "Linear/Conv* weight kaiming_uniform_(a=√5) = U(±1/√fan_in), bias U(±1/√fan_in); Bilinear U(±1/√in1); "
        "Embedding N(0, 1) (padding row 0); RNN/LSTM/GRU U(±1/√hidden); MultiheadAttention in_proj xavier_uniform_, "
        "biases 0, bias_k/bias_v xavier_normal_; norms 1/0",
        "each torch.nn module's own reset_parameters (PyTorch 2.13: Linear, Conv*, Bilinear, Embedding, RNNBase, "
        "MultiheadAttention)"),
    "keras": PresetDoc(
        "kernels glorot_uniform = U(±√(6/(fan_in+fan_out))); recurrent kernels orthogonal; biases 0, LSTM forget-gate "
        "bias 1; Embedding U(±0.05); attention glorot_uniform",
        "Keras 3.15 layer defaults (Dense, Conv, SimpleRNN/LSTM/GRU unit_forget_bias, Embedding, MultiHeadAttention)"),
    "flux": PresetDoc(
        "every weight glorot_uniform = U(±√(6/(fan_in+fan_out))), recurrent ones too; biases 0; Embedding N(0, 1)",
        "Flux 0.16 layer constructors (Dense, Conv, RNN/LSTM/GRU init=glorot_uniform, Embedding randn32)"),
    "flax": PresetDoc(
        "kernels lecun_normal = truncated normal with variance 1/fan_in; recurrent kernels orthogonal; biases 0; "
        "Embed N(0, 1/features)",
        "Flax linen defaults (Dense/Conv kernel_init lecun_normal, LSTMCell recurrent orthogonal, Embed "
        "variance_scaling(1, fan_in, normal, out_axis=0))"),
    "model": PresetDoc(
        "the model's own construction-time init: one of the presets below, chosen from the model's class "
        "(torch.nn.Transformer: torch-transformer; Hugging Face GPT-2, LLaMA, BERT, T5, others with the generic "
        "_init_weights: hf-gpt2, hf-llama, hf-bert, hf-t5, hf; torchvision ResNet, MobileNetV3, ViT; timm ViT; "
        "torchtitan llama3; Megatron GPTModel; plain torch.nn: torch); any other model is a ValueError naming its "
        "class",
        "pyjinit.torch.model_preset (PyTorch models only)"),
    "hf": PresetDoc(
        "Linear, Conv, Embedding N(0, σ) (padding row 0); LSTM xavier_uniform_; MultiheadAttention torch's",
        "transformers PreTrainedModel._init_weights"),
    "hf-gpt2": PresetDoc(
        "as hf; c_proj (attention and MLP) N(0, σ/√(2L))",
        "transformers GPT2PreTrainedModel._init_weights (GPT-2's scaled residual init)"),
    "torch-transformer": PresetDoc(
        "torch, then xavier_uniform_ = U(±√(6/(fan_in+fan_out))) on every parameter of 2 or more dimensions",
        "torch.nn.Transformer._reset_parameters"),
    "hf-llama": PresetDoc(
        "as hf; LlamaRMSNorm 1",
        "transformers LlamaPreTrainedModel (the generic PreTrainedModel._init_weights)"),
    "hf-bert": PresetDoc(
        "as hf; cls.predictions.bias 0",
        "transformers BertPreTrainedModel._init_weights"),
    "hf-t5": PresetDoc(
        "f = initializer_factor: q N(0, f/√(d_model·d_kv)); k, v N(0, f/√d_model); o N(0, f/√(n_heads·d_kv)); wi, "
        "wi_0, wi_1 N(0, f/√d_model); wo N(0, f/√d_ff); shared and an untied lm_head N(0, f); "
        "relative_attention_bias N(0, f/√d_model); QA/classification heads N(0, f/√d_model); T5LayerNorm f",
        "transformers T5PreTrainedModel._init_weights"),
    "timm-vit": PresetDoc(
        "Linear trunc_normal_(std=0.02) (torch's absolute cut ±2), bias 0; pos_embed trunc_normal_(std=0.02); "
        "cls_token, reg_token N(0, 1e-6); patch Conv2d torch's default",
        "timm VisionTransformer.init_weights mode '' (init_weights_vit_timm; the jax/moco modes are not reproduced)"),
    "torchvision-resnet": PresetDoc(
        "Conv2d kaiming_normal_(mode='fan_out', nonlinearity='relu') = N(0, 2/(c_out·k²)); BatchNorm 1/0; fc "
        "torch's default",
        "torchvision ResNet.__init__ (zero_init_residual=False)"),
    "torchvision-mobilenetv3": PresetDoc(
        "Conv2d kaiming_normal_(mode='fan_out') = N(0, 2/(c_out·k²)), bias 0; Linear N(0, 0.01), bias 0; "
        "BatchNorm 1/0",
        "torchvision MobileNetV3.__init__"),
    "torchvision-vit": PresetDoc(
        "conv_proj trunc_normal_(std=√(1/fan_in)), bias 0; class_token 0; pos_embedding N(0, 0.02); MLP Linear "
        "xavier_uniform_, bias N(0, 1e-6); attention torch's MultiheadAttention; heads.head 0",
        "torchvision VisionTransformer / Encoder / MLPBlock"),
    "torchtitan-llama3": PresetDoc(
        "tok_embeddings N(0, 1); wq, wk, wv, w1 trunc_normal_(std=0.02); wo, w2, w3 trunc_normal_(std="
        "0.02/√(2(layer_id+1))) (0.02/√(2L) with depth_init=False); output trunc_normal_(std=dim^-½, a=-3std, "
        "b=3std); RMSNorm 1",
        "torchtitan llama3 Transformer.init_weights (depth_init=True)"),
    "megatron": PresetDoc(
        "every weight and embedding N(0, σ); linear_proj/linear_fc2 (legacy dense/dense_4h_to_h) N(0, σ/√(2L)); "
        "biases 0",
        "Megatron-LM init_method_normal(σ) / scaled_init_method_normal(σ, L)"),
}
FRAMEWORK_PRESETS = ("torch", "keras", "flux", "flax")   # the frameworks' layer defaults (layer_init, JInit's twin)
# Normalization layers in every preset and without one: scale and running variance 1, shift and running mean 0.
NORM_RULES = {"norm_scale": ONES, "stat_var": ONES, "norm_shift": ZEROS, "stat_mean": ZEROS}


def _apply(rule, p: Param):
    name, kw = rule(p) if callable(rule) else rule
    return name, dict(kw)


def key_of(seed: int, p: Param, key_by: str = "position") -> int:
    """The key parameter `p` draws from (see the module docstring)."""
    return param_key(seed, p.layer, p.j) if key_by == "position" else name_key(seed, p.path)


def check_key_by(key_by) -> str:
    return check_choice("key_by", key_by, KEY_BY)


def plan(params, *, seed: int, weight=None, bias=None, preset=None, key_by="position", weight_kwargs=None,
         bias_kwargs=None, strict=True) -> tuple:
    """(steps, skipped): a `Step` for every parameter a rule covers, and the paths of those none does (only with
    ``strict=False``; with ``strict=True`` they raise TypeError, before anything is written).

    ``weight``/``bias``: initializer names for the WEIGHT_ROLES / BIAS_ROLES parameters (with
    ``weight_kwargs``/``bias_kwargs``); ``preset`` (a key of PRESETS) fills the rest;
    normalization parameters get ones/zeros unless the preset has its own rule for them (T5's initializer_factor);
    without a preset, ``bias`` defaults to zeros. A preset's rule is an (initializer, kwargs) pair or a function of
    the Param giving one, or None for a parameter it does not know (e.g. a bare nn.Parameter whose name it does
    not recognize), which is then left to ``strict``."""
    if preset is not None:
        preset = check_choice("preset", preset, tuple(PRESETS))
    if preset is None and weight is None:
        raise TypeError("initialize needs weight= (an initializer name, e.g. 'he') or preset= "
                        f"(one of {', '.join(PRESETS)})")
    for v in (weight, bias):
        if v is not None:
            check_name(v)
    key_by = check_key_by(key_by)
    seed = check_seed(seed)
    if bias is None and preset is None:
        bias = "zeros"
    steps, missing = [], []
    for p in params:
        if p.info.get("tied_to"):
            continue                                     # a tied parameter: made once, by its first occurrence
        rule, post = None, None
        if p.role in WEIGHT_ROLES and weight is not None:
            rule = (weight, weight_kwargs or {})
        elif p.role in BIAS_ROLES and bias is not None:
            rule = (bias, bias_kwargs or {})
        elif preset is not None and p.role in PRESETS[preset]:
            rule = PRESETS[preset][p.role]
            if preset == "keras" and p.role == "rnn_bias" and p.info.get("forget_gate"):
                h = p.info["hidden"]
                post = (h, 2 * h, 1.0)                   # Keras's unit_forget_bias
        elif p.role in NORM_RULES:
            rule = NORM_RULES[p.role]
        if callable(rule):
            rule = rule(p)                               # a rule that does not know this parameter gives None
        if rule is None:
            missing.append(p)
            continue
        if p.role == "embedding" and p.info.get("padding_idx") is not None:
            i = p.info["padding_idx"]
            post = (i, i + 1, 0.0)                       # an embedding's padding row stays zero, under every rule
        name, kw = _apply(rule, p)
        steps.append(Step(p, name, kw, key_of(seed, p, key_by), post))
    if missing and strict:
        first = missing[0]
        more = f" (and {len(missing) - 1} more: {', '.join(fmt(m.path) for m in missing[1:4])}" + \
            (", ..." if len(missing) > 4 else "") + ")" if len(missing) > 1 else ""
        raise TypeError(f"initialize has no rule for parameter {fmt(first.path)} of a {first.module}{more} "
                        "(pass weight=/preset= for it, or strict=False to leave it as it is)")
    return steps, [m.path for m in missing]


def layer_init(shape, preset="torch", *, dtype=F32, seed=None, backend=None, layout="torch"):
    """A layer's default (weight, bias) under a preset of the planner's table (PRESETS): the weight drawn with
    `seed`, the bias (length out) with the key ``keys.bias_key(seed)`` (docs/stream.md §6).

    - "torch": ``nn.Linear``/``nn.Conv*``: weight ``kaiming_uniform_(a=sqrt(5))`` = U(+-1/sqrt(fan_in)),
      bias U(+-1/sqrt(fan_in));
    - "keras", "flux": glorot_uniform weight, zero bias;
    - "flax": lecun_normal (variance scaling 1, fan_in, truncated normal) weight, zero bias.

    >>> w, b = layer_init((4, 3), "torch", seed=1); w.shape, b.shape
    ((4, 3), (4,))
    """
    p = check_choice("preset", preset, FRAMEWORK_PRESETS)
    s = new_seed() if seed is None else check_seed(seed)
    lay, ts = check_shape(shape, layout)
    info = {"fan_in": fans(ts)[0]} if len(ts) >= 2 else {}
    out = ts[0] if ts else 1
    wname, wkw = _apply(PRESETS[p]["weight"], Param("weight", 1, 0, "weight", "layer", tuple(shape), lay, info))
    bname, bkw = _apply(PRESETS[p]["bias"], Param("bias", 1, 1, "bias", "layer", (out,), "torch", info))
    w = init(wname, shape, dtype=dtype, seed=s, backend=backend, layout=lay, **wkw)
    return w, init(bname, (out,), dtype=dtype, seed=bias_key(s), backend=backend, **bkw)
