"""The labels of codes a page shows: owned by :mod:`mujun.schemes.labels` (pages, exports and reports use the
same words); re-exported here for the web's modules."""

from mujun.schemes.labels import (
    DERIVED,
    column_label,
    group_label,
    reason_label,
    reasons_text,
    rule_text,
    scope_label,
)

__all__ = ["DERIVED", "column_label", "group_label", "reason_label", "reasons_text", "rule_text", "scope_label"]
