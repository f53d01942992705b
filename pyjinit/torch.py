"""`pyjinit.torch`: pyjinit's weights in PyTorch tensors and models (pyjinit/frameworks/torch.py)."""
from .frameworks.torch import init_, init_shard_, initialize, initialize_weights, layers, lsuv_  # noqa: F401

__all__ = ["init_", "init_shard_", "initialize", "initialize_weights", "layers", "lsuv_"]
