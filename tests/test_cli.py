"""The CLI as acceptance checks call it: real subprocesses, real files read back."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from mujun.catalog import uscc

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "synthetic-firms.csv"


def mujun(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mujun", *args], capture_output=True, text=True, cwd=cwd, check=False, timeout=300
    )


def test_schemes_list_show_validate(tmp_path: Path) -> None:
    listed = mujun("schemes", "list")
    assert listed.returncode == 0, listed.stderr
    for sid in (
        "huangyan-2021",
        "huangyan-2022",
        "linhai-2014",
        "huaian-2024",
        "jingde-2022",
        "changle-2023",
        "shandong-2019",
        "linyi-2022",
    ):
        assert sid in listed.stdout
    shown = mujun("schemes", "show", "huaian-2024")
    assert shown.returncode == 0 and "假设" in shown.stdout and "亩均税收" in shown.stdout
    as_json = json.loads(mujun("schemes", "show", "linyi-2022", "--json").stdout)
    assert as_json["id"] == "linyi-2022" and as_json["assumptions"]
    src = Path(__file__).resolve().parents[1] / "src" / "mujun" / "schemes" / "builtin" / "changle-2023.yaml"
    ok = mujun("schemes", "validate", str(src))
    assert ok.returncode == 0 and "changle-2023" in ok.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(src.read_text(encoding="utf-8").replace("weight:", "weigth:", 1), encoding="utf-8")
    bad = mujun("schemes", "validate", str(broken))
    assert bad.returncode == 2
    assert "weigth" in bad.stderr and "weight" in bad.stderr and str(broken) in bad.stderr
    assert "Traceback" not in bad.stderr


def test_same_inputs_give_byte_identical_files_and_stored_runs(tmp_path: Path) -> None:
    outs = {}
    for attempt in ("a", "b"):
        for ext in ("csv", "parquet", "xlsx"):
            out = tmp_path / f"{attempt}.{ext}"
            done = mujun(
                "evaluate",
                "--scheme",
                "linyi-2022",
                "--input",
                str(EXAMPLE),
                "--out",
                str(out),
                "--year",
                "2023",
                "--workspace",
                str(tmp_path / "ws"),
            )
            assert done.returncode == 0, done.stderr
            outs[(attempt, ext)] = out.read_bytes()
    for ext in ("csv", "parquet", "xlsx"):
        assert outs[("a", ext)] == outs[("b", ext)], ext
    assert outs[("a", "csv")].startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM for Excel
    # read every format back
    csv_rows = pacsv.read_csv(tmp_path / "a.csv")
    parquet = pq.read_table(tmp_path / "a.parquet")
    assert csv_rows.num_rows == parquet.num_rows == 400
    head = [
        "uscc",
        "name",
        "year",
        "county",
        "group",
        "status",
        "class",
        "rank",
        "total_score",
        "bonus_points",
        "penalty_points",
        "reason_codes",
    ]
    assert parquet.column_names[:12] == head
    assert any(c.startswith("value_") for c in parquet.column_names)
    assert set(parquet["status"].to_pylist()) <= {"graded", "not_graded", "exempt"}
    assert set(parquet["class"].to_pylist()) <= {"A", "B", "C", "D", "T", None}
    wb = openpyxl.load_workbook(tmp_path / "a.xlsx", read_only=True)
    assert wb.sheetnames[:2] == ["规上企业", "规下企业（占地3亩以上）"]
    first = next(wb["规上企业"].iter_rows(values_only=True))
    assert first[:3] == ("统一社会信用代码", "企业名称", "数据年度") and "评价类别" in first
    graded_rows = sum(1 for name in wb.sheetnames[:3] for _ in wb[name].iter_rows()) - 3
    assert graded_rows == 400
    # six runs stored, immutable, each with its hashes and versions
    listed = mujun("runs", "list", "--workspace", str(tmp_path / "ws"), "--json")
    runs = json.loads(listed.stdout)
    assert len(runs) == 6 and len({r["run_id"] for r in runs}) == 6
    assert len({r["input"]["sha256"] for r in runs}) == 1 and len({r["scheme"]["sha256"] for r in runs}) == 1
    for key in ("started_at", "finished_at", "package_version", "versions", "engine", "year"):
        assert key in runs[0]
    assert runs[0]["versions"]["duckdb"].startswith("1.")
    explained = mujun("explain", "--workspace", str(tmp_path / "ws"), "--uscc", parquet["uscc"][0].as_py(), "--json")
    assert explained.returncode == 0, explained.stderr
    assert json.loads(explained.stdout)["rank"] == 1


def _valid(i: int) -> str:
    body = f"91371300MA{i:07d}"
    return body + uscc.check_char(body)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda rows: rows[2].__setitem__(8, "12,3a"), ["NOT-A-NUMBER", "第 3 行", "tax_10k_yuan", "12,3a"]),
        (lambda rows: rows[1].__setitem__(0, rows[1][0][:-1] + "0"), ["USCC-INVALID", "第 2 行"]),
        (lambda rows: rows[2].__setitem__(0, rows[1][0]), ["USCC-DUPLICATE", "第 3 行", "第 2 行"]),
        (lambda rows: [r.pop(7) for r in rows], ["MISSING-COLUMN", "land_mu"]),
    ],
)
def test_bad_input_is_named_with_exit_2_and_no_traceback(tmp_path: Path, edit, expected) -> None:  # type: ignore[no-untyped-def]
    header = [
        "uscc",
        "name",
        "year",
        "county",
        "industry_code",
        "above_scale",
        "flag_utility",
        "land_mu",
        "tax_10k_yuan",
        "revenue_10k_yuan",
        "energy_tce",
        "emission_t",
        "rd_10k_yuan",
        "value_added_10k_yuan",
        "employees",
    ]
    rows = [header] + [
        [
            _valid(i + 1),
            f"合成企业{i}",
            "2023",
            "兰山区",
            "1311",
            "是",
            "否",
            "10",
            "50",
            "900",
            "30",
            "2",
            "9",
            "300",
            "40",
        ]
        for i in range(3)
    ]
    if rows[1][0].endswith("0"):
        rows[1][0] = _valid(9)
    edit(rows)
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    done = mujun("evaluate", "--input", str(path), "--out", str(tmp_path / "o.csv"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    for text in expected:
        assert text in done.stderr, (text, done.stderr)
    assert not (tmp_path / "o.csv").exists()


def test_unquoted_comma_is_a_row_width_problem(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(f"uscc,name,year\n{_valid(1)},甲,2023\n{_valid(2)},乙,12,3\n", encoding="utf-8")
    done = mujun("evaluate", "--input", str(path), "--out", str(tmp_path / "o.csv"))
    assert done.returncode == 2 and "ROW-WIDTH" in done.stderr and "第 3 行" in done.stderr


def test_unknown_scheme_and_missing_file_exit_2(tmp_path: Path) -> None:
    unknown = mujun("evaluate", "--scheme", "linyi-2021", "--input", str(EXAMPLE), "--out", str(tmp_path / "o.csv"))
    assert unknown.returncode == 2 and "linyi-2022" in unknown.stderr and "Traceback" not in unknown.stderr
    missing = mujun("evaluate", "--input", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o.csv"))
    assert missing.returncode == 2 and "nope.csv" in missing.stderr
    no_year = mujun("evaluate", "--input", str(EXAMPLE), "--out", str(tmp_path / "o.csv"), "--year", "2019")
    assert no_year.returncode == 2 and "2022, 2023" in no_year.stderr


def _firms_csv(path: Path, cells: dict[tuple[int, str], str]) -> Path:
    """Three valid firms; ``cells`` overrides (firm index, column) → text."""
    header = ["uscc", "name", "year", "above_scale", "land_mu", "tax_10k_yuan", "revenue_10k_yuan", "energy_tce"]
    header += ["emission_t", "rd_10k_yuan", "value_added_10k_yuan", "employees", "industry_code"]
    rows = [
        [_valid(i + 1), f"合成企业{i}", "2023", "是", "10", "50", "900", "30", "2", "9", "300", "40", "1311"]
        for i in range(3)
    ]
    for (i, column), value in cells.items():
        rows[i][header.index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def test_values_outside_their_domain_exit_2_naming_every_cell(tmp_path: Path) -> None:
    path = _firms_csv(tmp_path / "f.csv", {(0, "land_mu"): "-58.72", (1, "tax_10k_yuan"): "1e30", (2, "land_mu"): "0"})
    out = tmp_path / "r.csv"
    done = mujun("evaluate", "--input", str(path), "--scheme", "linyi-2022", "--out", str(out))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and not out.exists()
    err = done.stderr
    assert str(path) in err and "2 处问题" in err
    negative = next(line for line in err.splitlines() if "[NEGATIVE-VALUE]" in line)
    assert "第 2 行" in negative and "land_mu" in negative and "-58.72" in negative
    huge = next(line for line in err.splitlines() if "[OUT-OF-RANGE]" in line)
    assert "第 3 行" in huge and "tax_10k_yuan" in huge and "1e30" in huge and "1,000,000,000 万元" in huge
    assert "第 4 行" not in err  # zero land is not an error


def test_zero_land_evaluates(tmp_path: Path) -> None:
    path = _firms_csv(tmp_path / "f.csv", {(2, "land_mu"): "0"})
    out = tmp_path / "r.csv"
    done = mujun("evaluate", "--input", str(path), "--scheme", "linyi-2022", "--out", str(out))
    assert done.returncode == 0, done.stderr
    with out.open(encoding="utf-8-sig") as fh:
        assert _valid(3) in fh.read()
