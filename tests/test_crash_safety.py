"""Crash safety (issue 10): ``kill -9`` at any moment of a write leaves the workspace as before or as after.

Five operations, each run as its own process (forked from one that has imported mujun once: :data:`ZYGOTE`)
on a copy of a small SYNTHETIC workspace:

    import      the tax, land, power, science and ecology files of 2023 into a workspace holding the roster
    evaluate    ``evaluate --workspace --out result.xlsx`` (stores a run, then writes the result file)
    correction  ``quarantine correct`` of a NOT-A-NUMBER cell (rebuilds enterprise_years)
    revalidate  ``quarantine revalidate`` after links were confirmed (accepts rows, rebuilds enterprise_years)
    migration   ``quarantine revalidate`` on the c1ae940 workspace (schema 1): the writable open copies it to
                mujun.duckdb.bak-v1 and migrates it (one transaction), then the re-validation (another)

Each operation is first run to completion once (calibration): that gives the state after and how long
each phase took. The process runs the CLI's own ``main`` with a small probe that appends a line to a
marker file when a change begins and when it has committed (``Workspace.change``; ``schema.ensure``
for the migration), so each kill can be placed and classified. Then 50 processes are killed with SIGKILL
(2 at a time), the moment drawn from a seeded RNG: ``any`` — a delay uniform over the whole calibrated
run; ``txn`` — uniform inside the calibrated transaction, counted from the begin marker; ``file`` —
uniform inside the calibrated time after the commit (the report / result files being written).

After every kill: the workspace opens (read-only, then writable as the next command would), and its
fingerprint — every table's row count and a hash of its sorted content, the change log included, with
timestamps and the folder's path normalised — equals exactly the fingerprint before or exactly the one
after (for the migration also the one in between: migrated, not yet re-validated — two changes, each
whole; a writable open then finds nothing left to migrate); the files the operation writes (health report
xlsx and json, ``--out``, the migration backup) are absent or complete. The tally (kills per operation
landing before / mid-transaction / after the commit / after the process finished) is printed, and every
operation must have had kills land mid-transaction.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from mujun.reports.atomic import TEMP_SUFFIX, atomic_path
from mujun.runs import changes
from mujun.runs.workspace import DB_FILE, Workspace

FIXTURES = Path(__file__).parent / "fixtures" / "workspaces"
SEED = 20261210
YEAR = 2023
FIRMS = 150
# kills per operation and how their moments are drawn (50 in all)
PLAN = {
    "import": {"any": 3, "txn": 5, "file": 2},
    "evaluate": {"any": 3, "txn": 5, "file": 2},
    "correction": {"any": 4, "txn": 6},
    "revalidate": {"any": 4, "txn": 6},
    "migration": {"any": 4, "txn": 6},
}

# The zygote: a process that has imported mujun once and forks one child per run, so that the 55 runs pay no
# start-up (about 0.6 s of imports each). A request on stdin is a JSON line {"marks", "stdout", "stderr",
# "cwd", "args", "kill"}; the zygote answers "pid <pid>" once the child exists and "exit <pid> <code>" when it
# ends (a negative code: killed by that signal). "kill": [word, seconds] sends the child SIGKILL that many
# seconds after the time stamp of its marker ``word`` (null: after the fork), timed by the zygote's 1 ms loop
# — not by the test's threads, which a loaded machine delays by more than a short transaction lasts. The
# child runs mujun's CLI main() with markers: "begin <t>" before a change's transaction, "commit <t>" after it
# committed ("migrate" and "migrated" around a migration), "end <t>" when main returns. Each line is one
# write(2), so a kill never loses a line written before it.
ZYGOTE = r"""
import json, os, select, sys, time
from contextlib import contextmanager
import mujun.api, mujun.cli.core, mujun.runs.intake, mujun.runs.quarantine, mujun.reports, openpyxl, pandas
from mujun.runs import schema, workspace
fd = -1
def mark(what):
    os.write(fd, f"{what} {time.time():.6f}\n".encode())
_change = workspace.Workspace.change
@contextmanager
def change(self, *args, **kwargs):
    mark("begin")
    with _change(self, *args, **kwargs) as ch:
        yield ch
    mark("commit")
workspace.Workspace.change = change
_ensure = schema.ensure
def ensure(con, path, reopen):
    old = schema.version(con) not in (0, schema.SCHEMA_VERSION)
    if old:
        mark("migrate")
    out = _ensure(con, path, reopen)
    if old:
        mark("migrated")
    return out
schema.ensure = ensure
def child(req):
    global fd
    fd = os.open(req["marks"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    for target, name in ((1, "stdout"), (2, "stderr")):
        out = os.open(req[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, target)
        os.close(out)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # never the zygote's request pipe
    os.close(null)
    os.chdir(req["cwd"])
    code = 0
    try:
        mujun.cli.core.main(req["args"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback
        traceback.print_exc()
        code = 1
    finally:
        mark("end")
    import atexit
    atexit._run_exitfuncs()  # what a normal exit of the process would run
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
def marked(path, word):
    try:
        with open(path) as fh:
            for line in fh:
                parts = line.split()
                if len(parts) == 2 and parts[0] == word:
                    return float(parts[1])
    except OSError:
        pass
    return None
running = set()
plans = {}
buffered = b""
while True:
    now = time.time()
    for pid, (marks, word, delay, forked) in list(plans.items()):
        at = forked if word is None else marked(marks, word)
        if at is not None and now >= at + delay:
            del plans[pid]
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
    ready, _, _ = select.select([0], [], [], 0.001)
    if ready:
        chunk = os.read(0, 65536)
        if not chunk:  # the test is done (or failed): no run outlives it
            for pid in running:
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            for pid in running:
                os.waitpid(pid, 0)
            break
        buffered += chunk
        while b"\n" in buffered:
            line, buffered = buffered.split(b"\n", 1)
            req = json.loads(line)
            forked = time.time()
            pid = os.fork()
            if pid == 0:
                child(req)
            running.add(pid)
            if req.get("kill"):
                plans[pid] = (req["marks"], req["kill"][0], req["kill"][1], forked)
            say(f"pid {pid}")
    for pid in list(running):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            running.discard(pid)
            plans.pop(pid, None)
            say(f"exit {pid} {os.waitstatus_to_exitcode(status)}")
"""


class Zygote:
    """The test's handle on :data:`ZYGOTE`: start a run, know when it ended and how."""

    def __init__(self) -> None:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}  # no threads before a fork
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True
        )
        self.lock = threading.Lock()
        self.started: queue.Queue[int] = queue.Queue()
        self.codes: dict[int, int] = {}
        self.ended = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            word, pid, *rest = line.split()
            if word == "pid":
                self.started.put(int(pid))
            else:
                with self.ended:
                    self.codes[int(pid)] = int(rest[0])
                    self.ended.notify_all()

    def start(self, run: Path, args: list[str], kill: tuple[str | None, float] | None = None) -> Child:
        """Fork a run of ``mujun ARGS`` in folder ``run``; ``kill``: (marker or None, seconds) — see ZYGOTE."""
        request = {"marks": str(run / "marks"), "stdout": str(run / "stdout"), "stderr": str(run / "stderr"),
                   "cwd": str(run), "args": args, "kill": kill}  # fmt: skip
        assert self.proc.stdin is not None
        with self.lock:  # one request at a time, so the pid that comes back is this request's
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            try:
                pid = self.started.get(timeout=60)
            except queue.Empty:
                raise AssertionError(f"the zygote forked no run in 60 s (exit code {self.proc.poll()})") from None
        return Child(self, pid)

    def close(self) -> None:
        """End the zygote, which kills and reaps any run still going (a failed test leaves no process)."""
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Child:
    """One forked run, killed (or not) by the zygote: the test waits for its exit code."""

    zygote: Zygote
    pid: int

    def wait(self, timeout: float) -> int:
        with self.zygote.ended:
            if not self.zygote.ended.wait_for(lambda: self.pid in self.zygote.codes, timeout):
                raise TimeoutError(f"run {self.pid} did not end in {timeout} s")
            return self.zygote.codes[self.pid]


STAMP = r"\d{8}T\d{6,12}Z|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"

Fingerprint = dict[str, tuple[int, str]]


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def fingerprint(con: Any, folder: Path) -> Fingerprint:
    """Every base table: name → (rows, md5 of its rows as text, sorted); timestamps and the folder's path
    normalised in text columns and table names (import and run ids carry the time, a run's manifest the
    workspace's path). Computed inside DuckDB."""
    where = str(folder)
    columns = con.execute(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
        "JOIN information_schema.tables t USING (table_schema, table_name) "
        "WHERE c.table_schema = 'main' AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position"
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for table, column, dtype in columns:
        if table == "changes" and column in ("prev_hash", "entry_hash"):
            continue  # the hash chain covers the time stamps; it is checked whole by verify() instead
        ref = '"' + column.replace('"', '""') + '"'
        if dtype == "VARCHAR":
            ref = f"regexp_replace(replace({ref}, {_sql_text(where)}, '<ws>'), {_sql_text(STAMP)}, '<t>', 'gi')"
        tables.setdefault(table, []).append(ref)
    parts = []  # one query for every table: a query's planning cost about as much as a small table's hashing
    for table, values in tables.items():
        refs = [f"{ref} AS c{i}" for i, ref in enumerate(values)]
        parts.append(
            f"SELECT {_sql_text(table)}, count(*), "
            "md5(coalesce(string_agg(x::VARCHAR, chr(10) ORDER BY x::VARCHAR), ''))"
            f' FROM (SELECT {", ".join(refs)} FROM "{table}") x'
        )
    out: Fingerprint = {}
    if not parts:
        return out
    for table, n, digest in con.execute(" UNION ALL ".join(parts)).fetchall():
        out[re.sub(STAMP, "<t>", table, flags=re.IGNORECASE)] = (int(n), str(digest))
    return out


def open_fingerprint(ws: Path, read_only: bool) -> Fingerprint:
    """Open the workspace as mujun does (writable: the next command, which also finishes a migration)."""
    with Workspace(ws, read_only=read_only) as opened:
        if opened.version >= 3:  # after any kill the change log is still one unbroken hash chain
            _n, _head, bad = changes.verify(opened.con)
            assert bad is None, f"the change log's chain breaks at entry {bad}"
        return fingerprint(opened.con, ws)


@dataclass
class Op:
    """One operation: the base workspace, the CLI arguments in a run folder, the files it writes."""

    kind: str
    base: Path
    args: Callable[[Path], list[str]]
    files: Callable[[Path], list[Path]] = lambda run: []
    window: tuple[str, str] = ("begin", "commit")  # the markers around the transaction the kills aim at
    states: dict[str, Fingerprint] = field(default_factory=dict)  # in order: before, (migrated,) after
    begin: float = 0.0  # calibrated seconds from start
    commit: float = 0.0
    end: float = 0.0

    def allowed(self, stage: str) -> list[str]:
        """The states a kill at ``stage`` may leave: nothing written before the transaction began, its
        effect whole once it committed, either while it ran."""
        names = list(self.states)
        return {"before": names[:1], "mid": names[:2], "after": names[1:], "finished": names[-1:]}[stage]


@dataclass
class Outcome:
    kind: str
    mode: str
    delay: float
    stage: str  # before | mid | after (the transaction aimed at) | finished
    state: str  # before | (migrated |) after
    temp_left: int
    problems: list[str]


def _marks(path: Path) -> list[tuple[str, float]]:
    if not path.exists():
        return []
    return [(w, float(t)) for w, t in (line.split() for line in path.read_text().splitlines() if line.strip())]


def _start(op: Op, run: Path, zygote: Zygote, kill: tuple[str | None, float] | None = None) -> tuple[Child, float]:
    shutil.copytree(op.base, run / "ws")
    t0 = time.time()
    return zygote.start(run, op.args(run), kill), t0


def calibrate(op: Op, run: Path, zygote: Zygote) -> None:
    """Run ``op`` to completion once: its state after and the moments of its phases."""
    proc, t0 = _start(op, run, zygote)
    assert proc.wait(timeout=120) == 0, (run / "stderr").read_text()
    marks: dict[str, float] = {}
    for word, at in _marks(run / "marks"):
        marks.setdefault(word, at - t0)
    op.begin, op.commit, op.end = marks[op.window[0]], marks[op.window[1]], marks["end"]
    op.states["after"] = open_fingerprint(run / "ws", read_only=True)
    seen = list(op.states.values())
    assert all(a != b for i, a in enumerate(seen) for b in seen[i + 1 :]), f"{op.kind}: states not distinct"
    for f in op.files(run):
        _check_file(f)


def _check_file(path: Path) -> None:
    """A file the operation wrote is complete: the workbook or JSON reads back."""
    if path.suffix == ".xlsx":
        openpyxl.load_workbook(path, read_only=True).close()
    elif path.suffix == ".json":
        json.loads(path.read_text(encoding="utf-8"))
    else:
        assert path.stat().st_size > 0


def kill_once(op: Op, mode: str, u: float, run: Path, original: bytes | None, zygote: Zygote) -> Outcome:
    """Start ``op``, SIGKILL it at the drawn moment, then check the workspace and the files."""
    if mode == "any":
        word, after = None, u * op.end
    else:
        word, span = (op.window[0], op.commit - op.begin) if mode == "txn" else (op.window[1], op.end - op.commit)
        after = u * span
    proc, t0 = _start(op, run, zygote, (word, after))
    marks = run / "marks"
    code = proc.wait(timeout=60)
    seen = dict(reversed(_marks(marks)))  # each word's first time stamp
    delay = after if word is None else (seen[word] - t0 + after if word in seen else float("nan"))
    words = list(seen)
    problems: list[str] = []
    if code == 0:
        stage = "finished"
    elif code == -signal.SIGKILL:
        stage = "after" if op.window[1] in words else "mid" if op.window[0] in words else "before"
    else:
        stage = "failed"
        problems.append(f"exit {code}: {(run / 'stderr').read_text()[-500:]}")
    ws = run / "ws"
    state = "?"
    try:
        seen = open_fingerprint(ws, read_only=True)
        state = next((name for name, fp in op.states.items() if fp == seen), "HALF")
        if state == "HALF":
            names = sorted({*seen, *(k for fp in op.states.values() for k in fp)})
            mixed = {k: [n for n, fp in op.states.items() if fp.get(k) == seen.get(k)] or ["neither"] for k in names}
            parts = [f"{k}={'|'.join(v)}" for k, v in mixed.items() if len(v) < len(op.states)]
            problems.append(f"state is none of {list(op.states)}, tables as: {', '.join(parts)}")
        elif stage in ("before", "mid", "after", "finished") and state not in op.allowed(stage):
            problems.append(f"killed {stage} the transaction but the state is {state}")
        reopened = open_fingerprint(ws, read_only=False)
        if (
            state != "HALF"
            and reopened != op.states["migrated" if state == "before" and op.kind == "migration" else state]
        ):
            problems.append("the next writable open sees another state")
    except Exception as exc:  # the workspace does not open: that is the failure this test looks for
        problems.append(f"workspace does not open: {type(exc).__name__}: {exc}")
    for f in op.files(run):
        if f.exists():
            if state != "after":
                problems.append(f"{f.name} exists but the workspace is {state}")
            try:
                _check_file(f)
            except Exception as exc:
                problems.append(f"{f.name} is not complete: {type(exc).__name__}: {exc}")
    backup = ws / "mujun.duckdb.bak-v1"
    if original is not None and backup.exists() and backup.read_bytes() != original:
        problems.append("mujun.duckdb.bak-v1 is not a complete copy of the old workspace")
    temp_left = sum(1 for p in run.rglob(f".*{TEMP_SUFFIX}") if p.is_file())
    return Outcome(op.kind, mode, round(delay, 3), stage, state, temp_left, problems)


def _import_in_process(ws: Path, files: list[Path]) -> None:
    from mujun.runs.intake import import_files

    with Workspace(ws) as opened:
        import_files(opened, files, year=YEAR)


def _links(ws: Path, defects: Path) -> None:
    """Confirm the links the synthetic unknown codes mean, without re-validating (the operation does)."""
    from mujun.runs.quarantine import confirm_link

    with defects.open(encoding="utf-8") as fh:
        pairs = {(r["written_value"], r["true_value"]) for r in csv.DictReader(fh) if r["code"] == "UNMATCHED-USCC"}
    assert pairs
    with Workspace(ws) as opened:
        for source, target in sorted(pairs):
            confirm_link(opened, source, target)


def _bad_cell(ws: Path) -> tuple[int, str]:
    from mujun.runs.quarantine import quarantined

    with Workspace(ws, read_only=True) as opened:
        row = quarantined(opened, "NOT-A-NUMBER")[0]
    issue = next(i for i in row["issues"] if i["code"] == "NOT-A-NUMBER")
    return int(row["row_id"]), str(issue["column"])


def _operations(root: Path) -> tuple[dict[str, Op], bytes]:
    from mujun.synth import synth

    data = root / "data"
    synth(data, firms=FIRMS, years=(YEAR,), seed=3)
    files = {p.stem.split("_")[0]: p for p in (data / str(YEAR)).iterdir()}
    roster = root / "base-roster"
    _import_in_process(roster, [files["stats"]])
    full = root / "base-full"
    shutil.copytree(roster, full)
    depts = [files[k] for k in ("tax", "land", "power", "science", "ecology")]
    _import_in_process(full, depts)
    _links(full, data / "truth" / "defects.csv")
    row_id, column = _bad_cell(full)
    old = root / "base-old"
    old.mkdir()
    with gzip.open(FIXTURES / "c1ae940.duckdb.gz", "rb") as src, (old / DB_FILE).open("wb") as dst:
        shutil.copyfileobj(src, dst)
    original = (old / DB_FILE).read_bytes()

    def ws(run: Path) -> str:
        return str(run / "ws")

    def import_args(run: Path) -> list[str]:
        reports = ["--report-xlsx", str(run / "out" / "health.xlsx"), "--report-json", str(run / "out" / "health.json")]
        return ["import", *map(str, depts), "--workspace", ws(run), "--year", str(YEAR), *reports]

    def correct_args(run: Path) -> list[str]:
        fix = ["--column", column, "--value", "5000", "--reason", "电话核实（合成）"]
        return ["quarantine", "correct", str(row_id), "--workspace", ws(run), *fix]

    ops = {
        "import": Op(
            "import", roster, import_args, lambda run: [run / "out" / "health.xlsx", run / "out" / "health.json"]
        ),
        "evaluate": Op(
            "evaluate",
            full,
            lambda run: ["evaluate", "--workspace", ws(run), "--year", str(YEAR), "--out", str(run / "out" / "r.xlsx")],
            lambda run: [run / "out" / "r.xlsx"],
        ),
        "correction": Op("correction", full, correct_args),
        "revalidate": Op("revalidate", full, lambda run: ["quarantine", "revalidate", "--workspace", ws(run)]),
        "migration": Op(
            "migration",
            old,
            lambda run: ["quarantine", "revalidate", "--workspace", ws(run)],
            window=("migrate", "migrated"),
        ),
    }
    for op in ops.values():
        op.states["before"] = open_fingerprint(op.base, read_only=True)
    migrated = root / "migrated"
    shutil.copytree(old, migrated)
    ops["migration"].states["migrated"] = open_fingerprint(migrated, read_only=False)
    return ops, original


def test_kill_9_leaves_the_workspace_before_or_after(tmp_path: Path) -> None:
    started = time.perf_counter()
    zygote = Zygote()  # imports mujun while the workspaces are made
    try:
        _kill_and_check(tmp_path, zygote, started)
    finally:
        zygote.close()


def _kill_and_check(tmp_path: Path, zygote: Zygote, started: float) -> None:
    ops, original = _operations(tmp_path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda op: calibrate(op, tmp_path / f"calibrate-{op.kind}", zygote), ops.values()))
    rng = random.Random(SEED)
    jobs = [(kind, mode) for kind, modes in PLAN.items() for mode, n in modes.items() for _ in range(n)]
    assert len(jobs) == 50
    draws = [(kind, mode, rng.random(), i) for i, (kind, mode) in enumerate(jobs)]
    rng.shuffle(draws)

    def one(job: tuple[str, str, float, int]) -> Outcome:
        kind, mode, u, i = job
        keep = original if kind == "migration" else None
        return kill_once(ops[kind], mode, u, tmp_path / f"kill-{i:02d}-{kind}", keep, zygote)

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(one, draws))

    tally: dict[str, Counter[str]] = {kind: Counter() for kind in PLAN}
    for o in outcomes:
        tally[o.kind][o.stage] += 1
        tally[o.kind][f"state {o.state}"] += 1
        tally[o.kind]["temp"] += o.temp_left > 0
    print(f"\ncrash safety: {len(outcomes)} kills in {time.perf_counter() - started:.1f} s (seed {SEED})")
    for kind, op in ops.items():
        t = tally[kind]
        states = ", ".join(f"{name} {t['state ' + name]}" for name in op.states)
        print(
            f"  {kind:<10} transaction {op.begin:5.2f}–{op.commit:5.2f} s of {op.end:5.2f} s | killed before it "
            f"{t['before']}, mid-transaction {t['mid']}, after commit {t['after']}, finished first {t['finished']} | "
            f"state {states} | temp file left {t['temp']}"
        )
    failures = [o for o in outcomes if o.problems]
    assert not failures, "\n".join(f"{o.kind} {o.mode} {o.delay}s {o.stage}: {o.problems}" for o in failures)
    for kind in PLAN:
        assert tally[kind]["mid"] > 0, f"no kill landed inside the {kind} transaction: {dict(tally[kind])}"


def test_atomic_path_keeps_the_old_file_when_the_writer_fails(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "report.json"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(".report.json.")
        tmp.write_text("[1]", encoding="utf-8")
    assert json.loads(target.read_text(encoding="utf-8")) == [1]
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("[2", encoding="utf-8")
        raise RuntimeError("writer failed half way")
    assert json.loads(target.read_text(encoding="utf-8")) == [1]
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]
