"""The small MLP of the GlorotUniform-vs-random article: 10 inputs, 20 hidden (ReLU), 2 outputs, Glorot
uniform against U(-0.1, 0.1), over 30+ seeds, with a paired comparison.

Data (made reproducibly, the same for every seed): 3000 points in 10 dimensions, x ~ N(0, I) from a fixed
NumPy Philox stream (key 2026); the label is whether a fixed random quadratic form plus a linear term is
positive (a nonlinear but learnable boundary), with 5% of the labels flipped. 2000 train, 1000 test.
Each seed s initializes both networks (pyjinit's layer streams of s) and shuffles the batches the same way,
so the two runs of a seed differ only in the initializer: a paired design.

    python experiments/glorot_vs_random.py --seeds 30 --out docs/results/glorot_vs_random.json \
        --plot docs/figures/glorot_vs_random.png
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pyjinit as pj  # noqa: E402


def make_data(n=3000, d=10, flip=0.05):
    g = np.random.Generator(np.random.Philox(key=2026))
    x = g.standard_normal((n, d)).astype(np.float32)
    a = g.standard_normal((d, d)) / d
    w = g.standard_normal(d)
    score = np.einsum("ni,ij,nj->n", x, a, x) + 0.5 * x @ w
    y = (score > np.median(score)).astype(np.int64)
    y[g.random(n) < flip] ^= 1
    return x[:2000], y[:2000], x[2000:], y[2000:]


def paired_summary(a, b):
    """Mean ± 95% CI of the paired differences a - b (t distribution), the paired t test's p-value and the
    sign test's (two-sided, exact binomial)."""
    from scipy import stats

    d = np.asarray(a) - np.asarray(b)
    n = len(d)
    m, s = float(d.mean()), float(d.std(ddof=1))
    half = stats.t.ppf(0.975, n - 1) * s / math.sqrt(n)
    t_p = float(stats.ttest_rel(a, b).pvalue) if s > 0 else 1.0
    pos, neg = int((d > 0).sum()), int((d < 0).sum())
    sign_p = float(stats.binomtest(pos, pos + neg).pvalue) if pos + neg else 1.0
    return {"mean_difference": m, "ci95": [m - half, m + half], "paired_t_p": t_p, "sign_test_p": sign_p,
            "wins": pos, "losses": neg, "ties": n - pos - neg}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--out", default=None)
    ap.add_argument("--plot", default=None)
    a = ap.parse_args()
    data = make_data()
    kw = dict(hidden=(20,), activation="relu", optimizer="adam", lr=1e-3, batch_size=32, epochs=a.epochs, classes=2,
              backend="numpy", verbose=False)
    runs = {"glorot_uniform": [], "uniform(-0.1, 0.1)": []}
    for s in range(a.seeds):
        runs["glorot_uniform"].append(pj.train(*data, init="glorot_uniform", seed=s, **kw))
        runs["uniform(-0.1, 0.1)"].append(pj.train(*data, init="uniform", init_kwargs={"low": -0.1, "high": 0.1},
                                                   seed=s, **kw))
    final = {k: [r.final_accuracy for r in v] for k, v in runs.items()}
    first = {k: [r.history[0]["test_accuracy"] for r in v] for k, v in runs.items()}
    res = {"config": {**{k: v for k, v in kw.items() if k != "verbose"}, "hidden": [20], "seeds": a.seeds,
                      "data": "make_data(): 10-D quadratic boundary, 5% label noise, 2000/1000"},
           "final_accuracy": {k: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)), "values": v}
                              for k, v in final.items()},
           "epoch1_accuracy": {k: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1))} for k, v in first.items()},
           "final_paired": paired_summary(final["glorot_uniform"], final["uniform(-0.1, 0.1)"]),
           "epoch1_paired": paired_summary(first["glorot_uniform"], first["uniform(-0.1, 0.1)"]),
           "curves": {k: [[h["test_accuracy"] for h in r.history] for r in v] for k, v in runs.items()}}
    if a.out:
        from pyjinit.support.files import write_text, dumps

        write_text(a.out, dumps(res))
    for k in final:
        print(f"{k:20s} final test accuracy {100 * np.mean(final[k]):.2f} ± {100 * np.std(final[k], ddof=1):.2f}%  "
              f"(epoch 1: {100 * np.mean(first[k]):.2f}%)")
    for label in ("epoch1_paired", "final_paired"):
        p = res[label]
        print(f"{label}: glorot - uniform = {100 * p['mean_difference']:+.2f} points, 95% CI "
              f"[{100 * p['ci95'][0]:+.2f}, {100 * p['ci95'][1]:+.2f}], paired t p = {p['paired_t_p']:.3g}, "
              f"sign test p = {p['sign_test_p']:.3g} ({p['wins']} wins, {p['losses']} losses, {p['ties']} ties)")
    if a.plot:
        from pyjinit.training.plots import _plt, style

        plt = _plt()
        fig, ax = plt.subplots(figsize=(6.5, 4))
        for k, curves in res["curves"].items():
            m = 100 * np.array(curves)
            ep = np.arange(1, m.shape[1] + 1)
            color = style("glorot_uniform" if k.startswith("glorot") else "uniform")[0]
            ax.plot(ep, m.mean(0), color=color, label=f"{k} ({a.seeds} seeds)")
            ax.fill_between(ep, np.percentile(m, 10, 0), np.percentile(m, 90, 0), color=color, alpha=0.2)
        ax.set(xlabel="epoch", ylabel="test accuracy (%)",
               title="10-20-2 ReLU MLP, Adam 1e-3, batch 32 (band: 10th-90th percentile)")
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()
        fig.tight_layout()
        fig.savefig(a.plot, dpi=110)


if __name__ == "__main__":
    main()
