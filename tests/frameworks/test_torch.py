"""pyjinit.torch against PyTorch's own initializers and modules.

Random initializers are compared by distribution with scipy's two-sample Kolmogorov-Smirnov test against
torch's own sample (same shape, fixed seeds on both sides, so each test is deterministic): a comparison
fails when p < 1e-3, which a correct implementation does with probability 1e-3 per comparison. Bounds are
checked exactly; deterministic initializers are compared element for element.
"""
import math

import numpy as np

from pyjinit.inits.stream import qr_tolerance
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (.ci/run installs the CPU build)")
stats = pytest.importorskip("scipy.stats")

import pyjinit as pj  # noqa: E402
import pyjinit.torch as pt  # noqa: E402
from pyjinit.training.trainer import initial_weights  # noqa: E402

ALPHA = 1e-3


def ks(a, b):
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    return stats.ks_2samp(a, b).pvalue


def theirs(fn, shape, *args, **kw):
    torch.manual_seed(1234)
    t = torch.empty(shape)
    fn(t, *args, **kw)
    return t.numpy()


# --- torch.* names: torch's argument names, defaults and edges -----------------------------------------------

RANDOM = [
    ("torch.uniform", torch.nn.init.uniform_, {"a": -0.3, "b": 0.7}),
    ("torch.normal", torch.nn.init.normal_, {"mean": 0.5, "std": 2.0}),
    ("torch.xavier_uniform", torch.nn.init.xavier_uniform_, {"gain": 1.3}),
    ("torch.xavier_normal", torch.nn.init.xavier_normal_, {}),
    ("torch.kaiming_uniform", torch.nn.init.kaiming_uniform_, {"a": math.sqrt(5)}),        # nn.Linear's own
    ("torch.kaiming_uniform", torch.nn.init.kaiming_uniform_, {}),                         # default leaky_relu, a=0
    ("torch.kaiming_normal", torch.nn.init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}),
    ("torch.kaiming_normal", torch.nn.init.kaiming_normal_, {"nonlinearity": "tanh", "a": 3.0}),  # a ignored
    ("torch.trunc_normal", torch.nn.init.trunc_normal_, {"mean": 1.0, "std": 0.5, "a": 0.0, "b": 1.5}),
    ("torch.orthogonal", torch.nn.init.orthogonal_, {"gain": 2.0}),
]


@pytest.mark.parametrize("name,fn,kw", RANDOM, ids=[f"{r[0]}-{i}" for i, r in enumerate(RANDOM)])
@pytest.mark.parametrize("shape", [(256, 128), (64, 32, 3, 3)])
def test_torch_names_match_torch_by_distribution(name, fn, kw, shape):
    ours = pj.init(name, shape, seed=7, backend="numpy", **kw)
    ref = theirs(fn, shape, **kw)
    assert ours.shape == ref.shape == shape
    assert ks(ours, ref) > ALPHA
    if name in ("torch.uniform", "torch.xavier_uniform", "torch.kaiming_uniform", "torch.trunc_normal"):
        assert ours.min() >= ref.min() - 1e-3 * abs(ref.min()) - 1e-6 and ours.max() <= ref.max() * (1 + 1e-3) + 1e-6


def test_kaiming_uniform_a_sqrt5_is_nn_linears_bound():
    w = pj.init("torch.kaiming_uniform", (128, 784), a=math.sqrt(5), seed=0, backend="numpy")
    bound = 1 / math.sqrt(784)
    assert np.abs(w).max() <= bound and np.abs(w).max() > bound * (1 - 1e-3)


@pytest.mark.parametrize("name,fn,kw,shape", [
    ("torch.zeros", torch.nn.init.zeros_, {}, (3, 4)), ("torch.ones", torch.nn.init.ones_, {}, (3, 4)),
    ("torch.constant", torch.nn.init.constant_, {"val": 0.25}, (2, 5)), ("torch.eye", torch.nn.init.eye_, {}, (3, 5)),
    ("torch.dirac", torch.nn.init.dirac_, {"groups": 2}, (8, 4, 3, 3)),
    ("torch.dirac", torch.nn.init.dirac_, {}, (4, 4, 4)),
])
def test_deterministic_torch_names_equal_torch(name, fn, kw, shape):
    assert np.array_equal(pj.init(name, shape, seed=0, **kw), theirs(fn, shape, **kw))


def test_sparse_like_torch_including_sparsity_above_one():
    w = pj.init("torch.sparse", (40, 30), sparsity=0.25, seed=3, backend="numpy")
    ref = theirs(torch.nn.init.sparse_, (40, 30), 0.25)
    assert [(w[:, j] == 0).sum() for j in range(30)] == [(ref[:, j] == 0).sum() for j in range(30)]
    assert not pj.init("torch.sparse", (5, 4), sparsity=1.5, seed=3).any()
    assert not theirs(torch.nn.init.sparse_, (5, 4), 1.5).any()


@pytest.mark.parametrize("sparsity", [float("nan"), float("inf"), -float("inf")])
def test_sparse_refuses_the_sparsity_torch_refuses(sparsity):
    with pytest.raises((ValueError, OverflowError)):
        torch.nn.init.sparse_(torch.empty(4, 4), sparsity)
    with pytest.raises(ValueError, match=r"^sparsity must be a finite number >= 0"):
        pj.init("torch.sparse", (4, 4), sparsity=sparsity, seed=0)


def test_sparse_refuses_a_negative_sparsity_where_torch_slices_from_the_end():
    """torch's ceil(-0.5 * 4) = -2 zeros, sliced as randperm(4)[:-2]: 2 zeros per column, an accident; refused."""
    assert [(c == 0).sum() for c in theirs(torch.nn.init.sparse_, (4, 3), -0.5).T] == [2, 2, 2]
    with pytest.raises(ValueError, match=r"sparsity must be a finite number >= 0 .*, got -0.5$"):
        pj.init("torch.sparse", (4, 3), sparsity=-0.5, seed=0)


@pytest.mark.parametrize("name,shape", [("torch.xavier_uniform", (5,)), ("torch.kaiming_normal", (5,)),
                                        ("torch.eye", (2, 2, 2)), ("torch.dirac", (3, 3))])
def test_torch_names_refuse_the_shapes_torch_refuses(name, shape):
    with pytest.raises(ValueError, match="as torch.nn.init"):
        pj.init(name, shape, seed=0)
    with pytest.raises(ValueError):
        theirs(getattr(torch.nn.init, name.split(".")[1] + "_"), shape)


def test_torch_names_take_torchs_arguments_only():
    with pytest.raises(TypeError, match="pass seed= instead"):
        pj.init("torch.kaiming_normal", (3, 3), generator=torch.Generator())
    with pytest.raises(TypeError, match="takes a, mode, nonlinearity"):
        pj.init("torch.kaiming_normal", (3, 3), distribution="uniform")
    with pytest.raises(TypeError, match="needs val"):
        pj.init("torch.constant", (3, 3))


def test_a_tensor_as_shape_is_a_short_error():
    with pytest.raises(ValueError) as e:
        pj.he_init(torch.nn.Linear(784, 128).weight)
    assert len(str(e.value)) < 300 and "pyjinit.torch.init_" in str(e.value)


# --- init_: any dtype, in place -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_init_in_place_any_dtype(dtype):
    t = torch.empty(16, 8, dtype=dtype)
    out = pt.init_(t, "xavier", seed=4)
    assert out is t and t.dtype == dtype
    host = "float64" if dtype == torch.float64 else "float32"
    ref = torch.from_numpy(pj.xavier_init((16, 8), seed=4, dtype=host, backend="numpy")).to(dtype)
    assert torch.equal(t, ref)


def test_init_refuses_non_float_and_meta():
    with pytest.raises(TypeError, match="floating-point"):
        pt.init_(torch.zeros(3, 3, dtype=torch.int64), "he", seed=0)
    with pytest.raises(ValueError, match="meta device"):
        pt.init_(torch.empty(3, 3, device="meta"), "he", seed=0)


# --- initialize: the model in one call ----------------------------------------------------------------------------

def mnist_mlp():
    return torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(),
                               torch.nn.Linear(64, 10))


@pytest.mark.parametrize("init", ["he", "xavier", "orthogonal", "uniform"])
def test_default_mnist_network_equals_the_trainers(init):
    m = pt.initialize(mnist_mlp(), weight=init, seed=11)
    kw = {"low": -0.05, "high": 0.05} if init == "uniform" else None      # the trainer's small uniform
    if kw:
        m = pt.initialize(mnist_mlp(), weight=init, weight_kwargs=kw, seed=11)
    ws = initial_weights([784, 128, 64, 10], init, None, 11, backend="numpy")
    for layer, w in zip((m[0], m[2], m[4]), ws):
        if init == "orthogonal":        # a QR on another LAPACK: within the stream's stated tolerance
            assert np.abs(layer.weight.detach().numpy() - w).max() <= qr_tolerance(w.dtype)
            continue
        assert np.array_equal(layer.weight.detach().numpy(), w)
        assert not layer.bias.detach().numpy().any()


def test_streams_do_not_depend_on_dtype_device_or_order():
    """Each parameter draws from param_key(seed, l, j) whatever its dtype: float16/bfloat16 get the float32
    values rounded, float64 the stream's float64 values (docs/stream.md: float64 maps whole 64-bit words)."""
    from pyjinit.inits.keys import param_key

    a = pt.initialize(mnist_mlp(), preset="torch", seed=5)
    half = pt.initialize(mnist_mlp().to(torch.bfloat16), preset="torch", seed=5)
    for pa, ph in zip(a.parameters(), half.parameters()):
        assert torch.equal(pa.detach().to(torch.bfloat16), ph.detach())
    d = pt.initialize(mnist_mlp().double(), preset="torch", seed=5)
    w = pj.init("torch.kaiming_uniform", (128, 784), a=math.sqrt(5), seed=param_key(5, 1, 0), dtype="float64")
    assert np.array_equal(d[0].weight.detach().numpy(), w)
    c = mnist_mlp()
    pt.initialize(c[4], preset="torch", seed=5)                        # another order of calls first
    pt.initialize(c, preset="torch", seed=5)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), c.parameters()))


def torch_reset(module_fn):
    torch.manual_seed(99)
    return module_fn()


MODULES = {
    "linear": lambda: torch.nn.Linear(300, 200),
    "conv2d": lambda: torch.nn.Conv2d(16, 32, 3),
    "conv1d": lambda: torch.nn.Conv1d(8, 64, 5),
    "convT2d": lambda: torch.nn.ConvTranspose2d(16, 8, 4, groups=2),
    "conv3d": lambda: torch.nn.Conv3d(4, 8, 3),
    "embedding": lambda: torch.nn.Embedding(500, 32, padding_idx=3),
    "lstm": lambda: torch.nn.LSTM(20, 40, num_layers=2, bidirectional=True),
    "gru": lambda: torch.nn.GRU(12, 30),
    "rnn": lambda: torch.nn.RNN(12, 30),
    "mha": lambda: torch.nn.MultiheadAttention(64, 8, add_bias_kv=True),
    "bilinear": lambda: torch.nn.Bilinear(20, 30, 40),
    "layernorm": lambda: torch.nn.LayerNorm(50),
    "batchnorm": lambda: torch.nn.BatchNorm2d(50),
    "groupnorm": lambda: torch.nn.GroupNorm(5, 50),
}


# The parameters torch's reset_parameters draws from a normal (Embedding: normal_; MultiheadAttention:
# xavier_normal_ on bias_k/bias_v); all others are uniform, bounded, or constant.
TORCH_NORMALS = {"embedding": {"weight"}, "mha": {"bias_k", "bias_v"}}


@pytest.mark.parametrize("kind", sorted(MODULES))
def test_preset_torch_reproduces_reset_parameters(kind):
    ref = dict(torch_reset(MODULES[kind]).named_parameters())
    ours = dict(pt.initialize(MODULES[kind](), preset="torch", seed=21).named_parameters())
    assert ours.keys() == ref.keys()
    for name, p in ours.items():
        a, b = p.detach().numpy(), ref[name].detach().numpy()
        assert a.shape == b.shape
        if np.ptp(b) == 0:                                              # constants (ones, zeros) exactly
            assert np.array_equal(a, b), name
            continue
        assert ks(a, b) > ALPHA, name
        if name in TORCH_NORMALS.get(kind, ()):                         # unbounded: no element beyond 6 sigma
            assert np.abs(a).max() <= 6 * b.std(), name                 # (P < 2e-9 per element)
        else:                                                           # uniform: the same bound, from below
            assert np.abs(a).max() <= np.abs(b).max() * 1.25 + 1e-6, name
    if kind == "embedding":
        assert not ours["weight"][3].any()                             # padding_idx row


def test_strict_names_the_unknown_module_and_non_strict_leaves_it():
    class Scale(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.s = torch.nn.Parameter(torch.full((3,), 7.0))

    model = torch.nn.Sequential(torch.nn.Linear(3, 3), Scale())
    with pytest.raises(TypeError, match="'1.s' of a Scale"):
        pt.initialize(model, preset="torch", seed=0)
    pt.initialize(model, preset="torch", seed=0, strict=False)
    assert torch.equal(model[1].s, torch.full((3,), 7.0))


def test_meta_model_is_materialized_and_initialized_once():
    with torch.device("meta"):
        big = torch.nn.Sequential(torch.nn.Linear(300, 200), torch.nn.BatchNorm1d(200), torch.nn.Linear(200, 10))
    pt.initialize(big, preset="torch", seed=3, device="cpu")
    cpu = pt.initialize(torch.nn.Sequential(torch.nn.Linear(300, 200), torch.nn.BatchNorm1d(200),
                                            torch.nn.Linear(200, 10)), preset="torch", seed=3)
    assert all(torch.equal(x, y) for x, y in zip(big.parameters(), cpu.parameters()))
    assert torch.equal(big[1].running_var, torch.ones(200)) and torch.equal(big[1].running_mean, torch.zeros(200))
    with torch.device("meta"):
        again = torch.nn.Linear(3, 3)
    with pytest.raises(ValueError, match="pass device="):
        pt.initialize(again, preset="torch", seed=0)


def test_keras_preset_lstm_forget_bias_and_orthogonal_recurrent():
    lstm = pt.initialize(torch.nn.LSTM(10, 20), preset="keras", seed=1)
    b = lstm.bias_ih_l0.detach().numpy()
    assert (b[20:40] == 1).all() and not b[:20].any() and not lstm.bias_hh_l0.detach().numpy().any()
    w = lstm.weight_hh_l0.detach().numpy().astype(np.float64)          # (80, 20): orthonormal columns
    assert np.allclose(w.T @ w, np.eye(20), atol=1e-5)


def test_initialize_weights_means_the_papers():
    m = pt.initialize_weights(mnist_mlp(), "he", seed=0)
    w = m[0].weight.detach().numpy()
    n = w.size                                 # std of the sample std: sigma/sqrt(2n); 5 sigma
    assert abs(w.std() - math.sqrt(2 / 784)) < 5 * math.sqrt(2 / 784) / math.sqrt(2 * n)
    assert not m[0].bias.detach().numpy().any()
    x = pt.initialize_weights(mnist_mlp(), "xavier", seed=0)[0].weight.detach().numpy()
    assert np.abs(x).max() <= math.sqrt(6 / (784 + 128))
    with pytest.raises(ValueError, match="method must be one of"):
        pt.initialize_weights(mnist_mlp(), "kaiming_he")


def test_initialize_needs_weight_or_preset():
    with pytest.raises(TypeError, match="needs weight="):
        pt.initialize(mnist_mlp(), seed=0)
    with pytest.raises(ValueError, match="preset must be one of"):
        pt.initialize(mnist_mlp(), preset="jax", seed=0)


def test_a_shard_gets_the_values_of_the_whole_tensor():
    """FSDP / DTensor style: each rank fills only its shard (here torch.chunk along dim 0 over 3 ranks, and a
    2-D block) and the shards put together equal the whole tensor, bitwise."""
    full = pt.init_(torch.empty(10, 7), "he", seed=4)
    shards = [torch.empty_like(c) for c in torch.chunk(full, 3, dim=0)]
    step = math.ceil(10 / 3)
    for r, s in enumerate(shards):
        pt.init_shard_(s, "he", (10, 7), (r * step,), seed=4)
    assert torch.equal(torch.cat(shards), full)
    block = pt.init_shard_(torch.empty(4, 3, dtype=torch.float64), "torch.kaiming_uniform", (10, 7), (5, 2), seed=9, a=2.0)
    whole = pt.init_(torch.empty(10, 7, dtype=torch.float64), "torch.kaiming_uniform", seed=9, a=2.0)
    assert torch.equal(block, whole[5:9, 2:5])
    with pytest.raises(ValueError, match="does not fit"):
        pt.init_shard_(torch.empty(4, 7), "he", (10, 7), (8,), seed=0)
    with pytest.raises(ValueError, match="no block form"):
        pt.init_shard_(torch.empty(4, 7), "orthogonal", (10, 7), (0,), seed=0)


def test_lsuv_for_a_torch_model_matches_the_trainers(small_data):
    """pyjinit.torch.lsuv_ on the MNIST MLP with the trainer's LSUV batch gives the trainer's init='lsuv'
    weights (float32 products in two libraries: relative 1e-4), and unit output variance per layer."""
    from pyjinit.training.lsuv import LSUV_BATCH
    from pyjinit.training.trainer import batch_order

    x, y = small_data[0], small_data[1]
    batch = x[batch_order(6, 0, len(x))[:LSUV_BATCH]]
    ref = initial_weights([784, 128, 64, 10], "lsuv", None, 6, backend="numpy", data=(x, y), activation="tanh")
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.Tanh(), torch.nn.Linear(128, 64), torch.nn.Tanh(),
                                torch.nn.Linear(64, 10))
    pt.lsuv_(model, torch.from_numpy(batch), seed=6, backend="numpy")      # the trainer's orthogonal start
    for layer, w in zip((model[0], model[2], model[4]), ref):
        assert np.allclose(layer.weight.detach().numpy(), w, rtol=1e-4, atol=1e-7)
    with torch.no_grad():
        a = torch.from_numpy(batch)
        for layer in (model[0], model[2], model[4]):
            z = layer(a)
            assert abs(z.var(unbiased=False).item() - 1) < 0.1
            a = torch.tanh(z)


def test_diagnose_a_torch_model_matches_the_numpy_diagnostics(small_data):
    """The same MLP, the same weights and batch: the hook-based diagnostics equal pyjinit's own measurement."""
    from pyjinit.training.diagnostics import measure

    x, y = small_data[0][:200], small_data[1][:200]
    ws = initial_weights([784, 64, 32, 10], "xavier", None, 2, backend="numpy")
    model = torch.nn.Sequential(torch.nn.Linear(784, 64), torch.nn.Tanh(), torch.nn.Linear(64, 32), torch.nn.Tanh(),
                                torch.nn.Linear(32, 10))
    pt.initialize(model, weight="xavier", seed=2)
    rows = pt.diagnose_model(model, torch.from_numpy(x), torch.from_numpy(y.astype(np.int64)))
    ref = measure(ws, "tanh", x, y)
    for r, q in zip(rows, ref):
        for k in ("pre_std", "grad_act_std", "grad_weight_std"):
            assert math.isclose(r[k], q[k], rel_tol=2e-3), (r["layer"], k, r[k], q[k])   # torch std is unbiased
        if r["layer"] < 3:
            assert math.isclose(r["act_std"], q["act_std"], rel_tol=2e-3) and r["saturated"] == q["saturated"]
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                               torch.nn.Linear(4 * 28 * 28, 10))
    cr = pt.diagnose_model(conv, torch.from_numpy(x).reshape(-1, 1, 28, 28), torch.from_numpy(y.astype(np.int64)))
    assert cr[0]["module"] == "Conv2d" and 0 <= cr[0]["dead"] <= 1 and cr[0]["grad_weight_std"] > 0


# --- values made on the tensor's device (the torch sampler) -----------------------------------------------------

DEVICE_CASES = [("he", {}), ("torch.kaiming_uniform", {"a": math.sqrt(5)}), ("keras.glorot_normal", {}),
                ("torch.trunc_normal", {"std": 0.02}), ("torch.normal", {"std": 0.5}), ("uniform", {"low": -1.0}),
                ("zeros", {}), ("jax.lecun_normal", {}), ("xavier", {"distribution": "normal"})]


def _no_host_copy(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("a host array was copied into the tensor")

    import pyjinit.frameworks.torch as impl

    monkeypatch.setattr(impl, "_copy_into", refuse)


@pytest.mark.parametrize("name, kw", DEVICE_CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_init_makes_values_on_the_tensor_device_equal_to_numpy(name, kw, dtype, monkeypatch):
    """init_ with the torch sampler (the default on a non-CPU device) never copies a host array in, and equals
    the NumPy backend bitwise on the CPU (bfloat16: the float32 values rounded by torch)."""
    host = pt.init_(torch.empty(37, 53, dtype=dtype), name, seed=2**100 + 7, backend="numpy", **kw)
    _no_host_copy(monkeypatch)
    dev = pt.init_(torch.empty(37, 53, dtype=dtype), name, seed=2**100 + 7, backend="torch", **kw)
    assert torch.equal(dev, host)


def test_initialize_on_the_device_equals_the_host_path_and_copies_nothing(monkeypatch):
    tr = torch.nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32)
    host = {n: p.detach().clone() for n, p in pt.initialize(tr, preset="torch", seed=3, backend="numpy").named_parameters()}
    _no_host_copy(monkeypatch)
    dev = dict(pt.initialize(tr, preset="torch", seed=3, backend="torch").named_parameters())
    assert all(torch.equal(dev[n], host[n]) for n in host)


def test_shards_on_the_device_equal_the_whole_tensor(monkeypatch):
    _no_host_copy(monkeypatch)
    whole = pt.init_(torch.empty(10, 7), "torch.kaiming_normal", seed=9, backend="torch")
    for off in ((0, 0), (3, 2), (9, 6)):
        part = pt.init_shard_(torch.empty(1 if off[0] == 9 else 4, 1 if off[1] == 6 else 3), "torch.kaiming_normal",
                              (10, 7), off, seed=9, backend="torch")
        assert torch.equal(part, whole[off[0]:off[0] + part.shape[0], off[1]:off[1] + part.shape[1]])


def test_orthogonal_on_the_device_is_orthonormal_and_close_to_numpy():
    for shape, dtype in (((64, 200), torch.float32), ((200, 64), torch.float64), ((8, 4, 3, 3), torch.float32)):
        t = pt.init_(torch.empty(shape, dtype=dtype), "orthogonal", seed=4, gain=2.0, backend="torch")
        ref = pj.orthogonal_init(shape, seed=4, gain=2.0, dtype=str(dtype).split(".")[1], backend="numpy")
        assert np.abs(t.numpy() - ref).max() <= 2.0 * qr_tolerance(ref.dtype)
        m = t.reshape(shape[0], -1).double() / 2.0
        small = m @ m.T if shape[0] <= m.shape[1] else m.T @ m
        assert torch.allclose(small, torch.eye(small.shape[0], dtype=torch.float64), atol=1e-5)


def test_backend_argument_is_checked():
    with pytest.raises(ValueError, match="backend must be one of torch, numpy, julia, auto"):
        pt.init_(torch.empty(3, 3), "he", seed=0, backend="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (bench/gpu.py runs this on a GPU machine)")
def test_cuda_model_is_made_on_the_gpu_without_host_copies(monkeypatch):
    """A model on cuda: every parameter made on the GPU (no host array copied in), equal to the CPU sampler's
    values: bitwise for uniform draws, within 1 ulp of the output for normals and truncated normals
    (log/exp on the GPU; docs/stream.md)."""
    def model():
        return torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.GELU(), torch.nn.Linear(512, 256),
                                   torch.nn.LayerNorm(256))
    cpu = pt.initialize(model(), weight="he", bias="torch.uniform", seed=5)
    _no_host_copy(monkeypatch)
    gpu = pt.initialize(model().cuda(), weight="he", bias="torch.uniform", seed=5)
    for (n, a), (_, b) in zip(cpu.named_parameters(), gpu.named_parameters()):
        b = b.detach().cpu()
        ulp = torch.finfo(a.dtype).eps * a.detach().abs().clamp_min(torch.finfo(a.dtype).tiny)
        assert ((a.detach() - b).abs() <= ulp).all(), n


# --- whole models without silent surprises ------------------------------------------------------------------------

class TiedLM(torch.nn.Module):
    """GPT-2's tying: the output projection's weight is the token embedding (wte first in registration order)."""

    def __init__(self, vocab=50, d=16):
        super().__init__()
        self.wte = torch.nn.Embedding(vocab, d)
        self.block = torch.nn.Linear(d, d)
        self.lm_head = torch.nn.Linear(d, vocab, bias=False)
        self.lm_head.weight = self.wte.weight


@pytest.mark.parametrize("kw", [dict(preset="torch"), dict(weight="he"), dict(preset="keras")])
def test_tied_weights_are_made_once_by_their_first_occurrence(kw):
    m = pt.initialize(TiedLM(), seed=3, **kw)
    assert m.lm_head.weight is m.wte.weight
    alone = torch.nn.Sequential()
    alone.add_module("wte", torch.nn.Embedding(50, 16))
    pt.initialize(alone, seed=3, **kw)
    assert torch.equal(m.wte.weight, alone.wte.weight)      # the embedding's rule and key (layer 1), not lm_head's


def test_a_gpt2_from_transformers_ties_once():
    transformers = pytest.importorskip("transformers", reason="transformers is not installed")
    cfg = transformers.GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=101, n_positions=16)
    m = transformers.GPT2LMHeadModel(cfg)
    pt.initialize(m, weight="normal", weight_kwargs={"std": 0.02}, seed=0, strict=False)
    assert m.lm_head.weight.data_ptr() == m.transformer.wte.weight.data_ptr()
    assert abs(float(m.transformer.wte.weight.std()) - 0.02) < 0.002


def test_frozen_parameters_are_kept_unless_asked(capsys):
    m = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Linear(8, 2))
    for p in m[0].parameters():
        p.requires_grad_(False)
    before = m[0].weight.detach().clone()
    pt.initialize(m, weight="he", seed=1)
    assert torch.equal(m[0].weight, before) and "2 frozen" in capsys.readouterr().err
    assert not torch.equal(m[1].weight, torch.nn.Linear(8, 2).weight)
    pt.initialize(m, weight="he", seed=1, skip_frozen=False)
    assert not torch.equal(m[0].weight, before)


@pytest.mark.parametrize("kw", [dict(weight="he"), dict(preset="keras"), dict(preset="flax"), dict(preset="torch"),
                                dict(weight="uniform", weight_kwargs={"low": 1.0, "high": 2.0})])
def test_padding_rows_stay_zero_under_every_rule(kw):
    m = pt.initialize(torch.nn.Sequential(torch.nn.Embedding(10, 4, padding_idx=3)), seed=0, **kw)
    assert not m[0].weight[3].any() and m[0].weight[2].any()
    m = pt.initialize_weights(torch.nn.Sequential(torch.nn.Embedding(10, 4, padding_idx=0)), "he", seed=0)
    assert not m[0].weight[0].any()


class WithCustom(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.class_token = torch.nn.Parameter(torch.zeros(1, 1, 8))
        self.proj = torch.nn.Linear(8, 8)


def test_strict_false_says_what_it_left_and_never_leaves_garbage_after_meta():
    with pytest.warns(UserWarning, match="left 1 parameters without a rule as they are: class_token"):
        pt.initialize(WithCustom(), weight="he", seed=0, strict=False)
    with torch.device("meta"):
        m = WithCustom()
    with pytest.raises(TypeError, match="uninitialized memory") as e:
        pt.initialize(m, weight="he", seed=0, strict=False, device="cpu")
    assert "class_token" in str(e.value) and m.proj.weight.is_meta           # nothing was materialized or written
    pt.initialize(m, weight="he", seed=0, strict=False, device="cpu", skip=["class_token"], verbose=False)


def test_initialize_checks_the_seed():
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\^128\)"):
        pt.initialize(torch.nn.Linear(2, 2), weight="he", seed=1.5)


# --- preset="model": the model's own construction-time init --------------------------------------------------------

def _same_distribution(ours: torch.Tensor, theirs: torch.Tensor, name: str, alpha: float = 1e-4):
    """Random parameters: a two-sample KS test at alpha (1e-4 per parameter: with ~40 parameters a model, a false
    alarm has probability ~0.4%); deterministic ones (all equal values): exactly equal."""
    a, b = ours.detach().double().flatten().numpy(), theirs.detach().double().flatten().numpy()
    if np.unique(b).size == 1:
        assert np.array_equal(a, b), name
        return
    assert stats.ks_2samp(a, b).pvalue > alpha, name


def test_preset_model_is_torch_transformers_own_init():
    """torch.nn.Transformer's construction applies xavier_uniform_ to every matrix after the modules' own
    reset_parameters: preset='model' matches it parameter by parameter; preset='torch' does not (linear2's std)."""
    torch.manual_seed(0)
    theirs = torch.nn.Transformer(d_model=64, nhead=4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=256)
    ours = pt.initialize(torch.nn.Transformer(d_model=64, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
                                              dim_feedforward=256), preset="model", seed=0)
    t = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        _same_distribution(p, t[n], n)
    plain = pt.initialize(torch.nn.Transformer(d_model=64, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
                                               dim_feedforward=256), preset="torch", seed=0)
    w = "encoder.layers.0.linear2.weight"
    assert stats.ks_2samp(dict(plain.named_parameters())[w].detach().flatten().numpy(),
                          t[w].detach().flatten().numpy()).pvalue < 1e-6


def test_preset_model_is_hugging_face_gpt2s_own_init():
    """GPT-2 (transformers, small config): N(0, 0.02) weights, c_proj N(0, 0.02/sqrt(2 n_layer)), zero biases,
    LayerNorm ones/zeros, tied lm_head: each parameter matches transformers' own init (KS at 1e-4)."""
    transformers = pytest.importorskip("transformers", reason="transformers is not installed")
    cfg = transformers.GPT2Config(n_layer=4, n_embd=64, n_head=4, vocab_size=500, n_positions=64)
    torch.manual_seed(0)
    theirs = dict(transformers.GPT2LMHeadModel(cfg).named_parameters())
    ours = pt.initialize(transformers.GPT2LMHeadModel(cfg), preset="model", seed=0)
    for n, p in ours.named_parameters():
        _same_distribution(p, theirs[n], n)
    proj = ours.transformer.h[0].attn.c_proj.weight
    assert abs(float(proj.std()) - 0.02 / math.sqrt(8)) < 4 * 0.02 / math.sqrt(8) / math.sqrt(2 * proj.numel())


def test_preset_model_refuses_an_unknown_model():
    class Mine(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(3, 3))

    with pytest.raises(ValueError, match="does not know how a Mine initializes itself"):
        pt.initialize(Mine(), preset="model", seed=0)


def test_hf_conv1d_is_filled_as_the_linear_it_is():
    pytest.importorskip("transformers", reason="transformers is not installed")
    from transformers.pytorch_utils import Conv1D

    m = torch.nn.Sequential()
    m.add_module("c", Conv1D(nf=16, nx=1024))                     # weight (in, out) = (1024, 16)
    lin = pt.initialize(torch.nn.Sequential(torch.nn.Linear(1024, 16)), weight="he", seed=0)
    assert torch.equal(pt.initialize(m, weight="he", seed=0).c.weight, lin[0].weight.T)


def test_review_edges():
    """weight= covers attention's bias_k/bias_v; a meta model whose rule fails on a shape stays on meta (nothing
    materialized or written); init_ refuses layout=; LSUV measures in eval mode and restores the mode."""
    pt.initialize(torch.nn.MultiheadAttention(8, 2, add_bias_kv=True), weight="he", seed=0)
    with torch.device("meta"):
        m = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Conv2d(2, 2, 3))
    with pytest.raises(ValueError, match="torch.eye needs a tensor with 2 dimensions"):
        pt.initialize(m, weight="torch.eye", device="cpu")
    assert m[0].weight.is_meta
    with pytest.raises(TypeError, match="layout= does not apply"):
        pt.init_(torch.empty(4, 6), "he", seed=0, layout="keras")
    net = torch.nn.Sequential(torch.nn.Linear(20, 20), torch.nn.Dropout(0.5), torch.nn.Linear(20, 5)).train()
    pt.lsuv_(net, torch.randn(64, 20), seed=0)
    assert net.training


def test_preset_model_refuses_hf_models_with_their_own_init():
    transformers = pytest.importorskip("transformers", reason="transformers is not installed")
    vit = transformers.ViTModel(transformers.ViTConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                                       intermediate_size=32, image_size=16, patch_size=8))
    with pytest.raises(ValueError, match="ViTPreTrainedModel._init_weights overrides"):
        pt.initialize(vit, preset="model", seed=0)
