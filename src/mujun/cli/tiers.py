"""``mujun tiers select|list|promotions``: 递进培育 — the yearly second-tier selection and promotions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from mujun.errors import WorkspaceError
from mujun.runs.workspace import DB_FILE, Workspace
from mujun.strategy import tiers_read as tr
from mujun.strategy.tiers import select_and_store
from mujun.strategy.tiers_rules import load_rules
from mujun.strategy.tiers_score import format_value
from mujun.views import CITY, Reader, attach_cache

WORKSPACE = click.option("--workspace", required=True, type=click.Path(file_okay=False), help="Workspace folder.")
AS_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@contextmanager
def _open(path: str) -> Iterator[Workspace]:
    if not (Path(path) / DB_FILE).is_file():
        raise WorkspaceError("WORKSPACE", path=path, detail="不是 mujun 工作区（没有 mujun.duckdb）")
    ws = Workspace(path)
    try:
        yield ws
    finally:
        ws.close()


def _dump(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _money(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v / 10_000:,.2f}亿" if abs(v) >= 10_000 else f"{v:,.0f}万"


def _components(r: dict[str, Any]) -> str:
    parts = []
    for cid, got in (r.get("components") or {}).items():
        pts = "—" if got["points"] is None else f"{got['points']:.0f}"
        parts.append(f"{cid}={format_value(cid, got['value']) or '—'}({pts})")
    return " ".join(parts)


@click.group("tiers")
def tiers() -> None:
    """递进培育：第一/第二梯队、每年遴选第二梯队企业、晋级跟踪。"""


@tiers.command("select")
@WORKSPACE
@click.option("--year", type=int, required=True, help="Selection year (needs an evaluation run of that year).")
@click.option("--n", "n", type=int, help="How many second-tier firms to select (default: tiers.yaml, 50).")
@click.option("--scheme", help="Take the classes from this scheme's run (default: the year's newest run).")
@click.option("--replace", is_flag=True, help="Overwrite the year's stored selection.")
@AS_JSON
def tiers_select(workspace: str, year: int, n: int | None, scheme: str | None, replace: bool, as_json: bool) -> None:
    """Select the year's second-tier firms (score, order, cut-off) and store them in tier_selections."""
    with _open(workspace) as ws:
        got = select_and_store(ws, year, n, scheme, replace)
    if as_json:
        _dump(got)
        return
    click.echo(
        f"{year} 年度第二梯队遴选  run {got['run_id']} ({got['scheme']})  规则 sha256 {got['rules_sha256'][:12]}…"
    )
    click.echo(
        f"第一梯队 {len(got['first_tier'])} 家；候选 {got['candidates']} 家；入选 {len(got['selected'])} 家"
        f"（目标 {got['n']}）；入选线 {got['cutoff'] if got['cutoff'] is not None else '—'} 分"
    )
    if got["shortfall"]:
        click.echo(f"注意：候选企业不足，少 {got['shortfall']} 家。")
    for r in got["selected"]:
        click.echo(
            f"{r['position']:>3}. {r['score']:>6.2f}  {r['uscc']}  {r['name'] or '—'}  {r['county'] or '—'}  "
            f"类别 {r['class']}  营收 {_money(r['revenue'])}"
        )
        click.echo(f"       {r['reasons']}")
    if got["not_selected"]:
        nxt = got["not_selected"][0]
        click.echo(f"未入选第一名：{nxt['name']} {nxt['score']:.2f} 分（距入选线 {nxt['below_cutoff']:.2f} 分）")


@tiers.command("list")
@WORKSPACE
@click.option("--year", type=int, help="Only this selection year.")
@AS_JSON
def tiers_list(workspace: str, year: int | None, as_json: bool) -> None:
    """Stored selections: per year the selected second-tier firms (and the first tier in JSON)."""
    with _open(workspace) as ws, Reader(ws, CITY) as r:
        summary = [s for s in tr.summary(r) if year in (None, s["year"])]
        rows = tr.rows(r, year=year)
    if as_json:
        _dump({"years": summary, "rows": rows})
        return
    if not summary:
        click.echo("还没有保存的遴选结果（mujun tiers select --workspace … --year …）。")
    for s in summary:
        click.echo(
            f"{s['year']} 年度：入选 {s['selected']}/{s['n']} 家，候选 {s['candidates']} 家，第一梯队 "
            f"{s['first_tier']} 家，入选线 {s['cutoff']} 分，遴选于 {s['selected_at']}"
        )
        for x in rows:
            if x["year"] == s["year"] and x["tier"] == "second" and x["selected"]:
                head = f"  {x['position']:>3}. {x['score']:>6.2f}  {x['uscc']}  {x['name'] or '—'}"
                click.echo(f"{head}  {_components(x)}")


@tiers.command("promotions")
@WORKSPACE
@AS_JSON
def tiers_promotions(workspace: str, as_json: bool) -> None:
    """For each year's selected firms: in which later year (if any) they met the first-tier rule."""
    with _open(workspace) as ws:
        attach_cache(ws)
        with Reader(ws, CITY) as r:
            got = tr.promotions(r, load_rules(ws.path))
    if as_json:
        _dump(got)
        return
    if not got["by_year"]:
        click.echo("还没有保存的遴选结果。")
    for y in got["by_year"]:
        later = "，".join(f"{k} 年 {v} 家" for k, v in y["by_later_year"].items()) or "尚无后续年度评价"
        share = "—" if y["share"] is None else f"{y['share'] * 100:.1f}%"
        click.echo(f"{y['year']} 年入选 {y['selected']} 家，已晋级第一梯队 {y['promoted']} 家（{share}）：{later}")
    for f in got["firms"]:
        if f["promoted_year"] is not None:
            click.echo(f"  {f['year']} → {f['promoted_year']}  {f['uscc']}  {f['name'] or '—'}")
    if got["undecided_years"]:
        click.echo(f"无评价批次、无法判断的年度：{', '.join(map(str, got['undecided_years']))}")


COMMANDS: tuple = (tiers,)
