"""ZerO initialization (Zhao, Schäfer & Anandkumar 2022, "ZerO Initialization: Initializing Neural Networks with
only Zeros and Ones", TMLR, arXiv:2110.12661): deterministic weights made of zeros, ones and a Hadamard matrix —
no random numbers, so every seed gives the same network (zero variance across seeds).

Rule for a weight matrix W of shape (out, in) (Algorithm 1, as the authors' reference code ``ZerO_Init_on_matrix``
in their ``example_mnist.ipynb`` computes it):

- out <= in: the partial identity ``I*`` = eye(out, in) (the identity when square; a dimension *decrease* keeps the
  first `out` coordinates);
- out > in (a dimension *increase*): ``I*_(out x p) · H_p / sqrt(p) · I*_(p x in)`` = ``H_p[:out, :in] / sqrt(p)``,
  with p = 2^ceil(log2 out) and H_p the Sylvester Hadamard matrix (entries ±1, H_p H_p^T = p I). The paper's
  Algorithm 1 writes the factor as c = 2^(-(m-1)/2), m = ceil(log2 out); the released code divides by
  2^(m/2) = sqrt(p), which makes H_p/sqrt(p) orthogonal — we follow the code (``factor="code"``) and offer the
  paper's text (``factor="paper"``, √2 times larger).

Convolutions (Algorithm 2): the kernel (out, in, *k) is zero except its centre tap (k // 2 in each kernel
dimension, as ``torch.nn.init.dirac_``), which holds the matrix above. Biases are 0, norm gains 1.
For ResNets the paper also zeroes the residual branches' layers and adds Hadamard-transformed ("augmented")
skip connections where the width changes — the latter is a model change (a forward-pass module), not an init;
name the parameters to zero with ``zero_paths`` (fnmatch patterns, e.g. ``["layer*.conv2.weight"]``).

>>> zero_matrix(2, 3)
array([[1., 0., 0.],
       [0., 1., 0.]], dtype=float32)
>>> zero_matrix(3, 1) * 2                                     # p = 4: H_4[:3, :1] / 2, times 2
array([[1.],
       [1.],
       [1.]], dtype=float32)
"""
from __future__ import annotations

import math
from fnmatch import fnmatchcase

import numpy as np

from ..inits.validate import check_choice, check_dims, check_dtype, fmt

FACTORS = ("code", "paper")


def hadamard(p: int) -> np.ndarray:
    """The p x p Sylvester Hadamard matrix (p a power of 2): H_1 = [1], H_2p = [[H, H], [H, -H]] (scipy's)."""
    if p < 1 or p & (p - 1):
        raise ValueError(f"p must be a power of 2, got {fmt(p)}")
    h = np.ones((1, 1))
    while len(h) < p:
        h = np.block([[h, h], [h, -h]])
    return h


def zero_matrix(out: int, inp: int, *, factor="code", dtype="float32") -> np.ndarray:
    """ZerO's (out, in) matrix (module docstring): the partial identity when out <= in, else
    ``H_p[:out, :in] / sqrt(p)`` (``factor="code"``) or ``· 2^(-(m-1)/2)`` (``factor="paper"``)."""
    out, inp = check_dims((out, inp))
    f = check_choice("factor", factor, FACTORS)
    dt = check_dtype(dtype)
    if out <= inp:
        return np.eye(out, inp, dtype=dt)
    m = math.ceil(math.log2(out))
    p = 2 ** m
    c = 2.0 ** (-m / 2) if f == "code" else 2.0 ** (-(m - 1) / 2)
    return (hadamard(p)[:out, :inp] * c).astype(dt)


def zero_init(shape, *, factor="code", dtype="float32") -> np.ndarray:
    """ZerO for a PyTorch-order shape: a 2-D (out, in) weight is `zero_matrix`; a kernel (out, in, *k) is zero but
    its centre tap k // 2, which is `zero_matrix(out, in)`; a 1-D parameter (a bias) is 0. No seed: the same
    array every time."""
    dims = check_dims(shape)
    dt = check_dtype(dtype)
    if len(dims) < 2:
        return np.zeros(dims, dt)
    w = np.zeros(dims, dt)
    w[(slice(None), slice(None)) + tuple(k // 2 for k in dims[2:])] = zero_matrix(dims[0], dims[1], factor=factor,
                                                                                  dtype=dt)
    return w


def zero_(model, *, zero_paths=(), factor="code"):
    """ZerO a PyTorch model in place and return it: every ``nn.Linear`` and ``nn.Conv1d/2d/3d`` weight (groups 1)
    gets `zero_init`, every bias 0, normalization gains 1 and shifts 0 (``pyjinit.torch.initialize``'s norm rule);
    parameters whose path matches a pattern of ``zero_paths`` are set to exactly 0 (the paper's zeroed residual
    branches). Any other parameter (an embedding, attention's packed projections) raises TypeError naming it:
    ZerO defines no rule for it — zero it through ``zero_paths`` or initialize it separately afterwards."""
    import torch
    from ..frameworks.torch import _NORMS

    if isinstance(zero_paths, str):
        zero_paths = (zero_paths,)
    pats = tuple(zero_paths)
    plain = (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)
    todo = []
    for mpath, mod in model.named_modules():
        for pname, p in mod.named_parameters(recurse=False):
            path = f"{mpath}.{pname}" if mpath else pname
            if any(fnmatchcase(path, pat) for pat in pats):
                todo.append((p, np.zeros(tuple(p.shape), "float64")))
            elif isinstance(mod, plain) and getattr(mod, "groups", 1) == 1 and pname == "weight":
                todo.append((p, zero_init(tuple(p.shape), factor=factor, dtype="float64")))
            elif pname == "bias" or (isinstance(mod, _NORMS) or "Norm" in type(mod).__name__):
                value = 1.0 if pname == "weight" else 0.0
                todo.append((p, np.full(tuple(p.shape), value)))
            else:
                raise TypeError(f"zero_ has no rule for parameter {fmt(path)} of a {type(mod).__name__}: ZerO covers "
                                "Linear and Conv weights, biases and norms; name it in zero_paths= or initialize it "
                                "separately")
    with torch.no_grad():
        for p, a in todo:                                  # nothing written before every parameter had its rule
            p.copy_(torch.from_numpy(a))
    return model
