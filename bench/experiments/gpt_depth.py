"""Experiment (issue 23): a tiny character-level GPT with depth-scaled vs unscaled init at the same learning rate.

GPT-2 (Radford et al. 2019) and Megatron-LM scale the residual branches' output projections (``c_proj`` of the
attention and of the MLP) by 1/√(2L) so the residual stream's variance does not grow with depth; the claim
tested: at the same learning rate the depth-scaled model trains more stably (fewer loss spikes, no divergence)
and at least as well. The model: Hugging Face ``GPT2LMHeadModel`` (pre-LayerNorm), ``n_layer`` 8, width 128,
4 heads, context 32, batch 16, 300 steps, dropout 0, on a character-level text generated here (a seeded
grammar of sentences, simple arithmetic and lists: no text can be downloaded).

- "scaled": ``pyjinit.torch.apply_scheme(model, "depth_scaled", std=0.02)``: every weight N(0, 0.02²), c_proj
  N(0, (0.02/√(2·8))²), biases 0, LayerNorm 1/0 (this is Hugging Face GPT-2's own init);
- "unscaled": ``pyjinit.torch.initialize(model, weight="normal", weight_kwargs={"std": 0.02})``: the same, c_proj
  N(0, 0.02²). Same seed, same keys: every parameter except the 16 c_proj weights has the same values.

AdamW (β = 0.9, 0.95, no weight decay), constant learning rate, no warmup and no gradient clipping (the
settings where instability shows), each learning rate of ``--lrs`` and seeds 0..seeds-1 (init and batches).
A *spike*: a step whose loss exceeds the lowest loss so far by more than 0.5 nats after step 50 (counted once
per excursion); *diverged*: a non-finite loss, or a final loss (mean of the last 20 steps) above 2.5 nats.

    python bench/experiments/gpt_depth.py           # docs/results/schemes/residual_gpt_depth.json + figure
    python bench/experiments/gpt_depth.py --layers 24 --width 64 --lrs 3e-3 1e-2 --tag _24layers
    python bench/experiments/gpt_depth.py --quick   # a smoke test
"""
from __future__ import annotations

import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import common  # noqa: E402

INITS = ("scaled", "unscaled")
NOUNS = "cat dog bird fox owl horse river stone tree lamp ship king queen child baker farmer".split()
ADJS = "red small old quiet bright green heavy quick lazy brave tall".split()
VERBS = "sees finds follows carries paints watches builds leaves".split()
ADVS = ["slowly", "today", "again", "quietly"]


def make_text(n_chars: int, seed: int = 0) -> str:
    """A seeded text of sentences (subject-verb-object with agreement of articles), sums with their results
    and counting lists: structure a small model can learn in a few hundred steps."""
    r = random.Random(seed)
    out, size = [], 0
    while size < n_chars:
        k = r.random()
        if k < 0.5:
            s = (f"the {r.choice(ADJS)} {r.choice(NOUNS)} {r.choice(VERBS)} the {r.choice(ADJS)} "
                 f"{r.choice(NOUNS)}{' ' + r.choice(ADVS) if r.random() < .5 else ''}.")
        elif k < 0.8:
            a, b = r.randint(0, 49), r.randint(0, 49)
            s = f"{a} plus {b} is {a + b}."
        else:
            a = r.randint(1, 20)
            s = "count " + " ".join(str(a + i) for i in range(r.randint(3, 6))) + "."
        out.append(s)
        size += len(s) + 1
    return "\n".join(out)[:n_chars]


def build(init: str, vocab: int, n_layer: int, width: int, ctx: int, seed: int):
    import transformers

    import pyjinit.torch as pt

    transformers.logging.set_verbosity_error()
    cfg = transformers.GPT2Config(vocab_size=vocab, n_positions=ctx, n_embd=width, n_layer=n_layer,
                                  n_head=max(1, width // 32), resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                                  bos_token_id=0, eos_token_id=0)
    model = transformers.GPT2LMHeadModel(cfg)
    if init == "scaled":
        return pt.apply_scheme(model, "depth_scaled", seed=seed, std=0.02)
    return pt.initialize(model, weight="normal", weight_kwargs={"std": 0.02}, seed=seed)


def spikes(losses, start=50, jump=0.5) -> int:
    n, best, inside = 0, math.inf, False
    for t, v in enumerate(losses):
        if not math.isfinite(v):
            return n + 1
        if t >= start and v > best + jump:
            if not inside:
                n += 1
            inside = True
        else:
            inside = False
        best = min(best, v)
    return n


def train(model, data, val, *, steps, lr, batch, ctx, seed):
    import torch

    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.0)
    g = torch.Generator().manual_seed(seed)
    losses, gnorms, t0 = [], [], time.perf_counter()
    model.train()
    for step in range(steps):
        i = torch.randint(0, len(data) - ctx - 1, (batch,), generator=g)
        xb = torch.stack([data[k:k + ctx] for k in i.tolist()])
        out = model(input_ids=xb, labels=xb)
        loss = out.loss
        if not torch.isfinite(loss):
            losses.append(float("nan"))
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), float("inf"))
        opt.step()
        losses.append(float(loss.detach()))
        gnorms.append(float(gn))
    model.eval()
    with torch.no_grad():
        vl = []
        for k in range(0, min(len(val) - ctx - 1, 64 * ctx), ctx):
            xb = val[k:k + ctx].unsqueeze(0)
            vl.append(float(model(input_ids=xb, labels=xb).loss))
    val_loss = sum(vl) / len(vl) if vl else None
    final = sum(losses[-20:]) / len(losses[-20:]) if losses else None
    return {"losses": [common.finite(v) for v in losses], "grad_norm_max": max(gnorms) if gnorms else None,
            "final_loss": common.finite(final), "val_loss": common.finite(val_loss) if val_loss else None,
            "spikes": spikes(losses), "diverged": bool(not losses or not math.isfinite(losses[-1])
                                                       or final is None or not math.isfinite(final) or final > 2.5),
            "seconds": round(time.perf_counter() - t0, 1)}


def main():
    a = common.args(__doc__.splitlines()[0], lambda ap: (
        ap.add_argument("--layers", type=int, default=8), ap.add_argument("--width", type=int, default=128),
        ap.add_argument("--ctx", type=int, default=32), ap.add_argument("--batch", type=int, default=16),
        ap.add_argument("--steps", type=int, default=300),
        ap.add_argument("--lrs", type=float, nargs="+", default=[3e-3, 1e-2, 3e-2]),
        ap.add_argument("--tag", default="", help="suffix of the result and figure names (e.g. _24layers)")))
    torch = common.setup(1)
    if a.quick:
        a.layers, a.width, a.ctx, a.batch, a.steps, a.seeds, a.lrs = 2, 32, 16, 4, 5, 1, [1e-3]
    text = make_text(200_000 if not a.quick else 5_000, seed=0)
    chars = sorted(set(text))
    enc = torch.tensor([chars.index(c) for c in text], dtype=torch.long)
    cut = int(0.9 * len(enc))
    data, val = enc[:cut], enc[cut:]
    runs, t0 = [], time.perf_counter()
    for lr in a.lrs:
        for init in INITS:
            for seed in range(a.seeds):
                torch.manual_seed(seed)
                model = build(init, len(chars), a.layers, a.width, a.ctx, seed)
                r = train(model, data, val, steps=a.steps, lr=lr, batch=a.batch, ctx=a.ctx, seed=seed)
                runs.append({"init": init, "lr": lr, "seed": seed, **r})
                print(f"lr {lr:g} {init:8s} seed {seed}: final {r['final_loss']}, val {r['val_loss']}, spikes "
                      f"{r['spikes']}, diverged {r['diverged']}, max grad norm {r['grad_norm_max']:.3g}, "
                      f"{r['seconds']} s", flush=True)
    summary = {}
    for lr in a.lrs:
        for init in INITS:
            rs = [r for r in runs if r["init"] == init and r["lr"] == lr]
            fm, fs = common.mean_std([r["final_loss"] for r in rs])
            vm, vs = common.mean_std([r["val_loss"] for r in rs])
            summary[f"{init}@{lr:g}"] = {"final_loss_mean": fm, "final_loss_std": fs, "val_loss_mean": vm,
                                         "val_loss_std": vs, "spikes": sum(r["spikes"] for r in rs),
                                         "diverged": sum(r["diverged"] for r in rs), "runs": len(rs)}
    config = {"layers": a.layers, "width": a.width, "heads": max(1, a.width // 32), "ctx": a.ctx, "batch": a.batch,
              "steps": a.steps, "lrs": a.lrs, "seeds": a.seeds, "vocab": len(chars), "text_chars": len(text),
              "optimizer": "AdamW(0.9, 0.95), no warmup, no clipping", "quick": a.quick, "model": "GPT2LMHeadModel"}
    result = {"experiment": "char GPT: depth-scaled vs unscaled c_proj init at the same LR", "config": config,
              "summary": summary, "runs": runs, "seconds": round(time.perf_counter() - t0, 1)}
    path = common.save(result, "residual_gpt_depth_quick" if a.quick else f"residual_gpt_depth{a.tag}", a.out)
    print("wrote", path)
    if not a.no_figure and not a.quick:
        def smooth(ls, w=10):
            pts = [v for v in ls if v is not None]
            return [[i + w, sum(pts[i:i + w]) / w] for i in range(0, len(pts) - w + 1, w)]
        groups = {f"{i} lr {lr:g}": [smooth(r["losses"]) for r in runs if r["init"] == i and r["lr"] == lr]
                  for lr in a.lrs for i in INITS}
        fig = common.plot_curves(groups, common.FIGURES / f"schemes_residual_gpt_depth{a.tag}.png", logy=True,
                                 title=f"char GPT-2 ({a.layers} layers, width {a.width}): depth-scaled vs unscaled "
                                       f"c_proj, {a.seeds} seeds")
        print("wrote", fig)
    return result


if __name__ == "__main__":
    main()
