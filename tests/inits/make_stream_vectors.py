"""Write julia/JInit/test/stream_vectors.txt: the stream's test vectors, from NumPy's C Philox.

Both test suites check against that file (Julia: runtests.jl; Python: test_stream.py, which also
regenerates it here and compares, so it cannot go stale). docs/stream.md quotes its first lines.
Line format: `kind seed k hexbits`, hexbits the IEEE bits (or the word) as lowercase hex.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from pyjinit.inits import stream as st  # noqa: E402

PATH = Path(__file__).resolve().parents[2] / "julia" / "JInit" / "test" / "stream_vectors.txt"
SEEDS = (0, 1, 42, (1 << 64) + 5, (1 << 128) - 1)
N = 12
TRUNC = (0.0, 1.0, -1.0, 2.5)        # mean, std, lo, hi of the `trunc` vectors


def lines() -> list:
    out = [f"# kind seed k hexbits; trunc = truncated normal mean={TRUNC[0]} std={TRUNC[1]} lo={TRUNC[2]} hi={TRUNC[3]}"]
    for s in SEEDS:
        w = st.words(s, N)
        u32 = st.uniform(s, N, np.dtype(np.float32), 0.0, 1.0)
        u64 = st.uniform(s, N, np.dtype(np.float64), 0.0, 1.0)
        nrm = st.normal(s, N, np.dtype(np.float64), 0.0, 1.0)
        n32 = st.normal(s, N, np.dtype(np.float32), 0.0, 1.0)
        tr = st.TruncNormal(*TRUNC).sample(s, N, np.dtype(np.float64))
        for k in range(N):
            out.append(f"word {s} {k} {int(w[k]):016x}")
            out.append(f"u32 {s} {k} {int(u32[k:k+1].view(np.uint32)[0]):08x}")
            out.append(f"u64 {s} {k} {int(u64[k:k+1].view(np.uint64)[0]):016x}")
            out.append(f"normal {s} {k} {int(nrm[k:k+1].view(np.uint64)[0]):016x}")
            out.append(f"normal32 {s} {k} {int(n32[k:k+1].view(np.uint32)[0]):08x}")
            out.append(f"trunc {s} {k} {int(tr[k:k+1].view(np.uint64)[0]):016x}")
    out.extend(fallback_lines())
    out.extend(key_lines())
    return out


KEY_CASES = ((0, "param", (1, 0)), (0, "param", (1, 1)), (0, "param", (2, 0)), (5, "param", (3, 2)),
             (5, "param", (5, 0)), ((1 << 64) + 5, "param", (3, 2)), ((1 << 128) - 1, "param", (2**64 - 1, 7)),
             (42, "epoch", (0,)), (42, "epoch", (1,)), (7, "bias", ()), (7, "sparse", ()), (7, "diagnose", ()),
             (0, "subset", ()), (9, "name", (17,)), (9, "namepart", (1, 2, 3)))
NAME_CASES = ((0, "weight"), (0, "layers.5.attn.wq.weight"), ((1 << 128) - 1, "encoder.layers.11.self_attn.in_proj_weight"),
              (3, ""), (3, "24bytes-exactly-24bytes!"))


def key_lines() -> list:
    """Stream v3 keys (docs/stream.md §6): `derive seed stream i0,i1,i2 hexkey` (indices missing = 0, `-` for
    none) and `namekey seed name hexkey` (the name without spaces; `-` for the empty name); hexkey is the
    128-bit key as 32 lowercase hex digits."""
    from pyjinit.inits import keys as K

    out = []
    for s, stream, idx in KEY_CASES:
        out.append(f"derive {s} {stream} {','.join(map(str, idx)) or '-'} {K.derive(s, stream, *idx):032x}")
    for s, name in NAME_CASES:
        out.append(f"namekey {s} {name or '-'} {K.name_key(s, name):032x}")
    return out


def fallback_lines() -> list:
    """Normals that leave the ziggurat's core (docs/stream.md §3): the first 4 wedge and the first 4 tail
    elements of seed 1, float32 (from halves) and float64 (from words)."""
    from pyjinit.inits import ziggurat as z

    out = []
    n = 1 << 20
    h = st.words(1, n // 2).view(np.uint32)
    i, j = h & 255, h >> 9
    off = np.flatnonzero(j >= z.K[i])
    for name in ("wedge", "tail"):
        ks = off[(i[off] == 0) == (name == "tail")][:4]
        v = st.normal(1, int(ks[-1]) + 1, np.dtype(np.float32), 0.0, 1.0)
        out += [f"normal32 1 {k} {int(v[k:k+1].view(np.uint32)[0]):08x}" for k in ks]
    w = st.words(1, n)
    i = (w & np.uint64(255)).astype(np.intp)
    off = np.flatnonzero((w >> np.uint64(11)).astype(np.float64) * 2.0 ** -53 * z.X[i] >= z.X[i + 1])
    for name in ("wedge", "tail"):
        ks = off[(i[off] == 0) == (name == "tail")][:4]
        v = st.normal(1, int(ks[-1]) + 1, np.dtype(np.float64), 0.0, 1.0)
        out += [f"normal 1 {k} {int(v[k:k+1].view(np.uint64)[0]):016x}" for k in ks]
    return out


if __name__ == "__main__":
    PATH.write_text("\n".join(lines()) + "\n")
    print(f"wrote {PATH}")
