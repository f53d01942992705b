"""Experiment (issue 23): DeepNet (DeepNorm) against plain post-LN on a deep encoder-decoder Transformer.

DeepNet (Wang et al. 2022, "DeepNet: Scaling Transformers to 1,000 Layers") claims that a post-LN Transformer
whose residual is LN(α·x + f(x)), with the branch weights (v, attention output, MLP) initialized Xavier × β,
trains deep (18-18 layers and far beyond) stably, where the plain post-LN Transformer diverges or lags at the
same depth and learning rate. Tested on the toy translation task of tfixup.py (reverse the source and map each
symbol through a fixed permutation), with the same model code (``tfixup.make_model``, post-LN, ReLU MLP,
dropout 0), `--layers` encoder and `--layers` decoder layers (default 18-18, the depth at which the paper's
post-LN baseline diverged, Table 1).

Variants (same seeds: init seed and batch order; same learning rate; Adam β = (0.9, 0.98), constant learning
rate, no warmup, no gradient clipping):

- "postln": α = 1, fairseq's standard init (tfixup.standard_init: Xavier uniform matrices, embeddings
  N(0, d^(−1/2)), zero biases);
- "deepnet": α from ``pyjinit.schemes.residual.deepnorm_constants(N, M)`` (encoder α = 0.81 (N⁴M)^(1/16),
  decoder α = (3M)^(1/4)) in the forward pass, ``pyjinit.torch.apply_scheme(model, "deepnet")`` (Xavier normal;
  v, attention outputs and MLP × β, encoder β = 0.87 (N⁴M)^(−1/16), decoder β = (12M)^(−1/4)). The scheme's base
  gives the embeddings Xavier normal; they are then re-drawn exactly as in "postln" (N(0, d^(−1/2)), the same
  values), so the two variants differ only in what DeepNet specifies.
- "postln_warmup" (optional, ``--variants``): "postln" with a linear warmup over `--warmup` steps.

At init the script also records each layer's gradient norm on one batch (bottom and top encoder/decoder layer):
the paper's account of post-LN's failure is vanishing gradients in the lower layers together with large early
updates.

    python bench/experiments/deepnet.py          # docs/results/schemes/deepnet.json + figures/schemes_deepnet.png
    python bench/experiments/deepnet.py --quick  # a smoke test
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import common  # noqa: E402
import tfixup  # noqa: E402

VARIANTS = ("postln", "deepnet", "postln_warmup")


def build(variant: str, a, seed: int):
    import pyjinit.torch as pt
    from pyjinit.schemes.residual import deepnorm_constants

    if variant == "deepnet":
        c = deepnorm_constants(a.layers, a.layers)
        model = tfixup.make_model(a.vocab, a.width, a.heads, a.ff, a.layers, a.layers, layer_norm=True,
                                  alpha_enc=c["encoder"][0], alpha_dec=c["decoder"][0])
        pt.apply_scheme(model, "deepnet", seed=seed)
        for k, emb in enumerate((model.src_embed, model.tgt_embed)):        # as in standard_init: same values
            pt.init_(emb.weight.data, "normal", std=model.d ** -0.5, seed=seed * 1000 + 17 + k)
        return model
    model = tfixup.make_model(a.vocab, a.width, a.heads, a.ff, a.layers, a.layers, layer_norm=True)
    return tfixup.standard_init(model, seed)


def layer_grads(model, data) -> dict:
    """Gradient norm of each encoder and decoder layer's parameters at init, on 64 training pairs."""
    import torch
    from torch.nn import functional as F

    src, tgt = data[0][:64], data[1][:64]
    tin = torch.cat([torch.full((len(tgt), 1), tfixup.BOS), tgt[:, :-1]], 1)
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(src, tin).flatten(0, 1), tgt.flatten()).backward()

    def norms(stack):
        return [float(torch.sqrt(sum((p.grad ** 2).sum() for p in layer.parameters() if p.grad is not None)))
                for layer in stack]
    out = {"grad_enc": norms(model.encoder), "grad_dec": norms(model.decoder)}
    model.zero_grad(set_to_none=True)
    return out


def main():
    a = common.args(__doc__.splitlines()[0], lambda ap: (
        tfixup.add_task_args(ap, layers=18, steps=300, lrs=[5e-4, 1e-3], variants=VARIANTS),
        ap.add_argument("--warmup", type=int, default=60)))
    if a.variants == list(VARIANTS):
        a.variants = ["postln", "deepnet"]                 # the default run; postln_warmup only when asked
    torch = common.setup(1)
    if a.quick:
        a.layers, a.width, a.ff, a.steps, a.seeds, a.lrs, a.n_train, a.warmup = 3, 16, 32, 5, 1, [1e-3], 256, 2
    from pyjinit.schemes.residual import deepnorm_constants

    consts = deepnorm_constants(a.layers, a.layers)
    train_data, test_data = tfixup.make_task(a.n_train, 1000 if not a.quick else 100, a.vocab, a.length, seed=0)
    runs, t0 = [], time.perf_counter()
    for lr in a.lrs:
        for v in a.variants:
            for seed in range(a.seeds):
                torch.manual_seed(seed)
                model = build(v, a, seed)
                st = {**tfixup.init_stats(model, train_data), **layer_grads(model, train_data)}
                r = tfixup.train(model, train_data, test_data, steps=a.steps, lr=lr, batch=a.batch, seed=seed,
                                 warmup=a.warmup if v.endswith("warmup") else 0)
                runs.append({"variant": v, "lr": lr, "seed": seed, **st, **r})
                print(f"lr {lr:g} {v:14s} seed {seed}: final {r['final_loss']}, test tok acc {r['test_token_acc']}, "
                      f"seq acc {r['test_seq_acc']}, diverged {r['diverged']}, spikes {r['spikes']}, max grad "
                      f"{r['grad_norm_max']:.3g}, grad enc0/top {st['grad_enc'][0]:.3g}/{st['grad_enc'][-1]:.3g} "
                      f"dec0/top {st['grad_dec'][0]:.3g}/{st['grad_dec'][-1]:.3g}, {r['seconds']} s", flush=True)
    config = {"layers_enc": a.layers, "layers_dec": a.layers, "width": a.width, "heads": a.heads, "ff": a.ff,
              "vocab": a.vocab, "length": a.length, "batch": a.batch, "steps": a.steps, "lrs": a.lrs,
              "warmup_steps": a.warmup, "seeds": a.seeds, "n_train": a.n_train, "n_test": len(test_data[0]),
              "deepnorm": {k: {"alpha": v[0], "beta": v[1]} for k, v in consts.items()},
              "task": "reverse the source and map each symbol through a fixed permutation",
              "optimizer": "Adam(0.9, 0.98, eps 1e-8), constant lr, no clipping", "quick": a.quick}
    result = {"experiment": "DeepNet (DeepNorm) vs plain post-LN, deep toy seq2seq, same lr, no warmup",
              "config": config, "summary": tfixup.summarize(runs, [(v, lr) for lr in a.lrs for v in a.variants]),
              "runs": runs, "seconds": round(time.perf_counter() - t0, 1)}
    path = common.save(result, "deepnet_quick" if a.quick else f"deepnet{a.tag}", a.out)
    print("wrote", path, f"({result['seconds']} s)")
    if not a.no_figure and not a.quick:
        fig = tfixup.figure(runs, a.lrs, a.variants, common.FIGURES / f"schemes_deepnet{a.tag}.png",
                            f"{a.layers}+{a.layers}-layer post-LN Transformer (d {a.width}), toy translation, Adam, "
                            f"no warmup, {a.seeds} seeds; x = diverged")
        print("wrote", fig)
    return result


if __name__ == "__main__":
    main()
