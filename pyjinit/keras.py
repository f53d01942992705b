"""`pyjinit.keras`: pyjinit's weights in Keras 3 models (pyjinit/frameworks/keras.py)."""
from .frameworks.keras import Initializer, initialize  # noqa: F401

__all__ = ["Initializer", "initialize"]
