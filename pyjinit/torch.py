"""`pyjinit.torch`: pyjinit's weights in PyTorch tensors and models (pyjinit/frameworks/torch.py)."""
from .frameworks.torch import (describe, diagnose_model, init_, init_shard_, initialize, initialize_weights,  # noqa: F401
                               layers, lsuv_, model_preset)

__all__ = ["describe", "diagnose_model", "init_", "init_shard_", "initialize", "initialize_weights", "layers", "lsuv_",
           "model_preset"]
from .schemes.residual import apply_scheme  # noqa: E402,F401  (issue 23: residual schemes; schemes/residual.py)

__all__ += ["apply_scheme"]
# issue 23: μP, delta-orthogonal, ZerO and mimetic attention (schemes/mup.py, conv.py, zero.py, mimetic.py)
from .schemes.conv import delta_orthogonal_  # noqa: E402,F401
from .schemes.mimetic import mimetic_  # noqa: E402,F401
from .schemes.mup import mup_init_, mup_param_groups  # noqa: E402,F401
from .schemes.zero import zero_  # noqa: E402,F401

__all__ += ["delta_orthogonal_", "mimetic_", "mup_init_", "mup_param_groups", "zero_"]
