"""The compiled-query cache binds each input to the table it stands for (backends/duckdb.py ``run``), in this
process, from the workspace and from the user's cache folder; its key changes with the engine."""

from __future__ import annotations

import itertools

import pyarrow as pa
import pytest

from mujun.backends import duckdb as db


def _make(t, f):  # type: ignore[no-untyped-def]
    joined = t.join(f, "k")
    return joined.select(k=joined.k, d=t.v - f.v).order_by("k")


def test_cached_sql_binds_each_table_even_when_new_names_collide_with_old_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUJUN_CACHE_DIR", "off")
    a = pa.table({"k": [1, 2], "v": [10.0, 20.0]})
    b = pa.table({"k": [1, 2], "v": [1.0, 2.0]})
    key = ("test-collide",)
    monkeypatch.setattr(db, "_counter", itertools.count(0))
    first = db.DuckDBBackend()
    try:
        assert first.run([a, b], _make, key)["d"].to_pylist() == [9.0, 18.0]  # compiled with mujun_in_0_z, _1_z
    finally:
        first.close()
    # the next names are mujun_in_1_z and mujun_in_2_z: replacing one name after the other would turn the
    # first input into the second (0 → 1, then 1 → 2) and compute b − b
    monkeypatch.setattr(db, "_counter", itertools.count(1))
    again = db.DuckDBBackend()
    try:
        assert again.run([b, a], _make, key)["d"].to_pylist() == [-9.0, -18.0]
    finally:
        again.close()
        db.COMPILED.pop(key, None)


def test_the_key_holds_the_engine_revision() -> None:
    from mujun import api

    rev = api.engine_revision()
    assert len(rev) == 16 and rev == api.engine_revision()
