"""``mujun tiers select|list|promotions``: 递进培育 — the yearly second-tier selection and promotions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mujun.cli.format import tr as _t
from mujun.errors import WorkspaceError, language

if TYPE_CHECKING:  # the rest is imported where used: `mujun --help` stays light (issue 13)
    from mujun.runs.workspace import Workspace

WORKSPACE = click.option("--workspace", required=True, type=click.Path(file_okay=False), help="Workspace folder.")
AS_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@contextmanager
def _open(path: str, read_only: bool = False) -> Iterator[Workspace]:
    from mujun.runs.workspace import DB_FILE, Workspace

    if not (Path(path) / DB_FILE).is_file():
        raise WorkspaceError("WORKSPACE", path=path, detail=_t("cli.not_workspace"))
    ws = Workspace(path, read_only=read_only)
    try:
        yield ws
    finally:
        ws.close()


def _dump(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _money(v: float | None) -> str:
    if v is None:
        return "—"
    if language() == "en":
        return _t("cli.tr.wan", v=f"{v / 100:,.2f}")
    return _t("cli.tr.yi", v=f"{v / 10_000:,.2f}") if abs(v) >= 10_000 else _t("cli.tr.wan", v=f"{v:,.0f}")


def _components(r: dict[str, Any]) -> str:
    from mujun.strategy.tiers_score import format_value

    parts = []
    for cid, got in (r.get("components") or {}).items():
        pts = "—" if got["points"] is None else f"{got['points']:.0f}"
        parts.append(f"{cid}={format_value(cid, got['value']) or '—'}({pts})")
    return " ".join(parts)


@click.group("tiers", help=_t("cli.help.tiers"))
def tiers() -> None:
    """Tiered cultivation (help text: ``cli.help.tiers``)."""


@tiers.command("select")
@WORKSPACE
@click.option("--year", type=int, required=True, help="Selection year (needs an evaluation run of that year).")
@click.option("--n", "n", type=int, help="How many second-tier firms to select (default: tiers.yaml, 50).")
@click.option("--scheme", help="Take the classes from this scheme's run (default: the year's newest run).")
@click.option("--replace", is_flag=True, help="Overwrite the year's stored selection.")
@AS_JSON
def tiers_select(workspace: str, year: int, n: int | None, scheme: str | None, replace: bool, as_json: bool) -> None:
    """Select the year's second-tier firms (score, order, cut-off) and store them in tier_selections."""
    from mujun.strategy.tiers import select_and_store
    from mujun.strategy.tiers_rules import load_rules
    from mujun.strategy.tiers_score import reasons

    with _open(workspace) as ws:
        got = select_and_store(ws, year, n, scheme, replace)
    if as_json:
        _dump(got)
        return
    click.echo(_t("cli.tr.head", year=year, run=got["run_id"], scheme=got["scheme"], sha=got["rules_sha256"][:12]))
    click.echo(
        _t(
            "cli.tr.counts",
            first=len(got["first_tier"]),
            candidates=got["candidates"],
            selected=len(got["selected"]),
            n=got["n"],
            cutoff=got["cutoff"] if got["cutoff"] is not None else "—",
        )
    )
    if got["shortfall"]:
        click.echo(_t("cli.tr.shortfall", n=got["shortfall"]))
    lang, rules = language(), load_rules(workspace)
    for r in got["selected"]:
        click.echo(
            _t(
                "cli.tr.row",
                position=r["position"],
                score=r["score"],
                uscc=r["uscc"],
                name=r["name"] or "—",
                county=r["county"] or "—",
                klass=r["class"],
                revenue=_money(r["revenue"]),
            )
        )
        comps = r.get("components")
        click.echo(f"       {reasons(comps, rules, lang) if isinstance(comps, dict) else r['reasons']}")
    if got["not_selected"]:
        nxt = got["not_selected"][0]
        click.echo(_t("cli.tr.first_out", name=nxt["name"], score=nxt["score"], gap=nxt["below_cutoff"]))


@tiers.command("list")
@WORKSPACE
@click.option("--year", type=int, help="Only this selection year.")
@AS_JSON
def tiers_list(workspace: str, year: int | None, as_json: bool) -> None:
    """Stored selections: per year the selected second-tier firms (and the first tier in JSON)."""
    from mujun.strategy import tiers_read as tr
    from mujun.views import CITY, Reader

    with _open(workspace, read_only=True) as ws, Reader(ws, CITY) as r:
        summary = [s for s in tr.summary(r) if year in (None, s["year"])]
        rows = tr.rows(r, year=year)
    if as_json:
        _dump({"years": summary, "rows": rows})
        return
    if not summary:
        click.echo(_t("cli.tr.none"))
    for s in summary:
        click.echo(
            _t(
                "cli.tr.year",
                year=s["year"],
                selected=s["selected"],
                n=s["n"],
                candidates=s["candidates"],
                first=s["first_tier"],
                cutoff=s["cutoff"],
                at=s["selected_at"],
            )
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
    from mujun.strategy import tiers_read as tr
    from mujun.strategy.tiers_rules import load_rules
    from mujun.views import CITY, Reader, attach_cache

    with _open(workspace, read_only=True) as ws:
        attach_cache(ws)
        with Reader(ws, CITY) as r:
            got = tr.promotions(r, load_rules(ws.path))
    if as_json:
        _dump(got)
        return
    if not got["by_year"]:
        click.echo(_t("cli.tr.none_short"))
    for y in got["by_year"]:
        later = _t("cli.sep").join(_t("cli.tr.later", year=k, n=v) for k, v in y["by_later_year"].items())
        share = "—" if y["share"] is None else f"{y['share'] * 100:.1f}%"
        promoted = _t(
            "cli.tr.promoted",
            year=y["year"],
            selected=y["selected"],
            promoted=y["promoted"],
            share=share,
            later=later or _t("cli.tr.no_later"),
        )
        click.echo(promoted)
    for f in got["firms"]:
        if f["promoted_year"] is not None:
            click.echo(f"  {f['year']} → {f['promoted_year']}  {f['uscc']}  {f['name'] or '—'}")
    if got["undecided_years"]:
        click.echo(_t("cli.tr.undecided", years=", ".join(map(str, got["undecided_years"]))))


COMMANDS: tuple = (tiers,)
