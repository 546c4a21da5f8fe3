"""The Spark cluster path's decisions that need no JVM (issue 13): which ``mujun evaluate`` takes it, what is
refused up front with a message, which Spark settings are mujun's defaults and which the operator's, the
result expression without its final ORDER BY, and an unreachable master refused in seconds."""

from __future__ import annotations

import time
from pathlib import Path

import ibis
import pytest
from click.testing import CliRunner

from mujun.api_spark import check_route, is_folder_out
from mujun.backends.spark import _check_master, configured, session_settings, without_final_order
from mujun.bench.synthetic import synthetic_firms
from mujun.engine import build
from mujun.errors import EngineError, InputError
from mujun.schemes import load


@pytest.mark.parametrize(
    ("out", "folder"),
    [
        ("result.csv", False),
        ("result.parquet", False),
        ("r.XLSX", False),
        ("result", True),
        ("results/2023/", True),
        ("hdfs://nn:8020/mujun/2023", True),
        ("s3a://bucket/run.parquet", True),
        ("file:/shared/run", True),
    ],
)
def test_a_folder_out_is_a_url_a_trailing_slash_or_a_name_without_suffix(out: str, folder: bool) -> None:
    assert is_folder_out(out) is folder


def test_an_existing_folder_is_a_folder_out_whatever_its_name(tmp_path: Path) -> None:
    (tmp_path / "run.parquet").mkdir()
    assert is_folder_out(str(tmp_path / "run.parquet"))


def test_what_neither_path_can_do_is_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        check_route("duckdb", str(tmp_path / "out"), "firms.csv")
    assert err.value.code == "OUT-FOLDER-ENGINE" and "--engine spark" in err.value.message("en")
    with pytest.raises(InputError) as err:
        check_route("spark", "r.parquet", str(tmp_path))
    assert err.value.code == "INPUT-FOLDER" and "--out RESULT_FOLDER" in err.value.message("en")
    assert check_route("spark", str(tmp_path / "out"), str(tmp_path)) is True
    assert check_route("duckdb", "r.csv", "firms.csv") is False


def test_the_cli_names_what_to_do_and_exits_2(tmp_path: Path) -> None:
    from mujun.cli.core import main

    with CliRunner().isolation(env={"MUJUN_LANG": "en"}) as (_, err, _):
        with pytest.raises(SystemExit) as done:
            main(["evaluate", "--input", "firms.csv", "--out", str(tmp_path / "out")])
        text = err.getvalue().decode()
    assert done.value.code == 2 and "[OUT-FOLDER-ENGINE]" in text and "Traceback" not in text
    with CliRunner().isolation(env={"MUJUN_LANG": "en"}) as (_, err, _):
        with pytest.raises(SystemExit) as done:
            main(["evaluate", "--engine", "spark", "--out", str(tmp_path / "o"), "--workspace", str(tmp_path)])
        text = err.getvalue().decode()
    assert done.value.code == 2 and "cannot be combined with --workspace" in text


def test_the_operators_spark_settings_win_over_mujuns_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "spark-defaults.conf").write_text(
        "# a comment\nspark.executor.memory   6g\nspark.sql.shuffle.partitions=64\n"
        "spark.sql.warehouse.dir: hdfs://nn/warehouse\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--conf spark.driver.memory=12g pyspark-shell")
    assert configured() == {
        "spark.executor.memory": "6g",
        "spark.sql.shuffle.partitions": "64",
        "spark.sql.warehouse.dir": "hdfs://nn/warehouse",
        "spark.driver.memory": "12g",
    }
    got = session_settings("local[3]", "/tmp/w")
    assert "spark.sql.shuffle.partitions" not in got and "spark.driver.memory" not in got
    assert "spark.sql.warehouse.dir" not in got and got["spark.sql.session.timeZone"] == "UTC"
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path / "none"))
    monkeypatch.delenv("PYSPARK_SUBMIT_ARGS")
    assert session_settings("local[3]", "/tmp/w")["spark.sql.shuffle.partitions"] == "3"
    cluster = session_settings("spark://127.0.0.1:7077", "/tmp/w")
    assert "spark.sql.shuffle.partitions" not in cluster and cluster["spark.sql.warehouse.dir"] == "/tmp/w"


def test_an_unreachable_master_is_refused_in_seconds() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    start = time.perf_counter()
    with pytest.raises(EngineError) as err:
        _check_master(f"spark://127.0.0.1:{port}")
    assert err.value.code == "ENGINE-UNAVAILABLE" and str(port) in err.value.message("en")
    assert time.perf_counter() - start < 10


def test_the_result_without_its_final_order_holds_the_same_rows() -> None:
    con = ibis.duckdb.connect()
    table = con.create_table("t", synthetic_firms(500, years=(2022, 2023)))
    expr = build(table, load("linyi-2022"), 2023)
    plain = without_final_order(expr)
    assert plain.schema() == expr.schema()
    assert not con.compile(plain).rstrip().endswith('"uscc" ASC')
    assert con.to_pyarrow(plain).sort_by("uscc").equals(con.to_pyarrow(expr).sort_by("uscc"))
    assert without_final_order(plain) is plain
