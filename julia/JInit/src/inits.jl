# The initializers. Each has an implementation `_name(rng, T, dims; kw...)`; the Flux calling
# convention (`name([rng], [T], dims...; kw...)`, partial application) is generated for all of them.

"A fresh PhiloxStream: from `seed`, or seeded from `Random.default_rng()` (so `Random.seed!` applies)."
default_stream(seed) = PhiloxStream(seed === nothing ? rand(Random.default_rng(), UInt64) : seed)

"An array for the result: `out` if given (in-place `init!`), else a new one."
result_array(::Type{T}, dims::Dims, out) where {T} = out === nothing ? Array{T}(undef, dims) : out

"Draw an array of Flux-layout `dims` whose logical elements follow `d` (see fill_logical!)."
function draw(rng::Random.AbstractRNG, ::Type{T}, dims::Dims, d::Dist, out = nothing) where {T}
    A = result_array(T, dims, out)
    src = word_source(rng, nwords(d, length(A)))
    return fill_logical!(A, bind(d, src, rng), src)
end

"A logical-order vector as an array of Flux-layout `dims` (a matrix (out, in) is stored row by row in `v`)."
function from_logical(v::Vector, dims::Dims, out = nothing)
    out === nothing && return length(dims) == 2 ? permutedims(reshape(v, dims[2], dims[1])) : reshape(v, dims)
    return length(dims) == 2 ? permutedims!(out, reshape(v, dims[2], dims[1]), (2, 1)) : copyto!(out, v)
end

function uniform_dist(::Type{T}, low::Float64, high::Float64) where {T}
    low <= high || throw(ArgumentError("low must be <= high, got low=$(fmt(low)), high=$(fmt(high))"))
    return T === Float64 ? Uniform64(low, high - low) : Uniform32(Float32(low), Float32(high - low))
end

_zeros_init(rng, ::Type{T}, dims::Dims; out = nothing) where {T} = fill!(result_array(T, dims, out), zero(T))
_ones_init(rng, ::Type{T}, dims::Dims; out = nothing) where {T} = fill!(result_array(T, dims, out), one(T))
_constant_init(rng, ::Type{T}, dims::Dims; value = 0, out = nothing) where {T} =
    fill!(result_array(T, dims, out), to_eltype(T, check_real("value", value)))

_uniform_init(rng, ::Type{T}, dims::Dims; low = 0, high = 1, out = nothing) where {T} =
    draw(rng, T, dims, uniform_dist(T, check_real("low", low), check_real("high", high)), out)

_normal_init(rng, ::Type{T}, dims::Dims; mean = 0, std = 1, out = nothing) where {T} =
    draw(rng, T, dims, normal_dist(T, check_real("mean", mean), check_nonneg("std", std)), out)

function _truncated_normal_init(rng, ::Type{T}, dims::Dims; mean = 0, std = 1, lo = nothing, hi = nothing,
                                lo_std = -2, hi_std = 2, out = nothing) where {T}
    m, s = check_real("mean", mean), check_nonneg("std", std)
    l = lo === nothing ? m + s * check_bound("lo_std", lo_std) : check_bound("lo", lo)
    h = hi === nothing ? m + s * check_bound("hi_std", hi_std) : check_bound("hi", hi)
    l < h || throw(ArgumentError("truncation bounds must satisfy lo < hi, got lo=$(fmt(l)), hi=$(fmt(h))"))
    d = truncnormal(m, s, l, h)
    A = draw(rng, T, dims, d, out)
    lt, ht = inner_bound(T, l, true), inner_bound(T, h, false)
    return clamp!(A, lt, ht)
end

const DISTRIBUTIONS = ("uniform", "normal", "truncated_normal")
const KERAS_TRUNC_STD = 0.87962566103423978   # std of N(0,1) truncated to [-2, 2] (Keras, JAX)

"""
The shared core of every fan-scaled initializer: variance `scale / n` with `n` the fan chosen by `mode`;
uniform on ±√(3 scale / n), normal with std √(scale / n), or (Keras/JAX) a normal truncated to ±2 std
whose std is divided by 0.8796… so that the variance is still `scale / n`.
"""
function scaled(rng, ::Type{T}, dims::Dims, scale::Float64, mode, distribution, out, modes = FAN_MODES) where {T}
    dist = check_choice("distribution", distribution, DISTRIBUTIONS)
    n = fan_for_mode(torch_shape(dims), mode, modes)
    n == 0 && return result_array(T, dims, out)          # a zero fan means an empty array
    if dist == "uniform"
        limit = sqrt(3 * scale / n)
        return draw(rng, T, dims, uniform_dist(T, -limit, limit), out)
    elseif dist == "normal"
        return draw(rng, T, dims, normal_dist(T, 0.0, sqrt(scale / n)), out)
    else
        s = sqrt(scale / n) / KERAS_TRUNC_STD
        return _truncated_normal_init(rng, T, dims; std = s, out = out)
    end
end

_variance_scaling_init(rng, ::Type{T}, dims::Dims; scale = 1, mode = "fan_in",
                       distribution = "truncated_normal", out = nothing) where {T} =
    scaled(rng, T, dims, check_nonneg("scale", scale), mode, distribution, out)

_xavier_init(rng, ::Type{T}, dims::Dims; gain = 1, distribution = "uniform", out = nothing) where {T} =
    scaled(rng, T, dims, check_nonneg("gain", gain)^2, "fan_avg", distribution, out)

function _he_init(rng, ::Type{T}, dims::Dims; gain = nothing, a = nothing, nonlinearity = "relu",
                  mode = "fan_in", distribution = "normal", out = nothing) where {T}
    if gain === nothing
        nl = check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
        (a === nothing || nl == "leaky_relu") ||
            throw(ArgumentError("a (the negative slope) is only used with nonlinearity 'leaky_relu', got nonlinearity $(fmt(nl))"))
        g = calculate_gain(nl, nl == "leaky_relu" ? (a === nothing ? 0 : a) : nothing)
    else
        a === nothing || throw(ArgumentError("give either gain or a (the leaky_relu slope), not both"))
        g = check_nonneg("gain", gain)
    end
    return scaled(rng, T, dims, g^2, mode, distribution, out, ("fan_in", "fan_out"))
end

_lecun_init(rng, ::Type{T}, dims::Dims; distribution = "normal", out = nothing) where {T} =
    scaled(rng, T, dims, 1.0, "fan_in", distribution, out)

function _orthogonal_init(rng, ::Type{T}, dims::Dims; gain = 1, out = nothing) where {T}
    g = check_real("gain", gain)
    shape = torch_shape(dims)
    length(shape) >= 2 ||
        throw(ArgumentError("orthogonal needs at least 2 dimensions, got dimensions $(fmt(dims))"))
    rows = shape[1]
    cols = prod(shape[2:end])
    (rows == 0 || cols == 0) && return result_array(T, dims, out)
    W = T === Float64 ? Float64 : Float32                # QR in the output's precision, as PyTorch
    v = Vector{W}(undef, rows * cols)
    d = normal_dist(W, 0.0, 1.0)
    src = word_source(rng, nwords(d, rows * cols))
    fill_logical!(v, bind(d, src, rng), src)
    Mt = reshape(v, cols, rows)                          # the transpose of the logical rows×cols matrix
    tall = rows < cols ? Mt : permutedims(Mt)            # PyTorch factors the tall orientation
    F = qr(tall)
    Q = Matrix(F.Q)
    R = F.R
    for j in 1:size(Q, 2)                                # Haar sign fix; sign(0) := +1 keeps every column
        if R[j, j] < 0
            Q[:, j] .*= -1
        end
    end
    # Q is the logical rows×cols matrix L (rows ≥ cols) or its transpose. A Flux matrix (out, in) is L;
    # any other rank stores L row-major, i.e. Lᵀ column-major: one of them is Q itself.
    vals = (length(dims) == 2) == (rows >= cols) ? Q : permutedims(Q)
    A = result_array(T, dims, out)
    vec(A) .= to_eltype.(T, W(g) .* vec(vals))
    return A
end

"@(m, n) Fisher–Yates: for each of `groups` groups, choose m distinct indices of 0:n-1 (draw order in docs/stream.md)."
function choose_subsets(src, groups::Int, n::Int, m::Int)
    perm = [collect(0:n-1) for _ in 1:groups]
    for i in 0:m-1, g in 0:groups-1
        t = i * groups + g
        w = getblock(src, t ÷ 4)[t % 4 + 1]
        j = i + Int((UInt128(w) * UInt128(n - i)) >> 64)
        p = perm[g+1]
        p[i+1], p[j+1] = p[j+1], p[i+1]
    end
    return [p[1:m] for p in perm]
end

"The words for a matrix-global pattern: the stream of `sparse_key` of a PhiloxStream's key at the same block, else the rng itself."
pattern_source(rng::PhiloxStream, block0::UInt64, nw) = KeySource(seed_key(sparse_key(key_seed(rng.key))), block0)
pattern_source(rng::Random.AbstractRNG, block0, nw) = VecSource(rand(rng, UInt64, nw))

function _sparse_init(rng, ::Type{T}, dims::Dims; sparsity = nothing, std = 0.01, nonzeros = nothing,
                      out = nothing) where {T}
    length(dims) == 2 ||
        throw(ArgumentError("sparse needs a 2-dimensional shape (out, in), got $(length(dims)) dimensions"))
    s = check_nonneg("std", std)
    rows, cols = dims
    if nonzeros === nothing
        sparsity === nothing &&
            throw(ArgumentError("sparse needs sparsity (fraction of zeros per column) or nonzeros (nonzero weights per row)"))
        sp = check_real("sparsity", sparsity, "a number in [0, 1]", x -> 0 <= x <= 1)
        groups, n, m = cols, rows, ceil(Int, sp * rows)
    else
        sparsity === nothing || throw(ArgumentError("give either sparsity or nonzeros, not both"))
        (nonzeros isa Integer && !(nonzeros isa Bool) && 0 <= nonzeros <= cols) ||
            throw(ArgumentError("nonzeros must be an integer in [0, $cols] (the number of inputs), got $(fmt(nonzeros))"))
        groups, n, m = rows, cols, cols - nonzeros
    end
    block0 = rng isa PhiloxStream ? rng.block : UInt64(0)
    v = Vector{T}(undef, rows * cols)
    d = normal_dist(T, 0.0, s)
    src = word_source(rng, nwords(d, rows * cols))
    fill_logical!(v, bind(d, src, rng), src)
    chosen = choose_subsets(pattern_source(rng, block0, m * groups), groups, n, m)
    for g in 1:groups, idx in chosen[g]
        k = nonzeros === nothing ? idx * cols + (g - 1) : (g - 1) * cols + idx
        v[k+1] = zero(T)
    end
    return from_logical(v, dims, out)
end

function _identity_init(rng, ::Type{T}, dims::Dims; gain = 1, groups = 1, out = nothing) where {T}
    g = check_real("gain", gain)
    shape = torch_shape(dims)
    length(shape) >= 2 ||
        throw(ArgumentError("identity needs at least 2 dimensions, got dimensions $(fmt(dims))"))
    nout, inp = shape[1], shape[2]
    (groups isa Integer && !(groups isa Bool) && groups >= 1 && nout % groups == 0) ||
        throw(ArgumentError("groups must be a positive integer dividing out = $nout, got $(fmt(groups))"))
    ks = shape[3:end]
    ksize = prod(ks)
    centre = 0                                           # row-major offset of the tap k ÷ 2 in each kernel dim
    for k in ks
        centre = centre * k + k ÷ 2
    end
    v = zeros(T, prod(shape))
    opg = nout ÷ groups
    for gr in 0:groups-1, d in 0:min(opg, inp)-1
        v[((gr * opg + d) * inp + d) * ksize + centre + 1] = to_eltype(T, g)
    end
    return from_logical(v, dims, out)
end

"""
    delta_orthogonal_init([rng], [T], dims...; gain = 1, seed)

Delta-orthogonal convolution kernel (Xiao et al. 2018, arXiv:1806.05393), as `jax.nn.initializers.delta_orthogonal`
and pyjinit's `delta_orthogonal_init`: Flux dims `(k..., in, out)`, 3 to 5 dimensions, `out >= in`; zero except
the centre tap `(k - 1) ÷ 2` (0-based) of every kernel dimension, which holds `orthogonal_init(out, in; gain)`
drawn from the same stream (its columns orthonormal: `W_c' W_c = gain² I`).

```julia
julia> W = delta_orthogonal_init(3, 3, 4, 8; seed = 0); c = W[2, 2, :, :]; c * c' ≈ I(4)
true
```
"""
function _delta_orthogonal_init(rng, ::Type{T}, dims::Dims; gain = 1, out = nothing) where {T}
    check_real("gain", gain)
    shape = torch_shape(dims)
    length(shape) in (3, 4, 5) ||
        throw(ArgumentError("delta_orthogonal needs a 3-D, 4-D or 5-D shape (out, in, *kernel), got dimensions $(fmt(shape))"))
    shape[1] >= shape[2] ||
        throw(ArgumentError("delta_orthogonal needs in <= out (fan_in <= fan_out, as JAX), got out = $(shape[1]), in = $(shape[2])"))
    M = _orthogonal_init(rng, T, (shape[1], shape[2]); gain = gain)     # the (out, in) matrix, as PyTorch's
    A = fill!(result_array(T, dims, out), zero(T))
    centre = map(k -> (k - 1) ÷ 2 + 1, dims[1:end-2])
    A[centre..., :, :] .= permutedims(M)                                   # Flux (k..., in, out)
    return A
end

const INITIALIZERS = (:zeros_init, :ones_init, :constant_init, :uniform_init, :normal_init,
                      :truncated_normal_init, :variance_scaling_init, :xavier_init, :he_init, :lecun_init,
                      :orthogonal_init, :sparse_init, :identity_init, :delta_orthogonal_init)

for f in INITIALIZERS
    impl = Symbol(:_, f)
    @eval begin
        function $f(rng::Random.AbstractRNG, ::Type{T}, dims::Integer...; kw...) where {T}
            return $impl(rng, check_eltype(T), check_dims(dims); kw...)
        end
        $f(rng::Random.AbstractRNG, dims::Integer...; kw...) = $f(rng, Float32, dims...; kw...)
        $f(::Type{T}, dims::Integer...; seed = nothing, kw...) where {T} = $f(default_stream(seed), T, dims...; kw...)
        $f(dims::Integer...; seed = nothing, kw...) = $f(default_stream(seed), Float32, dims...; kw...)
        $f(rng::Random.AbstractRNG; kw...) = (args...; kw2...) -> $f(rng, args...; kw..., kw2...)
        $f(; kw...) = (args...; kw2...) -> $f(args...; kw..., kw2...)
    end
end

# Names of PyTorch, Keras and Flux, with their distribution fixed (all still take rng, T, dims, kw).
for (alias, f, distribution) in ((:xavier_uniform, :xavier_init, "uniform"), (:xavier_normal, :xavier_init, "normal"),
                                 (:glorot_uniform, :xavier_init, "uniform"), (:glorot_normal, :xavier_init, "normal"),
                                 (:kaiming_uniform, :he_init, "uniform"), (:kaiming_normal, :he_init, "normal"),
                                 (:he_uniform, :he_init, "uniform"), (:he_normal, :he_init, "normal"),
                                 (:lecun_uniform, :lecun_init, "uniform"), (:lecun_normal, :lecun_init, "normal"))
    @eval $alias(args...; kw...) = $f(args...; distribution = $distribution, kw...)
end

# Flux's own definitions where Flux differs from the names above (Flux 0.16, src/utils.jl), on Flux dims; the
# Python names flux.lecun_normal, flux.orthogonal and flux.identity_init give the same values.
function _flux_lecun_normal(rng, ::Type{T}, dims::Dims; gain = 1, out = nothing) where {T}
    g = check_nonneg("gain", gain)
    fan_in = length(dims) <= 1 ? 1 : nfan(dims...)[1]                    # Flux's nfan: a vector has fan_in 1
    std = fan_in == 0 ? 0.0 : g / sqrt(Float64(fan_in))
    return _truncated_normal_init(rng, T, dims; mean = 0.0, std = std, lo = -2.0, hi = 2.0, out = out)
end

function _flux_orthogonal(rng, ::Type{T}, dims::Dims; gain = 1, out = nothing) where {T}
    length(dims) == 1 || return _orthogonal_init(rng, T, dims; gain = gain, out = out)
    v = vec(_orthogonal_init(rng, T, (1, dims[1]); gain = gain))        # Flux: the 1 x n matrix, one unit row
    return out === nothing ? v : copyto!(out, v)
end

function _flux_identity_init(rng, ::Type{T}, dims::Dims; gain = 1, shift = 0, out = nothing) where {T}
    g = Float64(gain)
    shifts = shift isa Tuple ? shift : (shift,)
    (all(x -> x isa Integer && !(x isa Bool), shifts) && length(shifts) <= max(1, length(dims))) ||
        throw(ArgumentError("shift must be an integer or a tuple of at most $(max(1, length(dims))) integers (one per dimension, as Julia's circshift), got $(fmt(shift))"))
    A = fill!(Array{T}(undef, dims), zero(T))
    if length(dims) == 2
        for i in 1:minimum(dims)
            A[i, i] = to_eltype(T, g)
        end
    elseif length(dims) > 2
        centres = map(d -> cld(d, 2), dims[1:end-2])
        for i in 1:min(dims[end-1], dims[end])
            A[centres..., i, i] = to_eltype(T, g)
        end
    end
    length(dims) >= 2 && (A = circshift(A, shifts))
    return out === nothing ? A : copyto!(out, A)
end

"""
    flux_lecun_normal([rng], [T], dims...; gain = 1, seed)
    flux_orthogonal([rng], [T], dims...; gain = 1, seed)
    flux_identity_init([rng], [T], dims...; gain = 1, shift = 0)

Flux's `lecun_normal` (its `truncated_normal` with std `gain / sqrt(fan_in)` and absolute bounds ±2),
`orthogonal` (a vector is the 1×n matrix: a unit vector times gain) and `identity_init` (centre `cld(k, 2)`,
then `circshift(A, shift)` with an integer or a tuple), from JInit's stream; equal to pyjinit's `flux.*` names.
"""
const FLUX_NAMES = (:flux_lecun_normal, :flux_orthogonal, :flux_identity_init)

for f in FLUX_NAMES
    impl = Symbol(:_, f)
    @eval begin
        $f(rng::Random.AbstractRNG, ::Type{T}, dims::Integer...; kw...) where {T} =
            $impl(rng, check_eltype(T), check_dims(dims); kw...)
        $f(rng::Random.AbstractRNG, dims::Integer...; kw...) = $f(rng, Float32, dims...; kw...)
        $f(::Type{T}, dims::Integer...; seed = nothing, kw...) where {T} = $f(default_stream(seed), T, dims...; kw...)
        $f(dims::Integer...; seed = nothing, kw...) = $f(default_stream(seed), Float32, dims...; kw...)
    end
end

"""
    init!(f, A::Array; rng = nothing, seed = nothing, kw...) -> A

Fill an existing array in place with initializer `f` (any of JInit's, e.g. `kaiming_normal`), like
PyTorch's `torch.nn.init.*_`: the same values `f(rng, eltype(A), size(A)...; kw...)` would return.
Values come from `rng`, else from `PhiloxStream(seed)`, else from a fresh stream.

```julia
julia> W = Matrix{Float32}(undef, 64, 32); init!(kaiming_normal, W; seed = 1) == kaiming_normal(64, 32; seed = 1)
true
```
"""
function init!(f, A::Array{T}; rng = nothing, seed = nothing, kw...) where {T}
    (rng === nothing || seed === nothing) || throw(ArgumentError("give either rng or seed, not both"))
    f(rng === nothing ? default_stream(seed) : rng, T, size(A)...; out = A, kw...)
    return A
end

"""
    pretrained_init(A::AbstractArray)

An initializer that returns a copy of `A`, after checking that the requested size and element type are
those of `A` (Flux's `Dense(W_in => W_out; init = pretrained_init(W))`).

```julia
julia> W = ones(Float32, 2, 3); pretrained_init(W)(2, 3) == W
true
```
"""
function pretrained_init(A::AbstractArray)
    function init(rng::Random.AbstractRNG, ::Type{T}, dims::Integer...) where {T}
        d = check_dims(dims)
        size(A) == d ||
            throw(ArgumentError("pretrained array has dimensions $(fmt(size(A))), the initializer was asked for $(fmt(d))"))
        eltype(A) === T ||
            throw(ArgumentError("pretrained array has element type $(eltype(A)), the initializer was asked for $T"))
        return Array{T}(copy(A))
    end
    init(rng::Random.AbstractRNG, dims::Integer...) = init(rng, Float32, dims...)
    init(::Type{T}, dims::Integer...) where {T} = init(Random.default_rng(), T, dims...)
    init(dims::Integer...) = init(Random.default_rng(), Float32, dims...)
    return init
end

const PRESETS = ("torch", "keras", "flux", "flax")

"""
    layer_init(preset, dims...; seed, T = Float32) -> (weight, bias)

A layer's default initialization in a framework, weight from `seed` and bias (length `out`) from
`bias_key(seed)`:
- "torch": weight and bias U(±1/√fan_in) (PyTorch `nn.Linear`/`nn.Conv*` `reset_parameters`: the
  weight is `kaiming_uniform_(a=√5)`, exactly that bound);
- "keras", "flux": glorot (Xavier) uniform weight, zero bias;
- "flax": lecun_normal (variance scaling 1, fan_in, truncated normal) weight, zero bias.

```julia
julia> W, b = layer_init("torch", 4, 3; seed = 1); size(W), size(b)
((4, 3), (4,))
```
"""
function layer_init(preset, dims::Integer...; seed::Integer, T::Type = Float32)
    p = check_choice("preset", preset, PRESETS)
    d = check_dims(dims)
    check_eltype(T)
    out = torch_shape(d)[1]
    rng = PhiloxStream(seed)
    if p == "torch"
        W = he_init(rng, T, d...; a = sqrt(5.0), nonlinearity = "leaky_relu", distribution = "uniform")
        fan_in = fans(torch_shape(d))[1]
        bound = fan_in > 0 ? 1 / sqrt(fan_in) : 0.0
        b = uniform_init(PhiloxStream(bias_key(seed)), T, out; low = -bound, high = bound)
        return W, b
    end
    W = p == "flax" ? variance_scaling_init(rng, T, d...) : xavier_init(rng, T, d...)
    return W, zeros(T, out)
end
