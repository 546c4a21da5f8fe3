"""Firm-years of the SYNTHETIC panel in canonical ids and units, and which department holds each one.

Identity: USCCs are valid per GB 32100-2015 ('91' + the unit's division + 'MA' + 7 base-31 characters
of a scrambled firm number + check character) and belong to nobody; names read
``临沂合成木业有限公司0001（合成）``; towns and parks are ``费县合成镇03`` / ``费县合成产业园2``.

Measures are per-industry intensities × revenue × a persistent firm effect × a small yearly effect
(constants in calibration.py; all [A] except where linyi.md is cited there). Department coverage:
statistics, tax and power hold every active firm; land only firms with a land record; ecology only
firms holding a discharge permit (no record for clean firms); science only R&D-active firms (35 % in
2021 rising, §12.6). A value a department does not hold is NULL in the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mujun.catalog.uscc import CHARSET, WEIGHTS
from mujun.synth import calibration as cal
from mujun.synth import linyi as ly

M7 = 31**7
_MULT, _ADD = 1_000_003, 7_654_321  # firm number → 7-character code body: a bijection modulo 31^7
_CHARS = np.frombuffer(CHARSET.encode("ascii"), dtype=np.uint8)
SPECS = ("tax", "stats", "land", "power", "ecology", "science")
POLLUTANTS = ("cod_t", "ammonia_t", "so2_t", "nox_t")


def uscc(ids: np.ndarray, division: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Valid, distinct USCCs for firm numbers ``ids`` (< 31^7) and their sort keys (string order)."""
    cid = (ids.astype(np.int64) * _MULT + _ADD) % M7
    n = len(ids)
    vals = np.zeros((n, 17), dtype=np.int64)
    vals[:, 0], vals[:, 1] = 9, 1
    powers = 10 ** np.arange(5, -1, -1, dtype=np.int64)
    vals[:, 2:8] = division[:, None] // powers % 10
    vals[:, 8], vals[:, 9] = CHARSET.index("M"), CHARSET.index("A")
    rest = cid.copy()
    for pos in range(16, 9, -1):
        vals[:, pos] = rest % 31
        rest //= 31
    check = (31 - (vals * np.array(WEIGHTS)).sum(axis=1) % 31) % 31
    chars = _CHARS[np.concatenate([vals, check[:, None]], axis=1)]
    codes = np.frombuffer(np.ascontiguousarray(chars).tobytes(), dtype="S18").astype("U18")
    return codes, division.astype(np.int64) * M7 + cid


def names(p: ly.Panel) -> np.ndarray:
    """Synthetic firm names, e.g. 临沂合成木业有限公司0001（合成）."""
    width = max(4, len(str(p.size)))
    words = np.array(cal.CODE_WORD, dtype=object)[p.f["code"]]
    group = np.where(p.f["giant"], "集团", "")
    return np.array(
        [f"临沂合成{w}{g}有限公司{i + 1:0{width}d}（合成）" for i, (w, g) in enumerate(zip(words, group, strict=True))],
        dtype=object,
    )


@dataclass
class FirmYears:
    """One row per active firm and requested year, sorted by (year, USCC)."""

    year: np.ndarray
    firm: np.ndarray
    yi: np.ndarray  # index of the row's year in Panel.years
    key: np.ndarray
    cols: dict[str, np.ndarray]  # canonical values: float NaN = NULL; bool int8 (-1 = NULL); text object
    member: dict[str, np.ndarray]  # spec id → rows the department's file holds

    def __len__(self) -> int:
        return len(self.firm)


def build(p: ly.Panel, years: tuple[int, ...], seed: int) -> tuple[FirmYears, np.ndarray, np.ndarray]:
    """Rows of ``years`` with identity columns; also every firm's USCC and name (by pool index)."""
    division = np.array([int(c[1]) for c in cal.COUNTIES], dtype=np.int64)[p.f["county"]]
    codes, keys = uscc(np.arange(p.size), division)
    parts = []
    for y in sorted(years):
        i = p.years.index(y)
        idx = np.flatnonzero(p.status[i] >= 0)
        parts.append((np.full(idx.size, y), idx[np.argsort(keys[idx], kind="stable")], np.full(idx.size, i)))
    year, firm, yi = (np.concatenate([q[j] for q in parts]) for j in range(3))
    fy = FirmYears(year.astype(np.int64), firm, yi, keys[firm], {}, {})
    all_names = names(p)
    county = np.array([c[0] for c in cal.COUNTIES], dtype=object)
    towns = np.array([f"{c[0]}合成镇{t + 1:02d}" for c in cal.COUNTIES for t in range(12)], dtype=object)
    parks = np.array([f"{c[0]}合成产业园{k + 1}" for c in cal.COUNTIES for k in range(3)], dtype=object)
    f = p.f
    c = fy.cols
    c["uscc"] = codes[firm].astype(object)
    c["name"] = all_names[firm]
    c["year"] = fy.year
    c["county"] = county[f["county"][firm]]
    c["town"] = towns[f["county"][firm] * 12 + f["town"][firm]]
    park = f["park"][firm]
    c["park"] = np.where(park >= 0, parks[f["county"][firm] * 3 + np.maximum(park, 0)], np.array(None, dtype=object))
    c["industry_code"] = np.array(cal.CODE_LIST, dtype=object)[f["code"][firm]]
    c["above_scale"] = (p.status[yi, firm] == 1).astype(np.int8)
    c["production_start"] = f["start"][firm]
    return fy, codes, all_names


def measures(p: ly.Panel, fy: FirmYears, tech: np.ndarray, major: np.ndarray, seed: int) -> None:
    """Fill the canonical measures and department membership of ``fy`` (see module doc)."""
    rng = np.random.default_rng([seed, 11])
    n = len(fy)
    f, firm, yi, c = p.f, fy.firm, fy.yi, fy.cols
    g = f["group"][firm]
    util = cal.CODE_UTILITY[f["code"][firm]]
    z, u = f["z"][:, firm], f["u"][:, firm]
    e = rng.standard_normal((12, n))

    def gv(name: str) -> np.ndarray:
        base = cal.G[name][g]
        return np.where(util, cal.UTILITY[name], base) if name in cal.UTILITY else base

    rev = p.revenue[yi, firm] * 1e4
    above = p.status[yi, firm] == 1
    c["revenue_10k_yuan"] = rev
    out = rev * np.exp(0.03 * z[ly.Z_OUT] + 0.02 * e[0])
    c["output_10k_yuan"] = out
    c["value_added_10k_yuan"] = out * gv("va") * np.exp(0.10 * z[ly.Z_VA] + 0.03 * e[1])
    c["profit_10k_yuan"] = rev * (gv("margin") + 0.03 * z[ly.Z_MARGIN] + 0.015 * e[2])
    c["employees"] = np.maximum(5.0, np.round(rev / gv("rpw") * np.exp(0.3 * z[ly.Z_EMP] + 0.03 * e[3])))
    c["energy_tce"] = rev * gv("tce") * np.exp(0.5 * z[ly.Z_EN] + 0.05 * e[4])
    c["electricity_10k_kwh"] = rev * gv("kwh") * 1e-4 * np.exp(0.4 * z[ly.Z_EL] + 0.05 * e[5])
    c["tax_10k_yuan"] = p.tax[yi, firm]
    c["tech_investment_10k_yuan"] = tech
    own = p.land_own[firm]
    has_land = np.isfinite(own)
    c["land_own_mu"], c["land_rented_in_mu"] = own, np.where(has_land, p.land_in[firm], np.nan)
    c["land_rented_out_mu"] = np.where(has_land, p.land_out[yi, firm], np.nan)
    c["floor_rented_m2"] = np.where(has_land, p.floor[firm], np.nan)
    eco = u[ly.U_ECO] < gv("eco")
    for k, name in enumerate(POLLUTANTS):
        key = ("cod", "nh3", "so2", "nox")[k]
        kg = rev * gv(key) * np.exp(0.6 * z[ly.Z_COD + k] + 0.1 * e[6 + k])
        c[name] = np.where(eco, np.where(u[ly.U_ZERO + k] < 0.15, 0.0, kg * 1e-3), np.nan)
    c["water_t"] = np.where(eco, rev * gv("water") * np.exp(0.5 * z[ly.Z_WAT] + 0.05 * e[10]), np.nan)
    c["flag_env_violation"] = np.where(eco, rng.random(n) < 0.01, -1).astype(np.int8)
    years = fy.year
    rd_share = cal.shares(cal.RD_ACTIVE, years)
    reach = np.where(above, 1.0, 0.5)  # 规下 firms are half as likely to be R&D-active, on cloud, ...
    rd_on = (u[ly.U_RD] < rd_share * reach) | f["giant"][firm]
    c["rd_10k_yuan"] = np.where(rd_on, rev * gv("rd") * np.exp(0.5 * z[ly.Z_RD] + 0.1 * e[11]), np.nan)
    ht = u[ly.U_RD] < cal.shares(cal.HIGH_TECH, years) * reach
    spec_p = cal.shares(cal.SPECIALIZED, years) / rd_share
    c["flag_high_tech"] = np.where(rd_on, ht, -1).astype(np.int8)
    c["flag_specialized"] = np.where(rd_on, u[ly.U_SPEC] < spec_p, -1).astype(np.int8)
    cloud = cal.shares(cal.CLOUD, years)
    c["flag_cloud"] = (u[ly.U_CLOUD] < cloud * np.where(above, 1.0, 0.6)).astype(np.int8)
    c["flag_utility"] = util.astype(np.int8)
    c["flag_safety_accident"] = (rng.random(n) < 0.003).astype(np.int8)
    c["flag_major_project"] = major.astype(np.int8)
    c["flag_new_above_scale"] = p.new[yi, firm].astype(np.int8)
    every = np.ones(n, bool)
    fy.member = {"tax": every, "stats": every, "land": has_land, "power": every, "ecology": eco, "science": rd_on}
