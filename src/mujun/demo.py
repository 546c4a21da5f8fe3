"""`mujun demo`: the whole yearly job on SYNTHETIC Linyi data, end to end.

synth (department files with injected defects) → import every year → evaluate every year with
linyi-2022 into the workspace → summary (firms, classes, low-efficiency firms, data health) →
publicity list (公示名单) as xlsx for the latest year.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from mujun import api
from mujun.reports.atomic import atomic_path
from mujun.reports.health import write_health_xlsx
from mujun.reports.publicity import write_publicity_xlsx
from mujun.runs.intake import import_files
from mujun.runs.workspace import Workspace
from mujun.settings import DEFAULT_SCHEME
from mujun.views import Reader
from mujun.views.base import LOW_EFFICIENCY

SCHEME = DEFAULT_SCHEME  # settings.py: the demo evaluates with the default scheme (linyi-2022)
DEPARTMENT_SUFFIXES = (".xlsx", ".xls", ".csv")


def _strategy_inputs(ws: Workspace, data: Path, years: tuple[int, ...], echo: Callable[[str], None]) -> dict[str, Any]:
    """The registers and workflows the 战略目标 page tracks: projects, listings, tier selections, clean-up cases."""
    from mujun.strategy.cleanup import open_cases
    from mujun.strategy.listings import import_listings
    from mujun.strategy.projects import import_projects
    from mujun.strategy.tiers import select_and_store

    got: dict[str, Any] = {}
    for name, run in (("projects", import_projects), ("listings", import_listings)):
        report = run(ws, data / f"{name}.xlsx")
        got[name] = {"read": report["rows_read"], "accepted": report["accepted"], "rejected": report["rejected"]}
    got["tiers"] = {year: len(select_and_store(ws, year, replace=True)["selected"]) for year in years}
    with Reader(ws) as reader:  # the latest year's low-efficiency firms become clean-up cases (stage 认定)
        opened = open_cases(reader, years[-1], by="demo")
    got["cleanup"] = {"year": years[-1], "opened": sum(opened["opened"].values())}
    p, li = got["projects"], got["listings"]
    echo(
        f"⑥ 战略目标数据：技改项目 {p['accepted']}/{p['read']} 行、上市后备 {li['accepted']}/{li['read']} 行已导入；"
        f"各年遴选第二梯队企业 {', '.join(f'{y}: {n}' for y, n in got['tiers'].items())}；"
        f"{years[-1]} 年低效企业整治立案 {got['cleanup']['opened']} 家"
    )
    return got


def run_demo(
    folder: str | Path = "mujun-demo",
    firms: int = 4000,
    years: tuple[int, ...] = (2021, 2022, 2023, 2024, 2025),
    seed: int = 42,
    echo: Callable[[str], None] = print,
    strategy: bool = True,
) -> dict[str, Any]:
    """Run the demo into ``folder``; returns the figures it printed. ``strategy=False`` leaves out the
    registers, tier selections and clean-up cases (tests that start those from nothing use it)."""
    from mujun.synth import synth

    start = time.perf_counter()
    root = Path(folder)
    data = root / "synthetic-data"
    ws_path = root / "workspace"
    if ws_path.exists():
        for p in sorted(ws_path.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
    echo(f"① 生成合成数据（SYNTHETIC）：{firms} 家规上企业基准，{years[0]}–{years[-1]} 年 → {data}")
    synth(data, firms=firms, years=years, seed=seed)
    out: dict[str, Any] = {"years": {}, "health": {}}
    with Workspace(ws_path) as ws:
        files: list[str | Path] = [
            p for year in years for p in sorted((data / str(year)).iterdir()) if p.suffix in DEPARTMENT_SUFFIXES
        ]
        report = import_files(ws, files)
        health = write_health_xlsx(report, root / "数据体检报告.xlsx")
        with atomic_path(root / "数据体检报告.json") as tmp:
            tmp.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        out["health_report"] = str(health)
        for year in years:
            mine = [f for f in report["files"] if f"{year}" in Path(f["file"]).parent.name]
            totals = {k: sum(f[k] for f in mine) for k in ("rows_read", "rows_accepted", "rows_quarantined")}
            checks: dict[str, int] = {}
            for issue in [i for f in mine for i in f["issues"]] + [
                i for i in report["cross_checks"] if f"/{year}/" in (i["file"] or "")
            ]:
                checks[issue["code"]] = checks.get(issue["code"], 0) + 1
            out["health"][year] = {"totals": totals, "checks": dict(sorted(checks.items()))}
            counts = f"读取 {totals['rows_read']} 行，接受 {totals['rows_accepted']}，隔离 {totals['rows_quarantined']}"
            echo(f"② 导入 {year} 年 {len(mine)} 个部门文件：{counts}")
        loaded = api.load(SCHEME)
        for year in years:
            ev = api.evaluate_and_store(ws, loaded, year).evaluation
            table = ev.to_arrow()
            classes = {k: 0 for k in "ABCDT"}
            for c in table["class"].to_pylist():
                if c is not None:
                    classes[c] += 1
            low = sum(1 for r in table["reason_codes"].to_pylist() if r and LOW_EFFICIENCY in r.split(";"))
            graded = int(pc.sum(pc.equal(table["status"], "graded")).as_py() or 0)
            out["years"][year] = {"firms": table.num_rows, "graded": graded, "classes": classes, "low_efficiency": low}
            last = ev
        if strategy:
            out["strategy"] = _strategy_inputs(ws, data, years, echo)
    echo("③ 评价结果（方案 linyi-2022）：")
    echo("   年度   企业数   参评定级      A      B      C      D      T   低效企业（亩均税收<3万元）")
    for year, y in out["years"].items():
        c = y["classes"]
        echo(
            f"   {year} {y['firms']:>8} {y['graded']:>8} {c['A']:>6} {c['B']:>6} {c['C']:>6} {c['D']:>6} {c['T']:>6}"
            f" {y['low_efficiency']:>10}"
        )
    echo("④ 数据体检（各年问题数）：")
    for year, h in out["health"].items():
        echo(f"   {year}：" + "，".join(f"{k} {v}" for k, v in h["checks"].items()))
    echo(f"   数据体检报告：{out['health_report']}（及同名 .json）")
    publicity = write_publicity_xlsx(last, root / f"公示名单_{last.year}.xlsx")
    echo(f"⑤ 公示名单：{publicity}")
    out["publicity"] = str(publicity)
    out["workspace"] = str(ws_path)
    out["seconds"] = round(time.perf_counter() - start, 1)
    echo(f"完成，用时 {out['seconds']} 秒。工作区：{ws_path}")
    return out
