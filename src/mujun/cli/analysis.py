"""``mujun sensitivity``: how the year's classes depend on the policy weights (issue 13), a thin shell
over :mod:`mujun.cycle.sensitivity` and :mod:`mujun.reports.sensitivity`."""

from __future__ import annotations

import json

import click

from mujun.cli.format import tr


@click.command(help=tr("sens.help"))
@click.option("--workspace", required=True, type=click.Path(file_okay=False), help="The workspace folder.")
@click.option("--year", required=True, type=int, help="The data year (its final run, else its latest run).")
@click.option("--run", "run_id", help="Another run of that year.")
@click.option("--draws", type=click.IntRange(0, 100_000), default=1000, show_default=True, help="Random weight draws.")
@click.option("--concentration", type=click.FloatRange(1, 1e6), default=200.0, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--near-cut",
    "distance",
    type=click.FloatRange(0, 1000),
    default=1.0,
    show_default=True,
    help="List firms within this many points of a class cut.",
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write the workbook (.xlsx).")
@click.option("--json", "as_json", is_flag=True, help="Print everything as JSON.")
def sensitivity(
    workspace: str,
    year: int,
    run_id: str | None,
    draws: int,
    concentration: float,
    seed: int,
    distance: float,
    out: str | None,
    as_json: bool,
) -> None:
    """One weight at a time ±10/20%, then random weights: who changes class (help: ``sens.help``)."""
    from mujun.cycle import sensitivity as se
    from mujun.cycle import store
    from mujun.cycle.whatif import base
    from mujun.errors import WorkspaceError, language
    from mujun.reports.sensitivity import sentences, write_sensitivity_xlsx
    from mujun.runs.workspace import Workspace

    with Workspace(workspace, read_only=True) as ws:
        rid = run_id or (store.list_run(ws, year) or (None, False))[0]
        if rid is None:
            raise WorkspaceError("NO-RUNS", path=workspace)
        b = base(ws, rid)
    doc = se.report(b, draws, concentration, seed, distance)
    labels = b.labels(language())
    if out:
        click.echo(tr("sens.cli.written", path=write_sensitivity_xlsx(doc, labels, out)), err=as_json)
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    click.echo(tr("sens.title", **{k: doc[k] for k in ("year", "run_id", "scheme", "graded", "draws")}))
    for line in sentences(doc, labels):
        click.echo("  " + line)
    if draws:
        s = doc["spearman"]
        click.echo(tr("sens.draws", changing=doc["firms_changing"], below=doc["confidence_below"]["0.8"],
                      rho_min=s["min"], rho_median=s["median"], concentration=concentration, seed=seed))  # fmt: skip
    near = doc["near_cut"]["firms"]
    click.echo(tr("sens.cli.near", n=len(near), distance=distance))
    for f in near[:10]:
        click.echo(tr("sens.cli.near_row", uscc=f["uscc"], cls=f["class"], score=f["total_score"],
                      up="—" if f["points_up"] is None else f["points_up"],
                      down="—" if f["points_down"] is None else f["points_down"]))  # fmt: skip
    click.echo(tr("sens.cli.objective"))
    for w in doc["objective_weights"]:
        click.echo(tr("sens.cli.weights", label=labels.get(w["indicator"], w["indicator"]), **w))
    click.echo(tr("sens.cli.seconds", seconds=doc["seconds"]))


COMMANDS = (sensitivity,)
