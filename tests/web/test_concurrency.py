"""CLI commands beside a running `mujun serve` (issue 10, "Concurrency"; design in mujun/web/access.py).

A real server process serves a copy of the demo workspace; while it runs, commands that only read work,
several at once; a command that writes is refused in words naming the server (zh and en), never with a
traceback or a hang; a write through the web succeeds and a following CLI read sees it. In process: a web
write while a CLI reader holds the file waits for it, or after the bound answers 503 with nothing written;
a CLI read waits for the server's write; the readers-writer lock; an older workspace read read-only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.web.conftest import _free_port
from tests.web.signin import PASSWORD, ensure_user, signed_in

TIMEOUT = 120  # no command may hang: each gets this long at most


def mujun(*args: str, lang: str | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "MUJUN_LANG": lang} if lang else None
    cmd = [sys.executable, "-m", "mujun.cli", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def done(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, out, err


class Server:
    """`python -m mujun.cli serve` on ``workspace``, with a cookie-keeping HTTP client."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = ["serve", "--workspace", str(workspace), "--port", str(self.port)]
        self.proc = mujun(*args)
        self.http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect())
        deadline = time.time() + 60
        while True:
            try:
                if self.get("/login").status == 200:
                    break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("mujun serve did not start") from None
                time.sleep(0.2)
        name = ensure_user(workspace)  # every page needs a login (accounts live beside the data file)
        page = self.get("/login").read().decode()
        token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page)
        assert token
        body = urllib.parse.urlencode({"username": name, "password": PASSWORD, "csrf_token": token.group(1)})
        try:
            self.http.open(urllib.request.Request(self.url + "/login", data=body.encode()), timeout=TIMEOUT)
        except urllib.error.HTTPError as exc:
            assert exc.code == 303, exc.read().decode()

    def get(self, path: str) -> Any:
        return self.http.open(self.url + path, timeout=TIMEOUT)

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        page = self.get("/health").read().decode()
        token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page)
        assert token
        body = urllib.parse.urlencode({**fields, "csrf_token": token.group(1)}).encode()
        try:
            r = self.http.open(urllib.request.Request(self.url + path, data=body), timeout=TIMEOUT)
            return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:  # 303 (not followed) and errors
            return exc.code, exc.headers.get("location") or exc.read().decode()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.communicate(timeout=30)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.fixture(scope="module")
def served(demo_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    target = tmp_path_factory.mktemp("concurrency") / "ws"
    shutil.copytree(demo_workspace, target)
    server = Server(target)
    try:
        yield server
    finally:
        server.stop()
    assert not (target / "serve.json").exists()  # the server's note is gone with it (SIGTERM included)


def _read(ws: Path, sql: str) -> list[tuple[Any, ...]]:
    """A read-only query in this process, beside the server (DuckDB lets readers share the file)."""
    con = duckdb.connect(str(ws / "mujun.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_read_only_commands_work_beside_the_server_at_once(served: Server) -> None:
    ws = str(served.workspace)
    runs = [r[0] for r in _read(served.workspace, "SELECT run_id FROM runs ORDER BY started_at")]
    table = "results_" + runs[-1].replace("-", "_").lower()
    firm = _read(served.workspace, f"SELECT uscc FROM \"{table}\" WHERE status = 'graded' ORDER BY uscc LIMIT 1")[0][0]
    procs = {  # started together: four readers and the server share the file
        "runs": mujun("runs", "list", "--workspace", ws),
        "explain": mujun("explain", "--uscc", firm, "--workspace", ws),
        "history": mujun("history", "--workspace", ws, "--json"),
        "targets": mujun("targets", "--workspace", ws, "--json"),
    }
    got = {name: done(p) for name, p in procs.items()}
    for name, (code, _out, err) in got.items():
        assert code == 0 and "Traceback" not in err, (name, err)
    assert all(run in got["runs"][1] for run in runs)
    assert firm in got["explain"][1] and "综合得分" in got["explain"][1]
    assert [e["kind"] for e in json.loads(got["history"][1])][:1] == ["import"]
    assert {"id", "title", "actual", "status"} <= set(json.loads(got["targets"][1])[0])
    assert served.get("/overview.json").status == 200  # and the server still answers


def test_a_write_command_names_the_server_in_both_languages(served: Server) -> None:
    ws = str(served.workspace)
    zh = mujun("quarantine", "revalidate", "--workspace", ws)
    en = mujun("quarantine", "revalidate", "--workspace", ws, lang="en")
    pid = served.proc.pid
    expected = ((zh, (f"mujun serve（PID {pid}", "请在网页")), (en, (f"mujun serve (PID {pid}", "in the web app")))
    for proc, words in expected:
        code, _out, err = done(proc)
        assert code == 2 and "WORKSPACE-BUSY" in err, err
        assert all(w in err for w in words) and served.url in err and "Ctrl+C" in err
        assert "Traceback" not in err and "Conflicting lock" not in err


def test_a_web_write_is_seen_by_the_next_cli_read(served: Server) -> None:
    rows = json.load(served.get("/quarantine.json?code=NEGATIVE-VALUE&per_page=100"))["rows"]
    row = next(r for r in rows if r["spec"] == "land" and len(r["issues"]) == 1)
    fields = {"field": "land_own_mu", "value": "6666.67", "reason": "国土部门核实为平方米"}
    status, where = served.post(f"/quarantine/{row['row_id']}/correct", fields)
    assert status == 303 and f"done={row['row_id']}" in where
    code, out, err = done(mujun("history", "--workspace", str(served.workspace), "--json"))
    assert code == 0, err
    last = [e for e in json.loads(out) if e["log"] == "change"][-1]
    # the change log names the signed-in user who made the correction
    touched = f"row {row['row_id']} land_own_mu"
    assert (last["kind"], last["actor"], last["touched"]) == ("correction", "test-admin", touched)
    code, out, err = done(mujun("quarantine", "list", "--workspace", str(served.workspace), "--json"))
    assert code == 0 and row["row_id"] not in {r["row_id"] for r in json.loads(out)}, err


def _holder(db: Path, seconds: float, writable: bool = False) -> subprocess.Popen[str]:
    """Another process holding the file (a CLI reader, or with ``writable`` a writer such as the server)."""
    code = (
        "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=sys.argv[3] == '0'); "
        "print('held', flush=True); time.sleep(float(sys.argv[2]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(db), str(seconds), "1" if writable else "0"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def _correct(client: Any, row_id: int) -> Any:
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', client.get("/health").text)
    assert token
    fields = {"field": "land_own_mu", "value": "6666.67", "reason": "核实", "csrf_token": token.group(1)}
    return client.post(f"/quarantine/{row_id}/correct", data=fields, follow_redirects=False)


def test_a_web_write_waits_for_a_cli_reader_then_gives_up_in_words(
    workspace_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    from mujun.web import access, create_app

    monkeypatch.setattr(access, "SERVE_WRITE_WAIT_SECONDS", 2.0)
    with signed_in(create_app(workspace_copy)) as client:
        rows = client.get("/quarantine.json?code=NEGATIVE-VALUE&per_page=100").json()["rows"]
        first, second = [r["row_id"] for r in rows if r["spec"] == "land" and len(r["issues"]) == 1][:2]
        reader = _holder(workspace_copy / "mujun.duckdb", 0.8)  # a short CLI read: the write waits for it
        start = time.monotonic()
        assert _correct(client, first).status_code == 303
        assert time.monotonic() - start >= 0.3
        reader.wait(timeout=30)
        reader = _holder(workspace_copy / "mujun.duckdb", 30)  # a long one: after the bound, 503 and no change
        try:
            start = time.monotonic()
            r = _correct(client, second)
            assert r.status_code == 503 and "本次修改没有保存" in r.text and "稍后再试" in r.text
            assert 2.0 <= time.monotonic() - start < 10
            assert client.get("/overview.json").status_code == 200  # the app reads on (read-only beside the reader)
            quarantined = {x["row_id"] for x in client.get("/quarantine.json?per_page=100").json()["rows"]}
            assert second in quarantined and first not in quarantined
        finally:
            reader.kill()
            reader.wait()
        assert _correct(client, second).status_code == 303  # the reader gone, the write goes through


def test_a_cli_read_waits_for_the_servers_write(workspace_copy: Path) -> None:
    from mujun.runs.access import SERVE_NOTE
    from mujun.runs.workspace import Workspace

    writer = _holder(workspace_copy / "mujun.duckdb", 1.5, writable=True)  # stands for the server mid-write
    try:
        (workspace_copy / SERVE_NOTE).write_text(json.dumps({"pid": writer.pid, "url": "http://127.0.0.1:1/"}))
        start = time.monotonic()
        with Workspace(workspace_copy, read_only=True) as ws:
            assert ws.runs()
        assert 0.5 < time.monotonic() - start < 20
    finally:
        writer.kill()
        writer.wait()


def test_the_readers_writer_lock() -> None:
    from mujun.web.access import ReadWriteLock

    lock, seen = ReadWriteLock(), []
    with lock.write(), lock.read():  # a read inside this thread's write goes through
        seen.append("nested read")
    with lock.read(), pytest.raises(RuntimeError), lock.write():
        pass

    def write() -> None:
        with lock.write():
            seen.append("write")

    with lock.read():
        t = threading.Thread(target=write)
        t.start()
        time.sleep(0.2)
        seen.append("read ends")
    t.join(timeout=10)
    assert seen == ["nested read", "read ends", "write"]


def test_an_older_workspace_read_read_only_says_what_to_do(tmp_path: Path) -> None:
    from tests.test_old_workspaces import unpack_c1ae940

    ws = unpack_c1ae940(tmp_path / "ws")
    con = duckdb.connect(str(ws / "mujun.duckdb"))
    con.execute("DROP TABLE links")  # a table this release reads, missing from an old file
    con.close()
    zh, en = (mujun("link", "list", "--workspace", str(ws), lang=lang) for lang in ("zh", "en"))
    listed = mujun("runs", "list", "--workspace", str(ws))  # what it holds is still read
    for proc, words in ((zh, "只读命令不能升级工作区"), (en, "a read-only command cannot upgrade it")):
        code, _out, err = done(proc)
        assert code == 2 and "WORKSPACE-OLDER" in err and words in err and "Traceback" not in err, err
    code, out, err = done(listed)
    assert code == 0 and "linyi-2022" in out, err
    assert not list(ws.glob("*.bak-v*"))  # and nothing was migrated
