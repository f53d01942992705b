"""Training an MLP on MNIST (or any data) with a chosen initializer: NumPy here, Flux in Julia.

Both backends build the same network from the same stream: the weight of layer l (1-based) is drawn
with seed ``substream(seed, l)``, biases are zero, and epoch e visits the training set in the order
``batch_order(seed, e, n)`` (argsort of the words of ``substream(seed, 2^32 + e)``). docs/stream.md §6.
"""
from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from . import _stream
from ._registry import init as init_by_name
from ._validate import check_choice, check_int, check_real, check_seed, fmt

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "gelu")
OPTIMIZERS = ("adam", "sgd")
SHUFFLE_STREAM = 1 << 32
# Plain "uniform"/"normal" in training mean the classic small inits, not U[0, 1) / N(0, 1):
TRAIN_DEFAULTS = {"uniform": {"low": -0.05, "high": 0.05}, "normal": {"std": 0.01}}


def layer_seed(seed: int, layer: int) -> int:
    """Seed of layer `layer`'s (1-based) weight."""
    return _stream.substream(seed, layer)


def batch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order (0-based indices) in which epoch `epoch` (1-based) visits n training examples."""
    return np.argsort(_stream.words(_stream.substream(seed, SHUFFLE_STREAM + epoch), n), kind="stable")


# --- configuration and result ------------------------------------------------------------------------

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

    def validate(self) -> "TrainConfig":
        self.hidden = tuple(check_int("hidden size", h, 1) for h in self.hidden)
        self.activation = check_choice("activation", self.activation, ACTIVATIONS)
        self.optimizer = check_choice("optimizer", self.optimizer, OPTIMIZERS)
        self.lr = check_real("lr", self.lr, "a finite number > 0", lambda v: v > 0)
        self.momentum = check_real("momentum", self.momentum, "a number in [0, 1)", lambda v: 0 <= v < 1)
        self.batch_size = check_int("batch_size", self.batch_size, 1)
        self.epochs = check_int("epochs", self.epochs, 0)
        self.seed = check_seed(self.seed)
        return self

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
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

    @property
    def final_accuracy(self) -> float:
        return self.history[-1]["test_accuracy"] if self.history else float("nan")

    def epochs_to(self, accuracy: float):
        """First epoch whose test accuracy reaches `accuracy`, or None."""
        return next((h["epoch"] for h in self.history if h["test_accuracy"] >= accuracy), None)

    def to_dict(self) -> dict:
        return {"config": self.config, "backend": self.backend, "history": self.history,
                "diverged": self.diverged, "n_train": self.n_train, "n_test": self.n_test,
                "final_accuracy": self.final_accuracy}

    def to_json(self, path=None, indent=2) -> str:
        s = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            with open(path, "w") as f:
                f.write(s)
        return s

    @classmethod
    def from_dict(cls, d: dict) -> "TrainResult":
        return cls(config=d["config"], backend=d["backend"], history=d["history"], diverged=d.get("diverged"),
                   n_train=d.get("n_train", 0), n_test=d.get("n_test", 0))

    def plot(self, path=None, ax=None):
        """Test accuracy and train loss per epoch (matplotlib); saved to `path` (PNG/SVG) if given."""
        from .comparison import _plt

        plt = _plt()
        if ax is None:
            fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
        else:
            fig = ax[0].figure
        ep = [h["epoch"] for h in self.history]
        ax[0].plot(ep, [100 * h["test_accuracy"] for h in self.history], marker="o")
        ax[0].set(xlabel="epoch", ylabel="test accuracy (%)")
        ax[1].plot(ep, [h["train_loss"] for h in self.history], marker="o", label="train")
        ax[1].plot(ep, [h["test_loss"] for h in self.history], marker="s", label="test")
        ax[1].set(xlabel="epoch", ylabel="cross-entropy", yscale="log")
        ax[1].legend()
        fig.suptitle(f"init={self.config.get('init')}  ({self.backend})")
        fig.tight_layout()
        if path is not None:
            fig.savefig(path)
        return fig


# --- the network (NumPy) ----------------------------------------------------------------------------------

def _act(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "leaky_relu":
        return np.where(z > 0, z, np.float32(0.01) * z)
    c = np.float32(math.sqrt(2 / math.pi))              # gelu, tanh approximation (as NNlib's gelu)
    return 0.5 * z * (1 + np.tanh(c * (z + np.float32(0.044715) * z ** 3)))


def _act_grad(name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "tanh":
        return 1 - a * a
    if name == "sigmoid":
        return a * (1 - a)
    if name == "leaky_relu":
        return np.where(z > 0, np.float32(1), np.float32(0.01))
    c = np.float32(math.sqrt(2 / math.pi))
    u = c * (z + np.float32(0.044715) * z ** 3)
    t = np.tanh(u)
    return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * c * (1 + np.float32(3 * 0.044715) * z * z)


def logitcrossentropy(logits: np.ndarray, y: np.ndarray) -> tuple:
    """Mean cross-entropy of softmax(logits) against integer labels, and d loss / d logits."""
    m = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - m)
    s = e.sum(axis=1, keepdims=True)
    logp = logits - m - np.log(s)
    n = len(y)
    loss = -float(logp[np.arange(n), y].mean())
    g = e / s
    g[np.arange(n), y] -= 1
    g /= n
    return loss, g


class MLP:
    """Dense layers (out, in) with an activation between them; weights as given, zero biases."""

    def __init__(self, weights: list, activation: str):
        self.W = [np.ascontiguousarray(w, dtype=np.float32) for w in weights]
        self.b = [np.zeros(w.shape[0], np.float32) for w in weights]
        self.activation = activation

    def forward(self, x: np.ndarray, keep: bool = False):
        zs, acts = [], [x]
        a = x
        for i, (w, b) in enumerate(zip(self.W, self.b)):
            z = a @ w.T
            z += b
            if i < len(self.W) - 1:
                a = _act(self.activation, z)
            else:
                a = z
            if keep:
                zs.append(z)
                acts.append(a)
        return (a, zs, acts) if keep else a

    def gradients(self, x: np.ndarray, y: np.ndarray) -> tuple:
        logits, zs, acts = self.forward(x, keep=True)
        loss, d = logitcrossentropy(logits, y)
        gw, gb = [None] * len(self.W), [None] * len(self.W)
        for i in range(len(self.W) - 1, -1, -1):
            gw[i] = d.T @ acts[i]
            gb[i] = d.sum(axis=0)
            if i > 0:
                d = (d @ self.W[i]) * _act_grad(self.activation, zs[i - 1], acts[i])
        return loss, gw, gb

    def evaluate(self, x: np.ndarray, y: np.ndarray, chunk: int = 10000) -> tuple:
        total, correct = 0.0, 0
        for s in range(0, len(x), chunk):
            logits = self.forward(x[s:s + chunk])
            loss, _ = logitcrossentropy(logits, y[s:s + chunk])
            total += loss * len(logits)
            correct += int((logits.argmax(axis=1) == y[s:s + chunk]).sum())
        n = max(len(x), 1)
        return total / n, correct / n


class _Optimizer:
    """Adam (beta1 0.9, beta2 0.999, eps 1e-8, bias-corrected, as Flux/Optimisers and PyTorch) or SGD
    with momentum (v = momentum v + lr g; p -= v, as Optimisers.Momentum; momentum 0 is plain SGD)."""

    def __init__(self, kind, params, lr, momentum):
        self.kind, self.lr, self.mu, self.t = kind, np.float32(lr), np.float32(momentum), 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params] if kind == "adam" else None

    def step(self, params, grads):
        self.t += 1
        if self.kind == "sgd":
            for p, g, m in zip(params, grads, self.m):
                m *= self.mu
                m += self.lr * g
                p -= m
            return
        b1, b2, eps = np.float32(0.9), np.float32(0.999), np.float32(1e-8)
        c1 = np.float32(1 - 0.9 ** self.t)
        c2 = np.float32(1 - 0.999 ** self.t)
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + eps)


# --- initial weights ---------------------------------------------------------------------------------------

def initial_weights(sizes: list, init, init_kwargs, seed: int, backend=None) -> list:
    """Layer l's (1-based) weight (out, in), float32, from `init` with seed substream(seed, l).
    `init`: a registry name for every layer, or a list with one name or array (pretrained) per layer."""
    n = len(sizes) - 1
    inits = list(init) if isinstance(init, (list, tuple)) else [init] * n
    if len(inits) != n:
        raise ValueError(f"init must be one name, or a list of {n} (one per layer), got {len(inits)}")
    kws = list(init_kwargs) if isinstance(init_kwargs, (list, tuple)) else [init_kwargs] * n
    if len(kws) != n:
        raise ValueError(f"init_kwargs must be one dict, or a list of {n} (one per layer), got {len(kws)}")
    out = []
    for l, (spec, kw) in enumerate(zip(inits, kws), start=1):
        shape = (sizes[l], sizes[l - 1])
        if isinstance(spec, str):
            kw = dict(TRAIN_DEFAULTS.get(spec, {}) if kw is None else kw)
            if "sparse" in spec and "sparsity" not in kw and "nonzeros" not in kw:
                kw["sparsity"] = 0.5
            out.append(init_by_name(spec, shape, seed=layer_seed(seed, l), backend=backend, **kw))
        else:
            from ._inits import pretrained_init

            out.append(pretrained_init(np.asarray(spec, dtype=np.float32), shape))
    return out


# --- training ------------------------------------------------------------------------------------------

def _check_data(x, y, what):
    x = np.ascontiguousarray(x, dtype=np.float32)
    y = np.asarray(y)
    if x.ndim != 2:
        raise ValueError(f"x_{what} must be 2-dimensional (n, features), got shape {fmt(x.shape)}")
    if y.shape != (len(x),):
        raise ValueError(f"y_{what} must have shape ({len(x)},) to match x_{what}, got {fmt(y.shape)}")
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 9):
        raise ValueError(f"y_{what} must be integer labels 0-9")
    return x, y.astype(np.int64)


def _say(verbose, msg):
    if verbose:
        print(msg, file=sys.stderr, flush=True)


def train(x_train, y_train, x_test, y_test, *, hidden=(128, 64), activation="relu", optimizer="adam", lr=1e-3,
          momentum=0.9, batch_size=128, epochs=10, seed=0, init="he", init_kwargs=None, backend=None,
          verbose=None) -> TrainResult:
    """Train an MLP ``features -> hidden... -> 10`` with cross-entropy on (x_train, y_train) and evaluate
    on (x_test, y_test) after every epoch.

    ``init``: an initializer name (``pyjinit.initializers()``; plain "uniform" means U(-0.05, 0.05) and
    "normal" N(0, 0.01^2) here unless ``init_kwargs`` say otherwise), or one name or array per layer.
    ``optimizer``: "adam" (default lr 1e-3) or "sgd" (with ``momentum``, 0 for plain SGD).
    ``backend``: "numpy", "julia" (Flux, through juliacall) or None (Julia with Flux if it starts, else NumPy).
    ``verbose``: None prints one line per epoch when stderr is a terminal. A loss that becomes NaN/Inf
    stops the run; ``result.diverged`` then says at which epoch and step.

    >>> r = train(x, y, xt, yt, hidden=(32,), epochs=2, seed=0)          # doctest: +SKIP
    >>> r.final_accuracy, r.history[0]["train_loss"]                      # doctest: +SKIP
    """
    cfg = TrainConfig(tuple(hidden), activation, optimizer, lr, momentum, batch_size, epochs, seed, init,
                      init_kwargs).validate()
    x_train, y_train = _check_data(x_train, y_train, "train")
    x_test, y_test = _check_data(x_test, y_test, "test")
    if x_test.shape[1] != x_train.shape[1]:
        raise ValueError(f"x_test has {x_test.shape[1]} features, x_train {x_train.shape[1]}")
    verbose = sys.stderr.isatty() if verbose is None else bool(verbose)
    sizes = [x_train.shape[1], *cfg.hidden, 10]
    from ._api import choose_backend

    which = choose_backend(backend)
    weights = initial_weights(sizes, cfg.init, cfg.init_kwargs, cfg.seed, backend=which)
    if which == "julia":
        from . import _julia

        try:
            return _julia.train_flux(cfg, weights, x_train, y_train, x_test, y_test, verbose)
        except RuntimeError as e:
            if backend == "julia" or "Flux cannot be loaded" not in str(e):
                raise
            import warnings

            warnings.warn(f"pyjinit: training with NumPy: {e}", RuntimeWarning, stacklevel=2)
    return _train_numpy(cfg, weights, x_train, y_train, x_test, y_test, verbose)


def _train_numpy(cfg, weights, x_train, y_train, x_test, y_test, verbose) -> TrainResult:
    net = MLP(weights, cfg.activation)
    params = net.W + net.b
    opt = _Optimizer(cfg.optimizer, params, cfg.lr, cfg.momentum)
    res = TrainResult(cfg.to_dict(), "numpy", n_train=len(x_train), n_test=len(x_test))
    n = len(x_train)
    for epoch in range(1, cfg.epochs + 1):
        t0 = time.perf_counter()
        order = batch_order(cfg.seed, epoch, n)
        total, steps = 0.0, 0
        for step, s in enumerate(range(0, n, cfg.batch_size), start=1):
            idx = order[s:s + cfg.batch_size]
            with np.errstate(over="ignore", invalid="ignore"):      # a non-finite loss is handled below
                loss, gw, gb = net.gradients(x_train[idx], y_train[idx])
            if not math.isfinite(loss):
                res.diverged = {"epoch": epoch, "step": step, "loss": str(loss)}
                _say(verbose, f"epoch {epoch}: loss became {loss} at step {step}; stopped (diverged)")
                return res
            opt.step(params, gw + gb)
            total += loss
            steps += 1
        seconds = time.perf_counter() - t0
        test_loss, acc = net.evaluate(x_test, y_test)
        res.history.append({"epoch": epoch, "train_loss": total / max(steps, 1), "test_loss": test_loss,
                            "test_accuracy": acc, "seconds": seconds})
        _say(verbose, f"epoch {epoch:>3}/{cfg.epochs}  train loss {total / max(steps, 1):.4f}  "
                      f"test loss {test_loss:.4f}  test acc {100 * acc:6.2f}%  ({seconds:.2f} s)")
    return res


def train_mnist(init="he", epochs=10, *, data_dir=None, **kwargs) -> TrainResult:
    """``train`` on MNIST (``pyjinit.datasets.load_mnist(data_dir)``); the default network is the Julia
    write-up's: 784 -> 128 relu -> 64 relu -> 10, Adam(1e-3), batch 128, 10 epochs, He init.

    >>> r = train_mnist(init="he")           # doctest: +SKIP
    >>> round(100 * r.final_accuracy, 1)     # doctest: +SKIP
    97.6
    """
    from .datasets import load_mnist

    x, y, xt, yt = load_mnist(data_dir)
    return train(x, y, xt, yt, init=init, epochs=epochs, **kwargs)
