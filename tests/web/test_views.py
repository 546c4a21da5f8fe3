"""The scope-aware read layer: a narrower Scope sees only its firms, in every view; figures by hand."""

from __future__ import annotations

import pytest

from mujun.runs.workspace import Workspace
from mujun.views import Reader, Scope, attach_cache
from mujun.views import overview as ov
from mujun.views import results as res


@pytest.fixture
def reader(workspace_copy):
    ws = Workspace(workspace_copy)  # the view cache is attached to a writable connection, as in the app
    attach_cache(ws)
    with Reader(ws) as r:
        yield r
    ws.close()


def test_view_table_joins_facts_and_derives_land(reader):
    run = reader.run_for(year=2024)
    view = reader.view(run["run_id"])
    rows = reader.rows(f"SELECT uscc, land_mu, tax_10k_yuan, tax_per_mu, value_tax_per_mu, status FROM {view}")
    con = reader.ws.con
    snap = f"snapshot_{run['input_sha256'][:16]}"
    first = next(r for r in rows if r["land_mu"] is not None and r["status"] == "graded")
    own, rin, rout = con.execute(
        f"SELECT land_own_mu, land_rented_in_mu, land_rented_out_mu FROM {snap} WHERE uscc = ? AND year = 2024",
        [first["uscc"]],
    ).fetchone()
    # land_mu = own + rented in - rented out (missing parts count 0), as the engine derives it
    assert first["land_mu"] == pytest.approx((own or 0) + (rin or 0) - (rout or 0))
    # the view's tax per mu is the engine's indicator value
    for r in rows:
        if r["value_tax_per_mu"] is not None:
            assert r["tax_per_mu"] == pytest.approx(r["value_tax_per_mu"], rel=1e-12)


def test_scope_narrows_every_view(reader):
    run = reader.run_for(year=2024)
    rid = run["run_id"]
    city = ov.summary(reader, rid)
    units = ov.by_unit(reader, rid)
    one = units[0]["unit"]
    narrow = Reader(reader.ws, Scope(counties=(one,), label=one))
    try:
        s = ov.summary(narrow, rid)
        assert s["firms"] == units[0]["firms"] < city["firms"]
        page = res.page(narrow, rid, res.Query(per_page=200))
        assert page["total"] == s["firms"] and {r["county"] for r in page["rows"]} == {one}
        assert res.facets(narrow, rid)["county"] == [one]
        # a filter cannot widen the scope
        other = units[1]["unit"]
        assert res.page(narrow, rid, res.Query(filters={"county": other}))["total"] == 0
    finally:
        narrow.close()


def test_tax_per_mu_is_the_aggregate_ratio(reader):
    rid = reader.run_for(year=2023)["run_id"]
    view = reader.view(rid)
    tax, land = reader.con.execute(
        f"SELECT sum(tax_10k_yuan), sum(land_mu) FROM {view} "
        "WHERE above_scale AND land_mu > 0 AND tax_10k_yuan IS NOT NULL"
    ).fetchone()
    assert ov.summary(reader, rid)["tax_per_mu"] == pytest.approx(tax / land)


def test_a_role_without_raw_tax_still_reads_each_units_tax_per_mu(reader):
    """The leader's role hides a firm's raw tax (catalog/roles.yaml) but reads per-mu indicators: a unit's
    Σ tax / Σ land (computed as Σ(tax per mu × land) / Σ land) is the same for it as for the bureau."""
    from mujun.catalog.roles import load_roles

    rid = reader.run_for(year=2023)["run_id"]
    hidden = frozenset(load_roles().roles["leader"].hidden)
    assert "tax_10k_yuan" in hidden and "tax_per_mu" not in hidden and "land_mu" not in hidden
    leader = Reader(reader.ws, Scope(label="leader", hidden=hidden))
    try:
        mine = {u["unit"]: u for u in ov.by_unit(leader, rid)}
        for u in ov.by_unit(reader, rid):
            assert u["tax_per_mu"] is not None
            assert mine[u["unit"]]["tax_per_mu"] == pytest.approx(u["tax_per_mu"], rel=1e-12)
            assert mine[u["unit"]]["tax"] is None  # the raw sum stays hidden
    finally:
        leader.close()


def test_search_takes_wildcards_literally(reader):
    rid = reader.run_for(year=2024)["run_id"]
    assert res.page(reader, rid, res.Query(q="%"))["total"] == 0
    assert res.page(reader, rid, res.Query(q="_"))["total"] == 0
    some = res.page(reader, rid, res.Query(per_page=20))["rows"][0]
    found = res.page(reader, rid, res.Query(q=some["uscc"][-6:].lower()))
    assert some["uscc"] in {r["uscc"] for r in found["rows"]}
