"""A calibrated, clearly SYNTHETIC (合成) Linyi panel: ground truth and each department's messy files.

``synth(out)`` writes, for every year::

    out/<year>/tax_<year>.xlsx  stats_<year>.xlsx  land_<year>.csv  power_<year>.csv
              ecology_<year>.xlsx  science_<year>.xlsx
    out/truth/enterprise_years.parquet   every firm-year, canonical ids and units, sorted by (year, uscc)
    out/truth/defects.csv                one row per injected defect and the code intake will report
    out/projects.xlsx  out/listings.xlsx  tech-upgrade projects and the listing pipeline
    out/README.txt

Nothing here is a real firm or a real figure: names read ``临沂合成木业有限公司0001（合成）``, every
title says 合成数据, and the calibration (linyi.md §12, see calibration.py) only sets totals, shares
and shapes. Same seed → byte-identical files. Modules: calibration (constants), linyi (entry, exit,
size, land), firmyears (rows and measures), extras (projects, listings), departments (file shapes),
defects, writers.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from mujun.catalog import catalog
from mujun.synth import calibration, departments, extras, firmyears, linyi, writers
from mujun.synth.defects import Injector, as_columns

CSV_ABOVE = 50_000  # fmt="auto": department shapes up to this many firms, CSV beyond
ARROW = {"text": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "date": pa.date32()}
README = """合成数据（SYNTHETIC DATA）— 非真实企业、非真实数据

本文件夹由 mujun.synth 生成，仅用于测试和演示：企业名称、统一社会信用代码、金额、用地等全部为虚构，
只有 15 个评价单位的名称是真实地名。总量和分布按 linyi.md §12 的公开资料与假设校准。
truth/enterprise_years.parquet 为真值；truth/defects.csv 列出有意写入各部门文件的每一处问题。
参数：firms={firms}, years={years}, seed={seed}, defect_rate={rate}
"""


@dataclass(frozen=True)
class YearSummary:
    year: int
    above: int  # 规上 firms
    below: int  # 规下 firms
    output_yi: float  # 规上工业总产值, 亿元
    share_under_3: float  # share of 规上 firms with land whose 亩均税收 < 3 万元/亩


@dataclass
class SynthSummary:
    out: Path
    firms: int
    seed: int
    years: dict[int, YearSummary]
    files: list[Path] = field(default_factory=list)
    defects: int = 0
    defects_by_code: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _arrow(name: str, values: np.ndarray) -> pa.Array:
    f = catalog.field(name)
    dtype = f.dtype if f else "text"
    if dtype == "float":
        v = values.astype(float)
        nan = np.isnan(v)
        return pa.array(np.where(nan, 0.0, v), pa.float64(), mask=nan)
    if dtype == "bool":
        return pa.array(values == 1, pa.bool_(), mask=values < 0)
    if dtype == "date":
        return pa.array(values.astype(np.int32), pa.int32()).cast(pa.date32())
    if dtype == "int":
        return pa.array(values.astype(np.int64), pa.int64())
    return pa.array(values, pa.string())


def truth_table(truth: dict[str, np.ndarray]) -> pa.Table:
    """Canonical columns in catalogue order, NULL (never NaN) where a value is missing."""
    t = dict(truth)
    land = t["land_own_mu"] + np.nan_to_num(t["land_rented_in_mu"]) - np.nan_to_num(t["land_rented_out_mu"])
    t["land_mu"] = np.round(land, 6)
    pollutants = np.vstack([t[k] for k in firmyears.POLLUTANTS])
    present = ~np.isnan(pollutants).all(axis=0)
    t["emission_t"] = np.where(present, np.round(np.nansum(pollutants, axis=0), 6), np.nan)
    return pa.table({name: _arrow(name, t[name]) for name in catalog.fields() if name in t})


def _summary(table: pa.Table, years: tuple[int, ...]) -> dict[int, YearSummary]:
    cols = {k: table.column(k).to_numpy(zero_copy_only=False) for k in ("year", "above_scale", "output_10k_yuan")}
    tax = table.column("tax_10k_yuan").to_numpy(zero_copy_only=False)
    land = table.column("land_mu").to_numpy(zero_copy_only=False)
    out: dict[int, YearSummary] = {}
    for y in sorted(years):
        sel = cols["year"] == y
        above = sel & cols["above_scale"].astype(bool)
        rated = above & (land > 0) & ~np.isnan(tax.astype(float))
        per_mu = tax[rated].astype(float) / land[rated].astype(float)
        output = np.nansum(cols["output_10k_yuan"][above].astype(float)) / 1e4
        out[y] = YearSummary(
            y,
            int(above.sum()),
            int((sel & ~above).sum()),
            round(float(output), 1),
            round(float((per_mu < 3).mean()) if per_mu.size else 0.0, 4),
        )
    return out


def _csv_bytes(columns: dict[str, list[object]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    w.writerows(zip(*columns.values(), strict=True))
    return buf.getvalue().encode("utf-8")


def _extras_tables(
    p: linyi.Panel,
    years: tuple[int, ...],
    seed: int,
    codes: np.ndarray,
    names: np.ndarray,
    table: dict[str, list[object]],
) -> tuple[dict[str, list[object]], dict[str, list[object]]]:
    county = [c[0] for c in calibration.COUNTIES]
    firm = np.array(table["firm"], dtype=np.int64)
    projects = {
        "项目编号": [f"JG{i:06d}" for i in table["pid"]],
        "统一社会信用代码": codes[firm].tolist(),
        "企业名称": names[firm].tolist(),
        "县区": [county[c] for c in p.f["county"][firm]],
        "项目名称": [
            f"{extras.TEMPLATES[cast(int, g)]}（合成{i:06d}）"
            for g, i in zip(table["template"], table["pid"], strict=True)
        ],
        "总投资（万元）": table["inv"],
        "开工日期": np.array(table["start"], dtype="datetime64[D]").tolist(),
        "计划竣工日期": np.array(table["end"], dtype="datetime64[D]").tolist(),
        "是否市重点": ["是" if k else "否" for k in table["key"]],
        "项目状态": ["已竣工" if d else "在建" for d in table["done"]],
    }
    lst = extras.listings(p, seed)
    keep = [i for i, y in enumerate(lst["year"]) if y in years]
    lf = np.array(lst["firm"], dtype=np.int64)[keep] if keep else np.zeros(0, np.int64)
    listings = {
        "统一社会信用代码": codes[lf].tolist(),
        "企业名称": names[lf].tolist(),
        "年度": [lst["year"][i] for i in keep],
        "阶段": [lst["stage"][i] for i in keep],
        "拟上市板块": [lst["board"][i] for i in keep],
        "上市年份": [lst["listed"][i] for i in keep],
    }
    return projects, listings


def synth(
    out: Path,
    firms: int = 4000,
    years: tuple[int, ...] = (2021, 2022, 2023, 2024, 2025),
    seed: int = 42,
    defect_rate: float = 0.02,
    fmt: str = "auto",
) -> SynthSummary:
    """Write the SYNTHETIC panel for ``firms`` 2022 规上 firms to ``out`` (see the module doc).

    ``fmt``: ``auto`` (department shapes up to 50,000 firms, CSV beyond), ``native`` or ``csv``.
    """
    if fmt not in ("auto", "native", "csv"):
        raise ValueError(f"fmt must be auto, native or csv, not {fmt!r}")
    if firms < 1 or not years or not 0 <= defect_rate <= 1:
        raise ValueError("firms must be positive, years non-empty and defect_rate within [0, 1]")
    start = time.perf_counter()
    years = tuple(sorted(set(years)))
    out = Path(out)
    csv_only = fmt == "csv" or (fmt == "auto" and firms > CSV_ABOVE)
    panel = linyi.simulate(firms, years, seed)
    fy, codes, names = firmyears.build(panel, years, seed)
    table, spend, major = extras.projects(panel, seed)
    firmyears.measures(panel, fy, spend[fy.yi, fy.firm], major[fy.yi, fy.firm], seed)
    dept, truth = departments.department_values(fy)
    sheets = departments.build_sheets(fy, dept, years, seed, csv_only)
    injector = Injector(fy, dept, defect_rate, seed)
    records = injector.run(sheets)
    for name, row in injector.blanks:
        truth[name][row] = np.nan
    (out / "truth").mkdir(parents=True, exist_ok=True)
    tt = truth_table(truth)
    files = [out / "truth" / "enterprise_years.parquet", out / "truth" / "defects.csv"]
    pq.write_table(tt, files[0], compression="zstd")
    files[1].write_bytes(_csv_bytes(as_columns(records)))
    files += [writers.write_sheet(s, out) for s in sheets]
    projects, listings = _extras_tables(panel, years, seed, codes, names, table)
    ext = "csv" if csv_only else "xlsx"
    for title, name, data in (
        ("技改项目（合成数据）", "projects", projects),
        ("上市后备企业（合成数据）", "listings", listings),
    ):
        path = out / f"{name}.{ext}"
        writers.write_table(data, path, title)
        files.append(path)
    (out / "README.txt").write_text(README.format(firms=firms, years=years, seed=seed, rate=defect_rate), "utf-8")
    files.append(out / "README.txt")
    by_code: dict[str, int] = {}
    for r in records:
        by_code[r.code] = by_code.get(r.code, 0) + 1
    return SynthSummary(
        out,
        firms,
        seed,
        _summary(tt, years),
        files,
        len(records),
        dict(sorted(by_code.items())),
        round(time.perf_counter() - start, 2),
    )


__all__ = ["SynthSummary", "YearSummary", "synth"]
