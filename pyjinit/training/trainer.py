"""Training an MLP on MNIST (or any data) with a chosen initializer: NumPy here, Flux in Julia.

Both backends build the same network from the same stream: the weight of layer l (1-based) is drawn
with the key ``param_key(seed, l, 0)``, biases are zero, and epoch e visits the training set in the order
``batch_order(seed, e, n)`` (stable argsort of the words of ``epoch_key(seed, e)``). docs/stream.md §6.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..inits import stream as _stream
from ..inits.keys import epoch_key
from ..inits.plan import Param, key_of
from ..inits.registry import init as init_by_name
from ..inits.validate import check_int, fmt
from .blas import BlasThreads, check_blas_threads
from .networks import CNN, MLP, _Optimizer, conv_shapes, image_shape
from ..support import progress
from .results import DIVERGED, TrainConfig, TrainResult
# Plain "uniform"/"normal" in training mean the classic small inits, not U[0, 1) / N(0, 1):
TRAIN_DEFAULTS = {"uniform": {"low": -0.05, "high": 0.05}, "normal": {"std": 0.01}}


def batch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order (0-based indices) in which epoch `epoch` (1-based) visits n training examples: the stable
    argsort of the first n words of the key ``epoch_key(seed, epoch)`` (epoch 0: the LSUV batch)."""
    return np.argsort(_stream.words(epoch_key(seed, epoch), n), kind="stable")


# --- initial weights ---------------------------------------------------------------------------------------

def initial_weights(sizes: list, init, init_kwargs, seed: int, backend=None, data=None, activation="relu",
                    shapes=None, pool_every: int = 1) -> list:
    """Layer l's (1-based) weight (out, in), float32, from `init` with the key param_key(seed, l, 0).
    `init`: a registry name for every layer, "lsuv", or a list with one name or array (pretrained) per layer.
    "lsuv" (training/lsuv.py): orthogonal weights from the same streams, then LSUV on the first LSUV_BATCH
    training examples in the order batch_order(seed, 0, n) (init_kwargs: tol, max_iter); needs `data`.
    `shapes` (default: dense (sizes[l], sizes[l-1])) may hold conv shapes (out, in, k, k): the CNN of
    networks.conv_shapes with `pool_every`, whose input rows are square single-channel images."""
    if shapes is None:
        shapes = [(sizes[l], sizes[l - 1]) for l in range(1, len(sizes))]
    if isinstance(init, str) and init == "lsuv":
        return _lsuv_weights(shapes, init_kwargs, seed, backend, data, activation, pool_every)
    out = []
    for l, (shape, spec, kw) in enumerate(_layer_specs(shapes, init, init_kwargs), start=1):
        if isinstance(spec, str):
            out.append(init_by_name(spec, shape, seed=layer_key(seed, l, shape), backend=backend, **kw))
        else:
            from ..inits.api import pretrained_init

            out.append(pretrained_init(np.asarray(spec, dtype=np.float32), shape))
    return out


def layer_key(seed: int, l: int, shape: tuple) -> int:
    """The key of layer l's (1-based) weight: the planner's key of that parameter (plan.key_of, by position),
    param_key(seed, l, 0), as pyjinit.torch/keras/jax.initialize give the same network's weights."""
    return key_of(seed, Param(f"{l - 1}.weight", l, 0, "weight", "dense" if len(shape) == 2 else "conv", shape))


def _layer_specs(shapes: list, init, init_kwargs) -> list:
    """[(shape, name or array, kwargs)] per layer: `init` and `init_kwargs` spread over the layers, with the
    trainer's meaning of plain "uniform"/"normal" (TRAIN_DEFAULTS). No other hidden default: a sparse init needs
    its sparsity as everywhere else (pyjinit.init, the command line)."""
    n = len(shapes)
    inits = list(init) if isinstance(init, (list, tuple)) else [init] * n
    if len(inits) != n:
        raise ValueError(f"init must be one name, or a list of {n} (one per layer), got {len(inits)}")
    kws = list(init_kwargs) if isinstance(init_kwargs, (list, tuple)) else [init_kwargs] * n
    if len(kws) != n:
        raise ValueError(f"init_kwargs must be one dict, or a list of {n} (one per layer), got {len(kws)}")
    out = []
    for shape, spec, kw in zip(shapes, inits, kws):
        if isinstance(spec, str):
            kw = dict(TRAIN_DEFAULTS.get(spec, {}) if kw is None else kw)
        out.append((shape, spec, kw))
    return out


def julia_draws(shapes: list, init, init_kwargs):
    """Per layer, the JInit function and keyword arguments that make its weight (Flux then makes the weights
    itself, each from its layer's key param_key(seed, l, 0): no arrays cross from Python), or None when a layer's
    init has no JInit function (lsuv, a pretrained array, a Python-only name)."""
    from ..inits.api import julia_name
    from ..inits.registry import COMMON, resolve

    if isinstance(init, str) and init in TRAIN_ONLY:
        return None
    out = []
    for shape, spec, kw in _layer_specs(shapes, init, init_kwargs):
        if not isinstance(spec, str):
            return None
        func, args = resolve(spec, shape, kw)
        name = julia_name(func)
        if name is None:
            return None
        out.append((name, {k: v for k, v in args.items() if k not in COMMON}))
    return out


TRAIN_ONLY = ("lsuv",)      # initializers that need the data: the trainer's, not pyjinit.init's


def check_init_name(name) -> str:
    """`name` if it is an initializer name or one of the trainer's data-driven ones ("lsuv")."""
    from ..inits.registry import check_name
    from ..support.messages import near

    if name in TRAIN_ONLY:
        return name
    guess = near(name, TRAIN_ONLY, n=1)
    if guess and isinstance(name, str):
        raise ValueError(f"name must be an initializer name; got {fmt(name)}. Did you mean {fmt(guess[0])}? "
                         "(the trainer's data-driven initializer)")
    return check_name(name)


def check_setup(features: int, *, init="he", init_kwargs=None, hidden=(128, 64), conv=(), pool_every=1,
                classes=10, **config) -> TrainConfig:
    """Every argument of a run checked before any data is loaded or any epoch runs: the configuration
    (TrainConfig.validate; `config`: activation, optimizer, lr, momentum, batch_size, epochs, seed) and the
    initializer with its keyword arguments, by drawing the initial weights of the network (NumPy, on `features`
    inputs; "lsuv": only its keyword names, its weights need the data). Returns the validated configuration;
    raises the ValueError/TypeError of the first bad argument.

    >>> check_setup(784, init="he", hidden=(8,)).hidden
    (8,)
    """
    config = {k: v for k, v in config.items() if k in TrainConfig.__dataclass_fields__}
    cfg = TrainConfig(hidden=tuple(hidden), conv=tuple(conv), pool_every=pool_every, classes=classes,
                      init=init, init_kwargs=init_kwargs, **config).validate()
    if isinstance(init, str):
        check_init_name(init)
    features = check_int("features", features, 1)
    sizes = [features, *cfg.hidden, cfg.classes]
    shapes = (conv_shapes(image_shape(features), cfg.conv, cfg.hidden, classes=cfg.classes, pool_every=cfg.pool_every)
              if cfg.conv else None)
    if isinstance(init, str) and init == "lsuv":
        unknown = set(init_kwargs or {}) - {"tol", "max_iter"}
        if unknown:
            raise TypeError(f"init='lsuv' takes tol and max_iter in init_kwargs; got {', '.join(sorted(unknown))}")
    else:
        initial_weights(sizes, init, init_kwargs, cfg.seed, backend="numpy", shapes=shapes,
                        pool_every=cfg.pool_every)
    return cfg


def _lsuv_weights(shapes, init_kwargs, seed, backend, data, activation, pool_every) -> list:
    from .lsuv import LSUV_BATCH, lsuv

    if data is None:
        raise ValueError("init='lsuv' needs data: it scales each layer on a batch of training examples")
    kw = dict(init_kwargs or {})
    unknown = set(kw) - {"tol", "max_iter"}
    if unknown:
        raise TypeError(f"init='lsuv' takes tol and max_iter in init_kwargs; got {', '.join(sorted(unknown))}")
    x = np.asarray(data[0], np.float32)
    batch = x[batch_order(seed, 0, len(x))[:LSUV_BATCH]]
    ws = initial_weights(None, "orthogonal", None, seed, backend=backend, shapes=shapes)
    return lsuv(ws, activation, batch, **kw, pool_every=pool_every)[0]


# --- training ------------------------------------------------------------------------------------------

def _check_data(x, y, what, classes=10):
    x = np.ascontiguousarray(x, dtype=np.float32)
    y = np.asarray(y)
    if x.ndim != 2:
        raise ValueError(f"x_{what} must be 2-dimensional (n, features), got shape {fmt(x.shape)}")
    if y.shape != (len(x),):
        raise ValueError(f"y_{what} must have shape ({len(x)},) to match x_{what}, got {fmt(y.shape)}")
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > classes - 1):
        raise ValueError(f"y_{what} must be integer labels 0-{classes - 1}")
    return x, y.astype(np.int64)


def train(x_train, y_train, x_test, y_test, *, hidden=(128, 64), activation="relu", optimizer="adam", lr=1e-3,
          momentum=0.9, batch_size=128, epochs=10, seed=0, init="he", init_kwargs=None, backend=None,
          verbose=None, conv=(), pool_every=1, classes=10, blas_threads="auto", _progress=None) -> TrainResult:
    """Train an MLP ``features -> hidden... -> classes`` (default 10) with cross-entropy on (x_train, y_train) and evaluate
    on (x_test, y_test) after every epoch.

    ``init``: an initializer name (``pyjinit.initializers()``; plain "uniform" means U(-0.05, 0.05) and
    "normal" N(0, 0.01^2) here unless ``init_kwargs`` say otherwise), or one name or array per layer.
    ``optimizer``: "adam" (default lr 1e-3) or "sgd" (with ``momentum``, 0 for plain SGD).
    ``backend``: "numpy", "julia" (Flux, through juliacall) or None (Julia with Flux if it starts, else NumPy).
    ``conv``: channel counts of convolutional layers before the dense ones (e.g. (16, 32): conv 3x3 16,
    activation, 2x2 max-pool, conv 3x3 32, activation, max-pool, then ``hidden`` dense layers and the output);
    the input rows must be square single-channel images (784 = 28²). ``pool_every``: max-pool after every
    n-th conv layer only (default 1; e.g. ``conv=(16,) * 8, pool_every=4`` is a deep plain CNN).
    ``blas_threads`` (NumPy backend): "auto" (default) runs on all cores and, from the third step and then every
    500 steps or more, times blocks of steps (at least 20 ms each) on 1 thread and on all cores and keeps the
    faster (``pyjinit/training/blas.py``): all cores on a quiet machine, 1 thread when other processes keep the
    cores busy (where OpenBLAS's threads stall each other). A product's rounding depends on
    its thread count, so pass a number for bitwise-reproducible runs under any load (``compare`` uses 1).
    ``result.blas_threads`` lists the count most steps of each epoch ran on.
    ``verbose``: True (or None, the default) shows a progress bar (tqdm: terminal, log or notebook) and one line
    per epoch on stderr; False shows nothing. A loss that becomes NaN/Inf stops the run;
    ``result.diverged`` then says at which epoch and step.

    >>> r = train(x, y, xt, yt, hidden=(32,), epochs=2, seed=0)          # doctest: +SKIP
    >>> r.final_accuracy, r.history[0]["train_loss"]                      # doctest: +SKIP
    """
    if init_kwargs is None and isinstance(init, str) and init in TRAIN_DEFAULTS:
        init_kwargs = dict(TRAIN_DEFAULTS[init])        # recorded as used (result.config), not left implicit
    cfg = TrainConfig(tuple(hidden), activation, optimizer, lr, momentum, batch_size, epochs, seed, init,
                      init_kwargs, tuple(conv), pool_every, classes).validate()
    blas_threads = check_blas_threads(blas_threads)
    x_train, y_train = _check_data(x_train, y_train, "train", cfg.classes)
    x_test, y_test = _check_data(x_test, y_test, "test", cfg.classes)
    if x_test.shape[1] != x_train.shape[1]:
        raise ValueError(f"x_test has {x_test.shape[1]} features, x_train {x_train.shape[1]}")
    verbose = True if verbose is None else bool(verbose)
    sizes = [x_train.shape[1], *cfg.hidden, cfg.classes]
    shapes = None
    if cfg.conv:
        shapes = conv_shapes(image_shape(x_train.shape[1]), cfg.conv, cfg.hidden, classes=cfg.classes, pool_every=cfg.pool_every)
    from ..inits.backend import choose_backend

    which = choose_backend(backend)
    dense = shapes or [(sizes[l], sizes[l - 1]) for l in range(1, len(sizes))]
    draws = julia_draws(dense, cfg.init, cfg.init_kwargs) if which == "julia" else None

    def weights_here():
        return initial_weights(sizes, cfg.init, cfg.init_kwargs, cfg.seed, backend=which, data=(x_train, y_train),
                               activation=cfg.activation, shapes=shapes, pool_every=cfg.pool_every)

    weights = None if draws is not None else weights_here()
    bar = _progress if _progress is not None else progress.bar(
        cfg.epochs, f"init={cfg.init if isinstance(cfg.init, str) else 'per layer'}", verbose, unit="epoch")
    lines = _progress is None
    try:
        if which == "julia":
            from ..julia import bridge

            try:
                return _train_flux(cfg, weights, draws, x_train, y_train, x_test, y_test, bar, lines)
            except bridge.FluxUnavailable as e:
                if backend == "julia":
                    raise
                from ..support.messages import warn

                warn(f"pyjinit: training with NumPy instead of Flux (same weights, same batches): {e}")
        weights = weights_here() if weights is None else weights
        return _train_numpy(cfg, weights, x_train, y_train, x_test, y_test, bar, lines, blas_threads)
    finally:
        if _progress is None:
            bar.close()


def _epoch_line(bar, cfg, row) -> None:
    epoch, train_loss, test_loss, acc, seconds = row
    bar.write(f"epoch {int(epoch):>3}/{cfg.epochs}  train loss {train_loss:.4f}  test loss {test_loss:.4f}  "
              f"test acc {100 * acc:6.2f}%  ({seconds:.2f} s)")


def _train_flux(cfg, weights, draws, x_train, y_train, x_test, y_test, bar, per_epoch_lines) -> TrainResult:
    """Flux through JInit's extension, one epoch per Julia call (Ctrl-C works between epochs); JInit makes the
    weights from `draws` (julia_draws) when given, else Flux starts from `weights`."""
    from ..julia import bridge

    res = TrainResult(cfg.to_dict(), "julia", n_train=len(x_train), n_test=len(x_test))
    for row, diverged in bridge.flux_epochs(weights, x_train, y_train, x_test, y_test, hidden=cfg.hidden,
                                            activation=cfg.activation, optimizer=cfg.optimizer, lr=cfg.lr,
                                            momentum=cfg.momentum, batch_size=cfg.batch_size, epochs=cfg.epochs,
                                            seed=cfg.seed, conv=cfg.conv, pool_every=cfg.pool_every,
                                            classes=cfg.classes, draws=draws):
        if diverged is not None:
            res.diverged = {"epoch": diverged[0], "step": diverged[1], "loss": DIVERGED}
            bar.write(f"epoch {diverged[0]}: the loss became non-finite at step {diverged[1]}; stopped (diverged)")
            bar.update(cfg.epochs - diverged[0] + 1)
            break
        _record(res, bar, cfg, row, per_epoch_lines)
    return res


def _record(res, bar, cfg, row, per_epoch_lines) -> None:
    """One finished epoch: into the history, the bar, and (for a single run) a line."""
    res.history.append({"epoch": int(row[0]), "train_loss": row[1], "test_loss": row[2], "test_accuracy": row[3],
                        "seconds": row[4]})
    bar.update(1)
    bar.set_postfix_str(f"test acc {100 * row[3]:.2f}%")
    if per_epoch_lines:
        _epoch_line(bar, cfg, row)


def _train_numpy(cfg, weights, x_train, y_train, x_test, y_test, bar, per_epoch_lines=True,
                 blas_threads="auto") -> TrainResult:
    if cfg.conv:
        net = CNN(weights, cfg.activation, image_shape(x_train.shape[1]), pool_every=cfg.pool_every)
    else:
        net = MLP(weights, cfg.activation)
    params = net.W + net.b
    opt = _Optimizer(cfg.optimizer, params, cfg.lr, cfg.momentum)
    res = TrainResult(cfg.to_dict(), "numpy", n_train=len(x_train), n_test=len(x_test), blas_threads=[])
    n = len(x_train)
    with BlasThreads(blas_threads) as blas:
        k = 0
        for epoch in range(1, cfg.epochs + 1):
            t0 = time.perf_counter()
            blas.reset_count()
            order = batch_order(cfg.seed, epoch, n)
            total, steps = 0.0, 0
            for step, s in enumerate(range(0, n, cfg.batch_size), start=1):
                k += 1
                blas.begin(k)
                idx = order[s:s + cfg.batch_size]
                with np.errstate(over="ignore", invalid="ignore"):      # a non-finite loss is handled below
                    loss, gw, gb = net.gradients(x_train[idx], y_train[idx])
                blas.end()
                if not math.isfinite(loss):
                    res.diverged = {"epoch": epoch, "step": step, "loss": DIVERGED}
                    res.blas_threads.append(blas.mostly())
                    bar.write(f"epoch {epoch}: the loss became {loss} at step {step}; stopped (diverged)")
                    bar.update(cfg.epochs - epoch + 1)
                    return res
                opt.step(params, gw + gb)
                total += loss
                steps += 1
            seconds = time.perf_counter() - t0
            res.blas_threads.append(blas.mostly())
            test_loss, acc = net.evaluate(x_test, y_test)
            _record(res, bar, cfg, (epoch, total / max(steps, 1), test_loss, acc, seconds), per_epoch_lines)
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
