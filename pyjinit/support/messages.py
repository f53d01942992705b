"""Messages for the user: warnings that point at the caller's line (not pyjinit's), and near matches."""
from __future__ import annotations

import difflib
import sys
import warnings
from pathlib import Path

_PKG = str(Path(__file__).resolve().parents[1])


def warn(message: str, category=RuntimeWarning) -> None:
    """warnings.warn, attributed to the first frame outside pyjinit (the user's code)."""
    level, f = 2, sys._getframe(1)          # stacklevel 2 is the frame that called warn()
    while f is not None and f.f_code.co_filename.startswith(_PKG):
        level += 1
        f = f.f_back
    warnings.warn(message, category, stacklevel=level)


def near(word, choices, n=3) -> list:
    """Up to n of `choices` close to `word` (as a misspelling or a prefix), best first."""
    if not isinstance(word, str):
        return []
    w = word.lower()
    close = difflib.get_close_matches(w, list(choices), n=n, cutoff=0.6)
    prefix = sorted((c for c in choices if c.lower().startswith(w) or w in c.lower().split(".")[-1]), key=len)
    out = []
    for c in prefix[:n] + close:
        if c not in out:
            out.append(c)
    return out[:n]


class MissingDependency(RuntimeError):
    """An optional package a requested feature needs is not installed (the message says what to install)."""


class UsageError(ValueError):
    """The user's input is wrong (an argument, an option, an environment variable, an output path), found
    before any work: the command line says it in one line and exits 2. A ValueError, so that code catching
    ValueError for bad arguments keeps working; any other ValueError/TypeError reaching the command line is a
    bug and is shown as one (with its traceback)."""
