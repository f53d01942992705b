"""Sharded JAX initialization on 8 host devices (``--xla_force_host_platform_device_count=8``), issue 19.

- ``pyjinit.jax.initializer(name)(key, shape, out_sharding=...)`` on meshes 1x8, 2x4 and 8x1 with several partition
  specs (one dimension, two, a dimension over two mesh axes, transposed axes; 2-D and 4-D shapes; normal, uniform,
  truncated normal, zeros): bitwise equal to the unsharded array, with the requested sharding over 8 distinct
  blocks, and its compiled program holds no collective (all-gather, all-reduce, all-to-all, collective-permute,
  reduce-scatter): each device generates its own block. The detector is shown to find collectives where XLA
  partitions the whole-array program itself (``jax.jit(init, out_shardings=...)``), whose values are still equal.
- A PartitionSpec over the mesh of ``jax.set_mesh``; orthogonal (whole-array: made whole, then constrained) equal
  to the unsharded one on every layout.
- ``pyjinit.jax.initialize`` on a linen model made under ``jax.jit(..., out_shardings=...)`` with
  ``nn.with_partitioning`` annotations, on the eager boxed tree with ``mesh=``, and on an NNX model's state:
  every entry equals the unsharded model's and keeps (or gets) its annotated sharding.

One subprocess (the device count is fixed when JAX starts); about 60 s on 2 cores (a compile per normal-draw case).
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

pytest.importorskip("jax")

SCRIPT = textwrap.dedent("""
    import os, json
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    import pyjinit.jax as pjx

    COLL = ("all-gather", "all-reduce", "all-to-all", "collective-permute", "reduce-scatter")

    def mesh_of(ms):
        return Mesh(np.array(jax.devices()).reshape(ms), ("a", "b"))

    out = {"devices": len(jax.devices()), "cases": [], "partitioner": [], "spec_ctx": None, "orth": [], "models": []}
    k = jax.random.key(11)
    layouts = {2: [((1, 8), (None, "b")), ((2, 4), ("a", "b")), ((8, 1), ("a", None)), ((2, 4), ("b", "a")),
                   ((2, 4), (None, ("a", "b")))],
               3: [((2, 4), (None, "a", "b")), ((8, 1), ("a", None, None))],
               4: [((2, 4), (None, None, "a", "b")), ((1, 8), (None, None, None, "b"))]}
    cases = [("he", (64, 48), layouts[2]), ("torch.kaiming_uniform", (40, 24), layouts[2]),
             ("truncated_normal", (8, 16, 32), layouts[3]), ("jax.lecun_normal", (3, 3, 16, 24), layouts[4]),
             ("zeros", (16, 8), layouts[2][:2])]
    for name, shape, lay in cases:
        f = pjx.initializer(name)
        ref = np.asarray(f(k, shape))
        for ms, spec in lay:
            s = NamedSharding(mesh_of(ms), P(*spec))
            c = jax.jit(lambda kk: f(kk, shape, out_sharding=s)).lower(k).compile()   # one compile: run and read
            arr, hlo = c(k), c.as_text()
            out["cases"].append([name, list(ms), str(spec), bool(np.array_equal(np.asarray(arr), ref)),
                                 bool(arr.sharding.is_equivalent_to(s, len(shape))),
                                 len({str(x.index) for x in arr.addressable_shards}),
                                 [c for c in COLL if c in hlo]])
    # XLA partitioning the whole-array program itself: equal values, but collectives (the detector works)
    f = pjx.initializer("he")             # a normal: its fallback's compaction makes XLA gather (a uniform does not)
    for ms, spec in layouts[2][:2]:
        s = NamedSharding(mesh_of(ms), P(*spec))
        g = jax.jit(lambda kk: f(kk, (64, 48)), out_shardings=s)
        hlo = g.lower(k).compile().as_text()
        out["partitioner"].append([list(ms), str(spec), bool(np.array_equal(np.asarray(g(k)),
                                                                             np.asarray(f(k, (64, 48))))),
                                   [c for c in COLL if c in hlo]])
    # a PartitionSpec over the context mesh
    with jax.set_mesh(mesh_of((2, 4))):
        arr = jax.jit(lambda kk: f(kk, (64, 48), out_sharding=P("a", "b")))(k)
    out["spec_ctx"] = [bool(np.array_equal(np.asarray(arr), np.asarray(f(k, (64, 48))))),
                       len({str(x.index) for x in arr.addressable_shards})]
    # orthogonal: whole, then constrained
    o = pjx.initializer("orthogonal")
    oref = np.asarray(o(k, (32, 64)))
    for ms, spec in layouts[2][:4]:
        s = NamedSharding(mesh_of(ms), P(*spec))
        arr = o(k, (32, 64), out_sharding=s)
        out["orth"].append([str(spec), float(np.max(np.abs(np.asarray(arr) - oref))),
                            bool(arr.sharding.is_equivalent_to(s, 2))])

    # whole models
    import flax.linen as nn
    from flax import nnx
    mesh = Mesh(np.array(jax.devices()).reshape(2, 4), ("data", "model"))

    class M(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = nn.Dense(16, kernel_init=nn.with_partitioning(nn.initializers.lecun_normal(), ("data", "model")))(x)
            x = nn.Dense(8, kernel_init=nn.with_partitioning(nn.initializers.lecun_normal(), ("model", None)))(x)
            return nn.Dense(4)(x)

    m, x = M(), jnp.ones((2, 8))
    boxed = m.init(jax.random.key(0), x)
    ref = pjx.initialize(nn.unbox(boxed), "he", seed=3)["params"]
    shard = jax.tree.map(lambda s: NamedSharding(mesh, s), nn.get_partition_spec(jax.eval_shape(m.init, k, x)))
    made = jax.jit(m.init, out_shardings=shard)(jax.random.key(0), x)
    for tag, tree in (("linen jit", pjx.initialize(made, "he", seed=3)),
                      ("linen mesh=", pjx.initialize(boxed, "he", seed=3, mesh=mesh))):
        for layer in ("Dense_0", "Dense_1"):
            leaf = tree["params"][layer]["kernel"]
            a = leaf.unbox()
            out["models"].append([tag, layer, type(leaf).__name__, str(a.sharding.spec),
                                  bool(np.array_equal(np.asarray(a), np.asarray(ref[layer]["kernel"])))])

    class N(nnx.Module):
        def __init__(self, rngs):
            self.l1 = nnx.Linear(8, 16, kernel_init=nnx.with_partitioning(nnx.initializers.lecun_normal(),
                                                                          ("data", "model")), rngs=rngs)
            self.l2 = nnx.Linear(16, 8, rngs=rngs)

    with jax.set_mesh(mesh):
        n = N(nnx.Rngs(0))
    nnx.update(n, pjx.initialize(nnx.state(n, nnx.Param), "he", seed=3))
    for attr, layer in (("l1", "Dense_0"), ("l2", "Dense_1")):
        a = getattr(n, attr).kernel[...]
        out["models"].append(["nnx", layer, "Param", str(a.sharding.spec) if hasattr(a.sharding, "spec") else "-",
                              bool(np.array_equal(np.asarray(a), np.asarray(ref[layer]["kernel"])))])
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def result():
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    p = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=900, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_each_device_makes_its_own_block_and_the_array_equals_the_unsharded_one(result):
    assert result["devices"] == 8
    assert len(result["cases"]) == 16
    for name, ms, spec, equal, right_sharding, shards, coll in result["cases"]:
        assert equal, (name, ms, spec)
        assert right_sharding, (name, ms, spec)
        assert shards == 8, (name, ms, spec)          # really split: 8 distinct blocks
        assert coll == [], (name, ms, spec, coll)     # no data moves between devices


def test_the_collective_detector_finds_xla_partitioning_the_whole_program(result):
    assert all(equal for _, _, equal, _ in result["partitioner"])
    assert any(coll for *_, coll in result["partitioner"]), result["partitioner"]


def test_a_partition_spec_over_the_context_mesh(result):
    assert result["spec_ctx"] == [True, 8]


def test_orthogonal_on_every_layout_equals_the_unsharded_one(result):
    for spec, diff, right in result["orth"]:
        assert diff <= 1e-6 and right, (spec, diff)


def test_sharded_linen_and_nnx_models_equal_the_unsharded_model(result):
    rows = {(tag, layer): (kind, spec, equal) for tag, layer, kind, spec, equal in result["models"]}
    assert len(rows) == 6
    for tag in ("linen jit", "linen mesh="):
        assert rows[(tag, "Dense_0")] == ("Partitioned", "P('data', 'model')", True)
        assert rows[(tag, "Dense_1")] == ("Partitioned", "P('model', None)", True)
    assert rows[("nnx", "Dense_0")] == ("Param", "P('data', 'model')", True)
    assert rows[("nnx", "Dense_1")][2]
