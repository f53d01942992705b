"""`pyjinit.torch`: pyjinit's weights in PyTorch tensors and models (pyjinit/frameworks/torch.py)."""
from .frameworks.torch import (diagnose_model, init_, init_shard_, initialize, initialize_weights, layers,  # noqa: F401
                               lsuv_)

__all__ = ["diagnose_model", "init_", "init_shard_", "initialize", "initialize_weights", "layers", "lsuv_"]
