"""What a training run is configured with and what it returns: plain data, JSON in and out."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..support.files import dumps, write_text
from ..inits.validate import check_choice, check_int, check_real, check_seed

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "gelu")
OPTIMIZERS = ("adam", "sgd")
DIVERGED = "non-finite"        # the loss recorded in TrainResult.diverged, by every backend


@dataclass
class TrainConfig:
    hidden: tuple = (128, 64)
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    batch_size: int = 128
    epochs: int = 10
    seed: int = 0
    init: object = "he"                  # a name, or one name / array per layer
    init_kwargs: object = None           # a dict, or one dict per layer
    conv: tuple = ()                     # conv channels (each 3x3, activation; 2x2 max-pool) before the dense layers
    pool_every: int = 1                  # 2x2 max-pooling after every pool_every-th conv layer
    classes: int = 10                    # outputs (labels 0 .. classes-1)

    def validate(self) -> "TrainConfig":
        self.hidden = tuple(check_int("hidden size", h, 1) for h in self.hidden)
        self.conv = tuple(check_int("conv channels", c, 1) for c in self.conv)
        self.classes = check_int("classes", self.classes, 2)
        self.pool_every = check_int("pool_every", self.pool_every, 1)
        self.activation = check_choice("activation", self.activation, ACTIVATIONS)
        self.optimizer = check_choice("optimizer", self.optimizer, OPTIMIZERS)
        self.lr = check_real("lr", self.lr, "a finite number > 0", lambda v: v > 0)
        self.momentum = check_real("momentum", self.momentum, "a number in [0, 1)", lambda v: 0 <= v < 1)
        self.batch_size = check_int("batch_size", self.batch_size, 1)
        self.epochs = check_int("epochs", self.epochs, 1)
        self.seed = check_seed(self.seed)
        return self

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        d["conv"] = list(self.conv)
        if isinstance(d["init"], (list, tuple)):
            d["init"] = [x if isinstance(x, str) else f"<array {tuple(np.shape(x))}>" for x in d["init"]]
        return d


@dataclass
class TrainResult:
    """Per-epoch history (train_loss, test_loss, test_accuracy, seconds), the config, the backend, and
    where training diverged (None if it did not)."""
    config: dict
    backend: str
    history: list = field(default_factory=list)
    diverged: dict | None = None
    n_train: int = 0
    n_test: int = 0
    blas_threads: list | None = None     # NumPy: per epoch, the BLAS threads most of its steps ran on

    @property
    def final_accuracy(self) -> float:
        return self.history[-1]["test_accuracy"] if self.history else float("nan")

    def epochs_to(self, accuracy: float):
        """First epoch whose test accuracy reaches `accuracy`, or None."""
        return next((h["epoch"] for h in self.history if h["test_accuracy"] >= accuracy), None)

    def to_dict(self) -> dict:
        return {"config": self.config, "backend": self.backend, "history": self.history,
                "diverged": self.diverged, "n_train": self.n_train, "n_test": self.n_test,
                "final_accuracy": self.final_accuracy, "blas_threads": self.blas_threads}

    def to_json(self, path=None, indent=2) -> str:
        """Strict JSON (a missing or non-finite number is null); written atomically to `path` if given."""
        s = dumps(self.to_dict(), indent=indent)
        if path is not None:
            write_text(path, s)
        return s

    @classmethod
    def from_dict(cls, d: dict) -> "TrainResult":
        return cls(config=d["config"], backend=d["backend"], history=d["history"], diverged=d.get("diverged"),
                   n_train=d.get("n_train", 0), n_test=d.get("n_test", 0), blas_threads=d.get("blas_threads"))

    def plot(self, path=None, ax=None):
        """Test accuracy and train loss per epoch (matplotlib); saved to `path` (PNG/SVG) if given."""
        from .plots import plot_run

        return plot_run(self, path, ax)
