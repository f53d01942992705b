# Keys of stream version 3: every stream a seed spawns, and the one function that derives them.
# Twin of pyjinit/inits/keys.py; docs/stream.md §6 is the specification.
#
# A key is a 128-bit integer, the same thing as a seed (Philox key (key mod 2^64, key >> 64)). A child key is
# one Philox4x64-10 block of the parent key at a counter that encodes what the child is for (a tag) and its
# indices:
#
#     derive(key, tag, i0, i1, i2) = o0 + o1 * 2^64,  (o0, o1, o2, o3) = philox4x64_10((i0, i1, i2, TAG[tag]), key)
#
# The tag word is never 0, so a derivation never reads a block of the parent's own stream (whose counters
# (j + 1, 0, 0, 0) have a zero last word). For one parent, distinct (tag, indices) are distinct counters and
# Philox is a bijection of the counter, so the 256-bit outputs differ; the 128-bit keys taken from them collide
# with probability 2^-128 per pair, not by arithmetic. Keys of distinct parents are outputs of distinct Philox
# keys. (Version 2 added i * 2^64 to the seed instead, so layer 1's bias was layer 2's weight.)
#
# Every named stream of the package is an entry of `STREAMS`; nothing else derives keys.

"""
Version of the stream specification (docs/stream.md) this JInit implements; pyjinit's `info` reports its own.
v3 = keys derived by a Philox block (`derive_key`); the draws of a stream are unchanged from v2.
"""
const STREAM_VERSION = 3

# name => (indices, what the stream is for). The tag word is the name's ASCII, little-endian, zero-padded.
const STREAMS = (
    param = (("layer", "j"), "parameter j (0-based, the layer's registration order) of layer l (1-based, the " *
                             "model's order of modules that own parameters): the default parameter identity"),
    name = (("nbytes",), "a parameter keyed by its name (key_by='name'): absorbs the UTF-8 length, then"),
    namepart = (("w0", "w1", "w2"), "each 24 bytes of the name as three little-endian words, zero-padded"),
    epoch = (("epoch",), "the training batch order of epoch e (1-based); epoch 0 is the LSUV batch"),
    bias = ((), "layer_init's bias vector"),
    sparse = ((), "the zero pattern of sparse_init"),
    diagnose = ((), "the example order the diagnostics batch is taken from"),
    subset = ((), "the training subset of compare(max_train=...) (parent key 0: the same for every seed)"),
)
const STREAM_NAMES = map(String, keys(STREAMS))

"""
    stream_tag(stream) -> UInt64

The tag word of a named stream (one of `JInit.STREAMS`): its name's ASCII bytes as a little-endian
`UInt64`, zero-padded. An unknown name is an `ArgumentError`.

```julia
julia> JInit.stream_tag("param") == 0x6d61726170
true
```
"""
function stream_tag(stream)
    s = check_choice("stream", stream, STREAM_NAMES)
    t = UInt64(0)
    for (i, b) in enumerate(codeunits(s))
        t |= UInt64(b) << (8 * (i - 1))
    end
    return t
end

function check_stream_index(i)
    (i isa Integer && !(i isa Bool) && 0 <= i <= typemax(UInt64)) ||
        throw(ArgumentError("a stream index must be an integer in [0, 2^64), got $(fmt(i))"))
    return UInt64(i)
end

"The child key of the Philox key `k` at the counter (i0, i1, i2, tag): words o0 + o1 * 2^64 of that block."
@inline function derive_words(k::NTuple{2,UInt64}, tag::UInt64, i0::UInt64, i1::UInt64, i2::UInt64)
    o = philox4x64_10((i0, i1, i2, tag), k)
    return UInt128(o[1]) | (UInt128(o[2]) << 64)
end

"""
    derive_key(key, stream, idx...) -> UInt128

The child key of `key` (a seed: an integer in [0, 2^128)) for the named `stream` at up to three indices
`idx` (integers in [0, 2^64); missing ones are 0):

    derive_key(key, stream, i0, i1, i2) = o0 + o1 * 2^64,
    (o0, o1, o2, o3) = philox4x64_10((i0, i1, i2, tag(stream)), (key mod 2^64, key >> 64))

with `tag(stream)` the name's ASCII bytes as a little-endian word. The streams (`JInit.STREAMS`): "param"
(layer l 1-based, parameter j 0-based), "name" (nbytes), "namepart" (w0, w1, w2), "epoch" (e), "bias",
"sparse", "diagnose", "subset". A key is a seed: `PhiloxStream(derive_key(...))` is its stream, and any
initializer takes it as `seed`. pyjinit's `keys.derive` is the same function.

```julia
julia> derive_key(0, "param", 1, 0) == param_key(0, 1, 0)
true

julia> W = kaiming_normal(PhiloxStream(derive_key(42, "param", 1, 0)), 64, 784); size(W)
(64, 784)
```
"""
function derive_key(key::Integer, stream, idx...)
    length(idx) <= 3 || throw(ArgumentError("a key derivation takes at most 3 indices, got $(length(idx))"))
    i = map(check_stream_index, idx)
    c = (i..., UInt64(0), UInt64(0), UInt64(0))
    return derive_words(seed_key(key), stream_tag(stream), c[1], c[2], c[3])
end

"""
    param_key(seed, l, j) -> UInt128

Key of parameter `j` (0-based, the layer's registration order: weight 0, bias 1) of layer `l` (1-based, the
model's order of layers that own parameters) of a model initialized with `seed`:
`derive_key(seed, "param", l, j)`. The trainer's layer-`l` weight is `param_key(seed, l, 0)`, in JInit's Flux
training and in every pyjinit framework adapter.

```julia
julia> W = he_init(PhiloxStream(param_key(0, 1, 0)), 64, 784); size(W)      # layer 1's weight, as the trainer's
(64, 784)

julia> using Flux; Dense(784 => 64, relu; init = JInit.he_init(PhiloxStream(param_key(0, 1, 0))))   # the same, in Flux
```
"""
param_key(seed::Integer, l::Integer, j::Integer) = derive_key(seed, "param", l, j)

"""
    name_key(seed, name::AbstractString) -> UInt128

Key of the parameter called `name` (e.g. `"layers.5.attn.wq.weight"`) of a model initialized with `seed`
(pyjinit's `key_by="name"`): with `b` the name's UTF-8 bytes, `k = derive_key(seed, "name", length(b))`, then
for each 24 bytes of `b` (the last zero-padded) `k = derive_key(k, "namepart", w0, w1, w2)`, its three
little-endian 64-bit words.

```julia
julia> W = xavier_init(64, 32; seed = name_key(0, "encoder.0.weight")); size(W)
(64, 32)
```
"""
function name_key(seed::Integer, name::AbstractString)
    b = codeunits(String(name))
    k = derive_key(seed, "name", length(b))
    tag = stream_tag("namepart")
    for a in 0:24:length(b)-1
        w = [UInt64(0), UInt64(0), UInt64(0)]
        for p in 0:23
            a + p < length(b) || break
            w[p ÷ 8 + 1] |= UInt64(b[a + p + 1]) << (8 * (p % 8))
        end
        k = derive_words(seed_key(k), tag, w[1], w[2], w[3])
    end
    return k
end

"""
    epoch_key(seed, e) -> UInt128

Key of the batch order of training epoch `e` (1-based; epoch 0 is the LSUV batch): `derive_key(seed, "epoch", e)`.
`batch_order(seed, e, n)` sorts the first `n` words of `PhiloxStream(epoch_key(seed, e))`.

```julia
julia> rand(PhiloxStream(epoch_key(7, 1)), UInt64, 3) == rand(PhiloxStream(epoch_key(7, 1)), UInt64, 3)
true
```
"""
epoch_key(seed::Integer, e::Integer) = derive_key(seed, "epoch", e)

"""
    bias_key(seed) -> UInt128

Key of `layer_init`'s bias vector ("torch" preset): `derive_key(seed, "bias")`.

```julia
julia> layer_init("torch", 4, 3; seed = 1)[2] == uniform_init(PhiloxStream(bias_key(1)), 4; low = -1/sqrt(3), high = 1/sqrt(3))
true
```
"""
bias_key(seed::Integer) = derive_key(seed, "bias")

"""
    sparse_key(seed) -> UInt128

Key of the zero pattern of `sparse_init`: `derive_key(seed, "sparse")`. With a `PhiloxStream` `s`, the pattern
reads the stream of `sparse_key` of `s`'s key, from `s`'s current block.
"""
sparse_key(seed::Integer) = derive_key(seed, "sparse")

"Key of the example order pyjinit's diagnostics batch is taken from: `derive_key(seed, \"diagnose\")`."
diagnose_key(seed::Integer) = derive_key(seed, "diagnose")

"Key of the training subset pyjinit's `compare(max_train=...)` takes: `derive_key(0, \"subset\")` (every seed)."
subset_key() = derive_key(0, "subset")

"The 128-bit key (seed) of a Philox key pair: `k[1] + k[2] * 2^64`."
key_seed(k::NTuple{2,UInt64}) = UInt128(k[1]) | (UInt128(k[2]) << 64)
