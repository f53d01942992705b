"""Side by side: torch's own DTensor initialization and pyjinit's, for the same model under FSDP2 and tensor
parallelism at world sizes 1, 2 and 4 (gloo on CPU): the largest difference of any parameter from the
unsharded model's weights (torch: `torch.manual_seed(0)` then each module's `reset_parameters()`; pyjinit:
`initialize(preset="torch", seed=0)`). Writes docs/results/sharding.json and prints the markdown table that
docs/sharding.md shows.

    python bench/sharding.py            # about a minute on 2 cores
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "frameworks"))
sys.path.insert(0, str(ROOT))

from test_torch_sharded import TinyLM  # noqa: E402  (the small transformer of the sharded tests)


def _shard(model, layout, world):
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

    mesh = init_device_mesh("cpu", (world,))
    if layout == "tp":
        for b in model.layers.values():
            parallelize_module(b, mesh, {"attn.wq": ColwiseParallel(), "attn.wk": ColwiseParallel(),
                                         "attn.wv": ColwiseParallel(), "attn.wo": RowwiseParallel(),
                                         "ff.w1": ColwiseParallel(), "ff.w2": RowwiseParallel()})
    else:
        for b in model.layers.values():
            fully_shard(b, mesh=mesh)
        fully_shard(model, mesh=mesh)


def _worker(rank, world, layout, init_file, out_file):
    import pyjinit.torch as pt

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        result = {}
        for who in ("torch", "pyjinit"):
            with torch.device("meta"):
                model = TinyLM()
            _shard(model, layout, world)
            model.to_empty(device="cpu")
            if who == "torch":
                torch.manual_seed(0)
                with torch.no_grad():
                    for m in model.modules():
                        if hasattr(m, "reset_parameters") and next(m.parameters(recurse=False), None) is not None:
                            m.reset_parameters()
            else:
                pt.initialize(model, preset="torch", seed=0, verbose=False)
            result[who] = {n: (p.full_tensor() if hasattr(p, "full_tensor") else p).detach().clone()
                           for n, p in model.named_parameters()}
        if rank == 0:
            torch.save(result, out_file)
    finally:
        dist.destroy_process_group()


def main():
    import pyjinit.torch as pt

    torch.manual_seed(0)
    ref_torch = {n: p.detach().clone() for n, p in TinyLM().named_parameters()}
    ref_ours = {n: p.detach().clone() for n, p in pt.initialize(TinyLM(), preset="torch", seed=0).named_parameters()}
    rows = []
    for layout in ("fsdp", "tp"):
        for world in (1, 2, 4):
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "r.pt")
                mp.spawn(_worker, args=(world, layout, os.path.join(tmp, "init"), out), nprocs=world, join=True)
                got = torch.load(out)
            row = {"layout": layout, "world": world}
            for who, ref in (("torch", ref_torch), ("pyjinit", ref_ours)):
                diffs = {n: float((got[who][n] - ref[n]).abs().max()) for n in ref}
                row[who] = {"max_abs_diff": max(diffs.values()), "params_differing": sum(d > 0 for d in diffs.values()),
                            "params": len(diffs)}
            rows.append(row)
            print(row, flush=True)
    (ROOT / "docs" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "docs" / "results" / "sharding.json").write_text(json.dumps(rows, indent=1))
    print("\n| layout | world size | torch: max difference | torch: parameters that differ | pyjinit: max difference |"
          " pyjinit: parameters that differ |\n|---|---|---|---|---|---|")
    for r in rows:
        t, o = r["torch"], r["pyjinit"]
        print(f"| {r['layout']} | {r['world']} | {t['max_abs_diff']:.3g} | {t['params_differing']}/{t['params']} | "
              f"{o['max_abs_diff']:.3g} | {o['params_differing']}/{o['params']} |")


if __name__ == "__main__":
    main()
