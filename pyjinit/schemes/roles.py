"""Structural roles, depth and branch counts of a model's parameters: what the residual schemes need to know.

The planner (``pyjinit.inits.plan``) sees a parameter's *layer* role (weight, bias, embedding, norm_scale, ...).
The structural schemes (``pyjinit.schemes.residual``) also need its place in the network: which residual block
it is in (``depth``, 0-based), how many blocks its stack has (``n_layers``, L), how many residual branches a
block has (``n_branches``), which branch it is on and how many weight layers that branch has in series
(``branch_len``, Fixup's m), and its *structural* role, one of `ROLES`:

- ``embedding`` (token/position tables, ViT's patch projection, class token and position embedding),
  ``input`` (a stem layer before the first block), ``readout`` (the classifier / LM head), ``norm`` (any
  ``*Norm`` module), ``other`` (a parameter outside the blocks that no rule names);
- inside a residual block: ``attn_q``, ``attn_k``, ``attn_v``, ``attn_qkv`` (a fused q/k/v projection: its rows
  are q, k, v in that order), ``attn_out`` (the attention branch's output projection), ``mlp_in`` (the MLP's
  first layer(s), gated ones included), ``mlp_out`` (its last layer), ``branch_in`` / ``branch_out`` (another
  branch's inner / last weight layer), ``gate`` (a residual scalar multiplying a branch: ReZero's α, SkipInit's,
  timm's LayerScale), ``scalar_bias`` / ``multiplier`` (Fixup's scalar biases and branch multiplier).
  ``attn_out``, ``mlp_out`` and ``branch_out`` are the residual-branch outputs (`BRANCH_OUT`).

Inference (`infer`) recognizes residual blocks by class name, without importing their libraries:
torch ``nn.TransformerEncoderLayer`` / ``nn.TransformerDecoderLayer`` (so ``nn.Transformer``,
``nn.TransformerEncoder``/``Decoder``), Hugging Face ``GPT2Block``, ``LlamaDecoderLayer``, ``BertLayer``,
``T5Block``, timm ViT ``Block`` (attn.qkv/attn.proj/mlp.fc1/mlp.fc2), and the reference blocks of
``pyjinit.schemes.modules`` (``ResidualBlock``, ``ReZero``). A block's depth is its index among the recognized
blocks of its parent container; its side is ``"decoder"`` for decoder layers (self-attention with a causal LM or
cross-attention: GPT-2, LLaMA, T5's decoder, ``TransformerDecoderLayer``), ``"encoder"`` for encoder layers,
None for plain residual blocks.

Any other model: name the roles by patterns on the parameter path (``fnmatch``, ``*`` matches across dots):

>>> from pyjinit.schemes.roles import infer                                          # doctest: +SKIP
>>> s = infer(model, roles={"blocks.*.fc1.weight": "branch_in", "blocks.*.fc2.weight": "branch_out",
...                         "head.*": "readout"})                                      # doctest: +SKIP

A pattern-named parameter's depth is the first integer component of its path (``blocks.7.fc2.weight``: 7), its
stack the path before it (``blocks``), L the number of distinct indices there; a block's branches end at its
``branch_out``/``attn_out``/``mlp_out`` weights, in registration order, and its ``branch_in`` weights belong to
the next branch output (so m = the number of weight layers in series on that branch). Patterns are applied
before the built-in families and override them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from ..inits.validate import fmt

ROLES = ("embedding", "input", "readout", "norm", "other", "attn_q", "attn_k", "attn_v", "attn_qkv", "attn_out",
         "mlp_in", "mlp_out", "branch_in", "branch_out", "gate", "scalar_bias", "multiplier")
BRANCH_OUT = ("attn_out", "mlp_out", "branch_out")
BRANCH_IN = ("attn_q", "attn_k", "attn_v", "attn_qkv", "mlp_in", "branch_in")
BLOCK_ROLES = BRANCH_IN + BRANCH_OUT + ("gate", "scalar_bias", "multiplier")
# the layer of a branch each role sits at (q/k/v in parallel, then the output; gated MLP inputs in parallel)
_STAGE = {"attn_q": 1, "attn_k": 1, "attn_v": 1, "attn_qkv": 1, "attn_out": 2, "mlp_in": 1, "mlp_out": 2}


@dataclass(frozen=True)
class Structure:
    """One parameter's place in the network (see the module docstring). ``kind``: "weight", "bias" or "param"
    (a scalar or a free tensor such as a gate); ``side``: "encoder", "decoder" or None; ``stack``: the path of
    the container its block is in (``"transformer.h"``); ``branch``: its branch's index in the block."""
    path: str
    role: str
    kind: str
    depth: int | None = None
    n_layers: int | None = None
    n_branches: int | None = None
    branch: int | None = None
    branch_len: int | None = None
    stack: str | None = None
    side: str | None = None


# class name -> (side, [(pattern on the path inside the block, role, branch)]); branch None: not on a branch
_MHA = lambda a, b: [(f"{a}.in_proj_*", "attn_qkv", b), (f"{a}.out_proj.*", "attn_out", b)]  # noqa: E731
FAMILIES = {
    "TransformerEncoderLayer": ("encoder", _MHA("self_attn", 0) + [
        ("linear1.*", "mlp_in", 1), ("linear2.*", "mlp_out", 1), ("norm*", "norm", None)]),
    "TransformerDecoderLayer": ("decoder", _MHA("self_attn", 0) + _MHA("multihead_attn", 1) + [
        ("linear1.*", "mlp_in", 2), ("linear2.*", "mlp_out", 2), ("norm*", "norm", None)]),
    "GPT2Block": ("decoder", [
        ("attn.c_attn.*", "attn_qkv", 0), ("attn.c_proj.*", "attn_out", 0), ("mlp.c_fc.*", "mlp_in", 1),
        ("mlp.c_proj.*", "mlp_out", 1), ("ln_*", "norm", None)]),
    "LlamaDecoderLayer": ("decoder", [
        ("self_attn.q_proj.*", "attn_q", 0), ("self_attn.k_proj.*", "attn_k", 0), ("self_attn.v_proj.*", "attn_v", 0),
        ("self_attn.o_proj.*", "attn_out", 0), ("mlp.gate_proj.*", "mlp_in", 1), ("mlp.up_proj.*", "mlp_in", 1),
        ("mlp.down_proj.*", "mlp_out", 1), ("*layernorm.*", "norm", None), ("*norm.*", "norm", None)]),
    "BertLayer": ("encoder", [
        ("attention.self.query.*", "attn_q", 0), ("attention.self.key.*", "attn_k", 0),
        ("attention.self.value.*", "attn_v", 0), ("attention.output.dense.*", "attn_out", 0),
        ("intermediate.dense.*", "mlp_in", 1), ("output.dense.*", "mlp_out", 1), ("*LayerNorm.*", "norm", None)]),
    "T5Block": (None, [   # side from its path (encoder./decoder.); layer.i is branch i
        ("layer.0.SelfAttention.q.*", "attn_q", 0), ("layer.0.SelfAttention.k.*", "attn_k", 0),
        ("layer.0.SelfAttention.v.*", "attn_v", 0), ("layer.0.SelfAttention.o.*", "attn_out", 0),
        ("layer.0.SelfAttention.relative_attention_bias.*", "embedding", None),
        ("layer.1.EncDecAttention.q.*", "attn_q", 1), ("layer.1.EncDecAttention.k.*", "attn_k", 1),
        ("layer.1.EncDecAttention.v.*", "attn_v", 1), ("layer.1.EncDecAttention.o.*", "attn_out", 1),
        ("layer.1.DenseReluDense.wi*", "mlp_in", 1), ("layer.1.DenseReluDense.wo.*", "mlp_out", 1),
        ("layer.2.DenseReluDense.wi*", "mlp_in", 2), ("layer.2.DenseReluDense.wo.*", "mlp_out", 2),
        ("layer.*.layer_norm.*", "norm", None)]),
    "Block": ("encoder", [   # timm VisionTransformer
        ("attn.qkv.*", "attn_qkv", 0), ("attn.proj.*", "attn_out", 0), ("attn.*_norm.*", "norm", None),
        ("mlp.fc1.*", "mlp_in", 1), ("mlp.fc2.*", "mlp_out", 1), ("norm*", "norm", None),
        ("ls1.*", "gate", 0), ("ls2.*", "gate", 1)]),
    "ResidualBlock": (None, [   # pyjinit.schemes.modules
        ("fc1.*", "branch_in", 0), ("conv1.*", "branch_in", 0), ("fc2.*", "branch_out", 0),
        ("conv2.*", "branch_out", 0), ("bias*", "scalar_bias", 0), ("scale", "multiplier", 0), ("gate", "gate", 0)]),
    "ReZero": (None, [("gate", "gate", 0), ("branch.*", "branch_in", 0)]),
}
# parameters outside the blocks, by module class name / module path / parameter name
_READOUT = ("lm_head", "head", "classifier", "readout", "fc_out")
_EMBED_PARAMS = ("cls_token", "class_token", "pos_embed", "pos_embedding", "dist_token", "reg_token")
_HINT = ("roles={'blocks.*.fc1.weight': 'branch_in', 'blocks.*.fc2.weight': 'branch_out', 'head.*': 'readout'}")


def _kind(pname: str) -> str:
    return "weight" if pname.endswith("weight") else "bias" if pname.endswith("bias") else "param"


def _match(pattern: str, path: str) -> bool:
    return fnmatchcase(path, pattern)


def check_roles(roles) -> dict:
    """`roles` (None or a dict pattern -> role) checked: ValueError naming a role outside ROLES."""
    if roles is None:
        return {}
    if not isinstance(roles, dict):
        raise TypeError(f"roles must be a dict of path patterns to roles, e.g. {_HINT[6:]}; got {type(roles).__name__}")
    for pat, role in roles.items():
        if not isinstance(pat, str):
            raise TypeError(f"roles: a pattern must be a string, got {fmt(pat)}")
        if role not in ROLES:
            raise ValueError(f"roles[{fmt(pat)}] must be one of {', '.join(ROLES)}; got {fmt(role)}")
    return dict(roles)


def _blocks(model) -> list:
    """[(path, module, family, depth, L, stack)] of the recognized residual blocks, outermost first."""
    found, taken = [], []
    for path, mod in model.named_modules():
        cls = type(mod).__name__
        if cls not in FAMILIES or any(path.startswith(t + ".") for t in taken):
            continue
        if cls == "Block" and not (hasattr(mod, "attn") and hasattr(mod, "mlp")):
            continue
        found.append((path, mod, cls))
        taken.append(path)
    out, by_stack = [], {}
    for path, mod, cls in found:
        stack = path.rsplit(".", 1)[0] if "." in path else ""
        by_stack.setdefault(stack, []).append(path)
    for path, mod, cls in found:
        stack = path.rsplit(".", 1)[0] if "." in path else ""
        members = by_stack[stack]
        out.append((path, mod, cls, members.index(path), len(members), stack))
    return out


def _side(cls: str, stack: str, mod) -> str | None:
    side = FAMILIES[cls][0]
    if cls == "T5Block":
        side = "decoder" if getattr(mod, "is_decoder", False) or "decoder" in stack else "encoder"
    if cls in ("ResidualBlock", "ReZero"):
        side = None
    return side


def _outside_role(model, mpath: str, module, pname: str) -> str:
    cls = type(module).__name__
    last = mpath.rsplit(".", 1)[-1]
    if "Norm" in cls:
        return "norm"
    if "Embedding" in cls or pname in _EMBED_PARAMS or mpath.startswith("patch_embed") or ".patch_embed" in mpath:
        return "embedding"
    if last in _READOUT:
        return "readout"
    if last == "stem" or mpath.startswith("stem."):
        return "input"
    return "other"


def _owner_paths(model) -> list:
    """[(path, module path, module, parameter name)] in the registration order describe() uses (tied ones too)."""
    out = []
    for mpath, mod in model.named_modules():
        for pname, _ in mod.named_parameters(recurse=False):
            out.append((f"{mpath}.{pname}" if mpath else pname, mpath, mod, pname))
    return out


def infer(model, roles=None) -> dict:
    """{parameter path: Structure} for every parameter of `model` (torch ``nn.Module``; duck-typed: anything
    with ``named_modules``/``named_parameters``), inferred from the recognized block classes and the `roles`
    patterns (module docstring). ValueError, naming the model's class and showing the pattern form, when no
    residual block is recognized and no pattern names a block role."""
    pats = check_roles(roles)
    entries = _owner_paths(model)
    used = {p: False for p in pats}
    blocks = _blocks(model)
    raw = {}                                      # path -> [role, kind, depth, L, branch, stack, side, block path]
    for path, mpath, mod, pname in entries:
        role = next((r for pat, r in pats.items() if _match(pat, path) and not used.__setitem__(pat, True)), None)
        blk = next((b for b in blocks if path.startswith(b[0] + ".")), None)
        kind = _kind(pname)
        if blk is not None:
            bpath, bmod, cls, depth, L, stack = blk
            rel = path[len(bpath) + 1:]
            rule = next(((r, br) for pat, r, br in FAMILIES[cls][1] if _match(pat, rel)), ("other", None))
            branch = rule[1]
            if role is None:
                role = rule[0]
            raw[path] = [role, kind, depth, L, branch, stack, _side(cls, stack, bmod), bpath]
        elif role is not None and role in BLOCK_ROLES:
            m = re.search(r"(?:^|\.)(\d+)(?:\.|$)", path)
            if m is None:
                raise ValueError(f"roles: {fmt(path)} is given the block role {fmt(role)} but its path has no block "
                                 "index (an integer component such as blocks.7.fc2.weight)")
            stack = path[:m.start(1)].rstrip(".")
            raw[path] = [role, kind, int(m.group(1)), None, None, stack, None, f"{stack}.{m.group(1)}"]
        else:
            raw[path] = [role or _outside_role(model, mpath, mod, pname), kind, None, None, None, None, None, None]
    unused = [p for p, u in used.items() if not u]
    if unused:
        raise ValueError(f"roles: the pattern {fmt(unused[0])} matches no parameter of this "
                         f"{type(model).__name__} (paths look like {fmt(entries[0][0]) if entries else 'nothing'})")
    if not any(v[0] in BLOCK_ROLES for v in raw.values()):
        fams = ", ".join(sorted(FAMILIES))
        raise ValueError(f"cannot infer the residual structure of a {type(model).__name__}: pyjinit recognizes the "
                         f"blocks {fams}; name the roles of its parameters by path patterns, e.g. {_HINT}")
    # pattern-named blocks: L = the distinct block indices of their stack (over all parameters under it)
    for path, v in raw.items():
        if v[2] is not None and v[3] is None:
            idx = {int(m.group(1)) for q in raw for m in [re.match(re.escape(v[5]) + r"\.(\d+)(?:\.|$)", q)] if m}
            v[3] = len(idx)
    # branches: explicit (families) or ending at each branch output, in registration order
    by_block = {}
    for path, v in raw.items():
        if v[7] is not None:
            by_block.setdefault(v[7], []).append(path)
    out_info = {}
    for bpath, paths in by_block.items():
        nxt = 0
        pending = []
        for path in paths:
            v = raw[path]
            if v[4] is None and v[0] in BLOCK_ROLES:
                if v[0] in BRANCH_OUT and v[1] == "weight":
                    for q in pending + [path]:
                        raw[q][4] = nxt
                    pending, nxt = [], nxt + 1
                else:
                    pending.append(path)
        for q in pending:                        # inner layers after the last output, a bias of an output
            raw[q][4] = max(nxt - 1, 0)
        for path in paths:                        # a branch output's bias: the branch of its weight
            v = raw[path]
            if v[1] == "bias" and v[0] in BRANCH_OUT + BRANCH_IN:
                w = path[:-4] + "weight"
                if w in raw and raw[w][4] is not None:
                    v[4] = raw[w][4]
        branches = sorted({raw[p][4] for p in paths if raw[p][4] is not None})
        lens = {}
        for b in branches:
            ws = [raw[p][0] for p in paths if raw[p][4] == b and raw[p][1] == "weight"
                  and raw[p][0] in BRANCH_IN + BRANCH_OUT]
            stages = {_STAGE[r] for r in ws if r in _STAGE}
            generic = sum(r in ("branch_in", "branch_out") for r in ws)
            lens[b] = len(stages) + generic
        out_info[bpath] = (len(branches), lens)
    result = {}
    for path, (role, kind, depth, L, branch, stack, side, bpath) in raw.items():
        nb, lens = out_info.get(bpath, (None, {}))
        result[path] = Structure(path, role, kind, depth, L, nb, branch, lens.get(branch), stack, side)
    return result


def summary(structure: dict) -> dict:
    """Counts for messages and docs: {"stacks": {stack: (side, L)}, "roles": {role: n}}."""
    stacks, counts = {}, {}
    for s in structure.values():
        counts[s.role] = counts.get(s.role, 0) + 1
        if s.stack is not None:
            stacks[s.stack] = (s.side, s.n_layers)
    return {"stacks": stacks, "roles": counts}
