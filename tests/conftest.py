"""Suite-wide fixtures: the Spark session is started once (by the first module that needs it) and shared.

Modules evaluate with ``spark_master="local[2]"``; ``SparkSession.builder.getOrCreate`` returns the running
session, so the JVM starts once per test run, and it is stopped when the run ends.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _stop_spark_at_the_end() -> Iterator[None]:
    yield
    if "pyspark" in sys.modules:  # only if some test started Spark
        from pyspark.sql import SparkSession

        session = SparkSession.getActiveSession()
        if session is not None:
            session.stop()
