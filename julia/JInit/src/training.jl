# Training support in the core (stdlib only): the batch order both backends use, and the entry point
# whose real method lives in the Flux extension (ext/JInitFluxExt.jl, loaded by `using Flux`).

"""
    batch_order(seed, epoch, n) -> Vector{Int}

The order (1-based indices) in which epoch `epoch` (1-based; epoch 0 is the LSUV batch) visits `n` training
examples: the stable sort permutation of the first `n` words of `PhiloxStream(epoch_key(seed, epoch))`.
pyjinit's NumPy trainer uses the same order (0-based: its `np.argsort(..., kind="stable")`).

```julia
julia> o = batch_order(7, 3, 500); sort(o) == 1:500
true
```
"""
batch_order(seed::Integer, epoch::Integer, n::Integer) =
    sortperm(rand(PhiloxStream(epoch_key(seed, epoch)), UInt64, n); alg = Base.Sort.DEFAULT_STABLE)

"""
    layer_seed(seed, l) -> UInt128

Key of layer `l`'s (1-based) weight in training: `param_key(seed, l, 0)` (kept as the trainer's name for it).
"""
layer_seed(seed::Integer, l::Integer) = param_key(seed, l, 0)

"""
    train_flux(x_train, y_train, x_test, y_test; hidden = [128, 64], activation = "relu",
               optimizer = "adam", lr = 1e-3, momentum = 0.9, batch_size = 128, epochs = 10,
               seed = 0, init = he_init, weights = nothing, conv = (), pool_every = 1, classes = 10,
               tol = 0.1, max_iter = 10, verbose = false)

Train a Flux MLP, or with `conv` channel counts the CNN of pyjinit's trainer (3x3 `CrossCor`, "same"
padding, the activation, `MaxPool((2, 2))` after every `pool_every`-th, then `hidden` Dense layers; the
columns of `x_train` are then square single-channel images), on `x_train` (features × n, Float32) with
labels 0 to `classes - 1`, and evaluate on the test set after each epoch. Layer l's weight comes from
`init` bound to `PhiloxStream(param_key(seed, l, 0))`, or from `weights[l]` (PyTorch order), or, with
`init = "lsuv"`, from orthogonal weights rescaled by `lsuv!` (`tol`, `max_iter`) on the first
$(LSUV_BATCH) examples of `batch_order(seed, 0, n)`: pyjinit's NumPy trainer builds the same network. Needs Flux: `using Flux` loads JInit's Flux extension, which defines it.
Returns `(history, diverged)`: a matrix with one row per epoch (epoch, train loss, test loss,
test accuracy, seconds) and `nothing` or `(epoch, step)` where the loss stopped being finite.
It is `flux_trainer` followed by `flux_epoch!` for each epoch (pyjinit calls those, one epoch per call,
so that Python keeps control between epochs).
"""
function train_flux(args...; kw...)
    throw(ErrorException(needs_flux("train_flux")))
end

"""
    flux_trainer(x_train, y_train, x_test, y_test; hidden, activation, optimizer, lr, momentum,
                 batch_size, seed, init, weights) -> trainer

The model, optimiser state and data of a Flux training run (the arguments of `train_flux` but `epochs`
and `verbose`); `flux_epoch!(trainer, epoch)` runs one epoch. Needs Flux (the extension defines it).
"""
function flux_trainer(args...; kw...)
    throw(ErrorException(needs_flux("flux_trainer")))
end

"""
    flux_epoch!(trainer, epoch) -> (row, diverged)

One epoch (1-based: its batch order is `batch_order(seed, epoch, n)`) of a `flux_trainer`: `row` is
`[epoch, train_loss, test_loss, test_accuracy, seconds]`, `diverged` is `nothing` or `(epoch, step)` when
the loss stopped being finite (then `row` is `nothing`). With an empty test set, test loss and accuracy
are 0, as in pyjinit's NumPy trainer.
"""
function flux_epoch!(args...; kw...)
    throw(ErrorException(needs_flux("flux_epoch!")))
end

needs_flux(f) = "JInit.$f needs Flux: run `using Flux` (Julia >= 1.9 loads JInit's Flux extension) before calling it"
