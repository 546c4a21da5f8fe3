"""导出公示: the publicity list as xlsx and PDF (read back), filters, the exports page in a real browser."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from tests.web.signin import signed_in

HEADERS = ("序号", "企业名称", "统一社会信用代码", "县区", "综合得分", "评价类别")
TITLE = "临沂市2024年度工业企业亩产效益综合评价结果公示"


def _graded(client, **filters: str) -> dict[str, dict]:
    """The graded firms by USCC, as the results page shows them (/results.json, all pages)."""
    params = {"status": "graded", "per_page": 200, **filters}
    first = client.get("/results.json", params=params).json()
    out = {}
    for p in range(1, first["pages"] + 1):
        out |= {r["uscc"]: r for r in client.get("/results.json", params={**params, "page": p}).json()["rows"]}
    return out


def _sheets(content: bytes) -> dict[str, list[tuple]]:
    """Each sheet's data rows (after the header row), and the rows above it under key '_top_<sheet>'."""
    wb = load_workbook(io.BytesIO(content), read_only=True)
    out: dict[str, list[tuple]] = {}
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        at = next(i for i, r in enumerate(rows) if tuple(r[:6]) == HEADERS)
        out["_top_" + ws.title] = rows[:at]
        out[ws.title] = [r for r in rows[at + 1 :] if isinstance(r[0], int)]
    return out


@pytest.fixture(scope="module")
def full_pdf(demo_workspace) -> tuple[bytes, list[str]]:

    from mujun.web import create_app

    with signed_in(create_app(demo_workspace)) as c:
        body = c.get("/exports/publicity.pdf?date=2025-03-08").content
    return body, [p.extract_text() for p in PdfReader(io.BytesIO(body)).pages]


def test_page_json_counts(client):
    ov = client.get("/overview.json").json()["summary"]
    ex = client.get("/exports.json").json()
    c = ex["counts"]
    assert c["listed"] == ov["graded"] and c["firms"] == ov["firms"] == c["rows"]
    assert sum(g["n"] for g in c["groups"]) == c["listed"]
    assert c["classes"] == {k: ov["classes"][k] for k in "ABCD"}  # T-class firms are not graded
    assert ex["links"]["publicity_pdf"].startswith("/exports/publicity.pdf?year=2024&scheme=linyi-2022")
    assert ex["synthetic"] is True
    assert len(ex["firms"]) == 20
    assert all(f["sheet_url"].startswith(f"/enterprise/{f['uscc']}/sheet.pdf") for f in ex["firms"])
    county = ex["facets"]["county"][0]
    one = client.get("/exports.json", params={"county": county, "class": "A"}).json()["counts"]
    assert one["classes"] == {"A": one["listed"]} and one["listed"] < c["listed"]


def test_xlsx_is_the_published_list(client):
    r = client.get("/exports/publicity.xlsx", params={"date": "2025-03-08"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxml")
    assert "attachment" in r.headers["content-disposition"]
    sheets = _sheets(r.content)
    data = {k: v for k, v in sheets.items() if not k.startswith("_top_")}
    graded = client.get("/overview.json").json()["summary"]["graded"]
    assert sum(len(v) for v in data.values()) == graded
    by_uscc = _graded(client)
    assert len(by_uscc) == graded
    for name, rows in data.items():
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1))  # 序号 1..n
        top = sheets["_top_" + name]
        assert top[0][0].startswith("临沂市2024年度规模") and top[0][0].endswith("亩产效益综合评价结果公示名单")
        assert any("合成数据（SYNTHETIC）" in str(t[0]) for t in top)
        group = {by_uscc[r[2]]["group"] for r in rows}
        assert len(group) == 1  # one group per sheet
        ranks = [by_uscc[r[2]]["rank"] for r in rows]
        assert ranks == sorted(ranks)  # published order: rank within the group
        for _seq, firm, uscc, county, score, klass in rows:
            res = by_uscc[uscc]
            assert (firm, county, klass) == (res["name"], res["county"], f"{res['class']}类")
            assert score == pytest.approx(res["total_score"])


def test_xlsx_county_and_class_filter(client):
    county = client.get("/exports.json").json()["facets"]["county"][1]
    want = client.get("/results.json", params={"county": county, "status": "graded", "per_page": 200}).json()
    sheets = _sheets(client.get("/exports/publicity.xlsx", params={"county": county}).content)
    rows = [r for k, v in sheets.items() if not k.startswith("_top_") for r in v]
    assert len(rows) == want["total"] and {r[3] for r in rows} == {county}
    assert all(top[0][0].startswith(f"临沂市{county}2024年度") for k, top in sheets.items() if k.startswith("_top_"))
    d = _sheets(client.get("/exports/publicity.xlsx", params={"class": "D"}).content)
    d_rows = [r for k, v in d.items() if not k.startswith("_top_") for r in v]
    assert len(d_rows) == client.get("/overview.json").json()["summary"]["classes"]["D"]
    assert {r[5] for r in d_rows} == {"D类"}


def test_pdf_title_headers_footer(client, full_pdf):
    body, pages = full_pdf
    assert body.startswith(b"%PDF")
    n = len(pages)
    assert n > 1
    text = "\n".join(pages)
    assert pages[0].startswith(TITLE)
    assert "临沂市2024年度规模以上工业企业亩产效益综合评价结果公示名单" in pages[0]
    assert "合成数据（SYNTHETIC）" in pages[0] and "2025年3月8日" in text
    table_pages = [p for p in pages if "（合成）" in p]
    assert len(table_pages) >= n - 1
    for p in table_pages:  # the header is repeated on every page of a table
        assert all(h in p for h in HEADERS[1:])
    assert "公示期为5个工作日，自2025年3月8日起" in pages[-1]
    assert f"第 1 页 / 共 {n} 页" in pages[0] and f"第 {n} 页 / 共 {n} 页" in pages[-1]
    firms = client.get("/exports.json").json()["firms"]
    for f in firms[:5]:
        assert f["name"] in text and f["uscc"] in text
    graded = _graded(client)
    assert all(u in text for u in graded)  # every graded firm is on the list (USCCs never wrap)


def test_pdf_county_filter(client):
    county = client.get("/exports.json").json()["facets"]["county"][0]
    r = client.get("/exports/publicity.pdf", params={"county": county})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert f"临沂市{county}2024年度" in text
    mine = _graded(client, county=county)
    assert mine and all(u in text for u in mine)
    others = [c for c in client.get("/exports.json").json()["facets"]["county"] if c != county]
    firm = client.get("/results.json", params={"county": others[0], "status": "graded"}).json()["rows"][0]
    assert firm["uscc"] not in text


def test_empty_list_and_escaping(client):
    r = client.get("/exports.json", params={"county": "<script>alert(1)</script>"})
    assert r.json()["counts"]["listed"] == 0
    page = client.get("/exports", params={"county": "<script>alert(1)</script>"}).text
    assert "<script>alert(1)" not in page and 'id="publicity-empty"' in page
    x = client.get("/exports/publicity.xlsx", params={"county": "nowhere"})
    assert x.status_code == 200 and _sheets(x.content)  # a titled sheet with the headers, no rows


def test_exports_page_in_browser(visit):
    page = visit("/exports", shot="exports")
    assert page.locator("h1").inner_text().startswith("2024 年度")
    assert page.locator("#sheets-table tbody tr").count() == 20
    county = page.locator("select[name=county] option").nth(1).get_attribute("value")
    page.select_option("select[name=county]", county)
    page.click("#export-filter button[type=submit]")
    page.wait_for_url("**county=**")
    visit.shot("exports-county")
    # each document is made as a background job: its page shows the progress, then the download (web/jobs.py)
    page.click("#publicity-xlsx")
    page.wait_for_url("**/exports/jobs/**")
    with page.expect_download() as dl:
        page.locator("#job-download").click()
    assert dl.value.suggested_filename.endswith(".xlsx") and county in dl.value.suggested_filename
    with open(dl.value.path(), "rb") as fh:
        rows = [r for k, v in _sheets(fh.read()).items() if not k.startswith("_top_") for r in v]
    assert rows and {r[3] for r in rows} == {county}
    page.go_back()
    page.click("#publicity-pdf")
    page.wait_for_url("**/exports/jobs/**")
    with page.expect_download(timeout=120_000) as dl:
        page.locator("#job-download").click(timeout=120_000)
    pdf = PdfReader(dl.value.path())
    assert county in pdf.pages[0].extract_text()
    page.go_back()  # the full results are background jobs too; their direct URLs stay for scripts
    for button, kind in (("#results-xlsx", "xlsx"), ("#results-csv", "csv")):
        form = page.locator(f"form:has({button})")
        assert form.get_attribute("action") == "/results/jobs"
        assert form.locator("input[name=kind]").get_attribute("value") == kind
        assert form.locator("input[name=county]").get_attribute("value") == county
    links = page.request.get(visit.base + "/exports.json?county=" + county).json()["links"]
    for link in ("results_xlsx", "results_csv"):
        assert page.request.get(visit.base + links[link]).status == 200
    sheet = page.locator("#sheets-table tbody a", has_text="PDF").first.get_attribute("href")
    assert sheet.startswith("/enterprise/") and "/sheet.pdf?run=" in sheet
    visit.check()
    page = visit("/exports?lang=en", shot="exports-en")
    assert page.locator("h1").inner_text().startswith("Exports and publicity")


def test_a_list_pdf_is_made_once(client):
    """A run never changes: the same list (run, scope, filter, date) is made once and then served from memory."""
    county = client.get("/exports.json").json()["facets"]["county"][2]
    params = {"county": county, "class": "B", "date": "2025-03-10"}
    first = client.get("/exports/publicity.pdf", params=params)
    assert first.status_code == 200
    text = PdfReader(io.BytesIO(first.content)).pages[0].extract_text()
    assert f"临沂市{county}2024年度" in text and "B类" in text and "A类" not in text
    assert client.get("/exports/publicity.pdf", params=params).content == first.content


# -- the firm's explanation sheet (issue 14): a download that says who issues it, the year, and how to object --


def _flat(pdf: bytes) -> str:
    """The PDF's text with white space removed (lines wrap where the layout puts them)."""
    return "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def test_firm_sheet_downloads_and_names_the_issuer_year_and_objection(client):
    from urllib.parse import quote

    firm = client.get("/exports.json").json()["firms"][0]
    got = client.get(firm["sheet_url"])
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;"), disposition  # a file to keep, not a page that opens inline
    assert f"filename*=UTF-8''{quote(firm['name'])}_2024_" in disposition
    text = _flat(got.content)
    assert "发布单位：临沂市工业企业亩产效益评价工作领导小组办公室" in text
    assert "评价年度：2024年度" in text
    # no publicity window is open for this run: the sheet says where the deadline comes from
    assert "本说明单不是公示文件" in text and "提出异议的地点和截止日期以公示通知为准" in text
    assert "publicity.yaml" not in text
    en = _flat(client.get(firm["sheet_url"] + "&lang=en").content)
    assert "Issuedby:LinyiOffice" in en and "Evaluationyear:2024" in en and "publicitynotice" in en


def test_firm_sheet_gives_the_publicity_deadline_and_where_to_object(workspace_copy):
    import datetime as dt

    from mujun.cycle import publicity
    from mujun.runs.workspace import Workspace
    from mujun.web import create_app

    first = dt.date.today()
    last = first + dt.timedelta(days=9)
    with Workspace(workspace_copy) as ws:
        publicity.open_window(ws, 2024, first, last, actor="analyst")
    with signed_in(create_app(workspace_copy)) as c:
        firm = c.get("/exports.json").json()["firms"][0]
        text = _flat(c.get(firm["sheet_url"]).content)
        en = _flat(c.get(firm["sheet_url"] + "&lang=en").content)
    day = f"{last.year}年{last.month}月{last.day}日"  # by hand: the window's last day, Chinese style
    assert f"请于{day}前（含当日）在临沂市工业企业亩产效益综合评价系统" in text
    assert f"公示期为{first.year}年{first.month}月{first.day}日至{day}" in text
    assert f"objectuntil{last.day}{last:%B}{last.year}(inclusive)" in en


def test_firm_sheet_link_downloads_in_the_browser(visit, client):
    firm = client.get("/exports.json").json()["firms"][0]
    page = visit(f"/enterprise/{firm['uscc']}")
    link = page.locator("#sheet-pdf")
    assert link.get_attribute("download") is not None
    with page.expect_download() as dl:
        link.click()
    name = dl.value.suggested_filename
    assert name.endswith(".pdf") and firm["name"] in name and "评价说明单" in name
    with open(dl.value.path(), "rb") as fh:
        assert "发布单位" in _flat(fh.read())
