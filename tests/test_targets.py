"""Targets: registry validation, progress arithmetic by hand, statuses, and `mujun targets` end to end."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mujun.errors import SchemeError
from mujun.strategy.progress import progress
from mujun.strategy.registry import Target, load_registry, loads


def _target(**kw) -> Target:
    base = {
        "id": "t",
        "title": {"zh": "测试"},
        "unit": "家",
        "metric": {"kind": "count", "where": "above_scale"},
        "target_value": 0,
        "deadline": 2026,
        "baseline": {"year": 2022},
        "direction": "down",
        "source": "test",
    }
    return Target.model_validate({**base, **kw})


def test_shipped_registry_has_every_seed_commitment():
    reg = load_registry()
    ids = {t.id for t in reg.targets}
    # seed: clear low-efficiency firms, 50 second-tier a year, 100 key projects, R&D everywhere, 3 listings,
    # 70 % on the cloud, eight industries above the nation, 1 万亿, >50 % high-tech, 4 clusters, 15 firms
    # of 100亿, 10 firms paying 10亿; 实施意见: tax doubled to 500亿, value added ≥ 39 % of GDP
    assert {
        "low_efficiency", "second_tier", "key_projects", "rd_coverage", "listings", "cloud",
        "industries_vs_nation", "output", "high_tech_share", "clusters", "firms_100yi", "taxpayers_10yi",
        "industrial_tax", "va_share_gdp",
    } <= ids  # fmt: skip
    for t in reg.targets:
        assert t.source and t.deadline >= 2026 and t.unit


def test_registry_errors_name_the_key_path():
    with pytest.raises(SchemeError) as err:
        loads(
            "format_version: 1\ntargets:\n  - {id: x, title: {zh: x}, unit: 家, metric: {kind: share, where: a},"
            " target_value: 1, deadline: 2026, baseline: {year: 2022}, source: s}\n",
            "mine.yaml",
        )
    assert "mine.yaml" in str(err.value) and "targets.0.metric" in str(err.value)


def test_ols_projection_by_hand():
    """Low-efficiency firms 804, 524, 450, 346 in 2022-2025, target 0 by 2026.

    x̄ = 2023.5, ȳ = 531; Sxx = 2.25+0.25+0.25+2.25 = 5; Sxy = −1.5·273 − 0.5·(−7) + 0.5·(−81) + 1.5·(−185) = −724
    β = −144.8; value(2026) = 531 − 144.8·2.5 = 169
    residuals 55.8, −79.4, −8.6, 32.2 → Σe² = 10528.8, s = √(10528.8/2) = 72.5565
    half = t(0.90, 2) 1.8856 · 72.5565 · √(1 + 1/4 + 2.5²/5) = 1.8856 · 72.5565 · 1.58114 = 216.32
    band 169 ± 216.32 → low −47.32 clipped to 0, high 385.32; down to 0: projection misses, low meets → at_risk.
    """
    p = progress(_target(), {2021: 841.0, 2022: 804.0, 2023: 524.0, 2024: 450.0, 2025: 346.0})
    assert p.method == "ols_80pi"
    assert p.projection["value"] == pytest.approx(169.0)
    assert p.projection["low"] == 0.0
    assert p.projection["high"] == pytest.approx(169.0 + 1.8856 * math.sqrt(10528.8 / 2) * math.sqrt(2.5), rel=1e-9)
    assert p.status == "at_risk"
    # path: 804 at 2022 to 0 at 2026, a quarter a year
    assert p.path == {2022: 804.0, 2023: 603.0, 2024: 402.0, 2025: 201.0, 2026: 0.0}
    assert p.baseline["value"] == 804.0  # the baseline year's actual


def test_two_points_one_point_and_no_data():
    up = _target(direction="up", target_value=100, unit="个")
    two = progress(up, {2022: 40.0, 2023: 50.0})
    # line through the points: 50 + 10·3 = 80 at 2026; band ± 50 % of the change 30 → 65..95; 95 < 100
    assert (two.projection["value"], two.projection["low"], two.projection["high"]) == (80.0, 65.0, 95.0)
    assert two.status == "off_track" and two.method == "two_point_line"
    one = progress(up, {2022: 90.0})
    # last value 90; band ± 50 % of the gap 10 → 85..95
    assert (one.projection["value"], one.projection["low"], one.projection["high"]) == (90.0, 85.0, 95.0)
    assert progress(up, {}).status == "no_data"


def test_per_year_targets_use_the_last_three_years():
    t = _target(kind="per_year", direction="up", target_value=100, unit="个/年")
    p = progress(t, {2022: 90.0, 2023: 110.0, 2024: 104.0, 2025: 96.0})
    # mean(110, 104, 96) = 103.33 ≥ 100 → on track; band 96..110
    assert p.projection["value"] == pytest.approx(310 / 3) and p.status == "on_track"
    assert (p.projection["low"], p.projection["high"]) == (96.0, 110.0)
    assert set(p.path.values()) == {100}


def test_deadline_reached_uses_the_actual_value():
    t = _target(direction="up", target_value=0.7, unit="%", deadline=2024)
    assert progress(t, {2022: 0.5, 2023: 0.6, 2024: 0.71}).status == "on_track"
    assert progress(t, {2022: 0.5, 2023: 0.6, 2024: 0.69}).status == "off_track"


@given(st.lists(st.floats(0, 1), min_size=3, max_size=8))
def test_shares_stay_within_bounds(values):
    t = _target(direction="up", target_value=0.7, unit="%", baseline={"year": 2018}, deadline=2030)
    p = progress(t, {2018 + i: v for i, v in enumerate(values)})
    for v in p.projection.values():
        assert v is None or 0.0 <= v <= 1.0
    assert p.projection["low"] <= p.projection["value"] <= p.projection["high"]


def test_low_efficiency_is_the_schemes_flag_not_a_second_threshold():
    """The registry refers to the scheme's override (one owner of the rule); a copy of the line is refused."""
    low = load_registry().target("low_efficiency")
    assert low.metric.kind == "flagged" and low.metric.code == "LOW-EFFICIENCY" and not low.metric.where
    from mujun.schemes import load

    rule = next(o for o in load("linyi-2022").scheme.overrides if o.code == low.metric.code)
    assert rule.effect == "flag" and rule.when == "above_scale and tax_per_mu < 3"
    head = "format_version: 1\ntargets:\n  - {id: x, title: {zh: x}, unit: 家, target_value: 0, deadline: 2026, "
    tail = "baseline: {year: 2022}, source: s}\n"
    with pytest.raises(SchemeError) as err:
        loads(head + "metric: {kind: flagged}, " + tail, "mine.yaml")
    assert "targets.0.metric" in str(err.value)
    with pytest.raises(SchemeError) as err:
        loads(head + "metric: {kind: flagged, code: low efficiency}, " + tail, "mine.yaml")
    assert "targets.0.metric" in str(err.value)
    with pytest.raises(SchemeError) as err:
        loads(head + "metric: {kind: flagged, code: LOW-EFFICIENCY}, threshold: {field: f, below: 3}, " + tail, "m")
    assert "threshold" in str(err.value)
    assert loads(head + "metric: {kind: flagged, code: LOW-EFFICIENCY, scheme: linyi-2022}, " + tail, "m")
