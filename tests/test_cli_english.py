"""MUJUN_LANG=en gives English command-line output: no Chinese character is left once the data's own
values (firm, place and project names, a scheme's source and rule texts without an English form) are
taken out. Default (zh) output stays Chinese. One SYNTHETIC demo workspace serves every command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from mujun.cli import cli
from mujun.ingest.spec import all_specs
from mujun.schemes import builtin_ids, load
from mujun.strategy.registry import load_registry

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]")
EN = {"MUJUN_LANG": "en"}
ZH = {"MUJUN_LANG": "zh"}
SKIP_COLUMNS = {"reasons", "components", "summary", "message", "scheme_json", "details"}


DEMO_SAID: list[str] = []  # what `mujun demo` printed, under MUJUN_LANG=en


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mujun.demo import run_demo

    root = tmp_path_factory.mktemp("cli-english")
    before = os.environ.get("MUJUN_LANG")
    os.environ["MUJUN_LANG"] = "en"
    try:
        out = run_demo(root, firms=300, years=(2023, 2024), seed=7, echo=DEMO_SAID.append, strategy=True)
    finally:
        os.environ.pop("MUJUN_LANG") if before is None else os.environ.__setitem__("MUJUN_LANG", before)
    return Path(out["workspace"])


def _strings(value: Any) -> set[str]:
    """Every string of a scheme dump except a label or title that has an English form (that one must be used)."""
    out: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ("label", "title") and value.get(f"{k}_en"):
                continue
            out |= _strings(v)
    elif isinstance(value, list):
        for v in value:
            out |= _strings(v)
    elif isinstance(value, str):
        out.add(value)
    return out


@pytest.fixture(scope="module")
def data_words(workspace: Path) -> list[str]:
    """The data's own words, longest first: values in the workspace, the schemes' texts, the targets registry's."""
    words: set[str] = set()
    con = duckdb.connect(str(workspace / "mujun.duckdb"), read_only=True)
    try:
        cols = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
            " AND table_name IN ('enterprise_years', 'projects', 'listings', 'cleanup_cases', 'cleanup_events')"
        ).fetchall()
        for table, column in cols:
            if column in SKIP_COLUMNS:
                continue
            rows = con.execute(f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL').fetchall()
            words |= {str(r[0]) for r in rows}
    finally:
        con.close()
    for sid in builtin_ids():
        words |= _strings(load(sid).scheme.model_dump(mode="json", by_alias=True))
    words |= {w for spec in all_specs() for w in (spec.department, spec.title)}  # departments and their tables
    # the targets registry's own words (a workspace may edit them): units, and English titles that keep 万元/亿
    for t in load_registry(workspace).targets:
        words |= {t.unit, *re.findall(r"[\u3400-\u9fff]+", t.title.en)}
    return sorted((w for w in words if CJK.search(w)), key=len, reverse=True)


def leftover(text: str, words: list[str]) -> list[str]:
    """Lines that still hold a Chinese character once the data's words are taken out. A stored issue line
    (``    [CODE] message``) is left out: its message was written in the language of the import that found it."""
    bad = []
    for line in text.splitlines():
        if re.match(r"    \[[A-Z0-9-]+\] ", line):
            continue
        rest = line
        for w in words:
            if w in rest:
                rest = rest.replace(w, "")
        if CJK.search(rest):
            bad.append(line)
    return bad


def run(args: list[str], env: dict[str, str]) -> str:
    got = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert got.exit_code == 0, got.output
    return got.output


def _firm(ws: str) -> str:
    con = duckdb.connect(str(Path(ws) / "mujun.duckdb"), read_only=True)
    try:
        got = con.execute("SELECT uscc FROM enterprise_years WHERE above_scale ORDER BY uscc LIMIT 1").fetchone()
    finally:
        con.close()
    assert got is not None
    return str(got[0])


def commands(ws: str, case_id: str) -> list[list[str]]:
    scheme_file = str(
        Path(__file__).resolve().parents[1] / "src" / "mujun" / "schemes" / "builtin" / "changle-2023.yaml"
    )
    return [
        ["schemes", "list"],
        ["schemes", "validate", scheme_file],
        ["runs", "list", "--workspace", ws],
        ["explain", "--uscc", _firm(ws), "--workspace", ws],
        ["quarantine", "list", "--workspace", ws],
        ["specs", "list"],
        ["schemes", "show", "linyi-2022"],
        ["schemes", "show", "huaian-2024"],
        ["targets", "--workspace", ws],
        ["projects", "list", "--workspace", ws, "--limit", "5"],
        ["listings", "list", "--workspace", ws],
        ["tiers", "list", "--workspace", ws],
        ["tiers", "promotions", "--workspace", ws],
        ["cleanup", "list", "--workspace", ws],
        ["cleanup", "show", case_id, "--workspace", ws],
        ["history", "--workspace", ws],
    ]


def _case(ws: str) -> str:
    import json

    return str(json.loads(run(["cleanup", "list", "--workspace", ws, "--json"], EN))[0]["case_id"])


def test_english_output_has_no_chinese_words_but_the_data(workspace: Path, data_words: list[str]) -> None:
    ws = str(workspace)
    for args in commands(ws, _case(ws)):
        out = run(args, EN)
        assert out.strip(), args
        assert not leftover(out, data_words), (args, leftover(out, data_words)[:5])


def test_the_demo_speaks_english(workspace: Path, data_words: list[str]) -> None:
    said = "\n".join(DEMO_SAID)
    assert "SYNTHETIC data" in said and "Results (scheme" in said and "Done in" in said
    assert not leftover(said, data_words), leftover(said, data_words)[:5]
    assert (workspace.parent / "data-health-report.xlsx").is_file()


def test_evaluate_in_english(workspace: Path, tmp_path: Path, data_words: list[str]) -> None:
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(workspace, ws)
    out = run(["evaluate", "--workspace", str(ws), "--year", "2024", "--out", str(tmp_path / "r.csv")], EN)
    assert "Results written:" in out and "Run stored:" in out
    assert not leftover(out, data_words), leftover(out, data_words)[:5]
    zh = run(["evaluate", "--workspace", str(ws), "--year", "2024"], ZH)
    assert "已保存评价批次" in zh and "stored" not in zh  # one language a line


def test_chinese_output_stays_chinese(workspace: Path) -> None:
    ws = str(workspace)
    for args in commands(ws, _case(ws)):
        out = run(args, ZH)
        assert CJK.search(out), args
    assert "假设" in run(["schemes", "show", "huaian-2024"], ZH)
    assert "先进工业强市目标进展" in run(["targets", "--workspace", ws], ZH)
    assert "Progress of the plan's targets" in run(["targets", "--workspace", ws], EN)


def test_a_selection_and_its_reasons_in_english(workspace: Path, tmp_path: Path, data_words: list[str]) -> None:
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(workspace, ws)
    out = run(["tiers", "select", "--workspace", str(ws), "--year", "2024", "--n", "3", "--replace"], EN)
    assert "Second-tier selection 2024" in out and "Revenue growth" in out
    assert not leftover(out, data_words), leftover(out, data_words)[:5]
    zh = run(["tiers", "select", "--workspace", str(ws), "--year", "2024", "--n", "3", "--replace"], ZH)
    assert "第二梯队遴选" in zh and "营收增长" in zh


def test_bench_import_in_english() -> None:
    out = run(["bench", "import", "--rows", "500", "--repeat", "1"], EN)
    assert "Import benchmark" in out and not CJK.search(out)
    assert "导入基准测试" in run(["bench", "import", "--rows", "500", "--repeat", "1"], ZH)


@pytest.mark.parametrize(
    "group", ["", "schemes", "targets", "cleanup", "tiers", "projects", "listings", "serve", "demo", "synth", "explain"]
)
def test_help_follows_the_process_language(group: str) -> None:
    """Option and group help are read when the command is imported, so each language is a new process."""

    def helped(lang: str) -> str:
        env = {**os.environ, "MUJUN_LANG": lang}
        done = subprocess.run(
            [sys.executable, "-m", "mujun", *([group] if group else []), "--help"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert not CJK.search(helped("en"))
    if group in ("", "schemes", "targets", "cleanup", "tiers", "projects", "listings"):
        assert CJK.search(helped("zh"))
