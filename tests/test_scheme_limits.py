"""Issue 10, hostile schemes: `schemes validate` refuses every scheme beyond a limit, naming the key and
the limit (exit 2, no traceback), and a scheme AT every limit evaluates on DuckDB without an internal
error. Every figure here is SYNTHETIC."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

import mujun
from mujun.catalog import uscc
from mujun.cli import main
from mujun.engine.expr import EXACT_BOUND
from mujun.errors import SchemeError
from mujun.schemes import conditions as cnd
from mujun.schemes import loads

YEAR = 2023
NUMERIC = [
    "tax_10k_yuan",
    "revenue_10k_yuan",
    "value_added_10k_yuan",
    "output_10k_yuan",
    "profit_10k_yuan",
    "energy_tce",
    "electricity_10k_kwh",
    "water_t",
    "emission_t",
    "cod_t",
    "ammonia_t",
    "so2_t",
    "nox_t",
    "rd_10k_yuan",
    "employees",
    "tech_investment_10k_yuan",
    "floor_rented_m2",
    "land_own_mu",
    "land_rented_in_mu",
    "land_rented_out_mu",
]  # 20 numeric fields

BASE = """\
format_version: 1
id: limits-test
title: 限制测试方案
source: {title: 测试, url: "http://example.invalid/"}
indicators:
  tax_per_mu: {label: 单位用地税收, numerator: tax_10k_yuan, denominator: land_mu, factor: 1.0}
  revenue_per_mu: {label: 单位用地营业收入, numerator: revenue_10k_yuan, denominator: land_mu}
groups:
  - id: all
    label: 全部
    when: "True"
    items:
      - indicator: tax_per_mu
        weight: 60
        normalise: {method: ratio, benchmark: {kind: fixed, value: 10}}
      - indicator: revenue_per_mu
        weight: 40
        normalise: {method: ratio, benchmark: {kind: mean, k: 1.0}}
        missing: {policy: penalty, points: 5}
overrides:
  - {code: O-0, label: 测试, when: "tax_10k_yuan > 0", effect: flag}
  - {code: O-1, label: 测试, when: "tax_10k_yuan > 1", effect: flag}
  - {code: O-2, label: 测试, when: "tax_10k_yuan > 2", effect: flag}
  - {code: O-3, label: 测试, when: "tax_10k_yuan > 3", effect: flag}
classification:
  method: percentile
  bands:
    - {class: A, upper: 0.20}
    - {class: B, upper: 0.60}
    - {class: D}
"""


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sub(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _when(i: int, cond: str) -> str:
    return _sub(f'when: "tax_10k_yuan > {i}"', f"when: {_q(cond)}")


def _many(key: str, line: str, n: int, text: str = BASE) -> str:
    body = "\n".join("  " + line.format(i=i) for i in range(n))
    return text + f"{key}:\n{body}\n"


# ------------------------------------------------------------------------------------------------
# Conditions at and beyond their limits
# ------------------------------------------------------------------------------------------------


def _widest(holds: bool = True) -> str:
    """MAX_NODES nodes exactly: `or` of comparisons (3 nodes each) plus one negation."""
    k = (cnd.MAX_NODES - 2) // 3
    if holds:
        parts = ["-tax_10k_yuan < 1e15"] + [f"tax_10k_yuan > {i}" for i in range(1, k)]
    else:  # no firm reaches 1e15
        parts = ["-tax_10k_yuan > 1e15"] + ["tax_10k_yuan > 1e15"] * (k - 1)
    text = " or ".join(parts)
    return text + " or above_scale" * (cnd.MAX_NODES - 2 - 3 * k)


def _nest(n: int) -> str:
    """``n`` factors of ``year`` nested to the right: n + 1 levels under a comparison (an INT64 product of
    31 years would overflow; the engine multiplies in double precision)."""
    text = "year"
    for _ in range(n - 1):
        text = f"year * ({text})"
    return text


def _longest(holds: bool = True) -> str:
    head = "county != '" if holds else "county == '"
    return head + "甲" * (cnd.MAX_TEXT - len(head) - 1) + "'"


def test_limit_conditions_sit_exactly_at_the_limits() -> None:
    known = {"tax_10k_yuan", "above_scale", "year", "county"}
    wide = cnd.parse(_widest(), known)
    assert cnd._size(wide.tree) == (cnd.MAX_NODES, 4)
    deep_text = _nest(cnd.MAX_DEPTH - 1) + " > 0"
    assert cnd._size(cnd.parse(deep_text, known).tree)[1] == cnd.MAX_DEPTH
    assert cnd._bracket_depth(deep_text) == cnd.MAX_DEPTH - 2
    assert len(_longest()) == cnd.MAX_TEXT
    cnd.parse(_longest(), known)
    brackets = "(" * cnd.MAX_DEPTH + "year" + ")" * cnd.MAX_DEPTH + " > 0"
    cnd.parse(brackets, known)
    with pytest.raises(cnd.ConditionError) as info:
        cnd.parse("(" + brackets + ")", known)
    assert info.value.limit == ("depth", cnd.MAX_DEPTH + 1, cnd.MAX_DEPTH)


def test_parse_never_raises_recursion_error() -> None:
    for n in (1_000, 4_000, 100_000):
        for text in (" + ".join(["x"] * n), "(" * n + "x" + ")" * n, "not " * n + "x", "-" * n + "x"):
            with pytest.raises(cnd.ConditionError) as info:
                cnd.parse(text, {"x"})
            assert info.value.limit is not None


# ------------------------------------------------------------------------------------------------
# A scheme at every limit evaluates
# ------------------------------------------------------------------------------------------------


def _at_limits() -> str:
    by_year = ", ".join(f"{y}: 0.000001" for y in range(2100 - 99, 2101))  # 100 values, the least benchmark
    nums = ", ".join(NUMERIC)
    indicators = [
        "  tax_per_mu: {label: 单位用地税收, numerator: tax_10k_yuan, denominator: land_mu, factor: 1000000}",
        "  neg: {label: 负, numerator: tax_10k_yuan, denominator: land_mu, factor: -1000000, direction: lower}",
        f"  wide: {{label: 宽, numerator: [{nums}], denominator: [{nums}], factor: 1000000}}",
        "  rev: {label: 收入, numerator: revenue_10k_yuan, denominator: land_mu, factor: 1000000}",
        "  tax: {label: 税收, numerator: tax_10k_yuan, factor: 0.000001}",
    ]
    indicators += [f"  i{i}: {{label: 指标{i}, numerator: {NUMERIC[i % 20]}, factor: 1000000}}" for i in range(45)]
    w = "weight: 1000000"
    items = [
        f"      - {{indicator: tax_per_mu, {w}, normalise: {{method: ratio,"
        " benchmark: {kind: fixed, value: 0.000001}}, missing: {policy: group_mean}}",
        f"      - {{indicator: neg, {w}, cap: 1000000, floor: -1000000, normalise: {{method: ratio,"
        " benchmark: {kind: fixed, value: 1000000000000}}}",
        f"      - {{indicator: wide, {w}, normalise: {{method: ratio,"
        f" benchmark: {{kind: by_year, values: {{{by_year}}}}}}}, missing: {{policy: penalty, points: 1000000}}}}",
        f"      - {{indicator: rev, {w}, normalise: {{method: ratio, benchmark: {{kind: mean, k: 1000000,"
        " fallback: {kind: fixed, value: 1000000000000}}}, missing: {policy: group_mean}}",
        f"      - {{indicator: tax, {w}, normalise: {{method: inverse, benchmark: {{kind: best, k: 0.000001}}}}}}",
    ]
    methods = ["{method: minmax}", "{method: rank}", "{method: ratio, benchmark: {kind: mean, k: 0.000001}}"]
    items += [
        f"      - {{indicator: i{i}, {w}, normalise: {methods[i % 3]}, missing: {{policy: group_mean}}}}"
        for i in range(45)
    ]
    assert len(items) == 50
    rules = {
        "statuses": ["{{code: S-{i}, label: 状态, when: {when}, outcome: no_grade}}"],
        "bonus": ["{{code: B-{i}, label: 加分, when: {when}, points: 1000000}}"],
        "penalty": ["{{code: P-{i}, label: 扣分, when: {when}, points: 1000000}}"],
        "overrides": ["{{code: O-{i}, label: 调整, when: {when}, effect: flag}}"],
        "awards": ["{{code: W-{i}, label: 奖, when: {when}, by: {{indicator: tax_per_mu}}, n: 100000}}"],
    }
    big = [_widest(), _nest(cnd.MAX_DEPTH - 1) + " > 0", _longest()]
    blocks = []
    for key, (line,) in rules.items():
        whens = [*big, *(f"tax_10k_yuan > {i} and rank <= 1000000000000000" for i in range(47))]
        if key in ("bonus", "penalty"):
            whens = [*big, *(f"tax_10k_yuan > {i} - 1000000000000000" for i in range(47))]
        if key == "statuses":  # none holds, so that firms are graded
            big_false = [_widest(False), _nest(cnd.MAX_DEPTH - 1) + " < 0", _longest(False)]
            whens = [*big_false, *(f"tax_10k_yuan > {i} + 1000000000000000" for i in range(47))]
        blocks.append(f"{key}:\n" + "\n".join("  - " + line.format(i=i, when=_q(w)) for i, w in enumerate(whens)))
    group_when = "year > 0 or " + _nest(cnd.MAX_DEPTH - 2) + " > -1e15"
    return f"""\
format_version: 1
id: at-limits
title: 限制边界方案
source: {{title: 测试, url: "http://example.invalid/"}}
indicators:
{chr(10).join(indicators)}
groups:
  - id: all
    label: 全部
    when: {_q(group_when)}
    items:
{chr(10).join(items)}
  - id: none
    label: 空组
    when: "False"
    items:
      - {{indicator: tax, weight: 1000000, normalise: {{method: rank}}}}
    classification:
      method: score
      bands: [{{class: A, min: 1000000000000}}, {{class: C, min: -1000000000000}}, {{class: D}}]
bonus_cap: 1000000
penalty_cap: 1000000
classification:
  method: percentile
  bands: [{{class: A, upper: 0.123457}}, {{class: B, upper: 0.654321, max_share: 0.333333}},
          {{class: C, upper: 0.999999}}, {{class: D, min_share: 0.000001}}]
{chr(10).join(blocks)}
"""


def _code(i: int) -> str:
    body = f"91371300MA{i:07d}"
    return body + uscc.check_char(body)


def _table() -> pa.Table:
    """Six firms, two of them extreme: ratios of 1e15 and 1e27 (1e21 and 1e33 after the factor)."""
    n = 6
    cols: dict[str, list[object]] = {
        "uscc": [_code(i) for i in range(n)],
        "name": [f"企业{i}" for i in range(n)],
        "year": [YEAR] * n,
        "county": ["甲县"] * n,
        "industry_code": ["3311"] * n,
        "above_scale": [True, True, None, True, False, True],
        "land_mu": [10.0, 1e-9, 5.0, None, 0.0, 1e-21],
    }
    values = [[50.0, 1e6, 3.0, None, 7.0, 1e6], [500.0, 1e6, None, 4.0, 9.0, 1e6]]  # 1e6: within every domain
    for j, f in enumerate(NUMERIC):
        cols[f] = values[j % 2]
    return pa.table(cols)


@pytest.fixture(scope="module")
def at_limits() -> mujun.schemes.LoadedScheme:
    return loads(_at_limits(), "at-limits.yaml")


def test_scheme_at_every_limit_validates(at_limits: mujun.schemes.LoadedScheme) -> None:
    s = at_limits.scheme
    assert len(s.groups[0].items) == 50 and len(s.overrides) == 50
    assert max(it.weight for it in s.groups[0].items) == 1e6
    assert max(abs(i.factor) for i in s.indicators.values()) == 1e6


def test_scheme_at_every_limit_evaluates_on_duckdb(at_limits: mujun.schemes.LoadedScheme) -> None:
    result = mujun.evaluate(_table(), at_limits, year=YEAR)
    rows = result.to_pandas().set_index("uscc")
    assert len(rows) == 6
    scores = [x for x in rows["total_score"] if x is not None and not (isinstance(x, float) and math.isnan(x))]
    assert scores, rows["total_score"]
    assert all(not math.isnan(x) for x in scores)
    # firm 5's tax_per_mu is 1e6 / 1e-21 x 1e6 = 1e33, beyond what DECIMAL(38, 16) holds: the benchmark
    # means and group means still form (as double means), instead of a cast error
    assert EXACT_BOUND < 1e33
    assert "C-" not in ";".join(str(r) for r in rows["reason_codes"])


# ------------------------------------------------------------------------------------------------
# Beyond a limit: refused by `mujun schemes validate`, exit 2, key and limit named, zh and en
# ------------------------------------------------------------------------------------------------

BIG_FACTOR = _sub("factor: 1.0}", "factor: 10000000}")
OVER: dict[str, tuple[str, str, str]] = {
    # name: (scheme text, key path, message code)
    "weight-1e308": (_sub("weight: 60", "weight: 1e308"), "groups[0].items[0].weight", "SCHEME-LIMIT-NUMBER"),
    "weight-inf": (_sub("weight: 60", "weight: .inf"), "groups[0].items[0].weight", "SCHEME-LIMIT-NUMBER"),
    "factor": (BIG_FACTOR, "indicators.tax_per_mu.factor", "SCHEME-LIMIT-NUMBER"),
    "factor-nan": (_sub("factor: 1.0}", "factor: .nan}"), "indicators.tax_per_mu.factor", "SCHEME-LIMIT-NUMBER"),
    "benchmark-tiny": (
        _sub("kind: fixed, value: 10}", "kind: fixed, value: 1e-300}"),
        "groups[0].items[0].normalise.benchmark.value",
        "SCHEME-LIMIT-NUMBER",
    ),
    "benchmark-huge": (
        _sub("kind: fixed, value: 10}", "kind: fixed, value: 1e15}"),
        "groups[0].items[0].normalise.benchmark.value",
        "SCHEME-LIMIT-NUMBER",
    ),
    "k-tiny": (_sub("k: 1.0}", "k: 1e-300}"), "groups[0].items[1].normalise.benchmark.k", "SCHEME-LIMIT-NUMBER"),
    "k-huge": (_sub("k: 1.0}", "k: 1e308}"), "groups[0].items[1].normalise.benchmark.k", "SCHEME-LIMIT-NUMBER"),
    "fallback": (
        _sub("k: 1.0}", "k: 1.0, fallback: {kind: fixed, value: 1e-9}}"),
        "groups[0].items[1].normalise.benchmark.fallback.value",
        "SCHEME-LIMIT-NUMBER",
    ),
    "by-year-101": (
        _sub(
            "kind: fixed, value: 10}",
            "kind: by_year, values: {" + ", ".join(f"{y}: 1" for y in range(1991, 2092)) + "}}",
        ),
        "groups[0].items[0].normalise.benchmark.values",
        "SCHEME-LIMIT-LIST",
    ),
    "by-year-value": (
        _sub("kind: fixed, value: 10}", "kind: by_year, values: {2022: 1, 2023: 1e300}}"),
        "groups[0].items[0].normalise.benchmark.values.2023",
        "SCHEME-LIMIT-NUMBER",
    ),
    "by-year-year": (
        _sub("kind: fixed, value: 10}", "kind: by_year, values: {2023: 1, 99999999999999999999: 1}}"),
        "groups[0].items[0].normalise.benchmark.values.99999999999999999999",
        "SCHEME-LIMIT-NUMBER",
    ),
    "missing-points": (
        _sub("points: 5}", "points: 1e308}"),
        "groups[0].items[1].missing.points",
        "SCHEME-LIMIT-NUMBER",
    ),
    "share-decimals": (
        _sub("upper: 0.20}", "upper: 0.1234567}"),
        "classification.bands[0].upper",
        "SCHEME-LIMIT-NUMBER",
    ),
    "band-min": (
        _sub("method: percentile", "method: score")
        .replace("upper: 0.20", "min: 1e300")
        .replace("upper: 0.60", "min: 1"),
        "classification.bands[0].min",
        "SCHEME-LIMIT-NUMBER",
    ),
    "terms-1000": (_when(3, " + ".join(["year"] * 1_000) + " > 0"), "overrides[3].when", "SCHEME-LIMIT-TEXT"),
    "terms-4000": (_when(3, " + ".join(["x"] * 4_000) + " > 0"), "overrides[3].when", "SCHEME-LIMIT-TEXT"),
    "terms-nodes": (_when(2, "+".join(["year"] * 300) + " > 0"), "overrides[2].when", "SCHEME-LIMIT-NODES"),
    "chain-depth": (_when(1, " + ".join(["year"] * cnd.MAX_DEPTH) + " > 0"), "overrides[1].when", "SCHEME-LIMIT-DEPTH"),
    "parens-100": (_when(3, "(" * 100 + "year" + ")" * 100 + " > 0"), "overrides[3].when", "SCHEME-LIMIT-DEPTH"),
    "parens-900": (_when(0, "(" * 900 + "year" + ")" * 900 + " > 0"), "overrides[0].when", "SCHEME-LIMIT-DEPTH"),
    "not-chain": (_when(3, "not " * 100 + "above_scale"), "overrides[3].when", "SCHEME-LIMIT-DEPTH"),
    "constant": (_when(3, "tax_10k_yuan > 1e16"), "overrides[3].when", "SCHEME-LIMIT-NUMBER"),
    "constant-int": (_when(3, "year > 99999999999999999999999"), "overrides[3].when", "SCHEME-LIMIT-NUMBER"),
    "constant-inf": (_when(3, "tax_10k_yuan > 1e999"), "overrides[3].when", "SCHEME-LIMIT-NUMBER"),
    "groups-51": (
        _sub(
            "groups:\n",
            "groups:\n"
            + "".join(
                f"  - {{id: g{i}, label: 组, when: 'False', items: [{{indicator: tax_per_mu, weight: 1,"
                " normalise: {method: rank}}]}\n"
                for i in range(50)
            ),
        ),
        "groups",
        "SCHEME-LIMIT-LIST",
    ),
    "items-51": (
        _sub(
            "    items:\n",
            "    items:\n"
            + "".join(f"      - {{indicator: i{i}, weight: 1, normalise: {{method: rank}}}}\n" for i in range(49)),
        ).replace(
            "indicators:\n",
            "indicators:\n" + "".join(f"  i{i}: {{label: x, numerator: tax_10k_yuan}}\n" for i in range(49)),
        ),
        "groups[0].items",
        "SCHEME-LIMIT-LIST",
    ),
    "indicators-201": (
        _sub(
            "indicators:\n",
            "indicators:\n" + "".join(f"  i{i}: {{label: x, numerator: tax_10k_yuan}}\n" for i in range(199)),
        ),
        "indicators",
        "SCHEME-LIMIT-LIST",
    ),
    "numerator-21": (
        _sub(
            "numerator: tax_10k_yuan, denominator", f"numerator: [{', '.join([*NUMERIC, 'tax_10k_yuan'])}], denominator"
        ),
        "indicators.tax_per_mu.numerator",
        "SCHEME-LIMIT-LIST",
    ),
    "overrides-201": (
        _many(
            "overrides",
            "- {{code: X-{i}, label: x, when: 'True', effect: flag}}",
            201,
            _sub(BASE[BASE.index("overrides:") : BASE.index("classification:")], ""),
        ),
        "overrides",
        "SCHEME-LIMIT-LIST",
    ),
    "bonus-201": (
        _many("bonus", "- {{code: X-{i}, label: x, when: 'True', points: 1}}", 201),
        "bonus",
        "SCHEME-LIMIT-LIST",
    ),
    "penalty-201": (
        _many("penalty", "- {{code: X-{i}, label: x, when: 'True', points: 1}}", 201),
        "penalty",
        "SCHEME-LIMIT-LIST",
    ),
    "statuses-201": (
        _many("statuses", "- {{code: X-{i}, label: x, when: 'False', outcome: exempt}}", 201),
        "statuses",
        "SCHEME-LIMIT-LIST",
    ),
    "awards-201": (
        _many("awards", "- {{code: X-{i}, label: x, by: {{indicator: tax_per_mu}}, n: 1}}", 201),
        "awards",
        "SCHEME-LIMIT-LIST",
    ),
    "type-text-number": (_when(3, "tax_10k_yuan > 'abc'"), "overrides[3].when", "SCHEME-INVALID"),
    "type-startswith": (_when(3, "startswith(tax_10k_yuan, '1')"), "overrides[3].when", "SCHEME-INVALID"),
    "type-bool-arith": (_when(3, "above_scale + 1 > 0"), "overrides[3].when", "SCHEME-INVALID"),
    "type-year-of": (_when(3, "year_of(tax_10k_yuan) > 1"), "overrides[3].when", "SCHEME-INVALID"),
    "type-not-bool": (_when(3, "tax_10k_yuan * 2"), "overrides[3].when", "SCHEME-INVALID"),
    "type-in-field": (_when(3, "county in industry_code"), "overrides[3].when", "SCHEME-INVALID"),
}


def _validate(tmp_path: Path, name: str, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["schemes", "validate", str(path)])
    return int(info.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize("name", list(OVER))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_over_limit_is_refused_naming_the_key(
    name: str, lang: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text, key_path, code = OVER[name]
    monkeypatch.setenv("MUJUN_LANG", lang)
    status, err = _validate(tmp_path, name, text, capsys)
    assert status == 2, err
    assert f"[{code}]" in err and f"`{key_path}`" in err, err
    assert "Traceback" not in err and "nternal error" not in err and "内部错误" not in err
    if code.startswith("SCHEME-LIMIT"):
        assert ("breaks a limit" if lang == "en" else "超出限制") in err, err


def test_limit_errors_carry_the_limit() -> None:
    with pytest.raises(SchemeError) as info:
        loads(OVER["terms-nodes"][0], "x.yaml")
    assert info.value.fields["count"] == 300 + 299 + 2 and info.value.fields["limit"] == cnd.MAX_NODES
    with pytest.raises(SchemeError) as info:
        loads(OVER["weight-1e308"][0], "x.yaml")
    assert info.value.fields["value"] == "1e308" and info.value.fields["rule"] == "x ≤ 1e+06"
    with pytest.raises(SchemeError) as info:
        loads(OVER["parens-100"][0], "x.yaml")
    assert info.value.fields["count"] == 100 and info.value.fields["limit"] == cnd.MAX_DEPTH


def test_base_is_valid() -> None:
    assert loads(BASE, "x.yaml").id == "limits-test"


@pytest.mark.parametrize("name", ["weight-1e308", "terms-4000"])
def test_cli_subprocess_refuses(name: str, tmp_path: Path) -> None:
    text, key_path, code = OVER[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mujun", "schemes", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "MUJUN_LANG": "en"},
    )
    assert done.returncode == 2, done.stderr
    assert f"`{key_path}`" in done.stderr and code in done.stderr and "Traceback" not in done.stderr
