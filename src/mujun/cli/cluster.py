"""``mujun evaluate --engine spark --out DIR``: the cluster path's summary, in the words of the file path's."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mujun.catalog import catalog
from mujun.cli.format import tr
from mujun.errors import language

if TYPE_CHECKING:
    from mujun.api_spark import ClusterRun


def print_cluster_run(run: ClusterRun) -> None:
    """Scheme, year and engine; firms by status and class (counted by Spark from the folder as written);
    notes; where the executors wrote it. Nothing here reads a firm's row."""
    lang = language()
    statuses = tr("cli.sep").join(f"{catalog.status_label(k, lang)} {v}" for k, v in sorted(run.statuses.items()))
    classes = " ".join(f"{k}:{v}" for k, v in sorted(run.classes.items()))
    click.echo(tr("cli.ev.head", scheme=run.scheme.id, sha=run.scheme.sha256[:12], year=run.year, engine=run.engine))
    click.echo(tr("cli.ev.firms", n=run.firms, statuses=statuses, classes=classes))
    for w in run.warnings:
        click.echo(tr("cli.ev.warning", warning=w))
    master = run.versions.get("spark_master", "")
    click.echo(tr("cli.cluster.input", rows=f"{run.input_rows:,}", years=", ".join(map(str, run.input_years))))
    click.echo(tr("cli.cluster.written", out=run.out, master=master, seconds=f"{run.seconds:.1f}"))
