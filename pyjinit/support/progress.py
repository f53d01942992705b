"""Progress on long work: a tqdm bar (`tqdm.auto`: a widget in notebooks, a bar on terminals and in logs)
when tqdm is installed, else one line per update on stderr; nothing when verbose is false."""
from __future__ import annotations

import sys


class _Lines:
    """The fallback without tqdm: `write` prints lines, the bar itself is silent."""

    def __init__(self, total, desc):
        self.total, self.desc, self.n = total, desc, 0

    def update(self, n=1):
        self.n += n

    def set_postfix_str(self, s):
        pass

    def set_description_str(self, s):
        pass

    def write(self, msg):
        print(msg, file=sys.stderr, flush=True)

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Off(_Lines):
    def write(self, msg):
        pass


def bar(total, desc: str, verbose: bool = True, unit: str = "it"):
    """A progress bar over `total` units (`.update(n)`, `.write(line)`, `.close()`, a context manager)."""
    if not verbose:
        return _Off(total, desc)
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Lines(total, desc)

    class _Bar(tqdm):
        def write(self, msg):                       # a line above the bar
            tqdm.write(msg, file=sys.stderr)

    return _Bar(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True, mininterval=0.5,
                leave=True)
