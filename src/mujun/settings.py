"""Every default and limit of mujun in one place (imports nothing, so any layer may use it).

Defaults: the scheme used when none is named, the message language.

Limits on one department file, checked by :mod:`mujun.ingest.readers` *before* a reader library
allocates anything (an .xlsx is opened as a zip and its sheets' XML is stream-scanned, so a hostile
file is refused in bounded memory and time; see ``readers.check_workbook``). Past a limit the file is
refused with an ``InputError`` that names the file, the limit, the measured value and what to do;
`mujun import` exits 2 and the web upload shows the message. The numbers are generous for real
department files (a province's firms in one sheet: a few hundred thousand rows, tens of columns):

========================  ==============  =====================================================
limit                     value           what it bounds
========================  ==============  =====================================================
MAX_UPLOAD_BYTES          50 MiB          one web upload (all its files); more → 413
MAX_FILE_BYTES            256 MiB         a file read from disk (CLI), before reading it
MAX_UNCOMPRESSED_BYTES    1 GiB           an .xlsx's members inflated, each and in total
MAX_COMPRESSION_RATIO     100             inflated / compressed size of a member of 16 MiB or more
MAX_ZIP_MEMBERS           10,000          members of one .xlsx
MAX_ROWS                  500,000         rows of one sheet (the last row holding a value)
MAX_COLUMNS               1,000           columns of one sheet (the last column holding a value)
MAX_CELLS                 10,000,000      rows × columns of one sheet (what a reader allocates)
READ_MEMORY_BYTES         4 GiB           address space of the worker process that reads a web upload
READ_TIMEOUT_SECONDS      120             time of that worker
========================  ==============  =====================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

#: The scheme evaluated when none is named (CLI ``--scheme``, the web's re-evaluation form, the API).
DEFAULT_SCHEME = "linyi-2022"
#: The language of messages and pages unless ``MUJUN_LANG`` / ``?lang=`` asks for another.
DEFAULT_LANG = "zh"
#: Where ``mujun serve`` and ``mujun demo`` listen unless told otherwise (loopback: nothing leaves the machine).
SERVE_HOST = "127.0.0.1"
SERVE_PORT = 8000
# Who the change log names for a change made through the web app by no signed-in user (tests, older callers).
WEB_ACTOR = "web"
# Accounts (runs/accounts.py, issue 11): wrong passwords in a row that lock a name, for how long; a session's idle
# and total lifetime; how often a session's last-seen time is written; the shortest password accepted.
LOGIN_MAX_FAILURES = 5
LOGIN_LOCK_SECONDS = 15 * 60
SESSION_IDLE_SECONDS = 30 * 60
SESSION_MAX_SECONDS = 12 * 3600
SESSION_TOUCH_SECONDS = 60
MIN_PASSWORD_LENGTH = 10
# Sharing a workspace with a running `mujun serve` (runs/access.py, web/access.py): a web write waits this long for
# CLI readers to let go of the file, and a CLI read waits this long for the server's write to finish.
SERVE_WRITE_WAIT_SECONDS = 10.0
SERVE_READ_WAIT_SECONDS = 30.0

MAX_UPLOAD_BYTES = 50 * 2**20
MAX_FILE_BYTES = 256 * 2**20
MAX_UNCOMPRESSED_BYTES = 2**30
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM_BYTES = 16 * 2**20  # smaller members (styles, a small sheet) may compress any amount
MAX_ZIP_MEMBERS = 10_000
MAX_ROWS = 500_000
MAX_COLUMNS = 1_000
MAX_CELLS = 10_000_000
READ_MEMORY_BYTES = 4 * 2**30
READ_TIMEOUT_SECONDS = 120


def cache_root() -> Path | None:
    """Where mujun keeps what it can make again (compiled queries, the parsed catalogue texts):
    ``MUJUN_CACHE_DIR``, else ``$XDG_CACHE_HOME/mujun`` or ``~/.cache/mujun``; ``MUJUN_CACHE_DIR=off`` keeps
    nothing. Imports only the standard library, inside (this module imports nothing at start-up)."""
    import os
    from pathlib import Path

    chosen = os.environ.get("MUJUN_CACHE_DIR")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    return Path(os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")) / "mujun"
