"""pyjinit: neural-network weight initializers computed in Julia (JInit), handed back as NumPy arrays.

The same seed gives the same weights in Julia and in Python, element for element (docs/stream.md).
Importing pyjinit never starts Julia; the first initializer call does (or falls back to NumPy).

>>> from pyjinit import xavier_init
>>> xavier_init((3, 4), seed=0, backend="numpy").shape
(3, 4)

The package, by concern (imports point down this list; tests/test_layout.py checks it):
``cli`` (the command line) > ``training`` (experiments) > ``frameworks`` (models of other frameworks)
> ``inits`` (what an initializer computes) > ``julia`` (where Julia runs).
"""
from __future__ import annotations

from .inits import (backend_info, calculate_gain, constant_init, fans, he_init, identity_init, init, init_block,
                           initializers, last_seed, layer_init, lecun_init, normal_init, ones_init, orthogonal_init,
                           pretrained_init, sparse_init, param_key, name_key, derive_key, truncated_normal_init, uniform_init,
                           variance_scaling_init, xavier_init, zeros_init)
from .julia.bridge import start_julia
from .training import Comparison, TrainResult, comparison, compare, datasets, diagnose, train, train_mnist

__version__ = "0.1.0"

__all__ = ["Comparison", "TrainResult", "backend_info", "calculate_gain", "comparison", "compare", "constant_init",
           "datasets", "diagnose", "fans", "he_init", "identity_init", "init", "init_block", "initializers", "last_seed", "layer_init", "lecun_init",
           "normal_init", "ones_init", "orthogonal_init", "pretrained_init", "sparse_init", "start_julia", "param_key", "name_key", "derive_key", "train",
           "train_mnist", "truncated_normal_init", "uniform_init", "variance_scaling_init", "xavier_init",
           "zeros_init"]
