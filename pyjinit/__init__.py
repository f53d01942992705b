"""pyjinit: neural-network weight initializers computed in Julia (JInit), handed back as NumPy arrays.

The same seed gives the same weights in Julia and in Python, element for element (docs/stream.md).
Importing pyjinit never starts Julia; the first initializer call does (or falls back to NumPy).

>>> from pyjinit import xavier_init
>>> xavier_init((3, 4), seed=0, backend="numpy").shape
(3, 4)
"""
from __future__ import annotations

from . import datasets
from ._info import backend_info
from ._inits import (constant_init, he_init, identity_init, layer_init, lecun_init, normal_init, ones_init,
                     orthogonal_init, pretrained_init, sparse_init, truncated_normal_init, uniform_init,
                     variance_scaling_init, xavier_init, zeros_init)
from ._registry import init, initializers
from ._stream import substream
from ._validate import calculate_gain, fans
from .comparison import Comparison, compare
from .training import TrainResult, train, train_mnist

__version__ = "0.1.0"

__all__ = ["Comparison", "TrainResult", "compare", "datasets", "train", "train_mnist", "backend_info", "calculate_gain", "constant_init", "fans", "he_init", "identity_init", "init",
           "initializers", "layer_init", "lecun_init", "normal_init", "ones_init", "orthogonal_init",
           "pretrained_init", "sparse_init", "substream", "truncated_normal_init", "uniform_init",
           "variance_scaling_init", "xavier_init", "zeros_init"]
