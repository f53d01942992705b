# LSUV, layer-sequential unit-variance initialization (Mishkin & Matas, ICLR 2016), for dense layers in the
# core (stdlib only, the same algorithm and arithmetic as pyjinit's training/lsuv.py) and for Flux models in
# the extension (`lsuv!`). The activations are the trainer's, written as pyjinit's NumPy networks write them.

const LSUV_BATCH = 500      # examples in the trainer's LSUV batch: the first of batch_order(seed, 0, n)

const ACTIVATIONS = Dict{String,Function}(
    "relu" => x -> max(x, zero(x)),
    "tanh" => tanh,
    "sigmoid" => x -> one(x) / (one(x) + exp(-x)),
    "leaky_relu" => x -> x > 0 ? x : oftype(x, 0.01) * x,
    # tanh approximation, as NNlib's gelu and pyjinit's NumPy networks
    "gelu" => x -> oftype(x, 0.5) * x * (one(x) + tanh(oftype(x, sqrt(2 / pi)) * (x + oftype(x, 0.044715) * x^3))))

"Population variance (divided by n) of the elements of `z`, computed in Float64."
function var_pop(z::AbstractArray)
    n = length(z)
    n == 0 && return 0.0
    m = sum(Float64, z) / n
    return sum(v -> (Float64(v) - m)^2, z) / n
end

"The LSUV arguments, checked: (tol, max_iter)."
function check_lsuv_args(tol, max_iter)
    tol = check_real("tol", tol, "a number in (0, 1)", v -> 0 < v < 1)
    (max_iter isa Integer && max_iter >= 1) || throw(ArgumentError("max_iter must be an integer >= 1, got $(fmt(max_iter))"))
    return tol, Int(max_iter)
end

"""
    lsuv_layer!(w, output, tol, max_iter) -> (z, k)

The one LSUV step of JInit (pyjinit's twin: `inits/lsuv.py`), for any layer: `output()` is the layer's output
(pre-activation) on the batch with its current weight `w`; while its population variance v is not within `tol`
of 1 (and not 0), `w ./= sqrt(v)`, at most `max_iter` times. Returns the last output and the number of rescalings.
`lsuv` (dense weights) and `lsuv!` (Flux chains) run it layer by layer.
"""
function lsuv_layer!(w::AbstractArray, output, tol, max_iter)
    k = 0
    z = output()
    while k < max_iter
        v = var_pop(z)
        (abs(v - 1) < tol || v == 0) && break
        w ./= eltype(w)(sqrt(v))
        z = output()
        k += 1
    end
    return z, k
end

"""
    lsuv(weights, activation, x; tol = 0.1, max_iter = 10) -> (weights, iterations)

Layer-sequential unit-variance (Mishkin & Matas 2016, Algorithm 1) for a dense network: `weights` are the
layers' (out, in) matrices (orthonormal, from the caller), `x` a data batch (features × n). For each layer in
order, its weight is divided by the std of its output (pre-activation) on the batch, W ← W / √Var(W a), until
|Var − 1| < `tol`, at most `max_iter` times; the next layer sees `activation` of that output (none after the
last). Works on Float32 copies; returns them and the number of rescalings per layer. The same algorithm as
pyjinit's `init="lsuv"` (which takes the batch `x[:, batch_order(seed, 0, n)[1:$(LSUV_BATCH)]]`), equal to it up to
float32 rounding of the matrix products. `lsuv!` (Flux extension) does the same to a Flux model.

```julia
julia> ws = [orthogonal_init(PhiloxStream(param_key(0, l, 0)), o, i) for (l, (o, i)) in enumerate([(32, 784), (10, 32)])];

julia> ws, iters = lsuv(ws, "relu", rand(Float32, 784, 500));
```
"""
function lsuv(weights::AbstractVector, activation, x::AbstractMatrix{<:Real}; tol::Real = 0.1, max_iter::Integer = 10)
    f = ACTIVATIONS[check_choice("activation", activation, sort!(collect(keys(ACTIVATIONS))))]
    tol, max_iter = check_lsuv_args(tol, max_iter)
    ws = [Matrix{Float32}(w) for w in weights]
    a = Matrix{Float32}(x)
    iters = Int[]
    for (l, w) in enumerate(ws)
        size(w, 2) == size(a, 1) ||
            throw(DimensionMismatch("layer $l's weight has $(size(w, 2)) inputs, its input has $(size(a, 1)) features"))
        z, k = lsuv_layer!(w, () -> w * a, tol, max_iter)
        push!(iters, k)
        a = l == length(ws) ? z : f.(z)
    end
    return ws, iters
end

"""
    lsuv!(model, x; tol = 0.1, max_iter = 10) -> (model, iterations)

LSUV for a Flux model, in place: for each `Dense`, `Conv` and `CrossCor` layer of a `Chain`, in order, its
weight is divided by the std of its pre-activation output on the batch `x` until the variance is within `tol`
of 1 (at most `max_iter` times). Orthonormal weights first are the caller's choice (`init = orthogonal_init`).
Needs Flux: the extension defines it.
"""
function lsuv!(args...; kw...)
    throw(ErrorException(needs_flux("lsuv!")))
end
