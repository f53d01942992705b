"""Issue 23: delta-orthogonal, ZerO, mimetic attention and μP — each scheme's invariant at init."""
import math

import numpy as np
import pytest

from pyjinit.inits.registry import init

SEEDS = (0, 1, 2)


# ---------------------------------------------------------------- delta-orthogonal (Xiao et al. 2018)

@pytest.mark.parametrize("shape", [(16, 16, 3), (32, 16, 3, 3), (16, 8, 3, 5, 3), (12, 12, 4, 4)])
@pytest.mark.parametrize("seed", SEEDS)
def test_delta_orthogonal_centre_orthonormal_rest_zero(shape, seed):
    w = init("delta_orthogonal", shape, seed=seed, backend="numpy")            # float32
    centre = tuple((k - 1) // 2 for k in shape[2:])
    c = w[(slice(None), slice(None)) + centre].astype(np.float64)
    assert np.abs(c.T @ c - np.eye(shape[1])).max() < 1e-6                  # orthonormal columns (in <= out)
    mask = np.ones(shape, bool)
    mask[(slice(None), slice(None)) + centre] = False
    assert np.count_nonzero(w[mask]) == 0                                      # every other tap exactly 0
    assert np.count_nonzero(c) == c.size                                       # a dense orthogonal centre


def test_delta_orthogonal_is_the_streams_orthogonal_times_gain():
    w = init("delta_orthogonal", (8, 4, 3, 3), gain=2.5, seed=7, dtype="float64", backend="numpy")
    q = init("orthogonal", (8, 4), gain=2.5, seed=7, dtype="float64", backend="numpy")
    assert np.array_equal(w[:, :, 1, 1], q)
    assert not np.array_equal(w[:, :, 1, 1], init("orthogonal", (8, 4), seed=8, dtype="float64", backend="numpy"))


@pytest.mark.parametrize("bad, word", [((8, 8), "3-D, 4-D or 5-D"), ((8, 8, 3, 3, 3, 3), "3-D, 4-D or 5-D"),
                                       ((4, 8, 3), "in <= out")])
def test_delta_orthogonal_rejects_jaxs_bad_shapes(bad, word):
    with pytest.raises(ValueError, match=word):
        init("delta_orthogonal", bad, backend="numpy")
    with pytest.raises(ValueError, match="fan_in|3D, 4D or 5D"):
        init("jax.delta_orthogonal", bad[2:] + bad[1::-1] if len(bad) > 2 else bad, layout="keras", backend="numpy")


def test_jax_delta_orthogonal_matches_jax_structure():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    shape = (3, 3, 8, 16)                                                      # JAX layout (*k, in, out)
    ref = np.asarray(jax.nn.initializers.delta_orthogonal(scale=1.5)(jax.random.key(0), shape, jnp.float32))
    ours = init("jax.delta_orthogonal", shape, scale=1.5, seed=0, layout="keras", backend="numpy")
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    assert np.array_equal(ref != 0, ours != 0)                                 # the same nonzero taps
    for a in (ref, ours):                                                      # both: orthogonal rows times 1.5
        c = a[1, 1].astype(np.float64)
        assert np.abs(c @ c.T - 1.5 ** 2 * np.eye(8)).max() < 1e-5
    for bad in ((3, 16, 8), (8, 8)):                                           # JAX's errors, ours
        with pytest.raises(ValueError):
            jax.nn.initializers.delta_orthogonal()(jax.random.key(0), bad, jnp.float32)
        with pytest.raises(ValueError):
            init("jax.delta_orthogonal", bad, layout="keras", backend="numpy")


def test_deep_linear_circular_conv_stack_preserves_norm():
    """200 linear circular-padded 3x3 convs, 16 channels: delta-orthogonal keeps ||x|| to float64 rounding;
    He (same depth) does not (the control that makes the assertion able to fail)."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    x = torch.from_numpy(init("normal", (2, 16, 12, 12), seed=99, dtype="float64", backend="numpy"))

    def run(name, **kw):
        h = x
        for l in range(200):
            w = torch.from_numpy(init(name, (16, 16, 3, 3), seed=1000 + l, dtype="float64", backend="numpy", **kw))
            h = torch.nn.functional.conv2d(torch.nn.functional.pad(h, (1, 1, 1, 1), mode="circular"), w)
        return float(h.norm() / x.norm())

    assert abs(run("delta_orthogonal") - 1) < 1e-10
    assert abs(math.log(run("he", gain=1.0))) > 0.5                         # the scrambled He stack drifts
