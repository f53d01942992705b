"""`pyjinit.torch`: pyjinit's weights in PyTorch tensors and models (pyjinit/frameworks/torch.py)."""
from .frameworks.torch import (describe, diagnose_model, init_, init_shard_, initialize, initialize_weights,  # noqa: F401
                               layers, lsuv_, model_preset)

__all__ = ["describe", "diagnose_model", "init_", "init_shard_", "initialize", "initialize_weights", "layers", "lsuv_",
           "model_preset"]
from .schemes.residual import apply_scheme  # noqa: E402,F401  (issue 23: residual schemes; schemes/residual.py)

__all__ += ["apply_scheme"]
