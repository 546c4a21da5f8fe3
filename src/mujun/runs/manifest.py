"""The run manifest: everything needed to know what produced a stored result (schema version 1)."""

from __future__ import annotations

import hashlib
import json
import platform
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from mujun.runs.result import Evaluation, package_version

SCHEMA_VERSION = 1


def run_id(ev: Evaluation) -> str:
    """``YYYYMMDDTHHMMSSffffffZ-<8 hex>``: start time plus a digest of scheme, input, year and engine."""
    stamp = ev.started_at.replace("-", "").replace(":", "").replace(".", "")
    digest = hashlib.sha256(f"{ev.scheme.sha256}|{ev.input_sha256}|{ev.year}|{ev.engine}".encode()).hexdigest()
    return f"{stamp}-{digest[:8]}"


def class_counts(table: pa.Table) -> dict[str, int]:
    counts = pc.value_counts(table["class"]).to_pylist()
    return {str(c["values"]): int(c["counts"]) for c in counts if c["values"] is not None}


class Summary(NamedTuple):
    """What ``mujun evaluate`` prints about a result: its scheme, year and engine, and how many firms of each
    status and class (warnings of the input included)."""

    scheme_id: str
    scheme_sha256: str
    year: int
    engine: str
    firms: int
    statuses: dict[str, int]
    classes: dict[str, int]
    warnings: list[str]


def summarise(table: pa.Table, ev: Evaluation | None = None, **given: Any) -> Summary:
    """The :class:`Summary` of a result ``table`` (its ``status`` and ``class`` columns suffice): the other
    fields from ``ev``, or given by name (``scheme_id=…, scheme_sha256=…, year=…, engine=…, warnings=…``)."""
    if ev is not None:
        given = {"scheme_id": ev.scheme.id, "scheme_sha256": ev.scheme.sha256, "year": ev.year,
                 "engine": ev.engine, "warnings": list(ev.warnings), **given}  # fmt: skip
    statuses = {str(v["values"]): int(v["counts"]) for v in pc.value_counts(table["status"]).to_pylist()}
    return Summary(firms=table.num_rows, statuses=statuses, classes=class_counts(table), **given)


def manifest(ev: Evaluation, rid: str, input_rows: int, input_years: list[int]) -> dict[str, Any]:
    s = ev.scheme
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": rid,
        "started_at": ev.started_at,
        "finished_at": ev.finished_at,
        "package_version": package_version(),
        "scheme": {"id": s.id, "sha256": s.sha256, "origin": s.origin, "title": s.scheme.title},
        "input": {"sha256": ev.input_sha256, "source": ev.source, "rows": input_rows, "years": input_years},
        "year": ev.year,
        "engine": ev.engine,
        "versions": {**ev.versions, "python": platform.python_version(), "pyarrow": pa.__version__},
        "firms": ev.table.num_rows,
        "classes": class_counts(ev.table),
        "warnings": ev.warnings,
    }


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2)
