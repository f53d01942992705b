"""Residual-network initialization schemes: depth-scaled, Fixup, T-Fixup, ReZero/SkipInit, DeepNet.

Each scheme is a framework-neutral rule: a parameter's structural role, depth and its model's L and m
(``pyjinit.schemes.roles.Structure``) give an initializer name of ``pyjinit.initializers()`` and its kwargs.
Everything a scheme does not name gets the scheme's *base* (``base=``: a preset of ``pyjinit.inits.plan.PRESETS``
or an initializer name; default per scheme below), through the planner. Every parameter draws from the key the
planner gives it (``plan.key_of``: ``param_key(seed, l, j)``, or ``name_key`` with ``key_by="name"``), so a
scheme changes a parameter's distribution, never its stream: two schemes that give a parameter the same rule
give it the same values. Applied to PyTorch models by ``apply_scheme`` (``pyjinit.torch.apply_scheme``).

L is the number of residual blocks of the parameter's stack (``n_layers``); ``n_branches`` the residual
branches per block (2 in a transformer layer, 3 with cross-attention, 1 in a ResNet/MLP block); m the weight
layers in series on a branch (2 for attention: q/k/v then out; 2 for an MLP; Fixup's m). He std = √(2/fan_in);
Xavier std = √(2/(fan_in+fan_out)), bound √(6/(fan_in+fan_out)); a fused q/k/v weight (rows q, k, v) uses the
fans of one projection, and a scale for v applies to its last third of rows. Biases of the named layers are 0.

- ``"depth_scaled"`` (GPT-2, Radford et al. 2019; Megatron-LM ``scaled_init_method_normal``, Shoeybi et al.
  2019): every weight N(0, std²), std = 0.02 (``std=``); branch outputs (attn_out, mlp_out, branch_out) N(0,
  (std/√(n_branches·L))²) = std/√(2L) for a transformer. Base: N(0, 0.02²).
- ``"fixup"`` (Zhang, Dauphin & Ma 2019, "Fixup Initialization", §3): the readout (weight and bias) and each
  branch's last layer 0; the other branch layers He × L^(−1/(2m−2)), L the number of residual branches
  (n_branches·n_layers); scalar biases 0, multipliers 1 (the model must have them: ``modules.ResidualBlock
  (variant="fixup")``). Base (stem, embeddings): He normal (fan_in, ReLU).
- ``"t_fixup"`` (Huang, Perez, Ba & Volkovs 2020, "Improving Transformer Optimization Through Better
  Initialization", Alg. 1): Xavier uniform for all weights; token embeddings N(0, d^(−1/2)) (std d^(−1/2), as
  its code) × (9M)^(−1/4) (× 0.67 N^(−1/4) without a decoder); in decoder layers v, attention out and MLP
  weights × (9M)^(−1/4); in encoder layers (and plain residual blocks) × 0.67 N^(−1/4); N, M the encoder and
  decoder depths. The paper also removes LayerNorm and warmup: that is the model's and the optimizer's part.
  Base: Xavier uniform.
- ``"rezero"`` / ``"skipinit"`` (Bachlechner et al. 2020, "ReZero is All You Need"; De & Smith 2020,
  "Batch Normalization Biases Residual Blocks Towards the Identity Function"): every ``gate`` parameter 0, so
  each block is the identity at init. The model must have the gates (``modules.ReZero(branch)`` wraps a
  branch; ``ResidualBlock(variant="rezero")``; or name them: ``roles={"*.alpha": "gate"}``); a model without
  any is a ValueError. Base: He normal (fan_in, ReLU), zero biases.
- ``"deepnet"`` (Wang et al. 2022, "DeepNet: Scaling Transformers to 1,000 Layers", Fig. 2 / Table 1):
  DeepNorm's x_{l+1} = LN(α x_l + G(x_l)) with the branch weights (v, attention out, MLP; branch_in/out) Xavier
  normal × β and q, k Xavier normal (gain 1). Encoder-only (N layers): α = (2N)^(1/4), β = (8N)^(−1/4);
  decoder-only (M): α = (2M)^(1/4), β = (8M)^(−1/4); encoder-decoder: encoder α = 0.81 (N⁴M)^(1/16), β = 0.87
  (N⁴M)^(−1/16), decoder α = (3M)^(1/4), β = (12M)^(−1/4) (``deepnorm_constants``). α is a constant of the
  forward pass, not a parameter: the model must use it (``modules.ResidualBlock(variant="deepnorm",
  alpha=...)``). Plain residual blocks count as encoder layers. Base: Xavier normal.

>>> import torch, pyjinit.torch as pt
>>> from pyjinit.schemes.modules import ResidualNet
>>> net = pt.apply_scheme(ResidualNet(784, 64, 50, 10, variant="fixup"), "fixup", seed=0)
>>> net.blocks[0].fc2.weight.abs().max().item(), net.head.weight.abs().max().item()
(0.0, 0.0)
"""
from __future__ import annotations

import math
import sys
import warnings
from typing import NamedTuple

from ..inits.plan import PRESETS, Param, Step, key_of, plan
from ..inits.registry import check_name
from ..inits.validate import check_choice, check_real, check_seed, fans
from .roles import BRANCH_IN, BRANCH_OUT, infer

SCHEMES = ("depth_scaled", "fixup", "t_fixup", "rezero", "skipinit", "deepnet")
_HE = ("torch.kaiming_normal", {"nonlinearity": "relu"})
DEFAULT_BASE = {"depth_scaled": ("normal", {"std": 0.02}), "fixup": _HE, "t_fixup": ("torch.xavier_uniform", {}),
                "rezero": _HE, "skipinit": _HE, "deepnet": ("torch.xavier_normal", {})}
OPTIONS = {"depth_scaled": {"std": 0.02}}
_SCALED = ("attn_v", "attn_out", "mlp_in", "mlp_out", "branch_in", "branch_out")   # T-Fixup's and DeepNet's
_NO_RULE = ("norm", "gate", "scalar_bias", "multiplier")


class SchemeStep(NamedTuple):
    """A planner `Step` and, for a fused q/k/v weight, ``rows``: (start, stop, factor), rows to multiply after
    the draw (v's rows by T-Fixup's or DeepNet's factor), or None."""
    step: Step
    rows: tuple | None = None


def deepnorm_constants(n_encoder: int = 0, n_decoder: int = 0) -> dict:
    """DeepNet's (α, β) for an encoder of `n_encoder` and a decoder of `n_decoder` layers (Wang et al. 2022,
    Fig. 2): {"encoder": (α, β)} and/or {"decoder": (α, β)}.

    >>> {k: tuple(round(x, 4) for x in v) for k, v in deepnorm_constants(0, 12).items()}
    {'decoder': (2.2134, 0.3195)}
    """
    n, m = int(n_encoder), int(n_decoder)
    if n < 0 or m < 0 or n + m == 0:
        raise ValueError(f"n_encoder and n_decoder must be >= 0 and not both 0; got {n_encoder}, {n_decoder}")
    if n and m:
        return {"encoder": (0.81 * (n ** 4 * m) ** (1 / 16), 0.87 * (n ** 4 * m) ** (-1 / 16)),
                "decoder": ((3 * m) ** 0.25, (12 * m) ** -0.25)}
    if n:
        return {"encoder": ((2 * n) ** 0.25, (8 * n) ** -0.25)}
    return {"decoder": ((2 * m) ** 0.25, (8 * m) ** -0.25)}


def _depths(structure) -> tuple:
    """(N, M): the deepest encoder stack (plain residual stacks count as encoders) and decoder stack."""
    n = max((s.n_layers for s in structure.values() if s.n_layers and s.side != "decoder"), default=0)
    m = max((s.n_layers for s in structure.values() if s.n_layers and s.side == "decoder"), default=0)
    return n, m


def _proj_fans(s, p: Param) -> tuple:
    fi, fo = fans(p.shape)
    return (fi, fo // 3) if s.role == "attn_qkv" else (fi, fo)


def _normal(std):
    return ("normal", {"std": std}) if std > 0 else ("zeros", {})


def _v_rows(p: Param, factor: float):
    third = p.shape[0] // 3
    return (2 * third, 3 * third, factor)


def _rule_depth_scaled(s, p, ctx):
    if s.role in _NO_RULE:
        return None
    if s.kind == "bias":
        return ("zeros", {}), None
    if s.kind != "weight":
        return None
    std = ctx["std"]
    if s.role in BRANCH_OUT and s.n_layers:
        return _normal(std / math.sqrt(s.n_branches * s.n_layers)), None
    return _normal(std), None


def _rule_fixup(s, p, ctx):
    if s.role == "scalar_bias":
        return ("zeros", {}), None
    if s.role == "multiplier":
        return ("ones", {}), None
    if s.role == "readout" or s.role in BRANCH_OUT:
        return ("zeros", {}), None
    if s.role in BRANCH_IN:
        if s.kind == "bias":
            return ("zeros", {}), None
        if s.kind != "weight":
            return None
        L, m = s.n_branches * s.n_layers, s.branch_len or 2
        scale = L ** (-1 / (2 * m - 2)) if m >= 2 else 1.0
        return _normal(math.sqrt(2 / fans(p.shape)[0]) * scale), None
    return None


def _rule_t_fixup(s, p, ctx):
    n, m = ctx["N"], ctx["M"]
    dec = (9 * m) ** -0.25 if m else None
    enc = 0.67 * n ** -0.25 if n else None
    if s.role in _NO_RULE:
        return None
    if s.kind == "bias":
        return ("zeros", {}), None
    if s.kind != "weight":
        return None
    if s.role == "embedding" and "Embedding" in p.module and s.depth is None:
        return _normal(p.shape[-1] ** -0.5 * (dec if dec is not None else enc)), None
    fi, fo = _proj_fans(s, p)
    bound = math.sqrt(6 / (fi + fo))
    factor = (dec if s.side == "decoder" else enc) if s.depth is not None else 1.0
    if s.role == "attn_qkv":
        return ("uniform", {"low": -bound, "high": bound}), _v_rows(p, factor)
    if s.role in _SCALED and s.depth is not None:
        bound *= factor
    return ("uniform", {"low": -bound, "high": bound}), None


def _rule_deepnet(s, p, ctx):
    if s.depth is None or s.role in _NO_RULE:
        return None
    if s.kind == "bias":
        return ("zeros", {}), None
    if s.kind != "weight":
        return None
    side = "decoder" if s.side == "decoder" else "encoder"
    beta = ctx["constants"][side][1]
    fi, fo = _proj_fans(s, p)
    std = math.sqrt(2 / (fi + fo))
    if s.role == "attn_qkv":
        return _normal(std), _v_rows(p, beta)
    return _normal(std * beta if s.role in _SCALED else std), None


def _rule_rezero(s, p, ctx):
    return (("zeros", {}), None) if s.role == "gate" else None


RULES = {"depth_scaled": _rule_depth_scaled, "fixup": _rule_fixup, "t_fixup": _rule_t_fixup,
         "rezero": _rule_rezero, "skipinit": _rule_rezero, "deepnet": _rule_deepnet}


def _context(scheme: str, structure: dict, opts: dict) -> dict:
    allowed = OPTIONS.get(scheme, {})
    bad = [k for k in opts if k not in allowed]
    if bad:
        raise TypeError(f"scheme {scheme!r} takes no option {bad[0]!r}"
                        + (f" (its options: {', '.join(allowed)})" if allowed else " (it has no options)"))
    ctx = {**allowed, **opts}
    if "std" in ctx:
        ctx["std"] = check_real("std", ctx["std"], "a positive number", lambda v: v > 0)
    n, m = _depths(structure)
    ctx["N"], ctx["M"] = n, m
    if scheme == "deepnet":
        ctx["constants"] = deepnorm_constants(n, m)
    if scheme in ("rezero", "skipinit") and not any(s.role == "gate" for s in structure.values()):
        raise ValueError(f"scheme {scheme!r} zero-initializes the residual gates, and this model has none: wrap each "
                         "residual branch in pyjinit.schemes.modules.ReZero(branch), use "
                         "ResidualBlock(variant='rezero'), or name the gate parameters, e.g. roles={'*.alpha': 'gate'}")
    return ctx


def plan_scheme(params, structure: dict, scheme: str, *, seed: int, base=None, key_by="position", **opts) -> tuple:
    """(steps, left): a `SchemeStep` for each parameter of `params` (``plan.Param``s, e.g.
    ``pyjinit.torch.describe(model)``) under `scheme`, with `structure` from ``roles.infer``; `left`: the paths
    of parameters neither the scheme nor its base covers. Framework-neutral: the adapter writes the steps."""
    scheme = check_choice("scheme", scheme, SCHEMES)
    seed = check_seed(seed)
    ctx = _context(scheme, structure, opts)
    if base is None:
        bname, bkw = DEFAULT_BASE[scheme]
        if scheme == "depth_scaled":
            bkw = {"std": ctx["std"]}
        base_steps, _ = plan(params, seed=seed, weight=bname, weight_kwargs=bkw, bias="zeros", key_by=key_by,
                             strict=False)
    elif isinstance(base, str) and base in PRESETS:
        base_steps, _ = plan(params, seed=seed, preset=base, key_by=key_by, strict=False)
    else:
        base_steps, _ = plan(params, seed=seed, weight=check_name(base), bias="zeros", key_by=key_by, strict=False)
    by_path = {st.param.path: st for st in base_steps}
    steps, left = [], []
    for p in params:
        if p.info.get("tied_to"):
            continue
        s = structure.get(p.path)
        r = RULES[scheme](s, p, ctx) if s is not None else None
        b = by_path.get(p.path)
        if r is None:
            if b is None:
                left.append(p.path)
            else:
                steps.append(SchemeStep(b))
            continue
        (name, kw), rows = r
        post = b.post if b is not None else None
        steps.append(SchemeStep(Step(p, name, dict(kw), key_of(seed, p, key_by), post), rows))
    return steps, left


def apply_scheme(model, scheme: str, *, seed=None, roles=None, base=None, key_by="position", backend=None,
                 verbose=False, **opts):
    """Initialize a PyTorch `model` in place with a residual `scheme` (one of SCHEMES, see the module docstring)
    and return it. ``roles``: path patterns naming roles for models pyjinit does not recognize
    (``pyjinit.schemes.roles``); ``base``: what the parameters the scheme does not name get (a preset name or an
    initializer name; default per scheme); ``seed``, ``key_by``, ``backend`` as in ``pyjinit.torch.initialize``;
    ``opts``: the scheme's options (``std=`` for "depth_scaled"). Every rule is checked before anything is
    written; parameters no rule covers are left as they are, with a warning naming them."""
    from torch import nn

    from ..frameworks.torch import _device_draw, _fill, _local_part, describe
    from ..inits import api

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    seed = api.new_seed() if seed is None else check_seed(seed)
    params = describe(model)
    structure = infer(model, roles)
    steps, left = plan_scheme(params, structure, scheme, seed=seed, base=base, key_by=key_by, **opts)
    for st in steps:
        _device_draw(st.step.name, st.step.param.shape, dict(st.step.kwargs))
    if left:
        warnings.warn(f"apply_scheme({scheme!r}) left {len(left)} parameters without a rule as they are: "
                      f"{', '.join(left[:8])}{', ...' if len(left) > 8 else ''}", UserWarning, stacklevel=2)
    import torch

    tensors = dict(model.named_parameters(remove_duplicate=False))
    for st, rows in steps:
        local, full, offset = _local_part(tensors[st.param.path])
        if st.param.info.get("transposed"):
            local, full, offset = local.T, (full[::-1] if full else None), (offset[::-1] if offset else None)
        if local.dim() == 0:                      # a 0-d scalar (a gate): filled through its 1-element view
            local = local.view(1)
        _fill(local, st.name, st.key, {**st.kwargs, "backend": backend}, full, offset)
        o = offset[0] if offset else 0
        for extra in (st.post, rows):
            if extra is None:
                continue
            a, b, value = extra
            lo, hi = max(a - o, 0), min(b - o, local.shape[0])
            if lo < hi:
                with torch.no_grad():
                    if extra is rows:
                        local[lo:hi].mul_(value)
                    else:
                        local[lo:hi].fill_(value)
    if verbose:
        print(f"apply_scheme({scheme!r}): {len(steps)} parameters initialized, {len(left)} left", file=sys.stderr)
    return model
