"""What an initializer is and computes, independent of any framework: argument checks, fans and gains
(validate), the counter-based stream (stream), the NumPy reference (numpy_backend), the public functions
and backend choice (api, backend) and the framework names (registry).
May import: numpy and the standard library; `pyjinit.support`; `pyjinit.julia` (inside functions, to compute in Julia).
"""
from .api import (TooLarge, constant_init, he_init, identity_init, last_seed, lecun_init, normal_init, ones_init,
                  orthogonal_init, pretrained_init, sparse_init, truncated_normal_init, uniform_init,
                  variance_scaling_init, xavier_init, zeros_init)
from .backend import backend_info, choose_backend
from .registry import init, init_block, initializers
from .plan import layer_init
from .keys import derive as derive_key, name_key, param_key
from .validate import calculate_gain, fans

__all__ = ["TooLarge", "backend_info", "calculate_gain", "choose_backend", "constant_init", "fans", "he_init", "identity_init",
           "init", "init_block", "initializers", "last_seed", "layer_init", "lecun_init", "normal_init", "ones_init", "orthogonal_init",
           "param_key", "name_key", "derive_key", "pretrained_init", "sparse_init", "truncated_normal_init", "uniform_init",
           "variance_scaling_init", "xavier_init", "zeros_init"]
