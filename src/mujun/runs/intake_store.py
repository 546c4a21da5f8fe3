"""Workspace tables of the intake: every row read, its status and problems, links, corrections.

    imports(import_id, imported_at, report)                          one per `mujun import`
    intake_files(import_id, file, sha256, sheet, spec, year, columns, superseded)
    intake_rows(row_id, import_id, file, sheet, row, spec, year, uscc, status, raw, vals, issues, superseded)
    links(source_uscc, target_uscc, source_name, confirmed_at)   confirmed USCC links, reused every year
    corrections(row_id, field, old, new, corrected_at)                    every value corrected in quarantine

Nothing is deleted: a department file imported again for the same year supersedes the earlier rows.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from mujun.runs import schema

DDL = schema.ddl(
    "imports", "intake_files", "intake_rows", "links", "corrections"
)  # the tables live in the workspace schema registry


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_json(value: Any) -> str:
    """JSON for cell values and typed values: dates and datetimes as ISO text."""

    def default(o: Any) -> Any:
        if isinstance(o, dt.date | dt.datetime):
            return o.isoformat()
        return str(o)

    return json.dumps(value, ensure_ascii=False, default=default, sort_keys=True)
