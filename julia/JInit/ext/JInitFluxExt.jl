# Flux training for JInit (Julia >= 1.10 with Flux 0.14.22-0.16; never loaded by Julia 1.5).
# Written against Flux's explicit API: Flux.setup, Flux.withgradient, Flux.update!,
# Flux.logitcrossentropy, Flux.onehotbatch, Flux.onecold, Dense(in => out, σ; init), Dense(W, b, σ),
# CrossCor((k, k), in => out, σ; pad, init), CrossCor(W, b, σ; stride, pad, dilation), MaxPool, Chain.
module JInitFluxExt

using JInit
using Flux
using Statistics: mean

const ACTIVATIONS = Dict("relu" => Flux.relu, "tanh" => tanh, "sigmoid" => Flux.sigmoid,
                         "leaky_relu" => Flux.leakyrelu, "gelu" => Flux.gelu)

# Layer l's init: a pretrained weight (PyTorch order from pyjinit: (out, in) or (out, in, kh, kw), the latter
# reversed to Flux's (kw, kh, in, out), which is the same memory), or an initializer bound to the layer's stream
# (`init`, or `init[l]` when one is given per layer: pyjinit passes its layers' draws so that JInit makes the
# weights itself). Both give Float32 (a Float64 init would silently make the layer Float64).
function layer_init(init, weights, seed, l)
    weights === nothing && return (init isa Union{Tuple,AbstractVector} ? init[l] : init)(PhiloxStream(param_key(seed, l, 0)))
    w = Array{Float32}(weights[l])
    return pretrained_init(ndims(w) == 4 ? permutedims(w, (4, 3, 2, 1)) : w)
end

flatten_batch(x) = reshape(x, :, size(x, ndims(x)))     # (W, H, C, N) -> (W*H*C, N): PyTorch's (C, H, W) order

"""
The network of pyjinit's trainer: for each `conv` channel count a 3x3 CrossCor ("same" padding, the activation;
cross-correlation as PyTorch's Conv2d) and, after every `pool_every`-th, MaxPool((2, 2)); then the flattened
features through Dense layers `hidden` to `classes` outputs. Layer l's weight from `layer_init`.
"""
function build_model(side, features, conv, pool_every, hidden, classes, act, init, weights, seed)
    layers = Any[]
    l, c, h = 0, 1, side
    for (i, ch) in enumerate(conv)
        l += 1
        push!(layers, CrossCor((3, 3), c => ch, act; pad = 1, init = layer_init(init, weights, seed, l)))
        c = ch
        if i % pool_every == 0
            push!(layers, MaxPool((2, 2)))
            h = h ÷ 2
        end
    end
    isempty(conv) || push!(layers, flatten_batch)
    sizes = [isempty(conv) ? features : c * h * h; collect(hidden); classes]
    L = length(sizes) - 1
    for j in 1:L
        l += 1
        push!(layers, Dense(sizes[j] => sizes[j+1], j < L ? act : identity; init = layer_init(init, weights, seed, l)))
    end
    return Chain(layers...)
end

mutable struct FluxTrainer{M,S,X,OY,OYt}
    model::M
    state::S
    X::X
    Y::OY
    Xt::X
    Yt::OYt
    yt::Vector{Int}
    seed::UInt128          # any seed in [0, 2^128), as the stream's keys
    batch_size::Int
    classes::Int
end

batch(X, idx) = X[ntuple(_ -> Colon(), ndims(X) - 1)..., idx]

# Labels 0..classes-1 as a classes × n one-hot matrix. Flux.onehotbatch throws on an empty vector (OneHotArrays
# 0.2.10: "reducing over an empty collection"), so no labels (an empty test set) give the one-hot matrix with no
# columns, made directly: OneHotArrays' OneHotMatrix(indices, nlabels), here with no indices.
onehot_labels(y, classes) =
    isempty(y) ? Flux.OneHotArrays.OneHotMatrix(UInt32[], classes) : Flux.onehotbatch(y, 0:classes-1)

function JInit.flux_trainer(x_train::AbstractMatrix{<:Real}, y_train::AbstractVector{<:Integer},
                            x_test::AbstractMatrix{<:Real}, y_test::AbstractVector{<:Integer};
                            hidden = [128, 64], activation = "relu", optimizer = "adam", lr = 1e-3,
                            momentum = 0.9, batch_size = 128, seed = 0, init = he_init, weights = nothing,
                            conv = (), pool_every = 1, classes = 10, tol = 0.1, max_iter = 10)
    classes = Int(classes)
    act = ACTIVATIONS[JInit.check_choice("activation", activation, collect(keys(ACTIVATIONS)))]
    opt = JInit.check_choice("optimizer", optimizer, ("adam", "sgd"))
    X, Xt = Matrix{Float32}(x_train), Matrix{Float32}(x_test)
    features = size(X, 1)
    side = isqrt(features)
    if !isempty(conv)
        side * side == features ||
            throw(ArgumentError("conv needs square single-channel images (features = side², e.g. 784), got $features features"))
        X, Xt = reshape(X, side, side, 1, :), reshape(Xt, side, side, 1, :)        # WHCN
    end
    Y, Yt = onehot_labels(y_train, classes), onehot_labels(y_test, classes)
    # init = "lsuv", as pyjinit's trainer: orthogonal weights from the layer streams, then LSUV on the first
    # LSUV_BATCH examples in the order batch_order(seed, 0, n). Given `weights` (pyjinit's) win over `init`.
    lsuv = weights === nothing && init isa Union{AbstractString,Symbol} && String(init) == "lsuv"
    model = build_model(side, features, conv, pool_every, hidden, classes, act, lsuv ? orthogonal_init : init,
                        weights, seed)
    if lsuv
        idx = batch_order(seed, 0, size(X, ndims(X)))[1:min(JInit.LSUV_BATCH, end)]
        JInit.lsuv!(model, batch(X, idx); tol = tol, max_iter = max_iter)
    end
    rule = opt == "adam" ? Flux.Adam(lr, (0.9, 0.999), 1e-8) : Flux.Momentum(lr, momentum)
    warmup(model, rule, X, Y, Xt, Yt, Int(classes))
    return FluxTrainer(model, Flux.setup(rule, model), X, Y, Xt, Yt, Vector{Int}(y_test), (JInit.check_seed(seed); UInt128(seed)),
                       Int(batch_size), Int(classes))
end

# Compile this network's training step for its exact types before the first epoch, so that epoch 1 costs what
# the later ones do (Julia 1.10 + Flux 0.16 measured 2.02 s against 0.73-0.78 s for the default MLP, and a CNN shape
# the precompile workload below did not cover compiled during its first epoch). Runs on a copy of the model and a
# fresh optimizer state, with the first two examples, so the trainer's model, state and batch order are untouched:
# the same calls as flux_epoch! (withgradient, update!, the test-set logits, loss and onecold) on the same types.
function warmup(model, rule, X, Y, Xt, Yt, classes)
    n = size(X, ndims(X))
    n == 0 && return nothing
    m = deepcopy(model)
    state = Flux.setup(rule, m)
    idx = collect(1:min(2, n))
    x, y = batch(X, idx), Y[:, idx]
    _, grads = Flux.withgradient(m -> Flux.logitcrossentropy(m(x), y), m)
    Flux.update!(state, m, grads[1])
    if size(Xt, ndims(Xt)) > 0
        logits = m(Xt[ntuple(_ -> Colon(), ndims(Xt) - 1)..., 1:1])
        Flux.logitcrossentropy(logits, Yt[:, 1:1])
        Flux.onecold(logits, 0:classes-1)
    end
    return nothing
end

# The layer without its activation, sharing its weight: LSUV measures (and rescales) the pre-activation.
preactivation(d::Dense) = Dense(d.weight, d.bias, identity)
preactivation(c::CrossCor) = CrossCor(c.weight, c.bias, identity; stride = c.stride, pad = c.pad, dilation = c.dilation)
preactivation(c::Conv) = Conv(c.weight, c.bias, identity; stride = c.stride, pad = c.pad, dilation = c.dilation,
                              groups = c.groups)

function JInit.lsuv!(model::Chain, x; tol::Real = 0.1, max_iter::Integer = 10)
    tol, max_iter = JInit.check_lsuv_args(tol, max_iter)
    a = x
    iters = Int[]
    for layer in model.layers
        if layer isa Union{Dense,Conv,CrossCor}
            pre = preactivation(layer)                       # shares layer.weight, which lsuv_layer! rescales
            _, k = JInit.lsuv_layer!(layer.weight, () -> pre(a), tol, max_iter)
            push!(iters, k)
        end
        a = layer(a)
    end
    return model, iters
end

function JInit.flux_epoch!(t::FluxTrainer, epoch::Integer)
    t0 = time()
    n = size(t.X, ndims(t.X))
    order = batch_order(t.seed, epoch, n)
    total, steps = 0.0, 0
    for (step, s) in enumerate(1:t.batch_size:n)
        idx = order[s:min(s + t.batch_size - 1, n)]
        x, y = batch(t.X, idx), t.Y[:, idx]
        val, grads = Flux.withgradient(m -> Flux.logitcrossentropy(m(x), y), t.model)
        isfinite(val) || return nothing, (Int(epoch), step)
        Flux.update!(t.state, t.model, grads[1])
        total += val
        steps += 1
    end
    seconds = time() - t0
    if isempty(t.yt)                       # as the NumPy trainer: no test examples, loss and accuracy 0
        test_loss, acc = 0.0, 0.0
    else
        logits = t.model(t.Xt)
        test_loss = Float64(Flux.logitcrossentropy(logits, t.Yt))
        acc = mean(Flux.onecold(logits, 0:t.classes-1) .== t.yt)
    end
    return [Float64(epoch), total / max(steps, 1), test_loss, acc, seconds], nothing
end

function JInit.train_flux(x_train::AbstractMatrix{<:Real}, y_train::AbstractVector{<:Integer},
                          x_test::AbstractMatrix{<:Real}, y_test::AbstractVector{<:Integer};
                          epochs = 10, verbose = false, kw...)
    t = JInit.flux_trainer(x_train, y_train, x_test, y_test; kw...)
    history = zeros(0, 5)
    for epoch in 1:epochs
        row, diverged = JInit.flux_epoch!(t, epoch)
        if diverged !== nothing
            verbose && println(stderr, "epoch $epoch: the loss became non-finite at step $(diverged[2]); stopped (diverged)")
            return history, diverged
        end
        history = vcat(history, permutedims(row))
        verbose && println(stderr, "epoch $epoch/$epochs  train loss $(round(row[2]; digits = 4))  " *
                                   "test loss $(round(row[3]; digits = 4))  test acc $(round(100 * row[4]; digits = 2))%  " *
                                   "($(round(row[5]; digits = 2)) s)")
    end
    return history, nothing
end

# A small training run while the extension is precompiled, so that the first epoch a user runs is not
# mostly compilation (Julia >= 1.9 caches the native code of what runs here). Plain top-level code, no
# PrecompileTools: the default network (two ReLU hidden layers, Adam) and the deep case's tanh + SGD.
if ccall(:jl_generating_output, Cint, ()) == 1
    let X = rand(Float32, 16, 64), y = rand(0:9, 64)
        JInit.train_flux(X, y, X, y; hidden = (8, 8), epochs = 1, batch_size = 32)
        JInit.train_flux(X, y, X, y; hidden = (8, 8), activation = "tanh", optimizer = "sgd", lr = 0.01,
                         momentum = 0.0, epochs = 1, batch_size = 32)
        JInit.train_flux(X, y, X, y; conv = (4, 4), hidden = (), init = "lsuv", epochs = 1, batch_size = 32)
        # the CNN shapes the trainer and the README build: conv (16, 32) with the default dense layers, and the
        # deep plain CNN (10 convs, a pool every 5, one hidden layer) with ReLU and tanh
        JInit.train_flux(X, y, X, y; conv = (4, 4), hidden = (8, 8), epochs = 1, batch_size = 32)
        X8 = rand(Float32, 64, 64)
        for act in ("relu", "tanh")
            JInit.train_flux(X8, y, X8, y; conv = ntuple(_ -> 2, 10), pool_every = 5, hidden = (8,), activation = act,
                             epochs = 1, batch_size = 32)
        end
    end
end

end # module
