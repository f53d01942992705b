"""Experiment (issue 23): T-Fixup against Xavier on a small encoder-decoder Transformer without warmup.

T-Fixup (Huang, Perez, Ba & Volkovs 2020, "Improving Transformer Optimization Through Better Initialization")
claims that with its initialization a Transformer trains without layer normalization and without learning-rate
warmup, while the standard (Xavier) initialization needs both: without LayerNorm it fails, and post-LN without
warmup fails or lags. Tested here on a toy translation task generated in the script (no data can be downloaded):
the source is a random sequence of `--length` tokens over `--vocab` symbols; the target is the source reversed and
mapped through a fixed permutation of the symbols (a reordering "translation" that needs cross-attention).

The model (``Seq2Seq``): fairseq's base Transformer at toy size: token embeddings × √d plus sinusoidal
positions, `--layers` encoder and `--layers` decoder layers (torch's ``nn.TransformerEncoderLayer`` /
``nn.TransformerDecoderLayer`` computation, post-LN as in Vaswani et al. 2017, ReLU MLP, dropout 0), a linear
readout, no final LayerNorm. ``layer_norm=False`` replaces every LayerNorm by the identity (T-Fixup's model).
The layer classes are named ``TransformerEncoderLayer`` / ``TransformerDecoderLayer`` and keep torch's
parameter names, so ``pyjinit.schemes.roles`` recognizes them (it goes by class name) and knows which side each
is on; ``alpha`` (DeepNorm's x·α + f(x), used by deepnet.py) is 1 here.

Variants (same seeds: init seed and batch order; same learning rate; Adam β = (0.9, 0.98) as in the paper,
constant learning rate, no gradient clipping; batch 32, 300 steps, learning rates 5e-4 and 1e-3 by default):

- "tfixup": no LayerNorm, ``pyjinit.torch.apply_scheme(model, "t_fixup")``, no warmup;
- "xavier_noln": no LayerNorm, the standard init, no warmup;
- "xavier_postln": post-LN, the standard init, no warmup;
- "xavier_postln_warmup": post-LN, the standard init, linear warmup over the first `--warmup` steps.

The standard init is fairseq's (the paper's baseline): Xavier uniform for every matrix (torch's
``nn.MultiheadAttention`` draws its stacked q/k/v matrix as one, which equals fairseq's per-projection gain
1/√2), token embeddings N(0, d^(−1/2)) (std; ×√d in the forward), biases 0, LayerNorm 1/0.

    python bench/experiments/tfixup.py            # docs/results/schemes/tfixup.json + figures/schemes_tfixup.png
    python bench/experiments/tfixup.py --quick    # a smoke test
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import common  # noqa: E402

VARIANTS = ("tfixup", "xavier_noln", "xavier_postln", "xavier_postln_warmup")
BOS = 0


# ----------------------------------------------------------------------------------------------- the task
def make_task(n_train: int, n_test: int, vocab: int, length: int, seed: int = 0):
    """(src, tgt) tensors of the training and held-out sets: src uniform over symbols 1..vocab, tgt the source
    reversed and mapped through a fixed permutation of the symbols. Token 0 is BOS (the decoder's first input)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(vocab, generator=g) + 1
    src = torch.randint(1, vocab + 1, (n_train + n_test, length), generator=g)
    tgt = perm[(src - 1).flip(1)]
    return (src[:n_train], tgt[:n_train]), (src[n_train:], tgt[n_train:])


# ----------------------------------------------------------------------------------------------- the model
def _layers():
    """The two layer classes (made on first use: torch is imported inside). Named as torch's so that
    pyjinit.schemes.roles recognizes them; the same parameters as torch's, post-LN, optional LayerNorm, and
    DeepNorm's residual x·alpha + f(x)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class TransformerEncoderLayer(nn.TransformerEncoderLayer):
        def __init__(self, d, heads, ff, *, layer_norm=True, alpha=1.0):
            super().__init__(d, heads, ff, dropout=0.0, batch_first=True, norm_first=False)
            if not layer_norm:
                self.norm1, self.norm2 = nn.Identity(), nn.Identity()
            self.alpha = float(alpha)

        def forward(self, x):
            a = self.self_attn(x, x, x, need_weights=False)[0]
            x = self.norm1(self.alpha * x + a)
            return self.norm2(self.alpha * x + self.linear2(F.relu(self.linear1(x))))

    class TransformerDecoderLayer(nn.TransformerDecoderLayer):
        def __init__(self, d, heads, ff, *, layer_norm=True, alpha=1.0):
            super().__init__(d, heads, ff, dropout=0.0, batch_first=True, norm_first=False)
            if not layer_norm:
                self.norm1, self.norm2, self.norm3 = nn.Identity(), nn.Identity(), nn.Identity()
            self.alpha = float(alpha)

        def forward(self, x, memory, causal):
            a = self.self_attn(x, x, x, attn_mask=causal, need_weights=False)[0]
            x = self.norm1(self.alpha * x + a)
            c = self.multihead_attn(x, memory, memory, need_weights=False)[0]
            x = self.norm2(self.alpha * x + c)
            return self.norm3(self.alpha * x + self.linear2(F.relu(self.linear1(x))))

    return torch, nn, TransformerEncoderLayer, TransformerDecoderLayer


def make_model(vocab: int, d: int, heads: int, ff: int, n_enc: int, n_dec: int, *, layer_norm=True,
               alpha_enc=1.0, alpha_dec=1.0, max_len=64):
    """A fairseq-style encoder-decoder (module docstring): ``src_embed``, ``tgt_embed`` (vocab + 1 rows: BOS),
    ``encoder`` / ``decoder`` (ModuleLists of the layers above), ``head`` (the readout)."""
    torch, nn, Enc, Dec = _layers()

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.d = d
            self.src_embed = nn.Embedding(vocab + 1, d)
            self.tgt_embed = nn.Embedding(vocab + 1, d)
            self.encoder = nn.ModuleList(Enc(d, heads, ff, layer_norm=layer_norm, alpha=alpha_enc)
                                         for _ in range(n_enc))
            self.decoder = nn.ModuleList(Dec(d, heads, ff, layer_norm=layer_norm, alpha=alpha_dec)
                                         for _ in range(n_dec))
            self.head = nn.Linear(d, vocab + 1)
            pos = torch.arange(max_len).unsqueeze(1)
            div = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))
            pe = torch.zeros(max_len, d)
            pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
            self.register_buffer("pe", pe, persistent=False)

        def embed(self, table, tokens):
            return table(tokens) * math.sqrt(self.d) + self.pe[:tokens.shape[1]]

        def forward(self, src, tgt_in):
            m = self.embed(self.src_embed, src)
            for layer in self.encoder:
                m = layer(m)
            n = tgt_in.shape[1]
            causal = torch.triu(torch.full((n, n), float("-inf")), diagonal=1)
            x = self.embed(self.tgt_embed, tgt_in)
            for layer in self.decoder:
                x = layer(x, m, causal)
            return self.head(x)

    return Seq2Seq()


def standard_init(model, seed: int):
    """fairseq's Transformer init (module docstring), through pyjinit: Xavier uniform matrices, embeddings
    N(0, d^(-1/2)), zero biases."""
    import pyjinit.torch as pt

    pt.initialize(model, weight="torch.xavier_uniform", seed=seed, verbose=False)
    for k, emb in enumerate((model.src_embed, model.tgt_embed)):
        pt.init_(emb.weight.data, "normal", std=model.d ** -0.5, seed=seed * 1000 + 17 + k)
    return model


# ----------------------------------------------------------------------------------------------- training
def spikes(losses, start=50, jump=0.5) -> int:
    """Excursions of the loss more than `jump` nats above the lowest so far, after step `start`."""
    n, best, inside = 0, math.inf, False
    for t, v in enumerate(losses):
        if not math.isfinite(v):
            return n + 1
        if t >= start and v > best + jump:
            n += 0 if inside else 1
            inside = True
        else:
            inside = False
        best = min(best, v)
    return n


def evaluate(model, data, batch=500) -> dict:
    """Teacher-forced held-out loss, token accuracy and sequence accuracy (every token right)."""
    import torch
    from torch.nn import functional as F

    src, tgt = data
    loss, tok, seq = 0.0, 0, 0
    with torch.no_grad():
        for k in range(0, len(src), batch):
            s, t = src[k:k + batch], tgt[k:k + batch]
            tin = torch.cat([torch.full((len(t), 1), BOS), t[:, :-1]], 1)
            out = model(s, tin)
            loss += float(F.cross_entropy(out.flatten(0, 1), t.flatten(), reduction="sum"))
            hit = out.argmax(-1) == t
            tok += int(hit.sum())
            seq += int(hit.all(1).sum())
    return {"test_loss": common.finite(loss / tgt.numel()), "test_token_acc": tok / tgt.numel(),
            "test_seq_acc": seq / len(tgt)}


def train(model, train_data, test_data, *, steps, lr, batch, seed, warmup=0, log_every=10) -> dict:
    """Adam(0.9, 0.98), constant `lr` (linear warmup over `warmup` steps if > 0), cross-entropy of the target
    tokens under teacher forcing; the batches from torch.Generator(seed). Records the loss per step, the
    training curve (mean of each `log_every` steps), the largest gradient norm, spikes, and the held-out
    metrics at the end; stops at a non-finite loss."""
    import torch
    from torch.nn import functional as F

    src, tgt = train_data
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98), eps=1e-8)
    g = torch.Generator().manual_seed(seed)
    losses, gnorms, curve, t0 = [], [], [], time.perf_counter()
    model.train()
    for step in range(steps):
        if warmup:
            for group in opt.param_groups:
                group["lr"] = lr * min(1.0, (step + 1) / warmup)
        i = torch.randint(0, len(src), (batch,), generator=g)
        s, t = src[i], tgt[i]
        tin = torch.cat([torch.full((batch, 1), BOS), t[:, :-1]], 1)
        loss = F.cross_entropy(model(s, tin).flatten(0, 1), t.flatten())
        if not torch.isfinite(loss):
            losses.append(float("nan"))
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = float(torch.nn.utils.clip_grad_norm_(model.parameters(), float("inf")))
        opt.step()
        losses.append(float(loss.detach()))
        gnorms.append(gn if math.isfinite(gn) else float("inf"))
        if (step + 1) % log_every == 0:
            curve.append([step + 1, sum(losses[-log_every:]) / log_every])
    model.eval()
    diverged = not losses or not math.isfinite(losses[-1])
    final = sum(losses[-20:]) / len(losses[-20:]) if losses and not diverged else None
    ev = evaluate(model, test_data) if not diverged else {"test_loss": None, "test_token_acc": None,
                                                          "test_seq_acc": None}
    return {"curve": curve, "losses": [common.finite(v) for v in losses], "final_loss": common.finite(final),
            "grad_norm_max": max(gnorms) if gnorms else None, "grad_norm_first": gnorms[0] if gnorms else None,
            "spikes": spikes(losses), "diverged": diverged, "steps": len(losses), **ev,
            "seconds": round(time.perf_counter() - t0, 1)}


def init_stats(model, data) -> dict:
    """At init, on 256 training pairs: the std of the logits and of the encoder's output (the memory)."""
    import torch

    src, tgt = data[0][:256], data[1][:256]
    tin = torch.cat([torch.full((len(tgt), 1), BOS), tgt[:, :-1]], 1)
    with torch.no_grad():
        m = model.embed(model.src_embed, src)
        for layer in model.encoder:
            m = layer(m)
        return {"init_logits_std": common.finite(float(model(src, tin).std())),
                "init_memory_std": common.finite(float(m.std()))}


def build(variant: str, a, seed: int):
    import pyjinit.torch as pt

    model = make_model(a.vocab, a.width, a.heads, a.ff, a.layers, a.layers, layer_norm="postln" in variant)
    if variant == "tfixup":
        return pt.apply_scheme(model, "t_fixup", seed=seed)
    return standard_init(model, seed)


def summarize(runs, keys) -> dict:
    out = {}
    for key in keys:
        rs = [r for r in runs if (r["variant"], r["lr"]) == key]
        row = {"runs": len(rs), "diverged": sum(r["diverged"] for r in rs), "spikes": sum(r["spikes"] for r in rs)}
        for m in ("final_loss", "test_loss", "test_token_acc", "test_seq_acc"):
            row[m + "_mean"], row[m + "_std"] = common.mean_std([r[m] for r in rs])
            row[m + "_per_seed"] = [r[m] for r in rs]
        row["grad_norm_max"] = [r["grad_norm_max"] for r in rs]
        out[f"{key[0]}@{key[1]:g}"] = row
    return out


def figure(runs, lrs, variants, path, title):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, axes = plt.subplots(1, len(lrs), figsize=(5.2 * len(lrs), 4), squeeze=False, sharey=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, lr in zip(axes[0], lrs):
        for c, v in zip(colours, variants):
            for i, r in enumerate(x for x in runs if x["variant"] == v and x["lr"] == lr):
                cur = r["curve"]
                if cur:
                    s, y = zip(*cur)
                    ax.plot(s, y, color=c, alpha=0.8, lw=1.2, label=v if i == 0 else None)
                if r["diverged"]:
                    last = cur[-1] if cur else [r["steps"], math.log(100)]
                    ax.plot([last[0]], [last[1]], "x", color=c, ms=8)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title(f"lr {lr:g}", fontsize=10)
    axes[0][0].set_ylabel("training loss (nats/token)")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def add_task_args(ap, *, layers, steps, lrs, variants):
    ap.add_argument("--layers", type=int, default=layers, help="encoder layers = decoder layers")
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ff", type=int, default=128)
    ap.add_argument("--vocab", type=int, default=20)
    ap.add_argument("--length", type=int, default=10)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=steps)
    ap.add_argument("--n-train", type=int, default=20000)
    ap.add_argument("--lrs", type=float, nargs="+", default=lrs)
    ap.add_argument("--variants", nargs="+", default=list(variants), choices=list(variants))
    ap.add_argument("--tag", default="", help="suffix of the result and figure names")


def main():
    a = common.args(__doc__.splitlines()[0], lambda ap: (
        add_task_args(ap, layers=6, steps=300, lrs=[5e-4, 1e-3], variants=VARIANTS),
        ap.add_argument("--warmup", type=int, default=60)))
    torch = common.setup(1)
    if a.quick:
        a.layers, a.width, a.ff, a.steps, a.seeds, a.lrs, a.n_train, a.warmup = 2, 16, 32, 5, 1, [1e-3], 256, 2
    train_data, test_data = make_task(a.n_train, 1000 if not a.quick else 100, a.vocab, a.length, seed=0)
    runs, t0 = [], time.perf_counter()
    for lr in a.lrs:
        for v in a.variants:
            for seed in range(a.seeds):
                torch.manual_seed(seed)
                model = build(v, a, seed)
                st = init_stats(model, train_data)
                r = train(model, train_data, test_data, steps=a.steps, lr=lr, batch=a.batch, seed=seed,
                          warmup=a.warmup if v.endswith("warmup") else 0)
                runs.append({"variant": v, "lr": lr, "seed": seed, **st, **r})
                print(f"lr {lr:g} {v:21s} seed {seed}: final {r['final_loss']}, test tok acc {r['test_token_acc']}, "
                      f"seq acc {r['test_seq_acc']}, diverged {r['diverged']}, spikes {r['spikes']}, max grad "
                      f"{r['grad_norm_max']:.3g}, init logits std {st['init_logits_std']}, {r['seconds']} s",
                      flush=True)
    config = {"layers_enc": a.layers, "layers_dec": a.layers, "width": a.width, "heads": a.heads, "ff": a.ff,
              "vocab": a.vocab, "length": a.length, "batch": a.batch, "steps": a.steps, "lrs": a.lrs,
              "warmup_steps": a.warmup, "seeds": a.seeds, "n_train": a.n_train, "n_test": len(test_data[0]),
              "task": "reverse the source and map each symbol through a fixed permutation",
              "optimizer": "Adam(0.9, 0.98, eps 1e-8), constant lr, no clipping", "quick": a.quick}
    result = {"experiment": "T-Fixup vs Xavier (no LayerNorm / post-LN, with and without warmup), toy seq2seq",
              "config": config, "summary": summarize(runs, [(v, lr) for lr in a.lrs for v in a.variants]),
              "runs": runs, "seconds": round(time.perf_counter() - t0, 1)}
    path = common.save(result, "tfixup_quick" if a.quick else f"tfixup{a.tag}", a.out)
    print("wrote", path, f"({result['seconds']} s)")
    if not a.no_figure and not a.quick:
        fig = figure(runs, a.lrs, a.variants, common.FIGURES / f"schemes_tfixup{a.tag}.png",
                     f"{a.layers}+{a.layers}-layer Transformer (d {a.width}), toy translation, Adam no warmup "
                     f"(except *_warmup: {a.warmup} steps), {a.seeds} seeds; x = diverged")
        print("wrote", fig)
    return result


if __name__ == "__main__":
    main()
