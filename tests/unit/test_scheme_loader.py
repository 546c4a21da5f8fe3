"""Scheme loading: built-ins load, broken schemes give a SchemeError that says where and what to write."""

from __future__ import annotations

from pathlib import Path

import pytest

import mujun
from mujun.errors import SchemeError
from mujun.schemes import load, loads

ORIGIN = "tests/broken-scheme.yaml"

BASE = """\
format_version: 1
id: loader-test
title: 装载测试方案
source: {title: 测试, url: "http://example.invalid/"}
indicators:
  tax_per_mu: {label: 单位用地税收, numerator: tax_10k_yuan, denominator: land_mu}
  revenue_per_mu: {label: 单位用地营业收入, numerator: revenue_10k_yuan, denominator: land_mu}
groups:
  - id: above_scale
    label: 规上企业
    when: above_scale
    items:
      - indicator: tax_per_mu
        weight: 60
        normalise: {method: ratio, benchmark: {kind: fixed, value: 10}}
      - indicator: revenue_per_mu
        weight: 40
        normalise: {method: ratio, benchmark: {kind: fixed, value: 100}}
statuses:
  - {code: STATUS-UTILITY, label: 公用事业, when: "startswith(industry_code, ['44', '45'])", outcome: t_class}
classification:
  method: percentile
  bands:
    - {class: A, upper: 0.20}
    - {class: B, upper: 0.60}
    - {class: C, upper: 0.95}
    - {class: D}
"""


def _broken(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def _error(text: str) -> SchemeError:
    with pytest.raises(SchemeError) as info:
        loads(text, ORIGIN)
    return info.value


def test_base_scheme_is_valid() -> None:
    loaded = loads(BASE, ORIGIN)
    assert loaded.id == "loader-test"
    assert loaded.origin == ORIGIN


def test_builtin_ids_are_listed() -> None:
    ids = mujun.builtin_ids()
    assert "linyi-2022" in ids
    assert ids == sorted(ids)
    assert len(ids) >= 8


@pytest.mark.parametrize("scheme_id", mujun.builtin_ids())
def test_every_builtin_loads(scheme_id: str) -> None:
    loaded = load(scheme_id)
    assert loaded.id == scheme_id
    assert loaded.origin == f"builtin:{scheme_id}"
    assert len(loaded.sha256) == 64
    assert {"uscc", "name", "year"} <= loaded.required_fields()


def test_unknown_key_names_it_and_suggests_the_right_one() -> None:
    # `weigth` is both an unknown key and a missing `weight`; the unknown key must be the one reported,
    # because only it can carry the suggestion.
    err = _error(_broken("        weight: 60\n", "        weigth: 60\n"))
    text = str(err)
    assert err.code == "SCHEME-INVALID"
    assert err.fields["file"] == ORIGIN
    assert ORIGIN in text
    assert err.fields["key_path"] == "groups[0].items[0].weigth"
    assert "`groups[0].items[0].weigth`" in text
    assert "“weight”" in err.fields["suggestion"]
    assert err.fields["suggestion"] in text


def test_unknown_optional_key_names_path_and_suggestion() -> None:
    # `capp` for `cap`: no required key goes missing, so the unknown key is the first error.
    err = _error(_broken("        weight: 60\n", "        weight: 60\n        capp: 1.5\n"))
    text = str(err)
    assert err.code == "SCHEME-INVALID"
    assert ORIGIN in text
    assert err.fields["key_path"] == "groups[0].items[0].capp"
    assert "`groups[0].items[0].capp`" in text
    assert "“cap”" in err.fields["suggestion"]
    assert err.fields["suggestion"] in text


def test_bad_normaliser_method_suggests_ratio() -> None:
    err = _error(
        _broken(
            "{method: ratio, benchmark: {kind: fixed, value: 10}}",
            "{method: ratoi, benchmark: {kind: fixed, value: 10}}",
        )
    )
    text = str(err)
    assert ORIGIN in text
    assert err.fields["key_path"] == "groups[0].items[0].normalise.method"
    assert "ratoi" in text
    assert "“ratio”" in err.fields["suggestion"]
    assert err.fields["suggestion"] in text


def test_unknown_indicator_in_item_suggests_defined_one() -> None:
    err = _error(_broken("      - indicator: tax_per_mu\n", "      - indicator: tax_per_muu\n"))
    text = str(err)
    assert ORIGIN in text
    assert err.fields["key_path"] == "groups[0].items[0].indicator"
    assert "tax_per_muu" in text
    assert "“tax_per_mu”" in err.fields["suggestion"]


def test_unknown_name_in_condition_suggests_field() -> None:
    err = _error(_broken("    when: above_scale\n", "    when: above_scal\n"))
    text = str(err)
    assert ORIGIN in text
    assert err.fields["key_path"] == "groups[0].when"
    assert "above_scal" in text
    assert "“above_scale”" in err.fields["suggestion"]
    assert err.fields["suggestion"] in text


def test_unknown_function_in_condition_suggests_function() -> None:
    err = _error(_broken("startswith(industry_code", "startwith(industry_code"))
    text = str(err)
    assert ORIGIN in text
    assert err.fields["key_path"] == "statuses[0].when"
    assert "startwith" in text
    assert "“startswith”" in err.fields["suggestion"]


def test_bands_out_of_order_are_refused() -> None:
    err = _error(_broken("{class: B, upper: 0.60}", "{class: B, upper: 0.10}"))
    text = str(err)
    assert ORIGIN in text
    assert err.fields["key_path"] == "classification"
    assert "monotone" in text


def test_classes_out_of_order_are_refused() -> None:
    swapped = _broken(
        "    - {class: A, upper: 0.20}\n    - {class: B, upper: 0.60}\n",
        "    - {class: B, upper: 0.20}\n    - {class: A, upper: 0.60}\n",
    )
    err = _error(swapped)
    assert err.fields["key_path"] == "classification"
    assert "A, B, C, D" in str(err)


def test_invalid_yaml_names_the_line() -> None:
    text = _broken("title: 装载测试方案\n", "title: [装载测试方案\n")
    # The flow sequence opened on line 3 is never closed; PyYAML sees the problem at line 4's `source:`.
    err = _error(text)
    assert err.code == "SCHEME-YAML"
    assert err.fields["file"] == ORIGIN
    assert err.fields["line"] == 4
    assert "第 4 行" in err.message("zh")
    assert "line 4" in err.message("en")


def test_invalid_yaml_bad_indentation_line() -> None:
    lines = BASE.splitlines(keepends=True)
    # line 14 (1-based) is "        weight: 60"; indent it wrongly
    assert lines[13] == "        weight: 60\n"
    lines[13] = "          weight: 60\n"
    err = _error("".join(lines))
    assert err.code == "SCHEME-YAML"
    assert err.fields["line"] == 14


def test_missing_required_key_names_it() -> None:
    err = _error(_broken("title: 装载测试方案\n", ""))
    assert err.code == "SCHEME-INVALID"
    assert err.fields["key_path"] == "title"
    assert ORIGIN in str(err)
    assert "`title`" in str(err)


def test_missing_required_benchmark_value() -> None:
    err = _error(
        _broken("{method: ratio, benchmark: {kind: fixed, value: 100}}", "{method: ratio, benchmark: {kind: fixed}}")
    )
    assert err.fields["key_path"].startswith("groups[0].items[1].normalise.benchmark")
    assert "value" in err.fields["detail"]


def test_top_level_must_be_mapping() -> None:
    err = _error("- just\n- a list\n")
    assert err.code == "SCHEME-INVALID"
    assert ORIGIN in str(err)


def test_unknown_scheme_id_suggests_closest_builtin() -> None:
    with pytest.raises(SchemeError) as info:
        load("linyi-2021")
    err = info.value
    assert err.code == "SCHEME-NOT-FOUND"
    assert "linyi-2021" in str(err)
    assert "“linyi-2022”" in err.fields["suggestion"]
    assert err.fields["suggestion"].strip() in str(err)


def test_unknown_scheme_via_evaluate() -> None:
    with pytest.raises(SchemeError, match="linyi-2022"):
        mujun.evaluate(Path("does-not-matter.csv"), "linyi-2021")


def test_missing_scheme_file(tmp_path: Path) -> None:
    with pytest.raises(SchemeError) as info:
        load(tmp_path / "nope.yaml")
    assert info.value.code == "SCHEME-NOT-FOUND"
    assert "nope.yaml" in str(info.value)


def test_error_from_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "my-scheme.yaml"
    path.write_text(_broken("    when: above_scale\n", "    when: above_scal\n"), encoding="utf-8")
    with pytest.raises(SchemeError) as info:
        load(path)
    assert str(path.resolve()) in str(info.value)
    assert "groups[0].when" in str(info.value)


def test_sha256_is_stable_for_the_same_text() -> None:
    a = loads(BASE, "a.yaml")
    b = loads(BASE, "b.yaml")  # origin is not part of the hash
    assert a.sha256 == b.sha256
    assert load("linyi-2022").sha256 == load("linyi-2022").sha256


def test_sha256_ignores_comments_and_layout() -> None:
    reformatted = "# a comment that changes nothing\n" + BASE.replace(
        "      - indicator: revenue_per_mu\n        weight: 40\n",
        "      - weight: 40   # same item, keys reordered\n        indicator: revenue_per_mu\n",
    )
    assert reformatted != BASE
    assert loads(reformatted, ORIGIN).sha256 == loads(BASE, ORIGIN).sha256


def test_sha256_changes_when_a_weight_changes() -> None:
    changed = _broken("        weight: 60\n", "        weight: 61\n")
    assert loads(changed, ORIGIN).sha256 != loads(BASE, ORIGIN).sha256


def test_sha256_changes_when_a_band_changes() -> None:
    changed = _broken("{class: A, upper: 0.20}", "{class: A, upper: 0.25}")
    assert loads(changed, ORIGIN).sha256 != loads(BASE, ORIGIN).sha256
