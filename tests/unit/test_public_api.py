"""The façade is exactly what __all__ says, and it works on an Arrow table, a DataFrame and a path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import mujun

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "synthetic-firms.csv"


def test_all_is_the_facade() -> None:
    assert sorted(mujun.__all__) == ["Evaluation", "__version__", "builtin_ids", "evaluate", "explain", "load_scheme"]
    assert mujun.__version__


def test_evaluate_accepts_path_frame_and_arrow_with_the_same_result() -> None:
    from_path = mujun.evaluate(EXAMPLE, "linyi-2022", year=2023)
    frame = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    from_frame = mujun.evaluate(frame, "linyi-2022", year=2023)
    assert from_path.input_sha256 == from_frame.input_sha256
    assert from_path.to_arrow().equals(from_frame.to_arrow())
    again = mujun.evaluate(EXAMPLE, "linyi-2022")
    assert again.year == 2023  # the latest year by default
    df = from_path.to_pandas()
    assert list(df.columns[:12]) == [
        "uscc",
        "name",
        "year",
        "county",
        "group",
        "status",
        "class",
        "rank",
        "total_score",
        "bonus_points",
        "penalty_points",
        "reason_codes",
    ]
    ex = mujun.explain(from_path, df.uscc.iloc[-1])
    assert ex.uscc == df.uscc.iloc[-1]
