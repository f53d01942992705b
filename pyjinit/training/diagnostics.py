"""What an initializer does to the signal inside a network at initialization, measured and predicted.

For a network and a batch of data, per layer: the mean and std of the pre-activations and activations,
the fraction of saturated (tanh, sigmoid) or dead (ReLU-like) units, and the std of the back-propagated
gradients with respect to the activations and the weights; beside them, the mean-field prediction of the
variance recursion (Glorot & Bengio 2010; He et al. 2015):

    Var(z_l) = fan_in_l · Var(W_l) · E[a_{l-1}²],      E[a²] = E[f(z)²] for z ~ N(0, Var(z))
    Var(∂L/∂a_l) = fan_out_{l+1} · Var(W_{l+1}) · E[f'(z_{l+1})²] · Var(∂L/∂a_{l+1})

(the forward one starts from the data's E[x²], the backward one from the measured gradient at the top).

For conv layers the forward recursion runs on a map of E[a²] over positions, so the zero padding and the
data's empty borders count: Var(z)(p) = Var(W) · C_in · Σ_{taps t in the image} E[a²](p + t). A 2x2 max-pool
passes on the window's mean E[a²]: exact when neighbours are equal (they are strongly correlated in images);
for independent ones the max would raise it (for ReLU by up to 2.6x in E[a²]), which overshot every measured
deep CNN here. Backward, pooling leaves a gradient at one position in 4, so Var(∂L/∂h) of a pooled layer is a
quarter of the pooled output's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..inits.keys import diagnose_key
from ..inits.validate import check_int
from ..inits.validate import fans
from .networks import CNN, MLP, _act, _act_grad, conv_shapes, image_shape

SATURATING = ("tanh", "sigmoid")
RECTIFYING = ("relu", "leaky_relu", "gelu")
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(96)     # E[g(z)], z ~ N(0, 1): sum(w g(x)) / sqrt(2 pi)
_GH_W = _GH_W / math.sqrt(2 * math.pi)


def gauss_expect(g, var: float) -> float:
    """E[g(z)] for z ~ N(0, var), by 96-point Gauss-Hermite quadrature."""
    return float(np.sum(_GH_W * g(np.sqrt(max(var, 0.0)) * _GH_X)))


def second_moments(activation: str, var) -> tuple:
    """(E[f(z)²], E[f'(z)²]) for z ~ N(0, var) and the activation f ("linear" for none); `var` a number or an
    array (then arrays)."""
    v = np.maximum(np.asarray(var, np.float64), 0.0)
    if activation == "linear":
        return (float(v), 1.0) if v.ndim == 0 else (v, np.ones_like(v))
    z = (np.sqrt(v)[..., None] * _GH_X).astype(np.float32)
    a = _act(activation, z)
    d = _act_grad(activation, z, a).astype(np.float64)
    a = a.astype(np.float64)
    ea2, ed2 = np.sum(_GH_W * a * a, axis=-1), np.sum(_GH_W * d * d, axis=-1)
    return (float(ea2), float(ed2)) if v.ndim == 0 else (ea2, ed2)


def _box_sum(q: np.ndarray, k: int) -> np.ndarray:
    """Sum of q over each k x k neighbourhood, zero outside (the "same" padding)."""
    p = k // 2
    qp = np.pad(q, p)
    return sum(qp[i:i + q.shape[0], j:j + q.shape[1]] for i in range(k) for j in range(k))


def _fractions(activation: str, z: np.ndarray, a: np.ndarray) -> tuple:
    """(saturated, dead): saturated = share of activations within 1% of the asymptotes (tanh, sigmoid);
    dead = share of units that are inactive (z <= 0) for every example of the batch (ReLU-like)."""
    sat = dead = None
    if activation == "tanh":
        sat = float(np.mean(np.abs(a) > 0.99))
    elif activation == "sigmoid":
        sat = float(np.mean((a < 0.01) | (a > 0.99)))
    if activation in RECTIFYING:                       # a unit: a (channel, position) of a conv layer
        dead = float(np.mean(np.all(z.reshape(len(z), -1) <= 0, axis=0)))
    return sat, dead


def measure(weights: list, activation: str, x: np.ndarray, y: np.ndarray, *, in_shape=None,
            pool_every: int = 1, samples: list | None = None) -> list:
    """Per-layer statistics (a list of dicts, layer 1 first) of the network with `weights` ((out, in) dense:
    the MLP; with (out, in, k, k) conv kernels: pyjinit's CNN, whose input rows are images `in_shape` (C, H, W),
    default square single-channel, pooled after every `pool_every`-th conv layer) on (x, y), with the
    variance-recursion predictions beside the measured values. A list given as `samples` receives a sample
    (up to 20000 values) of each hidden layer's activations, for histograms. Fans are `validate.fans` (for a conv layer in·k² and out·k²).
    For the CNN the recursion ignores zero padding and max-pooling (a max of 4 raises E[a²]), so its
    prediction is exact only for the layers before the first pooling."""
    x = np.ascontiguousarray(x, np.float32)
    if any(np.ndim(w) == 4 for w in weights):
        net = CNN(weights, activation, in_shape or image_shape(x.shape[1]), pool_every=pool_every)
    else:
        net = MLP(weights, activation)
    bp = net.backprop(x, np.asarray(y), keep=True)
    L = len(weights)
    rows = []
    x2 = np.asarray(x, np.float64) ** 2
    q_pred = float(np.mean(x2))                                    # E[a_0²] of the data
    if isinstance(net, CNN):                                       # per position (H, W), mean over channels
        q_pred = x2.reshape((len(x),) + net.in_shape).mean(axis=(0, 1))
    for l in range(L):
        w = net.W[l].astype(np.float64)
        fan_in, fan_out = fans(w.shape)
        z = bp["zs"][l]
        last = l == L - 1
        a = bp["acts"][l]
        f = "linear" if last else activation
        if w.ndim == 4:                                            # a map of Var(z_l) over positions
            q_map = float(w.var()) * w.shape[1] * _box_sum(q_pred, w.shape[-1])
            ea2_map, ed2_map = second_moments(f, q_map)
            var_z, ea2, ed2 = float(q_map.mean()), float(ea2_map.mean()), float(ed2_map.mean())
            if net.pool[l]:
                h2, w2 = q_map.shape[0] // 2 * 2, q_map.shape[1] // 2 * 2
                nxt = ea2_map[:h2, :w2].reshape(h2 // 2, 2, w2 // 2, 2).mean(axis=(1, 3))
            else:
                nxt = ea2_map
            if l == net.nconv - 1:
                nxt = float(nxt.mean())
        else:
            var_z = fan_in * float(w.var()) * q_pred               # predicted Var(z_l)
            ea2, ed2 = second_moments(f, var_z)
            nxt = ea2
        sat, dead = _fractions(activation, z, a) if not last else (None, None)
        if samples is not None and not last:
            samples.append(np.array(a.ravel()[:20000]))                    # a copy: CNN buffers are reused
        rows.append({"layer": l + 1, "kind": "conv" if w.ndim == 4 else "dense", "fan_in": fan_in,
                     "fan_out": fan_out, "weight_std": float(w.std()),
                     "pre_mean": float(z.mean()), "pre_std": float(z.std()),
                     "act_mean": float(a.mean()), "act_std": float(a.std()),
                     "saturated": sat, "dead": dead,
                     # dL/d(this layer's output): the activation's gradient, or the logits' for the last layer
                     "grad_act_std": float(bp["da"][l].std()),
                     "grad_weight_std": float(bp["dw"][l].std()),
                     "predicted_pre_std": math.sqrt(var_z), "predicted_act_std": math.sqrt(max(ea2, 0.0)),
                     "_ed2": ed2, "_pooled": bool(w.ndim == 4 and net.pool[l])})
        q_pred = nxt
    # backward, from the measured gradient of the logits: Var(dL/da_l) = fan_out_{l+1} Var(W_{l+1})
    # E[f'(z_{l+1})²] Var(dL/da_{l+1}) (f' = 1 for the last, linear layer)
    g = rows[-1]["grad_act_std"] ** 2
    rows[-1]["predicted_grad_act_std"] = math.sqrt(g)
    for l in range(L - 2, -1, -1):
        w_next = net.W[l + 1].astype(np.float64)
        g = fans(w_next.shape)[1] * float(w_next.var()) * rows[l + 1]["_ed2"] * g
        if rows[l]["_pooled"]:
            g /= 4                                      # one position in 4 of a pooling window gets gradient
        rows[l]["predicted_grad_act_std"] = math.sqrt(g)
    for r in rows:
        r.pop("_ed2")
        r.pop("_pooled")
    return rows


@dataclass
class Diagnosis:
    """`diagnose` results: {init: [per-layer dict]}, the configuration, and activations for histograms."""
    layers: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    samples: dict = field(default_factory=dict)          # {init: [activation sample per hidden layer]}

    def table(self) -> str:
        """Markdown: per initializer and layer, activation std, gradient std (measured / predicted), saturation."""
        lines = ["| init | layer | pre-activation std (predicted) | activation std | dL/da std (predicted) | "
                 "dL/dW std | saturated | dead |", "|---|---|---|---|---|---|---|---|"]
        for name, rows in self.layers.items():
            for r in rows:
                sat = "—" if r["saturated"] is None else f"{100 * r['saturated']:.1f}%"
                dead = "—" if r["dead"] is None else f"{100 * r['dead']:.1f}%"
                lines.append(f"| {name} | {r['layer']} | {r['pre_std']:.3g} ({r['predicted_pre_std']:.3g}) | "
                             f"{r['act_std']:.3g} | {r['grad_act_std']:.3g} ({r['predicted_grad_act_std']:.3g}) | "
                             f"{r['grad_weight_std']:.3g} | {sat} | {dead} |")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"config": self.config, "layers": self.layers}

    def to_json(self, path=None) -> str:
        from ..support.files import dumps, write_text

        s = dumps(self.to_dict())
        if path is not None:
            write_text(path, s)
        return s

    def plot(self, path=None):
        """Per-layer std of the activations (forward) and of dL/da (backward), measured (solid) and predicted
        by the variance recursion (dashed), one colour per initializer."""
        from .plots import plot_diagnosis

        return plot_diagnosis(self, path)

    def histograms(self, path=None):
        """Activation histograms per hidden layer for each initializer (Glorot & Bengio 2010, fig. 6-7)."""
        from .plots import plot_histograms

        return plot_histograms(self, path)


def diagnose(inits=("uniform", "normal", "xavier", "he", "orthogonal"), *, data=None, data_dir=None,
             hidden=(256,) * 10, activation="tanh", seed=0, batch_size=1000, init_kwargs=None,
             backend="numpy", conv=(), pool_every=1) -> Diagnosis:
    """Diagnose each initializer of `inits` at initialization: the network ``features -> hidden -> 10``, or
    with ``conv`` channel counts the CNN ``conv... -> hidden -> 10`` of the trainer (3x3 "same" convolutions,
    2x2 max-pooling after every ``pool_every``-th; square single-channel images), with the trainer's weights
    (layer l from ``param_key(seed, l, 0)``, "lsuv" included), on a batch of ``batch_size`` examples (``data`` =
    (x, y, ...) or MNIST's training set, the batch chosen by the seed). For conv layers the statistics run
    over examples, positions and channels, and "activation" is the activation before pooling.

    >>> d = diagnose(["xavier", "he"], data=(x, y), hidden=(64,) * 5)         # doctest: +SKIP
    >>> print(d.table()); d.plot("std.png"); d.histograms("hist.png")         # doctest: +SKIP
    >>> d = diagnose(["xavier", "he"], conv=(16,) * 8, pool_every=4, hidden=(), activation="relu")  # doctest: +SKIP
    """
    from ..inits.validate import check_choice, check_nonempty
    from .results import ACTIVATIONS
    from .trainer import check_init_name, initial_weights

    inits = [check_init_name(n) for n in check_nonempty("inits", inits)]
    activation = check_choice("activation", activation, ACTIVATIONS)
    hidden = tuple(check_int("hidden size", h, 1) for h in hidden)
    conv = tuple(check_int("conv channels", c, 1) for c in conv)
    pool_every = check_int("pool_every", pool_every, 1)
    batch_size = check_int("batch_size", batch_size, 2)
    if data is None:
        from .datasets import load_mnist

        data = load_mnist(data_dir)
    x, y = np.asarray(data[0], np.float32), np.asarray(data[1])
    order = np.argsort(np.random.Philox(key=diagnose_key(seed)).random_raw(len(x)), kind="stable")
    idx = order[:batch_size]
    xb, yb = x[idx], y[idx]
    sizes = [x.shape[1], *hidden, 10]
    shapes = conv_shapes(image_shape(x.shape[1]), conv, hidden, pool_every=pool_every) if conv else None
    config = {"hidden": list(hidden), "activation": activation, "seed": seed, "batch_size": len(idx),
              "features": x.shape[1]}
    if conv:
        config.update(conv=list(conv), pool_every=pool_every)
    d = Diagnosis({}, config)
    for name in inits:
        w = initial_weights(sizes, name, init_kwargs, seed, backend=backend, data=(x, y), activation=activation,
                            shapes=shapes, pool_every=pool_every)
        d.samples[name] = []
        d.layers[name] = measure(w, activation, xb, yb, pool_every=pool_every, samples=d.samples[name])
    return d
