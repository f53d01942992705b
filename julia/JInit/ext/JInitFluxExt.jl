# Flux training for JInit (Julia >= 1.10 with Flux 0.14.22-0.16; never loaded by Julia 1.5).
# Written against Flux's explicit API: Flux.setup, Flux.withgradient, Flux.update!,
# Flux.logitcrossentropy, Flux.onehotbatch, Flux.onecold, Dense(in => out, σ; init), Chain.
module JInitFluxExt

using JInit
using Flux
using Statistics: mean

const ACTIVATIONS = Dict("relu" => Flux.relu, "tanh" => tanh, "sigmoid" => Flux.sigmoid,
                         "leaky_relu" => Flux.leakyrelu, "gelu" => Flux.gelu)

# Layer l's init: a pretrained weight, or an initializer bound to the layer's stream. Both give Float32
# (a Float64 init would silently make the layer Float64).
layer_init(init, weights, seed, l) =
    weights === nothing ? init(PhiloxStream(JInit.layer_seed(seed, l))) : pretrained_init(Matrix{Float32}(weights[l]))

mutable struct FluxTrainer{M,S,OY}
    model::M
    state::S
    X::Matrix{Float32}
    Y::OY
    Xt::Matrix{Float32}
    Yt::OY
    yt::Vector{Int}
    seed::Int
    batch_size::Int
end

function JInit.flux_trainer(x_train::AbstractMatrix{<:Real}, y_train::AbstractVector{<:Integer},
                            x_test::AbstractMatrix{<:Real}, y_test::AbstractVector{<:Integer};
                            hidden = [128, 64], activation = "relu", optimizer = "adam", lr = 1e-3,
                            momentum = 0.9, batch_size = 128, seed = 0, init = he_init, weights = nothing)
    act = ACTIVATIONS[JInit.check_choice("activation", activation, collect(keys(ACTIVATIONS)))]
    opt = JInit.check_choice("optimizer", optimizer, ("adam", "sgd"))
    X, Xt = Matrix{Float32}(x_train), Matrix{Float32}(x_test)
    Y, Yt = Flux.onehotbatch(y_train, 0:9), Flux.onehotbatch(y_test, 0:9)
    sizes = [size(X, 1); collect(hidden); 10]
    L = length(sizes) - 1
    model = Chain([Dense(sizes[l] => sizes[l+1], l < L ? act : identity;
                         init = layer_init(init, weights, seed, l)) for l in 1:L]...)
    rule = opt == "adam" ? Flux.Adam(lr, (0.9, 0.999), 1e-8) : Flux.Momentum(lr, momentum)
    return FluxTrainer(model, Flux.setup(rule, model), X, Y, Xt, Yt, Vector{Int}(y_test), Int(seed), Int(batch_size))
end

function JInit.flux_epoch!(t::FluxTrainer, epoch::Integer)
    t0 = time()
    n = size(t.X, 2)
    order = batch_order(t.seed, epoch, n)
    total, steps = 0.0, 0
    for (step, s) in enumerate(1:t.batch_size:n)
        idx = order[s:min(s + t.batch_size - 1, n)]
        x, y = t.X[:, idx], t.Y[:, idx]
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
        acc = mean(Flux.onecold(logits, 0:9) .== t.yt)
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
    end
end

end # module
