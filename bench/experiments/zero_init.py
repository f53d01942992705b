"""Experiment (issue 23): ZerO (Zhao, Schäfer & Anandkumar 2022) against He and Xavier on a deep ReLU MLP on MNIST.

ZerO's claims tested here: a network initialized with only zeros, ones and a Hadamard matrix (no random numbers)
trains to an accuracy comparable with random initialization; the Hadamard step at a dimension increase avoids the
training degeneracy of a plain (partial) identity initialization (the paper's Theorem 1 and its MNIST notebook);
and, having no random numbers, ZerO makes training reproducible: runs that differ only in the init seed are
identical, so the only variance across seeds left is the batch order's.

The network: MNIST average-pooled to 14x14 (196 inputs, pixels in [0, 1] as in the authors' notebook),
Linear(196, width) + ReLU, then (depth - 1) x [Linear(width, width) + ReLU], then Linear(width, 10); biases on,
no normalization, no residuals. With width 256 > 196 the first layer is ZerO's dimension increase
(H_256[:, :196] / 16); the hidden layers are the identity and the readout the partial identity eye(10, width).

- "zero": ``pyjinit.torch.zero_(net)`` (factor "code", as the authors' released code);
- "identity": every weight ``torch.nn.init.eye_`` (the partial identity, no Hadamard), biases 0 — the paper's
  degenerate baseline;
- "he": ``initialize(weight="torch.kaiming_normal", nonlinearity="relu")``, biases 0;
- "xavier": ``initialize(weight="torch.xavier_normal")``, biases 0.

Training: SGD, momentum 0.9, one learning rate for every init, batch 128, on a fixed training subset; test on
10,000 test images. Two seed protocols per init (seeds s = 0..seeds-1):

- A, init seed only: init seed s, batch order 0 — the spread here comes from the init alone;
- B, both: init seed s and batch order s — the usual "3 seeds".

(s = 0 is the same run in both.) For each init the script records the largest difference of the final weights
between the protocol-A runs: exactly 0 means the runs were bitwise identical. The deterministic inits ("zero",
"identity") take no seed, so they run protocol B only, plus protocol A for "zero" to show the identity of runs.
Then every init once more at each of ``--sweep-lrs`` (seed 0), so that none is judged at one learning rate only.

    python bench/experiments/zero_init.py            # docs/results/schemes/zero_init.json + figure
    python bench/experiments/zero_init.py --quick    # a smoke test (seconds)
"""
from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import common  # noqa: E402

INITS = ("zero", "identity", "he", "xavier")
RANDOM = ("he", "xavier")


def pooled(data):
    """MNIST (flattened 28x28 in [0, 1]) average-pooled to 14x14 = 196 inputs, still in [0, 1]."""
    x, y, xt, yt = data
    pool = lambda a: a.reshape(-1, 14, 2, 14, 2).mean(dim=(2, 4)).reshape(-1, 196).contiguous()  # noqa: E731
    return pool(x), y, pool(xt), yt


def mlp(width: int, depth: int):
    from torch import nn

    layers = [nn.Linear(196, width), nn.ReLU()]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(width, 10))


def build(init: str, width: int, depth: int, seed: int):
    import torch

    import pyjinit.torch as pt

    torch.manual_seed(seed)
    net = mlp(width, depth)
    if init == "zero":
        return pt.zero_(net)
    if init == "identity":
        with torch.no_grad():
            for m in net:
                if isinstance(m, torch.nn.Linear):
                    torch.nn.init.eye_(m.weight)
                    m.bias.zero_()
        return net
    if init == "he":
        return pt.initialize(net, weight="torch.kaiming_normal", weight_kwargs={"nonlinearity": "relu"},
                             bias="zeros", seed=seed, verbose=False)
    return pt.initialize(net, weight="torch.xavier_normal", bias="zeros", seed=seed, verbose=False)


def digest(net) -> str:
    """SHA-256 of every parameter's bytes, in order: equal digests = bitwise equal weights."""
    h = hashlib.sha256()
    for p in net.parameters():
        h.update(p.detach().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def update_rank(net, start: dict, layer: int, rel: float = 1e-3) -> int:
    """Numerical rank of W_end - W_start of the `layer`-th Linear (singular values above rel x the largest):
    ZerO's paper reports low-rank learning trajectories."""
    import torch

    lin = [m for m in net if isinstance(m, torch.nn.Linear)][layer]
    d = (lin.weight.detach() - start[layer]).double()
    s = torch.linalg.svdvals(d)
    return int((s > rel * s[0]).sum()) if float(s[0]) > 0 else 0


def main():
    a = common.args(__doc__.splitlines()[0], lambda ap: (
        ap.add_argument("--depth", type=int, default=20, help="hidden layers"),
        ap.add_argument("--width", type=int, default=256), ap.add_argument("--lr", type=float, default=0.01),
        ap.add_argument("--epochs", type=int, default=5), ap.add_argument("--n-train", type=int, default=20000),
        ap.add_argument("--n-test", type=int, default=10000),
        ap.add_argument("--sweep-lrs", type=float, nargs="*", default=[0.003, 0.03],
                        help="other learning rates, every init, seed 0 only")))
    torch = common.setup(1)
    if a.quick:
        a.depth, a.width, a.epochs, a.n_train, a.n_test, a.seeds = 4, 256, 1, 512, 256, 2
    data = pooled(common.mnist(a.n_train, a.n_test, seed=0))
    mid = a.depth // 2
    runs, t0 = [], time.perf_counter()
    plan = []
    for init in INITS:
        for s in range(a.seeds):
            if init in RANDOM or init == "zero":
                plan.append((init, s, 0))                                   # protocol A (s = 0 is also B)
            if s > 0 or init == "identity":
                plan.append((init, s, s))                                   # protocol B
    for init, s, order in plan:
        net = build(init, a.width, a.depth, s)
        start = [m.weight.detach().clone() for m in net if isinstance(m, torch.nn.Linear)]
        init_digest = digest(net)
        r = common.train_classifier(net, data, epochs=a.epochs, lr=a.lr, seed=order)
        rank = update_rank(net, start, mid) if not r["diverged"] else None
        runs.append({"init": init, "init_seed": s, "order_seed": order, "init_digest": init_digest,
                     "final_digest": digest(net), "update_rank_mid_layer": rank,
                     "final_state": None, **r})
        runs[-1]["_weights"] = [p.detach().clone() for p in net.parameters()]
        print(f"{init:8s} init seed {s} order {order}: test acc {r['test_acc']}, epochs {r['epoch_test_acc']}, "
              f"rank(dW layer {mid}) {rank}, digest {runs[-1]['final_digest']}, {r['seconds']} s", flush=True)
    summary = {}
    for init in INITS:
        a_runs = [r for r in runs if r["init"] == init and r["order_seed"] == 0 and init != "identity"]
        b_runs = [r for r in runs if r["init"] == init and r["order_seed"] == r["init_seed"]]
        mb, sb = common.mean_std([r["test_acc"] for r in b_runs])
        ma, sa = common.mean_std([r["test_acc"] for r in a_runs]) if a_runs else (None, None)
        maxdiff = None
        if len(a_runs) > 1:
            maxdiff = max(float((p - q).abs().max()) for r in a_runs[1:]
                          for p, q in zip(a_runs[0]["_weights"], r["_weights"]))
        summary[init] = {
            "protocol_B_test_acc_mean": mb, "protocol_B_test_acc_std": sb,
            "protocol_B_test_acc": [r["test_acc"] for r in b_runs],
            "protocol_A_test_acc_mean": ma, "protocol_A_test_acc_std": sa,
            "protocol_A_test_acc": [r["test_acc"] for r in a_runs],
            "protocol_A_final_weights_max_abs_diff": maxdiff,
            "protocol_A_distinct_final_digests": len({r["final_digest"] for r in a_runs}) if a_runs else None,
            "epoch1_test_acc_B": [r["epoch_test_acc"][0] if r["epoch_test_acc"] else None for r in b_runs],
            "update_rank_mid_layer_B": [r["update_rank_mid_layer"] for r in b_runs],
            "diverged": sum(r["diverged"] for r in runs if r["init"] == init)}
    for r in runs:
        del r["_weights"], r["final_state"]
    # the same comparison at other learning rates (seed 0: init seed 0, batch order 0), so that no init is judged
    # only at one learning rate
    sweep = []
    for lr in ([] if a.quick else a.sweep_lrs):
        for init in INITS:
            r = common.train_classifier(build(init, a.width, a.depth, 0), data, epochs=a.epochs, lr=lr, seed=0)
            sweep.append({"lr": lr, "init": init, "test_acc": r["test_acc"], "epoch_test_acc": r["epoch_test_acc"],
                          "diverged": r["diverged"], "seconds": r["seconds"]})
            print(f"lr {lr:g} {init:8s}: test acc {r['test_acc']}, epochs {r['epoch_test_acc']}", flush=True)
    config = {"depth_hidden_layers": a.depth, "width": a.width, "inputs": "MNIST avg-pooled 14x14, [0, 1]",
              "lr": a.lr, "momentum": 0.9, "batch": 128, "epochs": a.epochs, "n_train": a.n_train,
              "n_test": len(data[2]), "seeds": a.seeds, "quick": a.quick, "optimizer": "SGD",
              "zero_factor": "code", "update_rank_layer": mid}
    result = {"experiment": "ZerO vs identity vs He vs Xavier, deep ReLU MLP, MNIST", "config": config,
              "summary": summary, "runs": runs, "lr_sweep_seed0": sweep, "seconds": round(time.perf_counter() - t0, 1)}
    path = common.save(result, "zero_init_quick" if a.quick else "zero_init", a.out)
    print("wrote", path)
    for init, s in summary.items():
        print(f"{init:8s} B: {s['protocol_B_test_acc_mean']} ± {s['protocol_B_test_acc_std']}  "
              f"A: {s['protocol_A_test_acc_mean']} ± {s['protocol_A_test_acc_std']}  "
              f"A max |dW| {s['protocol_A_final_weights_max_abs_diff']}")
    if not a.no_figure and not a.quick:
        print("wrote", figure(runs, a))
    return result


def figure(runs, a):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    colours = dict(zip(INITS, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for ax, proto, title in ((axes[0], "B", "training loss, protocol B (init seed = batch order = s)"),
                             (axes[1], "A", "training loss, protocol A (init seed s, batch order 0)")):
        for init in INITS:
            rs = [r for r in runs if r["init"] == init and
                  (r["order_seed"] == r["init_seed"] if proto == "B" else r["order_seed"] == 0)]
            if proto == "A" and init == "identity":
                continue
            for i, r in enumerate(rs):
                if r["curve"]:
                    s, v = zip(*r["curve"])
                    ax.plot(s, v, color=colours[init], lw=1.1, alpha=0.8,
                            ls=("-", "--", ":")[i % 3], label=init if i == 0 else None)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=8)
    ax = axes[2]
    for init in INITS:
        rs = [r for r in runs if r["init"] == init and r["order_seed"] == r["init_seed"]]
        for i, r in enumerate(rs):
            ax.plot(range(1, len(r["epoch_test_acc"]) + 1), [100 * v for v in r["epoch_test_acc"]],
                    color=colours[init], marker="o", ms=3, lw=1, alpha=0.8, label=init if i == 0 else None)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("test accuracy per epoch, protocol B", fontsize=9)
    ax.legend(fontsize=8)
    fig.suptitle(f"{a.depth}-layer ReLU MLP (width {a.width}), MNIST 14x14, SGD lr {a.lr} momentum 0.9, "
                 f"{a.seeds} seeds", fontsize=10)
    fig.tight_layout()
    path = common.FIGURES / "schemes_zero_init.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    main()
