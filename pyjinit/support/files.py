"""Results that are never lost: strict JSON, atomic writes, and output paths checked before the work."""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path


_UMASK = os.umask(0o022)                   # read once (os.umask can only be read by setting it)
os.umask(_UMASK)


def strict(obj):
    """`obj` with every non-finite float (NaN, ±Inf) replaced by None, so that strict JSON parsers accept it."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict(v) for v in obj]
    if hasattr(obj, "item") and getattr(obj, "ndim", None) == 0:      # NumPy scalars
        return strict(obj.item())
    return obj


def dumps(obj, indent=2) -> str:
    """Strict JSON (no NaN/Infinity: those become null)."""
    return json.dumps(strict(obj), indent=indent, allow_nan=False)


def atomic_write(path, write, mode="w", suffix=None) -> Path:
    """Write a file through `write(f)` into a temporary file beside `path`, then rename it over `path`:
    readers see the old file or the whole new one, never a part. Returns the path written."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix or ".tmp")
    except OSError as e:                    # name the file asked for, not the hidden temporary one
        raise type(e)(e.errno, f"cannot write {str(path)!r}: {e.strerror}") from None
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)          # mkstemp makes 0600; a result file is as open() would make it
        with os.fdopen(fd, mode, **({"newline": ""} if "b" not in mode else {})) as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def write_text(path, text: str) -> Path:
    return atomic_write(path, lambda f: f.write(text))


def check_output_path(argname: str, path, suffixes=None) -> Path:
    """`path` as a Path if a file can be written there (its folder exists and a file can be created in it, tried
    for real: permission bits say nothing for root, a read-only mount or /proc; the suffix is one of `suffixes`
    if given), else ValueError naming `argname` and the path. Call it before the work, not after."""
    p = Path(os.fspath(path)).expanduser()
    folder = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise ValueError(f"{argname} must be a file path, got the folder {str(p)!r}")
    if not folder.is_dir():
        raise ValueError(f"{argname}: the folder {str(folder)!r} does not exist (create it first)")
    if suffixes and p.suffix.lower() not in suffixes:
        raise ValueError(f"{argname} must end in {' or '.join(suffixes)}, got {str(p)!r}")
    try:                                    # the write atomic_write will do: a temporary file in the folder
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{p.name}.", suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise ValueError(f"{argname}: cannot write {str(p)!r}: the folder {str(folder)!r} is not writable "
                         f"({e.strerror})") from None
    return p
