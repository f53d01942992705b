"""Mimetic initialization of self-attention (Trockman & Kolter 2023, "Mimetic Initialization of Self-Attention
Layers", ICML, arXiv:2305.09828): initialize the attention weights so that their products look like those of
pretrained transformers — each head's query-key product close to a positive multiple of the identity plus noise,
the value-output product close to a *negative* multiple of the identity plus noise:

    W_q,h^T W_k,h ≈ α1 Z1,h + β1 I        (d x d, one Z per head h; rank head_dim)
    W_o W_v       ≈ α2 Z2 − β2 I          (d x d, all heads together)

with Z ~ N(0, I/d) (entries of variance 1/d) from the project's stream. Construction (the paper's): M = αZ ± βI,
its SVD M = U S V^T, and the factors U_k S_k^(1/2) and S_k^(1/2) V_k^T of its best rank-k approximation
(k = head_dim for q/k, k = d for v/o, so W_o W_v = M exactly). In PyTorch's (out, in) layout the head-h query rows
are ``S_k^(1/2) U_k^T`` and its key rows ``S_k^(1/2) V_k^T`` (so q·k = x^T W_q^T W_k x'), ``W_v = S^(1/2) V^T`` and
``W_o = U S^(1/2)``. Defaults α1 = β1 = 0.7 and α2 = β2 = 0.4 (the paper's ViT setting). Attention biases are 0.
The d x d products use row-vector or column-vector convention alike (the identity part is symmetric; Z's
transpose has the same distribution).

Keys: Z1 for all heads is drawn with the planner's key of the query (or packed q/k/v) weight, Z2 with that of the
output projection (``plan.key_of``), so the same model and seed give the same weights as every other pyjinit call.

>>> q, k = mimetic_qk(8, 2, seed=0)                  # d = 8, 2 heads of dimension 4: (8, 8) each
>>> q.shape, k.shape
((8, 8), (8, 8))
"""
from __future__ import annotations

import numpy as np

from ..inits.registry import init
from ..inits.validate import check_real, check_seed, fmt


def _factor(m: np.ndarray, k: int) -> tuple:
    u, s, vt = np.linalg.svd(m)
    r = np.sqrt(s[:k])
    return u[:, :k] * r, r[:, None] * vt[:k]            # (d, k), (k, d): product = best rank-k approximation


def _check(d, heads):
    if not isinstance(d, int) or d < 1:
        raise ValueError(f"d (the model width) must be a positive integer, got {fmt(d)}")
    if not isinstance(heads, int) or heads < 1 or d % heads:
        raise ValueError(f"heads must be a positive integer dividing d = {d}, got {fmt(heads)}")


def mimetic_qk(d, heads, *, seed, alpha=0.7, beta=0.7, dtype="float32") -> tuple:
    """(W_q, W_k), each (d, d) in PyTorch layout (rows h·k .. (h+1)·k - 1 are head h, k = d / heads), with
    ``W_q,h^T W_k,h`` the best rank-k approximation of ``alpha · Z_h + beta · I`` (module docstring); the Z_h are
    the (heads, d, d) normals N(0, 1/d) of `seed`."""
    _check(d, heads)
    a, b = check_real("alpha", alpha), check_real("beta", beta)
    k = d // heads
    z = init("normal", (heads, d, d), std=d ** -0.5, seed=check_seed(seed), dtype="float64", backend="numpy")
    wq, wk = np.empty((d, d)), np.empty((d, d))
    for h in range(heads):
        left, right = _factor(a * z[h] + b * np.eye(d), k)
        wq[h * k:(h + 1) * k] = left.T
        wk[h * k:(h + 1) * k] = right
    return wq.astype(dtype), wk.astype(dtype)


def mimetic_vo(d, *, seed, alpha=0.4, beta=0.4, dtype="float32") -> tuple:
    """(W_v, W_o), each (d, d) in PyTorch layout, with ``W_o @ W_v = alpha · Z + (-beta) · I`` (full rank, exact
    to rounding); Z the (d, d) normals N(0, 1/d) of `seed`."""
    _check(d, 1)
    a, b = check_real("alpha", alpha), check_real("beta", beta)
    z = init("normal", (d, d), std=d ** -0.5, seed=check_seed(seed), dtype="float64", backend="numpy")
    wo, wv = _factor(a * z - b * np.eye(d), d)
    return wv.astype(dtype), wo.astype(dtype)


def mimetic_(model, *, seed, alpha1=0.7, beta1=0.7, alpha2=0.4, beta2=0.4, key_by="position"):
    """Mimetic-initialize every ``torch.nn.MultiheadAttention`` of a PyTorch model in place (so
    ``nn.TransformerEncoderLayer``/``DecoderLayer`` and ``nn.Transformer``) and return the model: ``in_proj_weight``
    rows [0, d) = W_q and [d, 2d) = W_k from `mimetic_qk` (its heads = the module's ``num_heads``), rows
    [2d, 3d) = W_v and ``out_proj.weight`` = W_o from `mimetic_vo`; the in/out projection biases 0. Other parameters
    are left as they are (initialize them first, e.g. ``pyjinit.torch.initialize(model, preset="model")``).
    A MultiheadAttention with separate key/value widths (kdim/vdim != embed_dim) raises ValueError."""
    import torch
    from ..frameworks.torch import describe
    from ..inits.plan import check_key_by, key_of

    seed = check_seed(seed)
    key_by = check_key_by(key_by)
    params = {p.path: p for p in describe(model)}
    found = 0
    for mpath, mod in model.named_modules():
        if not isinstance(mod, torch.nn.MultiheadAttention):
            continue
        if not mod._qkv_same_embed_dim:
            raise ValueError(f"mimetic_: the MultiheadAttention {fmt(mpath)} has kdim/vdim != embed_dim; mimetic "
                             "initialization needs the packed in_proj_weight")
        d, heads = mod.embed_dim, mod.num_heads
        pre = f"{mpath}." if mpath else ""
        kq = key_of(seed, params[pre + "in_proj_weight"], key_by)
        ko = key_of(seed, params[pre + "out_proj.weight"], key_by)
        wq, wk = mimetic_qk(d, heads, seed=kq, alpha=alpha1, beta=beta1, dtype="float64")
        wv, wo = mimetic_vo(d, seed=ko, alpha=alpha2, beta=beta2, dtype="float64")
        with torch.no_grad():
            mod.in_proj_weight.copy_(torch.from_numpy(np.concatenate([wq, wk, wv])))
            mod.out_proj.weight.copy_(torch.from_numpy(wo))
            for b in (mod.in_proj_bias, mod.out_proj.bias):
                if b is not None:
                    b.zero_()
        found += 1
    if not found:
        raise ValueError(f"mimetic_ found no torch.nn.MultiheadAttention in the {type(model).__name__}: for other "
                         "attention modules write mimetic_qk / mimetic_vo's matrices into their q/k/v/o weights")
    return model
