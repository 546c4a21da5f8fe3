"""Crash safety (issue 10): ``kill -9`` at any moment of a write leaves the workspace as before or as after.

Five operations, each run as its own ``mujun`` process on a copy of a small SYNTHETIC workspace:

    import      the tax, land, power, science and ecology files of 2023 into a workspace holding the roster
    evaluate    ``evaluate --workspace --out result.xlsx`` (stores a run, then writes the result file)
    correction  ``quarantine correct`` of a NOT-A-NUMBER cell (rebuilds enterprise_years)
    revalidate  ``quarantine revalidate`` after links were confirmed (accepts rows, rebuilds enterprise_years)
    migration   ``quarantine revalidate`` on the c1ae940 workspace (schema 1): the writable open copies it to
                mujun.duckdb.bak-v1 and migrates it (one transaction), then the re-validation (another)

Each operation is first run to completion once (calibration): that gives the state after and how long
each phase took. The process runs the CLI's own ``main`` through a small probe that appends a line to a
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

import csv
import gzip
import json
import random
import re
import shutil
import signal
import subprocess
import sys
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

# Runs mujun's CLI main() with markers: "begin <t>" before a change's transaction, "commit <t>" after it
# committed ("migrate" and "migrated" around a migration), "end <t>" when main returns. Each line is one
# write(2), so a kill never loses a line written before it.
PROBE = r"""
import os, sys, time
from contextlib import contextmanager
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
def mark(what):
    os.write(fd, f"{what} {time.time():.6f}\n".encode())
from mujun.runs import schema, workspace
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
from mujun.cli.core import main
try:
    main(sys.argv[2:])
finally:
    mark("end")
"""

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
    out: Fingerprint = {}
    for table, values in tables.items():
        refs = [f"{ref} AS c{i}" for i, ref in enumerate(values)]
        row = con.execute(
            f"SELECT count(*), md5(coalesce(string_agg(x::VARCHAR, chr(10) ORDER BY x::VARCHAR), '')) "
            f'FROM (SELECT {", ".join(refs)} FROM "{table}") x'
        ).fetchone()
        name = re.sub(STAMP, "<t>", table, flags=re.IGNORECASE)
        out[name] = (int(row[0]), str(row[1]))
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


def _start(op: Op, run: Path) -> tuple[subprocess.Popen[bytes], float]:
    shutil.copytree(op.base, run / "ws")
    t0 = time.time()
    with (run / "stdout").open("wb") as out, (run / "stderr").open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", PROBE, str(run / "marks"), *op.args(run)], stdout=out, stderr=err
        )
    return proc, t0


def calibrate(op: Op, run: Path) -> None:
    """Run ``op`` to completion once: its state after and the moments of its phases."""
    proc, t0 = _start(op, run)
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


def _wait_for(proc: subprocess.Popen[bytes], marks: Path, word: str, timeout: float = 60.0) -> bool:
    stop = time.monotonic() + timeout
    while time.monotonic() < stop:
        if any(w == word for w, _ in _marks(marks)):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.001)
    return False


def _check_file(path: Path) -> None:
    """A file the operation wrote is complete: the workbook or JSON reads back."""
    if path.suffix == ".xlsx":
        openpyxl.load_workbook(path, read_only=True).close()
    elif path.suffix == ".json":
        json.loads(path.read_text(encoding="utf-8"))
    else:
        assert path.stat().st_size > 0


def kill_once(op: Op, mode: str, u: float, run: Path, original: bytes | None) -> Outcome:
    """Start ``op``, SIGKILL it at the drawn moment, then check the workspace and the files."""
    proc, t0 = _start(op, run)
    marks = run / "marks"
    if mode == "any":
        delay = u * op.end
        time.sleep(max(0.0, t0 + delay - time.time()))
    else:
        word, span = (op.window[0], op.commit - op.begin) if mode == "txn" else (op.window[1], op.end - op.commit)
        _wait_for(proc, marks, word)
        time.sleep(u * span)
        delay = time.time() - t0
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    code = proc.wait(timeout=60)
    words = [w for w, _ in _marks(marks)]
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
    ops, original = _operations(tmp_path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda op: calibrate(op, tmp_path / f"calibrate-{op.kind}"), ops.values()))
    rng = random.Random(SEED)
    jobs = [(kind, mode) for kind, modes in PLAN.items() for mode, n in modes.items() for _ in range(n)]
    assert len(jobs) == 50
    draws = [(kind, mode, rng.random(), i) for i, (kind, mode) in enumerate(jobs)]
    rng.shuffle(draws)

    def one(job: tuple[str, str, float, int]) -> Outcome:
        kind, mode, u, i = job
        keep = original if kind == "migration" else None
        return kill_once(ops[kind], mode, u, tmp_path / f"kill-{i:02d}-{kind}", keep)

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
