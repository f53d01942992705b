# JInit's test suite. Run: julia --project=julia/JInit julia/JInit/test/runtests.jl
# (Pkg.test() does not work with Debian's Julia 1.5.3.) Runs on Julia 1.5 and later.
#
# Statistical tests use fixed seeds and tolerances of Z standard errors derived from the sample size:
# a mean is within Z·σ/√n, a variance within Z·σ²·√((κ - 1)/n) (κ the kurtosis: 3 normal, 1.8 uniform);
# KS statistics below the α = 1e-6 critical value √(-log(α/2)/(2n)).
using JInit, Test, Random, LinearAlgebra, Statistics

const Z = 5.0
const N = 1 << 18
ks_crit(n) = sqrt(-log(1e-6 / 2) / (2n))

function ks_stat(x, cdf)
    s = sort(Float64.(vec(x)))
    n = length(s)
    return maximum(max(i / n - cdf(v), cdf(v) - (i - 1) / n) for (i, v) in enumerate(s))
end

function moments_ok(x, μ, σ2, κ)
    n = length(x)
    xs = Float64.(vec(x))
    m = mean(xs)
    v = var(xs; corrected = false)
    ok_m = abs(m - μ) <= Z * sqrt(σ2 / n)
    ok_v = abs(v - σ2) <= Z * σ2 * sqrt((κ - 1) / n) + 1e-12
    (ok_m && ok_v) || @info "moments" m μ v σ2
    return ok_m && ok_v
end

Φ(x) = JInit.normcdf(x)

@testset "JInit" begin

@testset "stream test vectors (shared with the NumPy backend)" begin
    lines = filter(l -> !startswith(l, "#") && !isempty(l), readlines(joinpath(@__DIR__, "stream_vectors.txt")))
    @test length(lines) >= 250
    nkeys = 0
    for l in lines
        f = split(l)
        if f[1] == "derive"                      # derive <seed> <stream> <i0,i1,...|-> <128-bit key, hex>
            @test length(f) == 5
            idx = f[4] == "-" ? () : Tuple(parse(UInt64, i) for i in split(f[4], ","))
            @test derive_key(parse(BigInt, f[2]), f[3], idx...) == parse(UInt128, f[5]; base = 16)
            nkeys += 1
            continue
        elseif f[1] == "namekey"                 # namekey <seed> <name|- for the empty name> <128-bit key, hex>
            @test length(f) == 4
            @test name_key(parse(BigInt, f[2]), f[3] == "-" ? "" : f[3]) == parse(UInt128, f[4]; base = 16)
            nkeys += 1
            continue
        end
        kind, s, k, hex = f
        seed = parse(BigInt, s)
        k = parse(Int, k) + 1
        n = max(12, k)
        if kind == "word"
            got = rand(PhiloxStream(seed), UInt64, n)[k]
            @test got == parse(UInt64, hex; base = 16)
        elseif kind == "u32"
            @test reinterpret(UInt32, uniform_init(PhiloxStream(seed), Float32, n)[k]) == parse(UInt32, hex; base = 16)
        elseif kind == "u64"
            @test reinterpret(UInt64, uniform_init(PhiloxStream(seed), Float64, n)[k]) == parse(UInt64, hex; base = 16)
        elseif kind == "normal"
            @test reinterpret(UInt64, normal_init(PhiloxStream(seed), Float64, n)[k]) == parse(UInt64, hex; base = 16)
        elseif kind == "normal32"
            @test reinterpret(UInt32, normal_init(PhiloxStream(seed), Float32, n)[k]) == parse(UInt32, hex; base = 16)
        elseif kind == "trunc"
            x = truncated_normal_init(PhiloxStream(seed), Float64, n; lo = -1.0, hi = 2.5)[k]
            @test reinterpret(UInt64, x) == parse(UInt64, hex; base = 16)
        else
            error("unknown kind of test vector: $l")
        end
    end
    @test nkeys >= 20
end

@testset "Philox stream as an AbstractRNG" begin
    s = PhiloxStream(7)
    a = rand(s, UInt64, 6)
    s2 = PhiloxStream(7)
    @test [rand(s2, UInt64) for _ in 1:6] == a
    @test all(0 .<= rand(PhiloxStream(1), 1000) .< 1)
    @test PhiloxStream(3 + (UInt128(1) << 64)).key == (UInt64(3), UInt64(1))
    @test !isdefined(JInit, :substream)          # stream v2's seed + i * 2^64: streams collided
    # successive arrays from one stream continue after the blocks used, and differ
    s = PhiloxStream(5)
    A = normal_init(s, 10)
    B = normal_init(s, 10)
    @test A != B
    @test B == normal_init(PhiloxStream(5), 26)[17:26]     # Float32: 10 halves = 5 words = 2 blocks, twice
    @test s.block == 4
end

@testset "keys (stream v3): derive_key and the named streams" begin
    @test JInit.STREAM_VERSION == 3
    # tags: the stream name's ASCII, little-endian, zero-padded; never 0
    @test JInit.stream_tag("param") == 0x6d61726170
    @test JInit.stream_tag("diagnose") == reinterpret(UInt64, Vector{UInt8}(codeunits("diagnose")))[1]
    for s in JInit.STREAM_NAMES
        t = JInit.stream_tag(s)
        @test t != 0 && reinterpret(UInt8, [t])[1:length(s)] == Vector{UInt8}(codeunits(s))
        @test all(iszero, reinterpret(UInt8, [t])[length(s)+1:end])
    end
    @test JInit.STREAM_NAMES == ("param", "name", "namepart", "epoch", "bias", "sparse", "diagnose", "subset")
    # the formula, spelt out: one Philox block of the parent key at counter (i0, i1, i2, tag)
    for (seed, st, idx) in ((5, "param", (3, 2)), (typemax(UInt128), "epoch", (9,)), (UInt128(1) << 64, "bias", ()),
                            (12, "namepart", (1, 2, 3)))
        i = (UInt64.(idx)..., UInt64(0), UInt64(0), UInt64(0))
        o = JInit.philox4x64_10((i[1], i[2], i[3], JInit.stream_tag(st)), JInit.seed_key(seed))
        @test derive_key(seed, st, idx...) === UInt128(o[1]) + UInt128(o[2]) << 64
    end
    @test derive_key(4, "param", 2) == derive_key(4, "param", 2, 0) == derive_key(4, "param", 2, 0, 0)
    @test derive_key(4, :param, 2) == derive_key(4, "param", 2)
    @test derive_key(big(4), "param", UInt8(2), Int32(1)) == derive_key(4, "param", 2, 1)
    # the named streams are derive_key at their indices
    @test param_key(9, 3, 1) == derive_key(9, "param", 3, 1)
    @test epoch_key(9, 4) == derive_key(9, "epoch", 4)
    @test bias_key(9) == derive_key(9, "bias") && sparse_key(9) == derive_key(9, "sparse")
    @test JInit.diagnose_key(9) == derive_key(9, "diagnose") && JInit.subset_key() == derive_key(0, "subset")
    @test layer_seed(9, 2) == param_key(9, 2, 0)
    # name keys: length, then 24-byte pieces as three little-endian words
    @test name_key(3, "") == derive_key(3, "name", 0)
    k = derive_key(3, "name", 5)
    @test name_key(3, "abcde") == derive_key(k, "namepart", 0x0000006564636261, 0, 0)
    b = codeunits("0123456789abcdefghijklmnXY")             # 26 bytes: two pieces
    w(a) = reinterpret(UInt64, vcat(Vector{UInt8}(b), zeros(UInt8, 48 - length(b)))[a*8+1:a*8+8])[1]
    k = derive_key(derive_key(derive_key(3, "name", 26), "namepart", w(0), w(1), w(2)), "namepart", w(3), w(4), w(5))
    @test name_key(3, "0123456789abcdefghijklmnXY") == k
    @test name_key(3, SubString("xweightx", 2, 7)) == name_key(3, "weight")
    @test name_key(3, "wé") != name_key(3, "we") && name_key(3, "w\0") != name_key(3, "w")
    # distinct keys over a grid of (seed, l, j), seeds that differ by multiples of 2^64 included (v2 collided
    # there: substream(s, l) of layer l's bias was layer l+1's weight), and against the other streams
    ks = UInt128[]
    for s in (0, 1, 2, 7, UInt128(1) << 64, (UInt128(1) << 64) + 1, UInt128(2) << 64, UInt128(3) << 64 + 2,
              typemax(UInt128), typemax(UInt128) - (UInt128(1) << 64)), l in 0:39, j in 0:9
        push!(ks, param_key(s, l, j))
    end
    @test length(ks) == 4000
    for s in (0, 1, 7, UInt128(1) << 64)
        append!(ks, (epoch_key(s, e) for e in 0:9))
        append!(ks, (bias_key(s), sparse_key(s), JInit.diagnose_key(s), name_key(s, ""), name_key(s, "weight")))
    end
    push!(ks, JInit.subset_key())
    @test allunique(ks)
    @test !any(k -> k in ks, UInt128.(0:10))                  # no key is a small seed
    @test bias_key(1) != param_key(1, 1, 0) && param_key(1, 1, 1) != param_key(1, 2, 0)   # v2: both equal
    # the derived key's stream is not the parent's: no word of the parent's first blocks reappears
    @test isempty(intersect(rand(PhiloxStream(param_key(5, 1, 0)), UInt64, 64), rand(PhiloxStream(5), UInt64, 64)))
    # errors: unknown stream, bad indices, too many, a bad key
    msg(f) = try f(); "" catch e; e isa ArgumentError ? e.msg : "not an ArgumentError: $e" end
    @test msg(() -> derive_key(1, "weights", 1)) ==
          "stream must be one of param, name, namepart, epoch, bias, sparse, diagnose, subset; got 'weights'"
    @test msg(() -> derive_key(1, 3, 1)) ==
          "stream must be one of param, name, namepart, epoch, bias, sparse, diagnose, subset; got 3"
    @test msg(() -> derive_key(1, "param", -1)) == "a stream index must be an integer in [0, 2^64), got -1"
    @test msg(() -> derive_key(1, "param", UInt128(1) << 64)) ==
          "a stream index must be an integer in [0, 2^64), got 18446744073709551616"
    @test msg(() -> derive_key(1, "param", 1.0)) == "a stream index must be an integer in [0, 2^64), got 1.0"
    @test msg(() -> derive_key(1, "param", true)) == "a stream index must be an integer in [0, 2^64), got true"
    @test msg(() -> derive_key(1, "namepart", 1, 2, 3, 4)) == "a key derivation takes at most 3 indices, got 4"
    @test msg(() -> derive_key(-1, "param", 1)) == "seed must be an integer in [0, 2^128), got -1"
    @test msg(() -> derive_key(big(2)^128, "bias")) == "seed must be an integer in [0, 2^128), got $(big(2)^128)"
    @test msg(() -> param_key(1, -1, 0)) == "a stream index must be an integer in [0, 2^64), got -1"
    @test derive_key(1, "param", typemax(UInt64)) isa UInt128           # the largest index is allowed
    # what uses the keys: layer_init's bias, sparse_init's zero pattern (the stream's key, at its block)
    W, b = layer_init("torch", 4, 3; seed = 1)
    @test b == uniform_init(PhiloxStream(bias_key(1)), 4; low = -1 / sqrt(3), high = 1 / sqrt(3))
    @test W == he_init(PhiloxStream(1), 4, 3; a = sqrt(5.0), nonlinearity = "leaky_relu", distribution = "uniform")
    S = sparse_init(Float64, 20, 6; sparsity = 0.5, seed = 4)
    zpos = [sort(findall(iszero, S[:, c]) .- 1) for c in 1:6]
    src = JInit.KeySource(JInit.seed_key(sparse_key(4)), UInt64(0))
    @test zpos == [sort(p) for p in JInit.choose_subsets(src, 6, 20, 10)]
    s = PhiloxStream(4); normal_init(s, 3)                  # a stream past its first block: the pattern starts there too
    blk = s.block
    S2 = sparse_init(s, Float64, 20, 6; sparsity = 0.5)
    src = JInit.KeySource(JInit.seed_key(sparse_key(4)), blk)
    @test [sort(findall(iszero, S2[:, c]) .- 1) for c in 1:6] == [sort(p) for p in JInit.choose_subsets(src, 6, 20, 10)]
end

@testset "element k is a pure function of (seed, k): slices and threads" begin
    src = JInit.KeySource(JInit.seed_key(9), UInt64(0))
    d = JInit.bind(JInit.normal_dist(Float32, 0.0, 1.0), src, nothing)
    whole = Vector{Float32}(undef, 1000)
    JInit.fill_range!(whole, d, src, 0)
    part = Vector{Float32}(undef, 301)
    JInit.fill_range!(part, d, src, 457)
    @test part == whole[458:758]
    u = JInit.Uniform32(0f0, 1f0)
    w32 = Vector{Float32}(undef, 999); JInit.fill_range!(w32, u, src, 0)
    p32 = Vector{Float32}(undef, 77); JInit.fill_range!(p32, u, src, 13)
    @test p32 == w32[14:90]
    # the threaded fill equals a single serial pass, for every rank and size
    for dims in ((300, 257), (1 << 16,), (33, 17, 64, 2), (1 << 9, 1 << 8))
        A = normal_init(Float32, dims...; seed = 11)
        v = Vector{Float32}(undef, prod(dims))
        src = JInit.KeySource(JInit.seed_key(11), UInt64(0))
        JInit.fill_range!(v, JInit.bind(JInit.normal_dist(Float32, 0.0, 1.0), src, nothing), src, 0)
        @test A == JInit.from_logical(v, dims)
    end
    @info "threads" Threads.nthreads()
end

@testset "layout: Flux dims, logical row-major over the PyTorch shape" begin
    W = uniform_init(Float64, 3, 4; seed = 1)          # Dense (out, in): same order as PyTorch
    v = uniform_init(Float64, 12; seed = 1)
    @test W == permutedims(reshape(v, 4, 3))
    K = uniform_init(Float64, 2, 3, 4, 5; seed = 1)    # (kw, kh, in, out) = reverse of (out, in, kh, kw)
    @test vec(K) == uniform_init(Float64, 120; seed = 1)
    @test JInit.torch_shape((2, 3, 4, 5)) == (5, 4, 3, 2)
end

@testset "fans" begin
    @test nfan(3, 4) == (4, 3)
    @test nfan(3, 3, 16, 32) == (144, 288)
    @test nfan(5, 2, 7) == (2 * 5, 7 * 5)
    @test_throws ArgumentError nfan(5)
    @test_throws ArgumentError nfan()
    @test JInit.fan_for_mode((4, 9), "fan_geo_avg") ≈ 6
    @test JInit.fan_for_mode((4, 9), "fan_avg") == 6.5
end

@testset "gains: PyTorch's table and the second-moment gains" begin
    @test calculate_gain("linear") == 1
    @test calculate_gain("conv2d") == 1
    @test calculate_gain("sigmoid") == 1
    @test calculate_gain("tanh") == 5 / 3
    @test calculate_gain("relu") == sqrt(2)
    @test calculate_gain("leaky_relu") == sqrt(2 / (1 + 0.01^2))
    @test calculate_gain("leaky_relu", 0.2) == sqrt(2 / 1.04)
    @test calculate_gain("selu") == 0.75
    # 1/sqrt(E f(z)^2) by Gauss–Hermite-free brute quadrature (trapezoid on [-12, 12])
    z = range(-12, 12; length = 200_001)
    h = step(z)
    φ = exp.(-z .^ 2 ./ 2) ./ sqrt(2π)
    Φz = Φ.(collect(z))
    for (nl, f) in (("gelu", z -> z * Φ(z)), ("silu", z -> z / (1 + exp(-z))),
                    ("elu", z -> z > 0 ? z : expm1(z)), ("softplus", z -> log1p(exp(z))), ("relu", z -> max(z, 0)))
        m2 = h * sum(f.(z) .^ 2 .* φ)
        @test isapprox(calculate_gain(nl), 1 / sqrt(m2); rtol = 1e-8)
    end
    @test_throws ArgumentError calculate_gain("swish")
    @test_throws ArgumentError calculate_gain("relu", 0.1)
end

@testset "uniform: bounds, moments, KS" begin
    for T in (Float32, Float64, Float16)
        x = uniform_init(T, N; seed = 1, low = -0.5, high = 1.5)
        @test eltype(x) == T
        @test all(-0.5 .<= x .<= 1.5)
        T == Float16 || @test all(x .< 1.5)
        @test moments_ok(x, 0.5, 4 / 12, 1.8)
        T == Float16 || @test ks_stat(x, v -> clamp((v + 0.5) / 2, 0, 1)) < ks_crit(N)
    end
end

@testset "normal: moments, KS, tails" begin
    for T in (Float32, Float64)
        x = normal_init(T, N; seed = 2, mean = 1.0, std = 0.5)
        @test moments_ok(x, 1.0, 0.25, 3.0)
        @test ks_stat(x, v -> Φ((v - 1.0) / 0.5)) < ks_crit(N)
    end
    # the extreme quantiles the mapping reaches, and symmetry u -> 1-u
    umin = 0.5 * 2.0^-52
    @test JInit.norminv(umin) ≈ -8.20953615 atol = 1e-7
    @test JInit.norminv(1 - umin) == -JInit.norminv(umin)
    @test JInit.u52_open(typemax(UInt64)) == 1 - umin
    @test JInit.u52_open(UInt64(0)) == umin
    # tail frequency beyond 4 std: expected N·2Φ(-4), Poisson σ
    x = normal_init(Float64, 4N; seed = 3)
    k = count(abs.(x) .> 4)
    λ = 4N * 2Φ(-4.0)
    @test abs(k - λ) <= Z * sqrt(λ)
end

@testset "truncated normal: inside bounds, moments, KS, tiny std" begin
    a, b = -1.0, 2.5
    x = truncated_normal_init(Float64, N; seed = 4, lo = a, hi = b)
    @test all(a .<= x .<= b)
    Z0 = Φ(b) - Φ(a)
    φ(t) = exp(-t^2 / 2) / sqrt(2π)
    μ = (φ(a) - φ(b)) / Z0
    σ2 = 1 + (a * φ(a) - b * φ(b)) / Z0 - μ^2
    @test moments_ok(x, μ, σ2, 3.0)
    @test ks_stat(x, v -> (Φ(v) - Φ(a)) / Z0) < ks_crit(N)
    # std units, and a far tail interval (sampled on the flipped side)
    y = truncated_normal_init(Float64, N; seed = 5, lo_std = 6.0, hi_std = 7.0)
    @test all(6 .<= y .<= 7)
    @test ks_stat(y, v -> (Φ(-6.0) - Φ(-v)) / (Φ(-6.0) - Φ(-7.0))) < ks_crit(N)
    # PyTorch's old bug: std = 0.002 with absolute bounds ±2 must not put values at ±2
    t = truncated_normal_init(Float32, N; seed = 6, std = 0.002, lo = -2.0, hi = 2.0)
    @test maximum(abs.(t)) < 0.002 * 6
    @test moments_ok(t, 0.0, 0.002^2, 3.0)
    # exactly inside bounds after rounding to Float32 and Float16
    for T in (Float32, Float16)
        t = truncated_normal_init(T, N; seed = 7, lo = -0.1, hi = 0.1, std = 1.0)
        @test all(-0.1 .<= Float64.(t) .<= 0.1)
    end
    far = truncated_normal_init(Float64, N; seed = 8, lo = -Inf, hi = -30.0)   # one-sided, deep tail
    @test all(isfinite, far) && all(far .<= -30) && minimum(far) > -31
    @test_throws ArgumentError truncated_normal_init(3; lo = NaN)
    @test truncated_normal_init(Float64, 5; std = 0, mean = 5, lo = -1, hi = 1) == fill(1.0, 5)   # clamp(mean)
    @test truncated_normal_init(Float64, 5; std = 0, mean = 0.5, lo = -1, hi = 1) == fill(0.5, 5)
    both = truncated_normal_init(Float64, N; seed = 8, lo = -Inf, hi = Inf)    # no truncation: Φ⁻¹(u) (stream v1's normal)
    @test both == [JInit.norminv(JInit.u52_open(w)) for w in rand(PhiloxStream(8), UInt64, N)]
end

@testset "fan-scaled initializers" begin
    out, inp = 256, 1024
    fi, fo = inp, out
    for (f, kw, v, κ) in ((xavier_init, (;), 2 / (fi + fo), 1.8),
                          (xavier_init, (distribution = "normal", gain = 2.0), 4 * 2 / (fi + fo), 3.0),
                          (he_init, (;), 2 / fi, 3.0), (he_init, (distribution = "uniform", mode = "fan_out"), 2 / fo, 1.8),
                          (he_init, (nonlinearity = "tanh",), (5 / 3)^2 / fi, 3.0),
                          (he_init, (a = 0.2, nonlinearity = "leaky_relu"), 2 / 1.04 / fi, 3.0),
                          (lecun_init, (;), 1 / fi, 3.0), (lecun_init, (distribution = "uniform",), 1 / fi, 1.8),
                          (variance_scaling_init, (scale = 2.0, mode = "fan_geo_avg"), 2 / sqrt(fi * fo), 2.8),
                          (variance_scaling_init, (mode = "fan_avg", distribution = "normal"), 2 / (fi + fo), 3.0))
        x = f(Float64, out, inp; seed = 9, kw...)
        @test size(x) == (out, inp)
        @test moments_ok(x, 0.0, v, κ)
    end
    b = sqrt(6 / (fi + fo))
    @test maximum(abs.(xavier_init(out, inp; seed = 1))) <= b
    t = variance_scaling_init(Float64, out, inp; seed = 1)      # Keras truncated: within ±2 std_untruncated
    s = sqrt(1 / fi) / JInit.KERAS_TRUNC_STD
    @test maximum(abs.(t)) <= 2s
    # conv kernels (k, k, in, out): fans from Flux layout
    c = he_init(Float64, 3, 3, 64, 128; seed = 2)
    @test moments_ok(c, 0.0, 2 / (9 * 64), 3.0)
end

@testset "orthogonal" begin
    for dims in ((64, 32), (32, 64), (50, 50), (3, 3, 8, 16), (3, 3, 64, 4))
        Q = orthogonal_init(Float64, dims...; seed = 1, gain = 2.0)
        @test size(Q) == dims
        shape = JInit.torch_shape(dims)
        M = reshape(Float64.(permutedims(reshape(vec(length(dims) == 2 ? permutedims(Q) : Q),
                                                 prod(shape[2:end]), shape[1]))), shape[1], :)
        r, c = size(M)
        G = r <= c ? M * M' : M' * M
        @test G ≈ 4I atol = 1e-10
    end
    # Haar: the sign fix gives E[Q] = 0 per entry, and no zero column
    S = sum(orthogonal_init(Float64, 4, 4; seed = s) for s in 1:4000)
    @test maximum(abs.(S ./ 4000)) < Z * sqrt(0.25 / 4000)
    @test_throws ArgumentError orthogonal_init(5)
    @test size(orthogonal_init(0, 5)) == (0, 5)
end

@testset "sparse" begin
    W = sparse_init(Float64, 100, 40; sparsity = 0.25, std = 0.5, seed = 3)
    @test all(count(iszero, W[:, j]) == 25 for j in 1:40)
    @test moments_ok(filter(!iszero, W), 0.0, 0.25, 3.0)
    W = sparse_init(Float64, 30, 50; nonzeros = 7, seed = 3)
    @test all(count(!iszero, W[i, :]) == 7 for i in 1:30)
    # zero positions are uniform: each row of a column is zero with probability 25/100
    Zc = zeros(100)
    for s in 1:400
        Zc .+= vec(sum(iszero.(sparse_init(Float64, 100, 10; sparsity = 0.25, seed = s)); dims = 2))
    end
    p = 0.25
    @test maximum(abs.(Zc ./ 4000 .- p)) < Z * sqrt(p * (1 - p) / 4000)
    # any AbstractRNG: all draws from it
    @test sparse_init(MersenneTwister(1), 10, 5; sparsity = 0.5) == sparse_init(MersenneTwister(1), 10, 5; sparsity = 0.5)
    @test_throws ArgumentError sparse_init(10, 5; sparsity = 1.5)
    @test_throws ArgumentError sparse_init(10, 5)
    @test_throws ArgumentError sparse_init(10, 5, 2; sparsity = 0.1)
end

@testset "identity / dirac" begin
    @test identity_init(Float64, 2, 3) == [1 0 0; 0 1 0]
    @test identity_init(Float64, 3, 2; gain = 2) == [2 0; 0 2; 0 0]
    K = identity_init(Float32, 3, 3, 4, 4)                  # (kw, kh, in, out), centre tap (2, 2)
    for o in 1:4, i in 1:4
        @test K[2, 2, i, o] == (i == o)
    end
    @test sum(K) == 4
    E = identity_init(Float32, 4, 4, 2, 2)                  # even kernel: 0-based tap 2 = 1-based 3
    @test E[3, 3, 1, 1] == 1 && sum(E) == 2
    G = identity_init(Float32, 3, 4, 6; groups = 2)         # out 6, in 4, 2 groups of 3
    @test sum(G) == 6 && G[2, 1, 1] == 1 && G[2, 1, 4] == 1
    @test_throws ArgumentError identity_init(3, 4, 6; groups = 4)
    @test_throws ArgumentError identity_init(5)
end

@testset "zeros, ones, constant, pretrained, presets" begin
    @test zeros_init(2, 3) == zeros(Float32, 2, 3)
    @test ones_init(Float64, 2) == [1.0, 1.0]
    @test constant_init(2; value = 0.1) == Float32[0.1, 0.1]
    W = rand(Float32, 3, 4)
    @test pretrained_init(W)(3, 4) == W
    @test_throws ArgumentError pretrained_init(W)(4, 3)
    @test_throws ArgumentError pretrained_init(W)(Float64, 3, 4)
    w, b = layer_init("torch", 64, 100; seed = 1)
    @test maximum(abs.(w)) <= 1 / sqrt(100) && maximum(abs.(b)) <= 1 / sqrt(100) && size(b) == (64,)
    @test moments_ok(w, 0.0, 1 / (3 * 100), 1.8)
    w, b = layer_init("flux", 64, 100; seed = 1)
    @test w == glorot_uniform(PhiloxStream(1), 64, 100) && b == zeros(Float32, 64)
    w, b = layer_init("flax", 64, 100; seed = 1)
    @test w == variance_scaling_init(PhiloxStream(1), 64, 100)
    @test_throws ArgumentError layer_init("caffe", 3, 3; seed = 1)
end

@testset "calling convention: rng, T, dims, partial application" begin
    @test eltype(kaiming_normal(3, 4)) == Float32
    @test eltype(kaiming_normal(Float64, 3, 4)) == Float64
    @test kaiming_normal(PhiloxStream(1), 3, 4) == kaiming_normal(3, 4; seed = 1)
    f = kaiming_normal(gain = 2.0)
    @test f(PhiloxStream(1), 3, 4) == kaiming_normal(PhiloxStream(1), 3, 4; gain = 2.0)
    g = kaiming_uniform(PhiloxStream(3))
    @test size(g(5, 6)) == (5, 6) && eltype(g(5, 6)) == Float32
    h = xavier_init(seed = 4)
    @test h(3, 2) == xavier_init(3, 2; seed = 4)
    # any AbstractRNG: values from it (the same words in the same positions)
    @test uniform_init(MersenneTwister(1), 5) == uniform_init(MersenneTwister(1), 5)
    @test normal_init(MersenneTwister(1), 5) != normal_init(MersenneTwister(2), 5)
    Random.seed!(1); a = he_init(4, 4)
    Random.seed!(1); b = he_init(4, 4)
    @test a == b
    for f in (zeros_init, ones_init, uniform_init, normal_init, truncated_normal_init, xavier_init, he_init,
              lecun_init, variance_scaling_init, orthogonal_init, identity_init)
        @test size(f(0, 5)) == (0, 5)                    # zero-size arrays: empty, no error
    end
    @test size(sparse_init(0, 5; sparsity = 0.5)) == (0, 5)
end

@testset "init!: in place, the same values" begin
    for (f, kw) in ((kaiming_normal, (;)), (xavier_init, (distribution = "truncated_normal",)), (uniform_init, (low = -1,)),
                    (orthogonal_init, (;)), (sparse_init, (sparsity = 0.3,)), (identity_init, (;)), (constant_init, (value = 2,)),
                    (lecun_init, (;)), (truncated_normal_init, (lo = -0.5, hi = 0.5)), (zeros_init, (;)))
        for dims in ((13, 7), (3, 3, 4, 5))
            f === sparse_init && length(dims) != 2 && continue
            A = fill(NaN32, dims)
            @test init!(f, A; seed = 3, kw...) === A
            @test A == f(dims...; seed = 3, kw...)
        end
    end
    B = zeros(Float64, 4, 4)
    init!(he_init, B; rng = PhiloxStream(2))
    @test B == he_init(PhiloxStream(2), Float64, 4, 4)
    @test_throws ArgumentError init!(he_init, B; rng = PhiloxStream(2), seed = 1)
end

@testset "errors name the argument and what is allowed" begin
    msg(f) = try f(); "" catch e; e isa ArgumentError ? e.msg : "not an ArgumentError: $e" end
    @test msg(() -> he_init(3, 4; mode = "fan_avg")) == "mode must be one of fan_in, fan_out; got 'fan_avg'"
    @test msg(() -> xavier_init(3, 4; distribution = "gauss")) == "distribution must be one of uniform, normal, truncated_normal; got 'gauss'"
    @test msg(() -> normal_init(3; std = -1)) == "std must be a finite number >= 0, got -1"
    @test msg(() -> uniform_init(3; low = 2, high = 1)) == "low must be <= high, got low=2.0, high=1.0"
    @test msg(() -> he_init(3, -4)) == "dimensions must be non-negative integers, got (3, -4)"
    @test msg(() -> he_init(3; seed = -1)) == "seed must be an integer in [0, 2^128), got -1"
    @test msg(() -> he_init(3)) == "fans are undefined for an array with fewer than 2 dimensions, got dimensions (3,)"
    @test msg(() -> he_init(Int, 3, 3)) == "element type must be one of Float16, Float32, Float64; got Int64"
    @test msg(() -> he_init(3, 3; nonlinearity = "swish")) != ""
    @test msg(() -> truncated_normal_init(3; lo = 1, hi = 0)) == "truncation bounds must satisfy lo < hi, got lo=1.0, hi=0.0"
    @test msg(() -> he_init(3, 3; gain = 1, a = 0.1)) == "give either gain or a (the leaky_relu slope), not both"
    @test msg(() -> sparse_init(3, 3; nonzeros = 5)) == "nonzeros must be an integer in [0, 3] (the number of inputs), got 5"
end

@testset "blocks: any block equals the slice of the whole array" begin
    rng = MersenneTwister(5)
    for (f, kw) in ((uniform_init, (low = -1, high = 2)), (normal_init, (std = 3,)), (he_init, (distribution = "uniform",)),
                    (truncated_normal_init, (lo = -0.3, hi = 0.8)), (xavier_init, ()), (lecun_init, ()),
                    (variance_scaling_init, (mode = "fan_out",)), (constant_init, (value = 0.5,)), (kaiming_normal, ()))
        for T in (Float16, Float32, Float64), dims in ((7, 5), (3, 2, 4, 6), (2, 9, 4))
            A = f(PhiloxStream(11), T, dims...; kw...)
            shape = length(dims) == 2 ? dims : reverse(dims)             # PyTorch order
            for _ in 1:4
                idx = map(shape) do n
                    a = rand(rng, 0:n); (a, rand(rng, a:n))
                end
                B = init_block(f, PhiloxStream(11), T, dims...; index = idx, kw...)
                fl = length(dims) == 2 ? idx : reverse(idx)
                @test B == A[[a+1:b for (a, b) in fl]...]
            end
        end
    end
    @test_throws ArgumentError init_block(orthogonal_init, PhiloxStream(1), Float32, 4, 4; index = ((0, 2), (0, 2)))
    @test_throws ArgumentError init_block(sparse_init, PhiloxStream(1), Float32, 4, 4; index = ((0, 2), (0, 2)), sparsity = 0.5)
    @test_throws ArgumentError init_block(identity_init, PhiloxStream(1), Float32, 4, 4; index = ((0, 2), (0, 2)))
    @test_throws ArgumentError init_block(he_init, PhiloxStream(1), Float32, 4, 4; index = ((0, 5), (0, 2)))
end

@testset "training support: batch order, the Flux entry point" begin
    o = batch_order(3, 1, 1000)
    @test sort(o) == 1:1000 && o != batch_order(3, 2, 1000) && o == batch_order(3, 1, 1000)
    @test o != batch_order(3 + (UInt128(1) << 64), 1, 1000) && o != batch_order(4, 1, 1000)
    w = rand(PhiloxStream(epoch_key(3, 1)), UInt64, 1000)     # the stable argsort of the epoch key's words
    @test issorted(w[o]) && o == sortperm(w; alg = MergeSort)
    @test batch_order(7, 3, 500) == sortperm(rand(PhiloxStream(derive_key(7, "epoch", 3)), UInt64, 500))
    @test batch_order(3, 0, 0) == Int[] && batch_order(3, 0, 1) == [1]
    if !isdefined(Base, :get_extension) || Base.get_extension(JInit, :JInitFluxExt) === nothing
        @test_throws ErrorException train_flux(zeros(Float32, 2, 2), [0, 1], zeros(Float32, 2, 2), [0, 1])
        @test_throws ErrorException flux_trainer(zeros(Float32, 2, 2), [0, 1], zeros(Float32, 2, 2), [0, 1])
        @test_throws ErrorException flux_epoch!(nothing, 1)
    end
end

@testset "LSUV (dense, core): post-condition on a held-out batch, arithmetic, errors" begin
    fit, held = normal_init(PhiloxStream(11), 64, 400), normal_init(PhiloxStream(12), 64, 400)
    ws = [orthogonal_init(PhiloxStream(param_key(2, l, 0)), o, i) for (l, (o, i)) in enumerate([(48, 64), (32, 48), (10, 32)])]
    out, iters = lsuv(ws, "tanh", fit; tol = 0.05)
    @test length(iters) == 3 && all(0 .<= iters .<= 10) && sum(iters) >= 1 && out[2] !== ws[2]
    a = fit
    for (l, w) in enumerate(out)                   # on the fitting batch: exactly within tol, or max_iter reached
        z = w * a
        @test abs(JInit.var_pop(z) - 1) < 0.05 || iters[l] == 10
        a = tanh.(z)
    end
    # held out: tol plus 5 sigma of a variance estimate over n*units values (sigma = sqrt(2/(n*units)))
    a = held
    for w in out
        z = w * a
        @test abs(JInit.var_pop(z) - 1) < 0.05 + 5 * sqrt(2 / length(z)) * 4       # heavy tails: 4x Gaussian
        a = tanh.(z)
    end
    # one linear layer: a single rescaling by the measured std hits variance 1 exactly (up to rounding)
    w1, it1 = lsuv([3 .* Matrix{Float32}(I, 4, 4)], "relu", Float32[1 -1 2 0; 0 1 -1 2; 1 1 1 1; -2 0 0 2])
    @test it1 == [1] && isapprox(JInit.var_pop(w1[1] * Float32[1 -1 2 0; 0 1 -1 2; 1 1 1 1; -2 0 0 2]), 1; atol = 1e-6)
    @test_throws ArgumentError lsuv(ws, "tanh", fit; tol = 0)
    @test_throws ArgumentError lsuv(ws, "swish", fit)
    @test_throws ArgumentError lsuv(ws, "tanh", fit; max_iter = 0)
    @test_throws DimensionMismatch lsuv(ws, "tanh", zeros(Float32, 3, 10))
    if !isdefined(Base, :get_extension) || Base.get_extension(JInit, :JInitFluxExt) === nothing
        @test_throws ErrorException lsuv!(nothing, fit)
    end
end

@testset "delta orthogonal and Flux's own names (lecun_normal, orthogonal of a vector, identity_init shift)" begin
    for dims in ((3, 4, 6), (3, 3, 4, 4), (3, 2, 3, 5, 5), (4, 4, 2, 3))
        W = delta_orthogonal_init(Float64, dims...; gain = 1.5, seed = 2)
        c = W[map(k -> (k - 1) ÷ 2 + 1, dims[1:end-2])..., :, :]          # (in, out)
        @test c * c' ≈ 2.25 * I(dims[end-1]) atol = 1e-12                 # W_c' W_c = gain² I_in (out >= in)
        @test count(!iszero, W) == count(!iszero, c)                       # every other tap exactly zero
        @test c' == orthogonal_init(Float64, dims[end], dims[end-1]; gain = 1.5, seed = 2)
    end
    @test_throws ArgumentError delta_orthogonal_init(4, 4; seed = 0)                   # 3 to 5 dimensions
    @test_throws ArgumentError delta_orthogonal_init(3, 8, 4; seed = 0)                # in > out
    v = flux_orthogonal(Float64, 7; gain = 3.0, seed = 2)
    @test size(v) == (7,) && abs(norm(v) - 3) < 1e-12
    x = normal_init(Float64, 7; seed = 2)
    @test v ≈ 3 .* x ./ norm(x) atol = 1e-12
    @test flux_orthogonal(5, 3; seed = 1) == orthogonal_init(5, 3; seed = 1)
    @test flux_lecun_normal(20, 30; gain = 2.0, seed = 4) ==
          truncated_normal_init(20, 30; mean = 0.0, std = 2.0 / sqrt(30), lo = -2.0, hi = 2.0, seed = 4)
    w = flux_lecun_normal(5000; seed = 1)                                  # fan_in 1: std 1 truncated at ±2
    @test maximum(abs, w) <= 2
    @test_throws ArgumentError flux_lecun_normal(3, 3; gain = -1.0)
    E = Matrix{Float32}(I, 3, 4)
    @test flux_identity_init(3, 4) == E && flux_identity_init(3, 4; shift = (1, 2)) == circshift(E, (1, 2))
    K = flux_identity_init(3, 3, 2, 2; gain = 2)
    @test K[2, 2, 1, 1] == 2 && K[2, 2, 2, 2] == 2 && count(!iszero, K) == 2
    @test flux_identity_init(3, 3, 2, 2; shift = (1, 0, 0, 1)) == circshift(flux_identity_init(3, 3, 2, 2), (1, 0, 0, 1))
    @test flux_identity_init(4, 4, 1, 1)[2, 2, 1, 1] == 1                # cld(4, 2) = 2: the first middle tap
    @test flux_identity_init(5) == zeros(Float32, 5)
    @test_throws ArgumentError flux_identity_init(3, 3; shift = (1, 2, 3))
    @test_throws ArgumentError flux_identity_init(3, 3; shift = 1.5)
end

# Flux training: runs where Julia >= 1.9 has Flux in the environment (juliacall's, or
# `julia --project=<env with JInit and Flux>`); Debian's Julia 1.5 never loads the extension.
if VERSION >= v"1.9" && Base.find_package("Flux") !== nothing
    @eval using Flux
    include("flux_tests.jl")      # after `using Flux`, so its methods are visible (world age)
else
    println("FLUX TESTS NOT RUN: they need Julia >= 1.9 with Flux installed (this is Julia $VERSION)")
end

end # testset JInit
