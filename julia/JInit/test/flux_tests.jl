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
    # What this trains on: 600 examples of 20 features, label k lifting features 2k+1:2k+2 by 1 above U(0, 0.2)
    # noise (separable with a wide margin); 20 => 32 relu => 10, Adam lr 1e-2, batch 128: 15 steps in 3 epochs,
    # accuracy on the first 200 training examples. The bound: pyjinit's NumPy trainer (the same network, init,
    # batch order and Adam; tests/julia/test_juliacall_bridge.py compares the two) on this data (as Julia 1.5's
    # MersenneTwister(0) draws it; the law, not the draw, is what matters here) reaches, over
    # seeds 0-99, at least 0.84 after 3 epochs (median 1.0; seed 1 in Flux 0.16.9 gave 0.900, so > 0.9 failed
    # at the edge), while the same run at lr 1e-3, a trainer that barely learns, reaches at most 0.42 (chance is
    # 0.1). 0.6 lies between, with a margin of at least 0.18 on either side.
    hist, diverged = train_flux(X, y, X[:, 1:200], y[1:200]; hidden = [32], epochs = 3, seed = 1, lr = 1e-2)
    @test size(hist) == (3, 5) && diverged === nothing && hist[end, 4] > 0.6
    # epoch by epoch (as pyjinit calls it) gives the same history as train_flux
    t = flux_trainer(X, y, X[:, 1:200], y[1:200]; hidden = [32], seed = 1, lr = 1e-2)
    rows = [flux_epoch!(t, e)[1] for e in 1:3]
    @test isapprox(permutedims(hcat(rows...))[:, 2:4], hist[:, 2:4]; rtol = 1e-5)
    # an empty test set: loss and accuracy 0 (as NumPy), not NaN, and no error (Flux.onehotbatch throws on an
    # empty vector); inside @test, so that an error fails these tests instead of ending the testset
    ext = Base.get_extension(JInit, :JInitFluxExt)
    @test size(ext.onehot_labels(Int[], 10)) == (10, 0) && ext.onehot_labels([0, 9, 3], 10) == Flux.onehotbatch([0, 9, 3], 0:9)
    @test (flux_epoch!(flux_trainer(X, y, X[:, 1:0], Int[]; hidden = [4]), 1)[1][3:4] == [0, 0])
    @test (train_flux(X, y, X[:, 1:0], Int[]; hidden = [4], epochs = 1)[1][1, 3:4] == [0, 0])
    @test (train_flux(X[:, 1:0], Int[], X[:, 1:10], y[1:10]; hidden = [4], epochs = 1)[1][1, 2] == 0)
    hist, diverged = train_flux(X, y, X, y; hidden = [8], epochs = 2, optimizer = "sgd", lr = 1e38, momentum = 0.9)
    @test diverged !== nothing && diverged[1] == 1

    # The CNN: a CrossCor whose only nonzero tap is the kernel's (x=1, y=2) entry reads input pixel
    # (x-1, y) (cross-correlation, not convolution), the same network as pyjinit's CNN with the PyTorch-order
    # weight w[o, i, kh=2, kw=1] (reversed to Flux's (kw, kh, in, out) by the trainer)
    wt = zeros(Float32, 1, 1, 3, 3)
    wt[1, 1, 2, 1] = 1                                       # PyTorch order (out, in, kh, kw)
    wd = zeros(Float32, 10, 9)                               # 1 channel * 3 * 3 after one 2x2 pool of 6x6
    t = flux_trainer(zeros(Float32, 36, 4), [0, 1, 2, 3], zeros(Float32, 36, 4), [0, 1, 2, 3]; conv = (1,),
                     hidden = (), weights = (wt, wd), activation = "relu")
    img = reshape(Float32.(1:36), 6, 6, 1, 1)                # (x, y) = (w, h)
    out = t.model[1](img)
    @test out[2, 3, 1, 1] == img[1, 3, 1, 1] && out[1, 3, 1, 1] == 0    # left neighbour; zero padding at x = 0
    # LSUV on a Flux CNN: each conv/dense layer's pre-activation variance within tol on the batch
    m = Chain(CrossCor((3, 3), 1 => 4, tanh; pad = 1, init = orthogonal_init(PhiloxStream(1))), MaxPool((2, 2)),
              x -> reshape(x, :, size(x, 4)), Dense(4 * 14 * 14 => 10; init = orthogonal_init(PhiloxStream(2))))
    xb = rand(MersenneTwister(1), Float32, 28, 28, 1, 64)
    _, iters = lsuv!(m, xb; tol = 0.05)
    @test length(iters) == 2
    @test abs(JInit.var_pop(CrossCor(m[1].weight, m[1].bias, identity; pad = 1)(xb)) - 1) < 0.05 || iters[1] == 10
    # init = "lsuv" in the trainer trains, and equals orthogonal + lsuv! on batch_order(seed, 0, n)'s first 500
    hist, diverged = train_flux(X, y, X[:, 1:200], y[1:200]; hidden = [32], epochs = 1, seed = 1, lr = 1e-2,
                                init = "lsuv")
    @test diverged === nothing && size(hist, 1) == 1
    t1 = flux_trainer(X, y, X, y; hidden = [32], seed = 1, init = "lsuv")
    ws = [orthogonal_init(PhiloxStream(param_key(1, l, 0)), o, i) for (l, (o, i)) in enumerate([(32, 20), (10, 32)])]
    ref, _ = lsuv(ws, "relu", X[:, batch_order(1, 0, 600)[1:500]])
    @test isapprox(t1.model[1].weight, ref[1]; rtol = 1e-5) && isapprox(t1.model[2].weight, ref[2]; rtol = 1e-5)
end

