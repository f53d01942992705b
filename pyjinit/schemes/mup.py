"""μP, the Maximal Update Parametrization (Yang, Hu, Babuschkin, Sidor, Liu, Farhi, Ryder, Pachocki, Chen & Gao
2022, "Tensor Programs V: Tuning Large Neural Networks via Zero-Shot Hyperparameter Transfer", arXiv:2203.03466;
the rules of Microsoft's ``mup`` package, ``set_base_shapes`` / ``MuReadout`` / ``MuAdam`` / ``MuSGD``).

Which dimensions are "width" is read, as ``mup.set_base_shapes`` does, by comparing every parameter's shape with
the same parameter in a *base* model (a narrow copy of the model, or ``{path: shape}``): a dimension that differs
is infinite (it grows with width), the others finite. ``m = fan_in / base_fan_in`` is a parameter's width
multiplier. A weight (out, in, *k) then is

- ``input``  (out infinite, in finite; e.g. the first layer, an embedding): Var 1/fan_in, Adam LR η;
- ``hidden`` (both infinite): Var 1/fan_in, Adam LR η / m (``MuAdam``'s matrix-like group);
- ``output`` (in infinite, out finite; the readout): Var 1/(fan_in · m) — std shrinking as 1/width instead
  of 1/√width — or exactly 0 with ``readout_zero=True``; Adam LR η / m;
- ``vector`` (biases, norm gains, anything of one dimension) and ``finite`` (no infinite dimension): as SP,
  LR η. Biases start at 0.

This is Table 3 of the paper, the formulation without an output multiplier: ``mup``'s ``MuReadout`` instead keeps
the SP readout init and divides the readout's *input* by m in its forward pass; both give the same function and
the same updates at every width (``MuReadout``'s weight is √m times larger but sees an input m times smaller,
and Adam's update is in units of the weight). Here nothing in the model changes; the μP init is written by
`mup_init_` and the per-parameter LR multipliers are the optimizer's param groups (`mup_param_groups`). At the
base width every multiplier is 1: μP there is SP (so an LR tuned on the base model is the μP LR at every width).

Not covered by the init (model parts, documented): attention logits must use 1/d_head instead of 1/√d_head
(``attn_mult / d``, Tensor Programs V §4) — a change of the attention module's forward; an output multiplier
(``output_mult``) is a forward-pass scalar too. SGD's multipliers (``optimizer="sgd"``, Table 3): input weights
and biases LR η · m_out, hidden η · m_out / m_in (1 when both grow together), output η / m.

>>> import torch, pyjinit.schemes.mup as mup                                       # doctest: +SKIP
>>> net = lambda w: torch.nn.Sequential(torch.nn.Linear(32, w), torch.nn.ReLU(), torch.nn.Linear(w, w),
...                                     torch.nn.ReLU(), torch.nn.Linear(w, 10))
>>> model, base = net(1024), net(64)                                               # doctest: +SKIP
>>> mup.mup_init_(model, base, seed=0)                                             # doctest: +SKIP
>>> opt = torch.optim.Adam(mup.mup_param_groups(model, base, lr=1e-3))             # doctest: +SKIP
"""
from __future__ import annotations

import math
from typing import NamedTuple

from ..inits.validate import check_choice, check_real, check_seed, fmt

KINDS = ("input", "hidden", "output", "vector", "finite")
OPTIMIZERS = ("adam", "sgd")


class MupParam(NamedTuple):
    """One parameter's μP facts: its `kind` (KINDS), ``m_in`` = in / base_in and ``m_out`` = out / base_out
    (1 for a finite dimension), and ``width_mult`` = m_in for weights with an infinite fan-in, else m_out."""
    path: str
    kind: str
    m_in: float
    m_out: float

    @property
    def width_mult(self) -> float:
        return self.m_in if self.kind in ("hidden", "output") else self.m_out


def base_shapes(model) -> dict:
    """{parameter path: shape} of a torch model (``named_parameters``): what `classify` compares against, and
    what to save for a base model you do not want to keep (as ``mup.make_base_shapes``)."""
    return {n: tuple(p.shape) for n, p in model.named_parameters()}


def _shapes(base) -> dict:
    if isinstance(base, dict):
        return {k: tuple(v) for k, v in base.items()}
    if hasattr(base, "named_parameters"):
        return base_shapes(base)
    raise TypeError(f"base must be a torch model (the base-width copy of the model) or a dict of parameter "
                    f"paths to shapes (mup.base_shapes(base_model)); got {type(base).__name__}")


def classify(model, base) -> dict:
    """{path: MupParam} for every parameter of `model`, its infinite dimensions read against `base` (a base-width
    model or ``{path: shape}``). ValueError naming the parameter when `base` lacks it or its rank differs.
    An ``nn.Embedding`` weight (vocab, dim) and a Hugging Face ``Conv1D`` weight (in, out) are read with their
    out and in swapped, so an embedding is an ``input`` weight. (A readout tied to the embedding, GPT-2's
    ``lm_head``, is the embedding's parameter: ``mup``'s ``MuSharedReadout`` divides its input in the forward
    pass instead — a model part.)"""
    ref = _shapes(base)
    out = {}
    flipped = set()                  # weights stored (in, out): nn.Embedding (vocab, dim), Hugging Face's Conv1D
    for mpath, mod in model.named_modules():
        if type(mod).__name__ in ("Embedding", "Conv1D") and getattr(mod, "weight", None) is not None:
            flipped.add(f"{mpath}.weight" if mpath else "weight")
    for path, p in model.named_parameters():
        shape = tuple(p.shape)
        if path not in ref:
            raise ValueError(f"base has no parameter {fmt(path)} (the base model must be the same architecture at "
                             f"another width); it has {', '.join(list(ref)[:4])}{', ...' if len(ref) > 4 else ''}")
        b = ref[path]
        if len(b) != len(shape) or any(n == 0 for n in b):
            raise ValueError(f"parameter {fmt(path)} has shape {fmt(shape)} but {fmt(b)} in base: the ranks must agree "
                             "and base dimensions be nonzero")
        if len(shape) <= 1:
            m = shape[0] / b[0] if shape else 1.0
            out[path] = MupParam(path, "vector" if shape and m != 1 else "finite", 1.0, m)
            continue
        m_out, m_in = shape[0] / b[0], shape[1] / b[1]
        if path in flipped:
            m_out, m_in = m_in, m_out
        kind = {(True, True): "hidden", (True, False): "input", (False, True): "output",
                (False, False): "finite"}[(m_out != 1, m_in != 1)]
        out[path] = MupParam(path, kind, m_in, m_out)
    return out


def mup_init_(model, base, *, seed, weight="lecun", weight_kwargs=None, readout_zero=False, key_by="position"):
    """Initialize a PyTorch model in place with μP (module docstring) relative to `base` and return it.

    Every weight is first drawn by ``pyjinit.torch.initialize(model, weight=weight, bias="zeros", seed=seed)`` —
    default "lecun": N(0, 1/fan_in), the paper's Var 1/fan_in for input and hidden weights — so keys are the
    planner's (``plan.key_of``); then every ``output`` weight is multiplied by 1/√m (Var 1/(fan_in · m)), or
    zeroed with ``readout_zero=True``. Norm gains are 1 and all biases 0. At the base width this is SP.
    """
    import torch
    from ..frameworks.torch import initialize

    seed = check_seed(seed)
    if not isinstance(readout_zero, bool):
        raise TypeError(f"readout_zero must be True or False, got {fmt(readout_zero)}")
    kinds = classify(model, base)
    initialize(model, weight=weight, bias="zeros", seed=seed, weight_kwargs=weight_kwargs, key_by=key_by)
    with torch.no_grad():
        for path, p in model.named_parameters():
            k = kinds[path]
            if k.kind == "output":
                p.mul_(0.0 if readout_zero else 1 / math.sqrt(k.m_in))
    return model


def lr_multiplier(k: MupParam, optimizer: str = "adam") -> float:
    """The μP learning-rate multiplier of one parameter (Table 3 of the paper, relative to the base width):
    Adam(-like): hidden and output 1/m_in, the rest 1; SGD: input weights and vectors m_out, hidden m_out/m_in,
    output 1/m_in, finite 1."""
    opt = check_choice("optimizer", optimizer, OPTIMIZERS)
    if opt == "adam":
        return 1 / k.m_in if k.kind in ("hidden", "output") else 1.0
    return {"input": k.m_out, "vector": k.m_out, "hidden": k.m_out / k.m_in, "output": 1 / k.m_in,
            "finite": 1.0}[k.kind]


def mup_param_groups(model, base, lr, *, weight_decay=0.0, optimizer="adam") -> list:
    """The optimizer param groups of μP (``mup.MuAdam`` / ``MuSGD``'s split): one group per (kind, multiplier),
    each ``{"params": [...], "lr": lr · multiplier, "weight_decay": weight_decay / multiplier, "mup": kind,
    "lr_mult": multiplier}`` (weight decay scaled inversely, as ``mup`` does, so lr · weight_decay stays put).
    Pass them to the optimizer: ``torch.optim.Adam(mup_param_groups(model, base, lr=1e-3))``; for SGD give
    ``optimizer="sgd"``. Extra keys ("mup", "lr_mult") are kept by torch in ``opt.param_groups``.
    """
    lr = check_real("lr", lr, "a number > 0", lambda x: x > 0)
    wd = check_real("weight_decay", weight_decay, "a number >= 0", lambda x: x >= 0)
    kinds = classify(model, base)
    groups = {}
    seen = set()
    for path, p in model.named_parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        k = kinds[path]
        mult = lr_multiplier(k, optimizer)
        g = groups.setdefault((k.kind, mult), {"params": [], "lr": lr * mult, "weight_decay": wd / mult,
                                              "mup": k.kind, "lr_mult": mult})
        g["params"].append(p)
    return list(groups.values())
