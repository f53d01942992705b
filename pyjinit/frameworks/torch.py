"""pyjinit's weights in PyTorch tensors and models (``pyjinit.torch``; torch is imported here only).

- ``init_(tensor, name, seed=..., **kw)``: fill one tensor in place, like ``torch.nn.init.*_``.
- ``initialize(model, weight=..., bias=..., seed=..., preset=...)``: every parameter of a model in one call.
- ``initialize_weights(model, method="he", seed=...)``: the form tutorials teach.

Values are made where the tensor lives, by torch operations (the stream's torch sampler,
``pyjinit.frameworks.torch_sampler``: CPU, CUDA through a fused Triton kernel, MPS), equal to the NumPy backend
(float64 for float64 tensors, float32 otherwise; float16 and bfloat16 are rounded from float32); ``backend=``
"numpy"/"julia" computes on the host instead and copies. Which stream a
parameter draws from depends only on the seed and the parameter's place in the model (docs/stream.md §6):
parameter j (0-based) of the l-th module that owns parameters (1-based, registration order) draws from the key
``param_key(seed, l, j)`` (stream v3): the weight of layer l is ``param_key(seed, l, 0)``, as the trainer's, so
the default MNIST network initialized here equals the NumPy trainer's and Flux's starting network. Which
initializer each parameter gets is decided by the planner (``pyjinit.inits.plan``), as for Keras and Flax.

>>> import torch, pyjinit.torch as pt
>>> model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
>>> pt.initialize(model, weight="he", seed=0)[0].bias.abs().sum().item()
0.0
"""
from __future__ import annotations

import math
import re
import sys
import warnings

import numpy as np
import torch
from torch import nn

from ..inits import api, numpy_backend
from ..inits.plan import Param, plan
from ..inits.registry import COMMON, check_name, init, init_block, resolve
from ..inits.validate import check_choice, check_real, check_seed, fans, fmt

METHODS = {  # initialize_weights(method=...): (weight initializer, bias initializer); the papers' meaning
    "he": ("torch.kaiming_normal", "zeros"), "kaiming": ("torch.kaiming_normal", "zeros"),
    "he_uniform": ("torch.kaiming_uniform", "zeros"),
    "xavier": ("torch.xavier_uniform", "zeros"), "glorot": ("torch.xavier_uniform", "zeros"),
    "xavier_normal": ("torch.xavier_normal", "zeros"),
    "lecun": ("lecun", "zeros"), "orthogonal": ("orthogonal", "zeros"),
    "normal": ("normal", "zeros"), "uniform": ("uniform", "zeros"), "torch": (None, None),
}
_NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm) + (
    (nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ())
_WEIGHTED = (nn.Linear, nn.Bilinear, nn.modules.conv._ConvNd)
_RNN = (nn.RNNBase,)


# torch.nn.init's functions that warn "Initializing zero-element tensors is a no-op" (UserWarning) on a tensor with a
# zero dimension and return it (torch 2.x: kaiming_uniform_, kaiming_normal_; the others return it silently)
_WARN_EMPTY = ("torch.kaiming_uniform", "torch.kaiming_normal")
SAMPLERS = ("torch", "numpy", "julia", "auto")   # backend= of init_/init_shard_/initialize (None: see init_)


def _host_dtype(t: torch.Tensor) -> str:
    return "float64" if t.dtype == torch.float64 else "float32"


def _copy_into(tensor: torch.Tensor, arr: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        tensor.copy_(torch.from_numpy(np.ascontiguousarray(arr)))     # casts the dtype, moves to the device
    return tensor


def _check_tensor(tensor, what="tensor"):
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(tensor).__name__}")
    if not tensor.is_floating_point():
        raise TypeError(f"{what} must have a floating-point dtype, got {tensor.dtype}")
    if tensor.is_meta:
        raise ValueError(f"{what} is on the meta device (it has no memory): materialize the model first, e.g. "
                         "pyjinit.torch.initialize(model, ..., device='cpu')")


def _device_draw(name, full: tuple, kw: dict):
    """What `name` with `kw` draws on the PyTorch-order shape `full`, for the device sampler: (kind, params) of an
    elementwise draw, ("orthogonal", {"gain"}), or None (sparse, identity: made on the host)."""
    func, args = resolve(name, full, kw)
    own = {k: v for k, v in args.items() if k not in COMMON}
    if func in api._RUN_NAMES:
        d = numpy_backend.draw_of(api._RUN_NAMES[func], full, **own)
        return d.kind, d.params
    if func is api.orthogonal_init:
        return "orthogonal", {"gain": check_real("gain", own.get("gain", 1.0))}
    return None


def _orthogonal_(tensor: torch.Tensor, key: int, gain: float) -> torch.Tensor:
    """docs/stream.md §5 on the tensor's device: the normals of `key` (float64 for a float64 tensor, else
    float32) as a rows x cols matrix, QR of its tall orientation (torch.linalg.qr, in that precision), the Haar
    sign fix, times gain. Equal to the NumPy backend's to QR rounding (two LAPACKs, or cuSOLVER)."""
    from . import torch_sampler

    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(f"orthogonal needs at least 2 dimensions, got dimensions {fmt(shape)}")
    rows, cols = shape[0], tensor[0].numel()
    with torch.no_grad():
        if rows == 0 or cols == 0:
            return tensor.zero_()
        work = torch.float64 if tensor.dtype == torch.float64 else torch.float32
        m = torch_sampler.sample("normal", {"mean": 0.0, "std": 1.0}, key, 0, rows * cols, work,
                                 tensor.device).reshape(rows, cols)
        q, r = torch.linalg.qr(m.T if rows < cols else m)
        q *= torch.where(torch.diagonal(r) < 0, -1.0, 1.0).to(work)     # Haar sign fix; sign(0) := +1
        if rows < cols:
            q = q.T
        q *= torch.tensor(gain, dtype=work, device=q.device)
        tensor.copy_(q.reshape(shape))
    return tensor


def _fill(tensor, name: str, seed, kw: dict, full=None, offset=None) -> torch.Tensor:
    """`tensor` (or, with `full`/`offset`, its block of a `full`-shaped parameter) filled with `name`'s values for
    `seed`: on the tensor's own device by the torch sampler (backend None or "torch"), or on the host by the
    NumPy/Julia backend and copied (backend "numpy", "julia", "auto"; also sparse and identity, which have no
    device form)."""
    backend = kw.pop("backend", None)
    if backend is not None:
        check_choice("backend", backend, SAMPLERS)
    elif tensor.device.type == "cpu":
        backend = "numpy"                     # the host is the CPU tensor's device, and NumPy is 6-80x faster there
    kw.pop("dtype", None)                     # the tensor's dtype decides
    shape = tuple(tensor.shape)
    full = shape if full is None else full
    seed = api.new_seed() if seed is None else check_seed(seed)
    if backend in (None, "torch"):
        draw = _device_draw(name, full, kw)
        if draw is not None and draw[0] != "orthogonal":
            from . import torch_sampler

            return torch_sampler.fill_block_(tensor, draw[0], draw[1], seed, full, offset or (0,) * len(full))
        if draw is not None and full == shape:
            return _orthogonal_(tensor, seed, draw[1]["gain"])
        if draw is not None:                  # a shard of an orthogonal parameter: the whole, then this part
            whole = _orthogonal_(torch.empty(full, dtype=tensor.dtype, device=tensor.device), seed, draw[1]["gain"])
            with torch.no_grad():
                return tensor.copy_(whole[tuple(slice(o, o + n) for o, n in zip(offset, shape))])
        backend = "numpy"                     # whole-array draws without a device form: the NumPy backend
    if full == shape and offset is None:
        arr = init(name, shape, dtype=_host_dtype(tensor), seed=seed, backend=backend, **kw)
    else:
        index = tuple(slice(o, o + n) for o, n in zip(offset, shape))
        func, _ = resolve(name, full, {**kw, "seed": seed})
        if func in api._RUN_NAMES:
            arr = init_block(name, full, index, seed=seed, dtype=_host_dtype(tensor), backend=backend, **kw)
        else:                                 # sparse, identity: the whole array, then this part
            arr = init(name, full, dtype=_host_dtype(tensor), seed=seed, backend=backend, **kw)[index]
    return _copy_into(tensor, arr)


def init_(tensor, name: str, *, seed=None, backend=None, **kw):
    """Fill ``tensor`` in place with the initializer ``name`` (any name of ``pyjinit.initializers()``:
    ``"torch.kaiming_uniform"`` with torch's own arguments, ``"he"``, ``"keras.glorot_uniform"``, ...) and return
    it, like ``torch.nn.init.*_``. The tensor's shape is read in PyTorch order ``(out, in, *kernel)``.

    Where the values are made (``backend``):

    - None (default): on the tensor's own device. A CUDA/MPS/other tensor gets the stream's torch sampler
      (``pyjinit.frameworks.torch_sampler``; fused Triton kernels on CUDA), with no host copy; a CPU tensor gets
      the NumPy backend (the CPU is its device, and NumPy fills it 6x (normal) to 80x (uniform) faster than torch
      ops emulating 64-bit Philox; docs/benchmarks.md). Julia is never started.
    - ``"torch"``: the torch sampler on any device, CPU included. ``"numpy"``, ``"julia"``, ``"auto"``: that host
      backend, then a copy into the tensor.

    All give the same values (docs/stream.md): bitwise on the CPU; on CUDA bitwise too except float64 truncated
    normals, whose tails go through ``log`` (85 of 2^22 elements differed, by at most 4 ulp, on an H200);
    orthogonal to QR rounding (``stream.qr_tolerance``). Sparse and identity are always made on the host (NumPy
    by default) and copied. On a tensor with a zero dimension, ``"torch.kaiming_uniform"`` and
    ``"torch.kaiming_normal"`` warn as torch's do ("Initializing zero-element tensors is a no-op", UserWarning)
    and return it; the other names return it silently, as torch's.

    >>> import torch, math
    >>> w = init_(torch.empty(128, 784), "torch.kaiming_uniform", a=math.sqrt(5), seed=0)
    >>> bool(w.abs().max() <= 1 / math.sqrt(784))
    True
    """
    _check_tensor(tensor)
    if "layout" in kw:
        raise TypeError("init_ reads the tensor's shape in PyTorch order (out, in, *kernel): layout= does not apply")
    name = check_name(name)
    if 0 in tensor.shape and name in _WARN_EMPTY:      # torch.nn.init.kaiming_*_ warn and do nothing there
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return _fill(tensor, name, seed, {**kw, "backend": backend})


def init_shard_(shard, name: str, full_shape, offset, *, seed, backend=None, **kw):
    """Fill ``shard``, the part of a sharded parameter whose full shape is ``full_shape`` starting at
    ``offset`` (one start index per dimension; missing ones are 0), with exactly the values the whole tensor
    would have: ``init_(torch.empty(full_shape), name, seed=seed, **kw)[offset:offset + shard.shape]``,
    without making the whole tensor (elementwise initializers only), on the shard's device (``backend`` as in
    ``init_``). For FSDP / DTensor: ``init_shard_(p.to_local(), name, p.shape, offset, seed=...)`` with the shard's
    global offset (for ``Shard(0)`` over ``n`` ranks of ``torch.chunk``: rank ``r`` starts at
    ``r * ceil(p.shape[0] / n)``).

    >>> import torch                                                                  # doctest: +SKIP
    >>> part = init_shard_(torch.empty(3, 8), "he", (10, 8), (6,), seed=0)            # rows 6..8 of a 10x8 weight
    """
    if not isinstance(shard, torch.Tensor) or not shard.is_floating_point():
        raise TypeError("shard must be a floating-point torch.Tensor")
    full = tuple(int(d) for d in full_shape)
    off = tuple(int(o) for o in offset) + (0,) * (len(full) - len(tuple(offset)))
    if len(off) != len(full) or shard.dim() != len(full):
        raise ValueError(f"shard has {shard.dim()} dimensions, full_shape {len(full)} and offset {len(off)}; they must agree")
    for i, (o, n, f) in enumerate(zip(off, shard.shape, full)):
        if not 0 <= o <= o + n <= f:
            raise ValueError(f"the shard's dimension {i} (offset {o}, size {n}) does not fit in the full size {f}")
    name = check_name(name)
    func, _ = resolve(name, full, {**kw, "seed": seed})
    if func not in api._RUN_NAMES:
        raise ValueError(f"{name} has no block form (its values are not drawn elementwise)")
    return _fill(shard, name, seed, {**kw, "backend": backend}, full, off)


def _role(module, pname: str):
    """The planner's role (inits/plan.py ROLES) of parameter `pname` of `module`. Norms are torch's and
    any module whose class name contains LayerNorm or RMSNorm (Hugging Face's rule); Hugging Face's Conv1D (GPT-2;
    a Linear with its weight stored (in, out)) and Megatron's Column/RowParallelLinear are weighted layers,
    VocabParallelEmbedding an embedding; any other parameter (a module's own nn.Parameter) is "param"."""
    cls = type(module).__name__
    if isinstance(module, _NORMS) or "LayerNorm" in cls or "RMSNorm" in cls:
        return {"weight": "norm_scale", "bias": "norm_shift"}.get(pname)
    if cls == "Conv1D" and pname in ("weight", "bias"):
        return pname
    if isinstance(module, nn.Embedding):
        return "embedding" if pname == "weight" else None
    if isinstance(module, _RNN):
        if pname.startswith("weight_ih"):
            return "rnn_input"
        return "rnn_recurrent" if pname.startswith("weight_") else "rnn_bias"
    if isinstance(module, nn.MultiheadAttention):
        if pname in ("bias_k", "bias_v"):
            return "attn_bias_kv"
        return "attn_bias" if "bias" in pname else "attn_weight"
    if isinstance(module, _WEIGHTED) or "ParallelLinear" in cls:      # Megatron's Column/RowParallelLinear too
        if "layer_norm" in pname:                       # TELayerNormColumnParallelLinear's fused norm
            return "norm_scale" if pname.endswith("weight") else "norm_shift"
        return "weight" if pname == "weight" else "bias" if pname == "bias" else "param"
    if cls == "VocabParallelEmbedding" and pname == "weight":
        return "embedding"
    return "param"           # a parameter of a module of its own (ViT's class token): rules know it by its name


def _info(module, pname: str, mha_out: set) -> dict:
    """The module facts the presets use (plan.Param.info)."""
    if isinstance(module, nn.Bilinear):
        return {"bilinear_in1": module.weight.shape[1]}
    if isinstance(module, _WEIGHTED):
        return {"fan_in": fans(tuple(module.weight.shape))[0], "attn_out": id(module) in mha_out}
    if type(module).__name__ == "Conv1D":                  # Hugging Face: weight (in, out)
        return {"fan_in": module.weight.shape[0]}
    if "ParallelLinear" in type(module).__name__ and getattr(module, "weight", None) is not None:
        return {"fan_in": fans(tuple(module.weight.shape))[0]}
    if isinstance(module, _RNN):
        return {"hidden": module.hidden_size, "forget_gate": isinstance(module, nn.LSTM) and pname.startswith("bias_ih")}
    if isinstance(module, nn.Embedding):
        return {"padding_idx": module.padding_idx}
    return {}


def _model_facts(model) -> dict:
    """Model-level facts the presets use (plan.py, "the libraries' own initializations"): a Hugging Face or Megatron
    config's initializer range (``initializer_range``, ``init_std``, ``init_method_std``) and depth (``n_layer``,
    ``num_hidden_layers``, ``num_layers``), T5's ``initializer_factor``, ``d_model``, ``d_kv``, ``num_heads`` and
    ``d_ff``; torchtitan's ``model_args`` (``n_layers``, ``depth_init``); without a depth in the config, the number
    of blocks ``layers.<i>`` in the parameter names."""
    cfg = getattr(model, "config", None) or getattr(model, "model_args", None)
    facts = {}
    if cfg is not None:
        first = lambda *names: next((getattr(cfg, n) for n in names if getattr(cfg, n, None) is not None), None)  # noqa: E731
        for key, names in (("init_std", ("initializer_range", "init_std", "init_method_std")),
                           ("n_layer", ("n_layer", "num_hidden_layers", "num_layers", "n_layers")),
                           ("init_factor", ("initializer_factor",)), ("d_model", ("d_model",)), ("d_kv", ("d_kv",)),
                           ("n_heads", ("num_heads",)), ("d_ff", ("d_ff",)), ("depth_init", ("depth_init",))):
            v = first(*names)
            if v is not None:
                facts[key] = v
    if "n_layer" not in facts:
        blocks = {m.group(1) for n, _ in model.named_parameters()
                  for m in [re.search(r"(?:^|\.)layers\.(\d+)\.", n)] if m}
        if blocks:
            facts["n_layer"] = len(blocks)
    return facts


def describe(model) -> list:
    """The parameters of `model` as the planner sees them (plan.Param), in the layer order of docs/stream.md §6."""
    mha_out = {id(m.out_proj) for m in model.modules() if isinstance(m, nn.MultiheadAttention)}
    facts = _model_facts(model)
    out, first = [], {}
    for l, (mname, module) in enumerate(layers(model), start=1):
        for j, (pname, p) in enumerate(module.named_parameters(recurse=False)):
            path = f"{mname}.{pname}" if mname else pname
            info = {**facts, **_info(module, pname, mha_out)}
            if id(p) in first:                        # tied (GPT-2's wte and lm_head): made by its first occurrence
                info["tied_to"] = first[id(p)]
            first.setdefault(id(p), path)
            shape = tuple(p.shape)
            if type(module).__name__ == "Conv1D" and pname == "weight" and len(shape) == 2:
                info["transposed"], shape = True, shape[::-1]   # HF Conv1D stores (in, out): a Linear's transpose
            out.append(Param(path, l, j, _role(module, pname), type(module).__name__, shape, "torch", info))
    return out


def layers(model) -> list:
    """The modules of `model` that own parameters, in registration order: layer l (1-based) is layers[l-1]."""
    return [(n, m) for n, m in model.named_modules() if next(m.parameters(recurse=False), None) is not None]


def initialize(model, weight=None, bias=None, *, seed=None, preset=None, strict=True, device=None,
               weight_kwargs=None, bias_kwargs=None, key_by="position", backend=None, skip=None, skip_frozen=True,
               verbose=True):
    """Initialize every parameter of ``model`` in place, in one call, and return the model.

    - ``weight``, ``bias``: initializer names for the weights and biases of Linear, Conv1d/2d/3d,
      ConvTranspose*, Bilinear, Embedding, RNN/LSTM/GRU (every weight_ih/hh and bias) and
      MultiheadAttention (``weight_kwargs``/``bias_kwargs`` go with them). Norm layers (LayerNorm, BatchNorm,
      GroupNorm, RMSNorm) get ones and zeros.
    - ``preset``: a framework's defaults for everything not given (the planner's table,
      ``pyjinit.inits.plan.PRESETS``). "torch" is each module's own ``reset_parameters`` — which is *not* what many
      models do at construction (torch.nn.Transformer applies xavier_uniform_ to every matrix afterwards,
      torchvision and Hugging Face models run their own init); ``"model"`` is the model's own construction-time
      init for the families pyjinit recognizes (``model_preset``: torch.nn.Transformer, Hugging Face GPT-2, LLaMA,
      BERT, T5 and other models keeping the generic ``_init_weights``, torchvision ResNet/MobileNetV3/ViT, timm
      ViT, torchtitan llama3, Megatron GPT), an error naming the class for others; the library presets "hf",
      "hf-gpt2", "hf-llama", "hf-bert", "hf-t5", "timm-vit", "torchvision-resnet", "torchvision-mobilenetv3",
      "torchvision-vit", "torchtitan-llama3", "megatron" reproduce those libraries' own init per parameter
      (docs/initializers.md and ``python -m pyjinit list presets`` list each rule: e.g. GPT-2's c_proj
      N(0, initializer_range/√(2 n_layer)), T5's q N(0, f/√(d_model d_kv)), torchtitan's wo N(0, 0.02/√(2 (layer_id + 1))) truncated). "torch" reproduces each module's own
      ``reset_parameters`` (kaiming_uniform a=√5 weight and U(±1/√fan_in) bias; Bilinear U(±1/√in1);
      Embedding N(0, 1) with the padding row zero; RNNs U(±1/√hidden); MultiheadAttention xavier_uniform and
      zero biases); "keras": glorot_uniform weights, orthogonal recurrent weights, zero biases but an LSTM's
      forget-gate bias 1 (``unit_forget_bias``), Embedding U(±0.05); "flux" (0.15+): glorot_uniform for all
      weights (recurrent too), zero biases, Embedding N(0, 1); "flax": lecun_normal (truncated) weights,
      orthogonal recurrent weights, zero biases, Embedding N(0, 1/features). Without ``preset``, ``weight`` is required and ``bias`` defaults to
      zeros.
    - A parameter of a module type without a rule raises TypeError naming it; ``strict=False`` leaves it.
    - ``seed``: the model's seed (None draws one: ``pyjinit.last_seed()``). ``key_by="position"`` (default):
      parameter j of layer l draws from ``param_key(seed, l, j)`` (see the module docstring), so equivalent
      models in every framework get the same values; ``key_by="name"``: from ``name_key(seed, path)``, the
      parameter's path in the model (``"layers.5.attn.wq.weight"``), which survives splitting the model into
      pipeline stages or changing other layers. Either way the values do not depend on the device or the order
      of calls. They depend on the precision (docs/stream.md §3): float16/bfloat16 parameters get the float32
      values rounded, float64 ones draw float64 values from the same key, other numbers (truncated normals,
      computed in float64, excepted: there float32 is float64 rounded). The presets and rules are the planner's
      (``pyjinit.inits.plan``).
    - ``backend``: where values are made, as in ``init_``: None/"torch" on each parameter's own device (no host
      copy), "numpy"/"julia"/"auto" on the host.
    - Tied parameters (one tensor in several modules, e.g. GPT-2's ``wte`` and ``lm_head``) are made once, by the
      rule and key of their first occurrence in registration order (the embedding, for GPT-2).
    - Frozen parameters (``requires_grad=False``, e.g. a pretrained backbone) are kept as they are unless
      ``skip_frozen=False`` (a model on the meta device has nothing to keep: they are initialized).
    - An embedding's ``padding_idx`` row is zero under every rule.
    - ``strict=False`` leaves parameters without a rule as they are and warns, naming them; on a meta model that
      would leave uninitialized memory, so it raises instead, before anything is written.
    - ``skip``: parameters a checkpoint will provide, left as they are: a ``state_dict`` (its keys), a collection
      of parameter names or a function of the name; with ``verbose`` it says (on stderr) how many it skipped.
    - Sharded models: a parameter that is a DTensor (FSDP2's ``fully_shard``, ``parallelize_module``'s colwise /
      rowwise plans, any DeviceMesh with ``Shard``/``Replicate`` placements, uneven shards included) is made
      shard by shard: each rank fills only its local shard, on its device, with exactly the values of the
      unsharded parameter (fans from its full shape). Orthogonal, sparse and identity have no shard form: each
      rank makes the whole parameter (on its device for orthogonal, on the host for the others) and keeps its
      shard, so their cost is the full parameter per rank.
    - ``device``: for a model on the ``meta`` device (built with ``torch.device("meta")``, no memory), the
      device to materialize it on (``model.to_empty(device=device)``) before initializing it once; BatchNorm
      running statistics are reset.

    >>> import torch, pyjinit.torch as pt                                      # doctest: +SKIP
    >>> with torch.device("meta"):                                             # doctest: +SKIP
    ...     big = torch.nn.Linear(50_000, 50_000)
    >>> pt.initialize(big, preset="torch", seed=0, device="cpu")               # doctest: +SKIP
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    seed = api.new_seed() if seed is None else check_seed(seed)
    if preset == "model":
        preset = model_preset(model)
    described = describe(model)
    steps, missing = plan(described, seed=seed, weight=weight, bias=bias, preset=preset, key_by=key_by,
                          weight_kwargs=weight_kwargs, bias_kwargs=bias_kwargs, strict=strict)
    skip_test = _skip_test(skip)
    for step in steps:                      # every rule checked on its parameter's shape before anything is written
        if step.name is not None and not skip_test(step.param.path):
            _device_draw(step.name, step.param.shape, dict(step.kwargs))
    on_meta = any(p.is_meta for p in model.parameters())
    left = [m for m in missing if not skip_test(m)]
    if left:
        if on_meta:                          # before anything is written: to_empty would leave them garbage
            raise TypeError(f"initialize has no rule for {len(left)} parameters of this meta model "
                            f"({', '.join(map(fmt, left[:4]))}{', ...' if len(left) > 4 else ''}); after "
                            "materializing they would hold uninitialized memory: pass rules for them (weight=, "
                            "preset=) or name them in skip= if a checkpoint provides them")
        warnings.warn(f"pyjinit.torch.initialize (strict=False) left {len(left)} parameters without a rule as they "
                      f"are: {', '.join(left[:8])}{', ...' if len(left) > 8 else ''}", UserWarning, stacklevel=2)
    if on_meta:
        if device is None:
            raise ValueError("model is on the meta device: pass device= (e.g. 'cpu' or 'cuda') to materialize "
                             "it there and initialize it in one step")
        model.to_empty(device=device)
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._NormBase):
                m.reset_running_stats()
    elif device is not None:
        model.to(device)
    tensors = dict(model.named_parameters(remove_duplicate=False))
    skipped, frozen = [], []
    for step in steps:                      # every rule was checked (by plan) before anything is written
        if skip_test(step.param.path):
            skipped.append(step.param)
            continue
        if skip_frozen and not tensors[step.param.path].requires_grad and not on_meta:
            frozen.append(step.param)
            continue
        local, full, offset = _local_part(tensors[step.param.path])
        if step.param.info.get("transposed"):     # filled through its (out, in) view, as the Linear it is
            local, full, offset = local.T, (full[::-1] if full else None), (offset[::-1] if offset else None)
        _fill(local, step.name, step.key, {**step.kwargs, "backend": backend}, full, offset)
        if step.post is not None:           # a slice of the first axis, where this part holds it
            a, b, value = step.post
            o = offset[0] if offset else 0
            lo, hi = max(a - o, 0), min(b - o, local.shape[0])
            if lo < hi:
                with torch.no_grad():
                    local[lo:hi].fill_(value)
    if (skipped or frozen) and verbose:
        n = sum(math.prod(p.shape) for p in skipped + frozen)
        what = "; ".join(w for w in (f"{len(skipped)} that skip= names" if skipped else "",
                                     f"{len(frozen)} frozen (requires_grad=False; skip_frozen=False to include them)"
                                     if frozen else "") if w)
        print(f"pyjinit.torch.initialize: skipped {len(skipped) + len(frozen)} parameters ({n:,} values): {what}; "
              f"initialized {len(steps) - len(skipped) - len(frozen)}", file=sys.stderr)
    return model


_HF_OWNERS = {"GPT2PreTrainedModel": "hf-gpt2", "BertPreTrainedModel": "hf-bert", "T5PreTrainedModel": "hf-t5"}
_TORCHVISION = {"ResNet": "torchvision-resnet", "MobileNetV3": "torchvision-mobilenetv3",
                "VisionTransformer": "torchvision-vit"}


def model_preset(model) -> str:
    """The preset that is `model`'s own construction-time initialization, for the families pyjinit recognizes:

    - ``torch.nn.Transformer``: "torch-transformer" (each module's reset_parameters, then xavier_uniform_ on every
      parameter of more than one dimension);
    - Hugging Face (a ``config`` and ``_init_weights``), by the class that defines ``_init_weights``: GPT-2
      "hf-gpt2", BERT "hf-bert", T5 "hf-t5", LLaMA "hf-llama" (the generic one), any other model keeping the
      generic ``PreTrainedModel._init_weights`` "hf"; a model overriding it otherwise is refused;
    - torchvision, by class name: ``ResNet`` "torchvision-resnet", ``MobileNetV3`` "torchvision-mobilenetv3",
      ``VisionTransformer`` (with ``class_token``/``conv_proj``) "torchvision-vit";
    - timm's ``VisionTransformer`` (``cls_token``/``pos_embed``/``patch_embed``): "timm-vit" (mode '');
    - torchtitan's llama3 ``Transformer`` (its ``model_args`` and ``tok_embeddings``): "torchtitan-llama3";
      Megatron-Core's ``GPTModel``: "megatron";
    - a plain torch model of torch.nn layers only: "torch".

    Anything else is a ValueError naming its class and pointing at ``preset=``/``weight=``/``bias=``.

    >>> import torch
    >>> model_preset(torch.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1))
    'torch-transformer'
    """
    if isinstance(model, nn.Transformer):
        return "torch-transformer"
    cls, where = type(model).__name__, type(model).__module__
    if hasattr(model, "config") and hasattr(model, "_init_weights") and not where.startswith("megatron"):
        mro = type(model).__mro__
        owner = next(c for c in mro if "_init_weights" in c.__dict__)
        if owner.__name__ in _HF_OWNERS:
            return _HF_OWNERS[owner.__name__]
        if owner.__name__ == "PreTrainedModel":          # the generic _init_weights, not overridden
            return "hf-llama" if any(c.__name__ == "LlamaPreTrainedModel" for c in mro) else "hf"
        raise ValueError(f"preset='model' does not know {cls}'s own initialization ({owner.__name__}._init_weights "
                         "overrides Hugging Face's generic one): give a preset ('hf', 'hf-gpt2', ...) or weight=/bias= "
                         "rules")
    if cls == "VisionTransformer" and hasattr(model, "pos_embed") and hasattr(model, "patch_embed"):
        return "timm-vit"
    if cls in _TORCHVISION and (cls != "VisionTransformer" or hasattr(model, "class_token")):
        return _TORCHVISION[cls]
    if where.startswith("torchtitan") and hasattr(model, "model_args") and hasattr(model, "tok_embeddings"):
        return "torchtitan-llama3"
    if where.startswith("megatron") and cls == "GPTModel":
        return "megatron"
    if all(type(m).__module__.startswith("torch.nn") for m in model.modules()):
        return "torch"
    raise ValueError(f"preset='model' does not know how a {cls} initializes itself: give a preset ('torch', 'hf', "
                     "'hf-gpt2', 'timm-vit', ...: pyjinit.inits.plan.PRESETS) or weight=/bias= rules")


def _skip_test(skip):
    """A predicate on a parameter's path from `skip`: None, a state_dict (its keys), a collection of names, or a
    function of the name."""
    if skip is None:
        return lambda name: False
    if callable(skip) and not isinstance(skip, (dict, set, frozenset, list, tuple)):
        return lambda name: bool(skip(name))
    if isinstance(skip, (str, bytes)):
        raise TypeError("skip must be a state_dict, a collection of parameter names or a function of the name, "
                        f"got the string {skip!r} (wrap one name in a list)")
    try:
        names = frozenset(skip.keys() if hasattr(skip, "keys") else skip)
    except TypeError:
        raise TypeError("skip must be a state_dict, a collection of parameter names or a function of the name, "
                        f"got {type(skip).__name__}") from None
    return lambda name: name in names


def _local_part(p: torch.Tensor):
    """(the tensor to write, the parameter's full PyTorch-order shape, this part's offset in it or None): a
    DTensor parameter (FSDP2, tensor parallelism, any DeviceMesh and Shard/Replicate placements) gives its local
    shard and the shard's global offset, so each rank makes only its shard, from the full shape's fans."""
    try:
        from torch.distributed.tensor import DTensor
    except ImportError:                     # torch built without distributed
        return p, None, None
    if not isinstance(p, DTensor):
        return p, None, None
    from torch.distributed.tensor import Partial
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

    if any(isinstance(pl, Partial) for pl in p.placements):
        raise ValueError("a parameter with a Partial placement has no values of its own to initialize")
    full = tuple(p.shape)
    local = p.to_local()
    shape, offset = compute_local_shape_and_global_offset(full, p.device_mesh, p.placements)
    if tuple(shape) != tuple(local.shape):
        raise ValueError(f"the local shard has shape {tuple(local.shape)}, its placements give {tuple(shape)}")
    return local, full, tuple(int(o) for o in offset)


def lsuv_(model, batch, *, seed=None, tol=0.1, max_iter=10, orthogonal=True, backend=None):
    """LSUV (Mishkin & Matas 2016) for a PyTorch model, in place: orthonormal weights and zero biases
    (``initialize(model, weight="orthogonal", seed=seed)``, unless ``orthogonal=False``), then, for each Linear
    and Conv layer in order, the weight divided by the std of the layer's output on ``batch`` (a forward hook)
    until that variance is within ``tol`` of 1, at most ``max_iter`` times: the one LSUV loop (inits/lsuv.py),
    as the trainer's ``init="lsuv"``. For the MNIST MLP, the same batch and ``backend="numpy"`` (the trainer's
    orthogonal start; the default makes it on the model's device, equal to QR rounding), the same weights to
    float32 rounding of the two matrix products. Returns the model.

    >>> import torch, pyjinit.torch as pt                                             # doctest: +SKIP
    >>> pt.lsuv_(model, next(iter(loader))[0], seed=0)                                 # doctest: +SKIP
    """
    from ..inits.lsuv import check_lsuv_args, lsuv_loop

    check_lsuv_args(tol, max_iter)
    if orthogonal:
        initialize(model, weight="orthogonal", bias="zeros", seed=seed, strict=False, backend=backend)
    targets = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.modules.conv._ConvNd))]

    def variance(i):
        seen = {}
        hook = targets[i].register_forward_hook(lambda mod, inp, out: seen.__setitem__("out", out))
        try:
            model(batch)
        finally:
            hook.remove()
        return float(seen["out"].double().var(unbiased=False))

    def rescale(i, s):
        targets[i].weight.div_(s)

    training = model.training
    model.eval()                            # Dropout off and BatchNorm statistics untouched while measuring
    try:
        with torch.no_grad():
            lsuv_loop(len(targets), variance, rescale, tol, max_iter)
    finally:
        model.train(training)
    return model


_SAT = {nn.Tanh: lambda a: (a.abs() > 0.99), nn.Sigmoid: lambda a: (a < 0.01) | (a > 0.99)}
_RECT = (nn.ReLU, nn.LeakyReLU, nn.GELU, nn.ELU, nn.SiLU)


def diagnose_model(model, x, y, loss_fn=None) -> list:
    """Signal propagation at initialization in a PyTorch model, through forward and backward hooks, on one
    batch (x, y): for each Linear and Conv layer, in order, the mean and std of its output (pre-activation)
    and, when the next module is an activation, of that activation's output, the fraction of saturated
    (Tanh/Sigmoid: within 1% of the asymptotes) or dead (ReLU-like: zero for every example) units, and the std
    of the gradients with respect to the layer's activation (its output when no activation follows) and its
    weight (``loss_fn``, default cross-entropy).
    Returns a list of dicts, the same keys as ``pyjinit.training.diagnostics.measure`` where they apply.

    >>> rows = pt.diagnose_model(model, x, y)                                  # doctest: +SKIP
    """
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    mods = list(model.modules())
    layers = [m for m in mods if isinstance(m, (nn.Linear, nn.modules.conv._ConvNd))]
    after = {}
    for i, m in enumerate(mods):
        if m in layers and i + 1 < len(mods) and isinstance(mods[i + 1], tuple(_SAT) + _RECT):
            after[id(m)] = mods[i + 1]
    out, act = {}, {}
    hooks = []
    def keep_output(mod, inputs, o):            # a forward hook must return None (else it replaces the output)
        o.retain_grad()
        out[id(mod)] = o

    def keep_activation(key, o):
        o.retain_grad()
        act[key] = o

    for m in layers:
        hooks.append(m.register_forward_hook(keep_output))
        a = after.get(id(m))
        if a is not None:
            hooks.append(a.register_forward_hook(lambda mod, i, o, key=id(m): keep_activation(key, o)))
    try:
        model.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
    finally:
        for h in hooks:
            h.remove()
    rows = []
    for l, m in enumerate(layers, start=1):
        z = out[id(m)]
        a_t = act.get(id(m))
        a = None if a_t is None else a_t.detach()
        g = (z if a_t is None else a_t).grad          # dL/d(the layer's activation; the logits for the last)
        kind = type(after.get(id(m)))
        sat = float(_SAT[kind](a).float().mean()) if a is not None and kind in _SAT else None
        dead = None
        if a is not None and isinstance(after.get(id(m)), _RECT):
            per_unit = (z.detach() > 0).flatten(2).any(-1) if z.dim() > 2 else (z.detach() > 0)
            dead = float((~per_unit.any(0)).float().mean())
        rows.append({"layer": l, "module": type(m).__name__, "pre_mean": float(z.detach().mean()),
                     "pre_std": float(z.detach().std()), "act_mean": None if a is None else float(a.mean()),
                     "act_std": None if a is None else float(a.std()), "saturated": sat, "dead": dead,
                     "grad_act_std": float(g.std()) if g is not None else None,
                     "grad_weight_std": float(m.weight.grad.std()) if m.weight.grad is not None else None})
    model.zero_grad(set_to_none=True)
    return rows


def initialize_weights(model, method="he", *, seed=None, strict=True):
    """The tutorials' ``initialize_weights(model)``, with a stated meaning. ``method``:

    - "he"/"kaiming": weights ``kaiming_normal_(mode="fan_in", nonlinearity="relu")``, N(0, 2/fan_in) as in
      He et al. (2015); "he_uniform": ``kaiming_uniform_`` (U(±√(6/fan_in)));
    - "xavier"/"glorot": weights ``xavier_uniform_``, U(±√(6/(fan_in+fan_out))) as in Glorot & Bengio (2010);
      "xavier_normal";
    - "lecun", "orthogonal", "normal" (N(0, 1)), "uniform" (U[0, 1)); "torch": PyTorch's own defaults;
    - biases zero, norm layers ones/zeros, Embedding and RNN weights with the same weight initializer.

    A widely copied version calls ``kaiming_uniform_(a=√5)`` "He": that is PyTorch's default, U(±1/√fan_in),
    whose variance 1/(3 fan_in) is a third of LeCun's and a sixth of He's; and it gives biases a constant 0.01,
    which none of the papers nor Keras, Flax or Flux do. Here "he" means the paper's initializer and biases
    are zero; ``method="torch"`` is PyTorch's default if that is what you want.
    """
    m = check_choice("method", method, tuple(METHODS))
    if m == "torch":
        return initialize(model, preset="torch", seed=seed, strict=strict)
    w, b = METHODS[m]
    kw = {"nonlinearity": "relu"} if w == "torch.kaiming_normal" or w == "torch.kaiming_uniform" else {}
    return initialize(model, weight=w, bias=b, seed=seed, strict=strict, weight_kwargs=kw)
