# Tests of JInit's Flux extension; runtests.jl includes this after `using Flux` (Julia >= 1.9 only).
@testset "Flux extension" begin
    # JInit.kaiming_normal: Flux exports a kaiming_normal too (ambiguous, an error under Julia 1.12's rules)
    d = Dense(3 => 4, relu; init = JInit.kaiming_normal(PhiloxStream(1)))
    @test d.weight == JInit.kaiming_normal(PhiloxStream(1), 4, 3) && eltype(d.weight) == Float32
    rng = MersenneTwister(0)
    y = rand(rng, 0:9, 600)
    X = 0.2f0 .* rand(rng, Float32, 20, 600)
    for (i, k) in enumerate(y)
        X[2k+1:2k+2, i] .+= 1
    end
    # 600 samples, batch 128: 15 Adam steps in 3 epochs; lr 1e-2 reaches > 90% (lr 1e-3 only ~16%)
    hist, diverged = train_flux(X, y, X[:, 1:200], y[1:200]; hidden = [32], epochs = 3, seed = 1, lr = 1e-2)
    @test size(hist) == (3, 5) && diverged === nothing && hist[end, 4] > 0.9
    # epoch by epoch (as pyjinit calls it) gives the same history as train_flux
    t = flux_trainer(X, y, X[:, 1:200], y[1:200]; hidden = [32], seed = 1, lr = 1e-2)
    rows = [flux_epoch!(t, e)[1] for e in 1:3]
    @test isapprox(permutedims(hcat(rows...))[:, 2:4], hist[:, 2:4]; rtol = 1e-5)
    # an empty test set: loss and accuracy 0 (as NumPy), not NaN
    row, _ = flux_epoch!(flux_trainer(X, y, X[:, 1:0], Int[]; hidden = [4]), 1)
    @test row[3] == 0 && row[4] == 0
    hist, diverged = train_flux(X, y, X, y; hidden = [8], epochs = 2, optimizer = "sgd", lr = 1e38, momentum = 0.9)
    @test diverged !== nothing && diverged[1] == 1
end
