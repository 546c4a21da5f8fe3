"""Smoke test of ``mujun bench evaluate``: the hand SQL agrees with the engine and the report is complete.

No timing is asserted; that is what the benchmark itself reports.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from mujun.api import prepare_data
from mujun.bench.evaluate import SCHEME, YEAR, compare, engine_once, format_report, run_bench, sql_once
from mujun.bench.synthetic import LINYI_UNITS, synthetic_firms
from mujun.catalog import uscc
from mujun.schemes import load

FIELDS = {
    "scheme",
    "year",
    "rows",
    "cpu_count",
    "duckdb",
    "generate_s",
    "input_checks_s",
    "input_hash_s",
    "engine_s",
    "engine_runs_s",
    "sql_s",
    "sql_runs_s",
    "ratio",
    "mismatches",
    "mismatch_examples",
    "engine_peak_rss_gib",
    "sql_peak_rss_gib",
    "peak_rss_gib",
    "targets",
    "meets",
}


def test_bench_agrees_and_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    report = run_bench(rows=5000, repeat=1)
    assert report["mismatches"] == 0, report["mismatch_examples"]
    assert set(report) >= FIELDS
    assert report["rows"] == 5000
    assert len(report["engine_runs_s"]) == len(report["sql_runs_s"]) == 1
    assert report["engine_s"] > 0 and report["sql_s"] > 0 and report["ratio"] > 0
    assert report["peak_rss_gib"] > 0
    assert set(report["meets"]) == set(report["targets"])
    monkeypatch.setenv("MUJUN_LANG", "zh")  # each line in one language, the process language
    text = format_report(report)
    for label in ("SYNTHETIC", "引擎", "手写 SQL", "引擎/SQL", "峰值内存", "结果核对", "逐户一致"):
        assert label in text
    monkeypatch.setenv("MUJUN_LANG", "en")
    english = format_report(report)
    for label in ("SYNTHETIC", "engine", "hand SQL", "ratio", "peak RSS", "mismatches", "agree"):
        assert label in english
    assert not re.search(r"[\u3400-\u9fff\uff01-\uff5e]", english)


def test_synthetic_firms_are_valid_and_deterministic() -> None:
    a = synthetic_firms(2000, years=(2022, 2023), seed=7)
    assert a.num_rows == 4000
    assert a.equals(synthetic_firms(2000, years=(2022, 2023), seed=7))
    assert not a.equals(synthetic_firms(2000, years=(2022, 2023), seed=8))
    codes = a["uscc"].to_pylist()
    assert uscc.valid_mask(codes).all()
    assert len(set(codes)) == 2000
    assert all(n.startswith("合成企业") and n.endswith("（示例）") for n in a["name"].to_pylist())
    for name in ("land_mu", "tax_10k_yuan", "energy_tce"):
        col = a[name]
        assert col.null_count > 0
        assert not pc.any(pc.is_nan(col)).as_py()
    assert pc.sum(pc.equal(a["energy_tce"], 0.0)).as_py() > 0
    assert pc.sum(pc.equal(a["land_mu"], 0.0)).as_py() > 0
    assert pc.count_distinct(a["tax_10k_yuan"]).as_py() < a.num_rows - a["tax_10k_yuan"].null_count
    assert len(LINYI_UNITS) == 15
    assert set(a["county"].to_pylist()) == {c for c, _ in LINYI_UNITS}
    assert "兰山区" in set(a["county"].to_pylist())
    assert any(c[:2] in ("44", "45", "46") for c in a["industry_code"].to_pylist())
    above = pc.mean(a["above_scale"].cast("int8")).as_py()
    assert 0.40 < above < 0.50


@pytest.mark.parametrize("tax", [0.0, None], ids=["zero-benchmark", "no-benchmark"])
def test_hand_sql_agrees_when_the_benchmark_is_zero_or_missing(tax: float | None) -> None:
    """Every tax 0 (benchmark 0 → ZERO-VALUE) or missing (no benchmark → MISSING): still no mismatch."""
    data = synthetic_firms(400, years=(YEAR,), seed=3)
    data = data.set_column(
        data.schema.get_field_index("tax_10k_yuan"), "tax_10k_yuan", pa.array([tax] * data.num_rows, pa.float64())
    )
    scheme = load(SCHEME)
    table = prepare_data(data, scheme).table
    engine_result = engine_once(table, scheme, YEAR)
    assert compare(engine_result, sql_once(table, YEAR)) == (0, [])
    code = "ZERO-VALUE(tax_per_mu)" if tax == 0.0 else "MISSING(tax_per_mu)"
    assert any(code in (r or "") for r in engine_result["reason_codes"].to_pylist())
