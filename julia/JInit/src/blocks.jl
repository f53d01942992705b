# Blocks: any block of an elementwise initializer's array, generated directly (docs/stream.md §7).
# Element k (row-major over the PyTorch-order shape) depends only on (seed, k), so a block is filled from
# its contiguous runs of k. A `BlockRequest` stands in for the stream when an initializer is called: its
# `draw` fills only the block; initializers whose values depend on the whole array refuse it.

"The block of an initializer call: the stream's key and first 4-word block, and the PyTorch-order ranges (0-based, half-open)."
struct BlockRequest <: Random.AbstractRNG
    key::NTuple{2,UInt64}
    block0::UInt64
    index::Vector{Tuple{Int,Int}}
end

const BLOCKWISE = (:zeros_init, :ones_init, :constant_init, :uniform_init, :normal_init, :truncated_normal_init,
                   :variance_scaling_init, :xavier_init, :he_init, :lecun_init)

"The block's shape in PyTorch order."
block_shape(r::BlockRequest) = Tuple(b - a for (a, b) in r.index)

"Flux-layout dims of a PyTorch-order shape (a matrix keeps (out, in), other ranks reverse)."
flux_dims(shape::Tuple) = length(shape) == 2 ? shape : reverse(shape)

function check_index(index, shape::Tuple)
    length(index) == length(shape) ||
        throw(ArgumentError("index must give a range for each of the $(length(shape)) dimensions, got $(length(index))"))
    for (i, (a, b)) in enumerate(index)
        0 <= a <= b <= shape[i] ||
            throw(ArgumentError("index of dimension $i must satisfy 0 <= start <= stop <= $(shape[i]), got ($a, $b)"))
    end
    return [(Int(a), Int(b)) for (a, b) in index]
end

"The contiguous runs (k0, length) of logical indices of a block, in the block's row-major order."
function block_runs(shape::Tuple, index)
    any(b == a for (a, b) in index) && return Tuple{Int,Int}[]
    n = length(shape)
    j = n
    while j > 1 && index[j] == (0, shape[j])
        j -= 1                                   # dims after j are whole: a run spans them
    end
    strides = [foldl(*, shape[i+1:end]; init = 1) for i in 1:n]
    run = (index[j][2] - index[j][1]) * strides[j]
    starts = [index[j][1] * strides[j]]
    for i in j-1:-1:1
        starts = [r * strides[i] + k for r in index[i][1]:index[i][2]-1 for k in starts]
    end
    return [(k, run) for k in sort(starts)]
end

function draw(r::BlockRequest, ::Type{T}, dims::Dims, d::Dist, out = nothing) where {T}
    shape = torch_shape(dims)
    bshape = block_shape(r)
    v = Vector{T}(undef, foldl(*, bshape; init = 1))
    src = KeySource(r.key, r.block0)
    d = bind(d, src, nothing)
    pos = 0
    sc = scratch()
    for (k0, m) in block_runs(shape, r.index)
        fill_range!(view(v, pos+1:pos+m), d, src, k0, sc)
        pos += m
    end
    return from_logical(v, flux_dims(bshape))
end

const_block(r::BlockRequest, ::Type{T}, x) where {T} = fill(T(x), flux_dims(block_shape(r)))
_zeros_init(r::BlockRequest, ::Type{T}, dims::Dims; out = nothing) where {T} = const_block(r, T, zero(T))
_ones_init(r::BlockRequest, ::Type{T}, dims::Dims; out = nothing) where {T} = const_block(r, T, one(T))
_constant_init(r::BlockRequest, ::Type{T}, dims::Dims; value = 0, out = nothing) where {T} =
    const_block(r, T, to_eltype(T, check_real("value", value)))
word_source(r::BlockRequest, nw::Integer) =
    throw(ArgumentError("this initializer has no block form (its values depend on the whole array)"))

"""
    init_block(f, rng::PhiloxStream, T, dims...; index, kw...) -> Array

The block `index` of `f(rng, T, dims...; kw...)` without making the whole array: `index` gives, for each
dimension of the **PyTorch-order** shape `(out, in, kernel...)`, a 0-based half-open range `(start, stop)`.
The block comes back in Flux layout, like `f` (a matrix as `(out, in)`, other ranks reversed), equal to the
same slice of the whole array. For the elementwise initializers (zeros, ones, constant, uniform, normal,
truncated_normal, variance_scaling, xavier, he, lecun and their Flux/Keras names); orthogonal, sparse and
identity depend on the whole array and raise ArgumentError.

```julia
julia> W = he_init(PhiloxStream(1), 6, 4);

julia> init_block(he_init, PhiloxStream(1), Float32, 6, 4; index = ((2, 5), (1, 3))) == W[3:5, 2:3]
true
```
"""
function init_block(f, rng::PhiloxStream, ::Type{T}, dims::Integer...; index, kw...) where {T}
    shape = torch_shape(check_dims(dims))
    idx = check_index(index, shape)
    nameof(f) in BLOCKWISE || nameof(f) in (:xavier_uniform, :xavier_normal, :glorot_uniform, :glorot_normal,
        :kaiming_uniform, :kaiming_normal, :he_uniform, :he_normal, :lecun_uniform, :lecun_normal) ||
        throw(ArgumentError("$(nameof(f)) has no block form (its values depend on the whole array)"))
    r = BlockRequest(rng.key, rng.block, idx)
    any(b == a for (a, b) in idx) && return Array{T}(undef, flux_dims(block_shape(r)))
    return f(r, T, dims...; kw...)
end
