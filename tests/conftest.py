import os

import pytest

from pyjinit.julia.process import julia_exe

REQUIRE_JULIA = os.environ.get("PYJINIT_REQUIRE_JULIA") == "1"


@pytest.fixture(scope="session")
def julia():
    """A `julia` executable for the subprocess tests: skipped without one, unless
    PYJINIT_REQUIRE_JULIA=1 (as in .ci/run), where a missing julia fails."""
    exe = julia_exe()
    if exe is None:
        if REQUIRE_JULIA:
            pytest.fail("PYJINIT_REQUIRE_JULIA=1 but no julia on PATH (and PYJINIT_JULIA unset)")
        pytest.skip("no julia on PATH: the Julia suite and the cross-backend checks need one "
                    "(bash .ci/install-julia.sh installs Debian's Julia 1.5.3)")
    return exe


def juliacall_can_start():
    """(ok, reason): whether juliacall can start Julia >= 1.10 with JInit in this process."""
    from pyjinit.julia import bridge as _julia

    try:
        _julia.module()
        return True, None
    except RuntimeError as e:
        return False, str(e)


@pytest.fixture(scope="session")
def juliacall_jl():
    ok, why = juliacall_can_start()
    if not ok:
        pytest.skip("juliacall cannot start Julia >= 1.10 here (no Julia >= 1.10 can be downloaded on this "
                    f"machine), so the juliacall bridge is not exercised: {why}")
    from pyjinit.julia import bridge as _julia

    return _julia.module()


# --- small MNIST-like data in IDX files --------------------------------------------------------------

import gzip as _gzip  # noqa: E402

import numpy as _np  # noqa: E402


def make_digits(n: int, seed: int):
    """n 28x28 uint8 images whose label k (0-9) lights rows 2k+4..2k+6, plus noise: easy to learn."""
    rng = _np.random.default_rng(seed)
    y = rng.integers(0, 10, n).astype(_np.uint8)
    x = rng.integers(0, 60, (n, 28, 28)).astype(_np.uint8)
    for k in range(10):
        x[y == k, 2 * k + 4:2 * k + 7, 4:24] = 220
    return x, y


def idx_bytes(a: _np.ndarray) -> bytes:
    header = (0x0800 | a.ndim).to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in a.shape)
    return header + a.astype(_np.uint8).tobytes()


def write_mnist_dir(folder, n_train=600, n_test=200, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    xs, ys = make_digits(n_train, 1)
    xt, yt = make_digits(n_test, 2)
    for stem, a in (("train-images-idx3-ubyte", xs), ("train-labels-idx1-ubyte", ys),
                    ("t10k-images-idx3-ubyte", xt), ("t10k-labels-idx1-ubyte", yt)):
        data = idx_bytes(a)
        if gz:
            (folder / (stem + ".gz")).write_bytes(_gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)
    return folder


@pytest.fixture
def mnist_dir(tmp_path):
    return write_mnist_dir(tmp_path / "mnist")


@pytest.fixture(scope="session")
def small_data(tmp_path_factory):
    from pyjinit.training.datasets import load_idx_dir

    return load_idx_dir(write_mnist_dir(tmp_path_factory.mktemp("d") / "mnist", gz=False))
