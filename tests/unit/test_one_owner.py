"""One owner per rule (issue 10): the yes/no words, the sheet reader, the policy-file loader.

1. ``catalog/vocabulary.yaml`` is the only list of yes/no words: canonical input (CSV and Parquet through
   :mod:`mujun.data`), department files (:mod:`mujun.ingest`) and registers read a flag cell alike.
2. :func:`mujun.ingest.table.read_table` is the only reader of a sheet's header, columns and data rows: the
   intake and the registers find the same columns and rows in the same file.
3. :func:`mujun.catalog.policy.load_policy` is the only "workspace YAML, else the shipped one → pydantic →
   SchemeError" loader: each policy file keeps its code and names file, key and problem.
4. Defaults (the scheme, the web app's host and port, the upload limit) are written in ``settings.py`` only.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import mujun
from mujun.catalog import policy
from mujun.catalog.uscc import check_char
from mujun.catalog.vocabulary import booleans, fold
from mujun.data import parse as data_parse
from mujun.data.canonical import canonicalise, read_input
from mujun.errors import SchemeError
from mujun.ingest import cells
from mujun.ingest.mapping import layout_for, map_rows
from mujun.ingest.readers import read_file
from mujun.ingest.spec import load_spec
from mujun.ingest.table import read_table
from mujun.strategy import cleanup_config, national, registry, tiers_rules
from mujun.strategy import register_reading as rr

SRC = Path(mujun.__file__).parent
WORDS = ["√", "有", "是", "Y", "1", "×", "无", "否"]
MEANS = [True, True, True, True, True, False, False, False]


def _uscc(i: int) -> str:
    first = f"91371300MA{i:07d}"
    return first + check_char(first)


def _calls(name: str) -> set[str]:
    """Modules of src/mujun whose code (not a docstring or comment) calls ``name(``."""
    pattern = re.compile(rf"(?<!def )(?<![\w`.]){re.escape(name)}\(")  # a call, not the definition
    out = set()
    for path in SRC.rglob("*.py"):
        code = "\n".join(line.split("#")[0] for line in path.read_text(encoding="utf-8").splitlines())
        code = re.sub(r'""".*?"""', "", code, flags=re.S)
        if pattern.search(code):
            out.add(path.relative_to(SRC).as_posix())
    return out


# -- 1. one yes/no vocabulary --------------------------------------------------------------------------------


def test_both_parsers_hold_the_catalogue_words() -> None:
    yes, no = booleans()
    assert data_parse.TRUE == cells._TRUE == yes and data_parse.FALSE == cells._FALSE == no
    assert not yes & no
    assert {fold(w) for w in WORDS[:5]} <= yes and {fold(w) for w in WORDS[5:]} <= no


def test_yes_no_words_are_written_down_once() -> None:
    """No module but catalog/vocabulary.py spells a set of yes/no words."""
    spelled = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"""\{\s*["'](?:true|是|否|false)["']\s*,""", text):
            spelled.add(path.relative_to(SRC).as_posix())
    assert spelled == set()


@pytest.mark.parametrize("word", [*sorted(booleans()[0] | booleans()[1]), "Ｙ", " yes ", "TRUE", "N", "×", "x", "2"])
def test_data_and_ingest_parse_every_word_alike(word: str) -> None:
    arr, bad = data_parse.parse_bool(pa.array([word]).to_pandas().astype(object).str.strip())
    value, code = cells.parse_bool(word)
    assert (arr[0].as_py(), bool(bad)) == (value, code is not None)


def _canonical(path: Path) -> list[Any]:
    data, rows = read_input(path)
    got = canonicalise(data, str(path), required=set(), rows=rows)
    return got.table.column("flag_high_tech").to_pylist()


def test_the_words_parse_identically_through_every_entry_point(tmp_path: Path) -> None:
    # canonical input (data/): CSV and Parquet with text cells
    csv = tmp_path / "canonical.csv"
    csv.write_text("flag_high_tech\n" + "\n".join(WORDS) + "\n", encoding="utf-8")
    parquet = tmp_path / "canonical.parquet"
    pq.write_table(pa.table({"flag_high_tech": pa.array(WORDS, pa.string())}), parquet)
    # a department file (ingest/, the 科技局 spec) and a register (技改项目 through ingest/)
    dept = tmp_path / "科技局.csv"
    lines = ["统一社会信用代码,企业名称,研发经费支出（万元）,高新技术企业"]
    lines += [f"{_uscc(i)},合成{i}有限公司,1.5,{w}" for i, w in enumerate(WORDS)]
    dept.write_text("\n".join(lines) + "\n", encoding="utf-8")
    register = tmp_path / "技改项目.csv"
    lines = ["项目编号,统一社会信用代码,企业名称,项目名称,开工日期,是否市重点"]
    lines += [f"P{i},{_uscc(i)},合成{i}有限公司,改造{i},2024-03-0{i + 1},{w}" for i, w in enumerate(WORDS)]
    register.write_text("\n".join(lines) + "\n", encoding="utf-8")

    (sheet,) = read_file(dept)
    lay = layout_for(sheet, load_spec("science"))
    assert lay is not None
    department = [r.values["flag_high_tech"] for r in map_rows(sheet, lay, 2024)]
    projects = [r.values["key_project"] for r in rr.read_rows(register, rr.load_spec("projects")).rows]
    assert _canonical(csv) == _canonical(parquet) == department == projects == MEANS


# -- 2. one sheet reader ---------------------------------------------------------------------------------------


def test_only_ingest_table_finds_headers_and_matches_labels() -> None:
    assert _calls("find_header") == {"ingest/table.py"}
    assert _calls("read_table") == {"ingest/mapping.py", "ingest/record.py", "strategy/register_reading.py"}


def _messy(path: Path) -> Path:
    """Title row, a two-row header with units in the group label, a blank row, a dash row, a totals row."""
    rows = [
        "2024年技改项目（合成数据）,,,,,,",
        "项目编号,统一社会信用代码,企业名称,项目名称,开工日期,备注,投资（元）",
        ",,,,,,总投资",
        f"P1,{_uscc(1)},甲,改造一,2024-01-02,,1000000",
        " ,,,,,,",
        "—,—,—,—,—,—,—",
        f"P2,{_uscc(2)},乙,改造二,2024-02-03,,500000",
        "合计,,,,,,1500000",
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_registers_and_intake_read_a_sheet_alike(tmp_path: Path) -> None:
    path = _messy(tmp_path / "技改项目.csv")
    (sheet,) = read_file(path)
    spec = rr.load_spec("projects")
    table = read_table(sheet, spec.label_index())
    assert table is not None
    read = rr.read_rows(path, spec)
    # the register sees exactly the table's data rows: the whitespace row is skipped, the dash row is a row
    assert [r.row for r in read.rows] == [n for n, _ in table.data_rows()] == [4, 6, 7, 8]
    assert read.ignored == ["备注"] == [label for _, label in table.unmapped]
    assert read.labels["investment_10k_yuan"] == "投资（元）|总投资"
    # the unit of the group label converts: 1,000,000 元 = 100 万元
    assert read.rows[0].values["investment_10k_yuan"] == pytest.approx(100.0)
    codes = {r.row: {p.code for p in r.problems} for r in read.rows}
    assert codes[8] == {"SUMMARY-ROW"} and "REQUIRED-EMPTY" in codes[6]


# -- 3. one policy loader --------------------------------------------------------------------------------------

POLICIES = [
    (registry.load_registry, registry.loads, registry.FILE, "TARGETS-INVALID"),
    (tiers_rules.load_rules, tiers_rules.loads, tiers_rules.FILE, "TIERS-INVALID"),
    (cleanup_config.load_config, cleanup_config.loads, cleanup_config.FILE, "CLEANUP-CONFIG"),
    (national.load_table, national.loads, national.FILE, "NATIONAL-INVALID"),
]


def test_only_the_policy_module_reads_policy_yaml() -> None:
    readers = {p for p in _calls("load_yaml") if p.startswith("strategy/")}
    assert readers == {"strategy/register_reading.py"}  # registers.yaml is layout, not a workspace policy
    assert _calls("policy.load_policy") >= {
        "strategy/registry.py", "strategy/tiers_rules.py", "strategy/cleanup_config.py", "strategy/national.py"
    }  # fmt: skip


@pytest.mark.parametrize(("load", "loads", "name", "code"), POLICIES, ids=[p[2] for p in POLICIES])
def test_workspace_file_else_the_shipped_one(load: Any, loads: Any, name: str, code: str, tmp_path: Path) -> None:
    shipped = load(None)
    assert load(tmp_path) == shipped == loads(policy.shipped_text(name), f"builtin:{name}")
    assert policy.origin_of(name, tmp_path) == f"builtin:{name}"
    (tmp_path / name).write_text(policy.shipped_text(name), encoding="utf-8")
    assert load(tmp_path) == shipped
    assert policy.origin_of(name, tmp_path) == str(tmp_path / name)


@pytest.mark.parametrize(("load", "loads", "name", "code"), POLICIES, ids=[p[2] for p in POLICIES])
def test_errors_name_file_key_and_problem(load: Any, loads: Any, name: str, code: str, tmp_path: Path) -> None:
    target = tmp_path / name
    target.write_text("format_version: [1\n", encoding="utf-8")
    with pytest.raises(SchemeError) as bad_yaml:
        load(tmp_path)
    assert bad_yaml.value.code == code
    assert bad_yaml.value.fields["file"] == str(target) and bad_yaml.value.fields["key_path"] == "(YAML)"

    target.write_text("- not a mapping\n", encoding="utf-8")
    with pytest.raises(SchemeError) as not_a_mapping:
        load(tmp_path)
    assert not_a_mapping.value.fields["key_path"] == "(root)"

    data = yaml.safe_load(policy.shipped_text(name))
    data["unexpected_key"] = 1
    target.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SchemeError) as extra:
        load(tmp_path)
    got = extra.value
    assert (got.code, got.fields["file"], got.fields["key_path"]) == (code, str(target), "unexpected_key")
    assert got.fields["detail"] and str(target) in got.message("en") and "unexpected_key" in got.message("en")


def test_a_check_beyond_the_model_keeps_its_code_and_origin(tmp_path: Path) -> None:
    data = yaml.safe_load(policy.shipped_text(registry.FILE))
    data["targets"].append(data["targets"][0])
    (tmp_path / registry.FILE).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SchemeError) as dupe:
        registry.load_registry(tmp_path)
    assert dupe.value.code == "TARGETS-INVALID" and dupe.value.fields["key_path"] == "targets"
    assert dupe.value.fields["file"] == str(tmp_path / registry.FILE)


# -- 4. defaults live in settings.py ---------------------------------------------------------------------------


def _constants(value: object) -> set[str]:
    """Modules of src/mujun holding ``value`` as a literal (docstrings are text, not literals)."""
    out = set()
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and n.body
            and isinstance(n.body[0], ast.Expr)
        }
        if any(isinstance(n, ast.Constant) and n.value == value and id(n) not in docs for n in ast.walk(tree)):
            out.add(path.relative_to(SRC).as_posix())
    return out


def test_defaults_are_taken_from_settings() -> None:
    # bench/evaluate.py reproduces linyi-2022 in hand-written SQL: that scheme, not the default one
    assert _constants("linyi-2022") == {"settings.py", "bench/evaluate.py"}
    assert _constants(8000) == {"settings.py"}
    assert _constants(50 * 2**20) == set()  # limits are expressions in settings.py, never copied as numbers
