"""评价方案: the schemes a reader can see, one scheme laid out for reading, and two schemes compared.

Comparison of schemes A and B for data year Y: both are evaluated on the workspace's canonical data
(``enterprise_years``, every year, so prior-year benchmarks work) in a fresh in-memory DuckDB — never in
the workspace file — and their results are joined on USCC. The transition matrix counts firms by
(class under A, class under B), "—" standing for no class (exempt / not graded); its total is the number
of firms evaluated by both, and the firms that change class are its off-diagonal cells. The reader's
scope (and an optional unit filter) restricts the firms counted and listed, not the evaluation itself:
ranks and bands are always those of the whole data.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow as pa

from mujun import api
from mujun.backends.duckdb import scratch
from mujun.catalog.industries import chain_of
from mujun.errors import WorkspaceError
from mujun.schemes import LoadedScheme, builtin_ids, load
from mujun.schemes.describe import band_rule, classification_notes, override_effect
from mujun.schemes.model import Classification
from mujun.views.base import Reader

NO_CLASS = "-"
CLASSES = ("A", "B", "C", "D", "T", NO_CLASS)
KEPT = ("uscc", "name", "county", "group", "status", "class", "rank", "total_score")
PER_PAGE = 50


def workspace_schemes(reader: Reader) -> dict[str, dict[str, Any]]:
    """Schemes used by runs of this workspace: id → {versions (sha256), years, runs, newest run_id}."""
    out: dict[str, dict[str, Any]] = {}
    for r in reader.runs():
        e = out.setdefault(str(r["scheme_id"]), {"shas": [], "years": set(), "runs": 0, "run_id": None})
        if r["scheme_sha256"] not in e["shas"]:
            e["shas"].append(r["scheme_sha256"])
        e["years"].add(int(r["year"]))
        e["runs"] += 1
        e["run_id"] = r["run_id"]
    for e in out.values():
        e["years"] = sorted(e["years"])
    return out


def row(sid: str, loaded: LoadedScheme, use: dict[str, Any], builtin: bool) -> dict[str, Any]:
    """One scheme as the list shows it: title, source, size, and its use in this workspace (``use``)."""
    s = loaded.scheme
    return {
        "id": sid,
        "title": s.title,
        "title_en": s.title_en,
        "jurisdiction": s.jurisdiction,
        "document": s.source.document,
        "issued": s.source.issued,
        "builtin": builtin,
        "sha256": loaded.sha256,
        "groups": len(s.groups),
        "items": sum(len(g.items) for g in s.groups),
        "assumptions": len(s.assumptions),
        "runs": use.get("runs", 0),
        "years": use.get("years", []),
        "other_version": bool(use) and any(sha != loaded.sha256 for sha in use["shas"]),
    }


def catalogue(reader: Reader) -> list[dict[str, Any]]:
    """Built-in schemes, then schemes only this workspace's runs used; each with its workspace usage."""
    used = workspace_schemes(reader)
    rows = []
    for sid in [*builtin_ids(), *(s for s in used if s not in builtin_ids())]:
        loaded = resolve(reader, sid)
        use = used.get(sid, {})
        rows.append(row(sid, loaded, use, builtin=sid in builtin_ids()))
    return rows


def resolve(reader: Reader, scheme_id: str, run_id: str | None = None) -> LoadedScheme:
    """The scheme stored with ``run_id``; else the built-in ``scheme_id``; else the one its newest run used."""
    if run_id:
        return reader.scheme(run_id)
    if scheme_id in builtin_ids():
        return load(scheme_id)
    used = workspace_schemes(reader).get(scheme_id)
    if used is None:
        raise WorkspaceError("RUN-NOT-FOUND", run_id=scheme_id)
    return reader.scheme(str(used["run_id"]))


def describe(loaded: LoadedScheme, lang: str = "zh") -> dict[str, Any]:
    """The scheme as plain data for the page: its model (by alias) plus each group's effective
    classification with every band's rule in words (``rules``, ``notes``: mujun.schemes.describe) and
    each item's indicator, so the template can write every rule out in words."""
    s = loaded.scheme
    data = s.model_dump(mode="json", by_alias=True)

    def words(cls: Classification, raw: dict[str, Any]) -> dict[str, Any]:
        raw["rules"] = [band_rule(cls, b, s, lang) for b in cls.bands]
        raw["notes"] = classification_notes(cls, lang)
        return raw

    words(s.classification, data["classification"])
    for ov, raw in zip(s.overrides, data["overrides"], strict=True):
        raw["effect_text"] = override_effect(ov, lang)
    for g, raw in zip(s.groups, data["groups"], strict=True):
        cls = s.group_classification(g)
        raw["effective_classification"] = words(cls, cls.model_dump(mode="json", by_alias=True))
        raw["own_classification"] = g.classification is not None
        raw["total_weight"] = sum(it.weight for it in g.items)
        for item in raw["items"]:
            item["ind"] = data["indicators"][item["indicator"]]
    data["sha256"] = loaded.sha256
    data["origin"] = loaded.origin
    return data


# -- comparison ---------------------------------------------------------------------------------
def input_data(reader: Reader) -> tuple[pa.Table, str]:
    """The workspace's canonical data (every year) and a sha256 of it (Arrow IPC of the sorted table)."""
    if not reader.has_table("enterprise_years"):
        raise WorkspaceError("NO-RUNS", path=str(reader.ws.path))
    table = reader.con.execute("SELECT * FROM enterprise_years ORDER BY year, uscc").to_arrow_table()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=65536)
    return table, hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def data_years(table: pa.Table) -> list[int]:
    return sorted({int(y) for y in table.column("year").to_pylist() if y is not None})


def _evaluate(table: pa.Table, loaded: LoadedScheme, year: int) -> pa.Table:
    con = scratch()
    try:
        ev = api.evaluate(api.prepare_data(table, loaded), loaded, year=year, duckdb_connection=con)
        return ev.to_arrow().select([c for c in KEPT if c in ev.to_arrow().column_names])
    finally:
        con.close()


def compare(table: pa.Table, a: LoadedScheme, b: LoadedScheme, year: int) -> pa.Table:
    """One row per firm evaluated by both: facts, then ``<col>_a`` / ``<col>_b`` for the result columns."""
    ra, rb = _evaluate(table, a, year), _evaluate(table, b, year)
    con = scratch()
    try:
        con.register("ra", ra)
        con.register("rb", rb)
        con.register("facts", table.select(["uscc", "year", "town", "industry_code"]))
        both = con.execute(
            """
            SELECT ra.uscc, ra.name, ra.county, f.town, f.industry_code,
                   ra."group" AS group_a, rb."group" AS group_b, ra.status AS status_a, rb.status AS status_b,
                   coalesce(ra."class", '-') AS class_a, coalesce(rb."class", '-') AS class_b,
                   ra."rank" AS rank_a, rb."rank" AS rank_b, ra.total_score AS score_a, rb.total_score AS score_b
            FROM ra JOIN rb ON rb.uscc = ra.uscc
            LEFT JOIN (SELECT DISTINCT ON (uscc) uscc, town, industry_code FROM facts WHERE year = ?) f
                ON f.uscc = ra.uscc
            ORDER BY ra.uscc
            """,
            [year],
        ).to_arrow_table()
    finally:
        con.close()
    chains = [chain_of(code).id for code in both.column("industry_code").to_pylist()]
    return both.append_column("industry_chain", pa.array(chains, pa.string()))


def transitions(
    reader: Reader,
    both: pa.Table,
    county: str | None = None,
    frm: str | None = None,
    to: str | None = None,
    page: int = 1,
) -> dict[str, Any]:
    """Matrix, totals and one page of changed firms, over the reader's scope (and ``county`` if given);
    ``frm`` / ``to`` narrow the list to one cell of the matrix."""
    con = scratch()
    try:
        con.register("v", both)
        where, params = reader.scope.where("v", town_column=True)
        if county:
            where, params = where + " AND v.county = ?", [*params, county]
        cells = con.execute(f"SELECT class_a, class_b, count(*) FROM v WHERE {where} GROUP BY 1, 2", params).fetchall()
        units = [
            r[0] for r in con.execute("SELECT DISTINCT county FROM v WHERE county IS NOT NULL ORDER BY 1").fetchall()
        ]
        changed_where = f"{where} AND v.class_a <> v.class_b"
        for name, value in (("class_a", frm), ("class_b", to)):
            if value in CLASSES:
                changed_where, params = changed_where + f" AND v.{name} = ?", [*params, value]
        total = int(con.execute(f"SELECT count(*) FROM v WHERE {changed_where}", params).fetchone()[0])  # type: ignore[index]
        pages = max(1, -(-total // PER_PAGE))
        current = min(max(1, page), pages)
        cur = con.execute(
            f"SELECT * FROM v WHERE {changed_where} ORDER BY v.county, v.class_a, v.class_b, v.uscc "
            f"LIMIT {PER_PAGE} OFFSET {(current - 1) * PER_PAGE}",
            params,
        )
        names = [d[0] for d in cur.description or []]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    matrix = {ka: {kb: 0 for kb in CLASSES} for ka in CLASSES}
    for ka, kb, n in cells:
        matrix[ka][kb] = int(n)
    return {
        "matrix": matrix,
        "row_totals": {k: sum(matrix[k].values()) for k in CLASSES},
        "col_totals": {k: sum(matrix[r][k] for r in CLASSES) for k in CLASSES},
        "both": sum(sum(r.values()) for r in matrix.values()),
        "changed": sum(matrix[ka][kb] for ka in CLASSES for kb in CLASSES if ka != kb),
        "units": [u for u in units if reader.scope.counties is None or u in reader.scope.counties],
        "rows": rows,
        "total": total,
        "page": current,
        "pages": pages,
        "per_page": PER_PAGE,
    }
