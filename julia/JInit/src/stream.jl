# The counter-based stream (docs/stream.md is the specification; pyjinit/inits/stream.py is the NumPy twin).
#
# Base generator: Philox4x64-10 with NumPy's conventions. key = (seed mod 2^64, seed >> 64); block j of
# a fresh stream is philox4x64_10(counter = j + 1, key) and yields words 4j .. 4j+3 in lane order.
# Element k of an array is a pure function of (seed, k): which words it reads is fixed by its
# distribution (`words_per_element`), never by what else was drawn.

const PHILOX_M0 = 0xD2E7470EE14C6C93
const PHILOX_M1 = 0xCA5A826395121157
const PHILOX_W0 = 0x9E3779B97F4A7C15
const PHILOX_W1 = 0xBB67AE8584CAA73B

@inline function mulhilo(a::UInt64, b::UInt64)
    p = widemul(a, b)
    return (p >> 64) % UInt64, p % UInt64
end

@inline function philox_round(c0, c1, c2, c3, k0, k1)
    hi0, lo0 = mulhilo(PHILOX_M0, c0)
    hi1, lo1 = mulhilo(PHILOX_M1, c2)
    return hi1 ⊻ c1 ⊻ k0, lo1, hi0 ⊻ c3 ⊻ k1, lo0
end

"""
    philox4x64_10(ctr::NTuple{4,UInt64}, key::NTuple{2,UInt64}) -> NTuple{4,UInt64}

The Philox4x64-10 block function (Salmon et al. 2011), bit-identical to Random123 and NumPy.
"""
@inline function philox4x64_10(ctr::NTuple{4,UInt64}, key::NTuple{2,UInt64})
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    c0, c1, c2, c3 = philox_round(c0, c1, c2, c3, k0, k1)
    Base.Cartesian.@nexprs 9 i -> begin
        k0 += PHILOX_W0
        k1 += PHILOX_W1
        c0, c1, c2, c3 = philox_round(c0, c1, c2, c3, k0, k1)
    end
    return (c0, c1, c2, c3)
end

"""
    seed_key(seed::Integer) -> NTuple{2,UInt64}

The Philox key of `seed` (0 ≤ seed < 2^128): `(seed mod 2^64, seed >> 64)`, as `numpy.random.Philox(key=seed)`.
"""
function seed_key(seed::Integer)
    check_seed(seed)
    s = UInt128(seed)
    return (s % UInt64, (s >> 64) % UInt64)
end

"""
    PhiloxStream(seed::Integer)

JInit's counter-based RNG: Philox4x64-10 with NumPy's conventions, so that
`PhiloxStream(s)` and Python's `numpy.random.Philox(key=s)` give the same 64-bit words.
Every JInit initializer called with a `PhiloxStream` computes element `k` of the array from words
at fixed positions after the stream's current block (threads never change the result), then advances
the stream past the blocks it used. It is also an ordinary `AbstractRNG` (`rand(s, UInt64)`, …).

# Example
```julia
julia> s = PhiloxStream(42); W = kaiming_normal(s, 3, 4); size(W)
(3, 4)
```
"""
mutable struct PhiloxStream <: Random.AbstractRNG
    key::NTuple{2,UInt64}
    block::UInt64          # blocks already used: the next one is philox(block + 1, key)
    buf::NTuple{4,UInt64}  # words of the current block for sequential `rand`
    pos::Int               # next unread lane of `buf` (5 = empty)
end
PhiloxStream(seed::Integer) = PhiloxStream(seed_key(seed), UInt64(0), (0, 0, 0, 0) .% UInt64, 5)

Base.copy(s::PhiloxStream) = PhiloxStream(s.key, s.block, s.buf, s.pos)
@inline block_words(key::NTuple{2,UInt64}, j::UInt64) = philox4x64_10((j + UInt64(1), UInt64(0), UInt64(0), UInt64(0)), key)

function Random.rand(s::PhiloxStream, ::Random.SamplerType{UInt64})
    if s.pos > 4
        s.buf = block_words(s.key, s.block)
        s.block += UInt64(1)
        s.pos = 1
    end
    w = s.buf[s.pos]
    s.pos += 1
    return w
end
Random.rand(s::PhiloxStream, ::Random.SamplerType{T}) where {T<:Union{Bool,Int8,UInt8,Int16,UInt16,Int32,UInt32,Int64}} =
    rand(s, UInt64) % T
Random.rand(s::PhiloxStream, ::Random.SamplerTrivial{Random.CloseOpen01{Float64}}) = u53_closeopen(rand(s, UInt64))
Random.rand(s::PhiloxStream, ::Random.SamplerTrivial{Random.CloseOpen01{Float32}}) = u24_closeopen(rand(s, UInt64) % UInt32)

# ---------------------------------------------------------------------------------------------------
# Words -> numbers. These are the whole mapping; docs/stream.md states them for reimplementers.

"uniform on [0, 1) from the 32-bit half `h` of a word: `(h >> 8) * 2^-24` (NumPy's float32)."
@inline u24_closeopen(h::UInt32) = Float32(h >> 8) * Float32(5.9604644775390625e-8)
"uniform on [0, 1) from a word: `(w >> 11) * 2^-53` (NumPy's float64)."
@inline u53_closeopen(w::UInt64) = Float64(w >> 11) * 1.1102230246251565e-16
"uniform on the open interval (0, 1) from a word: `((w >> 12) + 0.5) * 2^-52`; exact, symmetric under u -> 1-u."
@inline u52_open(w::UInt64) = (Float64(w >> 12) + 0.5) * 2.220446049250313e-16

# Wichura (1988), Algorithm AS 241 (PPND16): Φ⁻¹(p) with relative error about 1e-16. Horner written
# out with separate * and + (no fused multiply-add), so it rounds exactly like the NumPy twin.
@inline horner8(x, c) = ((((((c[8] * x + c[7]) * x + c[6]) * x + c[5]) * x + c[4]) * x + c[3]) * x + c[2]) * x + c[1]
const AS241_A = (3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
                 45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727)
const AS241_B = (1.0, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077,
                 21213.794301586595867, 39307.89580009271061, 28729.085735721942674, 5226.495278852545925)
const AS241_C = (1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
                 1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4)
const AS241_D = (1.0, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455,
                 0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9)
const AS241_E = (6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
                 0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7)
const AS241_F = (1.0, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525,
                 7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15)

"""
    norminv(p::Float64) -> Float64

Φ⁻¹(p), the standard normal quantile, by Wichura's AS 241 (|relative error| ≈ 1e-16). `norminv(0) = -Inf`.
"""
@inline function norminv(p::Float64)
    q = p - 0.5
    if abs(q) <= 0.425
        r = 0.180625 - q * q
        return q * horner8(r, AS241_A) / horner8(r, AS241_B)
    end
    r = q < 0 ? p : 1.0 - p
    r = sqrt(-log(r))
    if r <= 5.0
        r -= 1.6
        v = horner8(r, AS241_C) / horner8(r, AS241_D)
    else
        r -= 5.0
        v = horner8(r, AS241_E) / horner8(r, AS241_F)
    end
    return q < 0 ? -v : v
end

"""
    normcdf(x::Float64) -> Float64

Φ(x), the standard normal CDF, accurate to a few ulp relative in the lower tail: Marsaglia's Taylor
series for |x| < 3, the Laplace continued fraction of the Mills ratio beyond. Φ(x) for x > 0 is 1 - Φ(-x).
"""
function normcdf(x::Float64)
    isnan(x) && return x
    x > 0 && return 1.0 - normcdf(-x)
    x == -Inf && return 0.0
    pdf = exp(-0.5 * x * x) * 0.3989422804014327
    if x > -3.0
        s, t, i = x, x, 1.0
        while true
            i += 2.0
            t = t * x * x / i
            s2 = s + t
            s2 == s && break
            s = s2
        end
        return 0.5 + pdf * s
    end
    z = -x                   # Φ(x) = φ(z) / (z + 1/(z + 2/(z + 3/(z + …)))), evaluated bottom-up
    f = z
    for n in 200:-1:1
        f = z + n / f
    end
    return pdf / f
end
