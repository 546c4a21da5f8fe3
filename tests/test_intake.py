"""Import of a messy department workbook: every row accounted for, problems named, corrections re-validated."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import pytest

from mujun.catalog import uscc


def code(i: int) -> str:
    body = f"91371300MA{i:07d}"
    return body + uscc.check_char(body)


def mujun(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mujun", *args], capture_output=True, text=True, check=False, timeout=300
    )


@pytest.fixture
def tax_file(tmp_path: Path) -> Path:
    """A tax-bureau workbook as sent: two title rows, amounts in 元, a 序号 column, typical defects."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "税收"
    ws.append(["2023年度工业企业税收情况表（合成数据）"])
    ws.append(["单位：元"])
    ws.append(["序号", "纳税人识别号", "纳税人名称", "税收合计（元）"])
    typo = code(2).replace("0", "O", 1)
    rows = [
        (1, code(1), "临沂合成甲木业有限公司", "1,234,500.5"),  # line 4: text number → 123.45005 万元
        (2, typo, "临沂合成乙食品有限公司", 560000),  # line 5: O for 0 → USCC-INVALID, fix suggested
        (3, code(3), "临沂合成丙机械有限公司", "—"),  # line 6: a dash is missing → accepted, NULL
        (4, code(4), "临沂合成丁化工有限公司", "待核实"),  # line 7: NOT-A-NUMBER
        (5, code(1), "临沂合成甲木业有限公司", 1),  # line 8: USCC-DUPLICATE of line 4
        (6, code(5), "临沂合成戊建材有限公司", "-3000"),  # line 9: NEGATIVE-VALUE
        (None, None, "合计", 99999),  # line 10: SUMMARY-ROW
    ]
    for r in rows:
        ws.append(list(r))
    path = tmp_path / "税务局_2023.xlsx"
    wb.save(path)
    return path


def test_import_accounts_for_every_row_and_names_each_problem(tmp_path: Path, tax_file: Path) -> None:
    ws = tmp_path / "ws"
    report_path = tmp_path / "report.json"
    done = mujun("import", str(tax_file), "--workspace", str(ws), "--report-json", str(report_path))
    assert done.returncode == 0, done.stderr
    report = json.loads(report_path.read_text(encoding="utf-8"))
    f = report["files"][0]
    assert f["spec"] == "tax"
    assert (f["rows_read"], f["rows_accepted"], f["rows_quarantined"]) == (7, 2, 5)
    assert f["rows_read"] == f["rows_accepted"] + f["rows_quarantined"]
    by_code = {(i["code"], i["row"]) for i in f["issues"]}
    assert {
        ("USCC-INVALID", 5),
        ("NOT-A-NUMBER", 7),
        ("USCC-DUPLICATE", 8),
        ("NEGATIVE-VALUE", 9),
        ("SUMMARY-ROW", 10),
    } <= by_code
    invalid = next(i for i in f["issues"] if i["code"] == "USCC-INVALID")
    assert code(2) in invalid["message"] and invalid["sheet"] == "税收" and invalid["column"] == "纳税人识别号"
    for issue in f["issues"]:
        assert set(issue) >= {"code", "severity", "sheet", "row", "column", "value", "message"}
    con = duckdb.connect(str(ws / "mujun.duckdb"), read_only=True)
    rows = dict(con.execute("SELECT uscc, tax_10k_yuan FROM enterprise_years").fetchall())
    con.close()
    # 1,234,500.5 元 = 123.45005 万元; the dash is a missing value, kept as NULL
    assert rows == {code(1): pytest.approx(123.45005, abs=1e-9), code(3): None}


def test_corrections_are_revalidated_and_kept(tmp_path: Path, tax_file: Path) -> None:
    ws = tmp_path / "ws"
    assert mujun("import", str(tax_file), "--workspace", str(ws)).returncode == 0
    listed = json.loads(mujun("quarantine", "list", "--workspace", str(ws), "--json").stdout)
    ids = {r["row"]: r["row_id"] for r in listed}
    fixed = mujun(
        "quarantine", "correct", str(ids[5]), "--workspace", str(ws), "--column", "纳税人识别号", "--value", code(2),
        "--reason", "营业执照核对",
    )  # fmt: skip
    assert fixed.returncode == 0 and "已通过校验并接受" in fixed.stdout
    # "12.5万" in a column reported in 元 is 125,000 元 = 12.5 万元
    assert (
        mujun(
            "quarantine",
            "correct",
            str(ids[7]),
            "--workspace",
            str(ws),
            "--column",
            "tax_10k_yuan",
            "--value",
            "12.5万",
            "--reason",
            "税务局核实",
        ).returncode
        == 0
    )
    still = mujun(
        "quarantine", "correct", str(ids[9]), "--workspace", str(ws), "--column", "tax_10k_yuan", "--value", "abc",
        "--reason", "试填",
    )  # fmt: skip
    assert "NOT-A-NUMBER" in still.stdout
    con = duckdb.connect(str(ws / "mujun.duckdb"), read_only=True)
    taxes = dict(con.execute("SELECT uscc, tax_10k_yuan FROM enterprise_years").fetchall())
    history = con.execute("SELECT field, old, new FROM corrections ORDER BY row_id").fetchall()
    con.close()
    assert taxes[code(2)] == pytest.approx(56.0) and taxes[code(4)] == pytest.approx(12.5)
    assert history[0] == ("uscc", code(2).replace("0", "O", 1), code(2))
    assert len(history) == 3


def test_unreadable_file_exits_2_before_anything_is_written(tmp_path: Path, tax_file: Path) -> None:
    bad = tmp_path / "税务局_2023_坏.xlsx"
    bad.write_bytes(b"%PDF-1.4 not a workbook")
    done = mujun("import", str(tax_file), str(bad), "--workspace", str(tmp_path / "ws"))
    assert done.returncode == 2 and "Traceback" not in done.stderr and bad.name in done.stderr
    listed = mujun("quarantine", "list", "--workspace", str(tmp_path / "ws"), "--json")
    assert json.loads(listed.stdout) == []


def test_unrecognised_layout_exits_2(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["甲", "乙", "丙"])
    wb.active.append([1, 2, 3])
    path = tmp_path / "x.xlsx"
    wb.save(path)
    done = mujun("import", str(path), "--workspace", str(tmp_path / "ws"))
    assert done.returncode == 2 and "FILE-LAYOUT" in done.stderr


def test_amounts_beyond_any_firm_are_quarantined_after_unit_conversion(tmp_path: Path) -> None:
    """1e30 is no firm's tax; 1e305 亿元 is 1e309 万元, an infinity, unless checked after conversion."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["纳税人识别号", "纳税人名称", "税收合计（亿元）"])
    ws.append([code(1), "临沂合成甲木业有限公司", 1e30])  # line 2
    ws.append([code(2), "临沂合成乙食品有限公司", 1e305])  # line 3
    ws.append([code(3), "临沂合成丙机械有限公司", 0.5])  # line 4: 5000 万元
    ws.append([code(4), "临沂合成丁化工有限公司", 0])  # line 5: zero is fine
    path = tmp_path / "税务局_2023.xlsx"
    wb.save(path)
    report_path = tmp_path / "report.json"
    done = mujun("import", str(path), "--workspace", str(tmp_path / "ws"), "--report-json", str(report_path))
    assert done.returncode == 0, done.stderr
    f = json.loads(report_path.read_text(encoding="utf-8"))["files"][0]
    assert (f["rows_read"], f["rows_accepted"], f["rows_quarantined"]) == (4, 2, 2)
    issues = {i["row"]: i for i in f["issues"] if i["code"] == "OUT-OF-RANGE"}
    assert sorted(issues) == [2, 3]
    assert issues[2]["column"] == "税收合计（亿元）" and "1,000,000,000 万元" in issues[2]["message"]
    con = duckdb.connect(str(tmp_path / "ws" / "mujun.duckdb"), read_only=True)
    rows = dict(con.execute("SELECT uscc, tax_10k_yuan FROM enterprise_years").fetchall())
    con.close()
    assert rows == {code(3): pytest.approx(5000.0), code(4): 0.0}
