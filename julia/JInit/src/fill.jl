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
"mean + std * Φ⁻¹(u), u = u52_open(word)."
struct Normal <: Dist
    mean::Float64
    std::Float64
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

@inline value(d::Uniform32, w::UInt64, j::Int) = d.a + d.w * u24_closeopen((w >> (32 * j)) % UInt32)
@inline value(d::Uniform64, w::UInt64, j::Int) = d.a + d.w * u53_closeopen(w)
@inline value(d::Normal, w::UInt64, j::Int) = d.mean + d.std * norminv(u52_open(w))
@inline function value(d::TruncNormal, w::UInt64, j::Int)
    z = clamp(norminv(d.pa + u52_open(w) * d.dp), d.a, d.b)
    return d.mean + d.std * (d.flip ? -z : z)
end

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
    a = std > 0 ? (lo - mean) / std : (mean >= lo ? -Inf : Inf)
    b = std > 0 ? (hi - mean) / std : (mean <= hi ? Inf : -Inf)
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
nblocks(d::Dist, n::Integer) = cld(nwords(d, n), 4)

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
"dest[i] = value of logical element k0 + i - 1 (0-based logical indices k0 .. k0 + length(dest) - 1)."
function fill_range!(dest::AbstractVector{T}, d::Dist, src, k0::Int) where {T}
    n = length(dest)
    n == 0 && return dest
    epw = elements_per_word(d)
    epb = 4 * epw
    k1 = k0 + n
    for b in fld(k0, epb):fld(k1 - 1, epb)
        ws = getblock(src, b)
        base = b * epb
        if base >= k0 && base + epb <= k1                       # whole block: no bounds checks
            for lane in 1:4, j in 0:epw-1
                @inbounds dest[base + (lane - 1) * epw + j - k0 + 1] = to_eltype(T, value(d, ws[lane], j))
            end
        else
            for lane in 1:4, j in 0:epw-1
                k = base + (lane - 1) * epw + j
                if k0 <= k < k1
                    @inbounds dest[k - k0 + 1] = to_eltype(T, value(d, ws[lane], j))
                end
            end
        end
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
        Threads.@threads for c in cs
            fill_range!(view(v, c[1]+1:c[2]), d, src, c[1])
        end
    end
    return A
end

const ROW_GROUP = 16    # rows generated together, then written column by column (contiguous)

function fill_rowmajor!(A::AbstractMatrix{T}, d::Dist, src) where {T}
    nr, nc = size(A)
    (nr == 0 || nc == 0) && return A
    ngroups = cld(nr, ROW_GROUP)
    nt = nr * nc < THREAD_MIN ? 1 : min(Threads.nthreads(), ngroups)
    per = cld(ngroups, nt)
    Threads.@threads for t in 1:nt
        buf = Vector{T}(undef, ROW_GROUP * nc)
        for g in (t - 1) * per:min(t * per, ngroups) - 1
            r0 = g * ROW_GROUP
            nrows = min(ROW_GROUP, nr - r0)
            fill_range!(view(buf, 1:nrows*nc), d, src, r0 * nc)
            @inbounds for j in 1:nc, r in 1:nrows
                A[r0 + r, j] = buf[(r - 1) * nc + j]
            end
        end
    end
    return A
end
