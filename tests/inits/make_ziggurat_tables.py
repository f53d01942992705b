"""Print the ziggurat tables of stream v2 (docs/stream.md §3) as hex-float literals for
pyjinit/inits/ziggurat.py and julia/JInit/src/ziggurat.jl (both hold the same numbers; a test compares them).

256 layers of equal area V under f(x) = exp(-x²/2) on x >= 0 (Marsaglia & Tsang 2000): X[1] = R, X[0] = V / f(R)
(the base layer's width, which includes the tail), X[i+1] = f⁻¹(f(X[i]) + V / X[i]), X[256] = 0; F[i] = f(X[i]).
Computed once in float64 here; the literals are the specification, not this script's libm."""
import math

R = 3.6541528853610088
N = 256


def tables():
    f = lambda x: math.exp(-0.5 * x * x)                                  # noqa: E731
    v = R * f(R) + math.sqrt(math.pi / 2) * math.erfc(R / math.sqrt(2))
    x = [0.0] * (N + 1)
    x[0], x[1] = v / f(R), R
    for i in range(1, N - 1):
        x[i + 1] = math.sqrt(-2 * math.log(v / x[i] + f(x[i])))
    return x, [f(t) for t in x]


if __name__ == "__main__":
    X, F = tables()
    for name, vals in (("X", X), ("F", F)):
        print(f"{name} = [")
        for i in range(0, len(vals), 4):
            print("    " + ", ".join(float.hex(v) for v in vals[i:i + 4]) + ",")
        print("]")
