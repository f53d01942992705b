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


def conv_shapes(in_shape: tuple, channels: tuple, hidden: tuple, kernel: int = 3, classes: int = 10) -> list:
    """PyTorch-order weight shapes of the CNN: conv (out, in, k, k) per channel count (each followed by the
    activation and 2x2 max-pooling, "same" padding), then dense (out, in) layers to `classes`."""
    c, h, w = in_shape
    shapes = []
    for ch in channels:
        shapes.append((ch, c, kernel, kernel))
        c, h, w = ch, h // 2, w // 2
    n = c * h * w
    for units in (*hidden, classes):
        shapes.append((units, n))
        n = units
    return shapes


def _im2col(x: np.ndarray, k: int) -> np.ndarray:
    """(N, H, W, C) -> (N*H*W, C*k*k) patches of the zero-padded ("same", stride 1) input, (C, k, k) order."""
    p = k // 2
    xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    v = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(1, 2))     # (N, H, W, C, k, k)
    return np.ascontiguousarray(v).reshape(-1, x.shape[3] * k * k)


def _col2im(d: np.ndarray, shape: tuple, k: int) -> np.ndarray:
    """The adjoint of _im2col: (N*H*W, C*k*k) gradients of patches -> (N, H, W, C)."""
    n, h, w, c = shape
    p = k // 2
    d = d.reshape(n, h, w, c, k, k)
    out = np.zeros((n, h + 2 * p, w + 2 * p, c), d.dtype)
    for i in range(k):
        for j in range(k):
            out[:, i:i + h, j:j + w, :] += d[..., i, j]
    return out[:, p:p + h, p:p + w, :]


class CNN:
    """Conv layers (out, in, k, k), each followed by the activation and 2x2 max-pooling ("same" padding,
    stride 1, cross-correlation as PyTorch's Conv2d and Flux's CrossCor), then dense layers (out, in); zero
    biases. Input rows are flattened (C, H, W) images; the conv output is flattened in (C, H, W) order
    (PyTorch's, and Flux's column-major (W, H, C)), so the same weights make the same network there. The same
    forward/gradients/evaluate interface as MLP; float32 or float64. Internally NHWC, with im2col products.
    Max-pooling passes the gradient to every maximum of a window (ties have measure zero, except ReLU's zeros,
    whose gradient is zero anyway)."""

    def __init__(self, weights: list, activation: str, in_shape: tuple = (1, 28, 28), dtype=np.float32):
        self.W = [np.ascontiguousarray(w, dtype=dtype) for w in weights]
        self.b = [np.zeros(w.shape[0], dtype) for w in weights]
        self.activation = activation
        self.in_shape = tuple(in_shape)
        self.nconv = sum(w.ndim == 4 for w in self.W)

    def forward(self, x: np.ndarray, keep: bool = False):
        a = x.reshape((len(x),) + self.in_shape).transpose(0, 2, 3, 1)           # NHWC
        cache = []
        for i in range(self.nconv):
            w, b = self.W[i], self.b[i]
            k = w.shape[-1]
            n, hh, ww, _ = a.shape
            cols = _im2col(a, k)                                   # (N*H*W, C*k*k)
            z = cols @ w.reshape(w.shape[0], -1).T                 # (N*H*W, out)
            z += b
            z = z.reshape(n, hh, ww, -1)
            h = _act(self.activation, z)
            c = h.shape[3]
            blocks = h[:, :hh // 2 * 2, :ww // 2 * 2, :].reshape(n, hh // 2, 2, ww // 2, 2, c)
            pooled = blocks.max(axis=(2, 4))
            cache.append((a.shape, cols, z, h, blocks, pooled))
            a = pooled
        a = np.ascontiguousarray(a.transpose(0, 3, 1, 2)).reshape(len(x), -1)  # flatten in (C, H, W) order
        dense = self.W[self.nconv:]
        zs, acts = [], [a]
        for j, w in enumerate(dense):
            z = a @ w.T
            z += self.b[self.nconv + j]
            a = _act(self.activation, z) if j < len(dense) - 1 else z
            zs.append(z)
            acts.append(a)
        return (a, (cache, zs, acts)) if keep else a

    def gradients(self, x: np.ndarray, y: np.ndarray) -> tuple:
        logits, (cache, zs, acts) = self.forward(x, keep=True)
        loss, d = logitcrossentropy(logits, y)
        L = len(self.W)
        gw, gb = [None] * L, [None] * L
        dense = self.W[self.nconv:]
        for j in range(len(dense) - 1, -1, -1):
            i = self.nconv + j
            gw[i] = d.T @ acts[j]
            gb[i] = d.sum(axis=0)
            d = d @ dense[j]
            if j > 0:
                d = d * _act_grad(self.activation, zs[j - 1], acts[j])
        for i in range(self.nconv - 1, -1, -1):
            in_shape, cols, z, h, blocks, pooled = cache[i]
            n, hh, ww, c = h.shape
            if i == self.nconv - 1:
                d = d.reshape(n, c, hh // 2, ww // 2).transpose(0, 2, 3, 1)      # back to NHWC
            mask = blocks == pooled[:, :, None, :, None, :]
            dh = np.zeros_like(h)
            dh[:, :hh // 2 * 2, :ww // 2 * 2, :] = (mask * d[:, :, None, :, None, :]).reshape(
                n, hh // 2 * 2, ww // 2 * 2, c)
            dz = dh * _act_grad(self.activation, z, h)
            dzf = dz.reshape(-1, c)                                 # (N*H*W, out)
            w = self.W[i]
            gw[i] = (dzf.T @ cols).reshape(w.shape)
            gb[i] = dzf.sum(axis=0)
            if i > 0:
                d = _col2im(dzf @ w.reshape(w.shape[0], -1), in_shape, w.shape[-1])
        return loss, gw, gb

    evaluate = MLP.evaluate


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


