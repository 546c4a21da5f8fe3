"""Roles of accounts: permissions, scope kind and hidden fields (policy in ``catalog/roles.yaml``).

A workspace may keep its own ``roles.yaml`` (read by :func:`mujun.catalog.policy.load_policy`, error code
``ROLES-INVALID``); the seven role names are fixed (the CLI and the outside check spell them), their
permissions, scope and hidden fields are policy. ``hidden`` names fields of the catalogue (``fields.yaml``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from mujun.catalog.catalog import fields
from mujun.catalog.policy import load_policy
from mujun.catalog.role_names import ROLE_NAMES
from mujun.errors import SchemeError

ScopeKind = Literal["city", "county", "town", "department", "enterprise"]
# which account attribute each scope kind needs (users add --unit/--department/--uscc)
NEEDS: dict[str, str | None] = {
    "city": None,
    "county": "unit",
    "town": "unit",
    "department": "department",
    "enterprise": "uscc",
}


class Label(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    zh: str
    en: str


class Role(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    label: Label
    scope: ScopeKind
    permissions: tuple[str, ...]
    hidden: tuple[str, ...] = ()

    def allows(self, permission: str) -> bool:
        return "*" in self.permissions or permission in self.permissions


class Roles(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: str
    source: str
    permissions: dict[str, Label]
    roles: dict[str, Role]


def _check(got: Roles, origin: str) -> None:
    if set(got.roles) != set(ROLE_NAMES):
        detail = f"roles must be exactly {', '.join(ROLE_NAMES)}"
        raise SchemeError("ROLES-INVALID", file=origin, key_path="roles", detail=detail)
    known = fields()
    for name, role in got.roles.items():
        for i, p in enumerate(role.permissions):
            if p != "*" and p not in got.permissions:
                where = f"roles.{name}.permissions.{i}"
                raise SchemeError("ROLES-INVALID", file=origin, key_path=where, detail=f"unknown permission {p}")
        for i, f in enumerate(role.hidden):
            if f not in known:
                where = f"roles.{name}.hidden.{i}"
                raise SchemeError("ROLES-INVALID", file=origin, key_path=where, detail=f"unknown field {f}")


def load_roles(workspace: str | Path | None = None) -> Roles:
    """The roles policy: the workspace's ``roles.yaml`` if it has one, else the shipped one."""
    return load_policy("roles.yaml", Roles, "ROLES-INVALID", workspace, _check)
