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
from mujun.ingest.readers import read_file
from mujun.ingest.spec import load_spec
from mujun.runs.intake import _flag_duplicates, read_one

TARGET_S = 3.0


def write_workbook(path: Path, rows: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("税收（合成）")
    ws.write_row(0, 0, ["2023年度工业企业税收情况表（合成数据 SYNTHETIC）"])
    ws.write_row(1, 0, ["单位：元"])
    ws.write_row(2, 0, ["序号", "纳税人识别号（统一社会信用代码）", "纳税人名称", "所属年度", "税收合计（元）"])
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
        ws.write_row(i + 3, 0, [i + 1, code, f"临沂合成企业{i:06d}有限公司（合成）", 2023, tax])
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
    ok = "达标" if r["import_s"] <= TARGET_S else "未达标"
    runs = ", ".join(f"{t:.3f}" for t in r["runs"])
    lines = [
        f"导入基准测试（合成数据 SYNTHETIC，{r['rows']:,} 行税务局 xlsx）",
        f"  生成文件 [write, not timed]      {r['write_s']:.2f} s",
        f"  原始读取 [raw read]              {r['raw_read_s']:.3f} s",
        f"  读取+映射+校验 [read+map+validate] {r['import_s']:.3f} s （各次：{runs}）  目标 ≤ {TARGET_S} s：{ok}",
        f"  行数：读取 {r['rows_read']}，接受 {r['rows_accepted']}，隔离 {r['rows_quarantined']}",
        "  问题：" + "，".join(f"{k} {v}" for k, v in sorted(r["codes"].items())),
    ]
    return "\n".join(lines)
