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

    def prepare(self, x: np.ndarray) -> np.ndarray:
        """Input rows -> the first layer's input (the same rows, float32)."""
        return np.ascontiguousarray(x, np.float32)

    def layer(self, i: int, a: np.ndarray, keep: bool = False):
        """Layer i (0-based) on its input rows a: (pre-activation z, activation = next layer's input)."""
        z = a @ self.W[i].T
        z += self.b[i]
        return z, (z if i == len(self.W) - 1 else _act(self.activation, z))

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

    def backprop(self, x: np.ndarray, y: np.ndarray, keep: bool = False) -> dict:
        """One forward and backward pass: loss, dW and db per layer, and with keep=True also per layer the
        pre-activation z, the activation h and dL/dh (for the last layer: the logits and dL/dlogits)."""
        logits, zs, acts = self.forward(x, keep=True)
        loss, d = logitcrossentropy(logits, y)
        L = len(self.W)
        gw, gb, dh = [None] * L, [None] * L, [None] * L
        dh[L - 1] = d
        for i in range(L - 1, -1, -1):
            gw[i] = d.T @ acts[i]
            gb[i] = d.sum(axis=0)
            if i > 0:
                dh[i - 1] = d @ self.W[i]
                d = dh[i - 1] * _act_grad(self.activation, zs[i - 1], acts[i])
        r = {"loss": loss, "dw": gw, "db": gb}
        if keep:
            r.update(zs=zs, acts=acts[1:], da=dh)
        return r

    def gradients(self, x: np.ndarray, y: np.ndarray) -> tuple:
        r = self.backprop(x, y)
        return r["loss"], r["dw"], r["db"]

    def evaluate(self, x: np.ndarray, y: np.ndarray, chunk: int = 10000) -> tuple:
        total, correct = 0.0, 0
        for s in range(0, len(x), chunk):
            logits = self.forward(x[s:s + chunk])
            loss, _ = logitcrossentropy(logits, y[s:s + chunk])
            total += loss * len(logits)
            correct += int((logits.argmax(axis=1) == y[s:s + chunk]).sum())
        n = max(len(x), 1)
        return total / n, correct / n


def image_shape(features: int) -> tuple:
    """(1, side, side): the CNN's reading of input rows of `features` = side² numbers (e.g. 784 = 28²)."""
    side = math.isqrt(features)
    if side * side != features:
        raise ValueError(f"conv needs square single-channel images (features = side², e.g. 784), "
                         f"got {features} features")
    return (1, side, side)


def pools(nconv: int, pool_every: int = 1) -> list:
    """Whether conv layer i (0-based) is followed by 2x2 max-pooling: after every `pool_every`-th conv layer."""
    return [(i + 1) % pool_every == 0 for i in range(nconv)]


def conv_shapes(in_shape: tuple, channels: tuple, hidden: tuple, kernel: int = 3, classes: int = 10,
                pool_every: int = 1) -> list:
    """PyTorch-order weight shapes of the CNN: conv (out, in, k, k) per channel count (each followed by the
    activation, and every `pool_every`-th by 2x2 max-pooling; "same" padding), then dense (out, in) layers to
    `classes`."""
    c, h, w = in_shape
    shapes = []
    for ch, pooled in zip(channels, pools(len(channels), pool_every)):
        shapes.append((ch, c, kernel, kernel))
        c = ch
        if pooled:
            h, w = h // 2, w // 2
    if h < 1 or w < 1:
        raise ValueError(f"too much pooling: {len(channels)} conv layers pooling every {pool_every} shrink a "
                         f"{in_shape[1]}x{in_shape[2]} image to nothing")
    n = c * h * w
    for units in (*hidden, classes):
        shapes.append((units, n))
        n = units
    return shapes


class _Workspace:
    """Reused buffers: a step allocates nothing large. Fresh multi-megabyte arrays come from mmap and cost a
    page fault per 4 KiB on first touch, which made up over half of a CNN step here. A key names a role and
    the layer geometry (not the batch size, so a new batch size replaces the buffer instead of adding one);
    what the backward pass needs is keyed by layer, temporaries are shared by all layers of one geometry."""

    def __init__(self, dtype):
        self.dtype, self.bufs = dtype, {}

    def get(self, key, shape, dtype=None):
        key = key + tuple(shape[:-1])
        b = self.bufs.get(key)
        if b is None or b.shape != shape:
            b = self.bufs[key] = np.zeros(shape, dtype or self.dtype)      # zeros: padding borders stay 0
        return b


def _im2col(x: np.ndarray, k: int, ws: _Workspace) -> np.ndarray:
    """(C, H, W, N) -> (k*k*C, H*W*N): the transposed patches of the zero-padded ("same", stride 1) input, rows
    in (k, k, C) order. Each of the k*k copies moves runs of W*N contiguous numbers."""
    c, h, w, n = x.shape
    p = k // 2
    xp = ws.get(("xp",), (c, h + 2 * p, w + 2 * p, n))                   # borders are zero from allocation
    xp[:, p:p + h, p:p + w] = x
    cols = ws.get(("cols",), (k, k, c, h, w, n))
    for r in range(k):
        for s in range(k):
            cols[r, s] = xp[:, r:r + h, s:s + w]
    return cols.reshape(k * k * c, h * w * n)


def _col2im(d: np.ndarray, shape: tuple, k: int, ws: _Workspace, i: int) -> np.ndarray:
    """The adjoint of _im2col: (k*k*C, H*W*N) gradients of patches -> (C, H, W, N)."""
    c, h, w, n = shape
    p = k // 2
    d = d.reshape(k, k, c, h, w, n)
    out = ws.get(("dxp", i % 2), (c, h + 2 * p, w + 2 * p, n))     # layer i-1 reads it while writing its own
    out.fill(0)
    for r in range(k):
        for s in range(k):
            out[:, r:r + h, s:s + w] += d[r, s]
    return out[:, p:p + h, p:p + w]


def _pool(h: np.ndarray, ws: _Workspace, i: int) -> np.ndarray:
    """2x2 max-pooling, stride 2, of (C, H, W, N) (an odd last row/column is dropped, as PyTorch and Flux)."""
    h2, w2 = h.shape[1] // 2 * 2, h.shape[2] // 2 * 2
    out = ws.get(("pool", i), (h.shape[0], h2 // 2, w2 // 2, h.shape[3]))
    tmp = ws.get(("pool2",), out.shape)
    np.maximum(h[:, 0:h2:2, 0:w2:2], h[:, 0:h2:2, 1:w2:2], out=out)
    np.maximum(h[:, 1:h2:2, 0:w2:2], h[:, 1:h2:2, 1:w2:2], out=tmp)
    return np.maximum(out, tmp, out=out)


def _unpool(h: np.ndarray, pooled: np.ndarray, d: np.ndarray, ws: _Workspace, i: int) -> np.ndarray:
    """The gradient of _pool with NNlib's rule (its CPU ∇maxpool, ∇maxpool_direct!, the backward pass of Flux's
    MaxPool): a window's gradient goes to one element, the first in window order that is ≈ the window's maximum
    m. Window order is row by row, (0, 0), (0, 1), (1, 0), (1, 1) over (H, W): NNlib's loop with kw fastest over
    Flux's (W, H). ≈ is Julia's isapprox, |m - x| <= r max(|m|, |x|) with r = sqrt(eps) of the dtype (3.5e-4 in
    float32), here as x >= m (1 - r) for m >= 0 and x >= m / (1 - r) for m < 0: the same bound up to rounding,
    so the two can differ only for an x equal to the computed bound, one float per window (finer than the
    rounding by which Flux's and this network's convolutions differ). Exact ties (a ReLU's zeros, one value over a uniform image region)
    go to the first of them, as in PyTorch's max_pool2d; PyTorch differs where an earlier element is within r
    of a larger maximum: it takes the maximum, NNlib (so Flux, and this network) the earlier element."""
    dh = ws.get(("dh",), h.shape)
    h2, w2 = h.shape[1] // 2 * 2, h.shape[2] // 2 * 2
    if (h2, w2) != h.shape[1:3]:
        dh.fill(0)                                                            # the dropped row/column
    r = np.sqrt(np.finfo(h.dtype).eps, dtype=h.dtype)                         # Julia's rtoldefault(T)
    low = np.multiply(pooled, 1 - r, out=ws.get(("plow",), pooled.shape))    # x ≈ m from here up (m >= 0)
    if low.size and low.min() < 0:                                            # some m < 0 (tanh, ...)
        np.copyto(low, np.where(pooled < 0, pooled / (1 - r), low))
    near = ws.get(("near",), pooled.shape, np.bool_)
    taken = ws.get(("taken",), pooled.shape, np.bool_)
    for k, (a, b) in enumerate(((0, 0), (0, 1), (1, 0))):
        np.greater_equal(h[:, a:h2:2, b:w2:2], low, out=taken if k == 0 else near)
        if k:
            np.greater(near, taken, out=near)                                 # near, and no earlier one was
            np.logical_or(taken, near, out=taken)
        np.multiply(near if k else taken, d, out=dh[:, a:h2:2, b:w2:2])
    np.logical_not(taken, out=near)                   # the last element, the maximum, when no earlier one was ≈ it
    np.multiply(near, d, out=dh[:, 1:h2:2, 1:w2:2])
    return dh


def _conv_matrix(w: np.ndarray) -> np.ndarray:
    """(out, in, k, k) -> (out, k*k*in), columns in the (k, k, C) patch order of _im2col."""
    return w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1)


def _act_into(name: str, z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """_act(name, z) written into `out`, without temporaries for relu and tanh."""
    if name == "relu":
        return np.maximum(z, 0, out=out)
    if name == "tanh":
        return np.tanh(z, out=out)
    out[...] = _act(name, z)
    return out


def _times_act_grad(name: str, d: np.ndarray, z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """d * f'(z) (a = f(z)) written into `out`."""
    if name == "relu":
        return np.multiply(d, z > 0, out=out)
    if name == "tanh":
        np.multiply(a, a, out=out)
        np.subtract(1, out, out=out)
        return np.multiply(out, d, out=out)
    return np.multiply(d, _act_grad(name, z, a), out=out)


class CNN:
    """Conv layers (out, in, k, k), each followed by the activation and (every `pool_every`-th, default each)
    2x2 max-pooling ("same" padding, stride 1, cross-correlation as PyTorch's Conv2d and Flux's CrossCor), then
    dense layers (out, in); zero biases. Input rows are flattened (C, H, W) images; the conv output is
    flattened in (C, H, W) order (PyTorch's, and Flux's column-major (W, H, C)), so the same weights make the
    same network there. The same forward/gradients/evaluate interface as MLP; float32 or float64.

    Internally the batch is the last, contiguous axis (C, H, W, N), as Flux's WHCN read backwards: every
    shifted slice of im2col/col2im and of pooling then moves long contiguous runs, the convolution is one
    GEMM W (out, k*k*C) @ patches (k*k*C, H*W*N) whose product is the next layer's (C, H, W, N) as it stands,
    and the dense layers work on (features, N). Large intermediates live in reused buffers (_Workspace), so
    arrays that `layer` and `backprop(keep=True)` return are overwritten by the next call. Max-pooling passes
    a window's gradient to one element, as NNlib's (Flux's) maxpool backward (_unpool): ties are common (a
    ReLU's zeros, the same positive value over a uniform image region)."""

    def __init__(self, weights: list, activation: str, in_shape: tuple = (1, 28, 28), dtype=np.float32,
                 pool_every: int = 1):
        self.W = [np.ascontiguousarray(w, dtype=dtype) for w in weights]
        self.b = [np.zeros(w.shape[0], dtype) for w in weights]
        self.activation = activation
        self.in_shape = tuple(in_shape)
        self.nconv = sum(w.ndim == 4 for w in self.W)
        self.pool = pools(self.nconv, pool_every)
        self.ws = _Workspace(np.dtype(dtype))

    def prepare(self, x: np.ndarray) -> np.ndarray:
        """Input rows (N, C*H*W) -> the first layer's input: (C, H, W, N), or (features, N) with no conv layer."""
        x = np.asarray(x, self.W[0].dtype)
        if not self.nconv:
            return np.ascontiguousarray(x.T)
        return np.ascontiguousarray(x.reshape((len(x),) + self.in_shape).transpose(1, 2, 3, 0))

    def layer(self, i: int, a: np.ndarray, keep: bool = False):
        """Layer i (0-based) on its input a (batch last): (z, next layer's input[, cache for the backward
        pass]). z is the pre-activation, (C, H, W, N) for conv layers and (out, N) for dense ones; the last conv
        layer's output is passed on as (C*H*W, N)."""
        w, b = self.W[i], self.b[i]
        last = i == len(self.W) - 1
        if i >= self.nconv:
            z = w @ a
            z += b[:, None]
            h = z if last else _act(self.activation, z)
            return (z, h, (a, z, h, None)) if keep else (z, h)
        c, hh, ww, n = a.shape
        cols = _im2col(a, w.shape[-1], self.ws)
        slot = i if keep else i % 2               # kept for the backward pass, or only until the next layer
        z = self.ws.get(("z", slot), (w.shape[0], hh, ww, n))
        np.matmul(_conv_matrix(w), cols, out=z.reshape(w.shape[0], -1))
        z += b[:, None, None, None]
        h = _act_into(self.activation, z, self.ws.get(("h", slot), z.shape))
        out = _pool(h, self.ws, slot) if self.pool[i] else h
        nxt = out.reshape(-1, n) if i == self.nconv - 1 else out
        return (z, nxt, (a, z, h, out)) if keep else (z, nxt)

    def forward(self, x: np.ndarray, keep: bool = False):
        a = self.prepare(x)
        cache = []
        for i in range(len(self.W)):
            z, a, *c = self.layer(i, a, keep)
            cache += c
        return (a.T, cache) if keep else a.T

    def backprop(self, x: np.ndarray, y: np.ndarray, keep: bool = False) -> dict:
        """One forward and backward pass: loss, dW and db per layer, and with keep=True also per layer (as
        batch-first views) the pre-activation z, the activation h (before pooling) and dL/dh (for the last
        layer: the logits and dL/dlogits)."""
        logits, cache = self.forward(x, keep=True)
        loss, d = logitcrossentropy(logits, y)
        d = d.T                                                     # (classes, N)
        L, ws = len(self.W), self.ws
        gw, gb, dh_all = [None] * L, [None] * L, [None] * L
        for i in range(L - 1, -1, -1):
            w = self.W[i]
            if i >= self.nconv:
                a, z, h, _ = cache[i]
                dh_all[i] = d
                dz = d if i == L - 1 else d * _act_grad(self.activation, z, h)
                gw[i] = dz @ a.T
                gb[i] = dz.sum(axis=1)
                if i > 0:
                    d = w.T @ dz
                continue
            a, z, h, out = cache[i]
            cols = _im2col(a, w.shape[-1], ws)                      # again: one patch buffer for all layers
            if i == self.nconv - 1:
                d = d.reshape(out.shape)
            dh = _unpool(h, out, d, ws, i) if self.pool[i] else d
            if keep:
                dh_all[i] = dh.copy()
            dz = _times_act_grad(self.activation, dh, z, h, ws.get(("dz",), z.shape))
            dzf = dz.reshape(dz.shape[0], -1)                               # (out, H*W*N)
            gw[i] = (dzf @ cols.T).reshape(w.shape[0], w.shape[2], w.shape[3], w.shape[1]).transpose(0, 3, 1, 2)
            gb[i] = dzf.sum(axis=1)
            if i > 0:
                dcols = ws.get(("dcols",), cols.shape)
                np.matmul(_conv_matrix(w).T, dzf, out=dcols)
                d = _col2im(dcols, (w.shape[1],) + h.shape[1:], w.shape[-1], ws, i)
        r = {"loss": loss, "dw": gw, "db": gb}
        if keep:
            first = lambda t: np.moveaxis(t, -1, 0)                         # noqa: E731 - batch-first views
            r.update(zs=[first(c[1]) for c in cache], acts=[first(c[2]) for c in cache],
                     da=[first(t) for t in dh_all])
        return r

    def gradients(self, x: np.ndarray, y: np.ndarray) -> tuple:
        r = self.backprop(x, y)
        return r["loss"], r["dw"], r["db"]

    def evaluate(self, x: np.ndarray, y: np.ndarray, chunk: int = 256) -> tuple:
        """(mean loss, accuracy) on (x, y), in chunks of 256 examples (the workspace is sized by the chunk)."""
        return MLP.evaluate(self, x, y, chunk)


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


