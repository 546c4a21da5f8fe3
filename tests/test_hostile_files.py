"""Hostile files and silent values (issue 10): refused quickly in bounded memory, or reported, never silent.

Every file is made here, small on disk: an .xlsx whose only cell is XFD1048576 (calamine would allocate
512 GB for it), a zip bomb (about 1 MB inflating to 1 GiB), 1,048,576 junk rows, Excel error cells, a
bare year in a date-formatted cell, UTF-16 CSV without a BOM. Refusals run in a child process whose
time and peak RSS are measured (``resource.getrusage(RUSAGE_CHILDREN)`` inside a wrapper process, so
no other test's children count). The web test uploads the XFD1048576 file and the server still answers.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from tests.web.signin import signed_in

from mujun.catalog import uscc
from mujun.errors import InputError
from mujun.ingest import cells
from mujun.ingest.readers import read_file, read_file_isolated
from mujun.runs.intake import import_files
from mujun.runs.workspace import Workspace
from mujun.web import create_app
from mujun.web.security import COOKIE, token_for

MAX_RSS_MB = 500
HEAD = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml"'
    ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
    '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet'
    '+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="数据" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
}
SHEET = "xl/worksheets/sheet1.xml"


def _xlsx(path: Path, chunks: list[bytes] | object) -> Path:
    """A minimal workbook whose one sheet's XML is ``chunks`` (any iterable of bytes), streamed in."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in PARTS.items():
            z.writestr(name, text)
        with z.open(SHEET, "w", force_zip64=True) as out:
            for chunk in chunks:  # type: ignore[attr-defined]
                out.write(chunk)
    return path


def xfd_file(path: Path) -> Path:
    """The only cell at XFD1048576 (and a declared dimension to match): 512 GB for calamine."""
    body = '<dimension ref="A1:XFD1048576"/><sheetData><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    return _xlsx(path, [(HEAD + body + "</sheetData></worksheet>").encode()])


def bomb_file(path: Path) -> Path:
    """About 1 MB on disk, 1 GiB + 1 MiB inflated: one row, then 1 GiB of blanks between tags."""
    blank = b" " * 2**20

    def chunks():  # type: ignore[no-untyped-def]
        yield (HEAD + '<sheetData><row r="1"><c r="A1"><v>1</v></c></row>').encode()
        for _ in range(1024):
            yield blank
        yield b"</sheetData></worksheet>"

    return _xlsx(path, chunks())


def junk_rows_file(path: Path, rows: int = 1_048_576) -> Path:
    """Every row of a sheet filled with a number, written straight into the XML (seconds, not minutes)."""

    def chunks():  # type: ignore[no-untyped-def]
        yield (HEAD + "<sheetData>").encode()
        step = 65536
        for start in range(1, rows + 1, step):
            stop = min(start + step, rows + 1)
            yield "".join(f'<row r="{i}"><c r="A{i}"><v>{i % 97}</v></c></row>' for i in range(start, stop)).encode()
        yield b"</sheetData></worksheet>"

    return _xlsx(path, chunks())


MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": done.returncode, "err": done.stderr, "out": done.stdout,
                  "s": time.perf_counter() - start,
                  "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def measured(*cmd: str) -> dict:
    """Run ``cmd`` in a child of a fresh wrapper process: exit status, output, seconds and its peak RSS."""
    got = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, check=True, timeout=600)
    return json.loads(got.stdout)


def import_cli(path: Path, workspace: Path) -> dict:
    return measured(sys.executable, "-m", "mujun", "import", str(path), "--workspace", str(workspace))


def read_only(path: Path) -> dict:
    """Only the reader: ``read_file`` in a fresh interpreter, its error code printed, exit 2 on InputError."""
    code = (
        "import sys\nfrom mujun.errors import InputError\nfrom mujun.ingest.readers import read_file\n"
        "try:\n    read_file(sys.argv[1])\n"
        "except InputError as e:\n    print(e.code); print(e.message()); sys.exit(2)\n"
    )
    return measured(sys.executable, "-c", code, str(path))


def report(name: str, got: dict) -> None:
    print(f"\n[{name}] exit {got['rc']}, {got['s']:.2f} s, peak RSS {got['rss_mb']:.0f} MB")


# ---- refusals -------------------------------------------------------------------------------------------------


def test_cell_at_xfd1048576_is_refused_quickly_in_bounded_memory(tmp_path: Path) -> None:
    path = xfd_file(tmp_path / "税务局_2023.xlsx")
    assert path.stat().st_size < 2000
    got = import_cli(path, tmp_path / "ws")
    report("XFD1048576 via mujun import", got)
    assert got["rc"] == 2, got["err"]
    assert "SHEET-TOO-MANY-ROWS" in got["err"] and "XFD1048576" in got["err"] and "1,048,576" in got["err"]
    assert "500,000" in got["err"] and "Ctrl+End" in got["err"] and "税务局_2023.xlsx" in got["err"]
    assert got["rss_mb"] < MAX_RSS_MB
    assert got["s"] < 60  # the interpreter and mujun start in a few seconds; the refusal itself is instant
    only = read_only(path)
    report("XFD1048576 read_file", only)
    assert only["rc"] == 2 and only["out"].startswith("SHEET-TOO-MANY-ROWS") and only["rss_mb"] < MAX_RSS_MB


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """:func:`bomb_file`, made once for the module (deflating 1 GiB takes 2-3 s); the tests only read it."""
    return bomb_file(tmp_path_factory.mktemp("bomb") / "bomb.xlsx")


def test_zip_bomb_is_refused_without_inflating(bomb: Path) -> None:
    path = bomb
    assert path.stat().st_size < 3 * 2**20
    got = read_only(path)
    report("zip bomb 1 GiB", got)
    assert got["rc"] == 2 and got["out"].startswith("FILE-INFLATES-TOO-MUCH"), got
    assert f"1,024.0 MB ({2**30:,} B)" in got["out"] and SHEET in got["out"]  # the limit
    assert re.search(r"1,024\.0 MB \(1,073,74\d,\d{3} B\)", got["out"])  # the measured size, just over
    assert got["rss_mb"] < MAX_RSS_MB and got["s"] < 30


def test_compression_ratio_is_limited(bomb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mujun.settings.MAX_UNCOMPRESSED_BYTES", 2**31)  # then the ratio alone refuses it
    with pytest.raises(InputError) as err:
        read_file(bomb)
    assert err.value.code == "FILE-ZIP-RATIO" and err.value.fields["member"] == SHEET
    assert int(err.value.fields["ratio"].replace(",", "")) > 100


def test_a_million_junk_rows_are_refused_within_seconds(tmp_path: Path) -> None:
    path = junk_rows_file(tmp_path / "junk.xlsx")
    got = read_only(path)
    report("1,048,576 junk rows", got)
    assert got["rc"] == 2 and got["out"].startswith("SHEET-TOO-MANY-ROWS"), got
    rows = int(re.search(r"共 ([\d,]+) 行", got["out"])[1].replace(",", ""))  # type: ignore[index]
    assert 500_000 < rows < 1_048_576  # stopped in the first 1 MB block past the limit, not at the end
    assert got["s"] < 20 and got["rss_mb"] < MAX_RSS_MB


def test_formatting_down_to_the_last_row_is_not_data(tmp_path: Path) -> None:
    """Excel's used range often reaches row 1,048,576 through formatting only: that file reads fine."""
    body = (
        '<dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1"><v>7</v></c></row>'
        '<row r="1048576"><c r="A1048576" s="0"/><c r="XFD1048576" s="0"/></row></sheetData></worksheet>'
    )
    sheets = read_file(_xlsx(tmp_path / "formatted.xlsx", [(HEAD + body).encode()]))
    assert sheets[0].rows == [[7.0]]


def test_csv_and_columns_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mujun.settings.MAX_ROWS", 100)
    monkeypatch.setattr("mujun.settings.MAX_COLUMNS", 10)
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b\n" + "1,2\n" * 200, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_file(rows)
    assert err.value.code == "SHEET-TOO-MANY-ROWS" and err.value.fields["rows"] == "202"
    wide = tmp_path / "wide.csv"
    wide.write_text("a,b\n" + ",".join("x" * 11) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_file(wide)
    assert err.value.code == "SHEET-TOO-MANY-COLUMNS" and err.value.fields["columns"] == "11"
    monkeypatch.setattr("mujun.settings.MAX_FILE_BYTES", 100)
    with pytest.raises(InputError) as err:
        read_file(rows)
    assert err.value.code == "FILE-TOO-BIG"


def test_a_reader_dying_in_the_worker_becomes_a_message(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    for i in range(20_000):
        wb.active.append([i, f"企业{i}", i * 1.5])
    path = tmp_path / "ok.xlsx"
    wb.save(path)
    read_file_isolated(path)  # within the limits: reads
    with pytest.raises(InputError) as err:
        read_file_isolated(path, memory_bytes=24 * 2**20)  # too little for the child to read
    # the child dies (aborted), runs out of time, or its reader library fails to load under the limit and says
    # so (unreadable): each is a message naming the file, never a crash of the caller
    assert err.value.code in ("FILE-READ-ABORTED", "FILE-READ-TIMEOUT", "FILE-UNREADABLE"), err.value.message()
    assert "ok.xlsx" in err.value.message()


# ---- silent values --------------------------------------------------------------------------------------------


def _code(i: int) -> str:
    body = f"91371300MA{i:07d}"
    return body + uscc.check_char(body)


def test_error_cells_are_quarantined_with_the_cell_named(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "税收"
    ws.append(["纳税人识别号", "纳税人名称", "税收合计（元）"])
    ws.append([_code(1), "临沂合成甲有限公司", 1000])
    ws.append([_code(2), "临沂合成乙有限公司", "#DIV/0!"])  # openpyxl writes these as error cells (t="e")
    ws.append([_code(3), "#N/A", 2000])
    ws.append([_code(4), "临沂合成丁有限公司", "#REF!"])
    path = tmp_path / "税务局_2023.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        assert z.read(SHEET).count(b't="e"') == 3
    assert read_file(path)[0].rows[2][2] == "#DIV/0!"  # not a blank
    w = Workspace(tmp_path / "ws")
    try:
        got = import_files(w, [path])
    finally:
        w.close()
    f = got["files"][0]
    assert (f["rows_read"], f["rows_accepted"], f["rows_quarantined"]) == (4, 1, 3)
    errors = {(i["row"], i["column"], i["value"]) for i in f["issues"] if i["code"] == "CELL-ERROR"}
    assert errors == {(3, "税收合计（元）", "#DIV/0!"), (4, "纳税人名称", "#N/A"), (5, "税收合计（元）", "#REF!")}
    message = next(i["message"] for i in f["issues"] if i["code"] == "CELL-ERROR" and i["row"] == 3)
    assert "第 3 行" in message and "税收合计（元）" in message and "#DIV/0!" in message
    csv_path = tmp_path / "税务局_2022.csv"  # a CSV export writes the error as text: the same problem
    csv_path.write_text(
        f"纳税人识别号,纳税人名称,税收合计（元）\n{_code(5)},临沂合成戊有限公司,#VALUE!\n", encoding="utf-8"
    )
    w = Workspace(tmp_path / "ws")
    try:
        got = import_files(w, [csv_path])
    finally:
        w.close()
    assert [i["code"] for i in got["files"][0]["issues"]] == ["CELL-ERROR"]


def test_bare_year_in_a_date_cell_is_flagged(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["投产日期", "备注"])
    for value in (2022, 44927, dt.date(2019, 6, 1)):
        ws.append([value, "x"])
        ws.cell(ws.max_row, 1).number_format = "yyyy-mm-dd"
    ws.append([2022, "plain number"])
    ws.append(["2022年", "text"])
    path = tmp_path / "dates.xlsx"
    wb.save(path)
    column = [r[0] for r in read_file(path)[0].rows[1:]]
    assert column[0] == dt.date(1905, 7, 14)  # what Excel (and the reader) makes of 2022 in a date cell
    parsed = [cells.parse_date(v) for v in column]
    assert parsed == [
        (None, "DATE-IS-YEAR"),
        (dt.date(2023, 1, 1), None),  # a real Excel serial keeps working
        (dt.date(2019, 6, 1), None),
        (None, "DATE-IS-YEAR"),
        (None, "DATE-IS-YEAR"),
    ]
    assert cells.parse_date(44927) == (dt.date(2023, 1, 1), None)
    assert cells.parse_date(1905) == (None, "DATE-IS-YEAR") and cells.parse_date(2101) == (None, "NOT-A-DATE")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_read(tmp_path: Path, encoding: str) -> None:
    text = "统一社会信用代码\t企业名称\t税收合计\r\n91371300MA0000001N\t临沂合成甲有限公司\t12.5\r\n"
    path = tmp_path / "tax.csv"
    path.write_bytes(text.encode(encoding))
    assert not path.read_bytes().startswith((b"\xff\xfe", b"\xfe\xff"))
    sheet = read_file(path)[0]
    assert sheet.encoding == encoding
    assert sheet.rows == [
        ["统一社会信用代码", "企业名称", "税收合计"],
        ["91371300MA0000001N", "临沂合成甲有限公司", "12.5"],
    ]
    broken = tmp_path / "broken.csv"
    lone = "\ud800x".encode(encoding, "surrogatepass")  # a high surrogate, then no low one: not UTF-16
    broken.write_bytes(text.encode(encoding) + lone)
    with pytest.raises(InputError) as err:
        read_file(broken)
    assert "UTF-16" in err.value.message()


# ---- the web server survives ---------------------------------------------------------------------------------


def test_upload_of_xfd1048576_is_refused_and_the_server_answers(tmp_path: Path) -> None:
    hostile = xfd_file(tmp_path / "税务局_2023.xlsx").read_bytes()
    workspace = tmp_path / "ws"
    with signed_in(create_app(workspace)) as client:
        page = client.get("/health")
        assert page.status_code == 200
        token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
        assert token and token.group(1) == token_for(client.app.state.mujun.secret, client.cookies[COOKIE])
        r = client.post(
            "/upload",
            data={"csrf_token": token.group(1)},
            files={"files": ("税务局_2023.xlsx", hostile, "application/vnd.ms-excel")},
            follow_redirects=False,
        )
        assert r.status_code == 400
        assert "XFD1048576" in r.text and "500,000" in r.text
        assert client.get("/health").status_code == 200  # the server still answers
        assert client.get("/health.json").status_code == 200
    uploads = workspace / "uploads"
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))  # the hostile file is gone
