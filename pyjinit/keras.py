"""`pyjinit.keras`: pyjinit's weights in Keras 3 models (pyjinit/frameworks/keras.py).

Keras's initializer classes under Keras's names (each a subclass of the ``keras.initializers`` class of its
name, with pyjinit's values), the generic ``Initializer`` for any pyjinit name, and ``initialize`` for a
whole model.
"""
from .frameworks.keras import (  # noqa: F401
    STFT, Constant, GlorotNormal, GlorotUniform, HeNormal, HeUniform, Identity, Initializer, LecunNormal,
    LecunUniform, Ones, Orthogonal, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling, Zeros,
    compute_fans, initialize)

__all__ = ["Initializer", "initialize", "compute_fans", "VarianceScaling", "GlorotUniform", "GlorotNormal",
           "HeUniform", "HeNormal", "LecunUniform", "LecunNormal", "RandomNormal", "RandomUniform",
           "TruncatedNormal", "Orthogonal", "Identity", "Constant", "Zeros", "Ones", "STFT"]
