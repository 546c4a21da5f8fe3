"""Every sentence an explanation can print, checked against the numbers beside it (issue 9, defect 5).

Rows are written by hand (the engine's public and internal columns for one firm), so each case pins
exactly the numbers a sentence must be true of. The old text "该项已接近上限，单靠此项无法升级" was printed
for an item at 7.05 of 22.5: the cap sentence now states the item's maximum, its points and the
shortfall, and a test checks they add up.
"""

from __future__ import annotations

import re

import pytest

from mujun.engine.explain import explain_row
from mujun.engine.explain_text import firm_notes, item_note
from mujun.schemes import loads

SCHEME = """
format_version: 1
id: sentences
title: 句子测试
source: {title: 测试, url: "http://example.invalid/e"}
indicators:
  tax_per_mu: {label: 亩均税收, numerator: tax_10k_yuan, denominator: land_mu}
  energy: {label: 单位能耗营收, numerator: revenue_10k_yuan, denominator: energy_tce}
  rd: {label: 研发强度, numerator: rd_10k_yuan, denominator: revenue_10k_yuan}
  mm: {label: 极差项, numerator: output_10k_yuan}
  rk: {label: 名次项, numerator: employees}
groups:
  - id: g
    label: 全部
    when: "True"
    items:
      - {indicator: tax_per_mu, weight: 40, normalise: {method: ratio, benchmark: {kind: fixed, value: 10}}}
      - {indicator: energy, weight: 15, normalise: {method: ratio, benchmark: {kind: mean}}, cap: 1.5}
      - {indicator: rd, weight: 15, normalise: {method: ratio, benchmark: {kind: mean}}}
      - {indicator: mm, weight: 15, normalise: {method: minmax}}
      - {indicator: rk, weight: 15, normalise: {method: rank}}
classification: {bands: [{class: A, upper: 0.2}, {class: B, upper: 0.6}, {class: C, upper: 0.95}, {class: D}]}
overrides:
  - {code: VETO-SAFETY, label: 安全事故, when: flag_safety_accident, effect: force, class: D}
  - {code: CAP-ENV, label: 环保处罚, when: flag_env_violation, effect: cap, class: C}
  - {code: UP-SPEC, label: 专精特新, when: flag_specialized, effect: up, kind: regrade}
  - {code: DOWN-X, label: 下调测试, when: flag_high_tech, effect: down, kind: regrade}
  - {code: FLOOR-NEW, label: 新升规企业, when: flag_new_above_scale, effect: floor, class: C, kind: protection}
rounding: {stage: none}
"""
LOADED = loads(SCHEME, "sentences.yaml")
CUTS = [  # the scope's cut-offs by final class (min over firms the bands put there)
    {"year": 2024, "scope": "group=g", "class": "A", "firms": 2, "min_score": 90.0, "max_score": 99.0, "moved_in": 0},
    {"year": 2024, "scope": "group=g", "class": "B", "firms": 4, "min_score": 60.0, "max_score": 80.0, "moved_in": 0},
    {"year": 2024, "scope": "group=g", "class": "C", "firms": 3, "min_score": 30.0, "max_score": 55.0, "moved_in": 0},
    {"year": 2024, "scope": "group=g", "class": "D", "firms": 1, "min_score": 10.0, "max_score": 10.0, "moved_in": 0},
]


def row(**over):
    base = {
        "uscc": "X", "name": "测试企业", "year": 2024, "group": "g", "status": "graded", "class": "B",
        "rank": 5, "_scope": "group=g", "_scope_n": 10, "_band_n": 2, "total_score": 70.0,
        "bonus_points": 0.0, "penalty_points": 0.0, "reason_codes": "",
        "value_tax_per_mu": 5.0, "points_tax_per_mu": 20.0, "_b_g__tax_per_mu": 10.0,
        "value_energy": 2.0, "points_energy": 7.05, "_b_g__energy": 4.2553,
        "value_rd": 0.02, "points_rd": 15.0, "_b_g__rd": 0.02,
        "value_mm": 50.0, "points_mm": 10.0, "_lo_g__mm": 0.0, "_hi_g__mm": 100.0,
        "value_rk": 100.0, "points_rk": 7.95,
    }  # fmt: skip
    return {**base, **over}


def improvement(ex, indicator):
    return next(im for im in ex.improvements if im.indicator == indicator)


def numbers(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*\.\d+|\d+", text)]


def test_cap_sentence_states_true_numbers():
    # B → A needs 90 + 1e-9 - 70 = 20 points. energy: 7.05 now, at most 1.5 × 15 = 22.5:
    # 7.05 + 20 = 27.05 > 22.5, short by 4.55 — the defect's 7.05-of-22.5 case
    ex = explain_row(LOADED, row(), CUTS)
    assert ex.next_class == "A" and ex.needed_points == pytest.approx(20.0, abs=1e-8)
    im = improvement(ex, "energy")
    assert (im.note, im.feasible) == ("cap_short", False)
    text = item_note(im, "zh")
    mx, now, short = numbers(text)
    assert (mx, now, short) == (22.5, 7.05, 4.55)
    assert now + ex.needed_points - mx == pytest.approx(short, abs=0.005)  # the sentence's arithmetic holds
    assert "即使此项得满分" in text
    assert "22.50" in item_note(im, "en") and "4.55" in item_note(im, "en")


def test_no_cap_sentence_when_the_item_can_lift_the_firm():
    # rd has no cap and a mean benchmark: 15 + 20 = 35 points → x = 0.02 × 35 / 15 = 0.046667, with a note
    ex = explain_row(LOADED, row(), CUTS)
    im = improvement(ex, "rd")
    assert im.feasible and im.target == pytest.approx(0.02 * 35 / 15)
    assert im.note == "mean_estimate" and "基准值不变估算" in item_note(im)
    # tax_per_mu has a fixed benchmark: no comment needed; 20 + 20 = 40 points → x = 10 × 40 / 40 = 10
    tax = improvement(ex, "tax_per_mu")
    assert tax.feasible and tax.target == pytest.approx(10.0) and item_note(tax) == ""


def test_minmax_rank_and_missing_sentences():
    # total 88: 2 points short of A, within both items' maxima (15 each)
    ex = explain_row(LOADED, row(_lo_g__mm=50.0, _hi_g__mm=50.0, total_score=88.0), CUTS)
    assert improvement(ex, "mm").note == "no_range"
    assert "数值相同" in item_note(improvement(ex, "mm"))
    assert improvement(ex, "rk").note == "rank_based"
    ex = explain_row(LOADED, row(value_rd=None, points_rd=0.0, total_score=88.0), CUTS)
    im = improvement(ex, "rd")
    assert im.feasible and im.change is None and im.note == "no_value"
    ex = explain_row(LOADED, row(_b_g__tax_per_mu=None), CUTS)
    assert improvement(ex, "tax_per_mu").note == "no_benchmark"


def test_veto_sentence_names_the_rule_the_class_and_the_band():
    ex = explain_row(LOADED, row(**{"class": "D", "reason_codes": "VETO-SAFETY", "_band_n": 1}), CUTS)
    # banded A by score, forced D: nothing lifts it, and it is never called "not graded"
    assert ex.band_class == "A" and ex.next_class == "C" and ex.blocked_by == ["VETO-SAFETY"]
    zh = firm_notes(ex, "zh")
    assert zh[0] == "因“安全事故”（VETO-SAFETY）被直接定为 D 类；按得分排名应为 A 类。"
    assert zh[1] == "受“VETO-SAFETY”约束，单项指标提升不能改变类别。"
    assert all("未参与定级" not in s for s in zh)


def test_cap_override_blocks_only_when_it_binds():
    # banded C (band 3), capped at C: lifting the band to B still gives C → blocked
    ex = explain_row(LOADED, row(**{"class": "C", "_band_n": 3, "reason_codes": "CAP-ENV", "total_score": 40.0}), CUTS)
    assert ex.blocked_by == ["CAP-ENV"] and ex.needed_points is None
    assert "类别不得高于 C 类" in firm_notes(ex)[0]
    # banded D, capped at C (no effect on D): lifting the band to C gives C → not blocked; needs 30 - 20
    ex = explain_row(LOADED, row(**{"class": "D", "_band_n": 4, "reason_codes": "CAP-ENV", "total_score": 20.0}), CUTS)
    assert ex.blocked_by == [] and ex.next_class == "C" and ex.needed_points == pytest.approx(10.0, abs=1e-8)


def test_regrade_sentences_and_the_band_target():
    # banded B, moved up to A: already top
    ex = explain_row(LOADED, row(**{"class": "A", "_band_n": 2, "reason_codes": "UP-SPEC"}), CUTS)
    assert ex.next_class is None
    assert firm_notes(ex) == ["按“专精特新”（UP-SPEC）上调 1 类；按得分排名为 B 类。"]
    # banded B, moved down to C: the next class C → B needs the band B → A, i.e. A's lowest 90 - 70
    ex = explain_row(LOADED, row(**{"class": "C", "_band_n": 2, "reason_codes": "DOWN-X"}), CUTS)
    assert ex.next_class == "B" and ex.needed_points == pytest.approx(20.0, abs=1e-8)
    assert "下调 1 类" in firm_notes(ex)[0]
    # banded A, moved down to B: no score can lift it
    ex = explain_row(LOADED, row(**{"class": "B", "_band_n": 1, "reason_codes": "DOWN-X"}), CUTS)
    assert ex.next_class == "A" and ex.blocked_by == ["DOWN-X"]


def test_scope_and_land_sentences():
    small = row(status="not_graded", **{"class": None}, rank=None, _scope_n=1, _band_n=None)
    ex = explain_row(LOADED, {**small, "reason_codes": "SCOPE-TOO-SMALL"}, CUTS)
    assert firm_notes(ex) == ["所在排名范围只有 1 家参评企业，少于方案规定的最少 2 家，不按比例定级。"]
    ex = explain_row(LOADED, {**small, "reason_codes": "NO-LAND"}, CUTS)
    assert "评价用地面积为 0" in firm_notes(ex)[0]
    ex = explain_row(LOADED, row(reason_codes="SCOPE-POOLED", _scope="group=g"), CUTS)
    assert "合并到更大范围（group=g）" in firm_notes(ex)[0]


def test_no_cut_when_the_next_class_has_no_banded_firm():
    cuts = [c for c in CUTS if c["class"] != "A"]
    ex = explain_row(LOADED, row(), cuts)
    assert ex.needed_points is None and firm_notes(ex) == ["A 类目前没有按得分分入的企业，无法给出分数线。"]


def test_two_stage_target_says_score_alone_does_not_decide():
    text = SCHEME.replace(
        SCHEME[SCHEME.index("classification:") : SCHEME.index("overrides:")].strip(),
        "classification: {method: count, bands: [{class: A, share: 0.15, round: nearest, "
        "within: {pool: 0.5, by: {field: tax_10k_yuan}}}, {class: B}, {class: C, share: 0.1, from: bottom}]}",
    )
    loaded = loads(text, "two-stage.yaml")
    ex = explain_row(loaded, row(), CUTS)
    assert ex.next_class == "A" and ex.needed_points is None and ex.improvements == []
    assert firm_notes(ex) == [
        "A 类分两步确定：先取综合得分排名的 50%，再按方案规定的指标排序取参评企业数的 15%；"
        "单靠提高综合得分不一定进入 A 类。"
    ]


def test_floor_sentence_and_its_target():
    # banded D (band 4), kept at C by the protection: band C would still give C, so the next class B
    # needs band B: B's lowest 60 + 1e-9 - 20 = 40 points (it is not "held")
    ex = explain_row(
        LOADED, row(**{"class": "C", "_band_n": 4, "reason_codes": "FLOOR-NEW", "total_score": 20.0}), CUTS
    )
    assert ex.band_class == "D" and ex.next_class == "B" and ex.blocked_by == []
    assert ex.needed_points == pytest.approx(40.0, abs=1e-8)
    assert firm_notes(ex)[0] == "因“新升规企业”（FLOOR-NEW），类别不低于 C 类；按得分排名为 D 类。"
