# Argument validation, fans and gains: the one place for these facts on the Julia side.
# pyjinit/inits/validate.py is the Python twin and must produce the same messages (tests compare them).

fmt(x::AbstractString) = "'" * x * "'"
fmt(x::Symbol) = fmt(String(x))
fmt(x) = string(x)
fmt_choices(allowed) = join(allowed, ", ")

"""
    check_choice(argname, value, allowed) -> String

`value` as a String if it is one of `allowed` (case-sensitive), else `ArgumentError`
"`argname` must be one of a, b, c; got 'x'".
"""
function check_choice(argname::AbstractString, value, allowed)
    v = value isa Symbol ? String(value) : value
    (v isa AbstractString && v in allowed) && return String(v)
    throw(ArgumentError("$argname must be one of $(fmt_choices(allowed)); got $(fmt(value))"))
end

"`x` as Float64 if it is a finite real number satisfying `ok(x)`; else ArgumentError naming `argname` and `what`."
function check_real(argname::AbstractString, x, what::AbstractString = "a finite number", ok = _ -> true)
    if !(x isa Real) || x isa Bool || !isfinite(x) || !ok(x)
        throw(ArgumentError("$argname must be $what, got $(fmt(x))"))
    end
    return Float64(x)
end

"A truncation bound: a real number, ±Inf allowed (one-sided truncation), NaN not."
function check_bound(argname::AbstractString, x)
    (x isa Real && !(x isa Bool) && !isnan(x)) ||
        throw(ArgumentError("$argname must be a number or ±Inf, got $(fmt(x))"))
    return Float64(x)
end

check_nonneg(argname, x) = check_real(argname, x, "a finite number >= 0", v -> v >= 0)

function check_seed(seed)
    if !(seed isa Integer) || seed isa Bool || seed < 0 || seed > typemax(UInt128)
        throw(ArgumentError("seed must be an integer in [0, 2^128), got $(fmt(seed))"))
    end
    return seed
end

function check_dims(dims)
    for d in dims
        (d isa Integer && !(d isa Bool) && d >= 0) ||
            throw(ArgumentError("dimensions must be non-negative integers, got $(fmt(Tuple(dims)))"))
    end
    return Int.(Tuple(dims))
end

const FLOAT_TYPES = (Float16, Float32, Float64)
function check_eltype(T)
    T in FLOAT_TYPES || throw(ArgumentError("element type must be one of Float16, Float32, Float64; got $T"))
    return T
end

"""
    torch_shape(dims) -> Tuple

The PyTorch-order shape `(out, in, kernel...)` of a Julia array in Flux layout: a matrix `(out, in)`
keeps its order, any other rank is reversed (`(kw, kh, in, out)` -> `(out, in, kh, kw)`).
"""
torch_shape(dims::Tuple) = length(dims) == 2 ? dims : reverse(dims)

"""
    fans(shape) -> (fan_in, fan_out)

Fans of a PyTorch-order shape `(out, in, kernel...)`: `fan_in = in * prod(kernel)`,
`fan_out = out * prod(kernel)`. Undefined (ArgumentError) for fewer than 2 dimensions.
"""
function fans(shape::Tuple)
    length(shape) >= 2 ||
        throw(ArgumentError("fans are undefined for an array with fewer than 2 dimensions, got dimensions $(fmt(Tuple(shape)))"))
    receptive = prod(shape[3:end])
    return shape[2] * receptive, shape[1] * receptive
end

"""
    nfan(dims...) -> (fan_in, fan_out)

Fans of a Julia array in Flux layout: Dense `(out, in)` gives `(in, out)`;
conv `(k..., in, out)` gives `(prod(k) * in, prod(k) * out)`.

```julia
julia> nfan(3, 3, 16, 32)
(144, 288)
```
"""
nfan(dims::Integer...) = fans(torch_shape(check_dims(dims)))

const FAN_MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")

"The fan that `mode` selects: fan_in, fan_out, their mean, or their geometric mean."
function fan_for_mode(shape::Tuple, mode, allowed = FAN_MODES)
    m = check_choice("mode", mode, allowed)
    fi, fo = fans(shape)
    m == "fan_in" && return Float64(fi)
    m == "fan_out" && return Float64(fo)
    m == "fan_avg" && return (fi + fo) / 2
    return sqrt(Float64(fi) * Float64(fo))
end

# 1/sqrt(E[f(z)^2]), z ~ N(0, 1), by adaptive quadrature (tests re-derive them by Gauss–Hermite).
const GAIN_GELU = 1.5335304411955353
const GAIN_SILU = 1.6765324703310913
const GAIN_ELU = 1.2451983007007066
const GAIN_SOFTPLUS = 1.0418668355353018

const NONLINEARITIES = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu",
                        "selu", "gelu", "silu", "elu", "softplus")

"""
    calculate_gain(nonlinearity, param = nothing) -> Float64

The recommended gain for a nonlinearity: PyTorch's `torch.nn.init.calculate_gain` table exactly —
linear/identity/conv*/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1+slope²)) (slope `param`,
default 0.01), selu 3/4 — plus gains that preserve the second moment, `1/√E[f(z)²]` for z ~ N(0, 1):
gelu 1.5335, silu 1.6765, elu (α = 1) 1.2452, softplus 1.0419 (docs/initializers.md shows the integrals).

```julia
julia> calculate_gain("leaky_relu", 0.2)
1.3867504905630728
```
"""
function calculate_gain(nonlinearity, param = nothing)
    nl = check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
    if nl == "leaky_relu"
        slope = param === nothing ? 0.01 : check_real("param", param)
        return sqrt(2.0 / (1 + slope^2))
    end
    param === nothing || nl == "leaky_relu" ||
        throw(ArgumentError("param is only used with nonlinearity 'leaky_relu', got nonlinearity $(fmt(nl))"))
    nl == "tanh" && return 5.0 / 3
    nl == "relu" && return sqrt(2.0)
    nl == "selu" && return 3.0 / 4
    nl == "gelu" && return GAIN_GELU
    nl == "silu" && return GAIN_SILU
    nl == "elu" && return GAIN_ELU
    nl == "softplus" && return GAIN_SOFTPLUS
    return 1.0
end
