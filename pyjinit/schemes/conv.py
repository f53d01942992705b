"""Delta-orthogonal convolutions (Xiao, Bahri, Sohl-Dickstein, Schoenholz & Pennington 2018, "Dynamical Isometry
and a Mean Field Theory of CNNs: How to Train 10,000-Layer Vanilla Convolutional Neural Networks", ICML,
arXiv:1806.05393).

Rule: every convolution kernel W of shape (out, in, *k) with out >= in is zero except its centre tap
(``(k - 1) // 2`` in each kernel dimension, JAX's ``delta_orthogonal``), which is an (out, in) matrix with
orthonormal columns times ``gain`` (``pyjinit.init("delta_orthogonal", shape, gain=...)``, drawn from the
project's stream). With circular padding such a convolution is an exact isometry of its input (times gain), so
the input-output Jacobian of a deep tanh CNN at the critical point (gain 1, zero biases) has all singular values
near 1 (dynamical isometry), which is what lets Xiao et al. train 10,000-layer vanilla CNNs. The paper's
critical point for tanh is σ_w² = 1 (gain 1) with σ_b → 0; the default here is gain 1 and zero biases.

Everything that is not such a convolution (the readout Linear, a convolution with out < in, norms) gets
``other`` (an initializer name, default "lecun": N(0, 1/fan_in)) through the planner, so keys are the planner's:
parameter j of the l-th module draws from ``key_of(seed, Param)`` as in ``pyjinit.torch.initialize``, and the
same model gets the same values from either call.

>>> import torch
>>> net = torch.nn.Sequential(torch.nn.Conv2d(16, 16, 3, padding=1, padding_mode="circular"), torch.nn.Tanh())
>>> w = delta_orthogonal_(net, seed=0)[0].weight.detach().double()
>>> bool(torch.allclose(w[:, :, 1, 1].T @ w[:, :, 1, 1], torch.eye(16, dtype=torch.float64), atol=1e-6))
True
"""
from __future__ import annotations

from ..inits.plan import check_key_by, key_of
from ..inits.validate import check_real, check_seed


def is_delta_conv(param) -> bool:
    """Whether a planner Param (``pyjinit.torch.describe``) gets the delta-orthogonal rule: a convolution weight
    (3 to 5 dimensions, PyTorch order) with out >= in."""
    s = param.shape
    return param.role == "weight" and 3 <= len(s) <= 5 and s[0] >= s[1] and not param.info.get("transposed")


def delta_orthogonal_(model, *, seed, gain=1.0, other="lecun", other_kwargs=None, key_by="position",
                      strict=True):
    """Initialize a PyTorch model in place with delta-orthogonal convolutions (module docstring) and return it:
    every ``nn.Conv1d/2d/3d`` weight with out >= in gets ``delta_orthogonal(gain)``; every other weight gets
    ``other`` (``other_kwargs``), biases zeros, norms ones/zeros — all through ``pyjinit.torch.initialize``, so
    the keys are the planner's (``plan.key_of``). ``gain``: a real number (default 1, tanh's critical point).

    A grouped or transposed convolution is not delta-orthogonal here: it gets ``other``.
    """
    import torch
    from ..frameworks.torch import _fill, describe, initialize

    check_real("gain", gain)
    seed = check_seed(seed)
    key_by = check_key_by(key_by)
    initialize(model, weight=other, bias="zeros", seed=seed, weight_kwargs=other_kwargs, key_by=key_by,
               strict=strict)
    convs = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)
    modules = dict(model.named_modules())
    tensors = dict(model.named_parameters())
    for p in describe(model):
        owner = modules.get(p.path.rsplit(".", 1)[0] if "." in p.path else "")
        if not (isinstance(owner, convs) and owner.groups == 1 and p.path.endswith("weight") and is_delta_conv(p)):
            continue
        _fill(tensors[p.path], "delta_orthogonal", key_of(seed, p, key_by), {"gain": gain, "backend": None})
    return model
