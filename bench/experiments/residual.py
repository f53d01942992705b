"""Experiment (issue 23): a deep residual MLP without normalization on MNIST, He vs Fixup vs ReZero.

Fixup (Zhang et al. 2019) and ReZero (Bachlechner et al. 2020) claim that a deep residual network trains
without normalization when initialized so that each block starts near the identity, while the standard He
initialization makes the output variance grow with depth (x + F(x) doubles the variance per block), so the
same network fails or lags. The network: ``pyjinit.schemes.modules.ResidualNet`` (stem Linear(784, width) +
ReLU, `depth` residual blocks x + W2 relu(W1 x), readout Linear(width, 10)), no normalization; SGD with
momentum 0.9 at one learning rate for all three, on a fixed MNIST subset; seeds 0..seeds-1 (the init seed and
the batch order).

- "he": ``variant="plain"``, ``pyjinit.torch.initialize(weight="torch.kaiming_normal", nonlinearity="relu")``;
- "fixup": ``variant="fixup"`` (scalar biases and multiplier), ``apply_scheme(net, "fixup")``;
- "rezero": ``variant="rezero"`` (a zero gate per block), ``apply_scheme(net, "rezero")`` (He elsewhere).

Then He alone at ``--he-lrs`` (default 1e-3 ... 1e-6, one epoch each, every seed): whether a smaller learning
rate rescues it.

    python bench/experiments/residual.py            # the result: docs/results/schemes/residual.json + figure
    python bench/experiments/residual.py --quick    # a smoke test (seconds)
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import common  # noqa: E402

INITS = ("he", "fixup", "rezero")


def build(init: str, width: int, depth: int, seed: int):
    import pyjinit.torch as pt
    from pyjinit.schemes.modules import ResidualNet

    if init == "he":
        net = ResidualNet(784, width, depth, 10, variant="plain")
        return pt.initialize(net, weight="torch.kaiming_normal", weight_kwargs={"nonlinearity": "relu"}, seed=seed)
    net = ResidualNet(784, width, depth, 10, variant=init)
    return pt.apply_scheme(net, init, seed=seed)


def init_stats(net, x) -> dict:
    """The logits' std and the residual stream's std after the last block, at init, on a batch."""
    import torch

    with torch.no_grad():
        h = net.features(x)
        return {"features_std": common.finite(float(h.std())), "logits_std": common.finite(float(net(x).std()))}


def main():
    a = common.args(__doc__.splitlines()[0], lambda ap: (
        ap.add_argument("--depth", type=int, default=50), ap.add_argument("--width", type=int, default=64),
        ap.add_argument("--lr", type=float, default=0.03), ap.add_argument("--epochs", type=int, default=5),
        ap.add_argument("--n-train", type=int, default=20000),
        ap.add_argument("--he-lrs", type=float, nargs="*", default=[1e-3, 1e-4, 1e-5, 1e-6])))
    torch = common.setup(1)
    if a.quick:
        a.depth, a.width, a.epochs, a.n_train, a.seeds = 8, 16, 1, 512, 1
    data = common.mnist(a.n_train, 2000 if not a.quick else 256, seed=0)
    runs, t0 = [], time.perf_counter()
    for init in INITS:
        for seed in range(a.seeds):
            torch.manual_seed(seed)
            net = build(init, a.width, a.depth, seed)
            stats = init_stats(net, data[0][:512])
            r = common.train_classifier(net, data, epochs=a.epochs, lr=a.lr, seed=seed)
            runs.append({"init": init, "seed": seed, **stats, **r})
            print(f"{init:7s} seed {seed}: test acc {r['test_acc']}, diverged {r['diverged']}, init logits std "
                  f"{stats['logits_std']}, {r['seconds']} s", flush=True)
    # He at smaller learning rates (1 epoch each): does any learning rate rescue it?
    sweep = []
    for lr in ([] if a.quick else a.he_lrs):
        for seed in range(a.seeds):
            torch.manual_seed(seed)
            r = common.train_classifier(build("he", a.width, a.depth, seed), data, epochs=1, lr=lr, seed=seed)
            sweep.append({"lr": lr, "seed": seed, "test_acc": r["test_acc"], "diverged": r["diverged"],
                          "steps": r["steps"], "final_train_loss": r["curve"][-1][1] if r["curve"] else None})
            print(f"he lr {lr:g} seed {seed}: test acc {r['test_acc']}, diverged {r['diverged']} after "
                  f"{r['steps']} steps", flush=True)
    summary = {}
    for init in INITS:
        rs = [r for r in runs if r["init"] == init]
        m, s = common.mean_std([r["test_acc"] if r["test_acc"] is not None else None for r in rs])
        summary[init] = {"test_acc_mean": m, "test_acc_std": s, "diverged": sum(r["diverged"] for r in rs),
                         "runs": len(rs), "final_train_loss": [r["curve"][-1][1] if r["curve"] else None for r in rs]}
    config = {"depth": a.depth, "width": a.width, "lr": a.lr, "momentum": 0.9, "batch": 128, "epochs": a.epochs,
              "n_train": a.n_train, "n_test": len(data[2]), "seeds": a.seeds, "quick": a.quick,
              "optimizer": "SGD", "normalization": "none"}
    result = {"experiment": "residual MLP without normalization: He vs Fixup vs ReZero", "config": config,
              "summary": summary, "runs": runs, "he_lr_sweep": sweep, "seconds": round(time.perf_counter() - t0, 1)}
    name = "residual_quick" if a.quick else "residual"
    path = common.save(result, name, a.out)
    print("wrote", path)
    if not a.no_figure and not a.quick:
        fig = common.plot_curves({i: [r["curve"] for r in runs if r["init"] == i] for i in INITS},
                                 common.FIGURES / "schemes_residual_mnist.png", logy=True,
                                 title=f"{a.depth}-block residual MLP (width {a.width}, no norm), MNIST, "
                                       f"SGD lr {a.lr}, {a.seeds} seeds")
        print("wrote", fig)
    return result


if __name__ == "__main__":
    main()
