"""`pyjinit.torch`: pyjinit's weights in PyTorch tensors and models (pyjinit/frameworks/torch.py)."""
from .frameworks.torch import initialize, initialize_weights, init_, layers  # noqa: F401

__all__ = ["init_", "initialize", "initialize_weights", "layers"]
