"""The SYNTHETIC Linyi panel (mujun.synth): reproducible, calibrated, valid, and its defects are as recorded."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from mujun.catalog import uscc
from mujun.synth import calibration, synth
from mujun.synth.defects import CODES

ALL_CODES = set(CODES.values())


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, pa.Table, list[dict[str, str]]]:
    out = tmp_path_factory.mktemp("synth4000")
    summary = synth(out, firms=4000, seed=42, defect_rate=0.02)
    truth = pq.read_table(out / "truth" / "enterprise_years.parquet")
    with open(out / "truth" / "defects.csv", encoding="utf-8") as fh:
        defects = list(csv.DictReader(fh))
    return out, summary, truth, defects


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    kw = {"firms": 300, "years": (2022, 2023), "seed": 7}
    synth(tmp_path / "a", **kw)
    synth(tmp_path / "b", **kw)
    synth(tmp_path / "c", **{**kw, "seed": 8})
    a, b, c = (_files(tmp_path / k) for k in "abc")
    assert len(a) == 2 + 2 * 6 + 3  # truth (2), six departments a year, projects, listings, README
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name
    assert a["truth/enterprise_years.parquet"] != c["truth/enterprise_years.parquet"]


def test_layout_and_formats(run: tuple) -> None:
    out, summary, _, _ = run
    for year in (2021, 2022, 2023, 2024, 2025):
        names = sorted(p.name for p in (out / str(year)).iterdir())
        assert names == sorted(
            f"{s}_{year}.{e}"
            for s, e in [
                ("tax", "xlsx"),
                ("stats", "xlsx"),
                ("land", "csv"),
                ("power", "csv"),
                ("ecology", "xlsx"),
                ("science", "xlsx"),
            ]
        )
    assert (out / "projects.xlsx").is_file() and (out / "listings.xlsx").is_file()
    assert all(Path(f).is_file() for f in summary.files)
    assert (out / "2023" / "power_2023.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    land = (out / "2023" / "land_2023.csv").read_bytes()
    assert "（合成）".encode("gb18030") in land
    with pytest.raises(UnicodeDecodeError):
        land.decode("utf-8")


def test_panel_size_and_output(run: tuple) -> None:
    _, summary, truth, _ = run
    years = summary.years
    assert abs(years[2022].above - 4000) <= 200
    assert [years[y].above for y in sorted(years)] == sorted(years[y].above for y in years)  # grows every year
    assert all(0.3 <= years[y].below / years[y].above <= 0.5 for y in years)
    above = pc.equal(truth["above_scale"], True)
    for year, lo, hi in ((2022, 6300, 7700), (2023, 7200, 8800)):
        sel = pc.and_(above, pc.equal(truth["year"], year))
        output = pc.sum(truth.filter(sel)["output_10k_yuan"]).as_py() / 1e4
        assert lo <= output <= hi, (year, output)
        assert lo <= years[year].output_yi <= hi
    in_2023 = truth.filter(pc.equal(truth["year"], 2023))
    assert pc.max(in_2023["revenue_10k_yuan"]).as_py() > 100 * 1e4  # at least one firm above 100亿


def test_share_under_3_wan_per_mu(run: tuple) -> None:
    _, summary, _, _ = run
    assert 0.15 <= summary.years[2022].share_under_3 <= 0.27
    assert summary.years[2025].share_under_3 < summary.years[2022].share_under_3


def test_all_units_and_industries_present(run: tuple) -> None:
    _, _, truth, _ = run
    units = {c[0] for c in calibration.COUNTIES}
    for year in (2021, 2025):
        got = set(truth.filter(pc.equal(truth["year"], year))["county"].to_pylist())
        assert got == units
    codes = set(truth["industry_code"].to_pylist())
    assert all(len(c) == 4 and c.isdigit() for c in codes)
    assert {c[:2] for c in codes} >= {"20", "13", "31", "35", "26", "30", "27", "17", "44", "45", "46"}


def test_every_defect_code_is_injected_and_ok_variants_parse_back(run: tuple) -> None:
    from mujun.ingest.cells import is_blank, parse_number

    _, summary, _, defects = run
    assert {d["code"] for d in defects} == ALL_CODES
    assert summary.defects == len(defects)
    for d in defects:
        if d["code"] == "OK-TEXT-NUMBER":
            value, problem = parse_number(d["written_value"])
            assert problem is None and math.isclose(value, float(d["true_value"]), rel_tol=1e-12), d
        elif d["code"] == "OK-BLANK":
            assert is_blank(d["written_value"]) and d["true_value"] == ""
        elif d["code"] == "USCC-INVALID":
            assert not uscc.is_valid(d["written_value"]) and uscc.is_valid(d["true_value"])
        elif d["code"] == "UNMATCHED-USCC":
            assert uscc.is_valid(d["written_value"]) and d["written_value"] != d["true_value"]


def test_truth_codes_valid_unique_and_no_nan(run: tuple) -> None:
    _, _, truth, _ = run
    codes = truth["uscc"].to_pylist()
    assert uscc.valid_mask(codes).all()
    keys = list(zip(truth["year"].to_pylist(), codes, strict=True))
    assert len(set(keys)) == len(keys)
    assert keys == sorted(keys)
    for name in truth.column_names:
        col = truth[name]
        if pa.types.is_floating(col.type):
            assert not pc.any(pc.is_nan(col)).as_py(), name
    for name in ("uscc", "name", "year", "county", "industry_code", "above_scale", "revenue_10k_yuan", "tax_10k_yuan"):
        assert truth[name].null_count == 0, name
    assert all("（合成）" in n for n in truth["name"].to_pylist()[:100])


def test_department_files_read_back_to_the_truth(run: tuple) -> None:
    """2025's files through mujun's intake: the detected spec, each row error as recorded, values as true."""
    from mujun.ingest.spec import all_specs
    from mujun.runs.intake import read_one

    out, _, truth, defects = run
    true = {(r["year"], r["uscc"]): r for r in truth.filter(pc.equal(truth["year"], 2025)).to_pylist()}
    recorded: dict[tuple[str, int], set[str]] = defaultdict(set)
    for d in defects:
        recorded[(d["file"], int(d["row"]))].add(d["code"])
    for path in sorted((out / "2025").iterdir()):
        rel = f"2025/{path.name}"
        result = read_one(path, all_specs(), None)
        assert result.spec == path.stem.split("_")[0]
        for _, row in result.rows:
            errors = {p.code for p in row.problems if p.severity == "error"}
            assert errors <= recorded[(rel, row.row)], (rel, row.row, errors)
            codes = recorded[(rel, row.row)]
            if errors or codes & {"UNMATCHED-USCC", "YOY-JUMP", "ZERO-LAND-WITH-TAX"}:
                continue
            expect = true[(2025, row.values["uscc"])]
            for name, value in row.values.items():
                if name == "name" and "OK-NAME" in codes:
                    continue
                if isinstance(value, float) and expect[name] is not None:
                    assert math.isclose(value, expect[name], rel_tol=1e-9, abs_tol=1e-9), (rel, row.row, name)
                else:
                    assert value == expect[name], (rel, row.row, name, value, expect[name])


def test_projects_and_listings(run: tuple) -> None:
    import openpyxl

    out, _, _, _ = run
    ws = openpyxl.load_workbook(out / "projects.xlsx", read_only=True).active
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    key = defaultdict(int)
    for r in rows:
        key[r[6].year] += r[8] == "是"
    assert all(key[y] >= 100 for y in (2021, 2022, 2023, 2024, 2025))
    ws = openpyxl.load_workbook(out / "listings.xlsx", read_only=True).active
    stages = {r[3] for r in ws.iter_rows(min_row=3, values_only=True)}
    assert stages == {"后备", "辅导", "申报", "上市"}


def test_fmt_csv_and_arguments(tmp_path: Path) -> None:
    summary = synth(tmp_path, firms=200, years=(2023,), fmt="csv")
    assert sorted(p.suffix for p in (tmp_path / "2023").iterdir()) == [".csv"] * 6
    assert summary.years[2023].above == round(200 * 1.025)
    with pytest.raises(ValueError):
        synth(tmp_path, fmt="pdf")
    assert summary.defects == sum(summary.defects_by_code.values())
