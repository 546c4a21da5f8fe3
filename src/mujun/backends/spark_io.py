"""Where the cluster path's data lives: its input (a Parquet path or a Spark table), its result folder.

Every path goes through Hadoop's FileSystem of the session, so ``hdfs://``, ``s3a://`` or a folder on a
mount every machine shares work alike; a relative path is made absolute on the driver (executors of a
real cluster do not share its working directory). The executors write the result folder; the driver
reads back only a summary — counts by status and class — and at most :data:`SUSPECTS` rows for the
benchmark check. Spark failures inside a job become ENGINE-FAILED with Spark's first line and what to check
(:func:`spark_errors`), never a Java stack trace.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from mujun.errors import EngineError, InputError

SUSPECTS = 10_000
TABLE_NAME = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*){0,2}")
MANIFEST = "_mujun_manifest"  # a leading underscore: Spark, pyarrow and DuckDB globs skip it as data


@contextlib.contextmanager
def spark_errors(master: str) -> Iterator[None]:
    """Turn a failure inside Spark (a lost executor, an unreadable file, a master gone) into ENGINE-FAILED."""
    try:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException
    except ImportError:  # pragma: no cover - pyspark is there when a session exists
        yield
        return
    try:
        yield
    except (Py4JError, PySparkException) as exc:
        text = str(exc).strip().splitlines()
        first = next((line for line in text if line.strip() and not line.startswith("\tat ")), type(exc).__name__)
        raise EngineError("ENGINE-FAILED", engine="spark", master=master, detail=first[:400]) from None


def _fs(session: Any, path: str) -> tuple[Any, Any]:
    jvm = session._jvm
    p = jvm.org.apache.hadoop.fs.Path(path)
    fs = p.getFileSystem(session._jsc.hadoopConfiguration())
    return fs, fs.makeQualified(p)


def qualified(session: Any, path: str) -> str:
    """``path`` as Spark will use it: with its scheme, absolute (``file:/work/out`` for ``out``)."""
    return str(_fs(session, path)[1].toString())


def exists(session: Any, path: str) -> bool:
    fs, p = _fs(session, path)
    return bool(fs.exists(p))


def remove(session: Any, path: str) -> None:
    """Delete the folder ``path`` (a result this run wrote and then refused)."""
    fs, p = _fs(session, path)
    fs.delete(p, True)


def read_input(session: Any, ref: str) -> Any:
    """A Spark table named ``ref`` when the catalogue has one, else the Parquet file or folder at ``ref``."""
    from pyspark.errors import PySparkException

    if TABLE_NAME.fullmatch(ref):
        with contextlib.suppress(PySparkException):
            if session.catalog.tableExists(ref):
                return session.table(ref)
    if not exists(session, ref):
        raise InputError("CLUSTER-INPUT-NOT-FOUND", input=ref)
    try:
        return session.read.parquet(qualified(session, ref))
    except PySparkException as exc:
        raise InputError("CLUSTER-INPUT-UNREADABLE", input=ref, detail=str(exc).strip().splitlines()[0][:300]) from None


def refuse_existing(session: Any, out: str) -> None:
    """A result folder is written once: an existing ``out`` (even empty) is never overwritten or mixed into."""
    if exists(session, out):
        raise InputError("CLUSTER-OUT-EXISTS", out=out)


def write_result(frame: Any, out: str) -> None:
    """The executors write ``frame`` as Parquet part files (zstd, as ``--out x.parquet``) into ``out``."""
    frame.write.mode("errorifexists").option("compression", "zstd").parquet(out)


def summary(session: Any, out: str) -> dict[str, Any]:
    """Firms, and counts by status and by class, of the result folder as written (read back from it)."""
    from pyspark.sql import functions as F

    counts = session.read.parquet(out).groupBy("status", "class").agg(F.count(F.lit(1)).alias("n")).collect()
    statuses: dict[str, int] = {}
    classes: dict[str, int] = {}
    for row in counts:
        statuses[row["status"]] = statuses.get(row["status"], 0) + int(row["n"])
        if row["class"] is not None:
            classes[row["class"]] = classes.get(row["class"], 0) + int(row["n"])
    return {"firms": sum(statuses.values()), "statuses": statuses, "classes": classes}


def suspects(session: Any, out: str, pairs: list[tuple[str, str, str]]) -> pa.Table | None:
    """Graded firms of the result folder with a value for an item of their group whose benchmark column is
    missing — ``pairs`` of (group, value column, benchmark column) — at most :data:`SUSPECTS` of them, as
    Arrow (what :func:`mujun.runs.result.check_benchmarks` reads); None when there is none."""
    from pyspark.sql import functions as F

    result = session.read.parquet(out)
    present = set(result.columns)
    conditions = [
        (F.col("group") == group) & F.col(value).isNotNull() & F.col(bench).isNull()
        for group, value, bench in pairs
        if value in present and bench in present
    ]
    if not conditions:
        return None
    hit = F.lit(False)
    for c in conditions:
        hit = hit | c
    rows = result.where((F.col("_outcome") == "graded") & hit).limit(SUSPECTS)
    table = rows.toArrow()
    return table if table.num_rows else None


def write_manifest(session: Any, out: str, doc: dict[str, Any]) -> None:
    """The run's manifest as one JSON line in ``out/_mujun_manifest/`` (written by an executor, like the data)."""
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True)
    session.createDataFrame([(text,)], "json string").coalesce(1).write.text(f"{out.rstrip('/')}/{MANIFEST}")
