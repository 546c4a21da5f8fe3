"""``mujun bench import``: a 100,000-row department workbook read, mapped and validated.

A SYNTHETIC tax-bureau workbook (title rows above the header, amounts in 元, text numbers, blanks and
bad USCCs mixed in) is written first (not timed). Then, best of ``repeat``: the raw read alone
(python-calamine through ``ingest.readers.read_file``), and read + header detection + mapping + every
row check + duplicates (``runs.intake.read_one`` and the duplicate pass), which is what `mujun import`
does before storing. Target on 2 cores: ≤ 3 s.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import xlsxwriter

from mujun.catalog import uscc
from mujun.catalog.text import translate
from mujun.ingest.readers import read_file
from mujun.ingest.spec import load_spec
from mujun.runs.intake import _flag_duplicates, read_one
from mujun.synth.samples import TAX_FIRM, TAX_HEADER, TAX_SHEET, TAX_TITLE, TAX_UNIT_ROW

TARGET_S = 3.0


def write_workbook(path: Path, rows: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet(TAX_SHEET)
    ws.write_row(0, 0, [TAX_TITLE])
    ws.write_row(1, 0, [TAX_UNIT_ROW])
    ws.write_row(2, 0, list(TAX_HEADER))
    taxes = np.round(np.exp(rng.normal(13, 1.5, rows)), 2)
    for i in range(rows):
        body = f"9137130{i % 10}MA{i:07d}"[:17]
        code = body + uscc.check_char(body)
        if i % 97 == 0:
            code = code[:-1] + ("0" if code[-1] != "0" else "1")  # a wrong check character
        tax: Any = taxes[i]
        if i % 53 == 0:
            tax = f"{taxes[i]:,.2f}"  # a number stored as text with separators
        elif i % 71 == 0:
            tax = "—"
        ws.write_row(i + 3, 0, [i + 1, code, TAX_FIRM.format(i=i), 2023, tax])
    wb.close()


def run_import_bench(rows: int = 100_000, repeat: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mujun-bench-import-") as tmp:
        path = Path(tmp) / "tax_2023.xlsx"
        start = time.perf_counter()
        write_workbook(path, rows)
        write_s = time.perf_counter() - start
        raw, full = [], []
        result = None
        for _ in range(repeat):
            start = time.perf_counter()
            read_file(path)
            raw.append(time.perf_counter() - start)
            start = time.perf_counter()
            result = read_one(path, [load_spec("tax")], None)
            _flag_duplicates([result])
            full.append(time.perf_counter() - start)
        assert result is not None
        report = result.report()
    codes: dict[str, int] = {}
    for issue in report["issues"]:
        codes[issue["code"]] = codes.get(issue["code"], 0) + 1
    return {
        "rows": rows,
        "write_s": write_s,
        "raw_read_s": min(raw),
        "import_s": min(full),
        "runs": full,
        "rows_read": report["rows_read"],
        "rows_accepted": report["rows_accepted"],
        "rows_quarantined": report["rows_quarantined"],
        "codes": codes,
    }


def format_import_report(r: dict[str, Any]) -> str:
    t = translate  # the process language (MUJUN_LANG)
    ok = t("bench.ok" if r["import_s"] <= TARGET_S else "bench.not_ok")
    runs = ", ".join(f"{x:.3f}" for x in r["runs"])
    codes = t("bench.comma").join(f"{k} {v}" for k, v in sorted(r["codes"].items()))
    lines = [
        t("bench.im.title", rows=f"{r['rows']:,}"),
        t("bench.im.write", s=f"{r['write_s']:.2f}"),
        t("bench.im.raw", s=f"{r['raw_read_s']:.3f}"),
        t("bench.im.full", s=f"{r['import_s']:.3f}", runs=runs, target=TARGET_S, ok=ok),
        t("bench.im.rows", read=r["rows_read"], accepted=r["rows_accepted"], quarantined=r["rows_quarantined"]),
        t("bench.im.codes", codes=codes),
    ]
    return "\n".join(lines)
