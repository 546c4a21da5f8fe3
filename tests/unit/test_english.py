"""MUJUN_LANG=en gives English (issue 10, one language catalogue): every catalogue entry has both languages,
and a representative message of each area moved into the catalogue reads in English without a Chinese
character — a scheme condition error, a file-reader error (also from the isolated child reader), the
headers and sheet names of the result export — while the default stays Chinese."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import openpyxl
import pytest
import yaml

import mujun
from mujun.api import prepare_data
from mujun.bench.synthetic import synthetic_firms
from mujun.catalog.text import Text, strings, translate
from mujun.errors import InputError, SchemeError
from mujun.ingest.readers import read_file, read_file_isolated
from mujun.reports import write_result
from mujun.schemes import builtin_ids, load, loads

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]")
SCHEME = "linyi-2022"


def _yaml(name: str) -> dict:
    return yaml.safe_load(resources.files("mujun").joinpath(f"catalog/{name}").read_text(encoding="utf-8"))


def test_every_catalogue_entry_has_chinese_and_english() -> None:
    for key, texts in strings().items():
        assert texts.get("zh") and texts.get("en"), key
    for code, texts in _yaml("messages.yaml")["messages"].items():
        assert texts.get("zh") and texts.get("en"), code
    for kind, texts in _yaml("fields.yaml")["sheets"].items():
        assert set(texts) == {"zh", "en"}, kind
        assert len(texts["zh"]) == len(texts["en"]), kind
        assert not any(CJK.search(str(h)) for h in (texts["en"].values() if kind == "severity" else texts["en"]))


def test_a_text_follows_the_language_it_is_shown_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUJUN_LANG", "zh")
    text = Text("cond.want", text="x", what=Text("cond.what.not"), kind=Text("cond.kind.bool"), expr="x", found="?")
    assert text == translate("cond.want", "zh", text="x", what="not 的运算对象", kind="真假值", expr="x", found="?")
    assert text.in_lang("en") == 'Condition "x": the operand of not must be true or false, `x` is ?'
    assert Text("rd.kind.pdf").in_lang("en") == "it is really a PDF file"


def _broken_condition() -> str:
    data = yaml.safe_load(resources.files("mujun").joinpath(f"schemes/builtin/{SCHEME}.yaml").read_text("utf-8"))
    data["groups"][0]["when"] = "land_mu >= 'a'"
    return yaml.safe_dump(data, allow_unicode=True)


def test_scheme_condition_error_in_english(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SCHEME in builtin_ids()
    monkeypatch.setenv("MUJUN_LANG", "en")
    with pytest.raises(SchemeError) as info:
        loads(_broken_condition(), "broken.yaml")
    text = str(info.value)
    assert "Scheme file broken.yaml, key `groups[0].when`" in text
    assert "the two sides of the comparison" in text and "(a number and text)" in text
    assert not CJK.search(text), text
    # the same error shown in Chinese is all Chinese (the detail is a catalogue text, not a frozen string)
    zh = info.value.message("zh")
    assert "两边类型不符（数值与文本）" in zh and "the two sides" not in zh


def test_scheme_condition_error_stays_chinese_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MUJUN_LANG", raising=False)
    with pytest.raises(SchemeError) as info:
        loads(_broken_condition(), "broken.yaml")
    assert "条件“land_mu >= 'a'”中比较" in str(info.value)


def _pdf_named_xlsx(tmp_path: Path) -> Path:
    path = tmp_path / "taxes.xlsx"
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n")
    return path


def test_reader_error_in_english(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _pdf_named_xlsx(tmp_path)
    monkeypatch.setenv("MUJUN_LANG", "en")
    with pytest.raises(InputError) as info:
        read_file(path)
    assert info.value.code == "FILE-NOT-SPREADSHEET"
    text = str(info.value)
    assert "is not a readable spreadsheet: it is really a PDF file" in text
    assert not CJK.search(text), text
    assert "它实际是 PDF 文件" in info.value.message("zh")


def test_isolated_reader_keeps_the_catalogue_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The child process sends the detail as a catalogue key: the parent shows it in either language."""
    monkeypatch.delenv("MUJUN_LANG", raising=False)
    with pytest.raises(InputError) as info:
        read_file_isolated(_pdf_named_xlsx(tmp_path))
    assert "它实际是 PDF 文件" in str(info.value)
    assert "it is really a PDF file" in info.value.message("en")


@pytest.fixture(scope="module")
def evaluation() -> mujun.Evaluation:
    loaded = load(SCHEME)
    canon = prepare_data(synthetic_firms(80, years=(2022, 2023), seed=7), loaded)
    return mujun.evaluate(canon, loaded, year=2023)


def _headers(path: Path) -> dict[str, list[str]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    out = {ws.title: [str(c.value) for c in next(ws.iter_rows(max_row=1)) if c.value is not None] for ws in wb}
    wb.close()
    return out


def test_result_export_headers_in_english(
    evaluation: mujun.Evaluation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MUJUN_LANG", "en")
    sheets = _headers(write_result(evaluation, tmp_path / "results.xlsx"))
    first = next(iter(sheets.values()))
    assert {"USCC", "Company name", "Total score", "Class"} <= set(first)
    assert sheets["Cut-offs"][:3] == ["Data year", "Ranking scope", "Class"]
    assert "About this run" in sheets
    for title, headers in sheets.items():
        if title == "About this run":  # a key/value sheet: the keys are its first column
            continue
        assert not CJK.search(title), title
        assert not [h for h in headers if CJK.search(h)], (title, headers)


def test_result_export_headers_in_chinese_by_default(
    evaluation: mujun.Evaluation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MUJUN_LANG", raising=False)
    sheets = _headers(write_result(evaluation, tmp_path / "results.xlsx"))
    first = next(iter(sheets.values()))
    assert {"统一社会信用代码", "企业名称", "综合得分", "评价类别"} <= set(first)
    assert sheets["分档分数线"][0] == "数据年度" and "评价说明" in sheets
