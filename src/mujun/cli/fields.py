"""``mujun fields``: the field reference of the canonical record (``docs/fields.md`` is its Markdown)."""

from __future__ import annotations

import click

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
        unit = f"（{r.unit}）" if r.unit and lang == "zh" else (f" ({r.unit})" if r.unit else "")
        click.echo(f"{r.id:<24} {name}{unit}")


COMMANDS = [fields]
