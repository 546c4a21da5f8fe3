"""``mujun bench exports``: the long exports of the web app and their background jobs (issue 13).

Targets on the 7,000-firm demo (``mujun demo``, newest year): the city's publicity PDF (≈ 6,800 firms,
≈ 160 pages) ≤ 30 s — WeasyPrint took 60-215 s —, the full results xlsx ≤ 2 s (was 3.5-8.5 s).

On a copy of ``--workspace`` (in a temporary folder: the re-evaluation writes a run; a bench user is added),
as a signed-in admin of the web app in this process (FastAPI's TestClient; no network):

* the city's publicity list as PDF (``GET /exports/publicity.pdf``, its pages counted in the file) and as
  xlsx, the full results as xlsx and CSV: the request's seconds;
* the same PDF and results xlsx as background jobs (``POST /exports/jobs``, ``POST /results/jobs``), from the
  POST to the moment the job's status says done (polled every 50 ms), with the file downloaded; the PDF with
  another publication date so that it is made again, not taken from the memo;
* evaluating the newest year again as a job (``POST /runs`` with ``job=1``), start to done.

Each figure is the best of ``repeat`` (the first run also loads the fonts; every PDF makes its font subset
afresh, as a list never made before does, though the app remembers subsets: ``typeset.forget_subsets``);
the machine's 1-minute load is printed with them, since the figures are wall-clock seconds.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from mujun.catalog.text import translate
from mujun.settings import DEFAULT_SCHEME

PDF_TARGET_S = 30.0
XLSX_TARGET_S = 2.0
PASSWORD = "bench-Exports-1-synthetic"


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


def _login(client: Any, workspace: Path) -> str:
    from mujun.runs import accounts

    name = "bench-exports"
    if accounts.get_user(workspace, name) is None:
        accounts.add_user(workspace, name, "admin", PASSWORD, by="bench")
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token.group(1)})
    got = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/exports").text)
    assert got is not None
    return got.group(1)


def _timed_get(client: Any, url: str) -> tuple[float, bytes]:
    start = time.perf_counter()
    r = client.get(url)
    took = time.perf_counter() - start
    if r.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {r.status_code}")
    return took, r.content


def _job(client: Any, action: str, form: dict[str, str]) -> tuple[float, dict[str, Any], bytes]:
    """Start a job; seconds until its status says it finished (and its file, downloaded after)."""
    start = time.perf_counter()
    r = client.post(action, data=form, follow_redirects=False)
    if r.status_code != 303:
        raise RuntimeError(f"{action}: HTTP {r.status_code}")
    where = r.headers["location"]
    while True:
        job = client.get(f"{where}.json").json()["job"]
        if job["finished"]:
            break
        time.sleep(0.05)
    took = time.perf_counter() - start
    if job["state"] != "done":
        raise RuntimeError(f"{action}: {job['message']}")
    body = client.get(job["download_url"]).content if job["download_url"] else b""
    return took, job, body


def run_exports_bench(workspace: str | Path, repeat: int = 2) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from mujun.reports.typeset import forget_subsets
    from mujun.web import create_app

    out: dict[str, Any] = {"load": _load(), "cpus": os.cpu_count() or 1, "repeat": repeat}
    with tempfile.TemporaryDirectory(prefix="mujun-bench-exports-") as tmp:
        copy = Path(tmp) / "ws"
        shutil.copytree(workspace, copy, ignore=shutil.ignore_patterns("serve.json", "uploads"))
        with TestClient(create_app(copy)) as client:
            csrf = _login(client, copy)
            page = client.get("/exports.json").json()
            out["firms"] = page["counts"]["rows"]
            out["listed"] = page["counts"]["listed"]
            out["year"] = page["selection"]["year"]
            times: dict[str, list[float]] = {k: [] for k in ("pdf", "pub_xlsx", "res_xlsx", "res_csv")}
            for i in range(repeat):
                day = (dt.date(2030, 1, 1) + dt.timedelta(days=i)).isoformat()  # a new date: made again
                forget_subsets()  # and its font subset with it, as for a list never made before
                took, pdf = _timed_get(client, f"/exports/publicity.pdf?date={day}")
                times["pdf"].append(took)
                out["pages"], out["pdf_bytes"] = _pages(pdf), len(pdf)
                times["pub_xlsx"].append(_timed_get(client, f"/exports/publicity.xlsx?date={day}")[0])
                times["res_xlsx"].append(_timed_get(client, "/results/export.xlsx")[0])
                times["res_csv"].append(_timed_get(client, "/results/export.csv")[0])
            for k, v in times.items():
                out[f"{k}_s"] = round(min(v), 2)
            job_pdf, job_xlsx = [], []
            for i in range(repeat):
                day = (dt.date(2031, 1, 1) + dt.timedelta(days=i)).isoformat()
                forget_subsets()
                took, _job_view, body = _job(
                    client, "/exports/jobs", {"csrf_token": csrf, "kind": "publicity.pdf", "date": day}
                )
                job_pdf.append(took)
                out["job_pdf_pages"] = _pages(body)
                sort = ("rank", "total_score", "name", "uscc")[i % 4]  # another view: made again, not the kept job
                took, _job_view, body = _job(
                    client, "/results/jobs", {"csrf_token": csrf, "kind": "xlsx", "sort": sort}
                )
                job_xlsx.append(took)
            out["job_pdf_s"] = round(min(job_pdf), 2)
            out["job_xlsx_s"] = round(min(job_xlsx), 2)
            took, job, _body = _job(
                client, "/runs", {"csrf_token": csrf, "job": "1", "year": str(out["year"]), "scheme": DEFAULT_SCHEME}
            )
            out["job_evaluate_s"] = round(took, 2)
            out["job_evaluate_result"] = job["result_url"]
    out["load_after"] = _load()
    return out


def format_exports_report(r: dict[str, Any]) -> str:
    def ok(v: float, target: float) -> str:
        return translate("bench.ok" if v <= target else "bench.not_ok")

    return "\n".join(
        [
            translate("bench.ex.title", **r),
            translate("bench.ex.pdf", s=r["pdf_s"], pages=r["pages"], kb=r["pdf_bytes"] // 1024,
                      target=PDF_TARGET_S, ok=ok(r["pdf_s"], PDF_TARGET_S)),
            translate("bench.ex.res_xlsx", s=r["res_xlsx_s"], target=XLSX_TARGET_S,
                      ok=ok(r["res_xlsx_s"], XLSX_TARGET_S)),
            translate("bench.ex.res_csv", s=r["res_csv_s"]),
            translate("bench.ex.pub_xlsx", s=r["pub_xlsx_s"]),
            translate("bench.ex.jobs", pdf=r["job_pdf_s"], pages=r["job_pdf_pages"], xlsx=r["job_xlsx_s"],
                      evaluate=r["job_evaluate_s"]),
        ]
    )  # fmt: skip
