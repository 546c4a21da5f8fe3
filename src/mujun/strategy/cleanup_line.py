"""The line that selects low-efficiency firms, from the targets registry (never from code).

``line_of(workspace)`` reads the registry target named in ``cleanup.yaml`` (``low_efficiency``): its
``metric.where`` is the condition (e.g. ``above_scale and tax_10k_yuan / land_mu < 3``), its ``threshold``
the line shown to people (``tax_per_mu < 3 万元/亩``). The field's value per firm is a column or the
arithmetic in ``cleanup.yaml`` ``measures`` (``tax_per_mu: tax_10k_yuan / land_mu``; a zero or missing
denominator gives a missing value, as everywhere in the engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir

from mujun.engine.expr import expression, field_resolver
from mujun.schemes.conditions import parse
from mujun.strategy.cleanup_config import CleanupConfig, load_config
from mujun.strategy.registry import load_registry, path_in


@dataclass(frozen=True)
class Line:
    """Which firms become cases, taken from the targets registry (never from code)."""

    target_id: str
    condition: str
    field: str | None
    below: float | None
    unit: str
    measure: str | None  # arithmetic giving the field's value (cleanup.yaml ``measures``), or a column
    deadline: int
    target_value: float
    source: str

    def text(self) -> str:
        return f"{self.field} < {self.below:g} {self.unit}".strip() if self.field and self.below is not None else ""


def line_of(workspace: str | Path, cfg: CleanupConfig | None = None) -> Line:
    cfg = cfg or load_config(workspace)
    target = load_registry(workspace).target(cfg.target)
    origin = str(path_in(workspace)) if path_in(workspace).is_file() else "builtin:targets.yaml"
    th = target.threshold
    return Line(
        target_id=target.id,
        condition=target.metric.where,
        field=th.field if th else None,
        below=th.below if th else None,
        unit=th.unit if th else "",
        measure=(cfg.measures[th.field].expr if th.field in cfg.measures else th.field) if th else None,
        deadline=target.deadline,
        target_value=target.target_value,
        source=f"{origin}#{target.id} · {target.source}",
    )


def measure_expr(t: ir.Table, line: Line) -> ir.Value:
    """The line's field for each firm: a column, or the configured arithmetic (x / 0 is missing)."""
    if not line.measure:
        return ibis.null("float64")
    if line.measure in t.columns:
        return t[line.measure].cast("float64")
    return expression(parse(line.measure, set(t.columns)), field_resolver(t)).cast("float64")
