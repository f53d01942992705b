"""Model-aware initialization schemes (issue 23): rules that need a parameter's role, depth and the model's
structure, not only its shape. Each scheme module states its paper's rule, its defaults and a runnable example;
the framework-neutral rules live here, and `pyjinit.torch` applies them to PyTorch models.

Modules: `roles` (role, depth and branch inference), `residual` (depth-scaled, Fixup, T-Fixup, ReZero/SkipInit,
DeepNet), `mup` (μP), `conv` (delta-orthogonal), `zero` (ZerO), `mimetic` (mimetic attention).
Nothing here imports torch at import time. `SCHEMES` (below) is every scheme in words: its formula, its paper and
its call (``python -m pyjinit list schemes``, docs/initializers.md).

Residual schemes on a PyTorch model: ``pyjinit.torch.apply_scheme(model, "fixup", seed=0, roles=None)``
(schemes: depth_scaled, fixup, t_fixup, rezero, skipinit, deepnet; ``roles=`` path patterns for models whose
blocks pyjinit does not recognize); reference modules with Fixup's scalars, ReZero gates and DeepNorm's α:
`modules` (imports torch).

Width, convolution and attention schemes on a PyTorch model (also exported by ``pyjinit.torch``):
``mup.mup_init_(model, base, seed=0)`` and ``mup.mup_param_groups(model, base, lr=1e-3)`` (μP against a base-width
copy of the model), ``conv.delta_orthogonal_(model, seed=0)`` (every Conv with out >= in; the core initializer is
``pyjinit.init("delta_orthogonal", shape)``), ``zero.zero_(model)`` (ZerO: deterministic identity/Hadamard),
``mimetic.mimetic_(model, seed=0)`` (every ``nn.MultiheadAttention``).

May import: `pyjinit.inits` and `pyjinit.frameworks` (the PyTorch adapter's fill, draw and describe helpers);
torch only inside the functions that act on a PyTorch model (`modules` at import time: it defines nn.Modules);
never pyjinit.training or Julia.
"""
from typing import NamedTuple


class SchemeDoc(NamedTuple):
    """A scheme in words: its ``formula``, the paper (``reference``) and the ``call`` that applies it."""
    formula: str
    reference: str
    call: str


# Every scheme in words: what `python -m pyjinit list schemes` prints and docs/initializers.md states (checked by
# tests/inits/test_docs_tables.py); each module's docstring gives the details. L: residual blocks of a stack,
# n_branches: residual branches per block (2 in a transformer layer), m: weight layers in series on a branch.
SCHEMES = {
    "depth_scaled": SchemeDoc(
        "every weight N(0, σ²), σ = 0.02 (std=); residual-branch outputs (attention out, MLP out) "
        "N(0, (σ/√(n_branches·L))²), σ/√(2L) in a transformer; biases 0",
        "Radford et al. 2019, Language Models are Unsupervised Multitask Learners (GPT-2, §2.3); Shoeybi et al. "
        "2019, Megatron-LM, arXiv:1909.08053 (scaled_init_method_normal)",
        'pyjinit.torch.apply_scheme(model, "depth_scaled", seed=0)'),
    "fixup": SchemeDoc(
        "readout (weight and bias) and each branch's last layer 0; the branch's other layers He normal "
        "N(0, 2/fan_in) × (n_branches·L)^(-1/(2m-2)) (n_branches·L: the residual branches); scalar biases 0, "
        "multipliers 1; stem He normal",
        "Zhang, Dauphin & Ma 2019, Fixup Initialization: Residual Learning Without Normalization, ICLR, "
        "arXiv:1901.09321",
        'pyjinit.torch.apply_scheme(model, "fixup", seed=0)'),
    "t_fixup": SchemeDoc(
        "Xavier uniform weights; token embeddings normal with std d^(-1/2) × (9M)^(-1/4) (× 0.67 N^(-1/4) "
        "without a decoder); decoder v, attention out and MLP weights × (9M)^(-1/4), encoder ones × 0.67 N^(-1/4) "
        "(N, M: encoder and decoder depths); biases 0",
        "Huang, Perez, Ba & Volkovs 2020, Improving Transformer Optimization Through Better Initialization, ICML "
        "(Algorithm 1)",
        'pyjinit.torch.apply_scheme(model, "t_fixup", seed=0)'),
    "rezero": SchemeDoc(
        "every residual gate α of x + α·F(x) is 0, so each block starts as the identity; other weights He normal "
        "N(0, 2/fan_in), biases 0",
        "Bachlechner, Majumder, Mao, Cottrell & McAuley 2020, ReZero is All You Need: Fast Convergence at Large "
        "Depth, arXiv:2003.04887",
        'pyjinit.torch.apply_scheme(model, "rezero", seed=0)'),
    "skipinit": SchemeDoc(
        "as rezero: the scalar multiplier of each residual branch is 0; other weights He normal N(0, 2/fan_in), "
        "biases 0",
        "De & Smith 2020, Batch Normalization Biases Residual Blocks Towards the Identity Function in Deep "
        "Networks, NeurIPS, arXiv:2002.10444",
        'pyjinit.torch.apply_scheme(model, "skipinit", seed=0)'),
    "deepnet": SchemeDoc(
        "DeepNorm x_{l+1} = LN(α x_l + G(x_l)); v, attention out and MLP weights Xavier normal × β, q, k Xavier "
        "normal; encoder-only α = (2N)^(1/4), β = (8N)^(-1/4); decoder-only α = (2M)^(1/4), β = (8M)^(-1/4); "
        "encoder-decoder: encoder α = 0.81 (N⁴M)^(1/16), β = 0.87 (N⁴M)^(-1/16), decoder α = (3M)^(1/4), "
        "β = (12M)^(-1/4)",
        "Wang, Ma, Dong, Huang, Zhang & Wei 2022, DeepNet: Scaling Transformers to 1,000 Layers, arXiv:2203.00555",
        'pyjinit.torch.apply_scheme(model, "deepnet", seed=0)'),
    "mup": SchemeDoc(
        "m = fan_in / base fan_in (against a narrow base model); input weights Var 1/fan_in, Adam LR η; hidden "
        "Var 1/fan_in, LR η/m; readout Var 1/(fan_in·m) (or 0), LR η/m; biases 0 and vectors as standard, LR η",
        "Yang, Hu, Babuschkin, Sidor, Liu, Farhi, Ryder, Pachocki, Chen & Gao 2022, Tensor Programs V: Tuning "
        "Large Neural Networks via Zero-Shot Hyperparameter Transfer, arXiv:2203.03466 (Table 3; Microsoft's mup)",
        "pyjinit.torch.mup_init_(model, base, seed=0); pyjinit.torch.mup_param_groups(model, base, lr=1e-3)"),
    "delta_orthogonal": SchemeDoc(
        "every conv kernel (out, in, *k) with out >= in is 0 except its centre tap (k-1)//2, an (out, in) matrix "
        "with orthonormal columns × gain (1); other weights lecun N(0, 1/fan_in); biases 0",
        "Xiao, Bahri, Sohl-Dickstein, Schoenholz & Pennington 2018, Dynamical Isometry and a Mean Field Theory "
        "of CNNs: How to Train 10,000-Layer Vanilla Convolutional Neural Networks, ICML, arXiv:1806.05393",
        'pyjinit.torch.delta_orthogonal_(model, seed=0); pyjinit.init("delta_orthogonal", shape)'),
    "zero": SchemeDoc(
        "ZerO, no random numbers: a weight (out, in) is eye(out, in) when out <= in, else H_p[:out, :in]/√p "
        "(H_p Sylvester Hadamard, p = 2^⌈log2 out⌉); a conv kernel holds it at its centre tap k//2, 0 elsewhere; "
        "biases 0, norm gains 1",
        "Zhao, Schäfer & Anandkumar 2022, ZerO Initialization: Initializing Neural Networks with only Zeros and "
        "Ones, TMLR, arXiv:2110.12661",
        "pyjinit.torch.zero_(model)"),
    "mimetic": SchemeDoc(
        "per head W_qᵀW_k ≈ α1 Z1 + β1 I, and W_o W_v ≈ α2 Z2 - β2 I, Z ~ N(0, I/d), factored by SVD (rank "
        "head_dim for q, k); α1 = β1 = 0.7, α2 = β2 = 0.4; attention biases 0",
        "Trockman & Kolter 2023, Mimetic Initialization of Self-Attention Layers, ICML, arXiv:2305.09828",
        "pyjinit.torch.mimetic_(model, seed=0)"),
}
