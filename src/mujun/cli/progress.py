"""What the command line shows while a step runs (issue 14: never silent for long).

:func:`step` shows a spinner with the step's words and the seconds elapsed on stderr (rich's status), only
when stderr is a terminal and ``MUJUN_PROGRESS`` is not ``off``: output piped to a file, read by a script or
captured by a test stays exactly what it was. When the step ends the line is replaced by ``✓ words (n.n s)``
if it took ``SHOW_AFTER`` seconds or more, so a person sees where the time went; shorter steps leave nothing.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

SHOW_AFTER = 2.0  # seconds: a step that took longer leaves its line


def enabled() -> bool:
    return os.environ.get("MUJUN_PROGRESS", "").lower() != "off" and sys.stderr.isatty()


@contextmanager
def step(words: str) -> Iterator[None]:
    """A spinner with ``words`` while the block runs (see the module docstring)."""
    if not enabled():
        yield
        return
    from rich.console import Console

    console = Console(stderr=True)
    started = time.perf_counter()
    with console.status(words, spinner="dots"):
        yield
    took = time.perf_counter() - started
    if took >= SHOW_AFTER:
        console.print(f"[green]✓[/green] {words} ({took:.1f} s)", highlight=False)
