"""The same weights under any parallelism (docs/sharding.md): a small transformer initialized under FSDP2, tensor
parallelism (colwise + rowwise) and FSDP + TP on a 2-D mesh, from the meta device, in real multi-process PyTorch
(gloo on CPU, world sizes 1, 2 and 4), equals the single-process initialization bitwise; pipeline stages keyed
by name equal the full model's layers; skip= leaves a checkpoint's parameters alone.

Runtime: about 30-60 s on 2 cores (one spawn of `world` processes per layout, each importing torch)."""
import os
import sys
import tempfile

import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (.ci/run installs the CPU build)")
dist = pytest.importorskip("torch.distributed")
if not dist.is_available():
    pytest.skip("torch.distributed is not available in this torch build", allow_module_level=True)

from torch import nn  # noqa: E402

import pyjinit.torch as pt  # noqa: E402

pytestmark = pytest.mark.slow

D, HID, VOCAB, LAYERS = 12, 40, 37, 2       # uneven on purpose: 37 and 40 rows over 4 ranks, 12 over 8


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.ModuleDict({"wq": nn.Linear(D, D), "wk": nn.Linear(D, D), "wv": nn.Linear(D, D),
                                   "wo": nn.Linear(D, D)})
        self.ff = nn.ModuleDict({"w1": nn.Linear(D, HID), "w2": nn.Linear(HID, D)})
        self.norm = nn.LayerNorm(D)

    def forward(self, x):
        a = self.attn
        q, k, v = a["wq"](x), a["wk"](x), a["wv"](x)
        att = torch.softmax(q @ k.transpose(-1, -2) / D ** 0.5, -1) @ v
        x = self.norm(x + a["wo"](att))
        return x + self.ff["w2"](torch.relu(self.ff["w1"](x)))


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D)
        self.layers = nn.ModuleDict({str(i): Block() for i in range(LAYERS)})
        self.out = nn.Linear(D, VOCAB)

    def forward(self, idx):
        x = self.embed(idx)
        for b in self.layers.values():
            x = b(x)
        return self.out(x)


INITS = [dict(preset="torch"), dict(weight="he", bias="torch.uniform", bias_kwargs={"a": -0.1, "b": 0.1})]


def reference(kw, key_by="position"):
    return {n: p.detach().clone() for n, p in
            pt.initialize(TinyLM(), seed=7, key_by=key_by, **kw).named_parameters()}


def _worker(rank, world, layout, init_file, out_file, kw_index):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard
        from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

        with torch.device("meta"):
            model = TinyLM()
        if layout in ("tp", "fsdp+tp"):
            mesh = (init_device_mesh("cpu", (world,), mesh_dim_names=("tp",)) if layout == "tp" else
                    init_device_mesh("cpu", (2, world // 2), mesh_dim_names=("dp", "tp")))
            tp = mesh["tp"]
            for b in model.layers.values():
                parallelize_module(b, tp, {"attn.wq": ColwiseParallel(), "attn.wk": ColwiseParallel(),
                                           "attn.wv": ColwiseParallel(), "attn.wo": RowwiseParallel(),
                                           "ff.w1": ColwiseParallel(), "ff.w2": RowwiseParallel()})
            if layout == "fsdp+tp":
                for b in model.layers.values():
                    fully_shard(b, mesh=mesh["dp"])
                fully_shard(model, mesh=mesh["dp"])
        else:
            mesh = init_device_mesh("cpu", (world,), mesh_dim_names=("dp",))
            for b in model.layers.values():
                fully_shard(b, mesh=mesh)
            fully_shard(model, mesh=mesh)
        pt.initialize(model, seed=7, device="cpu", verbose=False, **INITS[kw_index])
        full = {}
        for n, p in model.named_parameters():
            full[n] = p.full_tensor().detach().clone() if hasattr(p, "full_tensor") else p.detach().clone()
        if rank == 0:
            torch.save(full, out_file)
    finally:
        dist.destroy_process_group()


def _spawn(world, layout, kw_index):
    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "full.pt")
        mp.spawn(_worker, args=(world, layout, os.path.join(tmp, "init"), out, kw_index), nprocs=world, join=True)
        return torch.load(out)


def _strip(name: str) -> str:
    """FSDP2 and TP keep parameter names; drop wrapper prefixes if a version adds them."""
    return name.replace("_fsdp_wrapped_module.", "").replace("_checkpoint_wrapped_module.", "")


@pytest.mark.parametrize("layout, world", [("fsdp", 1), ("fsdp", 2), ("fsdp", 4), ("tp", 2), ("tp", 4),
                                           ("fsdp+tp", 4)])
def test_sharded_init_equals_the_unsharded_one(layout, world):
    if sys.platform == "win32":
        pytest.skip("gloo process groups over file:// are not tested on Windows")
    kw_index = 0 if layout != "tp" else 1
    ref = reference(INITS[kw_index])
    got = {_strip(n): t for n, t in _spawn(world, layout, kw_index).items()}
    assert set(got) == set(ref)
    for n in ref:
        assert torch.equal(got[n], ref[n]), f"{layout} x{world}: {n} differs from the unsharded init"


def test_pipeline_stages_keyed_by_name_equal_the_full_model():
    """A stage holds some layers (torchtitan's way: the full model with the other layers deleted, names kept):
    key_by='name' gives those layers the full model's values; key_by='position' does not."""
    full = reference(INITS[0], key_by="name")
    stage = TinyLM()
    del stage.layers["0"]
    stage.embed = None
    pt.initialize(stage, seed=7, key_by="name", **INITS[0])
    got = dict(stage.named_parameters())
    assert got and all(torch.equal(p, full[n]) for n, p in got.items())
    pt.initialize(stage, seed=7, key_by="position", **INITS[0])
    assert not torch.equal(dict(stage.named_parameters())["layers.1.attn.wq.weight"], full["layers.1.attn.wq.weight"])


def test_skip_leaves_checkpoint_parameters_untouched(tmp_path, capsys):
    """state_dict save -> a new model on meta -> initialize(skip=state_dict) -> load_state_dict: nothing loaded is
    overwritten, the rest is initialized, and initialize says how many it skipped."""
    src = TinyLM()
    part = {k: v for k, v in src.state_dict().items() if k.startswith("layers.")}
    torch.save(part, tmp_path / "ckpt.pt")
    sd = torch.load(tmp_path / "ckpt.pt")
    with torch.device("meta"):
        m = TinyLM()
    m.to_empty(device="cpu")
    with torch.no_grad():
        for n, p in m.named_parameters():
            p.fill_(123.0)                                 # a sentinel that initialize must not touch where skipped
    pt.initialize(m, preset="torch", seed=7, skip=sd)
    said = capsys.readouterr().err
    assert f"skipped {len(sd)} parameters" in said
    for n, p in m.named_parameters():
        assert (p == 123.0).all().item() == (n in sd), n
    m.load_state_dict(sd, strict=False)
    assert all(torch.equal(m.state_dict()[k], v) for k, v in sd.items())
    ref = reference(INITS[0])
    assert torch.equal(m.embed.weight, ref["embed.weight"]) and torch.equal(m.out.bias, ref["out.bias"])
    with pytest.raises(TypeError, match="skip must be"):
        pt.initialize(TinyLM(), preset="torch", seed=7, skip="embed.weight")
