"""技改项目 and 上市后备 registers: import of the SYNTHETIC files, hand counts with openpyxl, a messy file's
problems with their row numbers, the count-once rule of new listings, re-import, the CLI's JSON."""

from __future__ import annotations

import collections
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest

from mujun.runs.workspace import Workspace
from mujun.strategy import metrics
from mujun.strategy.listings import import_listings
from mujun.strategy.projects import import_projects
from mujun.strategy.registry import load_registry
from mujun.views import Reader

HEADER = ["项目编号", "统一社会信用代码", "企业名称", "县区", "项目名称"]
HEADER += ["总投资（万元）", "开工日期", "计划竣工日期", "是否市重点", "项目状态"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SYNTHETIC demo (300 firms, 2023-2024): workspace/ and synthetic-data/{projects,listings}.xlsx."""
    from mujun.demo import run_demo

    root = tmp_path_factory.mktemp("registers-demo")
    run_demo(root, firms=300, years=(2023, 2024), seed=7, echo=lambda _m: None, strategy=False)
    return root


@pytest.fixture
def ws_path(demo: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(demo / "workspace", target)
    return target


def sheet_rows(path: Path) -> list[tuple[Any, ...]]:
    """Data rows of a synthetic register (row 1 title, row 2 header), read independently with openpyxl."""
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = [r for r in wb.active.iter_rows(min_row=3, values_only=True) if any(v is not None for v in r)]
    wb.close()
    return rows


def actual(ws: Workspace, target_id: str) -> dict[int, float | None]:
    with Reader(ws) as r:
        return metrics.actuals(r, load_registry(ws.path).target(target_id)).get(None, {})


def codes(ws_dir: Path, n: int) -> list[str]:
    con = duckdb.connect(str(ws_dir / "mujun.duckdb"), read_only=True)
    sql = "SELECT DISTINCT uscc FROM enterprise_years ORDER BY uscc LIMIT ?"
    got = [r[0] for r in con.execute(sql, [n]).fetchall()]
    con.close()
    return got


def test_synthetic_files_import_and_hand_counts(demo: Path, ws_path: Path) -> None:
    projects_file, listings_file = demo / "synthetic-data" / "projects.xlsx", demo / "synthetic-data" / "listings.xlsx"
    prows, lrows = sheet_rows(projects_file), sheet_rows(listings_file)
    key_by_year = collections.Counter(r[6].year for r in prows if r[8] == "是")
    new_by_year = collections.Counter(int(r[2]) for r in lrows if r[3] == "上市" and r[5] is not None and r[5] == r[2])
    with Workspace(ws_path) as ws:
        rp = import_projects(ws, projects_file)
        rl = import_listings(ws, listings_file)
        assert rp["rows_read"] == len(prows) == rp["accepted"] + rp["rejected"]
        assert rl["rows_read"] == len(lrows) == rl["accepted"] + rl["rejected"]
        assert rp["rejected"] == 0 and rl["rejected"] == 0  # the synthetic registers are clean
        assert key_by_year and sum(key_by_year.values()) > 0
        got = actual(ws, "key_projects")
        assert got == {y: float(n) for y, n in key_by_year.items()}
        listings = actual(ws, "listings")
        assert set(listings) == {int(r[2]) for r in lrows}
        assert listings == {y: float(new_by_year.get(y, 0)) for y in listings}
        # R&D coverage (registry metric) against a direct count over enterprise_years
        cover = ws.con.execute(
            "SELECT year, count(*) FILTER (WHERE rd_10k_yuan > 0) / count(*) FROM enterprise_years "
            "WHERE above_scale GROUP BY year"
        ).fetchall()
        assert actual(ws, "rd_coverage") == pytest.approx({int(y): v for y, v in cover})
        # stored types and values: a project row read back as written
        first = prows[0]
        row = ws.con.execute(
            "SELECT uscc, investment_10k_yuan, start_date, key_project, year, county FROM projects "
            "WHERE project_id = ?",
            [first[0]],
        ).fetchone()
        assert row == (first[1], pytest.approx(first[5]), first[6].date(), first[8] == "是", first[6].year, first[3])
        county = ws.con.execute("SELECT count(*) FROM listings WHERE county IS NULL").fetchone()[0]
        assert county == 0  # listings.xlsx has no 县区: taken from enterprise_years


def test_reimport_replaces_rows_of_the_same_file_only(demo: Path, ws_path: Path, tmp_path: Path) -> None:
    src = demo / "synthetic-data" / "projects.xlsx"
    with Workspace(ws_path) as ws:
        first = import_projects(ws, src)
        again = import_projects(ws, src)
        assert again["replaced"] == first["accepted"] and again["superseded"] == 0
        n = ws.con.execute("SELECT count(*) FROM projects").fetchone()[0]
        assert n == first["accepted"]
        # another file with 2 of the same projects and 1 new one: the 2 replace the older rows, the rest stay
        wb = openpyxl.load_workbook(src)
        sheet = wb.active
        sheet.delete_rows(5, sheet.max_row)
        sheet.append(["NEW0001", *[c.value for c in sheet[3]][1:]])
        other = tmp_path / "补报项目.xlsx"
        wb.save(other)
        got = import_projects(ws, other)
        assert (got["accepted"], got["replaced"], got["superseded"]) == (3, 0, 2)
        assert ws.con.execute("SELECT count(*) FROM projects").fetchone()[0] == n + 1
        by_file = dict(ws.con.execute("SELECT source_file, count(*) FROM projects GROUP BY 1").fetchall())
        assert by_file == {"projects.xlsx": n - 2, "补报项目.xlsx": 3}


def test_messy_project_file_gives_problems_with_rows(ws_path: Path, tmp_path: Path) -> None:
    good, known2 = codes(ws_path, 2)
    unknown = "91371300MA3C1234XA"  # a valid code that is no firm of the workspace
    wb = openpyxl.Workbook()
    s = wb.active
    s.title = "技改"
    s.append(["2024年技改项目台账（测试）"])
    s.append(HEADER)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    s.append(["P1", bad, "甲", "费县", "改造一", 100, dt.date(2024, 1, 2), None, "是", "在建"])  # row 3
    s.append(["P2", good, "乙", "费县", "改造二", "12.3万", dt.date(2024, 1, 2), None, "否", "在建"])  # row 4
    s.append(["P3", good, "丙", "费县", "改造三", "1,234.5", "2024年3月5日", "2025年1月", "是", "在建"])  # row 5
    s.append(["P4", known2, None, "费县", "改造四", 50, dt.date(2024, 2, 1), None, "否", "在建"])  # row 6
    s.append(["P5", unknown, "戊", "兰山区", "改造五", 80, 45358, None, None, "在建"])  # row 7
    s.append(["P6", good, "己", "费县", "改造六", "abc", dt.date(2024, 5, 1), dt.date(2024, 1, 1), "是", "x"])  # row 8
    s.append([None] * 10)  # blank: not a data row
    s.append(["P7", good, "庚", "费县", "改造七", 10, None, None, "否", "在建"])  # row 10
    path = tmp_path / "messy.xlsx"
    wb.save(path)
    with Workspace(ws_path) as ws:
        rep = import_projects(ws, path)
        stored = {r[0]: r[1:] for r in ws.con.execute(
            "SELECT project_id, investment_10k_yuan, start_date, key_project, year FROM projects"
        ).fetchall()}  # fmt: skip
    found = {(p["row"], p["code"], p["severity"]) for p in rep["problems"]}
    assert found == {
        (3, "USCC-INVALID", "error"),
        (4, "REG-UNIT-IN-CELL", "warning"),
        (6, "REQUIRED-EMPTY", "error"),
        (7, "REG-UNKNOWN-FIRM", "warning"),
        (7, "REG-BLANK", "warning"),
        (8, "NOT-A-NUMBER", "error"),
        (8, "REG-END-BEFORE-START", "error"),
        (10, "REQUIRED-EMPTY", "error"),
    }
    assert (rep["rows_read"], rep["accepted"], rep["rejected"]) == (7, 3, 4)
    by = {(p["row"], p["code"]): p for p in rep["problems"]}
    assert by[(6, "REQUIRED-EMPTY")]["column"] == "企业名称" and "第 6 行" in by[(6, "REQUIRED-EMPTY")]["message"]
    assert by[(10, "REQUIRED-EMPTY")]["column"] == "开工日期"
    assert all(p["file"] == "messy.xlsx" and p["sheet"] == "技改" for p in rep["problems"])
    assert "营业执照" in by[(3, "USCC-INVALID")]["message"]  # says what to do
    assert stored["P2"] == (pytest.approx(12.3), dt.date(2024, 1, 2), False, 2024)  # 12.3万 = 12.3 万元
    assert stored["P3"] == (pytest.approx(1234.5), dt.date(2024, 3, 5), True, 2024)  # Chinese date
    assert stored["P5"] == (80.0, dt.date(2024, 3, 7), None, 2024)  # Excel serial; blank flag stays missing
    assert set(stored) == {"P2", "P3", "P5"}


def test_new_listing_counts_once_and_checks(ws_path: Path, tmp_path: Path) -> None:
    a, b, c, d, e = codes(ws_path, 5)
    lines = [
        "上市后备企业台账（测试）",
        "统一社会信用代码,企业名称,年度,阶段,拟上市板块,上市年份",
        f"{a},甲,2023,上市,主板,2023",  # 3: new in 2023
        f"{a},甲,2024,已上市,主板,2023",  # 4: still listed: not new again
        f"{b},乙,2023,申报,创业板,",  # 5
        f"{b},乙,2024,上市,创业板,2024年",  # 6: new in 2024
        f"{c},丙,2023,上市,主板,2019",  # 7: listed long ago
        f"{d},丁,2024,上市,主板,",  # 8: no year listed → warning, not counted
        f"{a},甲,2023,上市,主板,2023",  # 9: duplicate of row 3 → rejected
        f"{e},戊,2024,申报,主板,2025",  # 10: listed after the year → rejected
        f"{e},戊,2023,待定,主板,",  # 11: unknown stage → rejected
    ]
    path = tmp_path / "上市后备.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    with Workspace(ws_path) as ws:
        rep = import_listings(ws, path)
        assert actual(ws, "listings") == {2023: 1.0, 2024: 1.0}
        sql = "SELECT year, count(*) FROM listings WHERE stage = 'listed' GROUP BY 1"
        stages = dict(ws.con.execute(sql).fetchall())
    assert stages == {2023: 2, 2024: 3}
    found = {(p["row"], p["code"], p["severity"]) for p in rep["problems"]}
    assert found == {
        (8, "REG-LISTED-YEAR-MISSING", "warning"),
        (9, "REG-DUPLICATE", "error"),
        (10, "REG-LISTED-YEAR-LATE", "error"),
        (11, "REG-STAGE", "error"),
    }
    assert (rep["rows_read"], rep["accepted"], rep["rejected"]) == (9, 6, 3)


def test_file_without_the_header_is_refused(ws_path: Path, tmp_path: Path) -> None:
    from mujun.errors import InputError

    path = tmp_path / "other.csv"
    path.write_text("甲,乙\n1,2\n", encoding="utf-8")
    with Workspace(ws_path) as ws, pytest.raises(InputError) as got:
        import_projects(ws, path)
    assert got.value.code == "REG-LAYOUT" and "项目编号" in got.value.message()


def mujun(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mujun", *args], capture_output=True, text=True, timeout=120)


def test_cli_import_and_list_json(demo: Path, ws_path: Path) -> None:
    data = demo / "synthetic-data"
    done = mujun("projects", "import", str(data / "projects.xlsx"), "--workspace", str(ws_path))
    assert done.returncode == 0, done.stderr
    assert "读取" in done.stdout
    done = mujun("listings", "import", str(data / "listings.xlsx"), "--workspace", str(ws_path), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["rows_read"] == report["accepted"] + report["rejected"] == len(sheet_rows(data / "listings.xlsx"))
    prows = sheet_rows(data / "projects.xlsx")
    year = max(r[6].year for r in prows)
    listed = mujun("projects", "list", "--workspace", str(ws_path), "--year", str(year), "--key", "--json")
    assert listed.returncode == 0, listed.stderr
    got = json.loads(listed.stdout)
    assert len(got) == sum(1 for r in prows if r[6].year == year and r[8] == "是")
    assert all(p["key_project"] and p["year"] == year for p in got)
    firms = json.loads(mujun("listings", "list", "--workspace", str(ws_path), "--stage", "后备", "--json").stdout)
    lrows = sheet_rows(data / "listings.xlsx")
    last = max(int(r[2]) for r in lrows)
    assert len(firms) == sum(1 for r in lrows if int(r[2]) == last and r[3] == "后备")
    assert {f["stage"] for f in firms} == {"reserve"}
    text = mujun("listings", "list", "--workspace", str(ws_path))
    assert text.returncode == 0 and "新增上市" in text.stdout
