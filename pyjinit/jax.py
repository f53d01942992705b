"""`pyjinit.jax`: pyjinit's weights in JAX and Flax (pyjinit/frameworks/jax.py)."""
from .frameworks.jax import initialize, initializer, key_seed  # noqa: F401

__all__ = ["initialize", "initializer", "key_seed"]
