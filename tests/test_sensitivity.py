"""Weight sensitivity (issue 13): the fast draw-by-draw scoring equals the engine. At the policy weights it
reproduces the stored run; for a weight moved by +20% and for a random Dirichlet draw, every graded firm's
total and class equal what the engine computes with those weights written into the scheme. SYNTHETIC data
(mujun.demo, 300 firms, scheme linyi-2022)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from mujun import api
from mujun.cycle import sensitivity as se
from mujun.cycle.whatif import Base, base
from mujun.errors import InputError
from mujun.runs.workspace import Workspace
from mujun.schemes import canonical_json, loads
from test_users_cli import in_process

YEAR = 2024


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mujun.demo import run_demo

    root = tmp_path_factory.mktemp("sens-demo")
    return Path(
        run_demo(root, firms=300, years=(2023, YEAR), seed=9, echo=lambda _m: None, strategy=False)["workspace"]
    )


@pytest.fixture(scope="module")
def b(ws_path: Path) -> Base:
    with Workspace(ws_path, read_only=True) as ws:
        return base(ws.con, ws.runs()[-1]["run_id"])


def engine_with(b: Base, weights: dict[str, list[float]]) -> dict[str, dict[str, object]]:
    """The engine's result for the run's input with the groups' item weights replaced."""
    doc = json.loads(canonical_json(b.loaded.scheme))
    for g in doc["groups"]:
        for it, w in zip(g["items"], weights.get(g["id"], [it["weight"] for it in g["items"]]), strict=True):
            it["weight"] = float(w)
    loaded = loads(json.dumps(doc), "test:weights")
    return {r["uscc"]: r for r in api.evaluate(b.snapshot, loaded, year=b.year).table.to_pylist()}


def fast_with(m: se.Model, weights: dict[str, list[float]]) -> dict[str, tuple[float, str]]:
    w = {i: np.array(weights.get(g.id, m.weights[i]), dtype=float) for i, g in enumerate(m.groups)}
    total = se.totals(m, w)
    cls, _ = se.classes(m, total)
    return {u: (float(t), "ABCD"[c]) for u, t, c in zip(m.uscc, total, cls, strict=True)}


def test_the_policy_weights_reproduce_the_run(b: Base) -> None:
    m = se.model(b)
    got = fast_with(m, {})
    stored = {r["uscc"]: r for r in b.results.to_pylist()}
    assert len(got) == sum(1 for r in stored.values() if r["status"] == "graded")
    assert all(got[u] == (stored[u]["total_score"], stored[u]["class"]) for u in got)


@pytest.mark.parametrize("draw", ["tax_per_mu +20%", "dirichlet"])
def test_changed_weights_equal_the_engine(b: Base, draw: str) -> None:
    m = se.model(b)
    above = [it.weight for it in b.loaded.scheme.groups[0].items]  # 40, 15, 15, 15, 15
    if draw == "dirichlet":
        rng = np.random.default_rng(3)
        new = list(100 * rng.dirichlet(200 * np.array(above) / 100))
    else:
        # 40 × 1.2 = 48; the other four share 100 − 48 = 52 in proportion: 15 × 52/60 = 13 each
        new = [48.0, 13.0, 13.0, 13.0, 13.0]
    weights = {b.loaded.scheme.groups[0].id: new}
    fast, engine = fast_with(m, weights), engine_with(b, weights)
    assert fast and all(fast[u] == (engine[u]["total_score"], engine[u]["class"]) for u in fast)
    moved = sum(1 for u in fast if fast[u][1] != {r["uscc"]: r for r in b.results.to_pylist()}[u]["class"])
    if draw != "dirichlet":
        assert moved > 0  # 8 points of weight move some firms


def test_the_report_counts_the_one_at_a_time_changes_and_the_draws(b: Base) -> None:
    doc = se.run(b, draws=40, seed=5)
    m = se.model(b)
    row = next(r for r in doc["one_at_a_time"] if r["indicator"] == "tax_per_mu" and r["step"] == 0.2)
    assert (row["share_from"], row["share_to"]) == (40.0, 48.0)
    fast = fast_with(m, {"above_scale": [48.0, 13.0, 13.0, 13.0, 13.0]})
    assert row["class_changes"] == sum(1 for u, c in zip(m.uscc, m.base_class, strict=True) if fast[u][1] != "ABCD"[c])
    assert {r["group"] for r in doc["one_at_a_time"]} == {"above_scale"}  # below_scale has one item
    assert len(doc["one_at_a_time"]) == 5 * 4
    for f in doc["firms"]:
        assert sum(f["shares"].values()) == pytest.approx(1.0)
        assert f["confidence"] == f["shares"].get(f["class"], 0.0)
    assert doc["firms_changing"] == sum(1 for f in doc["firms"] if f["confidence"] < 1)
    assert se.run(b, draws=40, seed=5)["firms"] == doc["firms"]  # seeded: the same draws


def test_a_scheme_the_fast_method_cannot_follow_is_refused(b: Base) -> None:
    doc = json.loads(canonical_json(b.loaded.scheme))
    doc["rounding"]["stage"] = "item"
    odd = Base(b.run_id, b.year, loads(json.dumps(doc), "test"), b.snapshot, b.results, b.cutoffs)
    with pytest.raises(InputError) as bad:
        se.model(odd)
    assert bad.value.code == "SENSITIVITY-UNSUPPORTED"


def test_the_command_writes_a_workbook_in_officials_words(ws_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "sens.xlsx"
    code, text, err = in_process(
        "sensitivity", "--workspace", str(ws_path), "--year", str(YEAR), "--draws", "20", "--out", str(out), lang="zh"
    )
    assert code == 0, err
    assert "若单位用地税收权重由 40% 调为 48%" in text and "家企业类别改变" in text
    wb = openpyxl.load_workbook(out)
    assert "若单位用地税收权重由 40% 调为 48%" in "\n".join(str(c.value) for c in wb.worksheets[0]["A"])
    oat = wb.worksheets[1]
    assert oat.cell(2, 3).number_format == "0.00%" and isinstance(oat.cell(2, 6).value, int)
    firms = wb.worksheets[2]
    assert firms.max_row > 100 and firms.cell(2, 3).number_format == "0.00%"


def test_near_cut_lists_firms_within_the_distance_with_the_points_the_explanation_gives(b: Base) -> None:
    from mujun.cycle.advisory import near_cut
    from mujun.engine.explain import explain_row

    near = near_cut(b, 0.5)
    assert near
    rows = {r["uscc"]: r for r in b.results.to_pylist()}
    cuts = b.cutoffs.to_pylist()
    for f in near:
        assert min(x for x in (f["points_up"], f["points_down"]) if x is not None) <= 0.5
        row = rows[f["uscc"]]
        ex = explain_row(b.loaded, row, [c for c in cuts if c["scope"] == row["_scope"]])
        assert f["points_up"] == (None if ex.needed_points is None else round(ex.needed_points, 4))
        if f["lift"] is not None:  # the lift really crosses: the indicator at its target is worth the points
            assert f["lift"]["target"] != f["lift"]["current"]


def test_objective_weights_by_hand(b: Base) -> None:
    import pyarrow as pa

    from mujun.cycle.advisory import objective_weights

    # four firms; tax per mu spreads, revenue per energy is constant, the other three copy tax per mu
    tax = [1.0, 2.0, 3.0, 4.0]
    cols = {"uscc": ["a", "b", "c", "d"], "status": ["graded"] * 4, "group": ["above_scale"] * 4,
            "value_tax_per_mu": tax, "value_revenue_per_energy": [5.0] * 4, "value_revenue_per_emission": tax,
            "value_rd_intensity": tax, "value_labour_productivity": tax}  # fmt: skip
    fake = Base(b.run_id, b.year, b.loaded, b.snapshot, pa.table(cols), b.cutoffs)
    w = {r["indicator"]: r for r in objective_weights(fake)}
    # a constant indicator carries no information: entropy e = 1 (uniform p), σ = 0 → both weights 0
    assert w["revenue_per_energy"]["entropy"] == pytest.approx(0.0, abs=0.01)
    assert w["revenue_per_energy"]["critic"] == pytest.approx(0.0, abs=0.01)
    # the four identical columns share the rest equally: 100 / 4 = 25
    for k in ("tax_per_mu", "revenue_per_emission", "rd_intensity", "labour_productivity"):
        assert w[k]["entropy"] == pytest.approx(25.0, abs=0.01) and w[k]["critic"] == pytest.approx(25.0, abs=0.01)
    assert w["tax_per_mu"]["policy"] == 40.0 and w["tax_per_mu"]["firms"] == 4
