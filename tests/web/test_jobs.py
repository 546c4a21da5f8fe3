"""Background jobs (issue 13, web/jobs.py): a long export, a new run or an import starts a job; its page shows a
<progress> (polled through the .json twin, a meta refresh without JavaScript) and then the download or the
page it made; a failure shows its catalogued message, never a traceback; nobody but the user who started a
job reaches it. The job page in a browser at 1440 and 390 px (screenshots in test-artifacts/screenshots)."""

from __future__ import annotations

import io
import re
import threading
import time
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from pypdf import PdfReader
from tests.web.conftest import ARTIFACTS, LiveServer
from tests.web.signin import login, session_cookie, signed_in

from mujun.web import create_app
from mujun.web.routes import exports

JOB_URL = re.compile(r"^/(exports|results|runs|upload)/jobs/[\w-]{16}$")


def _csrf(client: Any) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account/password").text)
    assert found
    return found.group(1)


def _wait(client: Any, where: str, seconds: float = 120) -> dict[str, Any]:
    deadline = time.time() + seconds
    while time.time() < deadline:
        job = client.get(f"{where}.json").json()["job"]
        if job["finished"]:
            return job
        time.sleep(0.05)
    raise AssertionError(f"{where} did not finish")


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The publicity PDF job stops at 25 % of its layout until ``held.release()``."""

    class Held:
        reached = threading.Event()
        gate = threading.Event()

        def release(self) -> None:
            self.gate.set()

    h = Held()
    real = exports.publicity_pdf

    def slow(doc: Any, progress: Any = None) -> bytes:
        progress(0.25, "layout")
        h.reached.set()
        assert h.gate.wait(60)
        return real(doc, progress)

    monkeypatch.setattr(exports, "publicity_pdf", slow)
    yield h
    h.release()


def test_pdf_job_start_progress_done_download(demo_workspace, held) -> None:
    from mujun.runs import audit

    with signed_in(create_app(demo_workspace), name="test-jobs-admin") as c:
        token = _csrf(c)
        form = {"csrf_token": token, "kind": "publicity.pdf", "date": "2025-04-01", "class": "A"}
        r = c.post("/exports/jobs", data=form, follow_redirects=False)
        assert r.status_code == 303 and JOB_URL.match(r.headers["location"]), r.headers
        where = r.headers["location"]
        assert held.reached.wait(60)
        job = c.get(f"{where}.json").json()["job"]
        assert (job["state"], job["fraction"], job["percent"], job["step"]) == ("running", 0.25, 25, "layout")
        assert job["step_label"] == "排版" and job["state_label"] == "进行中" and not job["download_url"]
        assert job["title"].startswith("公示名单 PDF（2024 年度，")
        page = c.get(where).text
        assert '<progress id="job-progress" max="1" value="0.25"' in page
        assert f'data-job-status="{where}.json"' in page
        assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
        # the same request again while it runs is the same job
        assert c.post("/exports/jobs", data=form, follow_redirects=False).headers["location"] == where
        held.release()
        job = _wait(c, where)
        assert job["state"] == "done" and job["download_url"] == f"{where}/download" and job["percent"] == 100
        page = c.get(where).text
        assert 'id="job-download"' in page and "data-job-status" not in page and "http-equiv" not in page
        got = c.get(job["download_url"])
        assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
        assert 'filename="publicity.pdf"' in got.headers["content-disposition"]
        assert "%E5%85%AC%E7%A4%BA%E5%90%8D%E5%8D%95_2024_linyi-2022_A.pdf" in got.headers["content-disposition"]
        pages = [p.extract_text() for p in PdfReader(io.BytesIO(got.content)).pages]
        n = len(pages)
        assert pages[0].startswith("临沂市2024年度") and f"第 {n} 页 / 共 {n} 页" in pages[-1]
        assert "2025年4月1日" in pages[-1] and "B类" not in "".join(pages)
        # the direct URL now answers from memory with the same file
        direct = c.get("/exports/publicity.pdf", params={"date": "2025-04-01", "class": "A"})
        assert direct.content == got.content
    entries = [e for e in audit.entries(demo_workspace) if e["user"] == "test-jobs-admin" and e["kind"] == "export"]
    assert any(e["touched"] == "/exports/publicity.pdf" and "job" in e["summary"] for e in entries), entries


def test_a_user_has_at_most_four_jobs_unfinished(demo_workspace, held) -> None:
    with signed_in(create_app(demo_workspace), name="test-jobs-many") as c:
        token = _csrf(c)
        started = []
        for day in range(1, 5):
            form = {"csrf_token": token, "kind": "publicity.pdf", "date": f"2025-08-0{day}"}
            r = c.post("/exports/jobs", data=form, follow_redirects=False)
            assert r.status_code == 303
            started.append(r.headers["location"])
        states = [c.get(f"{w}.json").json()["job"]["state"] for w in started]
        assert states.count("queued") >= 2  # two workers: the others wait in line
        assert "排队等待" in c.get(started[-1]).text
        form = {"csrf_token": token, "kind": "publicity.pdf", "date": "2025-08-01"}
        assert c.post("/exports/jobs", data=form, follow_redirects=False).headers["location"] == started[0]
        form["date"] = "2025-08-05"
        refused = c.post("/exports/jobs", data=form, follow_redirects=False)
        assert refused.status_code == 429 and "您已有 4 项任务正在进行或排队" in refused.text
        held.release()
        assert all(_wait(c, w)["state"] == "done" for w in started)
        assert c.post("/exports/jobs", data=form, follow_redirects=False).status_code == 303


def test_only_the_user_who_started_a_job_reaches_it(demo_workspace) -> None:
    app = create_app(demo_workspace)
    with signed_in(app, name="test-jobs-owner") as c:
        form = {"csrf_token": _csrf(c), "kind": "xlsx", "class": "B"}
        where = c.post("/results/jobs", data=form, follow_redirects=False).headers["location"]
        job = _wait(c, where)
        assert job["state"] == "done"
        mine = c.get(job["download_url"])
        assert mine.status_code == 200
        rows = list(load_workbook(io.BytesIO(mine.content), read_only=True).worksheets[0].iter_rows(values_only=True))
        klass = rows[1].index("评价类别")
        assert len(rows) > 3 and {r[klass] for r in rows[2:]} == {"B"}
        owner = c.cookies.get("mujun_session")
        for role, scope in (("admin", {}), ("county", {"unit": "兰山区"})):
            c.cookies.clear()
            login(c, demo_workspace, role, name=f"test-jobs-other-{role}", **scope)
            for url in (where, f"{where}.json", job["download_url"]):
                got = c.get(url)
                assert got.status_code == 404, (role, url, got.status_code)
                assert "test-jobs-owner" not in got.text
            assert "只有发起人本人可以查看" in c.get(where).text
        c.cookies.clear()
        assert c.get(job["download_url"], follow_redirects=False).status_code == 303  # anonymous: to the login
        c.cookies.set("mujun_session", owner)
        assert c.get(job["download_url"]).content == mine.content
        # another area's address of the same job is not it either
        assert c.get(where.replace("/results/", "/exports/")).status_code == 404


def test_a_failure_shows_its_message_not_a_traceback(demo_workspace, monkeypatch) -> None:
    def broken(doc: Any, progress: Any = None) -> bytes:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(exports, "publicity_pdf", broken)
    with signed_in(create_app(demo_workspace), name="test-jobs-failure") as c:
        form = {"csrf_token": _csrf(c), "kind": "publicity.pdf", "date": "2025-04-02"}
        where = c.post("/exports/jobs", data=form, follow_redirects=False).headers["location"]
        job = _wait(c, where)
        assert job["state"] == "failed" and not job["download_url"]
        assert job["message"] == "处理时出现内部错误，已记录日志；请稍后重试，或联系系统管理员。"
        page = c.get(where)
        assert page.status_code == 200 and 'role="alert"' in page.text and "任务未能完成" in page.text
        assert "secret" not in page.text and "Traceback" not in page.text and "RuntimeError" not in page.text
        en = c.get(where + "?lang=en").text
        assert "An internal error stopped the job" in en
        # a failed job is not kept as the answer: the same request again starts a new job
        again = c.post("/exports/jobs", data=form, follow_redirects=False).headers["location"]
        assert again != where
        bad = c.post("/exports/jobs", data={"csrf_token": _csrf(c), "kind": "publicity.exe"})
        assert bad.status_code == 400 and "Unknown kind of export" in bad.text  # the lang cookie says English now


def test_an_evaluation_job_forwards_to_the_new_run(workspace_copy) -> None:
    with signed_in(create_app(workspace_copy), name="test-jobs-evaluate") as c:
        token = _csrf(c)
        runs = len(c.app.state.mujun.ws.runs())
        r = c.post("/runs", data={"csrf_token": token, "job": "1", "year": "2024", "scheme": "linyi-2022"},
                   follow_redirects=False)  # fmt: skip
        assert r.status_code == 303 and r.headers["location"].startswith("/runs/jobs/")
        job = _wait(c, r.headers["location"])
        assert job["state"] == "done" and job["result_url"] == "/?year=2024&scheme=linyi-2022"
        assert not job["download_url"] and job["title"] == "重新评价 2024 年度（方案 linyi-2022）"
        page = c.get(r.headers["location"]).text
        assert 'id="job-result" href="/?year=2024&amp;scheme=linyi-2022"' in page
        assert '<noscript><meta http-equiv="refresh" content="1;url=/?year=2024&amp;scheme=linyi-2022">' in page
        assert len(c.app.state.mujun.ws.runs()) == runs + 1
        # a year without data: the failure is the catalogued message of the error
        r = c.post("/runs", data={"csrf_token": token, "job": "1", "year": "1999", "scheme": "linyi-2022"},
                   follow_redirects=False)  # fmt: skip
        job = _wait(c, r.headers["location"])
        assert job["state"] == "failed" and job["message"] and "Traceback" not in job["message"]
        assert "1999" in job["message"], job["message"]
        assert len(c.app.state.mujun.ws.runs()) == runs + 1  # nothing stored


def test_an_import_job_forwards_to_its_report(demo_workspace, workspace_copy) -> None:
    source = demo_workspace.parent / "synthetic-data" / "2024" / "land_2024.csv"
    body = source.read_bytes().rstrip(b"\r\n").rsplit(b"\n", 1)[0] + b"\n"  # one firm less than the demo's file
    with signed_in(create_app(workspace_copy), name="test-jobs-import") as c:
        token = _csrf(c)
        r = c.post(
            "/upload", data={"csrf_token": token, "year": "2024"}, files={"files": ("land.csv", body, "text/csv")}
        )
        assert r.status_code == 200 and 'name="job" value="1"' in r.text
        upload = re.search(r'name="token" value="([0-9a-f]{64})"', r.text)
        assert upload
        r = c.post("/upload/confirm", data={"csrf_token": token, "token": upload.group(1), "job": "1"},
                   follow_redirects=False)  # fmt: skip
        assert r.status_code == 303 and r.headers["location"].startswith("/upload/jobs/")
        job = _wait(c, r.headers["location"])
        assert job["state"] == "done" and job["result_url"].startswith("/health?import=imp-"), job
        assert "导入完成" in c.get(job["result_url"]).text


# -- the job page in a browser ----------------------------------------------------------------------------------


def _context(browser: Any, server: LiveServer, width: int, height: int, name: str) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", accept_downloads=True)
    context.add_cookies([session_cookie(server.url, server.workspace, name=name)])
    return context


def _fits(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"


@pytest.mark.parametrize("width,height", [(1440, 900), (390, 844)])
def test_job_page_in_browser(browser, live_server, held, width, height) -> None:
    context = _context(browser, live_server, width, height, f"test-jobs-browser-{width}")
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(f"{live_server.url}/exports?date=2025-05-{width % 28 + 1:02d}")
        page.click("#publicity-pdf")
        page.wait_for_url("**/exports/jobs/**")
        assert held.reached.wait(60)
        expect(page.locator("#job-percent")).to_have_text("25%")  # the page polled the job's status
        bar = page.locator("progress#job-progress")
        assert bar.get_attribute("value") == "0.25" and page.locator("#job-step").inner_text() == "排版"
        page.wait_for_timeout(1500)  # a poll or two later: the time taken has moved on
        assert page.locator("#job-seconds").inner_text() != "已用时 0.0 秒"
        _fits(page, width)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"job-running-{width}.png"), full_page=True)
        held.release()
        page.locator("#job-download").wait_for(timeout=120_000)
        assert page.locator("#job-state").inner_text() == "已完成"
        assert page.locator("progress#job-progress").get_attribute("value") == "1.0"
        _fits(page, width)
        page.screenshot(path=str(ARTIFACTS / f"job-done-{width}.png"), full_page=True)
        with page.expect_download() as dl:
            page.click("#job-download")
        pdf = PdfReader(dl.value.path())
        assert pdf.pages[0].extract_text().startswith("临沂市2024年度")
        assert not errors, errors
    finally:
        context.close()


def test_failed_job_page_in_browser(browser, live_server, monkeypatch) -> None:
    from mujun.errors import InputError

    def refused(doc: Any, progress: Any = None) -> bytes:
        raise InputError("IMPORT-OTHER-DEPARTMENT", spec="tax", own="land")  # any catalogued error

    monkeypatch.setattr(exports, "publicity_pdf", refused)
    context = _context(browser, live_server, 390, 844, "test-jobs-browser-failed")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/exports?date=2025-06-30")
        page.click("#publicity-pdf")
        page.wait_for_url("**/exports/jobs/**")
        page.locator("#job-error").wait_for(timeout=60_000)
        text = page.locator("#job-error").inner_text()
        assert text.startswith("任务未能完成：") and "tax" in text and "Traceback" not in text
        assert page.locator("progress#job-progress").get_attribute("value") == "0"  # not a moving bar any more
        _fits(page, 390)
        page.screenshot(path=str(ARTIFACTS / "job-failed-390.png"), full_page=True)
    finally:
        context.close()


def test_job_page_without_javascript(browser, live_server, held) -> None:
    """The page reloads itself (meta refresh) until the job is done, then offers the file."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, java_script_enabled=False)
    context.add_cookies([session_cookie(live_server.url, live_server.workspace, name="test-jobs-nojs")])
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/exports?date=2025-07-01")
        page.click("#publicity-pdf")
        page.wait_for_url("**/exports/jobs/**")
        assert held.reached.wait(60)
        assert "本页每 2 秒自动刷新一次" in page.locator("main").inner_text()
        held.release()
        page.locator("#job-download").wait_for(timeout=60_000)  # after a refresh
        assert page.locator("#job-state").inner_text() == "已完成"
    finally:
        context.close()


def test_bench_exports_prints_the_figures(demo_workspace) -> None:
    """``mujun bench exports`` on the session's demo (300 firms; the targets are for the 7,000-firm demo)."""
    from mujun.bench.exports import format_exports_report, run_exports_bench
    from mujun.catalog.text import translate
    from mujun.runs.accounts import get_user

    got = run_exports_bench(demo_workspace, repeat=1)
    assert got["pages"] >= 2 and got["pages"] == got["job_pdf_pages"] and got["listed"] > 100
    assert all(got[k] > 0 for k in ("pdf_s", "res_xlsx_s", "pub_xlsx_s", "job_pdf_s", "job_xlsx_s", "job_evaluate_s"))
    assert got["job_evaluate_result"].startswith("/?year=")
    text = format_exports_report(got)
    assert "公示名单 PDF（全市）" in text and f"{got['pages']} 页" in text and "{" not in text
    assert translate("bench.ex.jobs", "en", pdf=1, pages=2, xlsx=3, evaluate=4).startswith("  background jobs")
    assert get_user(demo_workspace, "bench-exports") is None  # it worked on a copy


# -- reviewed defects (jobs and the PDF memo) ------------------------------------------------------------------


def test_publicity_pdfs_kept_in_memory_are_bounded(demo_workspace, monkeypatch) -> None:
    """Finished PDFs were memoised per run, scope, filter and date without a bound, and the date and the filter
    are free input: now the :data:`exports.PDFS_KEPT` used last are kept."""
    made: list[str] = []

    def fake(doc: Any, progress: Any = None) -> bytes:
        made.append(doc.date)
        return b"%PDF-1.7 synthetic " + doc.date.encode()

    monkeypatch.setattr(exports, "publicity_pdf", fake)
    with signed_in(create_app(demo_workspace), name="test-jobs-memo") as c:
        state = c.app.state.mujun
        days = [f"2025-09-{d:02d}" for d in range(1, exports.PDFS_KEPT + 5)]
        for day in days:
            assert c.get("/exports/publicity.pdf", params={"date": day}).status_code == 200
        assert len(made) == len(days)
        assert not [k for k in state.memo if isinstance(k, tuple) and k and k[0] == "publicity.pdf"]
        assert len(state.bounded["publicity.pdf"]._items) == exports.PDFS_KEPT
        c.get("/exports/publicity.pdf", params={"date": days[-1]})  # kept: not made again
        assert len(made) == len(days)
        c.get("/exports/publicity.pdf", params={"date": days[0]})  # dropped long ago: made again
        assert len(made) == len(days) + 1


def test_a_missing_font_shows_its_catalogued_message(demo_workspace, monkeypatch) -> None:
    """The server without the CJK font: the job says so (catalogued, in the reader's language), not "internal
    error"."""
    from mujun.catalog.text import translate
    from mujun.reports.typeset import FontMissing

    def no_font(doc: Any, progress: Any = None) -> bytes:
        raise FontMissing("Noto Sans CJK SC Regular")

    monkeypatch.setattr(exports, "publicity_pdf", no_font)
    with signed_in(create_app(demo_workspace), name="test-jobs-font") as c:
        form = {"csrf_token": _csrf(c), "kind": "publicity.pdf", "date": "2025-04-03"}
        where = c.post("/exports/jobs", data=form, follow_redirects=False).headers["location"]
        job = _wait(c, where)
        assert job["state"] == "failed"
        assert job["message"] == translate("rep.pdf_font", "zh", font="Noto Sans CJK SC Regular")
        assert "fonts-noto-cjk" in job["message"] and "内部错误" not in job["message"]
        en = c.get(f"{where}.json?lang=en").json()["job"]["message"]
        assert en.startswith("The Chinese font Noto Sans CJK SC Regular needed for PDFs is not installed")


def test_finished_jobs_are_kept_per_user(monkeypatch) -> None:
    """KEEP_JOBS counted every user's finished jobs together: one user's many jobs pushed out everyone else's.
    Now each user keeps their KEEP_PER_USER newest (KEEP_JOBS of all stays as a backstop)."""
    from mujun.views import Scope
    from mujun.web import jobs

    registry = jobs.Registry(workers=1)
    try:

        def run(user: str, n: int) -> jobs.Job:
            job = jobs.Job(id=f"{user}-{n}", area="exports", kind="k", user=user, scope=Scope(), title="t", values={})
            got = registry.start(job, lambda j: jobs.Result())
            assert got is job
            deadline = time.time() + 30
            while job.finished is None and time.time() < deadline:
                time.sleep(0.005)
            assert job.state == "done"
            return job

        early = run("test-quiet", 0)
        for n in range(jobs.KEEP_PER_USER + 10):
            run("test-busy", n)
        registry.get("nothing")  # the clean-up runs when jobs are looked up or started
        busy = [j for j in registry._jobs.values() if j.user == "test-busy"]
        assert len(busy) == jobs.KEEP_PER_USER
        assert {j.id for j in busy} == {f"test-busy-{n}" for n in range(10, jobs.KEEP_PER_USER + 10)}
        assert registry.get(early.id) is early  # another user's job is not pushed out
        monkeypatch.setattr(jobs, "KEEP_JOBS", 5)  # the backstop over all users
        registry.get("nothing")
        assert len(registry._jobs) == 5 and registry.get(early.id) is None
    finally:
        registry.close()


def test_a_download_racing_the_clean_up_is_whole_or_gone(demo_workspace, monkeypatch) -> None:
    """The clean-up may remove a job's file while it is being downloaded: the file opened is sent whole; a file
    already gone is 404 with the catalogued message (it was a 500)."""
    import shutil

    from mujun.runs import audit

    with signed_in(create_app(demo_workspace), name="test-jobs-race") as c:
        form = {"csrf_token": _csrf(c), "kind": "publicity.xlsx", "date": "2025-04-04"}
        where = c.post("/exports/jobs", data=form, follow_redirects=False).headers["location"]
        job = _wait(c, where)
        assert job["state"] == "done"
        whole = c.get(job["download_url"]).content
        assert whole[:2] == b"PK"
        kept = c.app.state.jobs.get(where.rsplit("/", 1)[-1])
        real = audit.record

        def removing(*args: Any, **kwargs: Any) -> Any:  # the clean-up runs between the check and the sending
            shutil.rmtree(kept.folder)
            return real(*args, **kwargs)

        monkeypatch.setattr(audit, "record", removing)
        got = c.get(job["download_url"])
        assert got.status_code == 200 and got.content == whole
        monkeypatch.setattr(audit, "record", real)
        gone = c.get(job["download_url"])
        assert gone.status_code == 404 and "已被清理" in gone.text, gone.text[:300]


def test_an_import_refused_for_too_many_jobs_keeps_the_upload(
    demo_workspace, workspace_copy, held, monkeypatch
) -> None:
    """confirm_upload moved the files and dropped the preview before jobs.start answered 429: the upload was
    lost. Now the limit is asked first, and a refusal that comes anyway (another job started meanwhile) puts the
    upload back; the same preview is imported once a job has finished."""
    from mujun.web import jobs

    source = demo_workspace.parent / "synthetic-data" / "2024" / "land_2024.csv"
    body = source.read_bytes().rstrip(b"\r\n").rsplit(b"\n", 1)[0] + b"\n"  # one SYNTHETIC firm less
    with signed_in(create_app(workspace_copy), name="test-jobs-upload-limit") as c:
        token = _csrf(c)
        started = []
        for day in range(1, 5):  # four jobs unfinished: the limit
            form = {"csrf_token": token, "kind": "publicity.pdf", "date": f"2025-10-0{day}"}
            started.append(c.post("/exports/jobs", data=form, follow_redirects=False).headers["location"])
        r = c.post(
            "/upload", data={"csrf_token": token, "year": "2024"}, files={"files": ("land.csv", body, "text/csv")}
        )
        upload = re.search(r'name="token" value="([0-9a-f]{64})"', r.text)
        assert r.status_code == 200 and upload
        confirm = {"csrf_token": token, "token": upload.group(1), "job": "1"}
        pending = c.app.state.mujun.workspace_path / "uploads" / ".pending" / upload.group(1)
        refused = c.post("/upload/confirm", data=confirm, follow_redirects=False)
        assert refused.status_code == 429 and "您已有 4 项任务正在进行或排队" in refused.text
        with monkeypatch.context() as m:  # the check passes, then the start is refused: undone
            m.setattr(jobs, "room", lambda request: None)
            refused = c.post("/upload/confirm", data=confirm, follow_redirects=False)
            assert refused.status_code == 429
        assert (pending / "upload.json").is_file() and (pending / "land.csv").is_file()
        held.release()
        assert all(_wait(c, w)["state"] == "done" for w in started)
        r = c.post("/upload/confirm", data=confirm, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/upload/jobs/"), r.text[:300]
        job = _wait(c, r.headers["location"])
        assert job["state"] == "done" and job["result_url"].startswith("/health?import=imp-"), job
        assert not pending.exists()


def test_job_page_stops_polling_on_a_4xx(browser, live_server, held) -> None:
    """The page polled a forgotten job (404) or a signed-out session (401) for ever: now any 4xx stops it and the
    page shows the server's catalogued message."""
    context = _context(browser, live_server, 1440, 900, "test-jobs-browser-gone")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/exports?date=2025-05-30")
        page.click("#publicity-pdf")
        page.wait_for_url("**/exports/jobs/**")
        assert held.reached.wait(60)
        expect(page.locator("#job-percent")).to_have_text("25%")
        calls: list[str] = []
        gone = "找不到这项任务：任务及其结果只保留 1 小时，且只有发起人本人可以查看。"

        def forgotten(route: Any) -> None:
            calls.append(route.request.url)
            route.fulfill(status=404, content_type="application/json", json={"error": gone, "status": 404})

        page.route("**/exports/jobs/*.json", forgotten)
        expect(page.locator("#job-state")).to_have_text(gone, timeout=10_000)
        page.wait_for_timeout(4000)  # the page polled every 1-3 s
        assert len(calls) == 1, calls
        assert page.locator("#job-state").get_attribute("role") == "alert"
    finally:
        context.close()
