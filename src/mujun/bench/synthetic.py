"""SYNTHETIC enterprise-year data for tests and benchmarks. NOT real firms, NOT real figures.

Every firm is invented: names read ``合成企业000123（示例）`` and towns ``示例镇03``; only the 15 Linyi
assessment units are real place names. Codes are valid per GB 32100-2015 (17-character body, then
the check character ``c = (31 - sum(v_i * w_i) mod 31) mod 31`` with ``w_i = 3^(i-1) mod 31``) but
belong to nobody.

Model (all draws from one seeded numpy Generator, so a seed gives the same table every time):

* firm level: above_scale ~ Bernoulli(0.45); efficiency z ~ N(0, 1);
  land_mu = exp(2.5 + 0.9 above + 0.9 e)  (so ~6 % of small firms hold < 3 mu);
* year level (g = 0.06 per year plus noise): revenue = land * exp(3 + 1.2 above + 0.6 z + 0.5 e + g);
  tax = revenue * exp(-3.2 + 0.4 z + 0.5 e); value added, energy, electricity, water, emissions, R&D and
  employees are lognormal around revenue with loadings on z (better firms use less energy per yuan);
* about 2 % NULLs per measure and some zeros (energy, land, emissions, R&D, technical renovation
  investment) exercise missing-data paths;
  0.5 % of firms copy another firm's land and tax, giving exact ties in tax and tax per mu.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from mujun.catalog.uscc import CHARSET, WEIGHTS
from mujun.synth.samples import FIRM_PREFIX, FIRM_SUFFIX, LINYI_UNITS, TOWN_WORD

TOWNS_PER_COUNTY = 12
MISSING_SHARE = 0.02
_CHARS = np.frombuffer(CHARSET.encode("ascii"), dtype=np.uint8)
_W = np.array(WEIGHTS, dtype=np.int64)


def _strings(mat: np.ndarray) -> pa.Array:
    """Fixed-width UTF-8 byte rows (n, w) → an Arrow string array, without a Python loop."""
    n, w = mat.shape
    offsets = np.arange(n + 1, dtype=np.int32) * w
    data = np.ascontiguousarray(mat, dtype=np.uint8)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """ASCII decimal digits of non-negative ints, zero-padded to ``width``: shape (n, width)."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers % 10 + ord("0")).astype(np.uint8)


def uscc_codes(index: np.ndarray, division: np.ndarray) -> pa.Array:
    """Valid, distinct USCCs: '91' + 6-digit division + 'MA' + 7 base-31 digits of ``index`` + check."""
    n = len(index)
    vals = np.zeros((n, 17), dtype=np.int64)
    vals[:, 0], vals[:, 1] = 9, 1
    vals[:, 2:8] = _digits(division, 6) - ord("0")
    vals[:, 8], vals[:, 9] = CHARSET.index("M"), CHARSET.index("A")
    rest = index.astype(np.int64)
    for pos in range(16, 9, -1):
        vals[:, pos] = rest % 31
        rest = rest // 31
    check = (31 - (vals * _W).sum(axis=1) % 31) % 31
    return _strings(_CHARS[np.concatenate([vals, check[:, None]], axis=1)])


def _names(n: int) -> pa.Array:
    width = max(6, len(str(max(n - 1, 0))))
    pre = np.frombuffer(FIRM_PREFIX.encode(), dtype=np.uint8)
    post = np.frombuffer(FIRM_SUFFIX.encode(), dtype=np.uint8)
    mat = np.concatenate(
        [np.broadcast_to(pre, (n, pre.size)), _digits(np.arange(n), width), np.broadcast_to(post, (n, post.size))],
        axis=1,
    )
    return _strings(mat)


def _float(values: np.ndarray, missing: np.ndarray) -> pa.Array:
    """float64 with real NULLs where ``missing`` (never NaN)."""
    out = np.where(missing, 0.0, values)
    return pa.array(out, type=pa.float64(), mask=missing)


def _bool(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(values, type=pa.bool_(), mask=missing)


def synthetic_firms(n: int, years: tuple[int, ...] = (2022, 2023), seed: int = 42) -> pa.Table:
    """``n`` SYNTHETIC firms x ``len(years)`` rows of canonical columns, deterministic for ``seed``."""
    if n <= 0 or not years:
        raise ValueError("n must be positive and years non-empty")
    rng = np.random.default_rng(seed)
    # ---- firm level -------------------------------------------------------------------------------
    county_i = rng.integers(0, len(LINYI_UNITS), n)
    town_i = county_i * TOWNS_PER_COUNTY + rng.integers(0, TOWNS_PER_COUNTY, n)
    division = np.array([int(code) for _, code in LINYI_UNITS], dtype=np.int64)[county_i]
    perm = rng.permutation(n)  # code order is not firm order
    uscc = uscc_codes(perm, division)
    names = _names(n)
    utility = rng.random(n) < 0.03
    div2 = np.where(utility, rng.choice([44, 45, 46], n), rng.integers(13, 44, n))
    industry = div2 * 100 + rng.integers(10, 100, n)
    above = rng.random(n) < 0.45
    z = rng.standard_normal(n)
    land = np.exp(2.5 + 0.9 * above + 0.9 * rng.standard_normal(n))
    start_days = rng.integers(
        (dt.date(1990, 1, 1) - dt.date(1970, 1, 1)).days, (dt.date(max(years), 12, 31) - dt.date(1970, 1, 1)).days, n
    )
    high_tech = rng.random(n) < 0.12 + 0.08 * above
    specialized = rng.random(n) < 0.06
    tie_src = rng.integers(0, n, n)
    tie = rng.random(n) < 0.005
    # ---- year level --------------------------------------------------------------------------------
    cols: dict[str, list[pa.Array]] = {}

    def add(name: str, arr: pa.Array) -> None:
        cols.setdefault(name, []).append(arr)

    county_names = pa.array([c for c, _ in LINYI_UNITS], pa.string())
    town_names = pa.array(
        [f"{c}{TOWN_WORD}{t + 1:02d}" for c, _ in LINYI_UNITS for t in range(TOWNS_PER_COUNTY)], pa.string()
    )
    codes = pa.array([f"{i:04d}" for i in range(10_000)], pa.string())
    for k, year in enumerate(years):
        e = rng.standard_normal((8, n))
        growth = 0.06 * k + 0.1 * e[7]
        revenue = land * np.exp(3.0 + 1.2 * above + 0.6 * z + 0.5 * e[0] + growth)
        tax = np.round(revenue * np.exp(-3.2 + 0.4 * z + 0.5 * e[1]), 2)
        land_y = np.round(land, 2)
        tax[tie], land_y[tie] = tax[tie_src[tie]], land_y[tie_src[tie]]
        energy = revenue * np.exp(-2.0 - 0.3 * z + 0.8 * e[2])
        miss = rng.random((12, n)) < MISSING_SHARE
        zero = rng.random((4, n))
        add("uscc", uscc)
        add("name", names)
        add("year", pa.array(np.full(n, year, dtype=np.int64)))
        add("county", county_names.take(pa.array(county_i)))
        add("town", town_names.take(pa.array(town_i)))
        add("industry_code", codes.take(pa.array(industry)))
        add("above_scale", _bool(above))
        add("land_mu", _float(np.where(zero[0] < 0.005, 0.0, land_y), miss[0]))
        add("tax_10k_yuan", _float(tax, miss[1]))
        add("revenue_10k_yuan", _float(np.round(revenue, 2), miss[2]))
        add("value_added_10k_yuan", _float(np.round(revenue * np.exp(-1.4 + 0.1 * z + 0.3 * e[3]), 2), miss[3]))
        add("energy_tce", _float(np.where(zero[1] < 0.01, 0.0, np.round(energy, 3)), miss[4]))
        add("electricity_10k_kwh", _float(np.round(energy * np.exp(1.0 + 0.3 * e[4]), 3), miss[5]))
        add("water_t", _float(np.round(revenue * np.exp(0.5 - 0.2 * z + 0.7 * e[5]), 1), miss[6]))
        emission = np.where(zero[2] < 0.03, 0.0, revenue * np.exp(-6.0 - 0.4 * z + 0.9 * e[6]))
        add("emission_t", _float(np.round(emission, 4), miss[7]))
        add("cod_t", _float(np.round(emission * 0.4, 4), miss[8]))
        rd = np.where(zero[3] < 0.1, 0.0, revenue * np.exp(-4.0 + 0.8 * z + 0.6 * e[0]))
        add("rd_10k_yuan", _float(np.round(rd, 2), miss[9]))
        add("employees", _float(np.maximum(1.0, np.round(np.exp(0.7 * np.log(revenue) + 0.3 * e[2]))), miss[10]))
        add("production_start", pa.array(start_days.astype(np.int32), pa.int32(), mask=miss[11]).cast(pa.date32()))
        flags = rng.random((6, n))
        add("flag_utility", _bool(utility | (flags[0] < 0.002), flags[0] > 0.99))
        add("flag_high_tech", _bool(high_tech))
        add("flag_specialized", _bool(specialized))
        add("flag_safety_accident", _bool(flags[1] < 0.004))
        add("flag_env_violation", _bool(flags[2] < 0.006))
        add("flag_major_project", _bool(flags[3] < 0.02))
        add("flag_new_above_scale", _bool(above & (flags[4] < (0.08 if k else 0.05))))
        renovating = rng.random(n) < 0.4  # most firms invest nothing in technical renovation in a year
        tech = np.where(renovating, np.round(revenue * np.exp(-3.5 + 0.5 * z + 0.8 * rng.standard_normal(n)), 2), 0.0)
        add("tech_investment_10k_yuan", _float(tech, rng.random(n) < MISSING_SHARE))
    return pa.table({name: pa.chunked_array(parts) for name, parts in cols.items()}).combine_chunks()


def row_count(n: int, years: tuple[int, ...]) -> int:
    """Rows :func:`synthetic_firms` returns: one per firm and year."""
    return n * len(years)
