"""A code that matches no roster firm gets name-similarity candidates; a confirmed link is remembered."""

from __future__ import annotations

import difflib
from pathlib import Path

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from mujun.bench.import_bench import run_import_bench
from mujun.catalog import uscc
from mujun.runs.intake import import_files
from mujun.runs.linkage import NameIndex, normalise_name
from mujun.runs.quarantine import confirm_link, quarantined, revalidate_all
from mujun.runs.workspace import Workspace


def code(i: int) -> str:
    body = f"91371300MA{i:07d}"
    return body + uscc.check_char(body)


def test_name_normalisation_unifies_legal_forms_and_brackets() -> None:
    assert normalise_name("临沂甲木业（有限责任公司）") == normalise_name("临沂甲木业有限公司") == "临沂甲木业公司"
    assert normalise_name("Ｌｉｎｙｉ 甲 股份有限公司") == "Linyi甲公司"


def test_index_finds_the_closest_names_first() -> None:
    idx = NameIndex({code(1): "临沂合成甲木业有限公司", code(2): "临沂合成乙食品有限公司", code(3): "费县丙板材厂"})
    found = idx.candidates("临沂合成甲木业有限责任公司")
    assert found[0][0] == code(1) and found[0][2] == 1.0
    assert all(c != code(3) for c, _, _ in found)


def _book(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    wb.active.append(header)
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def _plain_candidates(roster: dict[str, str], name: str, shortlist: int = 25) -> list[tuple[str, str, float]]:
    """The index's rule written out: the ``shortlist`` firms sharing the most bigrams (ties by code), scored
    with difflib's ratio on normalised names, at least 0.6, best first, three at most."""
    target = normalise_name(name)
    if not target:
        return []

    def grams(t: str) -> set[str]:
        return {t[i : i + 2] for i in range(len(t) - 1)} or {t}

    shared = {c: len(grams(target) & grams(normalise_name(n))) for c, n in roster.items()}
    short = sorted((c for c in shared if shared[c]), key=lambda c: (-shared[c], c))[:shortlist]
    scored = [(c, roster[c], round(difflib.SequenceMatcher(None, target, normalise_name(roster[c])).ratio(), 4))
              for c in short]  # fmt: skip
    return sorted((x for x in scored if x[2] >= 0.6), key=lambda x: (-x[2], x[0]))[:3]


PARTS = st.sampled_from(
    ["临沂", "兰山", "木业", "化工", "食品", "有限公司", "有限责任公司", "（合成）", "甲", "乙", "0036"]
)


@settings(max_examples=60)
@given(names=st.lists(st.lists(PARTS, min_size=1, max_size=5).map("".join), min_size=1, max_size=40),
       query=st.lists(PARTS, min_size=0, max_size=5).map("".join))  # fmt: skip
def test_index_answers_as_the_plain_rule_and_again_the_same(names: list[str], query: str) -> None:
    """SYNTHETIC names built from common parts (many ties in shared bigrams): the index (its counting, its
    shortlist and its kept answers) gives what the rule written out gives, the first time and the second."""
    roster = {code(i): n for i, n in enumerate(names)}
    idx = NameIndex(roster, shortlist=5)
    expected = _plain_candidates(roster, query, shortlist=5)
    assert idx.candidates(query) == expected
    assert idx.candidates(query) == expected  # kept


def test_confirmed_link_is_remembered_for_later_years(tmp_path: Path) -> None:
    stats_h = ["统一社会信用代码", "单位详细名称", "行业代码", "是否规上", "营业收入（万元）"]
    tax_h = ["纳税人识别号", "纳税人名称", "税收合计（元）"]
    stray = code(99)  # a valid code the tax bureau used, not in the statistics roster
    with Workspace(tmp_path / "ws") as ws:
        for year in (2022, 2023):
            stats = _book(
                tmp_path / f"stats_{year}.xlsx", stats_h, [[code(1), "临沂合成甲木业有限公司", "2021", "是", 5000]]
            )
            tax = _book(tmp_path / f"tax_{year}.xlsx", tax_h, [[stray, "临沂合成甲木业有限责任公司", 800000]])
            report = import_files(ws, [stats, tax], year=year)
            tax_issues = [i for f in report["files"] if f["spec"] == "tax" for i in f["issues"]]
            if year == 2022:
                assert [i["code"] for i in tax_issues] == ["UNMATCHED-USCC"]
                assert code(1) in tax_issues[0]["message"]  # the candidate, by name similarity
                confirm_link(ws, stray, code(1))
                assert revalidate_all(ws)["accepted"] == 1
            else:
                assert tax_issues == []  # the link confirmed in 2022 applies in 2023 without asking
        assert quarantined(ws) == []
        taxes = ws.con.execute("SELECT year, uscc, tax_10k_yuan FROM enterprise_years ORDER BY year").fetchall()
    assert taxes == [(2022, code(1), 80.0), (2023, code(1), 80.0)]


def test_bench_import_smoke() -> None:
    r = run_import_bench(rows=2000, repeat=1)
    assert r["rows_read"] == 2000 == r["rows_accepted"] + r["rows_quarantined"]
    assert r["codes"].get("USCC-INVALID") == len(range(0, 2000, 97))  # every 97th code has a wrong check char
