# Argument validation, fans and gains: the one place for these facts on the Julia side.
# pyjinit/inits/validate.py is the Python twin and must produce the same messages (tests compare them).

# fmt renders a value as pyjinit/inits/validate.py's fmt does: strings quoted, booleans true/false, tuples
# element by element, non-finite floats NaN/Inf/-Inf, anything else as Python's repr of the value that
# juliacall hands to Julia (None -> nothing, a list -> a vector, a complex -> Complex{Float64}).
fmt(x::AbstractString) = "'" * x * "'"
fmt(x::Symbol) = fmt(String(x))
fmt(x::Bool) = x ? "true" : "false"
fmt(x::Tuple) = "(" * join(map(fmt, x), ", ") * (length(x) == 1 ? "," : "") * ")"
fmt(x::AbstractFloat) = isfinite(x) ? pyrepr(x) : string(Float64(x))      # NaN, Inf, -Inf
fmt(x) = pyrepr(x)
fmt_choices(allowed) = join(allowed, ", ")

# Python's repr of the value juliacall converts to `x`.
pyrepr(::Nothing) = "None"
pyrepr(x::Bool) = x ? "True" : "False"
pyrepr(x::Integer) = string(x)
pyrepr(x::AbstractFloat) = pyfloat(Float64(x))
pyrepr(x::Complex) = pycomplex(Float64(real(x)), Float64(imag(x)))
pyrepr(x::AbstractString) = occursin('\'', x) && !occursin('"', x) ? "\"" * x * "\"" : "'" * x * "'"
pyrepr(x::Symbol) = pyrepr(String(x))
pyrepr(x::Tuple) = "(" * join(map(pyrepr, x), ", ") * (length(x) == 1 ? "," : "") * ")"
pyrepr(x::AbstractVector) = "[" * join(map(pyrepr, x), ", ") * "]"
pyrepr(x) = string(x)

# Python's float repr (the shortest digits that round-trip, as Julia's `string` finds them): fixed notation
# for decimal exponents -4 <= e < 16, else d.ddde±XX; `dot0` adds Python's ".0" to an integral fixed value.
function pyfloat(x::Float64, dot0::Bool = true)
    isnan(x) && return "nan"
    isinf(x) && return x > 0 ? "inf" : "-inf"
    sign = signbit(x) ? "-" : ""
    s = string(abs(x))                                   # e.g. "0.0001", "1.0e-5", "1.2345e20"
    m, e = occursin('e', s) ? (split(s, 'e')[1], parse(Int, split(s, 'e')[2])) : (s, 0)
    a, b = occursin('.', m) ? (split(m, '.')[1], split(m, '.')[2]) : (m, "")
    digits = a * b                                       # value = 0.digits * 10^decpt
    decpt = length(a) + e
    k = findfirst(c -> c != '0', digits)
    k === nothing && return sign * (dot0 ? "0.0" : "0")
    decpt -= k - 1
    digits = rstrip(digits[k:end], '0')
    n = length(digits)
    if decpt <= -4 || decpt > 16
        ex = decpt - 1
        return sign * digits[1:1] * (n > 1 ? "." * digits[2:end] : "") * "e" * (ex < 0 ? "-" : "+") *
               lpad(string(abs(ex)), 2, '0')
    elseif decpt <= 0
        return sign * "0." * "0"^(-decpt) * digits
    elseif decpt >= n
        return sign * digits * "0"^(decpt - n) * (dot0 ? ".0" : "")
    end
    return sign * digits[1:decpt] * "." * digits[decpt+1:end]
end

# Python's complex repr: "1j", "(1.5-2j)", "(-0+1j)" (parts without ".0").
function pycomplex(re::Float64, im::Float64)
    i = pyfloat(im, false)
    (re == 0 && !signbit(re)) && return i * "j"
    return "(" * pyfloat(re, false) * (startswith(i, "-") ? "" : "+") * i * "j)"
end

"""
    unexpected_keyword(e) -> Union{Symbol, Nothing}

For a `MethodError` raised by calling a function with a keyword argument that none of its methods takes
(Julia's "got unsupported keyword argument"), the first such keyword, in the order given; else `nothing`.
pyjinit turns it into Python's "f() got an unexpected keyword argument 'k'".
"""
function unexpected_keyword(e)
    e isa MethodError || return nothing
    args = e.args
    (length(args) >= 2 && args[1] isa NamedTuple) || return nothing
    f = args[2]
    # the keyword call itself: Core.kwcall (Julia >= 1.9) or f's keyword sorter (before)
    (isdefined(Core, :kwcall) ? e.f === getfield(Core, :kwcall) : e.f === Core.kwfunc(f)) || return nothing
    T = Tuple{map(Core.Typeof, args[3:end])...}
    hasmethod(f, T) || return nothing                   # no method for the positional arguments either
    for k in keys(args[1])
        hasmethod(f, T, (k,)) || return k
    end
    return nothing
end

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
    param === nothing ||
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
