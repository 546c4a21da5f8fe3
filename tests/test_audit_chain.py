"""The two logs of a workspace (issue 11): the access audit (``accounts.sqlite``) and the change log
(``mujun.duckdb``), each a hash chain that ``mujun history verify`` checks; ``mujun history`` shows both
with the user of every entry; ``mujun --as NAME`` names an account in the change log; ``mujun serve``
refuses a workspace nobody could sign in to; schema 2 → 3 chains an existing log; the demo prints its
accounts. SYNTHETIC data (mujun.demo)."""

from __future__ import annotations

import getpass
import gzip
import json
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mujun.runs import accounts, audit, changes, schema
from test_users_cli import in_process

FIXTURES = Path(__file__).parent / "fixtures" / "workspaces"
NAMES = ("admin", "analyst", "leader", "county", "town", "tax", "firm")
PASSWORD = "synthetic-Pass-42"


def env(lang: str = "en") -> dict[str, str]:
    got = {k: v for k, v in os.environ.items() if k not in ("MUJUN_AS", "MUJUN_LANG")}
    return {**got, "MUJUN_LANG": lang}


def mujun(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mujun", *args], capture_output=True, text=True, check=False, timeout=timeout, env=env()
    )


def mujun_many(*calls: tuple[str, ...]) -> list[subprocess.CompletedProcess[str]]:
    """Several ``mujun`` processes at once, results in order of the calls."""
    procs = [
        (
            [sys.executable, "-m", "mujun", *args],
            subprocess.Popen(
                [sys.executable, "-m", "mujun", *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env(),
            ),
        )
        for args in calls
    ]
    out = []
    for cmd, proc in procs:
        try:
            got, err = proc.communicate(timeout=120)
        finally:
            proc.kill()
        out.append(subprocess.CompletedProcess(cmd, proc.returncode, got, err))
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One demo workspace for the module (never written to: tests that write copy it), with two more runs,
    so its change log has four entries: import, run, run, run."""
    from mujun import api
    from mujun.demo import run_demo
    from mujun.runs.workspace import Workspace

    root = tmp_path_factory.mktemp("demo")
    said: list[str] = []
    out = run_demo(root, firms=60, years=(2024,), seed=3, echo=said.append, strategy=False)
    with Workspace(root / "workspace", actor="tests") as ws:
        for _ in range(2):
            api.evaluate_and_store(ws, api.load("linyi-2022"), 2024)
    return {"root": root, "ws": root / "workspace", "said": said, "out": out}


@pytest.fixture
def ws(demo: dict[str, Any], tmp_path: Path) -> Path:
    """A copy of the demo workspace to write to."""
    return Path(shutil.copytree(demo["ws"], tmp_path / "ws"))


def change_log(ws: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(ws / "mujun.duckdb"), read_only=True)
    try:
        return con.execute("SELECT change_id, kind, actor, prev_hash, entry_hash FROM changes ORDER BY 1").fetchall()
    finally:
        con.close()


def chain_of(ws: Path) -> tuple[int, str, Any]:
    con = duckdb.connect(str(ws / "mujun.duckdb"), read_only=True)
    try:
        return changes.verify(con)
    finally:
        con.close()


# --- the access audit --------------------------------------------------------------------------------


@pytest.fixture
def audited(tmp_path: Path) -> Path:
    """An accounts file with five audit entries: two accounts added, a sign-in, a failure, a sign-out."""
    path = tmp_path / "acc"
    accounts.add_user(path, "boss", "admin", PASSWORD, by="tests")
    accounts.add_user(path, "li", "county", PASSWORD, by="boss", unit="费县")
    token = accounts.login(path, "li", PASSWORD).token
    accounts.login(path, "li", "wrong-pass-1")
    accounts.logout(path, token)
    return path


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path / "accounts.sqlite", isolation_level=None)


def test_a_fresh_audit_verifies_and_its_head_is_the_last_hash(audited: Path) -> None:
    got = audit.entries(audited)
    assert [e["kind"] for e in got] == ["user_add", "user_add", "login", "login_failed", "logout"]
    assert [e["id"] for e in got] == ["A1", "A2", "A3", "A4", "A5"]
    assert [e["user"] for e in got] == ["tests", "boss", "li", "li", "li"]
    assert audit.verify_audit(audited) == (5, got[-1]["hash"], None)
    # the first entry hangs on the genesis hash, each later one on the one before
    con = raw(audited)
    links = con.execute("SELECT prev_hash, hash FROM audit ORDER BY id").fetchall()
    con.close()
    assert links[0][0] == audit.GENESIS == "0" * 64
    assert all(links[i][0] == links[i - 1][1] for i in range(1, 5))


def test_the_audit_refuses_updates_and_deletes(audited: Path) -> None:
    con = raw(audited)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute("UPDATE audit SET actor = 'nobody' WHERE id = 3")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute("DELETE FROM audit WHERE id = 3")
    finally:
        con.close()
    assert audit.verify_audit(audited)[2] is None and len(audit.entries(audited)) == 5


def test_an_edited_audit_entry_is_named(audited: Path) -> None:
    head_2 = audit.entries(audited)[1]["hash"]
    con = raw(audited)
    con.execute("DROP TRIGGER audit_no_update")  # an attacker with the file in hand
    con.execute("""UPDATE audit SET detail = '{"role": "leader"}' WHERE id = 3""")
    con.close()
    assert audit.verify_audit(audited) == (2, head_2, 3)


def test_an_entry_with_its_own_hash_rewritten_breaks_the_next_link(audited: Path) -> None:
    con = raw(audited)
    con.execute("DROP TRIGGER audit_no_update")
    row = con.execute("SELECT id, at_utc, actor, kind, target, address, prev_hash FROM audit WHERE id = 3").fetchone()
    detail = '{"role": "leader"}'
    forged = audit.chain_hash(row[6], [row[0], row[1], row[2], row[3], row[4], detail, row[5]])
    con.execute("UPDATE audit SET detail = ?, hash = ? WHERE id = 3", [detail, forged])
    con.close()
    assert audit.verify_audit(audited) == (3, forged, 4)


def test_a_deleted_audit_entry_is_detected(audited: Path) -> None:
    head_2 = audit.entries(audited)[1]["hash"]
    con = raw(audited)
    con.execute("DROP TRIGGER audit_no_delete")
    con.execute("DELETE FROM audit WHERE id = 3")
    con.close()
    assert audit.verify_audit(audited) == (2, head_2, 4)


def test_a_missing_accounts_file_is_an_empty_audit(tmp_path: Path) -> None:
    assert audit.verify_audit(tmp_path / "none") == (0, audit.GENESIS, None)
    assert not (tmp_path / "none").exists()  # reading does not create it


# --- the change log ----------------------------------------------------------------------------------


def test_history_verify_prints_both_heads_and_names_an_altered_change(demo: dict[str, Any], ws: Path) -> None:
    rows = change_log(ws)
    assert [r[:2] for r in rows] == [(1, "import"), (2, "run"), (3, "run"), (4, "run")]
    assert rows[0][3] == audit.GENESIS and all(rows[i][3] == rows[i - 1][4] for i in range(1, 4))
    head = rows[-1][4]
    audit_head = audit.entries(ws)[-1]["hash"]

    ok = mujun("history", "verify", "--workspace", str(ws))
    assert ok.returncode == 0, ok.stderr
    assert f"change log: 4 entries, the hash chain is intact. Head: {head}" in ok.stdout
    assert f"access audit: 7 entries, the hash chain is intact. Head: {audit_head}" in ok.stdout

    con = duckdb.connect(str(ws / "mujun.duckdb"))
    con.execute("UPDATE changes SET actor = 'mallory' WHERE change_id = 3")
    con.close()
    bad = mujun("history", "verify", "--workspace", str(ws))
    assert bad.returncode == 1
    assert "change log: the first 2 entries are intact; entry 3 was altered, deleted or moved." in bad.stderr
    assert f"access audit: 7 entries, the hash chain is intact. Head: {audit_head}" in bad.stdout
    assert "Traceback" not in bad.stderr

    # the audit too, and both are named; `mujun history --workspace WS verify` is the same command
    con = raw(ws)
    con.execute("DROP TRIGGER audit_no_update")
    con.execute("UPDATE audit SET actor = 'mallory' WHERE id = 5")
    con.close()
    code, out, err = in_process("history", "--workspace", str(ws), "verify")
    assert code == 1 and out == ""
    assert "entry 3 was altered" in err and "access audit: the first 4 entries are intact; entry 5 was altered" in err
    assert not (demo["ws"] / "mujun.duckdb.bak-v3").exists()  # the shared workspace is untouched


def test_a_deleted_change_is_detected(ws: Path) -> None:
    con = duckdb.connect(str(ws / "mujun.duckdb"))
    con.execute("DELETE FROM changes WHERE change_id = 2")
    con.close()
    n, _, first_bad = chain_of(ws)
    assert (n, first_bad) == (1, 3)


def test_history_json_merges_both_logs_in_time_order_with_the_user(demo: dict[str, Any], ws: Path) -> None:
    password = demo["out"]["accounts"]["analyst"]["password"]
    assert accounts.login(ws, "analyst", password, address="127.0.0.1").token
    got = mujun("history", "--workspace", str(ws), "--json")
    assert got.returncode == 0, got.stderr
    rows = json.loads(got.stdout)
    assert [e["at"] for e in rows] == sorted(e["at"] for e in rows)
    assert all(e["user"] for e in rows)
    logins = [e for e in rows if e["kind"] == "login"]
    assert len(logins) == 1 and logins[0]["user"] == "analyst" and logins[0]["address"] == "127.0.0.1"
    assert rows[-1] == logins[0]  # the newest entry
    changed = [e for e in rows if e["log"] == "change"]
    assert [(e["id"], e["kind"]) for e in changed] == [(1, "import"), (2, "run"), (3, "run"), (4, "run")]
    assert [e["user"] for e in changed] == [getpass.getuser(), getpass.getuser(), "tests", "tests"]
    added = [e for e in rows if e["kind"] == "user_add"]
    assert [e["touched"] for e in added] == list(NAMES) and {e["user"] for e in added} == {"demo"}
    # the listing in words names the access entries too
    code, text, _ = in_process("history", "--workspace", str(ws))
    assert code == 0 and "sign-in" in text and "account added" in text and "analyst" in text


# --- mujun --as NAME ---------------------------------------------------------------------------------


def test_as_names_an_account_of_the_workspace_in_the_change_log(ws: Path) -> None:
    accounts.disable(ws, "leader", by="tests")
    w = ("--workspace", str(ws))
    unknown, disabled = mujun_many(("--as", "ghost", "undo", "1", *w), ("--as", "leader", "undo", "1", *w))
    assert unknown.returncode == 2 and "Error [USER-UNKNOWN]: There is no account “ghost”." in unknown.stderr
    assert disabled.returncode == 2 and "Error [USER-DISABLED]: The account “leader” is disabled" in disabled.stderr
    assert len(change_log(ws)) == 4  # nothing was written

    code, _, err = in_process("evaluate", *w, "--year", "2024")  # without --as: the operating-system user
    assert code == 0, err
    assert change_log(ws)[-1][1:3] == ("run", getpass.getuser())

    undone = mujun("--as", "analyst", "undo", "1", *w)
    assert undone.returncode == 0, undone.stderr
    assert change_log(ws)[-1][1:3] == ("undo", "analyst")
    assert chain_of(ws)[2] is None and chain_of(ws)[0] == 6


def test_as_on_a_workspace_without_accounts_is_taken_as_given(tmp_path: Path) -> None:
    from mujun.runs.workspace import Workspace

    path = tmp_path / "plain"
    code, _, err = in_process("--as", "someone", "evaluate", "--workspace", str(path), "--year", "2024")
    assert code == 2 and "WORKSPACE-EMPTY" in err  # it got as far as evaluating: --as was not refused
    with Workspace(path, read_only=True) as w:
        assert w.history() == []


# --- mujun serve ---------------------------------------------------------------------------------------


def test_serve_refuses_a_workspace_without_an_administrator(tmp_path: Path) -> None:
    from mujun.runs.workspace import Workspace

    path = tmp_path / "ws"
    Workspace(path).close()
    accounts.add_user(path, "li", "analyst", PASSWORD, by="tests")  # an account, but no administrator
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    got = mujun("serve", "--workspace", str(path), "--port", port, timeout=60)
    assert got.returncode == 2
    assert "Error [SERVE-NO-ADMIN]:" in got.stderr and "has no administrator account" in got.stderr
    assert f"mujun users add NAME --role admin --workspace {path}" in got.stderr
    assert "Traceback" not in got.stderr


# --- schema 2 → 3 --------------------------------------------------------------------------------------


def test_the_c1ae940_workspace_migrates_to_a_chained_log(tmp_path: Path) -> None:
    from mujun import api
    from mujun.runs.workspace import Workspace

    path = tmp_path / "old"
    path.mkdir()
    with gzip.open(FIXTURES / "c1ae940.duckdb.gz", "rb") as src, (path / "mujun.duckdb").open("wb") as dst:
        shutil.copyfileobj(src, dst)
    with Workspace(path, actor="tests") as w:
        assert w.version == schema.SCHEMA_VERSION == 4
        assert changes.verify(w.con) == (0, audit.GENESIS, None)
        api.evaluate_and_store(w, api.load("linyi-2022"), 2024)
        n, head, bad = changes.verify(w.con)
        assert (n, bad) == (1, None) and head == w.con.execute("SELECT entry_hash FROM changes").fetchone()[0]
        assert w.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "4"
    assert (path / "mujun.duckdb.bak-v1").is_file()


def test_a_version_2_workspace_migrates_to_the_same_chain_with_a_backup(ws: Path) -> None:
    from mujun.runs.workspace import Workspace

    before = change_log(ws)
    head = chain_of(ws)[1]
    con = duckdb.connect(str(ws / "mujun.duckdb"))
    con.execute("ALTER TABLE changes DROP COLUMN entry_hash")
    con.execute("ALTER TABLE changes DROP COLUMN prev_hash")
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    con.close()

    # a read-only command cannot check a log that has no chain yet: it says so (no crash, no exit 1)
    code, _, err = in_process("history", "verify", "--workspace", str(ws))
    assert code == 2 and "Error [WORKSPACE-OLDER]:" in err and "schema version 2" in err
    assert not (ws / "mujun.duckdb.bak-v2").exists()

    with Workspace(ws, actor="tests") as w:
        assert w.version == schema.SCHEMA_VERSION
    # the chain is computed from the entries alone: the same hashes as before the columns were dropped
    assert change_log(ws) == before
    assert chain_of(ws) == (4, head, None)
    con = duckdb.connect(str(ws / "mujun.duckdb.bak-v2"), read_only=True)
    try:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "2"
        cols = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'changes'"
            ).fetchall()
        }
        assert "entry_hash" not in cols and "prev_hash" not in cols
        assert con.execute("SELECT count(*) FROM changes").fetchone()[0] == 4
    finally:
        con.close()
    code, out, _ = in_process("history", "verify", "--workspace", str(ws))
    assert code == 0 and f"Head: {head}" in out


# --- the demo's accounts -------------------------------------------------------------------------------


def test_the_demo_prints_its_accounts_and_keeps_the_list_private(demo: dict[str, Any], ws: Path) -> None:
    said = "\n".join(demo["said"])
    made = demo["out"]["accounts"]
    assert tuple(made) == NAMES
    assert {n: a["role"] for n, a in made.items()} == {
        "admin": "admin",
        "analyst": "analyst",
        "leader": "leader",
        "county": "county",
        "town": "town",
        "tax": "department",
        "firm": "enterprise",
    }
    listing = demo["root"] / "demo-accounts.txt"
    assert stat.S_IMODE(listing.stat().st_mode) == 0o600
    text = listing.read_text(encoding="utf-8")
    for name, a in made.items():
        line = next(x for x in demo["said"] if x.split()[:1] == [name])
        assert line.split()[1:3] == [a["role"], a["password"]]
        assert a["password"] in said and line in text
        accounts.check_password(a["password"])
    assert len({a["password"] for a in made.values()}) == 7
    assert str(listing) in said
    # the printed password signs in (on a copy: the shared workspace stays as it was)
    assert accounts.login(ws, "admin", made["admin"]["password"]).user.role == "admin"
    assert accounts.has_admin(demo["ws"])
    county = accounts.get_user(demo["ws"], "county")
    assert county is not None and county.unit == made["county"]["unit"] and county.unit in said
