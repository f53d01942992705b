"""What an initializer does to the signal inside a network at initialization, measured and predicted.

For a network and a batch of data, per layer: the mean and std of the pre-activations and activations,
the fraction of saturated (tanh, sigmoid) or dead (ReLU-like) units, and the std of the back-propagated
gradients with respect to the activations and the weights; beside them, the mean-field prediction of the
variance recursion (Glorot & Bengio 2010; He et al. 2015):

    Var(z_l) = fan_in_l · Var(W_l) · E[a_{l-1}²],      E[a²] = E[f(z)²] for z ~ N(0, Var(z))
    Var(∂L/∂a_l) = fan_out_{l+1} · Var(W_{l+1}) · E[f'(z_{l+1})²] · Var(∂L/∂a_{l+1})

(the forward one starts from the data's E[x²], the backward one from the measured gradient at the top).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..inits.stream import substream
from ..inits.validate import check_int
from .networks import MLP, _act, _act_grad, logitcrossentropy

SATURATING = ("tanh", "sigmoid")
RECTIFYING = ("relu", "leaky_relu", "gelu")
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(96)     # E[g(z)], z ~ N(0, 1): sum(w g(x)) / sqrt(2 pi)
_GH_W = _GH_W / math.sqrt(2 * math.pi)


def gauss_expect(g, var: float) -> float:
    """E[g(z)] for z ~ N(0, var), by 96-point Gauss-Hermite quadrature."""
    return float(np.sum(_GH_W * g(np.sqrt(max(var, 0.0)) * _GH_X)))


def second_moments(activation: str, var: float) -> tuple:
    """(E[f(z)²], E[f'(z)²]) for z ~ N(0, var) and the activation f ("linear" for none)."""
    if activation == "linear":
        return var, 1.0
    z = np.sqrt(max(var, 0.0)) * _GH_X.astype(np.float64)
    a = _act(activation, z.astype(np.float32)).astype(np.float64)
    d = _act_grad(activation, z.astype(np.float32), a.astype(np.float32)).astype(np.float64)
    return float(np.sum(_GH_W * a * a)), float(np.sum(_GH_W * d * d))


def backprop(net: MLP, x: np.ndarray, y: np.ndarray) -> dict:
    """Everything inside one forward and backward pass of `net` on (x, y): pre-activations zs, activations
    acts (acts[0] = x), dL/da for each layer's input activation, dL/dz and dL/dW per layer."""
    logits, zs, acts = net.forward(x, keep=True)
    _, d = logitcrossentropy(logits, y)
    L = len(net.W)
    dz, da, dw = [None] * L, [None] * L, [None] * L
    for i in range(L - 1, -1, -1):
        dz[i] = d
        dw[i] = d.T @ acts[i]
        da[i] = d @ net.W[i]                    # dL/d(input of layer i) = dL/d acts[i]
        if i > 0:
            d = da[i] * _act_grad(net.activation, zs[i - 1], acts[i])
    return {"zs": zs, "acts": acts, "dz": dz, "da": da, "dw": dw}


def _fractions(activation: str, z: np.ndarray, a: np.ndarray) -> tuple:
    """(saturated, dead): saturated = share of activations within 1% of the asymptotes (tanh, sigmoid);
    dead = share of units that are inactive (z <= 0) for every example of the batch (ReLU-like)."""
    sat = dead = None
    if activation == "tanh":
        sat = float(np.mean(np.abs(a) > 0.99))
    elif activation == "sigmoid":
        sat = float(np.mean((a < 0.01) | (a > 0.99)))
    if activation in RECTIFYING:
        dead = float(np.mean(np.all(z <= 0, axis=0)))
    return sat, dead


def measure(weights: list, activation: str, x: np.ndarray, y: np.ndarray) -> list:
    """Per-layer statistics (a list of dicts, layer 1 first) of the MLP with `weights` (out, in) on (x, y),
    with the variance-recursion predictions beside the measured values."""
    net = MLP(weights, activation)
    bp = backprop(net, np.ascontiguousarray(x, np.float32), np.asarray(y))
    L = len(weights)
    rows = []
    q_pred = float(np.mean(np.asarray(x, np.float64) ** 2))        # E[a_0²] of the data
    for l in range(L):
        w = net.W[l].astype(np.float64)
        fan_out, fan_in = w.shape
        z = bp["zs"][l]
        last = l == L - 1
        a = z if last else bp["acts"][l + 1]
        var_z = fan_in * float(w.var()) * q_pred                   # predicted Var(z_l)
        f = "linear" if last else activation
        ea2, ed2 = second_moments(f, var_z)
        sat, dead = _fractions(activation, z, a) if not last else (None, None)
        rows.append({"layer": l + 1, "fan_in": fan_in, "fan_out": fan_out, "weight_std": float(w.std()),
                     "pre_mean": float(z.mean()), "pre_std": float(z.std()),
                     "act_mean": float(a.mean()), "act_std": float(a.std()),
                     "saturated": sat, "dead": dead,
                     # dL/d(this layer's output): the activation's gradient, or the logits' for the last layer
                     "grad_act_std": float((bp["dz"][l] if last else bp["da"][l + 1]).std()),
                     "grad_weight_std": float(bp["dw"][l].std()),
                     "predicted_pre_std": math.sqrt(var_z), "predicted_act_std": math.sqrt(max(ea2, 0.0)),
                     "_ed2": ed2})
        q_pred = ea2
    # backward, from the measured gradient of the logits: Var(dL/da_l) = fan_out_{l+1} Var(W_{l+1})
    # E[f'(z_{l+1})²] Var(dL/da_{l+1}) (f' = 1 for the last, linear layer)
    g = rows[-1]["grad_act_std"] ** 2
    rows[-1]["predicted_grad_act_std"] = math.sqrt(g)
    for l in range(L - 2, -1, -1):
        w_next = net.W[l + 1].astype(np.float64)
        g = w_next.shape[0] * float(w_next.var()) * rows[l + 1]["_ed2"] * g
        rows[l]["predicted_grad_act_std"] = math.sqrt(g)
    for r in rows:
        r.pop("_ed2")
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
             backend="numpy") -> Diagnosis:
    """Diagnose each initializer of `inits` at initialization: the network ``features -> hidden -> 10``
    (trainer's weights: layer l from ``substream(seed, l)``, "lsuv" included) on a batch of ``batch_size``
    examples (``data`` = (x, y, ...) or MNIST's training set, the batch chosen by the seed).

    >>> d = diagnose(["xavier", "he"], data=(x, y), hidden=(64,) * 5)         # doctest: +SKIP
    >>> print(d.table()); d.plot("std.png"); d.histograms("hist.png")         # doctest: +SKIP
    """
    from ..inits.validate import check_choice, check_nonempty
    from .results import ACTIVATIONS
    from .trainer import check_init_name, initial_weights

    inits = [check_init_name(n) for n in check_nonempty("inits", inits)]
    activation = check_choice("activation", activation, ACTIVATIONS)
    hidden = tuple(check_int("hidden size", h, 1) for h in hidden)
    batch_size = check_int("batch_size", batch_size, 2)
    if data is None:
        from .datasets import load_mnist

        data = load_mnist(data_dir)
    x, y = np.asarray(data[0], np.float32), np.asarray(data[1])
    order = np.argsort(np.random.Philox(key=substream(seed, 3 << 32)).random_raw(len(x)), kind="stable")
    idx = order[:batch_size]
    xb, yb = x[idx], y[idx]
    sizes = [x.shape[1], *hidden, 10]
    d = Diagnosis({}, {"hidden": list(hidden), "activation": activation, "seed": seed, "batch_size": len(idx),
                       "features": x.shape[1]})
    for name in inits:
        w = initial_weights(sizes, name, init_kwargs, seed, backend=backend, data=(x, y), activation=activation)
        d.layers[name] = measure(w, activation, xb, yb)
        net = MLP(w, activation)
        _, zs, acts = net.forward(xb, keep=True)
        d.samples[name] = [a.ravel()[:20000] for a in acts[1:-1]]
    return d
