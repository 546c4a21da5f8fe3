"""The departments' input templates on the web (数据体检 → 下载各部门报送模板): the same xlsx as
``mujun templates --spec ID`` (:func:`mujun.reports.input_templates.spec_template`), for whoever may upload
(``data.import``): a department's own layouts, every layout for the bureau."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import Response

from mujun.ingest.spec import all_specs, load_spec
from mujun.reports import input_templates
from mujun.web import auth
from mujun.web.i18n import lang_of, translate

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def template_specs(request: Request) -> list[dict[str, str]]:
    """The layouts this user may fill in and upload: id, title and department (none without ``data.import``)."""
    if not auth.user_of(request).allows("data.import", request.app.state.mujun.workspace_path):
        return []
    mine = auth.request_scope(request).specs
    return [
        {"id": s.id, "title": s.title, "department": s.department} for s in all_specs() if mine is None or s.id in mine
    ]


def template_response(request: Request, spec_id: str) -> Response:
    """The template of ``spec_id`` as a download named after the layout (404 when it is not one of the user's)."""
    if spec_id not in {s["id"] for s in template_specs(request)}:
        raise HTTPException(404, translate("pm.hl.no_template", lang_of(request), spec=spec_id))
    spec = load_spec(spec_id)
    body = input_templates.spec_template(spec, lang_of(request))
    name = quote(f"{spec.id}_{spec.title}.xlsx")
    disposition = f"attachment; filename=\"{spec.id}.xlsx\"; filename*=UTF-8''{name}"
    return Response(body, media_type=XLSX, headers={"Content-Disposition": disposition})
