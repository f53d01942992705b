# Distributions as word -> value maps, and the (threaded) fill of an array in logical order.

abstract type Dist end
"U[a, a + w) from 32-bit halves of words (two elements a word, low half first); for Float32 and Float16."
struct Uniform32 <: Dist
    a::Float32
    w::Float32
end
"U[a, a + w) from whole words; for Float64."
struct Uniform64 <: Dist
    a::Float64
    w::Float64
end
"""
mean + std * z, z = Φ⁻¹(pa + u * dp) clamped to [a, b] (negated when `flip`), the result clamped to
[lo, hi] after rounding to the element type.
"""
struct TruncNormal <: Dist
    mean::Float64
    std::Float64
    pa::Float64
    dp::Float64
    a::Float64
    b::Float64
    flip::Bool
    lo::Float64
    hi::Float64
end

elements_per_word(::Uniform32) = 2
elements_per_word(::Dist) = 1

"Round a Float64/Float32 value to T (Float16 goes through Float32, on both sides of the stream)."
@inline to_eltype(::Type{Float16}, x) = Float16(Float32(x))
@inline to_eltype(::Type{T}, x) where {T} = T(x)

"The lower bound `lo` rounded into T, moved inward if rounding took it outside."
function inner_bound(::Type{T}, lo::Float64, up::Bool) where {T}
    t = to_eltype(T, lo)
    up ? (t < lo ? nextfloat(t) : t) : (t > lo ? prevfloat(t) : t)
end

"""
    truncnormal(mean, std, lo, hi) -> TruncNormal

Normal(mean, std) truncated to the absolute interval [lo, hi] by inverse CDF. The interval is sampled
on the side of zero where it has the smaller tail probabilities (negating when a + b > 0), so deep
tails keep their relative precision; std == 0 gives `clamp(mean, lo, hi)`.
"""
function truncnormal(mean::Float64, std::Float64, lo::Float64, hi::Float64)
    # std == 0: z = 0 for every draw, so each value is the mean, then clamped to [lo, hi] in T
    a = std > 0 ? (lo - mean) / std : 0.0
    b = std > 0 ? (hi - mean) / std : 0.0
    flip = a + b > 0
    if flip
        a, b = -b, -a
    end
    pa, pb = normcdf(a), normcdf(b)
    return TruncNormal(mean, std, pa, pb - pa, a, b, flip, lo, hi)
end

# --- word sources -----------------------------------------------------------------------------------
"Words from Philox blocks `block0 + b` (b = 0, 1, …) of a key: any block can be computed on its own."
struct KeySource
    key::NTuple{2,UInt64}
    block0::UInt64
end
"Words drawn beforehand from another AbstractRNG, in the same positions."
struct VecSource
    w::Vector{UInt64}
end
@inline getblock(s::KeySource, b::Int) = block_words(s.key, s.block0 + UInt64(b))
@inline function getblock(s::VecSource, b::Int)
    i = 4b
    n = length(s.w)
    @inbounds return (i + 1 <= n ? s.w[i+1] : UInt64(0), i + 2 <= n ? s.w[i+2] : UInt64(0),
                      i + 3 <= n ? s.w[i+3] : UInt64(0), i + 4 <= n ? s.w[i+4] : UInt64(0))
end

nwords(d::Dist, n::Integer) = cld(n, elements_per_word(d))

"""
    word_source(rng, nwords) -> source

For a `PhiloxStream`: its key from the current block on, and the stream advances past the blocks used.
For any other AbstractRNG: `nwords` words drawn from it with `rand(rng, UInt64, nwords)`.
"""
function word_source(rng::PhiloxStream, nw::Integer)
    src = KeySource(rng.key, rng.block)
    rng.block += UInt64(cld(nw, 4))
    rng.pos = 5
    return src
end
word_source(rng::Random.AbstractRNG, nw::Integer) = VecSource(rand(rng, UInt64, nw))

# --- the fill ----------------------------------------------------------------------------------------
# Words are generated a chunk at a time into a buffer, then mapped to values in tight loops (normals:
# ziggurat.jl). For the truncated normal, the central branch of AS 241 is evaluated branch-free over the whole chunk (so LLVM
# can vectorize it) and the tail elements (|u - 1/2| > 0.425, ~15%) are recomputed with the scalar
# `norminv`: every value is bitwise what the formulas of docs/stream.md §3–4 give.

const CHUNK_WORDS = 512

"wbuf[1:m] = words w .. w+m-1 (0-based word indices) of the source."
function fill_words!(wbuf::Vector{UInt64}, src, w::Int, m::Int)
    i = 1
    b = w >> 2
    lane0 = w & 3
    @inbounds while i <= m
        ws = getblock(src, b)
        if lane0 == 0 && i + 3 <= m
            wbuf[i], wbuf[i+1], wbuf[i+2], wbuf[i+3] = ws
            i += 4
        else
            for lane in lane0+1:4
                i > m && break
                wbuf[i] = ws[lane]
                i += 1
            end
        end
        lane0 = 0
        b += 1
    end
    return wbuf
end

"z[i] = norminv(p[i]) for i in 1:m, bitwise (idx: scratch of length m + 1)."
function norminv_batch!(z::Vector{Float64}, p::Vector{Float64}, idx::Vector{Int}, m::Int)
    @inbounds for i in 1:m                     # central branch for all: no branches, vectorizable
        q = p[i] - 0.5
        r = 0.180625 - q * q
        z[i] = q * horner8(r, AS241_A) / horner8(r, AS241_B)
    end
    nt = 0                                     # the tails (~15%): indices gathered without branches,
    @inbounds for i in 1:m                     # then the scalar formula on those only
        idx[nt+1] = i
        nt += abs(p[i] - 0.5) > 0.425
    end
    @inbounds for j in 1:nt
        i = idx[j]
        z[i] = norminv(p[i])
    end
    return z
end

"The value in T of a Uniform32 element whose 32-bit half of a word is `h`: a + w * (the top 24 bits of h, in [0, 1))."
@inline u32_value(::Type{T}, d::Uniform32, h::UInt32) where {T} = to_eltype(T, d.a + d.w * u24_closeopen(h))

"""
    map_halves!(value, dest, wbuf, w, m, k0, n)

The float32 kinds' mapping: element e is the low (e even) or high (e odd) 32-bit half h of word e >> 1;
dest[e - k0 + 1] = value(h, e) for the elements k0 .. k0+n-1 whose words are w .. w+m-1 (in wbuf).
"""
@inline function map_halves!(value::F, dest::AbstractVector, wbuf, w::Int, m::Int, k0::Int, n::Int) where {F}
    e = max(2w, k0)                                      # elements 2w .. 2(w+m)-1 of this chunk
    e1 = min(2(w + m), k0 + n) - 1
    @inbounds if isodd(e) && e <= e1                     # a leading high half
        dest[e - k0 + 1] = value((wbuf[(e >> 1) - w + 1] >> 32) % UInt32, e)
        e += 1
    end
    npairs = (e1 - e + 1) >> 1
    wi, di = (e >> 1) - w, e - k0
    @inbounds for i in 1:npairs                          # whole words: low half, then high half
        x = wbuf[wi + i]
        dest[di + 2i - 1] = value(x % UInt32, e + 2i - 2)
        dest[di + 2i] = value((x >> 32) % UInt32, e + 2i - 1)
    end
    e += 2npairs
    @inbounds if e <= e1                                 # a trailing low half
        dest[e - k0 + 1] = value(wbuf[(e >> 1) - w + 1] % UInt32, e)
    end
    return dest
end

"""
    map_words!(dest, d, wbuf, tmp, w, m, k0, n)

Values of logical elements k0 .. k0+n-1, whose words are w .. w+m-1 (in `wbuf`), into dest (dest[1] is
element k0); `tmp`: scratch for the normal family.
"""
map_words!(dest::AbstractVector{T}, d::Uniform32, wbuf, tmp, w::Int, m::Int, k0::Int, n::Int) where {T} =
    map_halves!((h, e) -> u32_value(T, d, h), dest, wbuf, w, m, k0, n)

function map_words!(dest::AbstractVector{T}, d::Uniform64, wbuf, tmp, w::Int, m::Int, k0::Int, n::Int) where {T}
    e0, e1 = max(w, k0), min(w + m, k0 + n) - 1
    @inbounds for e in e0:e1
        dest[e - k0 + 1] = to_eltype(T, d.a + d.w * u53_closeopen(wbuf[e - w + 1]))
    end
    return dest
end

# The normal family: the quantile's argument from u, and the value from z = Φ⁻¹(argument).
@inline quantile_arg(d::TruncNormal, u::Float64) = d.pa + u * d.dp
@inline function from_z(d::TruncNormal, z::Float64)
    t = clamp(z, d.a, d.b)
    return d.mean + d.std * (d.flip ? -t : t)
end

function map_words!(dest::AbstractVector{T}, d::TruncNormal, wbuf, tmp, w::Int, m::Int, k0::Int,
                    n::Int) where {T}
    p, z, idx = tmp
    @inbounds for i in 1:m
        p[i] = quantile_arg(d, u52_open(wbuf[i]))
    end
    norminv_batch!(z, p, idx, m)
    e0, e1 = max(w, k0), min(w + m, k0 + n) - 1
    @inbounds for e in e0:e1
        dest[e - k0 + 1] = to_eltype(T, from_z(d, z[e - w + 1]))
    end
    return dest
end

"Scratch buffers of one fill (words, quantile arguments, normals, tail indices)."
scratch() = (Vector{UInt64}(undef, CHUNK_WORDS), (Vector{Float64}(undef, CHUNK_WORDS),
             Vector{Float64}(undef, CHUNK_WORDS), Vector{Int}(undef, CHUNK_WORDS + 1)))

"dest[i] = value of logical element k0 + i - 1 (0-based logical indices k0 .. k0 + length(dest) - 1)."
function fill_range!(dest::AbstractVector{T}, d::Dist, src, k0::Int, (wbuf, tmp) = scratch()) where {T}
    n = length(dest)
    n == 0 && return dest
    epw = elements_per_word(d)
    wfirst, wlast = fld(k0, epw), fld(k0 + n - 1, epw)
    w = wfirst
    while w <= wlast
        m = min(CHUNK_WORDS - (w & 3), wlast - w + 1)      # later chunks start on a block boundary
        fill_words!(wbuf, src, w, m)
        map_words!(dest, d, wbuf, tmp, w, m, k0, n)
        w += m
    end
    return dest
end

const THREAD_MIN = 1 << 15    # below this many elements one thread does it all

"Split 0:n-1 into at most nthreads() contiguous chunks whose starts are multiples of `align`."
function chunks(n::Int, align::Int)
    n == 0 && return Tuple{Int,Int}[]
    nt = n < THREAD_MIN ? 1 : Threads.nthreads()
    step = cld(cld(n, nt), align) * align
    return [(s, min(s + step, n)) for s in 0:step:n-1]
end

"""
    fill_logical!(A, d, src)

Fill `A` with the values of its logical elements: `A`'s linear (column-major) order for every rank
but 2; a matrix `(out, in)` is filled in row-major order (element `[i, j]` is logical `(i-1)*in + j-1`).
Multithreaded over blocks when Julia has threads; the values never depend on the thread count.
"""
function fill_logical!(A::Array{T}, d::Dist, src) where {T}
    if ndims(A) == 2
        fill_rowmajor!(A, d, src)
    else
        v = vec(A)
        cs = chunks(length(v), 64)
        on_threads(length(cs)) do t
            fill_range!(view(v, cs[t][1]+1:cs[t][2]), d, src, cs[t][1])
        end
    end
    return A
end

"f(t) for t in 1:nt: on Julia's threads when nt > 1 (a small array skips the threading overhead)."
function on_threads(f, nt::Int)
    if nt == 1
        f(1)
    else
        Threads.@threads for t in 1:nt
            f(t)
        end
    end
    return nothing
end

# A matrix (out, in) is filled in tiles of TILE_ROWS × TILE_COLS: each row segment of a tile is
# generated into a buffer (logical order is row-major), then every column of the tile is written as
# TILE_ROWS contiguous elements (half a page for Float32), so the writes do not thrash the TLB.
const TILE_ROWS = 512
const TILE_COLS = 128

function fill_rowmajor!(A::AbstractMatrix{T}, d::Dist, src) where {T}
    nr, nc = size(A)
    (nr == 0 || nc == 0) && return A
    tiles = [(r0, c0) for r0 in 0:TILE_ROWS:nr-1 for c0 in 0:TILE_COLS:nc-1]
    nt = nr * nc < THREAD_MIN ? 1 : min(Threads.nthreads(), length(tiles))
    per = cld(length(tiles), nt)
    on_threads(nt) do t
        buf = Vector{T}(undef, min(TILE_ROWS, nr) * min(TILE_COLS, nc))
        sc = scratch()
        for (r0, c0) in view(tiles, (t - 1) * per + 1:min(t * per, length(tiles)))
            rows, cols = min(TILE_ROWS, nr - r0), min(TILE_COLS, nc - c0)
            for r in 1:rows                      # row segment r: logical (r0 + r - 1) * nc + c0 ...
                fill_range!(view(buf, (r - 1) * cols + 1:r * cols), d, src, (r0 + r - 1) * nc + c0, sc)
            end
            @inbounds for j in 1:cols, r in 1:rows
                A[r0 + r, c0 + j] = buf[(r - 1) * cols + j]
            end
        end
    end
    return A
end
