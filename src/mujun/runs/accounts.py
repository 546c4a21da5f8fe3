"""Accounts: users with one role, Argon2 password hashes, login with lock-out, and sessions.

* Passwords are hashed with Argon2id (``argon2-cffi``'s defaults: RFC 9106 low-memory profile) and never
  stored or logged in clear; a user made with a one-time password must change it at first login.
* Lock-out: :data:`mujun.settings.LOGIN_MAX_FAILURES` wrong passwords in a row for one name lock that name
  for :data:`mujun.settings.LOGIN_LOCK_SECONDS`; while locked every attempt is refused, the right password
  included, and recorded. Unknown names are counted the same way and cost the same hashing time, so a
  failure does not tell whether the name exists.
* Sessions: a random 256-bit token in the cookie, its sha256 in ``sessions``; a session ends at logout,
  after :data:`mujun.settings.SESSION_IDLE_SECONDS` without a request, after
  :data:`mujun.settings.SESSION_MAX_SECONDS` in all, or when its user is disabled.

Every login, failure, lock, logout and account change is an audit entry (runs/audit.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mujun import settings
from mujun.catalog.roles import NEEDS, ROLE_NAMES, load_roles
from mujun.catalog.text import translate
from mujun.errors import InputError
from mujun.runs import accounts_db, audit

_HASHER = PasswordHasher()


@functools.cache
def _dummy() -> str:
    """A hash to verify against for an unknown name (made on first use, not at import)."""
    return str(_HASHER.hash("mujun: equal time for unknown names"))


Clock = Callable[[], float]


@dataclass(frozen=True)
class User:
    name: str
    role: str
    unit: str | None = None
    department: str | None = None
    uscc: str | None = None
    must_change: bool = False
    disabled: bool = False

    def allows(self, permission: str, workspace: str | Path | None = None) -> bool:
        return load_roles(workspace).roles[self.role].allows(permission)


def _user(row: sqlite3.Row | dict[str, Any]) -> User:
    return User(
        name=row["name"],
        role=row["role"],
        unit=row["unit"],
        department=row["department"],
        uscc=row["uscc"],
        must_change=bool(row["must_change"]),
        disabled=bool(row["disabled"]),
    )


def check_password(password: str) -> None:
    """A password policy a person can meet: at least :data:`settings.MIN_PASSWORD_LENGTH` characters, not
    all one kind (letters only, digits only)."""
    if len(password) < settings.MIN_PASSWORD_LENGTH:
        raise InputError("PASSWORD-WEAK", min=settings.MIN_PASSWORD_LENGTH)
    if password.isdigit() or password.isalpha():
        raise InputError("PASSWORD-WEAK", min=settings.MIN_PASSWORD_LENGTH)


def check_account(
    role: str,
    unit: str | None,
    department: str | None,
    uscc: str | None,
    workspace: str | Path | None = None,
) -> None:
    """The role exists and the account names what its scope needs (a county's unit, a firm's USCC …), by
    the workspace's roles policy when it keeps one."""
    if role not in ROLE_NAMES:
        raise InputError("USER-ROLE", role=role, roles=" ".join(ROLE_NAMES))
    need = NEEDS[load_roles(workspace).roles[role].scope]
    given = {"unit": unit, "department": department, "uscc": uscc}
    if need is not None and not given[need]:
        raise InputError("USER-SCOPE", role=role, option=f"--{need}")
    if workspace is not None:
        _check_names(workspace, load_roles(workspace).roles[role].scope, unit, department)


def _check_names(workspace: str | Path, scope: str, unit: str | None, department: str | None) -> None:
    """A county or town named as the workspace's roster names it, a department as a spec does (a typo would
    make an account that sees nothing). Skipped while the workspace holds no roster yet."""
    from mujun.ingest.spec import all_specs
    from mujun.runs.workspace import DB_FILE, Workspace

    if scope == "department":
        known = sorted({x for s in all_specs() for x in (s.id, s.department)})
        if department not in known:
            raise InputError(
                "USER-UNIT", unit=department, known=translate("im.sep").join(sorted(s.id for s in all_specs()))
            )
    if scope not in ("county", "town") or not (Path(workspace) / DB_FILE).is_file():
        return
    with Workspace(workspace, read_only=True) as ws:
        if not ws.has_table("enterprise_years"):
            return
        column = "county" if scope == "county" else "town"
        names = [
            r[0]
            for r in ws.con.execute(
                f"SELECT DISTINCT {column} FROM enterprise_years WHERE {column} IS NOT NULL ORDER BY 1"
            ).fetchall()
        ]
    if names and unit not in names:
        raise InputError(
            "USER-UNIT", unit=unit, known=translate("im.sep").join(names[:30]) + ("…" if len(names) > 30 else "")
        )


def add_user(
    workspace: str | Path,
    name: str,
    role: str,
    password: str,
    by: str,
    unit: str | None = None,
    department: str | None = None,
    uscc: str | None = None,
    must_change: bool = False,
) -> User:
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise InputError("USER-NAME", name=name)
    check_account(role, unit, department, uscc, workspace)
    check_password(password)
    digest = _HASHER.hash(password)
    with accounts_db.connect(workspace) as con:
        if con.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone():
            raise InputError("USER-EXISTS", name=name)
        con.execute(
            "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, NULL)",
            [name, role, unit, department, uscc, digest, int(must_change), audit.now(), by],
        )
        detail = {"role": role, "unit": unit, "department": department, "uscc": uscc, "one_time": must_change}
        audit.append(con, by, "user_add", name, detail)
    return User(name, role, unit, department, uscc, must_change)


@dataclass(frozen=True)
class NewUser:
    """One account for :func:`add_users` (the fields of :func:`add_user`)."""

    name: str
    role: str
    password: str = field(repr=False)
    unit: str | None = None
    department: str | None = None
    uscc: str | None = None
    must_change: bool = False


def add_users(
    workspace: str | Path,
    users: Sequence[NewUser],
    by: str,
    before_commit: Callable[[list[NewUser]], None] | None = None,
) -> list[NewUser]:
    """Add many accounts in one transaction (``mujun users enterprises``: thousands at once); returns those
    added, each with its ``user_add`` audit entry as :func:`add_user` writes it.

    Every account is checked as :func:`add_user` checks it before anything is written. Names that exist
    already, or repeat in ``users``, are left out (not an error). The passwords are hashed before the
    accounts file is locked (Argon2 takes tens of milliseconds each; the work is spread over the CPU cores),
    so sign-ins go on meanwhile. ``before_commit(added)`` runs inside the transaction after the inserts: if
    it raises, nothing is added (reports/bulk_accounts.py writes the list of one-time passwords there, so no
    account exists whose password nobody was given)."""
    for u in users:
        if not u.name or u.name != u.name.strip() or len(u.name) > 64 or any(c.isspace() for c in u.name):
            raise InputError("USER-NAME", name=u.name)
        check_account(u.role, u.unit, u.department, u.uscc)
        check_password(u.password)
    with accounts_db.connect(workspace, write=False) as con:
        seen = {str(r[0]) for r in con.execute("SELECT name FROM users").fetchall()}
    todo: list[NewUser] = []
    for u in users:
        if u.name not in seen:
            seen.add(u.name)
            todo.append(u)
    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        digests = list(pool.map(_HASHER.hash, [u.password for u in todo]))
    added: list[NewUser] = []
    with accounts_db.connect(workspace) as con:
        known = {str(r[0]) for r in con.execute("SELECT name FROM users").fetchall()}  # made meanwhile
        at = audit.now()
        for u, digest in zip(todo, digests, strict=True):
            if u.name in known:
                continue
            con.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, NULL)",
                [u.name, u.role, u.unit, u.department, u.uscc, digest, int(u.must_change), at, by],
            )
            detail = {"role": u.role, "unit": u.unit, "department": u.department, "uscc": u.uscc}
            audit.append(con, by, "user_add", u.name, {**detail, "one_time": u.must_change})
            added.append(u)
        if before_commit is not None:
            before_commit(added)
    return added


def get_user(workspace: str | Path, name: str) -> User | None:
    with accounts_db.connect(workspace, write=False) as con:
        row = con.execute("SELECT * FROM users WHERE name = ?", [name]).fetchone()
    return None if row is None else _user(row)


def list_users(workspace: str | Path) -> list[User]:
    with accounts_db.connect(workspace, write=False) as con:
        return [_user(r) for r in con.execute("SELECT * FROM users ORDER BY role, name").fetchall()]


def has_users(workspace: str | Path) -> bool:
    """Whether the workspace has any account yet (enabled or not)."""
    with accounts_db.connect(workspace, write=False) as con:
        return con.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None


def has_admin(workspace: str | Path) -> bool:
    with accounts_db.connect(workspace, write=False) as con:
        row = con.execute("SELECT 1 FROM users WHERE role = 'admin' AND disabled = 0 LIMIT 1").fetchone()
    return row is not None


def _update(workspace: str | Path, name: str, by: str, kind: str, sql: str, params: list[Any]) -> None:
    with accounts_db.connect(workspace) as con:
        if con.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone() is None:
            raise InputError("USER-UNKNOWN", name=name)
        con.execute(f"UPDATE users SET {sql}, changed_at = ? WHERE name = ?", [*params, audit.now(), name])
        if kind in ("user_disable", "user_password", "password_changed", "user_role"):
            # a changed account signs in again: a new password ends every session, a stolen one included
            con.execute("DELETE FROM sessions WHERE name = ?", [name])
        audit.append(
            con, by, kind, name, {"set": sql.split(" = ")[0], **({"role": params[0]} if kind == "user_role" else {})}
        )


def disable(workspace: str | Path, name: str, by: str, disabled: bool = True) -> None:
    _update(workspace, name, by, "user_disable" if disabled else "user_enable", "disabled = ?", [int(disabled)])


def set_password(workspace: str | Path, name: str, password: str, by: str, must_change: bool = False) -> None:
    """A new password (``must_change``: a one-time one, to be changed at the next login)."""
    check_password(password)
    digest = _HASHER.hash(password)
    kind = "password_changed" if by == name else "user_password"
    _update(workspace, name, by, kind, "password_hash = ?, must_change = ?", [digest, int(must_change)])


def set_role(
    workspace: str | Path,
    name: str,
    role: str,
    by: str,
    unit: str | None = None,
    department: str | None = None,
    uscc: str | None = None,
) -> None:
    check_account(role, unit, department, uscc, workspace)
    _update(
        workspace, name, by, "user_role", "role = ?, unit = ?, department = ?, uscc = ?", [role, unit, department, uscc]
    )


@dataclass(frozen=True)
class Login:
    """The outcome of :func:`login`: ``user`` and ``token`` on success, else ``refused`` (a message key)."""

    user: User | None = None
    token: str | None = None
    refused: str | None = None
    locked_until: float | None = None


def login(workspace: str | Path, name: str, password: str, address: str = "", clock: Clock = time.time) -> Login:
    """Check a name and password, honour the lock-out, open a session; every outcome is audited."""
    t = clock()
    checked = _checked(workspace, name, password)
    with accounts_db.connect(workspace) as con:
        row, refused = _attempt(con, name, checked, address, t)
        if refused is not None or row is None:
            return refused or Login(refused="auth.failed")
        token = secrets.token_urlsafe(32)
        con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", [_sha(token), name, t, t, address])
        audit.append(con, name, "login", name, {"role": row["role"]}, address)
        return Login(user=_user(row), token=token)


def open_session(
    workspace: str | Path, name: str, address: str = "", how: str = "sso", clock: Clock = time.time
) -> Login:
    """A session for ``name`` without a password, when another service vouched for the person (single
    sign-on, web/sso.py: ``how`` names it in the audit). Only an existing, enabled account gets one; its role
    and scope are mujun's. Refused: an unknown or disabled name (``login_failed`` in the audit, with the
    reason). The password lock-out does not apply: the provider checked the person, and a stranger's wrong
    passwords must not keep them out."""
    t = clock()
    with accounts_db.connect(workspace) as con:
        row = con.execute("SELECT * FROM users WHERE name = ?", [name]).fetchone()
        if row is None or row["disabled"]:
            reason = "unknown" if row is None else "disabled"
            audit.append(con, name, "login_failed", name, {"via": how, "reason": reason}, address)
            return Login(refused=f"{how}.refused")
        token = secrets.token_urlsafe(32)
        con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", [_sha(token), name, t, t, address])
        audit.append(con, name, "login", name, {"role": row["role"], "via": how}, address)
        return Login(user=_user(row), token=token)


def check_current(workspace: str | Path, name: str, password: str, address: str = "") -> bool:
    """Whether ``password`` is ``name``'s (changing a password asks for the current one); a wrong one counts
    toward the lock-out like a failed sign-in."""
    checked = _checked(workspace, name, password)
    with accounts_db.connect(workspace) as con:
        row, refused = _attempt(con, name, checked, address, time.time())
        return refused is None and row is not None


def _checked(workspace: str | Path, name: str, password: str) -> str | None:
    """The password hash ``password`` matches (read in a read transaction), or None. Argon2id takes a tenth of
    a second or more: it runs before the write transaction, so fifty sign-ins at once do not queue on the
    accounts file's write lock (they did, and waited out its 15 s timeout: "database is locked")."""
    with accounts_db.connect(workspace, write=False) as con:
        row = con.execute("SELECT password_hash FROM users WHERE name = ?", [name]).fetchone()
    digest = row["password_hash"] if row is not None else None
    return digest if _verify(digest, password) else None


def _attempt(
    con: sqlite3.Connection, name: str, checked: str | None, address: str, t: float
) -> tuple[Any, Login | None]:
    """The user's row if the password was right (``checked``: the hash it matched, still the user's hash in
    this transaction — a password changed in between does not let the old one in) and the name neither
    locked nor disabled, else the refusal (failures counted, a lock set at the limit, the audit written)."""
    lock = con.execute("SELECT failures, locked_until FROM lockouts WHERE name = ?", [name]).fetchone()
    if lock is not None and lock["locked_until"] is not None and lock["locked_until"] > t:
        audit.append(con, name, "login_locked", name, {}, address)
        return None, Login(refused="auth.locked", locked_until=float(lock["locked_until"]))
    row = con.execute("SELECT * FROM users WHERE name = ?", [name]).fetchone()
    good = checked is not None and row is not None and row["password_hash"] == checked
    if not good or row is None or row["disabled"]:
        failures = (0 if lock is None or lock["locked_until"] is not None else int(lock["failures"])) + 1
        until = t + settings.LOGIN_LOCK_SECONDS if failures >= settings.LOGIN_MAX_FAILURES else None
        con.execute("INSERT OR REPLACE INTO lockouts VALUES (?, ?, ?)", [name, failures, until])
        audit.append(con, name, "login_failed", name, {"failures": failures, "locked": until is not None}, address)
        return None, Login(refused="auth.locked" if until else "auth.failed", locked_until=until)
    con.execute("DELETE FROM lockouts WHERE name = ?", [name])
    return row, None


# Argon2id holds 64 MiB per hash: at most this many at once, however many sign-ins arrive together
_HASHING = threading.BoundedSemaphore(4)


def _verify(digest: str | None, password: str) -> bool:
    try:
        with _HASHING:
            return _HASHER.verify(digest or _dummy(), password) and digest is not None
    except (VerificationError, InvalidHashError):
        return False


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# token sha256 → (the accounts file's signature when read, when read, the session's row): a page request
# asks for its user every time; reading SQLite for it was a connection, a query and a close per request.
_SESSIONS: dict[tuple[str, str], tuple[Any, float, dict[str, Any]]] = {}
_SESSION_CACHE_SECONDS = 5.0  # the longest another process's change can go unseen (accounts_db.signature)
_SESSION_CACHE_MAX = 10_000


def _session_row(workspace: str | Path, sha: str) -> dict[str, Any] | None:
    """The session's row joined with its user, from the cache while the accounts file has not changed."""
    key = (str(workspace), sha)
    sig = accounts_db.signature(workspace)
    now = time.monotonic()
    kept = _SESSIONS.get(key)
    if kept is not None and kept[0] == sig and now - kept[1] < _SESSION_CACHE_SECONDS:
        return kept[2]
    with accounts_db.connect(workspace, write=False) as con:
        row = con.execute(
            "SELECT s.created_at, s.last_seen, u.* FROM sessions s JOIN users u ON u.name = s.name "
            "WHERE s.token_sha256 = ?",
            [sha],
        ).fetchone()
    if row is None:
        _SESSIONS.pop(key, None)
        return None
    if len(_SESSIONS) >= _SESSION_CACHE_MAX:
        _SESSIONS.clear()
    got = dict(row)
    _SESSIONS[key] = (sig, now, got)
    return got


def session_user(workspace: str | Path, token: str, clock: Clock = time.time) -> User | None:
    """The user of a live session (its last-seen time refreshed), or None; an expired session is ended.

    Read through :func:`_session_row`'s cache: any write to the accounts file by this process (sign-out,
    disabling a user, a role change, a touch of last-seen) is seen at once, another process's within
    ``_SESSION_CACHE_SECONDS``."""
    t = clock()
    sha = _sha(token)
    row = _session_row(workspace, sha)
    if row is None:
        return None
    idle = t - row["last_seen"] > settings.SESSION_IDLE_SECONDS
    if idle or t - row["created_at"] > settings.SESSION_MAX_SECONDS or row["disabled"]:
        with accounts_db.connect(workspace) as con:
            con.execute("DELETE FROM sessions WHERE token_sha256 = ?", [sha])
            audit.append(con, row["name"], "session_expired", row["name"], {"idle": idle})
        return None
    if t - row["last_seen"] > settings.SESSION_TOUCH_SECONDS:
        before = accounts_db.signature(workspace)
        with accounts_db.connect(workspace) as con:
            con.execute("UPDATE sessions SET last_seen = ? WHERE token_sha256 = ?", [t, sha])
        _touched(workspace, sha, t, before)
    return _user(row)


def _touched(workspace: str | Path, sha: str, t: float, before: Any) -> None:
    """After this process's touch of one session's ``last_seen``: the cached rows stamped ``before`` stay
    valid under the file's new signature (a touch changes no other session, user or role), so 50 signed-in
    clients do not all read the file again after each other's touch. Only when the touch was this process's
    one write in between (its write count went up by exactly one); another process's change in between is
    still seen within ``_SESSION_CACHE_SECONDS``, as the cache promises."""
    after = accounts_db.signature(workspace)
    if after[0] != before[0] + 1:
        return
    where = str(workspace)
    for key, (sig, at, got) in list(_SESSIONS.items()):
        if key[0] == where and sig == before:
            _SESSIONS[key] = (after, at, {**got, "last_seen": t} if key[1] == sha else got)


def logout(workspace: str | Path, token: str, address: str = "") -> None:
    with accounts_db.connect(workspace) as con:
        row = con.execute("SELECT name FROM sessions WHERE token_sha256 = ?", [_sha(token)]).fetchone()
        if row is not None:
            con.execute("DELETE FROM sessions WHERE token_sha256 = ?", [_sha(token)])
            audit.append(con, row["name"], "logout", row["name"], {}, address)


def one_time_password() -> str:
    """A one-time password a town clerk can read out: 12 characters, letters and digits, no look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(12))
        if any(c.isdigit() for c in pw) and any(c.isalpha() for c in pw):
            return pw


def local_until(epoch: float) -> str:
    """A lock's end in local time (HH:MM) for a message."""
    return dt.datetime.fromtimestamp(epoch).strftime("%H:%M")
