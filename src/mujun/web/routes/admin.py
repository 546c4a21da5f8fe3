"""The administrator's pages: accounts (``/admin/users``: list, disable, enable) and the audit
(``/admin/audit``: every access and data change with filters). Accounts are added and passwords reset with
``mujun users`` on the server, where a password can be typed without passing through a browser form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from mujun.catalog.roles import load_roles
from mujun.runs import accounts, audit
from mujun.web import auth
from mujun.web.auth import permit
from mujun.web.i18n import lang_of, translate
from mujun.web.render import page
from mujun.web.security import check_csrf

router = APIRouter()
SHOWN = 500


@page(router, "/admin/users", "admin_users.html", perm="admin.users")
def users(request: Request) -> dict[str, Any]:
    lang = lang_of(request)
    roles = load_roles(request.app.state.mujun.workspace_path).roles
    rows = [
        {
            "name": u.name,
            "role": u.role,
            "role_label": getattr(roles[u.role].label, lang),
            "scope": u.unit or u.department or u.uscc or "",
            "disabled": u.disabled,
            "must_change": u.must_change,
        }
        for u in accounts.list_users(request.app.state.mujun.workspace_path)
    ]
    return {"users": rows, "me": auth.user_of(request).name}


@router.post(
    "/admin/users/{name}/disable",
    dependencies=[Depends(permit("admin.users")), Depends(check_csrf)],
    include_in_schema=False,
)
async def disable(request: Request, name: str) -> Response:
    form = await request.form()
    me = auth.user_of(request)
    off = str(form.get("disabled") or "1") == "1"
    if off and name == me.name:
        raise HTTPException(400, translate("admin.users.self", lang_of(request)))
    accounts.disable(request.app.state.mujun.workspace_path, name, me.name, off)
    return RedirectResponse("/admin/users", status_code=303)


@page(router, "/admin/audit", "admin_audit.html", perm="admin.audit")
def audit_log(request: Request) -> dict[str, Any]:
    q = request.query_params
    user, kind, log = q.get("user") or "", q.get("kind") or "", q.get("log") or ""
    with auth.reader(request) as r:
        rows = audit.merged(r.ws)
    kinds = sorted({e["kind"] for e in rows})
    users = sorted({e["user"] for e in rows})
    kept = [
        e
        for e in reversed(rows)
        if (not user or e["user"] == user) and (not kind or e["kind"] == kind) and (not log or e["log"] == log)
    ]
    return {
        "entries": kept[:SHOWN],
        "total": len(kept),
        "kinds": kinds,
        "users": users,
        "filter": {"user": user, "kind": kind, "log": log},
    }
