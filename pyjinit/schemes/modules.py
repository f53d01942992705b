"""Reference residual modules for the structural schemes (PyTorch; torch is imported here only).

Fixup, ReZero/SkipInit and DeepNorm change the model, not only its initial values: Fixup adds scalar biases
and a scalar multiplier to every branch, ReZero/SkipInit a zero-initialized scalar gate, DeepNorm a constant α
on the residual. A model used with those schemes must have these parts; these modules have them, and
``pyjinit.schemes.roles`` recognizes them (``ResidualBlock``, ``ReZero``).

- ``ResidualBlock(width, variant=..., kind="mlp"|"conv")``, one residual branch of two weight layers (m = 2):
  ``"plain"``: x + W2 relu(W1 x + b1) + b2; ``"fixup"`` (Zhang et al. 2019, Fig. 1): x + scale · W2 relu(W1 (x +
  bias1a) + bias1b) + bias2a) + bias2b, bias-free layers; ``"rezero"`` (Bachlechner et al. 2020; SkipInit, De &
  Smith 2020): x + gate · W2 relu(W1 x + b1) + b2, gate a scalar parameter; ``"deepnorm"`` (Wang et al. 2022):
  LayerNorm(α x + W2 relu(W1 x + b1) + b2), α a constant attribute (``deepnorm_constants`` gives it).
- ``ResidualNet(in_features, width, depth, classes, variant=..., kind=...)``: ``stem`` (Linear or 3x3 Conv, then
  ReLU), ``blocks`` (a ModuleList of ``depth`` ResidualBlocks), ``head`` (the readout; after global average
  pooling for conv). No normalization except in ``"deepnorm"``.
- ``ReZero(branch)``: wraps any branch module as x + gate · branch(x), gate a scalar parameter (0 after
  ``apply_scheme(..., "rezero")``), for models that have no gate of their own.

>>> import torch
>>> from pyjinit.schemes.modules import ResidualNet
>>> net = ResidualNet(784, 64, 50, 10, variant="fixup")
>>> net(torch.zeros(2, 784)).shape
torch.Size([2, 10])
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..inits.validate import check_choice, check_int

VARIANTS = ("plain", "fixup", "rezero", "deepnorm")
KINDS = ("mlp", "conv")


def _layer(kind, width, bias):
    return nn.Linear(width, width, bias=bias) if kind == "mlp" else nn.Conv2d(width, width, 3, padding=1, bias=bias)


class ResidualBlock(nn.Module):
    """One residual block (see the module docstring)."""

    def __init__(self, width: int, variant: str = "plain", kind: str = "mlp", alpha: float = 1.0):
        super().__init__()
        self.variant = check_choice("variant", variant, VARIANTS)
        self.kind = check_choice("kind", kind, KINDS)
        width = check_int("width", width, 1)
        fixup = variant == "fixup"
        if kind == "mlp":
            self.fc1, self.fc2 = _layer(kind, width, not fixup), _layer(kind, width, not fixup)
        else:
            self.conv1, self.conv2 = _layer(kind, width, not fixup), _layer(kind, width, not fixup)
        if fixup:
            for n in ("bias1a", "bias1b", "bias2a", "bias2b"):
                setattr(self, n, nn.Parameter(torch.zeros(1)))
            self.scale = nn.Parameter(torch.ones(1))
        if variant == "rezero":
            self.gate = nn.Parameter(torch.zeros(1))
        if variant == "deepnorm":
            self.norm = nn.LayerNorm(width) if kind == "mlp" else nn.GroupNorm(1, width)
        self.alpha = float(alpha)

    def branch(self, x):
        l1, l2 = (self.fc1, self.fc2) if self.kind == "mlp" else (self.conv1, self.conv2)
        if self.variant == "fixup":
            h = F.relu(l1(x + self.bias1a) + self.bias1b)
            return l2(h + self.bias2a) * self.scale + self.bias2b
        return l2(F.relu(l1(x)))

    def forward(self, x):
        if self.variant == "rezero":
            return x + self.gate * self.branch(x)
        if self.variant == "deepnorm":
            return self.norm(self.alpha * x + self.branch(x))
        return x + self.branch(x)


class ResidualNet(nn.Module):
    """stem -> `depth` ResidualBlocks -> head (see the module docstring). Conv: input (N, C, H, W)."""

    def __init__(self, in_features: int, width: int, depth: int, classes: int, variant: str = "plain",
                 kind: str = "mlp", alpha: float = 1.0):
        super().__init__()
        check_int("depth", depth, 1)
        self.kind = check_choice("kind", kind, KINDS)
        self.stem = nn.Linear(in_features, width) if kind == "mlp" else nn.Conv2d(in_features, width, 3, padding=1)
        self.blocks = nn.ModuleList(ResidualBlock(width, variant, kind, alpha) for _ in range(depth))
        self.head = nn.Linear(width, classes)

    def features(self, x):
        h = F.relu(self.stem(x))
        for b in self.blocks:
            h = b(h)
        return h

    def forward(self, x):
        h = self.features(x)
        if self.kind == "conv":
            h = h.mean(dim=(2, 3))
        return self.head(h)


class ReZero(nn.Module):
    """x + gate · branch(x), gate a scalar parameter (ReZero / SkipInit; 0 after the "rezero" scheme)."""

    def __init__(self, branch: nn.Module):
        super().__init__()
        self.gate = nn.Parameter(torch.zeros(1))
        self.branch = branch

    def forward(self, x):
        return x + self.gate * self.branch(x)
