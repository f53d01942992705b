"""pyjinit.jax.initializer under jax.jit with out_shardings on 8 host devices (meshes 1x8, 2x4, 8x1 and several
partition specs): each sharded array equals the unsharded one, bitwise. (A subprocess: the device count is fixed
when JAX starts.) What this does not show: that each shard is *generated* on its own device — XLA partitions the
program itself and, for most specs, still gathers (see docs/sharding.md). About 30 s."""
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
    import jax, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    import pyjinit.jax as pjx
    out = {"devices": len(jax.devices()), "cases": []}
    k = jax.random.key(11)
    for name, shape in (("he", (64, 48)), ("jax.lecun_normal", (3, 3, 16, 24)), ("torch.kaiming_uniform", (40, 24))):
        f = pjx.initializer(name)
        ref = np.asarray(jax.jit(f, static_argnums=1)(k, shape))
        nd = len(shape)
        for ms, spec in (((1, 8), (None,) * (nd - 1) + ("b",)), ((2, 4), (None,) * (nd - 2) + ("a", "b")),
                         ((8, 1), (None,) * (nd - 2) + ("a", None)), ((2, 4), (None,) * (nd - 2) + ("b", "a"))):
            mesh = Mesh(np.array(jax.devices()).reshape(ms), ("a", "b"))
            arr = jax.jit(f, static_argnums=1, out_shardings=NamedSharding(mesh, P(*spec)))(k, shape)
            shards = len({str(s.index) for s in arr.addressable_shards})
            out["cases"].append([name, list(ms), str(spec), bool(np.array_equal(np.asarray(arr), ref)), shards])
    print(json.dumps(out))
""")


def test_sharded_jit_equals_the_unsharded_array():
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    p = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert r["devices"] == 8
    for name, ms, spec, equal, shards in r["cases"]:
        assert equal, (name, ms, spec)
        assert shards > 1, (name, ms, spec)          # it really is split over several devices
