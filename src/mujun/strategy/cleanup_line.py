"""The line that selects low-efficiency firms: the evaluation scheme's flagged override, never a second copy.

``cleanup.yaml`` names the registry target (``low_efficiency``); its metric must be
``{kind: flagged, code: LOW-EFFICIENCY}``, naming the reason code a scheme override sets. The override
(linyi-2022: ``{code: LOW-EFFICIENCY, label: 规上企业亩均税收低于3万元/亩…, when: "above_scale and
tax_per_mu < 3", effect: flag}``) owns the rule: its ``when`` is the condition shown to people, its label
the rule's name, its scheme and run say where it came from. Because overrides apply to graded firms, a
firm the scheme does not grade (T class) is never below the line.

The line shown as ``field < below unit`` is read from the override's ``when``: its first comparison of an
indicator of the scheme with a number (``tax_per_mu < 3``), the indicator's unit and label (zh, en). Its
value per firm is the run's value of that indicator (``value_<indicator>``, as the engine computed it).
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass
from pathlib import Path

from mujun.catalog import policy
from mujun.catalog.text import Text
from mujun.errors import SchemeError
from mujun.schemes import LoadedScheme, load
from mujun.schemes.model import Override
from mujun.strategy.cleanup_config import CleanupConfig, load_config
from mujun.strategy.registry import FILE, Target, load_registry
from mujun.views import Reader
from mujun.views.flags import FlagRun, flag_runs


@dataclass(frozen=True)
class Line:
    """Which firms become cases: those the scheme's override ``code`` flagged (from the targets registry)."""

    target_id: str
    code: str
    scheme_id: str | None
    run_id: str | None
    label: str  # the override's label (scheme text)
    condition: str  # the override's ``when``
    field: str | None  # the indicator the condition compares with a number
    below: float | None
    op: str  # "<" or "<="
    unit: str
    deadline: int
    target_value: float
    source: str
    field_labels: dict[str, str] = dataclasses.field(default_factory=dict)  # {"zh": …, "en": …}

    def text(self) -> str:
        if not self.field or self.below is None:
            return ""
        return f"{self.field} {self.op} {self.below:g} {self.unit}".strip()

    def field_label(self, lang: str = "zh") -> str:
        return self.field_labels.get(lang) or self.field_labels.get("zh") or (self.field or "")

    def above(self, value: float | None) -> bool | None:
        """Whether ``value`` is on or above the line (None when the value or the line is unknown)."""
        if value is None or self.below is None:
            return None
        return value > self.below if self.op == "<=" else value >= self.below

    def to_dict(self) -> dict[str, object]:
        return {
            "target_id": self.target_id,
            "code": self.code,
            "scheme": self.scheme_id,
            "run_id": self.run_id,
            "label": self.label,
            "condition": self.condition,
            "text": self.text(),
            "field": self.field,
            "field_labels": dict(self.field_labels),
            "below": self.below,
            "op": self.op,
            "unit": self.unit,
            "deadline": self.deadline,
            "target_value": self.target_value,
            "source": self.source,
        }


def _origin(workspace: str | Path) -> str:
    return policy.origin_of(FILE, workspace)  # the file load_registry read


def flagged_target(workspace: str | Path, cfg: CleanupConfig | None = None) -> Target:
    """The registry target ``cleanup.yaml`` names; its metric must be ``flagged`` (the scheme owns the rule)."""
    cfg = cfg or load_config(workspace)
    reg = load_registry(workspace)
    target = reg.target(cfg.target)
    if target.metric.kind != "flagged":
        i = reg.targets.index(target)
        raise SchemeError(
            "TARGETS-INVALID",
            file=_origin(workspace),
            key_path=f"targets.{i}.metric.kind",
            detail=Text("stc.cleanup_target", target=target.id, kind=target.metric.kind),
        )
    return target


def compared(when: str, scheme: LoadedScheme) -> tuple[str | None, float | None, str]:
    """(indicator, number, op) of the first ``indicator < number`` (or ``<=``) in ``when``; indicators of the
    scheme first, then any name."""
    try:
        tree = ast.parse(when.strip(), mode="eval")
    except SyntaxError:
        return None, None, "<"
    found: list[tuple[str, float, str]] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.left, ast.Name)):
            continue
        op, right = node.ops[0], node.comparators[0]
        number = right.value if isinstance(right, ast.Constant) else None
        if isinstance(op, ast.Lt | ast.LtE) and isinstance(number, int | float) and not isinstance(number, bool):
            found.append((node.left.id, float(number), "<" if isinstance(op, ast.Lt) else "<="))
    found.sort(key=lambda f: f[0] not in scheme.scheme.indicators)
    return found[0] if found else (None, None, "<")


def _line(target: Target, origin: str, scheme: LoadedScheme, override: Override, run_id: str | None) -> Line:
    name, number, op = compared(override.when, scheme)
    ind = scheme.scheme.indicators.get(name) if name else None
    where = f"scheme:{scheme.id}#overrides.{override.code}" + (f" · run:{run_id}" if run_id else "")
    return Line(
        target_id=target.id,
        code=override.code,
        scheme_id=scheme.id,
        run_id=run_id,
        label=override.label,
        condition=override.when,
        field=name,
        below=number,
        op=op,
        unit=ind.unit if ind else "",
        deadline=target.deadline,
        target_value=target.target_value,
        source=f"{where} · {origin}#{target.id}",
        field_labels={"zh": ind.label, "en": ind.label_en or ind.label} if ind else {},
    )


def line_of(reader: Reader, cfg: CleanupConfig | None = None, year: int | None = None) -> Line:
    """The line of ``year`` (its flagging run's override), else of the newest year with a flagging run, else
    of the scheme the metric names (no run yet), else an empty line (condition "")."""
    ws = reader.ws.path
    target = flagged_target(ws, cfg)
    runs = flag_runs(reader, target.metric.code, target.metric.scheme or None)
    run: FlagRun | None = runs.get(year) if year is not None else None
    if run is None and runs:
        run = runs[max(runs)]
    if run is not None:
        return _line(target, _origin(ws), run.scheme, run.override, run.run_id)
    if target.metric.scheme:
        try:
            scheme = load(target.metric.scheme)
        except SchemeError:
            scheme = None
        override = next((o for o in scheme.scheme.overrides if o.code == target.metric.code), None) if scheme else None
        if scheme is not None and override is not None:
            return _line(target, _origin(ws), scheme, override, None)
    return Line(
        target_id=target.id, code=target.metric.code, scheme_id=target.metric.scheme or None, run_id=None,
        label="", condition="", field=None, below=None, op="<", unit="", deadline=target.deadline,
        target_value=target.target_value, source=f"{_origin(ws)}#{target.id}",
    )  # fmt: skip
