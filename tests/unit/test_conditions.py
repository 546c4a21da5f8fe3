"""The condition language: parsing, checking, and evaluation through the engine on a tiny table.

Each condition under test becomes a ``flag`` override of a one-group scheme; after one DuckDB
evaluation, a firm satisfies the condition exactly when its reason codes carry the override's code.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

import mujun
from mujun.catalog import uscc
from mujun.schemes import conditions as cnd
from mujun.schemes import loads

YEAR = 2023


def _code(i: int) -> str:
    body = f"91371300MA{i:07d}"
    return body + uscc.check_char(body)


# Firms 0..5. NULL (None) cells test the missing-value rules.
FIRMS = {
    "uscc": [_code(i) for i in range(6)],
    "name": ["甲", "乙", "丙", "丁", "戊", "己"],
    "year": [YEAR] * 6,
    "county": ["兰山区", "罗庄区", None, "兰山区", "河东区", "兰山区"],
    "industry_code": ["3311", "4411", None, "4520", "1310", "3312"],
    "above_scale": [True, False, None, True, True, False],
    "flag_high_tech": [None, True, False, True, None, None],
    "land_mu": [10.0, 2.0, None, 0.0, 3.0, 5.0],
    "tax_10k_yuan": [50.0, 1.0, 8.0, 4.0, None, 25.0],
    "production_start": [
        dt.date(2010, 6, 1),
        dt.date(2022, 3, 1),
        None,
        dt.date(2023, 12, 31),
        dt.date(2021, 1, 1),
        dt.date(2022, 12, 31),
    ],
}
# tax_per_mu = tax / land: 5.0, 0.5, NULL (land NULL), NULL (land 0), NULL (tax NULL), 5.0

# code suffix → (condition, firms for which it holds)
CASES: dict[str, tuple[str, set[int]]] = {
    "AND": ("above_scale and land_mu >= 3", {0, 4}),
    "OR": ("above_scale or flag_high_tech", {0, 1, 3, 4}),
    "NOT": ("not above_scale", {1, 2, 5}),  # NULL boolean counts as false, so `not` of it holds
    "NOT-AND": ("not (above_scale and land_mu >= 3)", {1, 2, 3, 5}),
    "PRECEDENCE": ("above_scale and land_mu > 5 or flag_high_tech", {0, 1, 3}),
    "CHAIN": ("1 <= land_mu < 5", {1, 4}),
    "CHAIN3": ("0 <= land_mu <= 5 < 6", {1, 3, 4, 5}),
    "IN": ("industry_code in ['3311', '3312', '4411']", {0, 1, 5}),
    "IN-NUM": ("land_mu in [2, 3.0]", {1, 4}),
    "NOT-IN-PRESENT": ("present(industry_code) and industry_code not in ['3311', '3312']", {1, 3, 4}),
    "STR-EQ": ("county == '兰山区'", {0, 3, 5}),
    "STR-NE": ("county != '兰山区'", {1, 4}),  # NULL county: comparison is false
    "STARTS-LIST": ("startswith(industry_code, ['44', '45', '46'])", {1, 3}),
    "STARTS-ONE": ("startswith(industry_code, '33')", {0, 5}),
    "NOT-STARTS": ("not startswith(industry_code, '33')", {1, 2, 3, 4}),
    "MISSING": ("missing(land_mu)", {2}),
    "PRESENT": ("present(tax_10k_yuan)", {0, 1, 2, 3, 5}),
    "MISSING-IND": ("missing(tax_per_mu)", {2, 3, 4}),  # zero denominator makes the ratio missing
    "PRESENT-TEXT": ("present(county) and missing(industry_code)", set()),
    "MISSING-TEXT": ("missing(industry_code) or missing(county)", {2}),
    "YEARS-SINCE": ("years_since(production_start) < 2", {1, 3, 5}),  # 2023 minus 2022, 2023, 2022
    "YEARS-SINCE-GE": ("years_since(production_start) >= 2", {0, 4}),  # NULL date: false
    "YEAR-OF": ("year_of(production_start) == 2022", {1, 5}),
    "BOOL-NULL": ("flag_high_tech", {1, 3}),  # NULL flag is false
    "BOOL-EQ": ("flag_high_tech == False", {0, 2, 4, 5}),  # a NULL boolean reads as false first
    "CMP-NULL-GT": ("land_mu > 0", {0, 1, 4, 5}),
    "CMP-NULL-LE": ("land_mu <= 0", {3}),  # NULL land: both > 0 and <= 0 are false
    "NOT-CMP-NULL": ("not (land_mu > 0)", {2, 3}),  # not of a false comparison holds
    "IND": ("tax_per_mu >= 5", {0, 5}),
    "IND-NULL": ("tax_per_mu < 3", {1}),  # missing indicator: comparison false
    "ARITH": ("tax_10k_yuan / land_mu * 2 + 1 > 10", {0, 5}),
    "DIV-ZERO": ("tax_10k_yuan / land_mu >= 0", {0, 1, 5}),  # land 0 → NULL, never infinite
    "NEG": ("-tax_10k_yuan < -10", {0, 5}),
    "CTX-YEAR": ("year == 2023", {0, 1, 2, 3, 4, 5}),
    "CTX-GROUP": ("group == 'all'", {0, 1, 2, 3, 4, 5}),
    "CTX-RANK": ("rank <= 2", {0, 5}),
    "CTX-SCORE": ("total_score >= 50", {0, 5}),
    "CONST": ("True", {0, 1, 2, 3, 4, 5}),
    "CONST-F": ("False", set()),
}


def _scheme_text() -> str:
    overrides = "\n".join(
        f"  - {{code: C-{key}, label: 测试, when: {_yaml_str(text)}, effect: flag}}" for key, (text, _) in CASES.items()
    )
    return f"""\
format_version: 1
id: conditions-test
title: 条件语言测试
source: {{title: 测试, url: "http://example.invalid/"}}
indicators:
  tax_per_mu: {{label: 单位用地税收, numerator: tax_10k_yuan, denominator: land_mu}}
  tax: {{label: 税收, numerator: tax_10k_yuan}}
groups:
  - id: all
    label: 全部
    when: "True"
    items:
      - {{indicator: tax_per_mu, weight: 10, normalise: {{method: ratio, benchmark: {{kind: fixed, value: 1}}}}}}
      - {{indicator: tax, weight: 1, normalise: {{method: ratio, benchmark: {{kind: fixed, value: 1}}}}}}
zero_land: reweight  # firm 3 (land 0) stays graded on `tax`, so every flag can be tested on it
classification:
  bands: [{{class: A, upper: 0.5}}, {{class: D}}]
rounding: {{stage: none}}
overrides:
{overrides}
"""


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="module")
def holding() -> dict[str, set[int]]:
    """For each case key, the firm indices whose reason codes carry C-<key>."""
    result = mujun.evaluate(pa.table(FIRMS), loads(_scheme_text(), "conditions-test.yaml"), year=YEAR)
    index = {c: i for i, c in enumerate(FIRMS["uscc"])}
    rows = result.to_pandas()
    out: dict[str, set[int]] = {k: set() for k in CASES}
    for code, reasons in zip(rows["uscc"], rows["reason_codes"], strict=True):
        for part in (reasons or "").split(";"):
            if part.startswith("C-"):
                out[part[2:]].add(index[code])
    return out


def test_tiny_table_scores_as_designed() -> None:
    result = mujun.evaluate(pa.table(FIRMS), loads(_scheme_text(), "conditions-test.yaml"), year=YEAR)
    rows = result.to_pandas().set_index("uscc")
    # tax_per_mu x 10 points + tax x 1 point: firm 0: 5 x 10 + 50 = 100; firm 5: 50 + 25 = 75;
    # firm 1: 0.5 x 10 + 1 = 6; firm 3 (land 0, re-weighted): 4 x (10 + 1) / 1 = 44; firm 2 (land
    # missing): 0 + 8 = 8; firm 4 (tax missing): 0
    assert rows.loc[_code(0), "total_score"] == 100.0
    assert rows.loc[_code(5), "total_score"] == 75.0
    assert rows.loc[_code(1), "total_score"] == 6.0
    assert rows.loc[_code(3), "total_score"] == 44.0
    assert rows.loc[_code(3), "reason_codes"].split(";")[0] == "NO-LAND"
    assert rows.loc[_code(0), "rank"] == 1
    assert rows.loc[_code(5), "rank"] == 2


@pytest.mark.parametrize("key", list(CASES))
def test_condition_through_engine(key: str, holding: dict[str, set[int]]) -> None:
    text, expected = CASES[key]
    assert holding[key] == expected, text


def _hits(extra_condition: str) -> set[int]:
    """Firms for which ``extra_condition``, added as one more flag override, holds."""
    scheme = _scheme_text() + f"  - {{code: C-EXTRA, label: 测试, when: {_yaml_str(extra_condition)}, effect: flag}}\n"
    result = mujun.evaluate(pa.table(FIRMS), loads(scheme, "conditions-test.yaml"), year=YEAR)
    rows = result.to_pandas().set_index("uscc")
    return {i for i in range(6) if "C-EXTRA" in (rows.loc[_code(i), "reason_codes"] or "").split(";")}


def test_not_in_with_null_is_false() -> None:
    """Regression: `not in` once held for a NULL value (engine/expr.py negated fill_null(isin, False))."""
    # industry_code: 3311, 4411, NULL, 4520, 1310, 3312 → firm 2 (NULL) must not satisfy it,
    # just as it does not satisfy `industry_code != '3311'`.
    assert _hits("industry_code not in ['3311', '3312']") == {1, 3, 4}


def test_missing_of_a_null_boolean_is_true() -> None:
    """Regression: missing()/present() once saw a NULL boolean after it had been read as false."""
    # above_scale: True, False, NULL, True, True, False
    assert _hits("missing(above_scale)") == {2}
    assert _hits("present(above_scale)") == {0, 1, 3, 4, 5}
    assert _hits("missing(flag_high_tech) and not above_scale") == {5}


# ---- parsing and checking, without the engine ----------------------------------------------

KNOWN = {"above_scale", "land_mu", "industry_code", "production_start", "tax_per_mu", "year"}


def test_parse_collects_names() -> None:
    cond = cnd.parse("above_scale and land_mu >= 3 or startswith(industry_code, ['44'])", KNOWN)
    assert cond.names == frozenset({"above_scale", "land_mu", "industry_code"})
    assert cond.text.startswith("above_scale")


def test_function_name_is_not_a_field_name() -> None:
    cond = cnd.parse("missing(land_mu) or years_since(production_start) < 2", KNOWN)
    assert cond.names == frozenset({"land_mu", "production_start"})


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("above_scal and land_mu >= 3", "above_scale"),
        ("land_mu >= 3 and tax_per_m < 3", "tax_per_mu"),
        ("startwith(industry_code, '44')", "startswith"),
        ("year_since(production_start) < 2", "years_since"),
        ("mising(land_mu)", "missing"),
    ],
)
def test_unknown_names_and_functions_suggest(text: str, suggestion: str) -> None:
    with pytest.raises(cnd.ConditionError) as info:
        cnd.parse(text, KNOWN)
    assert info.value.suggestion == suggestion
    assert "未知" in info.value.detail


@pytest.mark.parametrize(
    "text",
    [
        "land_mu >=",  # syntax
        "land_mu.real > 3",  # attribute access
        "industry_code[0] == '4'",  # subscript
        "(lambda: 1)()",  # lambda and call of a non-name
        "land_mu if above_scale else 0",  # conditional expression
        "land_mu ** 2 > 9",  # power is not in the language
        "__import__('os')",  # unknown function
        "missing(land_mu, above_scale)",  # wrong arity
        "startswith(industry_code)",  # wrong arity
        "missing(x=land_mu)",  # keyword argument
        "missing(3)",  # first argument must be a field
        "land_mu in {3, 4}",  # set literal
        "land_mu > None",  # None constant
        "land_mu is None",  # `is` operator
    ],
)
def test_refused_syntax(text: str) -> None:
    with pytest.raises(cnd.ConditionError):
        cnd.parse(text, KNOWN)


def test_refused_syntax_is_a_scheme_error_in_a_scheme() -> None:
    from mujun.errors import SchemeError

    bad = _scheme_text().replace('when: "True"', 'when: "land_mu ** 2 > 9"', 1)
    with pytest.raises(SchemeError) as info:
        loads(bad, "conditions-test.yaml")
    assert info.value.fields["key_path"] == "groups[0].when"


def test_context_names_depend_on_the_block() -> None:
    from mujun.errors import SchemeError

    # `rank` is known in overrides but not in group conditions.
    bad = _scheme_text().replace('when: "True"', 'when: "rank <= 3"', 1)
    with pytest.raises(SchemeError) as info:
        loads(bad, "conditions-test.yaml")
    assert info.value.fields["key_path"] == "groups[0].when"
    assert "rank" in str(info.value)


def test_any_flag_name_is_a_known_boolean() -> None:
    text = _scheme_text().replace('when: "True"', 'when: "not flag_custom_rule"', 1)
    loaded = loads(text, "conditions-test.yaml")
    assert "flag_custom_rule" in loaded.conditions["groups[0]"].names
    # The column is absent from the data: a missing boolean column reads as all false.
    result = mujun.evaluate(pa.table(FIRMS), loaded, year=YEAR)
    assert set(result.to_pandas()["group"]) == {"all"}
