"""Invariants at init of the residual schemes (pyjinit.schemes.residual) and role inference (schemes.roles).

Statistical checks pool many draws and allow 5 sigma: the sample std of n i.i.d. normals has relative standard
deviation 1/sqrt(2n) (stated per test). Each invariant has a negative check: a wrong exponent or a missing zero
makes the same check fail (`_fixup_violations` on a He-initialized net, a scaled-by-the-wrong-exponent copy).
"""
import math
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import pyjinit.torch as pt  # noqa: E402
from pyjinit.schemes.modules import ResidualNet, ReZero  # noqa: E402
from pyjinit.schemes.residual import deepnorm_constants, plan_scheme  # noqa: E402
from pyjinit.schemes.roles import infer, summary  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
torch.set_num_threads(1)


def _std_ok(t, expected, n=None):
    """|std(t) / expected - 1| within 5 sigma of the sample std's relative error 1/sqrt(2n)."""
    n = n or t.numel()
    return abs(float(t.double().std()) / expected - 1) < 5 / math.sqrt(2 * n)


def _fixup_violations(net, L, m):
    """Fixup's invariants on a ResidualNet(variant="fixup"): what is violated (empty: none)."""
    bad = []
    if any(b.fc2.weight.abs().max() > 0 for b in net.blocks):
        bad.append("branch output not 0")
    if net.head.weight.abs().max() > 0 or net.head.bias.abs().max() > 0:
        bad.append("readout not 0")
    if any(p.item() != 0 for b in net.blocks for p in (b.bias1a, b.bias1b, b.bias2a, b.bias2b)):
        bad.append("scalar bias not 0")
    if any(b.scale.item() != 1 for b in net.blocks):
        bad.append("multiplier not 1")
    fan_in = net.blocks[0].fc1.weight.shape[1]
    want = math.sqrt(2 / fan_in) * L ** (-1 / (2 * m - 2))
    inner = torch.cat([b.fc1.weight.flatten() for b in net.blocks])
    if not _std_ok(inner, want):
        bad.append(f"inner std {float(inner.std()):.5g} != He x L^(-1/(2m-2)) = {want:.5g}")
    x = torch.randn(64, net.stem.in_features, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        if net(x).abs().max() != 0:
            bad.append("logits not 0")
    return bad


def test_fixup_invariants_and_negative_checks():
    # 50 blocks of 128x128: the pooled inner std has n = 819,200, sigma = 1/sqrt(2n) = 0.078%; tolerance 5 sigma
    net = pt.apply_scheme(ResidualNet(32, 128, 50, 10, variant="fixup"), "fixup", seed=0)
    assert _fixup_violations(net, L=50, m=2) == []
    # per block too (n = 16,384 each, sigma 0.55%): the scale does not depend on the depth index
    want = math.sqrt(2 / 128) / math.sqrt(50)
    assert all(_std_ok(b.fc1.weight, want) for b in net.blocks)
    # negative checks: a wrong exponent (L^(-1/(2m)) = 50^(-1/4)) and the He init (no zeros) both fail
    wrong = pt.apply_scheme(ResidualNet(32, 128, 50, 10, variant="fixup"), "fixup", seed=0)
    with torch.no_grad():
        for b in wrong.blocks:
            b.fc1.weight.mul_(50 ** -0.25 / 50 ** -0.5)
    assert _fixup_violations(wrong, L=50, m=2) == [
        f"inner std {float(torch.cat([b.fc1.weight.flatten() for b in wrong.blocks]).std()):.5g} "
        f"!= He x L^(-1/(2m-2)) = {want:.5g}"]
    with pytest.warns(UserWarning, match="left 250 parameters without a rule"):      # the scalars: left at 0/1
        he = pt.initialize(ResidualNet(32, 128, 50, 10, variant="fixup"), weight="torch.kaiming_normal", seed=0,
                           strict=False, weight_kwargs={"nonlinearity": "relu"})
    assert {"branch output not 0", "readout not 0", "logits not 0"} <= set(_fixup_violations(he, L=50, m=2))


def test_fixup_conv_blocks_use_the_kernel_fan_in():
    # 10 conv blocks of 8x8x3x3: fan_in 72, std sqrt(2/72) * 10^(-1/2); n = 5,760 pooled, sigma 0.93%
    net = pt.apply_scheme(ResidualNet(3, 8, 10, 10, variant="fixup", kind="conv"), "fixup", seed=3)
    inner = torch.cat([b.conv1.weight.flatten() for b in net.blocks])
    assert _std_ok(inner, math.sqrt(2 / 72) / math.sqrt(10))
    assert not _std_ok(inner, math.sqrt(2 / 8) / math.sqrt(10))          # the fan_in without the kernel: fails
    assert all(b.conv2.weight.abs().max() == 0 for b in net.blocks)
    with torch.no_grad():
        assert net(torch.randn(2, 3, 8, 8)).abs().max() == 0


def test_rezero_gates_zero_and_identity_at_init():
    net = ResidualNet(16, 32, 20, 10, variant="rezero")
    with torch.no_grad():
        for b in net.blocks:
            b.gate.fill_(0.5)                      # whatever the module's own init was
    pt.apply_scheme(net, "rezero", seed=0)
    assert all(float(b.gate) == 0 for b in net.blocks)
    x = torch.randn(8, 32)
    with torch.no_grad():
        h = x
        for b in net.blocks:
            h = b(h)
        assert torch.equal(h, x)                   # every block, hence the stack, is the identity
        x16 = torch.randn(8, 16)
        assert torch.equal(net(x16), net.head(torch.relu(net.stem(x16))))
        # negative check: a gate that is not 0 breaks the identity
        net.blocks[7].gate.fill_(1e-3)
        h = x
        for b in net.blocks:
            h = b(h)
        assert not torch.equal(h, x)
    # the other weights: He (fan_in 32, std 0.25; n = 20,480 pooled, sigma 0.49%)
    assert _std_ok(torch.cat([b.fc1.weight.flatten() for b in net.blocks]), math.sqrt(2 / 32))


def test_rezero_wrapper_and_missing_gates():
    model = nn.Sequential(nn.Linear(4, 8), ReZero(nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))),
                          ReZero(nn.Linear(8, 8)), nn.Linear(8, 2))
    with torch.no_grad():
        model[1].gate.fill_(1.0)
    pt.apply_scheme(model, "skipinit", seed=0)
    assert float(model[1].gate) == 0 and float(model[2].gate) == 0
    x = torch.randn(3, 8)
    with torch.no_grad():
        assert torch.equal(model[1](x), x)
    with pytest.raises(ValueError, match=r"has none: wrap each residual branch in pyjinit.schemes.modules.ReZero"):
        pt.apply_scheme(ResidualNet(4, 8, 3, 2, variant="plain"), "rezero", seed=0)


def test_deepnorm_constants_match_the_paper():
    # Wang et al. 2022, Fig. 2, computed by hand: decoder-only M = 12: α = 24^(1/4), β = 96^(-1/4)
    assert deepnorm_constants(0, 12)["decoder"] == pytest.approx((2.213364, 0.319472), rel=1e-5)
    assert deepnorm_constants(18, 0)["encoder"] == pytest.approx((2.449490, 0.288675), rel=1e-5)   # 36^¼, 144^-¼
    c = deepnorm_constants(6, 6)               # encoder 0.81 (6^5)^(1/16) = 1.41645..., 0.87 (6^5)^(-1/16)
    assert c["encoder"] == pytest.approx((0.81 * 6 ** (5 / 16), 0.87 * 6 ** (-5 / 16)), rel=1e-12)
    assert c["decoder"] == pytest.approx((18 ** 0.25, 72 ** -0.25), rel=1e-12)
    with pytest.raises(ValueError, match="n_encoder and n_decoder"):
        deepnorm_constants(0, 0)


def test_deepnet_beta_on_the_right_parameters():
    d, ff, n = 64, 128, 6
    t = nn.Transformer(d_model=d, nhead=4, num_encoder_layers=n, num_decoder_layers=n, dim_feedforward=ff,
                       batch_first=True)
    pt.apply_scheme(t, "deepnet", seed=2)
    be, bd = 0.87 * 6 ** (-5 / 16), 72 ** -0.25                    # 0.4970, 0.3433
    xav = lambda fi, fo: math.sqrt(2 / (fi + fo))                    # noqa: E731
    for stack, beta in (("encoder", be), ("decoder", bd)):
        layers = getattr(t, stack).layers
        ffn = torch.cat([lay.linear1.weight.flatten() for lay in layers])      # n = 49,152: sigma 0.32%
        assert _std_ok(ffn, beta * xav(d, ff)), stack
        qk = torch.cat([lay.self_attn.in_proj_weight[:2 * d].flatten() for lay in layers])   # q, k: gain 1
        assert _std_ok(qk, xav(d, d))
        v = torch.cat([lay.self_attn.in_proj_weight[2 * d:].flatten() for lay in layers])    # n = 24,576
        assert _std_ok(v, beta * xav(d, d))
        out = torch.cat([lay.self_attn.out_proj.weight.flatten() for lay in layers])
        assert _std_ok(out, beta * xav(d, d))
        assert not _std_ok(out, xav(d, d))                                # negative: no β would fail
    # the decoder's β is not the decoder-only formula (8M)^(-1/4) = 0.4518: that would fail
    dec = torch.cat([lay.linear2.weight.flatten() for lay in t.decoder.layers])
    assert _std_ok(dec, bd * xav(ff, d)) and not _std_ok(dec, 48 ** -0.25 * xav(ff, d))
    assert all(lay.linear1.bias.abs().max() == 0 for lay in t.encoder.layers)


def test_t_fixup_scales():
    d, ff, n = 64, 128, 6
    t = nn.Transformer(d_model=d, nhead=4, num_encoder_layers=n, num_decoder_layers=n, dim_feedforward=ff,
                       batch_first=True)
    pt.apply_scheme(t, "t_fixup", seed=4)
    uni = lambda fi, fo: math.sqrt(6 / (fi + fo)) / math.sqrt(3)     # noqa: E731  (Xavier uniform's std)
    enc, dec = 0.67 * 6 ** -0.25, 54 ** -0.25                        # 0.4281, 0.3680
    e = torch.cat([lay.linear1.weight.flatten() for lay in t.encoder.layers])       # n = 49,152: sigma 0.32%
    dd = torch.cat([lay.linear1.weight.flatten() for lay in t.decoder.layers])
    assert _std_ok(e, enc * uni(d, ff)) and _std_ok(dd, dec * uni(d, ff))
    assert not _std_ok(dd, enc * uni(d, ff))                          # the encoder's factor on the decoder: fails
    q = torch.cat([lay.self_attn.in_proj_weight[:d].flatten() for lay in t.decoder.layers])   # q unscaled
    assert _std_ok(q, uni(d, d))
    assert float(t.decoder.layers[0].self_attn.in_proj_weight[:d].abs().max()) <= math.sqrt(6 / (2 * d))


def test_depth_scaled_gpt2_c_proj_and_same_stream():
    transformers = pytest.importorskip("transformers", reason="transformers not installed")
    transformers.logging.set_verbosity_error()
    cfg = transformers.GPT2Config(n_layer=4, n_embd=64, n_head=2, vocab_size=97, n_positions=32)
    scaled = pt.apply_scheme(transformers.GPT2LMHeadModel(cfg), "depth_scaled", seed=5)
    plain = pt.initialize(transformers.GPT2LMHeadModel(cfg), weight="normal", weight_kwargs={"std": 0.02}, seed=5)
    own = transformers.GPT2LMHeadModel(cfg)                          # Hugging Face's own init
    sp, pp, op = dict(scaled.named_parameters()), dict(plain.named_parameters()), dict(own.named_parameters())
    cproj = [k for k in sp if k.endswith("c_proj.weight")]
    assert len(cproj) == 8
    # n = 4 x (64x64 + 256x64) = 81,920 pooled: sigma 0.25%; std 0.02/sqrt(2 L) = 0.02/sqrt(8)
    pooled = torch.cat([sp[k].flatten() for k in cproj])
    assert _std_ok(pooled, 0.02 / math.sqrt(8))
    assert abs(float(pooled.double().mean())) < 5 * 0.02 / math.sqrt(8) / math.sqrt(pooled.numel())
    assert _std_ok(torch.cat([op[k].flatten() for k in cproj]), 0.02 / math.sqrt(8))     # Hugging Face's agrees
    assert not _std_ok(torch.cat([pp[k].flatten() for k in cproj]), 0.02 / math.sqrt(8))  # unscaled: fails
    for k in sp:                                   # the same keys: the scheme changes the scale, not the stream
        if k in cproj:
            torch.testing.assert_close(sp[k], pp[k] / math.sqrt(8), rtol=1e-6, atol=0)
        elif k.endswith(".bias") or ".ln_" in k or k.startswith("transformer.ln_f"):
            assert torch.equal(sp[k], pp[k])
        else:
            assert torch.equal(sp[k], pp[k]), k


def test_roles_torch_transformer():
    t = nn.Transformer(d_model=32, nhead=2, num_encoder_layers=2, num_decoder_layers=3, dim_feedforward=64,
                       batch_first=True)
    s = infer(t)
    assert summary(s)["stacks"] == {"encoder.layers": ("encoder", 2), "decoder.layers": ("decoder", 3)}
    a = s["decoder.layers.2.multihead_attn.out_proj.weight"]
    assert (a.role, a.depth, a.n_layers, a.n_branches, a.branch, a.branch_len) == ("attn_out", 2, 3, 3, 1, 2)
    e = s["encoder.layers.1.linear2.weight"]
    assert (e.role, e.depth, e.n_layers, e.n_branches, e.branch, e.side) == ("mlp_out", 1, 2, 2, 1, "encoder")
    assert s["encoder.layers.0.self_attn.in_proj_weight"].role == "attn_qkv"
    assert s["encoder.norm.weight"].role == "norm" and s["decoder.layers.0.norm3.bias"].role == "norm"


@pytest.fixture(scope="module")
def hf():
    transformers = pytest.importorskip("transformers", reason="transformers not installed")
    transformers.logging.set_verbosity_error()
    return transformers


def _roles(s, prefix):
    return {k[len(prefix):]: v.role for k, v in s.items() if k.startswith(prefix)}


def test_roles_hf_gpt2_llama_bert_t5(hf):
    g = infer(hf.GPT2LMHeadModel(hf.GPT2Config(n_layer=3, n_embd=32, n_head=2, vocab_size=50, n_positions=16)))
    assert _roles(g, "transformer.h.1.") == {
        "ln_1.weight": "norm", "ln_1.bias": "norm", "attn.c_attn.weight": "attn_qkv", "attn.c_attn.bias": "attn_qkv",
        "attn.c_proj.weight": "attn_out", "attn.c_proj.bias": "attn_out", "ln_2.weight": "norm", "ln_2.bias": "norm",
        "mlp.c_fc.weight": "mlp_in", "mlp.c_fc.bias": "mlp_in", "mlp.c_proj.weight": "mlp_out",
        "mlp.c_proj.bias": "mlp_out"}
    c = g["transformer.h.2.mlp.c_proj.weight"]
    assert (c.depth, c.n_layers, c.n_branches, c.side) == (2, 3, 2, "decoder")
    assert g["transformer.wte.weight"].role == "embedding" and g["lm_head.weight"].role == "readout"
    lcfg = hf.LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                          num_key_value_heads=2, vocab_size=50)
    ll = infer(hf.LlamaForCausalLM(lcfg))
    assert _roles(ll, "model.layers.1.") == {
        "self_attn.q_proj.weight": "attn_q", "self_attn.k_proj.weight": "attn_k", "self_attn.v_proj.weight": "attn_v",
        "self_attn.o_proj.weight": "attn_out", "mlp.gate_proj.weight": "mlp_in", "mlp.up_proj.weight": "mlp_in",
        "mlp.down_proj.weight": "mlp_out", "input_layernorm.weight": "norm", "post_attention_layernorm.weight": "norm"}
    assert ll["model.embed_tokens.weight"].role == "embedding" and ll["model.norm.weight"].role == "norm"
    assert ll["model.layers.1.mlp.down_proj.weight"].branch_len == 2
    b = infer(hf.BertModel(hf.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                         intermediate_size=64, vocab_size=50)))
    assert {k: v for k, v in _roles(b, "encoder.layer.0.").items() if k.endswith("weight")} == {
        "attention.self.query.weight": "attn_q", "attention.self.key.weight": "attn_k",
        "attention.self.value.weight": "attn_v", "attention.output.dense.weight": "attn_out",
        "attention.output.LayerNorm.weight": "norm", "intermediate.dense.weight": "mlp_in",
        "output.dense.weight": "mlp_out", "output.LayerNorm.weight": "norm"}
    assert b["embeddings.word_embeddings.weight"].role == "embedding"
    assert b["encoder.layer.1.output.dense.weight"].side == "encoder"
    t5 = infer(hf.T5ForConditionalGeneration(hf.T5Config(num_layers=2, d_model=32, d_kv=8, num_heads=2, d_ff=64,
                                                          vocab_size=50)))
    x = t5["decoder.block.1.layer.1.EncDecAttention.o.weight"]
    assert (x.role, x.branch, x.n_branches, x.side) == ("attn_out", 1, 3, "decoder")
    y = t5["encoder.block.0.layer.1.DenseReluDense.wo.weight"]
    assert (y.role, y.branch, y.n_branches, y.side, y.n_layers) == ("mlp_out", 1, 2, "encoder", 2)


def test_roles_timm_vit():
    timm = pytest.importorskip("timm", reason="timm not installed (pip install timm): the ViT Block roles are "
                                              "checked on timm's own class")
    s = infer(timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=10, depth=2))
    assert s["blocks.1.attn.qkv.weight"].role == "attn_qkv" and s["blocks.1.mlp.fc2.weight"].role == "mlp_out"
    assert s["head.weight"].role == "readout" and s["cls_token"].role == "embedding"


class _Custom(nn.Module):
    def __init__(self, depth=4, w=8):
        super().__init__()
        self.inp = nn.Linear(3, w)
        self.layers = nn.ModuleList(nn.ModuleDict({"a": nn.Linear(w, w), "b": nn.Linear(w, w)}) for _ in range(depth))
        self.out = nn.Linear(w, 2)


def test_roles_by_pattern_and_errors():
    m = _Custom()
    with pytest.raises(ValueError, match=r"cannot infer the residual structure of a _Custom: .*roles=\{'blocks"):
        infer(m)
    roles = {"layers.*.a.*": "branch_in", "layers.*.b.*": "branch_out", "out.*": "readout"}
    s = infer(m, roles)
    b = s["layers.3.b.weight"]
    assert (b.role, b.depth, b.n_layers, b.n_branches, b.branch, b.branch_len, b.stack) == (
        "branch_out", 3, 4, 1, 0, 2, "layers")
    assert s["out.bias"].role == "readout" and s["inp.weight"].role == "other"
    pt.apply_scheme(m, "fixup", seed=0, roles=roles)
    assert all(float(l["b"].weight.abs().max()) == 0 for l in m.layers) and float(m.out.weight.abs().max()) == 0
    with pytest.raises(ValueError, match=r"roles\['out.\*'\] must be one of embedding, input"):
        infer(m, {"out.*": "head"})
    with pytest.raises(ValueError, match=r"the pattern 'nothing.\*' matches no parameter of this _Custom"):
        infer(m, {**roles, "nothing.*": "readout"})
    with pytest.raises(ValueError, match="scheme must be one of depth_scaled, fixup"):
        pt.apply_scheme(m, "fixupp", seed=0, roles=roles)
    with pytest.raises(TypeError, match="scheme 'fixup' takes no option 'std'"):
        pt.apply_scheme(m, "fixup", seed=0, roles=roles, std=0.1)


def test_plan_scheme_is_framework_neutral_and_keys_are_the_planners():
    from pyjinit.inits.plan import key_of

    net = ResidualNet(8, 16, 3, 4, variant="fixup")
    params = pt.describe(net)
    steps, left = plan_scheme(params, infer(net), "fixup", seed=11)
    assert left == []
    for st, rows in steps:
        assert st.key == key_of(11, st.param) and rows is None
    names = {st.param.path: st.name for st, _ in steps}
    assert names["blocks.0.fc2.weight"] == "zeros" and names["blocks.0.fc1.weight"] == "normal"
    assert names["stem.weight"] == "torch.kaiming_normal" and names["blocks.2.scale"] == "ones"


@pytest.mark.slow
@pytest.mark.parametrize("script", ["residual.py", "gpt_depth.py"])
def test_experiment_quick(script, tmp_path):
    if script == "gpt_depth.py":
        pytest.importorskip("transformers", reason="transformers not installed")
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "experiments" / script), "--quick", "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    import json

    res = json.loads(out.read_text())
    assert res["config"]["quick"] and res["runs"] and res["summary"]
