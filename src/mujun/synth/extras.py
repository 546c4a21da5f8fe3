"""SYNTHETIC tech-upgrade (技改) projects and the listing (IPO) pipeline, for a later issue.

Calibration (linyi.md §6, §7, §12.6; counts for 4,000 firms, scaled with ``firms``):

* 技改 projects: 1,450 in 2024 [G] for ≈ 4,800 规上 firms, i.e. 0.30 per 规上 firm a year, at firms
  chosen in proportion to √revenue; investment = revenue × lognormal(median 5 %, σ 0.8), at least
  200万元 [A]; 1-3 years, spent evenly. The 105 largest new projects a year are 市重点 (target T3: 100
  key projects a year; 2019: 100 key projects, 410.93亿 [G]); they last 2-3 years and set
  ``flag_major_project`` while under way. ``tech_investment_10k_yuan`` is a firm's spending that year.
* Listing pipeline: 8 firms listed before the first year (§12.6 says 6-10 [A]); 60 后备, 12 辅导,
  5 申报 at the start; each year 20 new 后备 firms, and 后备→辅导 15 %, 辅导→申报 30 %, 申报→上市 45 %
  (申报→辅导 10 %: withdrawn) [A], about 2-3 new listings a year (target T5: 3). Only 规上 firms active
  until the last year take part.
"""

from __future__ import annotations

import numpy as np

from mujun.synth import calibration as cal
from mujun.synth import linyi as ly

TEMPLATES = (
    "高端生态板材智能化改造项目",
    "食品智能化生产线技改项目",
    "高端特钢产线升级改造项目",
    "智能制造数字化车间项目",
    "化工装置安全环保提升改造项目",
    "绿色建材生产线技改项目",
    "制剂车间GMP升级改造项目",
    "纺织智能化改造项目",
    "生产线自动化改造项目",
)
STAGES = ("", "后备", "辅导", "申报", "上市")
BOARDS = ("主板", "创业板", "科创板", "北交所")


def projects(p: ly.Panel, seed: int) -> tuple[dict[str, list[object]], np.ndarray, np.ndarray]:
    """The project table and, by (year index, firm), tech-upgrade spending (万元) and key-project flags."""
    rng = np.random.default_rng([seed, 21])
    spend = np.zeros((len(p.years), p.size))
    major = np.zeros((len(p.years), p.size), bool)
    table: dict[str, list[object]] = {k: [] for k in ("pid", "firm", "template", "inv", "start", "end", "key", "done")}
    pid = 0
    last = p.years[-1]
    for i, y in enumerate(p.years):
        above = np.flatnonzero(p.status[i] == 1)
        n = round(0.302 * above.size)
        if n == 0:
            continue
        weight = np.sqrt(p.revenue[i, above])
        firm = above[rng.choice(above.size, n, p=weight / weight.sum())]
        inv = np.round(
            np.maximum(200.0, p.revenue[i, firm] * 1e4 * np.exp(np.log(0.05) + 0.8 * rng.standard_normal(n))), 1
        )
        key = np.zeros(n, bool)
        key[np.argsort(-inv, kind="stable")[: round(105 * p.firms / cal.BASE_FIRMS)]] = True
        dur = np.where(key, rng.choice([2, 3], n, p=[0.6, 0.4]), rng.choice([1, 2, 3], n, p=[0.5, 0.4, 0.1]))
        start_day = rng.integers(0, 300, n)
        end_day = np.where(dur == 1, start_day + rng.integers(30, 65, n), rng.integers(0, 365, n))
        for d in range(3):
            on = dur > d
            if i + d < len(p.years):
                np.add.at(spend[i + d], firm[on], inv[on] / dur[on])
                np.logical_or.at(major[i + d], firm[on & key], True)
        start = ly._days(np.full(n, y), start_day)
        end = ly._days(y + dur - 1, np.minimum(end_day, 364))
        table["pid"] += list(range(pid + 1, pid + n + 1))
        pid += n
        table["firm"] += firm.tolist()
        table["template"] += p.f["group"][firm].tolist()
        table["inv"] += inv.tolist()
        table["start"] += start.tolist()
        table["end"] += end.tolist()
        table["key"] += key.tolist()
        table["done"] += (y + dur - 1 <= last).tolist()
    return table, spend, major


def listings(p: ly.Panel, seed: int) -> dict[str, list[object]]:
    """One row per firm in the pipeline per year: firm, year, stage, board, year listed."""
    rng = np.random.default_rng([seed, 31])
    k = p.firms / cal.BASE_FIRMS
    stage = np.zeros(p.size, np.int8)
    listed_in = np.zeros(p.size, np.int64)
    board = rng.choice(len(BOARDS), p.size, p=[0.35, 0.25, 0.15, 0.25])
    rows: dict[str, list[object]] = {"firm": [], "year": [], "stage": [], "board": [], "listed": []}
    stays = (p.status[::-1] >= 0).cumprod(axis=0)[::-1].astype(bool)  # active from this year to the last

    def pick(i: int, n: int, power: float) -> np.ndarray:
        pool = np.flatnonzero((p.status[i] == 1) & stays[i] & (stage == 0))
        n = min(n, pool.size)
        if n == 0:
            return pool[:0]
        w = p.revenue[i, pool] ** power
        return np.sort(rng.choice(pool, n, replace=False, p=w / w.sum()))

    for i, y in enumerate(p.years):
        if i == 0:
            for st, n, power in ((4, 8, 1.0), (3, 5, 0.7), (2, 12, 0.6), (1, 60, 0.5)):
                chosen = pick(i, round(n * k), power)
                stage[chosen] = st
                listed_in[chosen] = rng.integers(2005, y, chosen.size) if st == 4 else 0
        else:
            r = rng.random(p.size)
            up = ((stage == 1) & (r < 0.15)) | ((stage == 2) & (r < 0.30)) | ((stage == 3) & (r < 0.45))
            back = (stage == 3) & (r >= 0.45) & (r < 0.55)
            stage = np.where(up, stage + 1, np.where(back, 2, stage)).astype(np.int8)
            listed_in[up & (stage == 4)] = y
            stage[pick(i, round(20 * k), 0.5)] = 1
        stage[p.status[i] < 0] = 0
        on = np.flatnonzero(stage > 0)
        rows["firm"] += on.tolist()
        rows["year"] += [y] * on.size
        rows["stage"] += [STAGES[s] for s in stage[on]]
        rows["board"] += [BOARDS[b] for b in board[on]]
        rows["listed"] += [int(v) if v else None for v in listed_in[on]]
    return rows
