"""Model-aware initialization schemes (issue 23): rules that need a parameter's role, depth and the model's
structure, not only its shape. Each scheme module states its paper's rule, its defaults and a runnable example;
the framework-neutral rules live here, and `pyjinit.torch` applies them to PyTorch models.

Modules: `roles` (role, depth and branch inference), `residual` (depth-scaled, Fixup, T-Fixup, ReZero/SkipInit,
DeepNet), `mup` (μP), `conv` (delta-orthogonal), `zero` (ZerO), `mimetic` (mimetic attention).
Nothing here imports torch at import time.

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
