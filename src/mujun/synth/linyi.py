"""The SYNTHETIC Linyi firm panel: who is active, 规上 or 规下, how big, and on how much land, by year.

Calibration (constants and sources in :mod:`mujun.synth.calibration`, sections of linyi.md):

* 规上 count each year = ``firms`` × §12.1's ratio (≈ 3,500/4,000/4,100/4,800/5,000 for 2021-2025 at
  4,000); 规下 firms = 40 % of that. Each year 2.5 % of 规上 firms exit, 10.5-20.5 % of those below
  3 万元/亩 (§12.1: 3-5 % overall, more for sub-3万 firms; this gives 4-4.6 %), and 6 % of 规下
  firms; 15 % of small 规上 firms fall back to 规下; the gap to the target is filled half by 规下
  firms crossing 2,000万元 (新升规) and half by new firms.
* Revenue: a lognormal (σ = 1.677, §12.4) truncated to [0.2, 40] 亿, with a per-industry μ such that
  each industry's mean matches its 2023 output in §12.2 net of its giants (count-weighted μ ≈ −1.87,
  near §12.4's −1.735); 20 giants at 30-300亿 per 4,000 firms (§12.4). Firms keep a latent size with
  a firm trend (σ 0.03) and yearly noise (σ 0.10); a yearly scale puts 规上 output on §12.1's totals.
* Land: 亩均税收 drawn per firm from §12.5's industry lognormal at 2022 level (×1.6 for firms entering
  after 2022: stricter admission [A]); land = tax ÷ 亩均税收 in the firm's reference year, so about
  21 % of 2022 规上 firms are below 3 万元/亩 (medians × 0.92, see calibration.py). From 2023, 25 % a
  year of the sub-3 firms at ≥ 1.5 万元/亩 are rectified (rent out idle land until 3.05-6 万元/亩) [A].
  规下 land ~ lognormal(median 8 亩, σ 0.6), so ≈ 5 % are below 3 亩 [A]. 1.5 % of firms have no land
  record [A].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mujun.synth import calibration as cal

# Persistent firm effects: rows of the standard-normal block ``z`` and of the uniform block ``u``.
Z_TAX, Z_OUT, Z_VA, Z_EMP, Z_EN, Z_EL, Z_WAT, Z_COD, Z_NH3, Z_SO2, Z_NOX, Z_MARGIN, Z_RD, Z_TPM = range(14)
(U_RD, U_CLOUD, U_SPEC, U_ECO, U_NOLAND, U_LANDTYPE, U_INFRAC, U_OUTFRAC, U_FLOOR, U_FLOORSIZE, U_ZERO) = range(11)
NZ, NU = 14, 15  # U_ZERO .. U_ZERO+3: one per pollutant
TAX_SIGMA, TAX_YEAR_SIGMA = 0.25, 0.06
RECTIFY = 0.25  # share of sub-3 firms (at >= 1.5 万元/亩) rectified each year from 2023 [A]


@dataclass
class Panel:
    """Firm attributes (length P) and year × firm matrices over the simulated, contiguous years."""

    firms: int
    years: tuple[int, ...]
    f: dict[str, np.ndarray] = field(default_factory=dict)
    status: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int8))  # -1 out, 0 规下, 1 规上
    new: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))  # newly 规上 that year
    revenue: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # 亿元, NaN when inactive
    tax: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # 万元, NaN when inactive
    land_own: np.ndarray = field(default_factory=lambda: np.zeros(0))  # 亩, NaN: no land record
    land_in: np.ndarray = field(default_factory=lambda: np.zeros(0))
    land_out: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # 亩 by year (rectification)
    floor: np.ndarray = field(default_factory=lambda: np.zeros(0))  # 平方米 building area rented
    scale: list[float] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.f["group"])


def target_counts(firms: int, year: int) -> tuple[int, int]:
    """(规上, 规下) firm counts for ``year`` (§12.1; 规下 = 40 % of 规上)."""
    above = round(firms * cal.year_value(cal.COUNT_FACTOR, year, 0.04))
    return above, round(above * cal.BELOW_SHARE)


def target_output(firms: int, year: int) -> float:
    """规上 gross output, 亿元 (§12.1), scaled to ``firms``."""
    return cal.year_value(cal.OUTPUT_YI, year, 0.07) * firms / cal.BASE_FIRMS


def _trunc_log(rng: np.random.Generator, mu: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """ln of lognormal(mu, SIGMA) draws restricted to [lo, hi] (rejection; deterministic for a seed)."""
    out = np.empty(len(mu))
    todo = np.arange(len(mu))
    while todo.size:
        x = mu[todo] + cal.SIGMA * rng.standard_normal(todo.size)
        ok = (x >= np.log(lo)) & (x <= np.log(hi))
        out[todo[ok]] = x[ok]
        todo = todo[~ok]
    return out


def _days(years: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of day ``day`` (0-based, < 365) of each year."""
    return (years - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64) + day


def mean_size(year: int) -> float:
    """Mean 规上 output per firm, 亿元 (§12.1 totals ÷ counts)."""
    return cal.year_value(cal.OUTPUT_YI, year, 0.07) / cal.year_value(cal.COUNT_FACTOR, year, 0.04)


def _new_firms(rng: np.random.Generator, n: int, year: int, kind: str, s_guess: float) -> dict[str, np.ndarray]:
    """``n`` new firms: ``kind`` is ``above`` (initial 规上), ``entrant`` (new 规上) or ``below``."""
    cells = rng.choice(cal.county_industry().size, n, p=cal.county_industry().ravel())
    county, group = cells // len(cal.GROUP_KEYS), cells % len(cal.GROUP_KEYS)
    code = np.zeros(n, np.int64)
    for g in range(len(cal.GROUP_KEYS)):
        idx = np.flatnonzero(group == g)
        code[idx] = cal.code_offset(g) + rng.choice(len(cal.code_probs()[g]), idx.size, p=cal.code_probs()[g])
    mu = np.array(cal.group_mu())[group]
    if kind == "above":
        log_rev = _trunc_log(rng, mu, cal.LOW, cal.CAP)
    elif kind == "entrant":
        log_rev = _trunc_log(rng, mu - 1.0, cal.LOW, 10.0) - np.log(s_guess)
    else:
        log_rev = rng.uniform(np.log(0.03), np.log(0.199), n) - np.log(s_guess)
    tpm = cal.TPM_LEVEL * np.exp(np.log(cal.G["tpm"][group]) + cal.G["sig"][group] * rng.standard_normal(n))
    if year > 2022 and kind != "above":
        tpm *= 1.6
    if kind == "above":
        age = np.minimum(np.floor(rng.exponential(9.0, n)), year - 1985)
        start_year = year - 1 - age
    else:
        start_year = year - rng.integers(0, 2, n)
    start = _days(start_year.astype(np.int64), rng.integers(0, 365, n))
    park = rng.integers(0, 3, n)
    return {
        "county": county,
        "group": group,
        "code": code,
        "log_rev": log_rev,
        "tpm0": tpm,
        "eta": 0.03 * rng.standard_normal(n),
        "giant": np.zeros(n, bool),
        "entry": np.full(n, year),
        "start": start,
        "town": rng.integers(0, 12, n),
        "park": np.where(rng.random(n) < 0.3, -1, park),
        "z": rng.standard_normal((NZ, n)),
        "u": rng.random((NU, n)),
    }


def _giants(rng: np.random.Generator, n: int, year: int) -> dict[str, np.ndarray]:
    spec = [cal.GIANTS[i % len(cal.GIANTS)] for i in range(n)]
    out = _new_firms(rng, n, year, "above", 1.0)
    names = [c[0] for c in cal.COUNTIES]
    out["log_rev"] = np.log([s[0] for s in spec])
    out["group"] = np.array([cal.GROUP_KEYS.index(s[1]) for s in spec], np.int64)
    out["county"] = np.array([names.index(s[2]) for s in spec], np.int64)
    out["code"] = np.array([cal.CODE_LIST.index(s[3]) for s in spec], np.int64)
    out["tpm0"] = np.exp(np.log(cal.G["tpm"][out["group"]]) + 0.5)  # large firms: above their median
    out["eta"][:] = 0.0
    out["giant"][:] = True
    return out


def _append(pool: dict[str, np.ndarray], new: dict[str, np.ndarray]) -> None:
    for k, v in new.items():
        pool[k] = v if k not in pool else np.concatenate([pool[k], v], axis=-1)


def simulate(firms: int, years: tuple[int, ...], seed: int) -> Panel:
    """Simulate every year from min(years) to max(years); deterministic for ``seed``."""
    rng = np.random.default_rng(seed)
    ys = tuple(range(min(years), max(years) + 1))
    y0 = ys[0]
    n_above, n_below = target_counts(firms, y0)
    n_giants = min(round(len(cal.GIANTS) * firms / cal.BASE_FIRMS), n_above)
    per_firm_2023 = target_output(firms, 2023) / target_counts(firms, 2023)[0]
    s_guess = target_output(firms, y0) / n_above / per_firm_2023
    pool: dict[str, np.ndarray] = {}
    _append(pool, _giants(rng, n_giants, y0))
    _append(pool, _new_firms(rng, n_above - n_giants, y0, "above", s_guess))
    _append(pool, _new_firms(rng, n_below, y0, "below", s_guess))
    status = [np.r_[np.ones(n_above, np.int8), np.zeros(n_below, np.int8)]]
    small = (status[0] == 1) & ~pool["giant"] & (pool["log_rev"] < np.log(0.5))
    newly = [small & (rng.random(len(small)) < 0.25)]  # 新升规 in the first year [A]
    logs = [pool["log_rev"].copy()]
    scale = [_fit_scale(pool, logs[0], status[0], target_output(firms, y0))]
    for y in ys[1:]:
        st, lg = status[-1], logs[-1]
        size = len(st)
        s_guess = scale[-1] * target_output(firms, y) / target_output(firms, y - 1)
        s_guess *= target_counts(firms, y - 1)[0] / target_counts(firms, y)[0]
        tpm = pool["tpm0"]
        hazard = np.where(st == 1, 0.025 + 0.08 * (tpm < 3) + 0.10 * (tpm < 1.5), 0.06)
        hazard[pool["giant"]] = 0.0
        st = np.where((st >= 0) & (rng.random(size) >= hazard), st, -1).astype(np.int8)
        lg = lg + pool["eta"] + 0.10 * rng.standard_normal(size)
        rev = s_guess * np.exp(lg)
        demote = (st == 1) & ~pool["giant"] & (rev < 0.3) & (rng.random(size) < 0.15)
        st[demote] = 0
        lg[demote] = np.log(rng.uniform(0.12, 0.199, int(demote.sum())) / s_guess)
        want_above, want_below = target_counts(firms, y)
        need = want_above - int((st == 1).sum())
        eligible = np.flatnonzero((st == 0) & (rev >= 0.1) & ~demote)
        k = min(eligible.size, max(0, round(0.5 * need)))
        promoted = np.sort(rng.choice(eligible, k, replace=False)) if k else np.zeros(0, np.int64)
        st[promoted] = 1
        lg[promoted] = np.log(rng.uniform(0.2, 0.45, k) / s_guess)
        is_new = np.zeros(size, bool)
        is_new[promoted] = True
        need -= k
        if need < 0:  # more 规上 firms than the target: extra exits among small non-giants
            drop = np.flatnonzero((st == 1) & ~pool["giant"] & ~is_new)
            st[np.sort(rng.choice(drop, -need, replace=False))] = -1
        need_below = want_below - int((st == 0).sum())
        if need_below < 0:
            drop = np.flatnonzero(st == 0)
            st[np.sort(rng.choice(drop, -need_below, replace=False))] = -1
        entrants = _new_firms(rng, max(need, 0), y, "entrant", s_guess)
        newcomers = _new_firms(rng, max(need_below, 0), y, "below", s_guess)
        _append(pool, entrants)
        _append(pool, newcomers)
        st = np.r_[st, np.ones(max(need, 0), np.int8), np.zeros(max(need_below, 0), np.int8)]
        is_new = np.r_[is_new, np.ones(max(need, 0), bool), np.zeros(max(need_below, 0), bool)]
        lg = np.r_[lg, entrants["log_rev"], newcomers["log_rev"]]
        status.append(st)
        newly.append(is_new)
        logs.append(lg)
        scale.append(_fit_scale(pool, lg, st, target_output(firms, y)))
    return _finish(rng, firms, ys, pool, status, newly, logs, scale)


def _fit_scale(pool: dict[str, np.ndarray], lg: np.ndarray, st: np.ndarray, target: float) -> float:
    """The factor putting 规上 output (revenue × firm output ratio, 规上 floor 0.2亿) on ``target``."""
    above = st == 1
    base = np.exp(lg[above])
    ratio = np.exp(0.03 * pool["z"][Z_OUT, : len(st)][above])
    s = target / float((base * ratio).sum())
    for _ in range(3):
        s *= target / float((np.maximum(s * base, cal.LOW) * ratio).sum())
    return s


def _pad(rows: list[np.ndarray], width: int, fill: float | int | bool) -> np.ndarray:
    out = np.full((len(rows), width), fill, dtype=np.asarray(rows[0]).dtype)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def _finish(
    rng: np.random.Generator,
    firms: int,
    ys: tuple[int, ...],
    pool: dict[str, np.ndarray],
    status: list[np.ndarray],
    newly: list[np.ndarray],
    logs: list[np.ndarray],
    scale: list[float],
) -> Panel:
    p = Panel(firms, ys, pool, _pad(status, len(pool["group"]), -1), _pad(newly, len(pool["group"]), False))
    size = p.size
    p.scale = scale
    lg = _pad(logs, size, np.nan)
    rev = np.exp(lg) * np.array(scale)[:, None]
    rev = np.where(p.status == 1, np.maximum(rev, cal.LOW), np.minimum(rev, 0.1999))
    p.revenue = np.where(p.status >= 0, rev, np.nan)
    g = pool["group"]
    ratio = cal.G["tax"][g] * np.exp(TAX_SIGMA * pool["z"][Z_TAX])
    p.tax = p.revenue * 1e4 * ratio * np.exp(TAX_YEAR_SIGMA * rng.standard_normal((len(ys), size)))
    _land(rng, p)
    return p


def _land(rng: np.random.Generator, p: Panel) -> None:
    """Own / rented-in / rented-out land and rented floor area, then yearly rectification (see module doc)."""
    u, ys = p.f["u"], np.array(p.years)
    above = p.status == 1
    ever = above.any(axis=0)
    later = above & (ys[:, None] >= 2022)
    ref = np.where(later.any(axis=0), later.argmax(axis=0), len(ys) - 1 - above[::-1].argmax(axis=0))
    growth = np.array([mean_size(y) for y in ys])[ref] / mean_size(2022)
    tax_ref = p.tax[ref, np.arange(p.size)]
    eval0 = np.where(ever, tax_ref / (p.f["tpm0"] * growth), np.exp(np.log(8.0) + 0.6 * p.f["z"][Z_TPM]))
    eval0[(u[U_NOLAND] < 0.015) & ~p.f["giant"]] = np.nan
    kind = u[U_LANDTYPE]
    in_frac = np.where(kind < 0.78, 0.0, np.where(kind < 0.92, 0.2 + 0.4 * u[U_INFRAC], 1.0))
    in_frac[kind >= 0.97] = 0.0
    out_frac = np.where(kind >= 0.97, 0.1 + 0.2 * u[U_OUTFRAC], 0.0)
    gross = eval0 / (1 - out_frac)
    p.land_own, p.land_in = gross * (1 - in_frac), gross * in_frac
    p.land_out = np.tile(gross * out_frac, (len(ys), 1))
    p.floor = np.where(u[U_FLOOR] < 0.12, 300.0 * np.exp(3.0 * u[U_FLOORSIZE]), 0.0)
    done = np.zeros(p.size, bool)
    for i, y in enumerate(ys):
        if y < 2023:
            continue
        land = p.land_own + p.land_in - p.land_out[i]
        with np.errstate(invalid="ignore", divide="ignore"):
            tpm = p.tax[i] / land
        cand = above[i] & ~done & (tpm < 3) & (tpm >= 1.5) & (rng.random(p.size) < RECTIFY)
        target = p.tax[i, cand] / rng.uniform(3.05, 6.0, int(cand.sum()))
        p.land_out[i:, cand] += land[cand] - target
        done |= cand
