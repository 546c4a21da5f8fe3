"""The ONE way mujun writes a file a person opens (crash safety, issue 10): whole, or not at all.

:func:`atomic_path` hands the writer a temporary name in the target's own folder (``.<name>.<hex>.tmp``,
so the rename never crosses a file system); when the writer returns, the temporary file is flushed to
disk and renamed over the target with :func:`os.replace`, which is atomic. Guarantee: at every moment,
a kill -9 included, the target path holds either what it held before (or nothing) or the complete new
file, never a truncated one (the data is flushed before the rename, so the name does not point to
unwritten blocks after a power cut either). When the writer raises, the temporary file is removed and the
target is untouched; only a kill can leave a stray ``.<name>.<hex>.tmp`` behind, never the target half
written.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def temp_name(target: Path) -> Path:
    """A fresh hidden temporary name beside ``target``: ``.<name>.<8 hex>.tmp``."""
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def _fsync(path: Path, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # a folder that cannot be opened (some platforms): the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """``with atomic_path("out.xlsx") as tmp: write(tmp)`` — ``out.xlsx`` appears complete or not at all.

    The target's folder is created if missing. The writer must create and close ``tmp`` inside the block.
    """
    final = Path(target)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync(final.parent, directory=True)
