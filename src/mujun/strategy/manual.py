"""Values entered by hand for targets the data cannot compute (e.g. value added as a share of GDP), or
to record an official figure for a year. Each entry keeps its source and time; the newest entry of a
year is the one used, and older entries stay as history."""

from __future__ import annotations

import datetime as dt

from mujun.errors import InputError
from mujun.runs import schema
from mujun.runs.workspace import Workspace
from mujun.strategy.registry import Registry

DDL = schema.ddl("target_values")  # the tables live in the workspace schema registry


def enter(
    ws: Workspace, registry: Registry, target_id: str, year: int, value: float, source: str, by: str = ""
) -> None:
    """Record ``value`` for ``target_id`` in ``year``; the source is required (nothing unsourced)."""
    try:
        registry.target(target_id)
    except KeyError:
        ids = ", ".join(t.id for t in registry.targets)
        raise InputError("TARGET-UNKNOWN", target=target_id, ids=ids) from None
    if not source.strip():
        raise InputError("TARGET-SOURCE-MISSING", target=target_id)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with ws.change("targets", f"{target_id} {year}") as ch:
        ws.con.execute(
            "INSERT INTO target_values VALUES (?, ?, ?, ?, ?, ?)",
            [target_id, int(year), float(value), source, by, stamp],
        )
        ch.summary = {"target": target_id, "year": int(year), "value": float(value), "source": source}
