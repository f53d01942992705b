"""Keys of stream version 3: every stream a seed spawns, and the one function that derives them.

Twin of ``julia/JInit/src/keys.jl``; docs/stream.md §6 is the specification. A key is a 128-bit integer,
the same thing as a seed (Philox key ``(key mod 2^64, key >> 64)``). A child key is one Philox4x64-10 block
of the parent key at a counter that encodes what the child is for (a tag) and its indices:

    derive(key, tag, i0, i1, i2) = o0 + o1 * 2^64,  (o0, o1, o2, o3) = philox4x64_10((i0, i1, i2, TAG[tag]), key)

The tag word is never 0, so a derivation never reads a block of the parent's own stream (whose counters
``(j + 1, 0, 0, 0)`` have a zero last word). For one parent, distinct (tag, indices) are distinct counters, and
Philox is a bijection of the counter, so the 256-bit outputs differ; the 128-bit keys taken from them collide
with probability 2^-128 per pair, not by arithmetic. Keys of distinct parents are outputs of distinct Philox
keys. (Version 2 added ``i * 2^64`` to the seed instead, so layer 1's bias was layer 2's weight.)

Every named stream of the package is a row of ``STREAMS``; nothing else derives keys.
"""
from __future__ import annotations

import numpy as np

from .validate import check_seed, fmt

M64 = (1 << 64) - 1
PHILOX_M = (0xD2E7470EE14C6C93, 0xCA5A826395121157)
PHILOX_W = (0x9E3779B97F4A7C15, 0xBB67AE8584CAA73B)

# name -> (indices, what the stream is for). The tag word is the name's ASCII, little-endian, zero-padded.
STREAMS = {
    "param": (("layer", "j"), "parameter j (0-based, the layer's registration order) of layer l (1-based, the "
                              "model's order of modules that own parameters): the default parameter identity"),
    "name": (("nbytes",), "a parameter keyed by its name (key_by='name'): absorbs the UTF-8 length, then"),
    "namepart": (("w0", "w1", "w2"), "each 24 bytes of the name as three little-endian words, zero-padded"),
    "epoch": (("epoch",), "the training batch order of epoch e (1-based); epoch 0 is the LSUV batch"),
    "bias": ((), "layer_init's bias vector"),
    "sparse": ((), "the zero pattern of sparse_init"),
    "diagnose": ((), "the example order the diagnostics batch is taken from"),
    "subset": ((), "the training subset of compare(max_train=...) (parent key 0: the same for every seed)"),
}


def tag(name: str) -> int:
    """The tag word of a stream: its name's ASCII bytes as a little-endian uint64 (zero-padded)."""
    if name not in STREAMS:
        raise ValueError(f"stream must be one of {', '.join(STREAMS)}; got {fmt(name)}")
    return int.from_bytes(name.encode("ascii").ljust(8, b"\0"), "little")


def philox(counter, key: int) -> tuple:
    """philox4x64_10(counter (4 words), key (128-bit int)) -> 4 words, in Python integers (the reference)."""
    c0, c1, c2, c3 = (int(c) & M64 for c in counter)
    k0, k1 = key & M64, (key >> 64) & M64
    for r in range(10):
        if r:
            k0, k1 = (k0 + PHILOX_W[0]) & M64, (k1 + PHILOX_W[1]) & M64
        p0, p1 = PHILOX_M[0] * c0, PHILOX_M[1] * c2
        c0, c1, c2, c3 = (p1 >> 64) ^ c1 ^ k0, p1 & M64, (p0 >> 64) ^ c3 ^ k1, p0 & M64
    return c0, c1, c2, c3


def _index(i) -> int:
    if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)) or not 0 <= int(i) <= M64:
        raise ValueError(f"a stream index must be an integer in [0, 2^64), got {fmt(i)}")
    return int(i)


def derive(key: int, stream: str, *indices) -> int:
    """The child key of `key` for `stream` (a name of STREAMS) at up to three indices (missing ones are 0)."""
    if len(indices) > 3:
        raise ValueError(f"a key derivation takes at most 3 indices, got {len(indices)}")
    i = [_index(v) for v in indices] + [0] * (3 - len(indices))
    o = philox((i[0], i[1], i[2], tag(stream)), check_seed(key))
    return o[0] | (o[1] << 64)


def derive_many(key: int, stream: str, i0, i1=0, i2=0) -> np.ndarray:
    """derive(key, stream, i0, i1, i2) for arrays of indices (broadcast), as a (n, 2) uint64 array of
    (low, high) key words: the same function, vectorized (tests derive millions of keys with it)."""
    i0, i1, i2 = np.broadcast_arrays(*(np.asarray(v, dtype=np.uint64) for v in (i0, i1, i2)))
    c = [i0.ravel().copy(), i1.ravel().copy(), i2.ravel().copy(), np.full(i0.size, tag(stream), np.uint64)]
    k0, k1 = check_seed(key) & M64, key >> 64
    for r in range(10):
        if r:
            k0, k1 = (k0 + PHILOX_W[0]) & M64, (k1 + PHILOX_W[1]) & M64
        hi0, lo0 = _mulhilo(PHILOX_M[0], c[0])
        hi1, lo1 = _mulhilo(PHILOX_M[1], c[2])
        c = [hi1 ^ c[1] ^ np.uint64(k0), lo1, hi0 ^ c[3] ^ np.uint64(k1), lo0]
    return np.stack([c[0], c[1]], axis=1)


def _mulhilo(m: int, x: np.ndarray):
    """(high, low) 64-bit words of m * x, from 32-bit limbs."""
    mask = np.uint64(0xFFFFFFFF)
    s = np.uint64(32)
    a0, a1 = np.uint64(m & 0xFFFFFFFF), np.uint64(m >> 32)
    b0, b1 = x & mask, x >> s
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    mid = (p00 >> s) + (p01 & mask) + (p10 & mask)
    hi = p11 + (p01 >> s) + (p10 >> s) + (mid >> s)
    return hi, np.uint64(m) * x


# --- the named streams --------------------------------------------------------------------------------------

def param_key(seed: int, layer: int, j: int) -> int:
    """Key of parameter j (0-based) of layer `layer` (1-based) of a model initialized with `seed`. The trainer's
    layer-l weight is param_key(seed, l, 0), as every framework adapter's and JInit's Flux training."""
    return derive(seed, "param", layer, j)


def name_key(seed: int, name: str) -> int:
    """Key of the parameter called `name` (e.g. ``"layers.5.attn.wq.weight"``) of a model initialized with
    `seed` (``key_by="name"``): the name's UTF-8 bytes absorbed 24 at a time after their length."""
    if not isinstance(name, str):
        raise TypeError(f"a parameter name must be a str, got {type(name).__name__}")
    b = name.encode("utf-8")
    k = derive(seed, "name", len(b))
    for a in range(0, len(b), 24):
        piece = b[a:a + 24].ljust(24, b"\0")
        k = derive(k, "namepart", *(int.from_bytes(piece[8 * i:8 * i + 8], "little") for i in range(3)))
    return k


def epoch_key(seed: int, epoch: int) -> int:
    """Key of epoch `epoch`'s batch order (1-based; 0 is the LSUV batch)."""
    return derive(seed, "epoch", epoch)


def bias_key(seed: int) -> int:
    """Key of `layer_init`'s bias."""
    return derive(seed, "bias")


def sparse_key(seed: int) -> int:
    """Key of the zero pattern of `sparse_init`."""
    return derive(seed, "sparse")


def diagnose_key(seed: int) -> int:
    """Key of the example order the diagnostics batch is taken from."""
    return derive(seed, "diagnose")


def subset_key() -> int:
    """Key of the training subset `compare(max_train=...)` takes (the same for every seed)."""
    return derive(0, "subset")
