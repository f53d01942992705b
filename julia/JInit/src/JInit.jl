"""
    JInit

Neural-network weight initializers whose values are a documented function of (seed, element index),
identical to the Python package pyjinit's NumPy backend. Core: stdlib only (Random, LinearAlgebra,
Statistics); runs on Julia 1.5 and later. Flux training lives in the extension `JInitFluxExt`.
"""
module JInit

using Random
using LinearAlgebra

export PhiloxStream, derive_key, param_key, name_key, epoch_key, bias_key, sparse_key, calculate_gain, nfan,
       zeros_init, ones_init, constant_init, uniform_init, normal_init, truncated_normal_init,
       variance_scaling_init, xavier_init, he_init, lecun_init, orthogonal_init, sparse_init,
       identity_init, delta_orthogonal_init, flux_lecun_normal, flux_orthogonal, flux_identity_init,
       pretrained_init, layer_init, init!,
       xavier_uniform, xavier_normal, glorot_uniform, glorot_normal, kaiming_uniform, kaiming_normal,
       he_uniform, he_normal, lecun_uniform, lecun_normal, batch_order, train_flux, flux_trainer, flux_epoch!, init_block, lsuv, lsuv!, layer_seed

include("validate.jl")
include("stream.jl")
include("keys.jl")
include("fill.jl")
include("ziggurat.jl")
include("inits.jl")
include("blocks.jl")
include("lsuv.jl")
include("training.jl")

end # module
