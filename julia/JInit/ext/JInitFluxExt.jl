# Flux training for JInit (Julia >= 1.10 with Flux >= 0.14.22; never loaded by Julia 1.5).
# Written against Flux's explicit API: Flux.setup, Flux.withgradient, Flux.update!,
# Flux.logitcrossentropy, Flux.onehotbatch, Dense(in => out, σ; init), Chain.
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

function JInit.train_flux(x_train::AbstractMatrix{<:Real}, y_train::AbstractVector{<:Integer},
                          x_test::AbstractMatrix{<:Real}, y_test::AbstractVector{<:Integer};
                          hidden = [128, 64], activation = "relu", optimizer = "adam", lr = 1e-3,
                          momentum = 0.9, batch_size = 128, epochs = 10, seed = 0, init = he_init,
                          weights = nothing, verbose = false)
    act = ACTIVATIONS[JInit.check_choice("activation", activation, collect(keys(ACTIVATIONS)))]
    opt = JInit.check_choice("optimizer", optimizer, ("adam", "sgd"))
    X, Xt = Matrix{Float32}(x_train), Matrix{Float32}(x_test)
    Y, Yt = Flux.onehotbatch(y_train, 0:9), Flux.onehotbatch(y_test, 0:9)
    sizes = [size(X, 1); collect(hidden); 10]
    L = length(sizes) - 1
    model = Chain([Dense(sizes[l] => sizes[l+1], l < L ? act : identity;
                         init = layer_init(init, weights, seed, l)) for l in 1:L]...)
    rule = opt == "adam" ? Flux.Adam(lr, (0.9, 0.999), 1e-8) : Flux.Momentum(lr, momentum)
    state = Flux.setup(rule, model)
    n = size(X, 2)
    history = zeros(0, 5)
    for epoch in 1:epochs
        t0 = time()
        order = batch_order(seed, epoch, n)
        total, steps = 0.0, 0
        for (step, s) in enumerate(1:batch_size:n)
            idx = order[s:min(s + batch_size - 1, n)]
            x, y = X[:, idx], Y[:, idx]
            val, grads = Flux.withgradient(m -> Flux.logitcrossentropy(m(x), y), model)
            if !isfinite(val)
                verbose && println(stderr, "epoch $epoch: loss became $val at step $step; stopped (diverged)")
                return history, (epoch, step)
            end
            Flux.update!(state, model, grads[1])
            total += val
            steps += 1
        end
        seconds = time() - t0
        logits = model(Xt)
        test_loss = Flux.logitcrossentropy(logits, Yt)
        acc = mean(Flux.onecold(logits, 0:9) .== y_test)
        history = vcat(history, [epoch total / max(steps, 1) test_loss acc seconds])
        verbose && println(stderr, "epoch $epoch/$epochs  train loss $(round(total / max(steps, 1); digits = 4))  " *
                                   "test loss $(round(test_loss; digits = 4))  test acc $(round(100acc; digits = 2))%  " *
                                   "($(round(seconds; digits = 2)) s)")
    end
    return history, nothing
end

end # module
