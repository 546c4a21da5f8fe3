"""Issue 10, formula injection: a firm name (or any raw cell) such as ``=HYPERLINK(...)``, ``=1+1``, ``+1``,
``-1``, ``@x`` or one starting with a tab or CR must stay text in every spreadsheet mujun writes.

Each file is produced the way a person gets it (CLI, web download, import report) and READ BACK: in xlsx no
cell is a formula and the text is the original; in CSV a text cell starting with = + - @ tab or CR starts
with a single quote (OWASP CSV injection), while numbers — negative ones too — stay numbers."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pyarrow as pa
import pytest
from tests.web.signin import signed_in

from mujun.catalog import uscc

HYPERLINK = '=HYPERLINK("http://x","y")'
# names that survive input cleaning (leading/trailing whitespace is trimmed at intake)
NAMES = [HYPERLINK, "=1+1", "+1", "-1", "@x", "=cmd|' /C calc'!A0"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _code(i: int) -> str:
    body = f"91371300MA{i:07d}"
    return body + uscc.check_char(body)


def _cells(content: bytes | Path) -> Iterable[Any]:
    """Every cell of every sheet (not read-only: merged title cells are read too)."""
    wb = openpyxl.load_workbook(io.BytesIO(content) if isinstance(content, bytes) else content)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from row


def _assert_text(content: bytes | Path, texts: Iterable[str]) -> None:
    """No formula anywhere; each of ``texts`` is present as a string cell with exactly that value."""
    cells = list(_cells(content))
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert not formulas, f"formula cells: {formulas}"
    # xlsxwriter stores CR as the OOXML escape _x000D_, which Excel decodes and openpyxl does not
    found = {c.value.replace("_x000D_", "\r") for c in cells if c.data_type == "s"}
    missing = [t for t in texts if t not in found]
    assert not missing, f"not written as text: {missing}"


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _mujun(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mujun", *args], capture_output=True, text=True, check=False, timeout=300
    )


# -- CLI: mujun evaluate --out r.xlsx / r.csv ------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("inject-cli")
    header = ["uscc", "name", "year", "above_scale", "land_mu", "tax_10k_yuan", "revenue_10k_yuan", "energy_tce"]
    header += ["emission_t", "rd_10k_yuan", "value_added_10k_yuan", "employees", "industry_code"]
    names = [*NAMES, "普通企业"]
    rows = [
        [_code(i + 1), n, "2023", "是", str(10 + i), "50", "900", "30", "2", "9", "300", "40", "1311"]
        for i, n in enumerate(names)
    ]
    path = tmp / "firms.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    out = {"input": path}
    for ext in ("xlsx", "csv"):
        out[ext] = tmp / f"r.{ext}"
        done = _mujun("evaluate", "--input", str(path), "--scheme", "linyi-2022", "--out", str(out[ext]))
        assert done.returncode == 0, done.stderr
    return out


def test_cli_xlsx_keeps_names_as_text(cli_outputs: dict[str, Path]) -> None:
    _assert_text(cli_outputs["xlsx"], NAMES)
    wb = openpyxl.load_workbook(cli_outputs["xlsx"])
    scores = [c.value for c in wb.worksheets[0]["I"][1:]]  # 综合得分 stays a number
    assert scores and all(isinstance(v, float) for v in scores)


def test_cli_csv_quotes_leading_triggers(cli_outputs: dict[str, Path]) -> None:
    rows = _csv_rows(cli_outputs["csv"].read_bytes())
    head, body = rows[0], rows[1:]
    by_name = {r[head.index("uscc")]: r for r in body}
    for i, name in enumerate(NAMES):
        assert by_name[_code(i + 1)][head.index("name")] == "'" + name
    plain = by_name[_code(len(NAMES) + 1)]
    assert plain[head.index("name")] == "普通企业"
    assert all(not r[head.index("total_score")].startswith("'") for r in body)
    assert float(plain[head.index("total_score")]) > 0
    assert not any(cell.startswith(TRIGGERS) for r in body for cell in r)


# -- the tables writer behind every web export (xlsx and CSV) ---------------------------------------------


def test_table_writers_neutralise_text_not_numbers() -> None:
    from mujun.reports.tables import csv_bytes, xlsx_bytes

    texts = [*NAMES, "\tTAB", "\rCR", "普通"]
    table = pa.table({"name": texts, "score": [-1.5] * len(texts), "n": [-3] * len(texts)})
    _assert_text(xlsx_bytes(table, ["=名称", "得分", "个数"], note="@note"), [*texts, "=名称", "@note"])
    cells = list(_cells(xlsx_bytes(table, ["名称", "得分", "个数"])))
    assert {c.value for c in cells if c.data_type == "n"} == {-1.5, -3}
    rows = _csv_rows(csv_bytes(table, ["=名称", "得分", "个数"]))
    assert rows[0] == ["'=名称", "得分", "个数"]
    assert [r[0] for r in rows[1:]] == ["'" + t for t in texts[:-1]] + ["普通"]
    assert all(r[1:] == ["-1.5", "-3"] for r in rows[1:])  # a negative number is not text


def test_result_csv_writer_covers_tab_and_cr() -> None:
    from mujun.reports.safe_cells import csv_table

    table = pa.table({"name": ["\tTAB", "\rCR", "-1", None, "ok"], "v": [-1.0, 2.0, None, 3.0, -4.0]})
    got = csv_table(table)
    assert got["name"].to_pylist() == ["'\tTAB", "'\rCR", "'-1", None, "ok"]
    assert got["v"].to_pylist() == [-1.0, 2.0, None, 3.0, -4.0]
    assert got.schema == table.schema


# -- web: /results/export.xlsx and .csv, /exports/publicity.xlsx (and its PDF) --------------------------------


@pytest.fixture(scope="module")
def evil_client(tmp_path_factory: pytest.TempPathFactory) -> Iterable[Any]:
    """A small SYNTHETIC demo workspace whose best-ranked graded firms of every run are renamed to NAMES."""

    from mujun.demo import run_demo
    from mujun.web import create_app

    root = tmp_path_factory.mktemp("inject-web")
    out = run_demo(root, firms=80, years=(2024,), seed=7, echo=lambda _m: None, strategy=False)
    workspace = Path(out["workspace"])
    con = duckdb.connect(str(workspace / "mujun.duckdb"))
    try:
        tables = [t for (t,) in con.execute("SHOW TABLES").fetchall() if t.startswith("results_")]
        assert tables
        for t in tables:
            firms = con.execute(
                f"SELECT uscc FROM \"{t}\" WHERE \"class\" IN ('A', 'B') ORDER BY rank, uscc LIMIT ?", [len(NAMES)]
            ).fetchall()
            for (code,), name in zip(firms, NAMES, strict=True):
                con.execute(f'UPDATE "{t}" SET name = ? WHERE uscc = ?', [name, code])
    finally:
        con.close()
    with signed_in(create_app(workspace)) as c:
        yield c


def test_web_results_exports(evil_client: Any) -> None:
    xlsx = evil_client.get("/results/export.xlsx")
    assert xlsx.status_code == 200
    _assert_text(xlsx.content, NAMES)
    got = evil_client.get("/results/export.csv")
    assert got.status_code == 200
    rows = _csv_rows(got.content)
    col = next(j for j, h in enumerate(rows[0]) if h in ("企业名称", "Name", "Firm"))
    names = [r[col] for r in rows[1:]]
    for name in NAMES:
        assert "'" + name in names and name not in names
    assert not any(cell.startswith(TRIGGERS) for r in rows[1:] for cell in r if not _number(cell))


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_web_publicity_xlsx_and_pdf(evil_client: Any) -> None:
    got = evil_client.get("/exports/publicity.xlsx", params={"date": "2025-03-08"})
    assert got.status_code == 200
    _assert_text(got.content, NAMES)
    from pypdf import PdfReader

    pdf = evil_client.get("/exports/publicity.pdf", params={"date": "2025-03-08", "class": "A"})
    assert pdf.status_code == 200
    reader = PdfReader(io.BytesIO(pdf.content))
    text = "".join(p.extract_text() for p in reader.pages)
    assert "HYPERLINK" in text  # printed as the text it is
    assert not any(p.get("/Annots") for p in reader.pages)  # no live link


def test_publicity_xlsx_of_an_evaluation(cli_outputs: dict[str, Path], tmp_path: Path) -> None:
    """``write_publicity_xlsx`` (what ``mujun demo`` writes)."""
    from mujun.api import evaluate
    from mujun.reports.publicity import write_publicity_xlsx

    ev = evaluate(str(cli_outputs["input"]), "linyi-2022")
    _assert_text(write_publicity_xlsx(ev, tmp_path / "pub.xlsx"), NAMES)


def test_publicity_list_texts_are_text() -> None:
    """Every text of the web list (titles, notes, county, class) is written as a string."""
    from mujun.reports.publicity import PublicityList, Section, publicity_list_xlsx

    rows = [
        {"seq": i, "name": n, "uscc": _code(i), "county": "@县", "score": -1.0, "klass": "=A"}
        for i, n in enumerate(NAMES, start=1)
    ]
    doc = PublicityList(
        title="=title",
        headers=["序号", "企业名称", "统一社会信用代码", "县区", "综合得分", "评价类别"],
        sections=[Section("g", "+组", "=组标题", rows)],
        run_note="-note",
        synthetic_note="@synthetic",
        intro="",
        objection="=objection",
        issuer="+issuer",
        date="-date",
        n=len(rows),
    )
    _assert_text(
        publicity_list_xlsx(doc),
        [*NAMES, "@县", "=A", "=组标题", "-note", "@synthetic", "=objection", "+issuer", "-date"],
    )


# -- the data-health report xlsx of an import ---------------------------------------------------------------


def test_health_report_keeps_raw_cells_as_text(tmp_path: Path) -> None:
    from mujun.reports.health import write_health_xlsx
    from mujun.runs.intake import import_files
    from mujun.runs.workspace import Workspace

    bad = ["=1/0", HYPERLINK, "@x", "=1+1"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["统一社会信用代码", "单位详细名称", "行业代码", "是否规上", "营业收入（万元）"])
    for i, value in enumerate(bad, start=1):
        ws.append([_code(i), f"合成企业{i}", "2021", "是", 0])
        cell = ws.cell(row=i + 1, column=5)
        cell.value, cell.data_type = value, "s"  # the department typed it as text
    src = tmp_path / "stats_2023.xlsx"
    wb.save(src)
    with Workspace(tmp_path / "ws") as w:
        report = import_files(w, [src], year=2023)
    values = {i["value"] for f in report["files"] for i in f["issues"]}
    assert set(bad) <= values
    report["files"][0]["file"] = "=file.xlsx"
    out = write_health_xlsx(report, tmp_path / "health.xlsx")
    _assert_text(out, [*bad, "=file.xlsx"])
