"""The NumPy networks: activations, the MLP (forward, backward), cross-entropy, and the optimizers."""
from __future__ import annotations

import math

import numpy as np


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


