"""`mujun demo`: the whole yearly job on SYNTHETIC Linyi data, end to end.

synth (department files with injected defects) → import every year → evaluate every year with
linyi-2022 into the workspace → summary (firms, classes, low-efficiency firms, data health) →
publicity list (公示名单) as xlsx for the latest year.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from mujun import api
from mujun.catalog.text import translate as t
from mujun.reports.atomic import atomic_path
from mujun.reports.health import write_health_xlsx
from mujun.reports.publicity import write_publicity_xlsx
from mujun.runs.intake import import_files
from mujun.runs.workspace import Workspace
from mujun.settings import DEFAULT_SCHEME
from mujun.views import Reader
from mujun.views.base import LOW_EFFICIENCY
from mujun.views.results import first_graded

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
    tiers = ", ".join(f"{y}: {n}" for y, n in got["tiers"].items())
    echo(
        t(
            "demo.strategy",
            p_accepted=p["accepted"],
            p_read=p["read"],
            l_accepted=li["accepted"],
            l_read=li["read"],
            tiers=tiers,
            year=years[-1],
            opened=got["cleanup"]["opened"],
        )
    )
    return got


def run_demo(
    folder: str | Path = "mujun-demo",
    firms: int = 4000,
    years: tuple[int, ...] = (2021, 2022, 2023, 2024, 2025),
    seed: int = 42,
    echo: Callable[[str], None] = print,
    strategy: bool = True,
    cycle: bool | None = None,
    step: Callable[[str], AbstractContextManager[Any]] = lambda words: nullcontext(),
) -> dict[str, Any]:
    """Run the demo into ``folder``; returns the figures it printed. ``strategy=False`` leaves out the
    registers, tier selections and clean-up cases (tests that start those from nothing use it);
    ``cycle`` (default: as ``strategy``) runs the newest year's self-check, publicity and final list
    (:mod:`mujun.demo_cycle`). ``step(words)`` is entered around each long step (the CLI shows a spinner:
    :func:`mujun.cli.progress.step`)."""
    from mujun.synth import synth

    start = time.perf_counter()
    root = Path(folder)
    data = root / "synthetic-data"
    ws_path = root / "workspace"
    if ws_path.exists():
        for p in sorted(ws_path.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
    echo(t("demo.synth", firms=firms, first=years[0], last=years[-1], path=data))
    with step(t("demo.step.synth")):
        synth(data, firms=firms, years=years, seed=seed)
    out: dict[str, Any] = {"years": {}, "health": {}}
    with Workspace(ws_path) as ws:
        files: list[str | Path] = [
            p for year in years for p in sorted((data / str(year)).iterdir()) if p.suffix in DEPARTMENT_SUFFIXES
        ]
        with step(t("demo.step.import", n=len(files))):
            report = import_files(ws, files)
        health = write_health_xlsx(report, root / f"{t('demo.file.health')}.xlsx")
        with atomic_path(root / f"{t('demo.file.health')}.json") as tmp:
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
            read, accepted, quarantined = totals["rows_read"], totals["rows_accepted"], totals["rows_quarantined"]
            echo(t("demo.import", year=year, n=len(mine), read=read, accepted=accepted, quarantined=quarantined))
        loaded = api.load(SCHEME)
        for year in years:
            with step(t("demo.step.evaluate", year=year)):
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
            with step(t("demo.step.strategy")):
                out["strategy"] = _strategy_inputs(ws, data, years, echo)
        with Reader(ws) as r:
            firm = first_graded(r, r.run_for(year=last.year)["run_id"])
        if strategy if cycle is None else cycle:
            from mujun.demo_cycle import run_cycle

            lists = root / t("demo.file.policy_lists", year=last.year)
            with step(t("demo.step.cycle", year=last.year)):
                out["cycle"] = run_cycle(ws, SCHEME, last.year, firm["uscc"], echo, lists)
    echo(t("demo.results", scheme=SCHEME))
    echo(t("demo.results_head"))
    for year, y in out["years"].items():
        c = y["classes"]
        echo(
            f"   {year} {y['firms']:>8} {y['graded']:>8} {c['A']:>6} {c['B']:>6} {c['C']:>6} {c['D']:>6} {c['T']:>6}"
            f" {y['low_efficiency']:>10}"
        )
    echo(t("demo.health"))
    for year, h in out["health"].items():
        echo(t("demo.health_year", year=year, checks=t("demo.sep").join(f"{k} {v}" for k, v in h["checks"].items())))
    echo(t("demo.health_report", path=out["health_report"]))
    with step(t("demo.step.publicity")):
        publicity = write_publicity_xlsx(last, root / f"{t('demo.file.publicity', year=last.year)}.xlsx")
    echo(t("demo.publicity", path=publicity))
    out["publicity"] = str(publicity)
    out["accounts"] = demo_accounts(ws_path, firm, root, echo)
    out["workspace"] = str(ws_path)
    out["seconds"] = round(time.perf_counter() - start, 1)
    echo(t("demo.done", s=out["seconds"], path=ws_path))
    return out


def demo_accounts(
    ws_path: Path, firm: dict[str, Any], root: Path, echo: Callable[[str], None]
) -> dict[str, dict[str, str]]:
    """One account of each role (every page needs a login), with random passwords: printed, written to
    ``demo-accounts.txt`` (readable by its owner only) and returned. The county, town and firm are the
    first graded firm's of the newest year."""
    from mujun.runs import accounts

    made: dict[str, dict[str, str]] = {}
    plan: tuple[tuple[str, str, dict[str, str]], ...] = (
        ("admin", "admin", {}),
        ("analyst", "analyst", {}),
        ("leader", "leader", {}),
        ("county", "county", {"unit": firm["county"]}),
        ("town", "town", {"unit": firm["town"]}),
        ("tax", "department", {"department": "tax"}),
        ("firm", "enterprise", {"uscc": firm["uscc"]}),
    )
    for name, role, scope in plan:
        password = accounts.one_time_password()
        accounts.add_user(
            ws_path, name, role, password, by="demo",
            unit=scope.get("unit"), department=scope.get("department"), uscc=scope.get("uscc"),
        )  # fmt: skip
        made[name] = {"role": role, "password": password, **scope}
    echo(t("demo.accounts"))
    lines = [
        f"   {n:<8} {a['role']:<11} {a['password']}  {a.get('unit') or a.get('department') or a.get('uscc') or ''}"
        for n, a in made.items()
    ]
    for line in lines:
        echo(line)
    target = root / "demo-accounts.txt"
    with atomic_path(target) as tmp:
        tmp.touch(mode=0o600)  # owner-only before a password is written into it
        tmp.chmod(0o600)
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    echo(t("demo.accounts_file", path=target))
    return made
