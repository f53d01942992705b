"""Experiments on real data: MNIST (datasets), the NumPy networks (networks), the trainer (trainer),
its configuration and results (results), comparisons over initializers and seeds (comparison), signal-propagation diagnostics
(diagnostics), LSUV (lsuv), and figures (plots, the only module that imports matplotlib).
May import: `pyjinit.inits`, `pyjinit.julia` (Flux training), `pyjinit.frameworks`.
"""
from . import comparison, datasets
from .comparison import DEEP, Comparison, compare
from .diagnostics import Diagnosis, diagnose
from .results import TrainConfig, TrainResult
from .trainer import batch_order, initial_weights, train, train_mnist

__all__ = ["DEEP", "Comparison", "Diagnosis", "diagnose", "TrainConfig", "TrainResult", "batch_order", "comparison", "compare", "datasets",
           "initial_weights", "train", "train_mnist"]
