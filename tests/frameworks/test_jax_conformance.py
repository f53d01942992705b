"""pyjinit.jax.initializer against jax.nn.initializers (JAX 0.10), written from JAX's documented behaviour
(jax/_src/nn/initializers.py) and compared with JAX's own factories: signatures and defaults, fans on 0-D to 5-D
shapes with in/out/batch axes, dtypes (factory default, call-time override, integer, complex), errors (type and
message), jnp scalar arguments, delta_orthogonal's structure, jit / vmap / nnx.vmap, and pjx.initialize's inputs.

Sampling bounds: the mean of n iid values of |z|^2 (z complex, E|z|^2 = v) has sd(|z|^2) / sqrt(n) <= v / sqrt(n)
for every complex draw here (|z|^2 is exponential for the complex normal: sd = v; 2 v U for the disk: sd 0.58 v;
the truncated one less than the exponential), so two estimates of v agree within 6 sigma when
|m1 - m2| <= 6 sqrt(2) v / sqrt(n) (a correct implementation fails with probability ~2e-9; seeds are fixed).
"""
import inspect
import math

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="jax is not installed (.ci/run installs jax[cpu])")
import jax.numpy as jnp  # noqa: E402

import pyjinit as pj  # noqa: E402
import pyjinit.jax as pjx  # noqa: E402
from pyjinit.frameworks.jax import key_seed  # noqa: E402
from pyjinit.inits import registry  # noqa: E402

JI = jax.nn.initializers
KEY = jax.random.key(3)
SEED = key_seed(jax.random.key_data(KEY))
FACTORIES = sorted(n for n in dir(JI) if not n.startswith("_") and n not in ("Initializer", "zeros", "ones"))
SCALED = ["glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "kaiming_normal", "kaiming_uniform",
          "lecun_normal", "lecun_uniform", "xavier_normal", "xavier_uniform"]


def arr(x):
    return np.asarray(x)


def jax_fans_reference():
    from jax._src.nn.initializers import _compute_fans

    return _compute_fans


# --- names and signatures ----------------------------------------------------------------------------------

def test_every_jax_initializer_has_a_jax_and_a_flax_name():
    public = {n for n in dir(JI) if not n.startswith("_") and n != "Initializer"}
    names = pj.initializers()
    assert {n for n in public if f"jax.{n}" not in names} == set()
    assert {n for n in public if f"flax.{n}" not in names} == set()


@pytest.mark.parametrize("name", FACTORIES)
def test_factory_arguments_and_defaults_are_jaxs(name):
    """Each factory's arguments (dtype aside: pjx.initializer takes it for every name) with JAX's defaults;
    the aliases are JAX's (xavier_* = glorot_*, kaiming_* = he_*)."""
    sig = inspect.signature(getattr(JI, name))
    theirs = {p.name: ("required" if p.default is p.empty else p.default) for p in sig.parameters.values()
              if p.name != "dtype"}
    ours = registry.arguments(f"jax.{name}")
    assert {k: (tuple(v) if isinstance(v, list) else v) for k, v in ours.items()} == theirs
    assert "dtype" in sig.parameters


def test_the_initializer_call_signature_is_jaxs():
    ours = inspect.signature(pjx.initializer("jax.he_normal", dtype=jnp.float16))
    theirs = inspect.signature(JI.he_normal(dtype=jnp.float16))
    assert list(ours.parameters) == list(theirs.parameters) == ["key", "shape", "dtype", "out_sharding"]
    assert ours.parameters["dtype"].default == jnp.float16 and ours.parameters["out_sharding"].default is None


@pytest.mark.parametrize("alias,name", [("xavier_uniform", "glorot_uniform"), ("xavier_normal", "glorot_normal"),
                                        ("kaiming_uniform", "he_uniform"), ("kaiming_normal", "he_normal")])
def test_aliases_give_the_values_of_their_names(alias, name):
    assert getattr(JI, alias) is getattr(JI, name)                              # JAX: the same function
    for pre in ("jax.", "flax."):
        assert np.array_equal(pj.init(pre + alias, (3, 6, 5), seed=2, layout="keras"),
                              pj.init("jax." + name, (3, 6, 5), seed=2, layout="keras"))


# --- fans: JAX's _compute_fans on any rank ---------------------------------------------------------------------

FAN_CASES = [((7,), 0, 0, ()), ((), (), (), ()), ((5, 6), -2, -1, ()), ((5, 6), 1, 0, ()), ((3, 5, 6), -2, -1, 0),
             ((2, 3, 5, 6), (0, 1), 3, ()), ((2, 3, 5, 6), 2, 3, ()), ((4, 2, 3, 5, 6), -2, -1, (0,)),
             ((4, 2, 3, 5, 6), (1, 2), (3, 4), 0), ((6,), 0, 0, ()), ((2, 9), 0, 1, ()), ((4, 6), (), (), ())]


@pytest.mark.parametrize("shape,i,o,b", FAN_CASES)
def test_fans_are_jaxs_on_0d_to_5d_shapes(shape, i, o, b):
    assert registry.jax_fans(shape, i, o, b) == pytest.approx(jax_fans_reference()(shape, i, o, b), rel=1e-15)


@pytest.mark.parametrize("shape,i,o,b", [((7,), 0, 0, ()), ((2, 3, 5, 6), (0, 1), 3, ()),
                                         ((4, 2, 3, 5, 6), (1, 2), (3, 4), 0)])
def test_uniform_bounds_follow_the_fans(shape, i, o, b):
    """he_uniform is U(+-sqrt(6 / fan_in)) over JAX's fan_in: both JAX's and ours stay inside, ours is the
    stream's value (equal to pyjinit.init with the same key's seed)."""
    fan_in = jax_fans_reference()(shape, i, o, b)[0]
    bound = math.sqrt(6 / fan_in)
    f = pjx.initializer("jax.he_uniform", in_axis=i, out_axis=o, batch_axis=b)
    ours = arr(f(KEY, shape))
    theirs = arr(JI.he_uniform(in_axis=i, out_axis=o, batch_axis=b)(KEY, shape))
    assert ours.shape == theirs.shape == shape
    assert np.abs(ours).max() <= bound * (1 + 1e-6) and np.abs(theirs).max() <= bound * (1 + 1e-6)
    ref = pj.init("jax.he_uniform", shape, seed=SEED, layout="keras", in_axis=i, out_axis=o, batch_axis=b)
    assert np.array_equal(ours, ref)


def test_rank_errors_are_jaxs():
    for shape in ((5,), ()):                    # the default in_axis on 0-D/1-D: a ValueError in both
        with pytest.raises(ValueError):
            JI.he_normal()(KEY, shape)
        with pytest.raises(ValueError, match="at least 2 dimensions with the default in_axis"):
            pjx.initializer("jax.he_normal")(KEY, shape)
    with pytest.raises(IndexError):             # an axis outside the shape: JAX's IndexError (ours also ValueError)
        JI.he_normal(in_axis=0, out_axis=0)(KEY, ())
    with pytest.raises(IndexError, match="in_axis 0 is out of range"):
        pjx.initializer("jax.he_normal", in_axis=0, out_axis=0)(KEY, ())
    with pytest.raises(ValueError, match="out_axis 4 is out of range"):
        pjx.initializer("jax.he_normal", out_axis=4)(KEY, (3, 3))
    with pytest.raises(TypeError, match="in_axis must be an int or a sequence of ints"):
        pjx.initializer("jax.he_normal", in_axis="0")


# --- dtypes ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,kw", [("jax.he_normal", {}), ("jax.normal", {"stddev": 0.5}),
                                     ("jax.orthogonal", {}), ("jax.zeros", {}), ("jax.constant", {"value": 2})])
def test_factory_dtype_call_dtype_and_default_are_jaxs(name, kw):
    base = name.split(".")[1]
    theirs = (lambda **d: getattr(JI, base)) if base in ("zeros", "ones") else (lambda **d: getattr(JI, base)(**kw, **d))
    for fac, call in ((None, None), (jnp.float16, None), (jnp.float16, jnp.float32), (None, jnp.bfloat16)):
        f = pjx.initializer(name, **kw) if fac is None else pjx.initializer(name, dtype=fac, **kw)
        g = theirs() if fac is None else theirs(dtype=fac)
        args = (KEY, (4, 6)) if call is None else (KEY, (4, 6), call)
        if base in ("zeros", "ones") and fac is not None:
            continue                                     # JAX's zeros/ones are functions, not factories
        try:
            want = g(*args).dtype
        except NotImplementedError:                      # JAX's orthogonal: no float16/bfloat16 QR on the CPU
            want = jnp.dtype(call or fac)
        assert f(*args).dtype == want, (fac, call)
    assert pjx.initializer(name, **kw)(KEY, (4, 6)).dtype == jnp.float32   # JAX's default float (32-bit mode)
    assert np.array_equal(arr(pjx.initializer(name, dtype=jnp.float16, **kw)(KEY, (4, 6))),
                          arr(pjx.initializer(name, **kw)(KEY, (4, 6), jnp.float16)))


@pytest.mark.parametrize("name", ["jax.he_normal", "jax.lecun_uniform", "jax.normal", "jax.uniform",
                                  "jax.truncated_normal", "jax.orthogonal", "jax.zeros", "jax.ones",
                                  "jax.constant", "he"])
@pytest.mark.parametrize("dtype", [jnp.int32, jnp.int8, jnp.bool_])
def test_integer_dtypes_as_jax(name, dtype):
    """Issue 21: integer dtypes used to give integer arrays (mostly 0). JAX fills zeros/ones/constant in any
    dtype and refuses a random draw (ValueError); so do we."""
    kw = {"value": 3} if name == "jax.constant" else {}
    ours = pjx.initializer(name, **kw)
    if name in ("jax.zeros", "jax.ones", "jax.constant"):
        f = getattr(JI, name[4:])
        ref = f(KEY, (3, 4), dtype) if name != "jax.constant" else f(**kw)(KEY, (3, 4), dtype)
        got = ours(KEY, (3, 4), dtype)
        assert got.dtype == ref.dtype and np.array_equal(arr(got), arr(ref))
        return
    if name != "he":
        with pytest.raises(ValueError):
            getattr(JI, name[4:])()(KEY, (3, 4), dtype)
    with pytest.raises(ValueError, match="float or complex dtype"):
        ours(KEY, (3, 4), dtype)


def test_constant_takes_what_jnp_full_takes():
    v = jnp.arange(6.0)
    for dt in (jnp.float32, jnp.int32, jnp.complex64):
        assert np.array_equal(arr(pjx.initializer("jax.constant", value=v)(KEY, (4, 6), dt)),
                              arr(JI.constant(v)(KEY, (4, 6), dt)))


def test_jnp_scalar_arguments_are_numbers():
    for a, b in ((jnp.float32(0.5), 0.5), (np.float64(0.5), 0.5), (jnp.array(0.5), 0.5)):
        assert np.array_equal(arr(pjx.initializer("jax.normal", stddev=a)(KEY, (5, 4))),
                              arr(pjx.initializer("jax.normal", stddev=b)(KEY, (5, 4))))
    vs = pjx.initializer("jax.variance_scaling", scale=jnp.float32(2.0), mode="fan_in", distribution="uniform")
    assert np.array_equal(arr(vs(KEY, (5, 4))), arr(pjx.initializer("jax.he_uniform")(KEY, (5, 4))))
    assert arr(JI.normal(jnp.float32(0.5))(KEY, (5, 4))).shape == (5, 4)      # JAX takes them too


# --- complex dtypes --------------------------------------------------------------------------------------------

def stream_uniforms(n, seed):
    return pj.init("uniform", (2 * n,), seed=seed, backend="numpy").astype(np.float64)


def test_complex_values_are_the_documented_draw_of_the_stream():
    """docs/stream.md §5b: element k from the stream's elements 2k, 2k+1 (uniform disk for 'uniform', modulus
    truncated at 2 for 'truncated_normal', (x + iy)/sqrt(2) for 'normal'); PyTorch order, then the Flax layout."""
    shape = (6, 5)                                   # Flax (in, out); PyTorch order (5, 6); fan_in 6
    n = 30
    u = stream_uniforms(n, SEED)
    theta = 2 * np.pi * u[1::2]
    var = 2.0 / 6
    disk = np.sqrt(2 * u[0::2]) * np.exp(1j * theta) * math.sqrt(var)
    got = arr(pjx.initializer("jax.he_uniform")(KEY, shape, jnp.complex64))
    assert got.dtype == np.complex64
    assert np.allclose(got, disk.reshape(5, 6).T, rtol=2e-5, atol=2e-6)
    r = np.sqrt(-np.log1p(-(1 - math.exp(-4)) * u[0::2]))
    tn = r * np.exp(1j * theta) * math.sqrt(var) / 0.95311164380491208
    assert np.allclose(arr(pjx.initializer("jax.he_normal")(KEY, shape, jnp.complex64)), tn.reshape(5, 6).T,
                       rtol=2e-5, atol=2e-6)
    x = pj.init("normal", (2 * n,), seed=SEED, backend="numpy").astype(np.float64)
    normal = (x[0::2] + 1j * x[1::2]) / math.sqrt(2) * 0.5
    assert np.allclose(arr(pjx.initializer("jax.normal", stddev=0.5)(KEY, shape, jnp.complex64)),
                       normal.reshape(5, 6).T, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name,kw,radius", [
    ("jax.he_uniform", {}, lambda v: math.sqrt(2 * v)),
    ("jax.glorot_normal", {}, lambda v: 2 * math.sqrt(v) / 0.95311164380491208),
    ("jax.variance_scaling", {"scale": 0.5, "mode": "fan_geo_avg", "distribution": "normal"}, None),
    ("jax.normal", {"stddev": 0.3}, None),
])
def test_complex_draws_match_jaxs_distribution(name, kw, radius):
    """E|z|^2 = the variance, the same modulus bound as JAX's, imaginary parts as large as real ones."""
    shape = (200, 100)
    base = name.split(".")[1]
    ours = arr(pjx.initializer(name, **kw)(KEY, shape, jnp.complex64)).astype(np.complex128)
    theirs = arr(getattr(JI, base)(**kw)(jax.random.key(4), shape, jnp.complex64)).astype(np.complex128)
    fi, fo = 200, 100
    v = {"jax.he_uniform": 2 / fi, "jax.glorot_normal": 2 / (fi + fo), "jax.normal": 0.09,
         "jax.variance_scaling": 0.5 / math.sqrt(fi * fo)}[name]
    n = ours.size
    for z in (ours, theirs):
        assert abs(np.mean(np.abs(z) ** 2) - v) <= 6 * v / math.sqrt(n)          # module docstring
        assert abs(np.mean(z.real ** 2) - v / 2) <= 6 * v / math.sqrt(n)
        if radius is not None:
            assert np.abs(z).max() <= radius(v) * (1 + 1e-5)
    assert abs(np.mean(np.abs(ours) ** 2) - np.mean(np.abs(theirs) ** 2)) <= 6 * math.sqrt(2) * v / math.sqrt(n)


def test_complex_orthogonal_is_unitary_and_refusals_are_jaxs():
    q = arr(pjx.initializer("jax.orthogonal", scale=2.0)(KEY, (7, 4), jnp.complex64)).astype(np.complex128)
    assert np.abs(q.conj().T @ q - 4 * np.eye(4)).max() < 1e-5 and np.abs(q.imag).max() > 0.1
    for base in ("uniform", "truncated_normal"):                   # JAX: real draws only
        with pytest.raises(ValueError):
            getattr(JI, base)()(KEY, (3, 4), jnp.complex64)
        with pytest.raises(ValueError, match="float dtype"):
            pjx.initializer(f"jax.{base}")(KEY, (3, 4), jnp.complex64)
    with pytest.raises(ValueError, match="defined for the jax"):
        pjx.initializer("he")(KEY, (3, 4), jnp.complex64)


# --- errors at construction, as ValueError/TypeError -----------------------------------------------------------

def test_bad_arguments_are_errors_when_made():
    with pytest.raises(ValueError, match="mode must be one of fan_in, fan_out, fan_avg, fan_geo_avg; got 'fan_x'"):
        pjx.initializer("jax.variance_scaling", scale=1.0, mode="fan_x", distribution="normal")
    with pytest.raises(ValueError):                                  # JAX: at the first call
        JI.variance_scaling(1.0, "fan_x", "normal")(KEY, (3, 3))
    with pytest.raises(ValueError, match="distribution must be one of"):
        pjx.initializer("jax.variance_scaling", scale=1.0, mode="fan_in", distribution="cauchy")
    with pytest.raises(TypeError, match="needs scale, mode, distribution"):
        pjx.initializer("jax.variance_scaling")
    with pytest.raises(TypeError):
        JI.variance_scaling()                                          # JAX: required positional arguments
    with pytest.raises(TypeError, match="takes in_axis, out_axis, batch_axis"):
        pjx.initializer("jax.he_normal", gain=2.0)
    with pytest.raises(TypeError):
        JI.he_normal(gain=2.0)
    with pytest.raises(ValueError, match="std must be a finite number >= 0"):
        pjx.initializer("jax.normal", stddev=-1.0)
    with pytest.raises(TypeError, match="needs value"):
        pjx.initializer("jax.constant")


# --- delta_orthogonal ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 4, 6), (3, 3, 4, 4), (4, 2, 3, 5, 5), (4, 4, 3, 3)])
def test_delta_orthogonal_has_jaxs_structure(shape):
    ours = arr(pjx.initializer("jax.delta_orthogonal", scale=1.5)(KEY, shape)).astype(np.float64)
    theirs = arr(JI.delta_orthogonal(scale=1.5)(KEY, shape)).astype(np.float64)
    centre = tuple((k - 1) // 2 for k in shape[:-2])                # JAX: (k - 1) // 2, the first middle tap
    for w in (ours, theirs):
        assert w.shape == shape
        c = w[centre]
        assert np.abs(c @ c.T - 2.25 * np.eye(shape[-2])).max() < 1e-5     # orthonormal rows (in <= out)
        rest = w.copy()
        rest[centre] = 0
        assert not rest.any()                                         # every other tap exactly zero
    ref = pj.init("jax.delta_orthogonal", shape, seed=SEED, layout="keras", scale=1.5)
    assert np.allclose(ours, ref, atol=1e-5)                          # the core's values, to QR rounding


def test_delta_orthogonal_refuses_what_jax_refuses():
    for shape in ((4, 4), (2, 2, 2, 2, 2, 2), (3, 6, 4)):
        with pytest.raises(ValueError):
            JI.delta_orthogonal()(KEY, shape)
        with pytest.raises(ValueError):
            pjx.initializer("jax.delta_orthogonal")(KEY, shape)


# --- orthogonal's column_axis ----------------------------------------------------------------------------------

def _columns(w, c):
    """The array as the matrix JAX's orthogonal makes: axis c as its columns, the other axes as its rows."""
    m = np.moveaxis(np.asarray(w, np.float64), c, -1)
    return m.reshape(-1, m.shape[-1])


@pytest.mark.parametrize("shape, c", [((6, 4), 0), ((3, 4, 5), 0), ((3, 4, 5), 1), ((3, 4, 5), -2),
                                      ((2, 3, 4, 5), -3), ((2, 3, 4, 5), 3), ((5, 2, 3), 0)])
def test_orthogonal_column_axis_is_jaxs(shape, c):
    """JAX's orthogonal(column_axis=c) is the array of the shape with axis c moved last, the axis moved back
    (checked on JAX's own output, bitwise, for the same key); pyjinit's is that of its own values, and is
    (semi-)orthogonal along that axis as JAX's is."""
    moved = tuple(np.delete(shape, c)) + (shape[c],)
    theirs = arr(JI.orthogonal(scale=2.0, column_axis=c)(KEY, shape))
    assert np.array_equal(theirs, np.moveaxis(arr(JI.orthogonal(scale=2.0)(KEY, moved)), -1, c))
    ours = arr(pjx.initializer("jax.orthogonal", scale=2.0, column_axis=c)(KEY, shape))
    core = pj.init("jax.orthogonal", shape, seed=SEED, layout="keras", scale=2.0, column_axis=c)
    assert np.array_equal(core, np.moveaxis(pj.init("jax.orthogonal", moved, seed=SEED, layout="keras",
                                                    scale=2.0), -1, c))
    assert np.allclose(ours, core, atol=1e-5)                         # the core's values, to QR rounding
    assert np.array_equal(pj.init("jax.orthogonal", pj.inits.api.torch_shape(shape, "keras"), seed=SEED,
                                  scale=2.0, column_axis=c),                  # the same values in PyTorch order
                          core.transpose((len(shape) - 1, len(shape) - 2) + tuple(range(len(shape) - 2))))
    for w in (ours, theirs):
        m = _columns(w, c)
        g = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
        assert np.abs(g - 4 * np.eye(min(m.shape))).max() < 2e-5
    if c % len(shape) != len(shape) - 1:                              # not the default's values
        assert not np.allclose(core, pj.init("jax.orthogonal", shape, seed=SEED, layout="keras", scale=2.0))


def test_column_axis_errors_and_delta_orthogonal_axes_are_jaxs():
    for bad, err in ((2, IndexError), (-3, IndexError), (1.0, TypeError)):
        with pytest.raises(err):
            pjx.initializer("jax.orthogonal", column_axis=bad)(KEY, (3, 4))
        with pytest.raises(err):
            pj.init("jax.orthogonal", (3, 4), seed=0, layout="keras", column_axis=bad)
    with pytest.raises(IndexError):
        JI.orthogonal(column_axis=2)(KEY, (3, 4))
    shape = (3, 3, 4, 6)                      # JAX: orthogonal(column_axis) of shape[-2:]; -2 and 0 give -1's
    for c in (-2, 0, 1):
        assert np.array_equal(arr(JI.delta_orthogonal(column_axis=c)(KEY, shape)),
                              arr(JI.delta_orthogonal()(KEY, shape)))
        assert np.array_equal(arr(pjx.initializer("jax.delta_orthogonal", column_axis=c)(KEY, shape)),
                              arr(pjx.initializer("jax.delta_orthogonal")(KEY, shape)))
    with pytest.raises(IndexError):
        JI.delta_orthogonal(column_axis=2)(KEY, shape)
    with pytest.raises(IndexError):
        pjx.initializer("jax.delta_orthogonal", column_axis=2)(KEY, shape)


# --- jit, vmap, nnx.vmap ---------------------------------------------------------------------------------------

@pytest.mark.slow                     # ~30 s on 2 shared cores: 4 names x (eager, jit, vmap) compiles
def test_jit_and_vmap_give_the_eager_values():
    keys = jax.random.split(KEY, 3)
    for name, shape, dt in (("jax.he_normal", (5, 4), jnp.float32), ("jax.he_uniform", (5, 4), jnp.complex64),
                            ("jax.delta_orthogonal", (3, 4, 4), jnp.float32),
                            ("jax.lecun_normal", (7,), jnp.float32)):
        kw = {"in_axis": 0, "out_axis": 0} if shape == (7,) else {}
        f = pjx.initializer(name, **kw)
        batch = jax.vmap(lambda k: f(k, shape, dt))(keys)
        jitted = jax.jit(f, static_argnums=(1, 2))
        for i in range(3):
            eager = arr(f(keys[i], shape, dt))
            assert np.allclose(arr(batch[i]), eager, atol=1e-6), name
            assert np.allclose(arr(jitted(keys[i], shape, dt)), eager, atol=1e-6), name
        assert "callback" not in str(jax.make_jaxpr(lambda k: f(k, shape, dt))(keys[0]))


def test_nnx_vmap_layer_stack():
    """A stack of nnx.Linear made under nnx.vmap with kernel_init=pjx.initializer(...): each layer's kernel is
    pyjinit's value for the key nnx hands that layer (recorded by an initializer that stores the key's bits)."""
    nnx = pytest.importorskip("flax.nnx")

    def stack(kernel_init):
        @nnx.split_rngs(splits=4)
        @nnx.vmap(in_axes=(0,), out_axes=0)
        def create(rngs):
            return nnx.Linear(6, 5, kernel_init=kernel_init, rngs=rngs)

        return create(nnx.Rngs(0))

    def record(key, shape, dtype=jnp.float32):
        bits = jax.lax.bitcast_convert_type(jax.random.key_data(key), jnp.float32)
        return jnp.zeros(shape, jnp.float32).reshape(-1).at[:2].set(bits).reshape(shape)

    keys = np.asarray(jax.lax.bitcast_convert_type(stack(record).kernel[...].reshape(4, -1)[:, :2], jnp.uint32))
    kernels = arr(stack(pjx.initializer("jax.he_normal")).kernel[...])
    assert kernels.shape == (4, 6, 5)
    for i in range(4):
        ref = pj.init("jax.he_normal", (6, 5), seed=key_seed(keys[i]), layout="keras")
        assert np.array_equal(kernels[i], ref), i
    assert len({kernels[i].tobytes() for i in range(4)}) == 4


# --- pjx.initialize's inputs (issue 21) --------------------------------------------------------------------------

@pytest.mark.parametrize("params", [[1, 2], (jnp.ones(3),), None, {"Dense_0": {"kernel": [[1.0, 2.0]]}}])
def test_initialize_refuses_what_it_cannot_handle(params):
    with pytest.raises(TypeError, match="params must be"):
        pjx.initialize(params, "he", seed=0)


def test_a_scale_less_norm_bias_is_a_norm_shift():
    """Flax LayerNorm(use_scale=False) has only a bias: it is the norm's shift (zeros), not a bias= draw."""
    nn = pytest.importorskip("flax.linen")

    class M(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = nn.Dense(8)(x)
            x = nn.LayerNorm(use_scale=False)(x)
            return nn.Dense(3)(x)

    p = M().init(jax.random.key(0), jnp.ones((1, 5)))["params"]
    out = pjx.initialize(p, "he", bias="normal", seed=0)
    assert not arr(out["LayerNorm_0"]["bias"]).any()
    assert arr(out["Dense_0"]["bias"]).any() and arr(out["Dense_1"]["bias"]).any()
