"""The pyjinit stream sampled with torch operations on the tensor's own device (docs/stream.md §1, §3, §4, §7).

Twin of the NumPy backend (``pyjinit/inits/stream.py``, ``pyjinit/inits/ziggurat.py``): for a key (a 128-bit
int; Philox key ``(key mod 2^64, key >> 64)``), element k of every draw is the NumPy backend's element k, so a
tensor is filled where it lives (a CUDA tensor never goes through the host) with the values pyjinit's NumPy and
Julia backends give.

- ``sample(kind, params, key, start, n, dtype, device)``: elements start .. start+n-1, a 1-D tensor.
- ``fill_block_(tensor, kind, params, key, full_shape, offset)``: the block ``full[offset[0]:..., ...]`` of the
  full logical array (PyTorch order) written into ``tensor`` (any device, any strides), without the full array.

Kinds and params: "uniform" {low, high}, "normal" {mean, std}, "truncated_normal" {mean, std, lo, hi} (absolute
bounds, ±inf allowed), "constant" {value}, "zeros" {}, "ones" {}. dtypes float16, bfloat16, float32, float64:
float16 is the float32 value rounded to float16 (as NumPy's ``to_dtype``), bfloat16 the float32 value rounded
by ``.to(torch.bfloat16)`` (round to nearest even; for the truncated normal that is the float32 result, clamped
to float32's bounds, then rounded, so a bfloat16 value can lie up to half a bfloat16 ulp outside [lo, hi]).

**64-bit words in int64.** torch has no uint64 arithmetic, so a Philox word is an int64 tensor holding the
word's bits (two's complement). Additions and xors are the same bits in int64 (additions wrap mod 2^64). A
64x64 -> 128-bit product (Philox's ``mulhilo``) is assembled from 32-bit limbs: ``a = ah·2^32 + al`` with
``al = a & M32`` and ``ah = (a >> 32) & M32`` (the mask undoes the arithmetic shift's sign fill); the four limb
products are < 2^64 and keep their bits in int64 (they may read as negative); their high and low 32-bit halves
(again masked) are summed with the carry through ``mid = hi32(al·ml) + lo32(al·mh) + lo32(ah·ml) < 3·2^32``:
``hi = ah·mh + hi32(al·mh) + hi32(ah·ml) + (mid >> 32)`` (mod 2^64), ``lo = lo32(al·ml) | lo32(mid) << 32``.
Logical right shifts are an arithmetic shift and a mask. Round 0 of every block (counter words 1..3 are 0) and
half of round 1 are constants of the key, computed once on the host with Python ints. The Triton kernels use
uint64 and ``tl.umulhi`` (``mul.hi.u64``) instead.

**Paths.** ``path="auto"`` (the default) picks, per call:

- ``"triton"`` on CUDA tensors when Triton imports: one fused kernel (a launch per 2^26 elements for normals,
  per 2^30 for the other kinds) that computes each Philox block once, maps its 8 halves (float32 family) or 4
  words (float64, truncated normal) and writes them into the output (any float dtype, rounded in the kernel;
  bfloat16 by integer round-to-nearest-even, as torch). For normals the ziggurat's core is in that kernel; the
  ~1.5% of elements that leave their layer's core are appended (offset, word) to a list, one atomic a program,
  and a second kernel runs the fallback (wedges and tail, SplitMix64-keyed words, a loop over attempts) over that
  dense list. The list holds n/16 entries (expected: n/67); one host sync at the end of the call checks the
  counters, and a piece whose list overflowed (never seen: ~25 standard deviations away for n >= 4096, and
  n <= 4096 gets a list of n) is redone on the eager path. The truncated normal's AS 241 evaluates one
  numerator/denominator pair per element with its branch's coefficients (the same operations as NumPy's branch).
  Compiled with ``enable_fp_fusion=False``: every ``a·b + c`` is a multiply then an add, as in NumPy.
- ``"eager"`` everywhere else (CPU, MPS, CUDA without Triton): plain torch ops on int64 words, in chunks of
  2^18 elements (2^22 on accelerators); normals gather the rejected elements (``nonzero``) and loop over the
  fallback's attempts on that subset only. On MPS, which has no float64, the values are computed on the CPU
  (in chunks) and copied to the tensor.

``PYJINIT_TORCH_SAMPLER=eager`` (or ``path="eager"``) forces the eager path. If a Triton kernel fails to compile,
the call warns once, falls back to eager and ``info()["triton_error"]`` says why.

**Agreement with the NumPy backend** (tests/frameworks/test_torch_sampler.py; bench/gpu.py). Everything is
integer arithmetic and IEEE multiplications, additions, divisions and square roots (correctly rounded), except
``log`` (ziggurat tail, AS 241's tails) and ``exp`` (ziggurat wedges). On the CPU the eager path evaluates
``log``, ``exp`` and float64 ``sqrt`` through NumPy on the tensor's memory (torch's CPU float64 ``sqrt`` is not
always correctly rounded: 1 ulp off in 15 of 20000 truncated-normal tail elements when tried), so there every draw
is bitwise the NumPy backend's. On CUDA, Triton's ``log``/``exp`` are libdevice's (within 1 ulp, not always
correctly rounded). Measured (CPU: every test; CUDA: H200, 2^22 elements a cell, key 0x0123...4321):

=====================  =================================  =======  =======  ========
draw                   float64                            float32  float16  bfloat16
=====================  =================================  =======  =======  ========
uniform, CPU and CUDA  bitwise                            bitwise  bitwise  bitwise
normal, CPU            bitwise                            bitwise  bitwise  bitwise
normal, CUDA           bitwise (the fallback's log/exp    bitwise  bitwise  bitwise
                       agreed on all ~60k fallback
                       elements; within 1 ulp allowed)
truncated_normal, CPU  bitwise                            bitwise  bitwise  bitwise
truncated_normal, CUDA within 4 ulp: 85 of 2^22 elements  bitwise  bitwise  bitwise
                       differ (AS 241 tails, via log)
constant/zeros/ones    bitwise                            bitwise  bitwise  bitwise
=====================  =================================  =======  =======  ========

(A fallback's accept test could in principle flip where a ``log``/``exp`` result lies within 1 ulp of its
threshold, about 2^-50 a test; never seen.) The CUDA tests allow 1 ulp for the narrow dtypes and 2 (normal) or
8 (truncated normal) ulps for float64 in at most 0.1% of the elements.

**Speed** (H200, 2^28 float32 elements, bench/gpu.py): uniform 0.62 ms (torch ``uniform_`` 0.44 ms: 1.4x),
normal 1.77 ms (``normal_`` 0.62 ms: 2.9x; the ziggurat's table load and the rejection list cost 0.7 ms over the
uniform's 0.51 ms kernel, the fallback kernel 0.3 ms), truncated normal 3.7 ms (``trunc_normal_`` 2.5 ms: 1.5x;
float64 AS 241). The eager path on the CPU: 40-90 ns per element (NumPy backend: 1-16 ns).
"""
from __future__ import annotations

import math
import numbers
import os
import threading
import warnings

import numpy as np
import torch

from ..inits import stream, ziggurat
from ..inits.keys import M64, PHILOX_M, PHILOX_W
from ..inits.validate import check_bound, check_choice, check_real, check_seed, fmt

try:  # Triton is optional: the fused CUDA path
    import triton
    import triton.language as tl
    _TRITON_IMPORT_ERROR = None
except Exception as _e:  # pragma: no cover - depends on the installation
    triton = tl = None
    _TRITON_IMPORT_ERROR = f"{type(_e).__name__}: {_e}"

__all__ = ["KINDS", "DTYPES", "sample", "fill_block_", "path_for", "info"]

KINDS = ("uniform", "normal", "truncated_normal", "constant", "zeros", "ones")
DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
PATHS = ("auto", "eager", "triton")

M32 = (1 << 32) - 1
GAMMA, MIX_C = ziggurat.GAMMA, ziggurat.MIX_C
R_TAIL = ziggurat.R
TWO_M24 = 2.0 ** -24
TWO_M52 = 2.0 ** -52
TWO_M53 = 2.0 ** -53

EAGER_CHUNK_CPU = 1 << 18      # elements per eager piece on the CPU (temporaries: a few MB)
EAGER_CHUNK_DEVICE = 1 << 22   # ... on an accelerator
TRITON_CHUNK = 1 << 26         # elements per Triton launch for normals (whose rejection list holds 1/16 of it)
TRITON_CHUNK_PLAIN = 1 << 30   # ... for the other kinds (no temporaries: one launch up to 2^30 elements)
# Philox blocks per Triton program, per kind (or one int for all): the fastest on an H200 (bench/gpu.py --variants)
TRITON_BLOCK = {"uniform": 256, "normal": 128, "truncated_normal": 128}
TRITON_WARPS = 4
TRITON_FB = 64                 # fallback-list entries per program of the fallback kernel, and its warps
TRITON_FB_WARPS = 2

_triton_error = None           # why the Triton path was given up, if it was
_cap_override = None           # tests: a tiny rejection list exercises the overflow path
TRITON_TABLES = 0              # float32 normals' tables: 0 one packed load, 1 two loads, 2 tl.gather (bench/gpu.py)


def _s64(u: int) -> int:
    """The int64 with the bits of the uint64 u."""
    u &= M64
    return u - (1 << 64) if u >> 63 else u


def _mulhilo_int(a: int, m: int):
    p = a * m
    return p >> 64, p & M64


# --- host side: keys, tables, plans --------------------------------------------------------------------------

class _Key:
    """Everything a key contributes, as host ints: the 10 round keys, round 1's constant product, the fallback's
    SplitMix64 base; `buf` is their int64 image (24 words) for the Triton kernels."""

    def __init__(self, key: int):
        self.key = key
        k0, k1 = key & M64, key >> 64
        self.rounds = [((k0 + r * PHILOX_W[0]) & M64, (k1 + r * PHILOX_W[1]) & M64) for r in range(10)]
        # round 0 leaves c0 = k0 (its key word), so round 1's product M0 * c0 is a constant of the key
        self.hi01, self.lo01 = _mulhilo_int(PHILOX_M[0], self.rounds[0][0])
        self.base = ziggurat.fallback_base((k0, k1))
        words = [w for rk in self.rounds for w in rk] + [self.hi01, self.lo01, self.base, 0]
        self.buf = [_s64(w) for w in words]


_KEYS: dict = {}


def _key_info(key: int) -> _Key:
    ki = _KEYS.get(key)
    if ki is None:
        if len(_KEYS) > 256:
            _KEYS.clear()
        ki = _KEYS[key] = _Key(key)
    return ki


_TABLES: dict = {}


def _tables(device: torch.device) -> dict:
    """The ziggurat's tables on `device`: X, F (257 float64), K (256 int64), W32 (256 float32)."""
    t = _TABLES.get(device)
    if t is None:
        t = _TABLES[device] = {
            "X": torch.tensor(ziggurat.X, dtype=torch.float64, device=device),
            "F": torch.tensor(ziggurat.F, dtype=torch.float64, device=device),
            "K": torch.tensor(ziggurat.K.astype(np.int64), device=device),
            "W": torch.tensor(ziggurat.W32, dtype=torch.float32, device=device),
            "K32": torch.tensor(ziggurat.K.astype(np.int32), device=device),
            "KW": torch.tensor((ziggurat.K.astype(np.int64) << 32) | ziggurat.W32.view(np.uint32).astype(np.int64),
                               device=device),
            "Xlo": torch.tensor(ziggurat.X[:256], dtype=torch.float64, device=device),
            "Xhi": torch.tensor(ziggurat.X[1:], dtype=torch.float64, device=device),
        }
    return t


def _f32(x: float) -> float:
    return float(np.float32(x))


class _Plan:
    """A validated draw for one output dtype. kind: uniform | normal | truncated_normal | constant. wide: whole
    words (4 elements a Philox block; float64 working precision for uniform/normal) rather than 32-bit halves
    (8 a block; float32 working precision). par: the float parameters, as the kernels read them."""

    def __init__(self, kind: str, params: dict, dtype: torch.dtype):
        kind = check_choice("kind", kind, KINDS)
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(str(d) for d in DTYPES)}; got {dtype}")
        params = dict(params or {})
        self.dtype = dtype
        self.value = None
        if kind in ("zeros", "ones", "constant"):
            value = {"zeros": 0.0, "ones": 1.0}.get(kind)
            if kind == "constant":
                value = check_real("value", params.get("value", 0.0))
            self.kind, self.wide, self.par = "constant", False, ()
            self.value = _round_value(float(value), dtype)
            return
        self.kind = kind
        if kind == "uniform":
            low, high = check_real("low", params["low"]), check_real("high", params["high"])
            self.wide = dtype == torch.float64
            self.par = (low, high - low) if self.wide else (_f32(low), _f32(high - low))
        elif kind == "normal":
            mean, std = check_real("mean", params["mean"]), check_real("std", params["std"])
            self.wide = dtype == torch.float64
            self.par = (mean, std) if self.wide else (_f32(mean), _f32(std))
        else:
            mean, std = check_real("mean", params["mean"]), check_real("std", params["std"])
            lo, hi = check_bound("lo", params["lo"]), check_bound("hi", params["hi"])
            t = stream.TruncNormal(mean, std, lo, hi)
            ndt = {torch.float64: np.dtype(np.float64), torch.float16: np.dtype(np.float16)}.get(
                dtype, np.dtype(np.float32))       # bfloat16: the float32 result, clamped, then rounded
            lo_t = float(stream.inner_bound(ndt, lo, True))
            hi_t = float(stream.inner_bound(ndt, hi, False))
            self.wide = True
            self.par = (t.pa, t.dp, t.a, t.b, 1.0 if t.flip else 0.0, t.std, t.mean, lo_t, hi_t)

    @property
    def per_block(self) -> int:
        return 4 if self.wide else 8


def _round_value(v: float, dtype: torch.dtype) -> float:
    """A constant as the dtype holds it: float16 through float32 (NumPy's to_dtype), bfloat16 from float32."""
    if dtype == torch.float64:
        return v
    if dtype == torch.float16:
        return float(np.float16(np.float32(v)))
    if dtype == torch.bfloat16:
        return float(torch.tensor(np.float32(v).item(), dtype=torch.float32).to(torch.bfloat16).item())
    return _f32(v)


def _check_key(key) -> int:
    try:
        return check_seed(key)
    except ValueError:
        raise ValueError(f"key must be an integer in [0, 2^128), got {fmt(key)}") from None


def _check_count(name, v) -> int:
    if not isinstance(v, (numbers.Integral, np.integer)) or isinstance(v, (bool, np.bool_)) or v < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {fmt(v)}")
    return int(v)


# --- path selection ------------------------------------------------------------------------------------------

def path_for(device, path: str = "auto") -> str:
    """The path a call on `device` takes: "triton" (CUDA with Triton) or "eager"."""
    path = check_choice("path", path, PATHS)
    device = torch.device(device)
    if path == "auto":
        if os.environ.get("PYJINIT_TORCH_SAMPLER", "").strip().lower() == "eager":
            return "eager"
        return "triton" if device.type == "cuda" and triton is not None and _triton_error is None else "eager"
    if path == "triton" and (triton is None or device.type not in ("cuda", "cpu")):
        raise ValueError(f"the triton path needs Triton and a CUDA tensor (or TRITON_INTERPRET=1 on the CPU): "
                         f"{_TRITON_IMPORT_ERROR or 'device ' + str(device)}")
    return path


def info() -> dict:
    """Which paths exist here: {'triton_available', 'triton_version', 'triton_import_error', 'triton_error',
    'interpret'}."""
    return {"triton_available": triton is not None, "triton_version": getattr(triton, "__version__", None),
            "triton_import_error": _TRITON_IMPORT_ERROR, "triton_error": _triton_error,
            "interpret": os.environ.get("TRITON_INTERPRET", "0") == "1"}


# --- public API -----------------------------------------------------------------------------------------------

def sample(kind: str, params: dict, key: int, start: int, n: int, dtype: torch.dtype, device,
           *, path: str = "auto") -> torch.Tensor:
    """Logical elements start .. start+n-1 of the draw `kind` (params) of `key`, as a 1-D tensor of `dtype` on
    `device`: bitwise the NumPy backend's (stream.uniform_at / normal_at / TruncNormal.sample_at), see the module
    docstring for the 1-ulp cases on CUDA.

    The u32 stream vectors of docs/stream.md §8 (key 42, elements 0..2), as float32 bits:

    >>> import torch
    >>> t = sample("uniform", {"low": 0.0, "high": 1.0}, 42, 0, 3, torch.float32, "cpu")
    >>> [f"{b & 0xFFFFFFFF:08x}" for b in t.view(torch.int32).tolist()]
    ['3e9ac510', '3f51f881', '3eb990f2']
    """
    plan = _Plan(kind, params, dtype)
    key, start, n = _check_key(key), _check_count("start", start), _check_count("n", n)
    device = torch.device(device)
    out = torch.empty(n, dtype=dtype, device=device)
    if n == 0:
        return out
    if plan.kind == "constant":
        return out.fill_(plan.value)
    work = _work_device(device)
    if work != device:                               # MPS: computed on the CPU, copied
        return sample(kind, params, key, start, n, dtype, work, path="eager").to(device)
    with _Checks():
        _fill_runs(out, plan, _key_info(key), None, start, 1, n, path_for(device, path))
    return out


def fill_block_(tensor: torch.Tensor, kind: str, params: dict, key: int, full_shape, offset,
                *, path: str = "auto") -> torch.Tensor:
    """Write into `tensor` the block ``full[offset[0]:offset[0]+tensor.shape[0], ...]`` of the draw's full array
    of shape `full_shape` (PyTorch order: logical index = row-major index), on the tensor's device, in chunks of
    bounded size (never the full array). Returns `tensor`.

    >>> import torch
    >>> t = torch.empty(2, 2)
    >>> full = sample("normal", {"mean": 0.0, "std": 1.0}, 7, 0, 12, torch.float32, "cpu").reshape(3, 4)
    >>> bool((fill_block_(t, "normal", {"mean": 0.0, "std": 1.0}, 7, (3, 4), (1, 2)) == full[1:3, 2:4]).all())
    True
    """
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")
    plan = _Plan(kind, params, tensor.dtype)
    key = _check_key(key)
    full = tuple(_check_count("full_shape", s) for s in full_shape)
    off = tuple(_check_count("offset", o) for o in offset)
    bshape = tuple(tensor.shape)
    if len(full) != len(bshape) or len(off) != len(bshape):
        raise ValueError(f"full_shape {fmt(full)} and offset {fmt(off)} must have the tensor's {len(bshape)} "
                         f"dimensions")
    for d, (f, o, b) in enumerate(zip(full, off, bshape)):
        if o + b > f:
            raise ValueError(f"the block runs past dimension {d}: offset {o} + size {b} > {f}")
    if tensor.numel() == 0:
        return tensor
    if plan.kind == "constant":
        with torch.no_grad():
            return tensor.fill_(plan.value)
    with torch.no_grad(), _Checks():
        work = _work_device(tensor.device)
        p = path_for(tensor.device, path) if work == tensor.device else "eager"
        if tensor.is_contiguous() and work == tensor.device:
            _fill_block_contig(tensor.view(-1), plan, _key_info(key), full, off, bshape, p)
        else:
            limit = (TRITON_CHUNK if p == "triton" else _eager_chunk(work))
            _fill_pieces(tensor, plan, _key_info(key), full, off, p, work, limit)
    return tensor


# --- blocks -> runs -> pieces ---------------------------------------------------------------------------------

def _work_device(device: torch.device) -> torch.device:
    return torch.device("cpu") if device.type == "mps" else device


def _eager_chunk(device: torch.device) -> int:
    return EAGER_CHUNK_CPU if device.type == "cpu" else EAGER_CHUNK_DEVICE


def _strides(full) -> list:
    return [math.prod(full[d + 1:]) for d in range(len(full))]


def _fill_block_contig(out: torch.Tensor, plan, ki, full, off, bshape, path) -> None:
    """The block into the contiguous flat `out`: its contiguous runs of logical indices (row-major), either one
    run, a few long ones (one by one) or many short ones (grouped, with a tensor of run starts)."""
    nd = len(full)
    if nd == 0:
        _fill_runs(out, plan, ki, None, 0, 1, 1, path)
        return
    st = _strides(full)
    j = nd - 1
    while j > 0 and off[j] == 0 and bshape[j] == full[j]:
        j -= 1                                     # dims after j are whole: a run spans them
    L = bshape[j] * st[j]
    R = math.prod(bshape[:j])
    first = sum(o * s for o, s in zip(off, st))
    if R == 1:
        _fill_runs(out, plan, ki, None, first, 1, L, path)
        return
    chunk = TRITON_CHUNK if path == "triton" else _eager_chunk(out.device)
    if 4 * L >= chunk:                             # long runs: one at a time (at most 4 numel / chunk of them)
        for rho in range(R):
            s, rem = first, rho
            for d in range(j - 1, -1, -1):
                rem, i = divmod(rem, bshape[d])
                s += i * st[d]
            _fill_runs(out[rho * L:(rho + 1) * L], plan, ki, None, s, 1, L, path)
        return
    g = max(1, chunk // L)
    for r0 in range(0, R, g):
        m = min(g, R - r0)
        rho = torch.arange(r0, r0 + m, dtype=torch.int64, device=out.device)
        ks = torch.full((m,), first, dtype=torch.int64, device=out.device)
        for d in range(j - 1, -1, -1):
            ks += (rho % bshape[d]) * st[d]
            rho = rho // bshape[d]
        _fill_runs(out[r0 * L:(r0 + m) * L], plan, ki, ks, 0, m, L, path)


def _fill_pieces(t: torch.Tensor, plan, ki, full, off, path, work, limit) -> None:
    """A non-contiguous (or foreign-device) block: sub-blocks of at most `limit` elements, each generated into a
    contiguous temporary on the working device and copied into its place."""
    n = t.numel()
    if n <= limit or t.dim() == 0:
        tmp = torch.empty(tuple(t.shape), dtype=t.dtype, device=work)
        _fill_block_contig(tmp.view(-1), plan, ki, full, off, tuple(t.shape), path)
        t.copy_(tmp)
        return
    d = next(i for i, s in enumerate(t.shape) if s > 1)
    per = n // t.shape[d]
    step = max(1, limit // per)
    for i in range(0, t.shape[d], step):
        sub = t.narrow(d, i, min(step, t.shape[d] - i))
        o = list(off)
        o[d] += i
        _fill_pieces(sub, plan, ki, full, tuple(o), path, work, limit)


def _fill_runs(out: torch.Tensor, plan, ki, ks, start, R, L, path) -> None:
    """out (flat, contiguous, R*L elements) <- the runs of L logical elements starting at ks[r] (a device int64
    tensor), or at `start` when ks is None (then R == 1). Splits a long single run into pieces."""
    global _triton_error
    if path == "triton":
        try:
            _triton_runs(out, plan, ki, ks, start, R, L)
            return
        except Exception as e:  # compile or launch failure: eager from now on
            if out.device.type != "cuda":
                raise
            _triton_error = f"{type(e).__name__}: {e}"
            warnings.warn(f"pyjinit torch_sampler: the Triton path failed ({_triton_error}); using the eager "
                          f"torch path", RuntimeWarning, stacklevel=3)
    chunk = _eager_chunk(out.device)
    if ks is None:
        for a in range(0, L, chunk):
            m = min(chunk, L - a)
            out[a:a + m].copy_(_eager_values(plan, ki, None, start + a, 1, m, out.device))
        return
    g = max(1, chunk // L)
    for r0 in range(0, R, g):
        m = min(g, R - r0)
        out[r0 * L:(r0 + m) * L].copy_(_eager_values(plan, ki, ks[r0:r0 + m], 0, m, L, out.device))


# --- eager path: torch ops on int64 ---------------------------------------------------------------------------

def _srl(x: torch.Tensor, s: int) -> torch.Tensor:
    """Logical right shift of the uint64 bits in int64."""
    return (x >> s) & ((1 << (64 - s)) - 1)


def _mulhilo(a: torch.Tensor, m: int):
    """(hi, lo) of the 128-bit product of the uint64 words a (int64 bits) and the constant m, from 32-bit limbs."""
    mh, ml = m >> 32, m & M32
    al = a & M32
    ah = (a >> 32) & M32
    ll = al * ml
    lh = al * mh
    hl = ah * ml
    hi = ah * mh
    mid = (ll >> 32) & M32
    mid += lh & M32
    mid += hl & M32
    hi += (lh >> 32) & M32
    hi += (hl >> 32) & M32
    hi += mid >> 32
    lo = ll & M32
    lo |= (mid & M32) << 32
    return hi, lo


def _philox_eager(ki: _Key, blocks: torch.Tensor):
    """Words 0..3 of Philox4x64-10 blocks j (counter (j + 1, 0, 0, 0)), as int64 tensors."""
    ctr = blocks + 1
    k0, k1 = ki.rounds[0]
    hi, lo = _mulhilo(ctr, PHILOX_M[0])
    c2 = hi ^ _s64(k1)
    c3 = lo
    k0, k1 = ki.rounds[1]                          # round 1: c0 = round 0's k0, c1 = 0
    hi, lo = _mulhilo(c2, PHILOX_M[1])
    c0 = hi ^ _s64(k0)
    c1 = lo
    c2 = c3 ^ _s64(ki.hi01 ^ k1)
    c3 = _s64(ki.lo01)
    for r in range(2, 10):
        k0, k1 = ki.rounds[r]
        hi0, lo0 = _mulhilo(c0, PHILOX_M[0])
        hi1, lo1 = _mulhilo(c2, PHILOX_M[1])
        hi1 ^= c1
        hi1 ^= _s64(k0)
        hi0 ^= c3
        hi0 ^= _s64(k1)
        c0, c1, c2, c3 = hi1, lo1, hi0, lo0
    return c0, c1, c2, c3


def _eager_raw(ki: _Key, ks, start: int, R: int, L: int, per: int, device) -> torch.Tensor:
    """The raw bits of elements ks[r] + c (or start + c), c < L, row-major: 32-bit halves (per = 8, low half of
    word w first) or words (per = 4), as int64 [R * L]."""
    if ks is None:
        b0, lead = divmod(start, per)
        nb = (lead + L + per - 1) // per
        blocks = torch.arange(b0, b0 + nb, dtype=torch.int64, device=device)
    else:
        nb = (2 * per - 2 + L) // per
        blocks = (ks // per)[:, None] + torch.arange(nb, dtype=torch.int64, device=device)[None, :]
        blocks = blocks.reshape(-1)
    w = _philox_eager(ki, blocks)
    if per == 4:
        raw = torch.stack(w, dim=-1)
    else:
        raw = torch.stack([p for x in w for p in (x & M32, (x >> 32) & M32)], dim=-1)
    if ks is None:
        return raw.reshape(-1)[lead:lead + L]
    raw = raw.reshape(R, nb * per)
    cols = (ks % per)[:, None] + torch.arange(L, dtype=torch.int64, device=device)[None, :]
    return raw.gather(1, cols).reshape(-1)


def _k_of(ks, start, L, pos: torch.Tensor) -> torch.Tensor:
    """Logical indices of the flat positions pos of a piece."""
    if ks is None:
        return pos + start
    r = pos // L
    return ks[r] + (pos - r * L)


def _np_unary(fn, x: torch.Tensor) -> torch.Tensor:
    """log/exp/sqrt: through NumPy on the CPU (the NumPy backend's own functions, so the CPU path is bitwise:
    torch's CPU float64 sqrt is not always correctly rounded), torch's elsewhere (CUDA's sqrt is; log and exp
    within 1 ulp)."""
    if x.device.type == "cpu":
        with np.errstate(all="ignore"):
            return torch.from_numpy(getattr(np, fn)(x.numpy()))
    return getattr(torch, fn)(x)


def _u52(w: torch.Tensor) -> torch.Tensor:
    u = _srl(w, 12).to(torch.float64)
    u += 0.5
    u *= TWO_M52
    return u


def _u53(w: torch.Tensor) -> torch.Tensor:
    u = _srl(w, 11).to(torch.float64)
    u *= TWO_M53
    return u


def _mix64(z: torch.Tensor) -> torch.Tensor:
    z = z ^ _srl(z, 30)
    z = z * _s64(MIX_C[0])
    z = z ^ _srl(z, 27)
    z = z * _s64(MIX_C[1])
    return z ^ _srl(z, 31)


def _fallback_eager(ki: _Key, tab, k, i, x, s) -> torch.Tensor:
    """ziggurat.fallback in torch ops: signed float64 normals of the elements k (int64) whose first draw (layer
    i, |value| x in float64, sign s) left its layer's core; loops over attempts on the shrinking subset."""
    X, F = tab["X"], tab["F"]
    i, x, s = i.clone(), x.clone(), s.clone()
    out = torch.empty(k.numel(), dtype=torch.float64, device=k.device)
    todo = torch.arange(k.numel(), device=k.device)
    base = _s64(ki.base)
    t = 0
    while todo.numel():
        z0 = (k[todo] * 65536 + 4 * t) * _s64(GAMMA) + base
        w1, w2, w3 = (_mix64(z0 + _s64(l * GAMMA)) for l in (1, 2, 3))
        it, xt = i[todo], x[todo]
        u1 = _u52(w1)
        tail = it == 0
        a = -_np_unary("log", u1) / R_TAIL
        b = -_np_unary("log", _u52(w2))
        ok_t = tail & (b + b > a * a)
        fi = F[it]
        y = fi + u1 * (F[it + 1] - fi)
        ok_w = ~tail & (y < _np_unary("exp", -0.5 * xt * xt))
        redo = ~tail & ~ok_w
        ni = w3 & 255
        nx = _u53(w3) * X[ni]
        ok_r = redo & (nx < X[ni + 1])
        val = torch.where(ok_t, R_TAIL + a, torch.where(ok_w, xt, nx))
        ru = todo[redo]
        i[ru] = ni[redo]
        x[ru] = nx[redo]
        s[ru] = ((w3 >> 8) & 1)[redo].to(s.dtype)
        done = ok_t | ok_w | ok_r
        fin = todo[done]
        vd = val[done]
        out[fin] = torch.where(s[fin].bool(), -vd, vd)
        todo = todo[~done]
        t += 1
    return out


def _horner8(x: torch.Tensor, c) -> torch.Tensor:
    r = x * c[7]
    for ci in c[6:0:-1]:
        r += ci
        r *= x
    r += c[0]
    return r


def _norminv_eager(p: torch.Tensor) -> torch.Tensor:
    """stream.norminv (AS 241) in torch ops, float64."""
    q = p - 0.5
    r = 0.180625 - q * q
    num = _horner8(r, stream.AS241_A)
    num *= q
    out = num / _horner8(r, stream.AS241_B)
    tail = torch.nonzero(q.abs() > 0.425).squeeze(1)
    if tail.numel() == 0:
        return out
    pt = p[tail]
    lower = pt < 0.5
    rt = torch.where(lower, pt, 1.0 - pt)
    rt = _np_unary("sqrt", -_np_unary("log", rt))
    v = torch.empty_like(rt)
    near = rt <= 5.0
    v[near] = _ratio(rt[near] - 1.6, stream.AS241_C, stream.AS241_D)
    far = ~near
    if bool(far.any()):
        v[far] = _ratio(rt[far] - 5.0, stream.AS241_E, stream.AS241_F)
    out[tail] = torch.where(lower, -v, v)
    return out


def _ratio(x, num, den):
    return _horner8(x, num) / _horner8(x, den)


def _eager_values(plan: _Plan, ki: _Key, ks, start: int, R: int, L: int, device) -> torch.Tensor:
    """The R*L values of a piece, in the working precision (float32 for the float32 family, float64 else; the
    truncated normal's already rounded through the output dtype and clamped), ready for copy_ into the output."""
    raw = _eager_raw(ki, ks, start, R, L, plan.per_block, device)
    par = plan.par
    if plan.kind == "uniform":
        if plan.wide:
            u = _u53(raw)
            u *= par[1]
            u += par[0]
            return u
        u = _srl(raw, 8).to(torch.float32)
        u *= TWO_M24
        u *= par[1]
        u += par[0]
        return u
    if plan.kind == "normal":
        tab = _tables(device)
        i = raw & 255
        s = (raw >> 8) & 1
        if plan.wide:
            x = _u53(raw) * tab["X"][i]
            core = x < tab["X"][i + 1]
            z = torch.where(s.bool(), -x, x)
        else:
            j = raw >> 9
            x = j.to(torch.float32) * tab["W"][i]
            core = j < tab["K"][i]
            z = torch.where(s.bool(), -x, x)
        rej = torch.nonzero(~core).squeeze(1)
        if rej.numel():
            v = _fallback_eager(ki, tab, _k_of(ks, start, L, rej), i[rej], x[rej].to(torch.float64), s[rej])
            z[rej] = v.to(z.dtype)
        z *= par[1]
        z += par[0]
        return z
    pa, dp, a, b, flip, std, mean, lo_t, hi_t = par
    u = _u52(raw)
    u *= dp
    u += pa
    z = torch.clamp(_norminv_eager(u), a, b)
    if flip:
        z = -z
    z *= std
    z += mean
    if plan.dtype == torch.float64:
        return torch.clamp(z, lo_t, hi_t)
    x = z.to(torch.float32)
    if plan.dtype == torch.float16:
        x = x.to(torch.float16).to(torch.float32)
    return torch.clamp(x, lo_t, hi_t)


# --- Triton path ----------------------------------------------------------------------------------------------

_OUT_CODE = {torch.float64: 0, torch.float32: 1, torch.float16: 2, torch.bfloat16: 3}
_KIND_CODE = {"uniform": 0, "normal": 1, "truncated_normal": 2}

if triton is not None:
    @triton.jit
    def _tl_philox(ctr, kb_ptr):
        """Philox4x64-10 of counters (ctr, 0, 0, 0), ctr uint64; kb_ptr: the key's int64 words (_Key.buf)."""
        k1 = tl.load(kb_ptr + 1).to(tl.uint64, bitcast=True)
        c2 = tl.umulhi(ctr, 0xD2E7470EE14C6C93) ^ k1
        c3 = ctr * 0xD2E7470EE14C6C93
        k0 = tl.load(kb_ptr + 2).to(tl.uint64, bitcast=True)
        k1 = tl.load(kb_ptr + 3).to(tl.uint64, bitcast=True)
        hi01 = tl.load(kb_ptr + 20).to(tl.uint64, bitcast=True)
        lo01 = tl.load(kb_ptr + 21).to(tl.uint64, bitcast=True)
        c0 = tl.umulhi(c2, 0xCA5A826395121157) ^ k0
        c1 = c2 * 0xCA5A826395121157
        c2 = c3 ^ hi01 ^ k1
        c3 = c0 * 0 + lo01
        for r in tl.static_range(2, 10):
            k0 = tl.load(kb_ptr + 2 * r).to(tl.uint64, bitcast=True)
            k1 = tl.load(kb_ptr + 2 * r + 1).to(tl.uint64, bitcast=True)
            hi0 = tl.umulhi(c0, 0xD2E7470EE14C6C93)
            lo0 = c0 * 0xD2E7470EE14C6C93
            hi1 = tl.umulhi(c2, 0xCA5A826395121157)
            lo1 = c2 * 0xCA5A826395121157
            c0 = hi1 ^ c1 ^ k0
            c1 = lo1
            c2 = hi0 ^ c3 ^ k1
            c3 = lo0
        return c0, c1, c2, c3

    @triton.jit
    def _tl_mix64(z):
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB
        return z ^ (z >> 31)

    @triton.jit
    def _tl_c3(far, near, e: tl.constexpr, c: tl.constexpr, a: tl.constexpr):
        """Per element, the coefficient of the branch it takes (float64 constants, no arithmetic)."""
        return tl.where(far, tl.full(far.shape, e, tl.float64),
                        tl.where(near, tl.full(far.shape, c, tl.float64), tl.full(far.shape, a, tl.float64)))

    @triton.jit
    def _tl_h8(y, far, near, a0: tl.constexpr, a1: tl.constexpr, a2: tl.constexpr, a3: tl.constexpr,
               a4: tl.constexpr, a5: tl.constexpr, a6: tl.constexpr, a7: tl.constexpr,
               c0: tl.constexpr, c1: tl.constexpr, c2: tl.constexpr, c3: tl.constexpr,
               c4: tl.constexpr, c5: tl.constexpr, c6: tl.constexpr, c7: tl.constexpr,
               e0: tl.constexpr, e1: tl.constexpr, e2: tl.constexpr, e3: tl.constexpr,
               e4: tl.constexpr, e5: tl.constexpr, e6: tl.constexpr, e7: tl.constexpr):
        """stream._horner8 with each element's coefficients (central a, near tail c, far tail e): the same
        operations in the same order as the branch's own polynomial, so bitwise equal to it."""
        r = y * _tl_c3(far, near, e7, c7, a7)
        r = (r + _tl_c3(far, near, e6, c6, a6)) * y
        r = (r + _tl_c3(far, near, e5, c5, a5)) * y
        r = (r + _tl_c3(far, near, e4, c4, a4)) * y
        r = (r + _tl_c3(far, near, e3, c3, a3)) * y
        r = (r + _tl_c3(far, near, e2, c2, a2)) * y
        r = (r + _tl_c3(far, near, e1, c1, a1)) * y
        return r + _tl_c3(far, near, e0, c0, a0)

    @triton.jit
    def _tl_norminv(p):
        """stream.norminv (AS 241). One numerator and one denominator polynomial per element, with the
        coefficients of its branch (central: q A(r) / B(r); tails: C/D or E/F, times 1.0), rather than all three
        branches for every element: the same operations per element as NumPy's, a third of the work."""
        q = p - 0.5
        lower = p < 0.5
        rt = tl.where(lower, p, 1.0 - p)
        rt = tl.sqrt(-tl.log(rt))          # float64: sqrt.rn.f64, correctly rounded
        tail = tl.abs(q) > 0.425
        near = tail & (rt <= 5.0)
        far = tail & ((rt <= 5.0) == 0)
        y = tl.where(far, rt - 5.0, tl.where(near, rt - 1.6, 0.180625 - q * q))
        num = _tl_h8(y, far, near,
                     3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
                     45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727,
                     1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
                     1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833,
                     7.7454501427834140764e-4,
                     6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
                     0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5,
                     2.01033439929228813265e-7)
        den = _tl_h8(y, far, near,
                     1.0, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077,
                     21213.794301586595867, 39307.89580009271061, 28729.085735721942674, 5226.495278852545925,
                     1.0, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455,
                     0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4,
                     1.05075007164441684324e-9,
                     1.0, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525,
                     7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7,
                     2.04426310338993978564e-15)
        v = (num * tl.where(tail, 1.0, q)) / den
        return tl.where(tail & lower, -v, v)

    @triton.jit
    def _tl_fallback(k, raw, act, kb_ptr, xtab_ptr, ftab_ptr, wtab_ptr, WIDE: tl.constexpr):
        """ziggurat.fallback for the elements k (uint64) whose first draw `raw` (word or half, uint64) left its
        layer's core, where act; signed float64 values (0 elsewhere)."""
        i = (raw & 255).to(tl.int32)
        neg = ((raw >> 8) & 1) != 0
        if WIDE:
            x = (raw >> 11).to(tl.float64) * 1.1102230246251565e-16 * tl.load(xtab_ptr + i)
        else:
            x = ((raw >> 9).to(tl.float32) * tl.load(wtab_ptr + i)).to(tl.float64)
        base = tl.load(kb_ptr + 22).to(tl.uint64, bitcast=True)
        nk = k * 65536
        val = x * 0.0
        t = base * 0
        left = tl.sum(act.to(tl.int32))
        while left > 0:
            z0 = base + (nk + 4 * t) * 0x9E3779B97F4A7C15
            w1 = _tl_mix64(z0 + 0x9E3779B97F4A7C15)
            w2 = _tl_mix64(z0 + 0x3C6EF372FE94F82A)
            w3 = _tl_mix64(z0 + 0xDAA66D2C7DDF743F)
            u1 = ((w1 >> 12).to(tl.float64) + 0.5) * 2.220446049250313e-16
            u2 = ((w2 >> 12).to(tl.float64) + 0.5) * 2.220446049250313e-16
            a = -tl.log(u1) / 3.6541528853610088
            b = -tl.log(u2)
            tail = i == 0
            ok_t = tail & (b + b > a * a)
            fi = tl.load(ftab_ptr + i)
            y = fi + u1 * (tl.load(ftab_ptr + i + 1) - fi)
            below = y < tl.exp(-0.5 * x * x)
            ok_w = (i != 0) & below
            redo = (i != 0) & (below == 0)
            ni = (w3 & 255).to(tl.int32)
            nx = (w3 >> 11).to(tl.float64) * 1.1102230246251565e-16 * tl.load(xtab_ptr + ni)
            ok_r = redo & (nx < tl.load(xtab_ptr + ni + 1))
            res = tl.where(ok_t, 3.6541528853610088 + a, tl.where(ok_w, x, nx))
            upd = act & redo
            i = tl.where(upd, ni, i)
            x = tl.where(upd, nx, x)
            neg = tl.where(upd, ((w3 >> 8) & 1) != 0, neg)
            fin = act & (ok_t | ok_w | ok_r)
            val = tl.where(fin, tl.where(neg, -res, res), val)
            act = act & ((ok_t | ok_w | ok_r) == 0)
            left = tl.sum(act.to(tl.int32))
            t += 1
        return val

    @triton.jit
    def _tl_cast_out(v, OUT: tl.constexpr):
        """v in the output's type; bfloat16 as its int16 bits, rounded to nearest even from float32 as torch does
        (not left to the compiler's conversion)."""
        if OUT == 0:
            return v.to(tl.float64)
        elif OUT == 1:
            return v.to(tl.float32)
        elif OUT == 2:
            return v.to(tl.float32).to(tl.float16)
        else:
            b = v.to(tl.float32).to(tl.uint32, bitcast=True)
            return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).to(tl.int16)

    @triton.jit
    def _tl_scale_normal(z, par_ptr, WIDE: tl.constexpr):
        if WIDE:
            return z * tl.load(par_ptr + 1) + tl.load(par_ptr + 0)
        else:
            return z.to(tl.float32) * tl.load(par_ptr + 1).to(tl.float32) + tl.load(par_ptr + 0).to(tl.float32)

    @triton.jit(do_not_specialize=["start", "R", "L", "nb", "n_items", "cap"])
    def _tl_main(out_ptr, ks_ptr, start, R, L, nb, n_items, kb_ptr, par_ptr, kw_ptr, ktab_ptr, wtab_ptr,
                 xlo_ptr, xhi_ptr, rej_off_ptr, rej_raw_ptr, cnt_ptr, cap,
                 KIND: tl.constexpr, WIDE: tl.constexpr, OUT: tl.constexpr, ALIGNED: tl.constexpr,
                 P: tl.constexpr, BLOCK: tl.constexpr, TABLES: tl.constexpr):
        pid = tl.program_id(0).to(tl.int64)
        q = pid * BLOCK + tl.arange(0, BLOCK).to(tl.int64)
        lane = tl.arange(0, P).to(tl.int64)
        if ALIGNED:                                  # one run, start a multiple of P: item q is block start/P + q
            blk = start // P + q
            off = q[:, None] * P + lane[None, :]
            valid = off < L
            k = start + off
        else:                                        # runs r of L elements from ks[r]; item q = (r, block jb)
            r = q // nb
            inr = q < n_items
            k0 = tl.load(ks_ptr + r, mask=inr, other=0)
            blk = k0 // P + (q - r * nb)
            k = blk[:, None] * P + lane[None, :]
            pos = k - k0[:, None]
            valid = inr[:, None] & (pos >= 0) & (pos < L)
            off = r[:, None] * L + pos
        w0, w1, w2, w3 = _tl_philox((blk + 1).to(tl.uint64), kb_ptr)
        if WIDE:
            raw = tl.reshape(tl.join(tl.join(w0, w2), tl.join(w1, w3)), (BLOCK, 4))
        else:
            raw = tl.reshape(tl.join(tl.join(tl.join(w0 & 0xFFFFFFFF, w2 & 0xFFFFFFFF),
                                             tl.join(w1 & 0xFFFFFFFF, w3 & 0xFFFFFFFF)),
                                     tl.join(tl.join(w0 >> 32, w2 >> 32), tl.join(w1 >> 32, w3 >> 32))),
                             (BLOCK, 8))
        if KIND == 0:
            if WIDE:
                u = (raw >> 11).to(tl.float64) * 1.1102230246251565e-16
                v = u * tl.load(par_ptr + 1) + tl.load(par_ptr + 0)
            else:
                u = (raw >> 8).to(tl.float32) * 5.9604644775390625e-08
                v = u * tl.load(par_ptr + 1).to(tl.float32) + tl.load(par_ptr + 0).to(tl.float32)
            tl.store(out_ptr + off, _tl_cast_out(v, OUT), mask=valid)
        elif KIND == 1:
            i = (raw & 255).to(tl.int32)
            neg = ((raw >> 8) & 1) != 0
            if WIDE:                                 # X[i] and X[i + 1] through the L1 cache
                xi = tl.load(xlo_ptr + i)
                xn = tl.load(xhi_ptr + i)
            elif TABLES == 0:                        # K[i] << 32 | bits of W32[i]: one load an element
                e = tl.load(kw_ptr + i)
                ki = e >> 32
                wi = (e & 0xFFFFFFFF).to(tl.uint32).to(tl.float32, bitcast=True)
            elif TABLES == 1:                        # two loads
                ki = tl.load(ktab_ptr + i)
                wi = tl.load(wtab_ptr + i)
            else:                                    # tl.gather from shared memory (slower on an H200)
                t256 = tl.arange(0, 256)
                i1 = tl.reshape(i, (BLOCK * P,))
                ki = tl.reshape(tl.gather(tl.load(ktab_ptr + t256), i1, 0), (BLOCK, P))
                wi = tl.reshape(tl.gather(tl.load(wtab_ptr + t256), i1, 0), (BLOCK, P))
            if WIDE:
                x = (raw >> 11).to(tl.float64) * 1.1102230246251565e-16 * xi
                core = x < xn
            else:
                j = raw >> 9
                x = j.to(tl.float32) * wi
                core = j < ki.to(tl.uint64)
            v = _tl_scale_normal(tl.where(neg, -x, x), par_ptr, WIDE)
            tl.store(out_ptr + off, _tl_cast_out(v, OUT), mask=valid & core)
            rej = valid & (core == 0)
            rj = rej.to(tl.int32)
            rows = tl.sum(rj, axis=1)
            base = tl.atomic_add(cnt_ptr, tl.sum(rows, axis=0))
            slot = base + (tl.cumsum(rows, axis=0) - rows)[:, None] + (tl.cumsum(rj, axis=1) - rj)
            keep = rej & (slot < cap)
            tl.store(rej_off_ptr + slot, off, mask=keep)
            tl.store(rej_raw_ptr + slot, raw.to(tl.int64, bitcast=True), mask=keep)
        else:
            u = ((raw >> 12).to(tl.float64) + 0.5) * 2.220446049250313e-16
            u = u * tl.load(par_ptr + 1) + tl.load(par_ptr + 0)
            z = _tl_norminv(u)
            z = tl.minimum(tl.maximum(z, tl.load(par_ptr + 2)), tl.load(par_ptr + 3))
            z = tl.where(tl.load(par_ptr + 4) != 0.0, -z, z)
            x = z * tl.load(par_ptr + 5) + tl.load(par_ptr + 6)
            if OUT == 0:
                x = tl.minimum(tl.maximum(x, tl.load(par_ptr + 7)), tl.load(par_ptr + 8))
                tl.store(out_ptr + off, x, mask=valid)
            else:
                x32 = x.to(tl.float32)
                if OUT == 2:
                    x32 = x32.to(tl.float16).to(tl.float32)
                x32 = tl.minimum(tl.maximum(x32, tl.load(par_ptr + 7).to(tl.float32)),
                                 tl.load(par_ptr + 8).to(tl.float32))
                tl.store(out_ptr + off, _tl_cast_out(x32, OUT), mask=valid)

    @triton.jit(do_not_specialize=["start", "L", "cap"])
    def _tl_fallback_kernel(out_ptr, ks_ptr, start, L, kb_ptr, par_ptr, wtab_ptr, xtab_ptr, ftab_ptr,
                            rej_off_ptr, rej_raw_ptr, cnt_ptr, cap,
                            WIDE: tl.constexpr, OUT: tl.constexpr, ALIGNED: tl.constexpr, FB: tl.constexpr):
        e = tl.program_id(0).to(tl.int64) * FB + tl.arange(0, FB).to(tl.int64)
        act = e < tl.minimum(tl.load(cnt_ptr).to(tl.int64), cap)
        off = tl.load(rej_off_ptr + e, mask=act, other=0)
        raw = tl.load(rej_raw_ptr + e, mask=act, other=0).to(tl.uint64, bitcast=True)
        if ALIGNED:
            k = start + off
        else:
            r = off // L
            k = tl.load(ks_ptr + r, mask=act, other=0) + (off - r * L)
        z = _tl_fallback(k.to(tl.uint64), raw, act, kb_ptr, xtab_ptr, ftab_ptr, wtab_ptr, WIDE)
        v = _tl_scale_normal(z, par_ptr, WIDE)
        tl.store(out_ptr + off, _tl_cast_out(v, OUT), mask=act)


_DEV_CACHE: dict = {}
_LOCAL = threading.local()


class _Checks:
    """Collects the normals' rejection-list counters of one public call; on exit, one host sync checks that no
    list overflowed (n/16 entries against an expected n/67) and redoes, eagerly, any piece whose list did."""

    def __enter__(self):
        self.outer = getattr(_LOCAL, "checks", None)
        if self.outer is None:
            _LOCAL.checks = []
        return self

    def __exit__(self, *exc):
        if self.outer is None:
            checks, _LOCAL.checks = _LOCAL.checks, None
            if exc[0] is None and checks:
                _check_overflow(checks)
        return False


def _check_overflow(checks) -> None:
    counts = torch.cat([c for c, _, _ in checks]).tolist()
    for n, (_, cap, (out, plan, ki, ks, start, R, L)) in zip(counts, checks):
        if n > cap:
            _fill_runs(out, plan, ki, ks, start, R, L, "eager")


def _dev_tensor(ck, values, dtype, device) -> torch.Tensor:
    """A small constant tensor on `device`, cached by `ck` (at most 512 entries)."""
    t = _DEV_CACHE.get(ck)
    if t is None:
        if len(_DEV_CACHE) > 512:
            _DEV_CACHE.clear()
        t = _DEV_CACHE[ck] = torch.tensor(values, dtype=dtype, device=device)
    return t


def _dev_key(ki: _Key, device) -> torch.Tensor:
    return _dev_tensor(("key", ki.key, device), ki.buf, torch.int64, device)


def _dev_par(plan: _Plan, device) -> torch.Tensor:
    return _dev_tensor(("par", plan.par, device), list(plan.par) + [0.0], torch.float64, device)


def _triton_runs(out: torch.Tensor, plan: _Plan, ki: _Key, ks, start: int, R: int, L: int) -> None:
    """The Triton kernels over a piece (see _fill_runs), in launches of at most TRITON_CHUNK elements."""
    device = out.device
    chunk = TRITON_CHUNK if plan.kind == "normal" else TRITON_CHUNK_PLAIN
    if ks is None and L > chunk:
        for a in range(0, L, chunk):
            m = min(chunk, L - a)
            _triton_runs(out[a:a + m], plan, ki, None, start + a, 1, m)
        return
    P = plan.per_block
    ks_orig = ks
    aligned = ks is None and start % P == 0
    if ks is None and not aligned:
        ks = torch.tensor([start], dtype=torch.int64, device=device)
    nb = (L + P - 1) // P if aligned else (2 * P - 2 + L) // P
    n_items = R * nb
    tab = _tables(device)
    kb, par = _dev_key(ki, device), _dev_par(plan, device)
    normal = plan.kind == "normal"
    n = R * L
    cap = max(n // 16, min(n, 4096)) if _cap_override is None else max(1, _cap_override)
    if normal:
        rej_off = torch.empty(max(cap, 1), dtype=torch.int64, device=device)
        rej_raw = torch.empty(max(cap, 1), dtype=torch.int64, device=device)
        cnt = torch.zeros(1, dtype=torch.int32, device=device)
    else:
        rej_off = rej_raw = cnt = kb
    ks_arg = kb if ks is None else ks
    orig_out = out
    if plan.dtype == torch.bfloat16:
        out = out.view(torch.int16)                  # the kernels write the rounded bits
    block = TRITON_BLOCK if isinstance(TRITON_BLOCK, int) else TRITON_BLOCK[plan.kind]
    grid = (triton.cdiv(n_items, block),)
    args = (out, ks_arg, start, R, L, nb, n_items, kb, par, tab["KW"], tab["K32"], tab["W"], tab["Xlo"], tab["Xhi"],
            rej_off, rej_raw, cnt, cap)
    _tl_main[grid](*args, KIND=_KIND_CODE[plan.kind], WIDE=plan.wide, OUT=_OUT_CODE[plan.dtype], ALIGNED=aligned,
                   P=P, BLOCK=block, TABLES=TRITON_TABLES if normal and not plan.wide else 0,
                   num_warps=TRITON_WARPS, enable_fp_fusion=False)
    if normal:
        _tl_fallback_kernel[(triton.cdiv(cap, TRITON_FB),)](
            out, ks_arg, start, L, kb, par, tab["W"], tab["X"], tab["F"], rej_off, rej_raw, cnt, cap,
            WIDE=plan.wide, OUT=_OUT_CODE[plan.dtype], ALIGNED=aligned, FB=TRITON_FB, num_warps=TRITON_FB_WARPS,
            enable_fp_fusion=False)
        checks = getattr(_LOCAL, "checks", None)
        redo = (orig_out, plan, ki, ks_orig, start, R, L)
        if checks is None:                           # not inside a public call: check now
            _check_overflow([(cnt, cap, redo)])
        else:
            checks.append((cnt, cap, redo))
