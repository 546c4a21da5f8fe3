"""Result notices (issue 12 §7): each firm's PDF carries its class, score, explanation, the objections it
filed with their outcomes, and the policies that apply with their dates — read back from the PDF with pypdf;
``mujun notices`` writes one file per firm. SYNTHETIC data (mujun.demo, 150 firms, 2024–2025)."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from mujun.cycle import notices, publicity
from mujun.cycle import objections as ob
from mujun.errors import InputError
from mujun.runs.workspace import Workspace
from mujun.views import Reader
from test_users_cli import in_process

YEAR = 2025
TODAY = dt.date.today()
WEEK = TODAY + dt.timedelta(days=7)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mujun.demo import run_demo

    root = tmp_path_factory.mktemp("notice-demo")
    out = run_demo(root, firms=150, years=(2024, YEAR), seed=5, echo=lambda _m: None, strategy=False)
    return Path(out["workspace"])


@pytest.fixture
def ws_path(demo: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(demo, target)
    return target


def text_of(pdf: bytes) -> str:
    """The PDF's text with every space and line break removed (table cells wrap anywhere)."""
    assert pdf.startswith(b"%PDF")
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def results(ws: Workspace, run_id: str) -> dict[str, dict[str, object]]:
    return {r["uscc"]: r for r in ws.results(run_id).to_pylist()}


def test_the_notice_shows_class_score_objection_outcomes_and_policies(ws_path: Path) -> None:
    with Workspace(ws_path) as ws:
        runs = {int(r["year"]): r["run_id"] for r in ws.runs()}
        before, now = results(ws, runs[2024]), results(ws, runs[YEAR])
        firm = sorted(u for u, r in now.items() if r["class"] == "D" and before.get(u, {}).get("class") == "D")[0]
        other = sorted(u for u, r in now.items() if r["class"] == "C" and r["group"] == "above_scale")[0]
        publicity.open_window(ws, YEAR, TODAY, WEEK, actor="analyst")
        o1 = ob.file(ws, YEAR, firm, "SYNTHETIC: tax missing", "tax_10k_yuan", "999", actor="firm")
        ob.decide(ws, o1["objection_id"], False, "SYNTHETIC: the tax record stands", "full", actor="analyst")
        o2 = ob.file(ws, YEAR, other, "SYNTHETIC: appeal", proposed_class="B", actor="firm")
        ob.decide(ws, o2["objection_id"], True, "SYNTHETIC: appeal upheld", "appellant", actor="analyst")
        final = publicity.close_window(ws, YEAR, actor="analyst")["final_run_id"]
        row, row2 = results(ws, final)[firm], results(ws, final)[other]
        text = text_of(notices.notice_pdf(ws, YEAR, firm, lang="zh"))
        text2 = text_of(notices.notice_pdf(ws, YEAR, other, lang="zh"))
        english = text_of(notices.notice_pdf(ws, YEAR, firm, lang="en"))
    assert row["class"] == "D" and row2["class"] == "B"
    assert firm in text and "评价类别D类（限制发展类）" in text and f"综合得分{row['total_score']:.2f}" in text
    assert f"组内排名{row['rank']}/" in text and f"本告知依据{YEAR}年度终审名单（评价批次{final}）" in text
    assert "单位用地税收" in text and "基准值" in text  # the explanation's indicator table
    # the objection and its outcome
    assert o1["objection_id"] in text and "数据异议" in text and "未采纳" in text
    assert "SYNTHETIC:thetaxrecordstands" in text and "999" in text
    # policies: D in 2024 and 2025 → 2 consecutive years → +0.10 元/kWh, 2026-08-01 to 2027-07-31 (Y+1, 12 months)
    assert "D类企业差别电价" in text and "连续2年评为D类" in text and "0.1元/kWh" in text
    assert "国网临沂供电公司" in text and "2026-08-01—2027-07-31" in text and "鲁发改价格〔2022〕56号" in text
    assert "严格限制新增用能指标" in text and "城镇土地使用税" not in text  # D gets no land-use-tax relief
    assert "合成数据（SYNTHETIC）" in text
    # the other firm: its class appeal accepted (appellant only), now B → land-use tax halved (B: 50 %)
    assert o2["objection_id"] in text2 and "类别申诉" in text2 and "已采纳" in text2 and "仅对申诉企业重新计分" in text2
    assert "评价类别B类（支持发展类）" in text2 and "当年城镇土地使用税减半" in text2 and "50%" in text2
    assert "D类企业差别电价" not in text2
    assert all(w in english for w in ("resultnotice", "classD", "rejected", "Objectionsandoutcomes"))


def test_a_draft_notice_says_so_and_a_firm_without_objections_or_policies_reads_that(ws_path: Path) -> None:
    with Workspace(ws_path, read_only=True) as ws:
        run = {int(r["year"]): r["run_id"] for r in ws.runs()}[YEAR]
        now = results(ws, run)
        t_firm = sorted(u for u, r in now.items() if r["class"] == "T")[0]
        a_firm = sorted(u for u, r in now.items() if r["class"] == "A")[0]
        t_text = text_of(notices.notice_pdf(ws, YEAR, t_firm, lang="zh"))
        a_text = text_of(notices.notice_pdf(ws, YEAR, a_firm, lang="zh"))
        with pytest.raises(InputError) as bad:
            notices.notice_data(ws, YEAR, "91370000MA00000000")
        with Reader(ws) as reader:  # what the web app holds
            via_reader = text_of(notices.notice_pdf(reader, YEAR, a_firm, lang="zh"))
    assert via_reader.split("生成时间")[0] == a_text.split("生成时间")[0]  # the same but the time it was made
    assert f"{YEAR}年度尚未终审，本告知依据最新评价批次{run}，仅供核对" in a_text
    assert "本年度未提出异议" in t_text and "没有适用于贵单位的差别化政策" in t_text
    # A: land-use tax waived in full (100 %), energy and emission quotas first, the credit recommendation list
    assert "当年城镇土地使用税全额减免" in a_text and "100%" in a_text and "优先保障新增用能指标" in a_text
    assert "列入优质企业融资推荐名单" in a_text and "2026-01-01—2026-12-31" in a_text
    assert bad.value.code == "NOTICE-NOT-IN-LIST"


def test_cli_writes_one_notice_and_refuses_bad_input(ws_path: Path, tmp_path: Path) -> None:
    with Workspace(ws_path, read_only=True) as ws:
        run = {int(r["year"]): r["run_id"] for r in ws.runs()}[YEAR]
        firm = sorted(results(ws, run))[0]
    out = tmp_path / "notices"
    code, text, err = in_process(
        "notices", "--workspace", str(ws_path), "--year", str(YEAR), "--uscc", firm.lower(), "--out", str(out)
    )
    assert code == 0, err
    assert [p.name for p in out.iterdir()] == [f"{YEAR}-{firm}.pdf"] and "1 result notices written" in text
    assert firm in text_of((out / f"{YEAR}-{firm}.pdf").read_bytes())
    code, _, err = in_process("notices", "--workspace", str(ws_path), "--year", str(YEAR), "--uscc",
                              "91370000MA00000000", "--out", str(out))  # fmt: skip
    assert code == 2 and "NOTICE-NOT-IN-LIST" in err and "Traceback" not in err
    code, _, err = in_process("notices", "--workspace", str(ws_path), "--year", "2019", "--out", str(out))
    assert code == 2 and "POLICY-NO-RUN" in err


def test_every_firm_gets_a_notice_with_progress_every_500(
    ws_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All firms of the list, progress after every ``PROGRESS_EVERY`` firms and at the end (the PDF step is
    stubbed here: WeasyPrint takes about half a second a notice; the real one is tested above and below)."""
    monkeypatch.setattr(notices, "PROGRESS_EVERY", 100)
    monkeypatch.setattr(notices.render, "pdf_of", lambda html: b"%PDF-stub " + html.encode("utf-8"))
    said: list[tuple[int, int]] = []
    with Workspace(ws_path, read_only=True) as ws:
        run = {int(r["year"]): r["run_id"] for r in ws.runs()}[YEAR]
        firms = sorted(results(ws, run))
        got = notices.write_notices(ws, YEAR, tmp_path / "all", progress=lambda n, t: said.append((n, t)), workers=1)
    n = len(firms)
    assert got["n"] == n and sorted(p.name for p in (tmp_path / "all").iterdir()) == [f"{YEAR}-{u}.pdf" for u in firms]
    assert said == [(k, n) for k in range(100, n, 100)] + [(n, n)]
    assert firms[-1] in (tmp_path / "all" / f"{YEAR}-{firms[-1]}.pdf").read_text(encoding="utf-8")


def test_worker_processes_make_the_same_pdfs_in_order(ws_path: Path) -> None:
    with Workspace(ws_path, read_only=True) as ws:
        run = {int(r["year"]): r["run_id"] for r in ws.runs()}[YEAR]
        firms = sorted(results(ws, run))[:3]
        htmls = [notices.render.notice_html(notices.notice_data(ws, YEAR, u, lang="zh")) for u in firms]
    made = list(notices._pdfs(iter(htmls), 2))
    assert len(made) == 3 and all(firm in text_of(pdf) for firm, pdf in zip(firms, made, strict=True))
