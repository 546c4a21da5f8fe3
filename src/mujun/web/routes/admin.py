"""The administrator's pages: accounts (``/admin/users``: list, disable, enable) and the audit
(``/admin/audit``: every access and data change with filters, and 校验日志: ``?verify=1`` checks both logs' hash
chains as ``mujun history verify`` does). Accounts are added and passwords reset with ``mujun users`` on the
server, where a password can be typed without passing through a browser form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mujun.catalog.roles import load_roles
from mujun.ingest.spec import all_specs
from mujun.runs import accounts, audit
from mujun.runs.changes import verify_logs
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
    await run_in_threadpool(accounts.disable, request.app.state.mujun.workspace_path, name, me.name, off)
    return RedirectResponse("/admin/users", status_code=303)


def _touched(text: str, titles: dict[str, str]) -> str:
    """What an entry touched, a department's file named by its title: "ecology 2023, land 2023" →
    "排污单位主要污染物排放情况表 2023, 工业企业用地情况表 2023"; anything else as stored."""
    parts = []
    for part in text.split(", "):
        spec, _, rest = part.partition(" ")
        parts.append(f"{titles[spec]} {rest}".strip() if spec in titles else part)
    return ", ".join(parts)


@page(router, "/admin/audit", "admin_audit.html", perm="admin.audit")
def audit_log(request: Request) -> dict[str, Any]:
    q = request.query_params
    user, kind, log = q.get("user") or "", q.get("kind") or "", q.get("log") or ""
    lang = lang_of(request)
    with auth.reader(request) as r:
        rows = audit.merged(r.ws, r)
        # 校验日志: the same check as `mujun history verify` (both hash chains), run when the button asks
        checked = verify_logs(r.ws, r) if q.get("verify") == "1" else None
    kinds = sorted({e["kind"] for e in rows})
    users = sorted({e["user"] for e in rows})
    kept = [
        e
        for e in reversed(rows)
        if (not user or e["user"] == user) and (not kind or e["kind"] == kind) and (not log or e["log"] == log)
    ]
    titles = {spec.id: spec.title for spec in all_specs()}
    for e in kept[:SHOWN]:
        e["touched_text"] = _touched(e.get("touched") or "", titles)
    return {
        "entries": kept[:SHOWN],
        "total": len(kept),
        "kinds": kinds,
        "users": users,
        "filter": {"user": user, "kind": kind, "log": log},
        "verified": None if checked is None else [_verdict(log, got, lang) for log, got in checked.items()],
    }


def _verdict(log: str, got: tuple[int, str, Any], lang: str) -> dict[str, Any]:
    """One log's check in words (the texts `mujun history verify` prints)."""
    n, head, bad = got
    name = translate(f"hist.log.{log}", lang)
    if bad is None:
        return {"ok": True, "text": translate("hist.verify_ok", lang, log=name, n=n, head=head)}
    return {"ok": False, "text": translate("hist.verify_bad", lang, log=name, n=n, bad=bad)}
