"""Issue 10, data changes 1 and 2: a file is read as a department's only when it carries that spec's key
columns, and an import never replaces a department-year's data silently (preview, --dry-run, --replace,
idempotent re-imports), on the command line and in the web upload. SYNTHETIC department files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest
from fastapi.testclient import TestClient
from tests.web.signin import signed_in

from mujun.errors import SchemeError
from mujun.ingest.spec import parse_spec
from mujun.synth import synth
from mujun.web import create_app

BANK_HEADER = "统一社会信用代码,企业名称,贷款余额"


def mujun(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mujun", *args], capture_output=True, text=True, check=False, timeout=300
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """2025's statistics and ecology files (SYNTHETIC, no defects), a second ecology file that changes
    three firms' COD and drops two firms, and the bank's loan list of the incident."""
    root = tmp_path_factory.mktemp("guard")
    synth(root / "synth", firms=150, years=(2025,), seed=11, defect_rate=0.0)
    ecology = root / "synth" / "2025" / "ecology_2025.xlsx"
    wb = openpyxl.load_workbook(ecology)
    sheet = wb.active
    header = next(i for i in range(1, 6) if sheet.cell(i, 1).value and "代码" in str(sheet.cell(i, 1).value))
    cod = 3  # the synthetic ecology layout: uscc, name, cod_t, ... (its header label varies by seed)
    for r in range(header + 1, header + 4):
        sheet.cell(r, cod).value = float(sheet.cell(r, cod).value or 0) + 1000.0
    sheet.delete_rows(sheet.max_row - 1, 2)
    second = root / "second" / "ecology_2025.xlsx"
    second.parent.mkdir()
    wb.save(second)
    bank = root / "银行贷款明细_2025.csv"
    lines = [BANK_HEADER] + [f"91371300MA{i:07d}X,临沂合成企业{i}（合成）,{i * 100}" for i in range(1, 30)]
    bank.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"stats": root / "synth" / "2025" / "stats_2025.xlsx", "ecology": ecology, "second": second, "bank": bank}


def _state(ws: Path) -> dict[str, Any]:
    con = duckdb.connect(str(ws / "mujun.duckdb"), read_only=True)
    try:
        return _state_of(con)
    finally:
        con.close()


def _state_of(con: Any) -> dict[str, Any]:
    return {
        "enterprise_years": con.execute("SELECT * FROM enterprise_years ORDER BY year, uscc").fetchall(),
        "imports": con.execute("SELECT count(*) FROM imports").fetchone()[0],
        "superseded": con.execute("SELECT count(*) FROM intake_rows WHERE superseded").fetchone()[0],
        "ecology": con.execute(
            "SELECT count(*) FROM intake_rows WHERE spec = 'ecology' AND year = 2025 AND NOT superseded"
        ).fetchone()[0],
    }


@pytest.fixture
def first(tmp_path: Path, files: dict[str, Path]) -> Path:
    """A workspace after the first import of 2025's statistics and ecology: no --replace needed."""
    ws = tmp_path / "ws"
    done = mujun("import", str(files["stats"]), str(files["ecology"]), "--workspace", str(ws))
    assert done.returncode == 0, done.stderr
    assert "首次导入该部门年度" in done.stdout and "新增 " in done.stdout
    return ws


def test_bank_loan_list_is_refused_with_headers_and_closest_specs(first: Path, files: dict[str, Path]) -> None:
    before = _state(first)
    done = mujun("import", str(files["bank"]), "--workspace", str(first), "--year", "2025")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "FILE-NOT-RECOGNISED" in done.stderr
    for header in BANK_HEADER.split(","):
        assert header in done.stderr
    closest = re.findall(r"^\s+- (\w+)（[^）]+）：缺少 (.+)$", done.stderr, flags=re.M)
    assert len(closest) == 3 and all(missing for _, missing in closest)
    assert "mujun specs show" in done.stderr
    assert _state(first) == before  # the incident: ecology's 2025 rows are still there, untouched
    # --spec ecology does not force it either: the key columns decide
    forced = mujun("import", str(files["bank"]), "--workspace", str(first), "--spec", "ecology")
    assert forced.returncode == 2 and "FILE-NOT-RECOGNISED" in forced.stderr and "化学需氧量排放量" in forced.stderr
    english = subprocess.run(
        [sys.executable, "-m", "mujun", "import", str(files["bank"]), "--workspace", str(first)],
        capture_output=True,
        text=True,
        check=False,
        env={**__import__("os").environ, "MUJUN_LANG": "en"},
    )
    assert english.returncode == 2 and "Closest specs" in english.stderr and "missing" in english.stderr


def test_specs_list_and_show() -> None:
    listed = mujun("specs", "list")
    assert listed.returncode == 0, listed.stderr
    for spec_id in ("ecology", "land", "power", "science", "stats", "tax"):
        assert re.search(rf"^  {spec_id} \| ", listed.stdout, flags=re.M), spec_id
    assert "临沂市生态环境局 | 排污单位主要污染物排放情况表 | uscc, cod_t, ammonia_t, so2_t, nox_t" in listed.stdout
    as_json = json.loads(mujun("specs", "list", "--json").stdout)
    assert {s["id"]: s["key_columns"] for s in as_json}["tax"] == ["uscc", "tax_10k_yuan"]
    shown = mujun("specs", "show", "ecology")
    assert shown.returncode == 0, shown.stderr
    assert "化学需氧量排放量 → cod_t（化学需氧量排放量（吨））  [关键列]" in shown.stdout
    assert "也可写作：化学需氧量、COD排放量" in shown.stdout and "单位：千克（换算为 吨" in shown.stdout
    assert "取水量 → water_t" in shown.stdout and "重大环境违法 → flag_env_violation" in shown.stdout
    missing = mujun("specs", "show", "ecolgy")
    assert missing.returncode == 2 and "ecology" in missing.stderr


def test_a_spec_must_declare_a_measure_among_its_key_columns() -> None:
    text = (
        "format_version: 1\nid: bank\ndepartment: 银行\ntitle: 贷款\ncolumns:\n  uscc: {labels: [统一社会信用代码]}\n"
    )
    with pytest.raises(SchemeError, match="key_columns"):
        parse_spec(text, "bank.yaml")
    with pytest.raises(SchemeError, match="uscc"):
        parse_spec(text + "  tax_10k_yuan: {labels: [税收]}\nkey_columns: [tax_10k_yuan]\n", "bank.yaml")
    ok = parse_spec(text + "  tax_10k_yuan: {labels: [税收]}\nrequired: [uscc, tax_10k_yuan]\n", "bank.yaml")
    assert ok.key_fields() == ["uscc", "tax_10k_yuan"]


def test_a_different_file_needs_replace_and_changes_nothing_without_it(first: Path, files: dict[str, Path]) -> None:
    before = _state(first)
    done = mujun("import", str(files["second"]), "--workspace", str(first))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "新增 0，变更 3，删除 2，不变" in done.stdout
    assert "变更的字段：化学需氧量排放量 (cod_t) 3" in done.stdout
    assert "IMPORT-NEEDS-REPLACE" in done.stderr and "--replace" in done.stderr
    assert _state(first) == before


def test_dry_run_prints_the_preview_and_writes_nothing(first: Path, files: dict[str, Path], tmp_path: Path) -> None:
    before = _state(first)
    mtime = (first / "mujun.duckdb").stat().st_mtime_ns
    done = mujun("import", str(files["second"]), "--workspace", str(first), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "新增 0，变更 3，删除 2" in done.stdout and "未写入任何数据" in done.stdout
    got = json.loads(mujun("import", str(files["second"]), "--workspace", str(first), "--dry-run", "--json").stdout)
    (group,) = got["groups"]
    assert (group["spec"], group["year"], group["status"]) == ("ecology", 2025, "replace")
    assert (group["added"], group["changed"], group["removed"]) == (0, 3, 2)
    assert group["changed_fields"] == {"cod_t": 3} and got["needs_replace"] is True
    assert _state(first) == before and (first / "mujun.duckdb").stat().st_mtime_ns == mtime
    fresh = tmp_path / "nowhere"
    assert mujun("import", str(files["ecology"]), "--workspace", str(fresh), "--dry-run").returncode == 0
    assert not fresh.exists()


def test_replace_applies_and_the_same_file_again_changes_nothing(first: Path, files: dict[str, Path]) -> None:
    before = _state(first)
    done = mujun("import", str(files["second"]), "--workspace", str(first), "--replace")
    assert done.returncode == 0, done.stderr
    after = _state(first)
    assert after["imports"] == before["imports"] + 1
    assert after["ecology"] == before["ecology"] - 2 and after["superseded"] == before["ecology"]
    assert after["enterprise_years"] != before["enterprise_years"]
    for path in (files["second"], files["stats"]):  # the same content again: no batch, no superseding
        again = mujun("import", str(path), "--workspace", str(first), "--replace")
        assert again.returncode == 0, again.stderr
        assert "没有变化" in again.stdout and "未新建导入批次" in again.stdout
        assert _state(first) == after


def test_a_copy_with_the_same_rows_is_no_change(first: Path, files: dict[str, Path], tmp_path: Path) -> None:
    """Other bytes (a re-saved workbook), the same values: nothing to import, no --replace asked."""
    copy = tmp_path / "resaved" / "ecology_2025.xlsx"
    copy.parent.mkdir()
    wb = openpyxl.load_workbook(files["ecology"])
    wb.active.title = "另存"
    wb.save(copy)
    before = _state(first)
    done = mujun("import", str(copy), "--workspace", str(first))
    assert done.returncode == 0, done.stderr
    assert "数据没有变化" in done.stdout and _state(first) == before


def _token(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', client.get("/health").text)
    assert found
    return found.group(1)


def test_web_upload_previews_then_imports_on_confirm(first: Path, files: dict[str, Path]) -> None:
    before = _state(first)
    with signed_in(create_app(first)) as client:
        csrf = _token(client)
        bank = client.post(
            "/upload",
            data={"csrf_token": csrf, "year": "2025"},
            files={"files": (files["bank"].name, files["bank"].read_bytes(), "text/csv")},
        )
        assert bank.status_code == 400
        assert "不是可识别的部门报送文件" in bank.text and "贷款余额" in bank.text
        assert (
            bank.text.count("<tr><td><code>") == 3
            and "下载各部门报送模板" in bank.text
            and "mujun specs show" not in bank.text
        )
        assert 'id="upload-form"' in bank.text  # the form again
        assert str(first) not in bank.text
        r = client.post(
            "/upload",
            data={"csrf_token": csrf},
            files={"files": ("ecology_2025.xlsx", files["second"].read_bytes(), "application/octet-stream")},
        )
        assert r.status_code == 200, r.text
        row = re.search(r'<tr data-spec="ecology" data-year="2025" data-status="replace">(.*?)</tr>', r.text, re.S)
        assert row, r.text
        cells = dict(re.findall(r'<td class="n (added|changed|removed|unchanged)">([\d,]+)</td>', row.group(1)))
        assert (cells["added"], cells["changed"], cells["removed"]) == ("0", "3", "2")
        token = re.search(r'name="token" value="([0-9a-f]{64})"', r.text)
        assert token and 'action="/upload/confirm"' in r.text
        pending = first / "uploads" / ".pending" / token.group(1)
        assert (pending / "ecology_2025.xlsx").read_bytes() == files["second"].read_bytes()
        assert _state_of(client.app.state.mujun.ws.con) == before  # the preview wrote nothing
        assert client.post("/upload/confirm", data={"token": token.group(1)}).status_code == 403  # no CSRF token
        bad = client.post("/upload/confirm", data={"csrf_token": csrf, "token": "0" * 64})
        assert bad.status_code == 404 and "找不到这次上传" in bad.text
        done = client.post(
            "/upload/confirm", data={"csrf_token": csrf, "token": token.group(1)}, follow_redirects=False
        )
        assert done.status_code == 303 and done.headers["location"].startswith("/health?import=imp-")
        assert "导入完成" in client.get(done.headers["location"]).text
        assert not pending.exists()
        after = _state_of(client.app.state.mujun.ws.con)  # a write reopens the workspace (web/access.py)
        assert after["imports"] == before["imports"] + 1 and after["ecology"] == before["ecology"] - 2
        again = client.post(
            "/upload",
            data={"csrf_token": csrf},
            files={"files": ("ecology_2025.xlsx", files["second"].read_bytes(), "application/octet-stream")},
        )
        assert again.status_code == 200 and 'id="upload-unchanged"' in again.text
        assert 'action="/upload/confirm"' not in again.text
    assert _state(first) == after
    stored = [p for p in (first / "uploads").rglob("*") if p.is_file()]
    assert [p.name for p in stored] == ["ecology_2025.xlsx"] and stored[0].parent.parent == first / "uploads"
    shutil.rmtree(first / "uploads")
