"""``mujun templates``: input templates to fill in (xlsx), per department source spec or per scheme."""

from __future__ import annotations

from pathlib import Path

import click

from mujun.catalog.text import translate as tr
from mujun.cli.fields import fields
from mujun.errors import language


@click.command("templates")
@click.option("--spec", "spec_id", help="A department source spec id (see `mujun specs list`).")
@click.option("--scheme", "scheme_id", help="A scheme id or YAML path: the canonical input it reads.")
@click.option("--all", "every", is_flag=True, help="Every built-in spec, and the default scheme's input.")
@click.option("--out", required=True, type=click.Path(), help="The xlsx file (a folder with --all).")
def templates(spec_id: str | None, scheme_id: str | None, every: bool, out: str) -> None:
    """Write xlsx templates: headers the import recognises, units, checks and an instructions sheet."""
    from mujun.ingest.spec import builtin_spec_ids, load_spec
    from mujun.reports import input_templates as it
    from mujun.reports.atomic import atomic_path
    from mujun.schemes import load
    from mujun.settings import DEFAULT_SCHEME

    if sum(map(bool, (spec_id, scheme_id, every))) != 1:
        raise click.UsageError(tr("tpl.need_one"))
    lang = language()
    jobs: list[tuple[Path, bytes]] = []
    if every:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for sid in builtin_spec_ids():
            spec = load_spec(sid)
            jobs.append((folder / f"{sid}_{spec.title}.xlsx", it.spec_template(spec, lang)))
        loaded = load(DEFAULT_SCHEME)
        jobs.append((folder / f"input_{loaded.id}.xlsx", it.scheme_template(loaded, lang)))
    elif spec_id:
        jobs.append((Path(out), it.spec_template(load_spec(spec_id), lang)))
    else:
        jobs.append((Path(out), it.scheme_template(load(str(scheme_id)), lang)))
    for path, body in jobs:
        with atomic_path(path) as tmp:
            tmp.write_bytes(body)
        click.echo(tr("tpl.written", path=path))


COMMANDS = [templates, fields]  # both are references for the people who fill files in
