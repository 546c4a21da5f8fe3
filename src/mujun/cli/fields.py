"""``mujun fields``: the field reference of the canonical record (``docs/fields.md`` is its Markdown)."""

from __future__ import annotations

import click

from mujun.catalog.text import translate
from mujun.errors import language


@click.command("fields")
@click.option("--markdown", is_flag=True, help="The reference as Markdown (docs/fields.md).")
def fields(markdown: bool) -> None:
    """Every column of the enterprise-year record: names, unit, type, allowed values, who reports it."""
    from mujun.reports import field_reference as ref

    lang = language()
    if markdown:
        click.echo(ref.markdown(lang), nl=False)
        return
    for r in ref.rows():
        name = r.zh if lang == "zh" else r.en
        shown = translate("lib.with_unit", lang, label=name, unit=r.unit) if r.unit else name
        click.echo(f"{r.id:<24} {shown}")


COMMANDS = [fields]
