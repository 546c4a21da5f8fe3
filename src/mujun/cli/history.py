"""``mujun history`` and ``mujun undo``: the workspace's change log (see :mod:`mujun.runs.changes`)."""

from __future__ import annotations

import json

import click

from mujun.catalog.text import translate
from mujun.errors import language


def _t(key: str, **values: object) -> str:
    return translate(key, language(), **values)


@click.command()
@click.option("--workspace", required=True, type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Every entry as JSON.")
def history(workspace: str, as_json: bool) -> None:
    """Every change to the workspace: id, time, who, what, and whether it was undone."""
    from mujun.runs.workspace import Workspace

    with Workspace(workspace, read_only=True) as ws:
        rows = ws.history()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(_t("hist.empty"))
        return
    click.echo(_t("hist.header"))
    for e in rows:
        state = ""
        if e["undone_by"] is not None:
            state = _t("hist.undone", by=e["undone_by"])
        elif e["undoable"]:
            state = _t("hist.undoable")
        kind = _t(f"hist.kind.{e['kind']}")
        click.echo(f"{e['id']:>5}  {e['at'][:19]}  {e['actor']:<12} {kind:<8} {e['touched'] or ''}  {state}")


@click.command()
@click.argument("change_id", type=int)
@click.option("--workspace", required=True, type=click.Path(file_okay=False))
def undo(change_id: int, workspace: str) -> None:
    """Reverse an import, a correction or a link; runs made from the undone data are marked stale."""
    from mujun.runs.undo import undo as reverse
    from mujun.runs.workspace import Workspace

    with Workspace(workspace) as ws:
        got = reverse(ws, change_id)
    click.echo(_t("hist.did_undo", change=change_id, id=got["id"], kind=_t(f"hist.kind.{got['undid']}")))
    if got["stale_runs"]:
        click.echo(_t("hist.stale", runs=", ".join(got["stale_runs"])))


COMMANDS = (history, undo)
