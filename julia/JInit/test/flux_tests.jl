# Tests of JInit's Flux extension; runtests.jl includes this after `using Flux` (Julia >= 1.9 only).
@testset "Flux extension" begin
    d = Dense(3 => 4, relu; init = kaiming_normal(PhiloxStream(1)))
    @test d.weight == kaiming_normal(PhiloxStream(1), 4, 3) && eltype(d.weight) == Float32
    rng = MersenneTwister(0)
    y = rand(rng, 0:9, 600)
    X = 0.2f0 .* rand(rng, Float32, 20, 600)
    for (i, k) in enumerate(y)
        X[2k+1:2k+2, i] .+= 1
    end
    hist, diverged = train_flux(X, y, X[:, 1:200], y[1:200]; hidden = [32], epochs = 3, seed = 1)
    @test size(hist) == (3, 5) && diverged === nothing && hist[end, 4] > 0.9
    hist, diverged = train_flux(X, y, X, y; hidden = [8], epochs = 2, optimizer = "sgd", lr = 1e38, momentum = 0.9)
    @test diverged !== nothing && diverged[1] == 1
end
