"""Calibration constants of the SYNTHETIC Linyi panel, each tied to ../shared/reference/linyi.md.

[G] = grounded in a public source quoted in linyi.md; [A] = assumption (linyi.md marks it so, or it is
ours and says so here). Counts and totals are stated for ``firms = 4000`` 2022 规上 firms and scale
linearly with ``firms``.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

BASE_FIRMS = 4000  # linyi.md §12: 2022 as base year, about 4,000 规上 firms

# §12.1: 规上 count relative to 2022. 2020 = 2,954 [G]; 2021 ≈ 3,500, 2023 ≈ 4,100, 2024 ≈ 4,800,
# 2025 ≈ 5,000 [A]. Output (规上工业总产值, 亿元 at 4,000 firms): 2022 "above 7,000" and 2023 "above
# 8,000" [G]; 2020 ≈ 5,000, 2021 ≈ 6,400, 2024 ≈ 8,800 [A]; 2025 9,400 [A, ours: +7 %].
COUNT_FACTOR = {2020: 2954 / 4000, 2021: 0.875, 2022: 1.0, 2023: 1.025, 2024: 1.2, 2025: 1.25}
OUTPUT_YI = {2020: 5000.0, 2021: 6400.0, 2022: 7050.0, 2023: 8050.0, 2024: 8800.0, 2025: 9400.0}
BELOW_SHARE = 0.40  # 规下 firms on ≥ 3 亩 as a share of the 规上 count [A, brief]

# §12.6 [A]: on-cloud 40 % in 2021, 90 % in 2024 [G]; R&D-active 35 % in 2021 rising toward the 100 %
# target of 2026 (T4); high-tech and 专精特新 shares [A] (≈ 300-400 new 专精特新 a year [G]).
CLOUD = {2020: 0.30, 2021: 0.40, 2022: 0.55, 2023: 0.72, 2024: 0.90, 2025: 0.92}
RD_ACTIVE = {2020: 0.30, 2021: 0.35, 2022: 0.45, 2023: 0.56, 2024: 0.68, 2025: 0.78}
HIGH_TECH = {2020: 0.10, 2021: 0.12, 2022: 0.14, 2023: 0.16, 2024: 0.18, 2025: 0.20}
SPECIALIZED = {2020: 0.04, 2021: 0.06, 2022: 0.09, 2023: 0.13, 2024: 0.17, 2025: 0.21}


def year_value(table: dict[int, float], year: int, growth: float) -> float:
    """``table[year]``, extrapolated geometrically by ``growth`` a year outside the table."""
    lo, hi = min(table), max(table)
    if year > hi:
        return table[hi] * (1 + growth) ** (year - hi)
    if year < lo:
        return table[lo] / (1 + growth) ** (lo - year)
    return table[year]


def share(table: dict[int, float], year: int) -> float:
    """A share by year, held at the table's first/last value outside it (capped at 0.97)."""
    return min(0.97, table[min(max(year, min(table)), max(table))])


def shares(table: dict[int, float], years: np.ndarray) -> np.ndarray:
    """:func:`share` for an array of years."""
    uniq, inv = np.unique(years, return_inverse=True)
    return np.array([share(table, int(y)) for y in uniq])[inv]


# §9 / §12.3: the 15 assessment units (names as in mujun.bench.synthetic), the administrative division
# used in their synthetic USCCs, the proposed 2022 firm counts [G anchors + A] and signature industries.
COUNTIES: tuple[tuple[str, str, int, tuple[str, ...]], ...] = (
    ("兰山区", "371302", 650, ("wood",)),
    ("罗庄区", "371311", 185, ("metal", "chem", "build")),
    ("河东区", "371312", 250, ("food",)),
    ("沂南县", "371321", 180, ("food", "wood")),
    ("郯城县", "371322", 250, ("wood", "food")),
    ("沂水县", "371323", 350, ("food", "other")),
    ("兰陵县", "371324", 165, ("wood", "food")),
    ("费县", "371325", 720, ("wood",)),
    ("平邑县", "371326", 280, ("wood", "food")),
    ("莒南县", "371327", 250, ("food", "wood")),
    ("蒙阴县", "371328", 110, ("mach", "textile")),
    ("临沭县", "371329", 200, ("chem", "mach")),
    ("沂河新区", "371371", 200, ("mach", "pharma")),
    ("高新区", "371372", 120, ("other", "mach")),
    ("临港区", "371373", 90, ("metal",)),
)

# §12.2 and synthetic_industry_mix_proposal.csv: firms 2022, output 2023 (亿元), 亩均税收 lognormal
# median (万元/亩) and sigma (§12.5), tax/revenue (§12.5). Other columns [A, ours]:
# revenue per worker 万元 (§12.5: 120-150 overall), energy tce/万元, electricity kWh/万元, water t/万元,
# emissions kg/万元 (COD, NH3-N, SO2, NOx), share of firms holding a discharge permit, value added /
# output, profit margin, R&D / revenue of R&D-active firms.
GROUP_KEYS = ("wood", "food", "metal", "mach", "chem", "build", "pharma", "textile", "other")
GROUP_ZH = ("木业", "食品", "冶金", "机械", "化工", "建材", "医药", "纺织", "其他")
_G = {
    #          firms  out23  tpm  sig   tax%   rpw  tce   kWh  water  cod   nh3    so2   nox   eco   va    margin rd
    "wood": (1250, 1050.0, 4.5, 0.9, 0.025, 90, 0.06, 250, 0.5, 0.05, 0.005, 0.02, 0.05, 0.35, 0.22, 0.045, 0.012),
    "food": (570, 1753.5, 9, 1.0, 0.030, 130, 0.04, 150, 5.0, 0.60, 0.060, 0.02, 0.04, 0.60, 0.20, 0.055, 0.012),
    "metal": (220, 1500.0, 15, 1.2, 0.025, 350, 0.60, 700, 3.0, 0.03, 0.003, 0.15, 0.35, 0.95, 0.18, 0.040, 0.010),
    "mach": (650, 1000.0, 10, 1.0, 0.035, 120, 0.02, 120, 0.5, 0.02, 0.002, 0.005, 0.02, 0.25, 0.25, 0.060, 0.025),
    "chem": (330, 700.0, 14, 1.1, 0.040, 220, 0.25, 500, 6.0, 0.30, 0.050, 0.12, 0.20, 0.90, 0.22, 0.065, 0.015),
    "build": (380, 450.0, 6, 1.0, 0.040, 110, 0.45, 600, 2.0, 0.01, 0.001, 0.25, 0.60, 0.85, 0.28, 0.055, 0.010),
    "pharma": (45, 250.0, 25, 1.1, 0.080, 140, 0.05, 250, 4.0, 0.50, 0.050, 0.02, 0.04, 0.90, 0.35, 0.120, 0.040),
    "textile": (230, 250.0, 5, 0.9, 0.025, 60, 0.08, 400, 8.0, 0.80, 0.050, 0.03, 0.05, 0.60, 0.25, 0.040, 0.010),
    "other": (325, 1046.5, 8, 1.2, 0.040, 130, 0.10, 300, 2.0, 0.20, 0.020, 0.08, 0.15, 0.40, 0.28, 0.055, 0.020),
}
_COLS = "firms out23 tpm sig tax rpw tce kwh water cod nh3 so2 nox eco va margin rd".split()  # noqa: SIM905
G: dict[str, np.ndarray] = {c: np.array([_G[k][i] for k in GROUP_KEYS], dtype=float) for i, c in enumerate(_COLS)}
UTILITY = {"tce": 1.5, "kwh": 2000.0, "water": 20.0, "so2": 0.8, "nox": 1.2, "eco": 1.0}  # D44-46 [A]

# GB/T 4754-2017 classes by group: (code, weight within group, word used in synthetic firm names).
# fmt: off
CODES: dict[str, tuple[tuple[str, float, str], ...]] = {
    "wood": (("2011", 5, "木业"), ("2021", 35, "木业"), ("2022", 10, "木业"), ("2023", 8, "木业"),
            ("2029", 12, "木业"), ("2032", 5, "木业"), ("2039", 10, "木业"), ("2110", 15, "家具")),
    "food": (("1311", 2, "粮油"), ("1312", 6, "粮油"), ("1329", 8, "饲料"), ("1331", 10, "粮油"),
            ("1351", 6, "肉食品"), ("1352", 6, "肉食品"), ("1353", 10, "肉食品"), ("1371", 10, "食品"),
            ("1373", 5, "食品"), ("1411", 8, "食品"), ("1419", 4, "食品"), ("1453", 8, "罐头食品"),
            ("1469", 5, "调味品"), ("1512", 4, "酒业"), ("1525", 4, "饮品")),
    "metal": (("3110", 5, "钢铁"), ("3120", 10, "钢铁"), ("3130", 35, "钢铁"), ("3140", 5, "合金"),
             ("3211", 5, "铜业"), ("3240", 15, "金属材料"), ("3251", 15, "铜业"), ("3252", 10, "铝业")),
    "mach": (("3311", 10, "钢结构"), ("3391", 8, "铸造"), ("3444", 7, "液压"), ("3484", 14, "机械"),
            ("3514", 12, "工程机械"), ("3572", 10, "农业装备"), ("3612", 2, "汽车"), ("3670", 12, "汽车部件"),
            ("3813", 6, "电机"), ("3825", 5, "光伏"), ("3851", 3, "电器"), ("4011", 6, "自动化")),
    "chem": (("2511", 5, "石化"), ("2521", 5, "焦化"), ("2614", 12, "化工"), ("2619", 10, "化工"),
            ("2624", 20, "肥业"), ("2625", 8, "肥业"), ("2641", 8, "涂料"), ("2661", 10, "化工"),
            ("2911", 4, "轮胎"), ("2922", 12, "塑胶"), ("2927", 6, "塑胶")),
    "build": (("3011", 6, "水泥"), ("3021", 15, "建材"), ("3024", 10, "新型建材"), ("3031", 12, "建材"),
             ("3032", 20, "石材"), ("3033", 7, "防水材料"), ("3041", 5, "玻璃"), ("3061", 8, "玻纤"),
             ("3072", 5, "陶瓷"), ("3089", 5, "耐火材料"), ("3099", 7, "建材")),
    "pharma": (("2710", 20, "药业"), ("2720", 30, "制药"), ("2730", 15, "中药"), ("2740", 20, "中药"),
              ("2761", 10, "生物"), ("2770", 5, "医疗用品")),
    "textile": (("1711", 20, "纺织"), ("1712", 10, "纺织"), ("1713", 8, "印染"), ("1761", 10, "针织"),
               ("1810", 30, "服饰"), ("1820", 15, "服饰"), ("1951", 7, "鞋业")),
    "other": (("0810", 5, "矿业"), ("1011", 4, "矿业"), ("2221", 10, "纸业"), ("2231", 8, "包装"),
             ("2319", 6, "印务"), ("2439", 5, "工艺品"), ("3976", 4, "光电"), ("3985", 8, "磁电"),
             ("3989", 6, "电子"), ("4190", 5, "制品"), ("4220", 4, "再生资源"), ("4412", 2, "热电"),
             ("4430", 2, "热力"), ("4511", 2, "燃气"), ("4610", 1.5, "水务"), ("4620", 1.5, "水务")),
}
# fmt: on

# §7 / §12.4 [A]: about 20 "giants" at 30-300亿 (2023), mostly metallurgy, machinery, food, chemicals;
# six above 100亿. (revenue 亿元 2023, group, county, code); counties follow §9's industry facts.
# fmt: off
GIANTS: tuple[tuple[float, str, str, str], ...] = (
    (300, "metal", "临港区", "3130"), (220, "metal", "临港区", "3120"), (180, "mach", "沂河新区", "3514"),
    (150, "food", "兰山区", "1353"), (120, "metal", "罗庄区", "3130"), (105, "chem", "罗庄区", "2521"),
    (90, "food", "沂水县", "1411"), (80, "metal", "沂河新区", "3251"), (70, "mach", "沂河新区", "3851"),
    (60, "chem", "临沭县", "2624"), (55, "food", "莒南县", "1331"), (50, "metal", "临港区", "3130"),
    (45, "mach", "蒙阴县", "3572"), (42, "food", "平邑县", "1453"), (40, "chem", "罗庄区", "2511"),
    (38, "other", "沂水县", "3989"), (35, "metal", "罗庄区", "3240"), (33, "mach", "临沭县", "3670"),
    (31, "build", "沂水县", "3061"), (30, "pharma", "罗庄区", "2720"),
)
# fmt: on

# §12.5's medians give 20.8 % of firms below 3 万元/亩 when drawn; exits between 2021 and 2022 remove
# sub-3 firms first, so the medians are scaled by 0.92 to leave ≈ 21 % in 2022 [A, ours].
TPM_LEVEL = 0.92
SIGMA = 1.677  # §12.4 body lognormal sigma in ln(亿元)
LOW, CAP = 0.2, 40.0  # 规上 threshold (2,000万元) and body cap, 亿元 (§12.4)

CODE_LIST: tuple[str, ...] = tuple(c for k in GROUP_KEYS for c, _, _ in CODES[k])
CODE_GROUP = np.array([GROUP_KEYS.index(k) for k in GROUP_KEYS for _ in CODES[k]], dtype=np.int64)
CODE_WORD: tuple[str, ...] = tuple(w for k in GROUP_KEYS for _, _, w in CODES[k])
CODE_UTILITY = np.array([c[:2] in ("44", "45", "46") for c in CODE_LIST])


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def truncated_mean(mu: float, sigma: float = SIGMA, lo: float = LOW, hi: float = CAP) -> float:
    """Mean of a lognormal(mu, sigma) restricted to [lo, hi]."""
    a, b = (math.log(lo) - mu) / sigma, (math.log(hi) - mu) / sigma
    mass = _phi(b) - _phi(a)
    return math.exp(mu + sigma**2 / 2) * (_phi(b - sigma) - _phi(a - sigma)) / mass


@cache
def group_mu() -> tuple[float, ...]:
    """Per-group body mu (ln 亿元) whose truncated mean gives the group's 2023 output net of its giants.

    Targets: (output 2023 − giants) / (2022 firms × 1.025 − giants) per group (§12.2, §12.4).
    """
    out: list[float] = []
    for i, k in enumerate(GROUP_KEYS):
        giants = [g[0] for g in GIANTS if g[1] == k]
        target = (G["out23"][i] - sum(giants)) / (G["firms"][i] * COUNT_FACTOR[2023] - len(giants))
        lo, hi = -10.0, 5.0
        for _ in range(80):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if truncated_mean(mid) < target else (lo, mid)
        out.append((lo + hi) / 2)
    return tuple(out)


@cache
def county_industry() -> np.ndarray:
    """County × group weights (rows sum to 1 over the whole table) by iterative proportional fitting.

    Seed: 1; 10 for a county's first signature industry and 5 for the others (§12.3: about 60 % of a
    county's firms in its 1-2 signature industries; this gives 44-79 %, 62 % on average); margins:
    county counts (§12.3) and group counts (§12.2).
    """
    rows = np.array([c[2] for c in COUNTIES], dtype=float)
    cols = G["firms"].copy()
    m = np.ones((len(COUNTIES), len(GROUP_KEYS)))
    for r, c in enumerate(COUNTIES):
        for j, k in enumerate(c[3]):
            m[r, GROUP_KEYS.index(k)] = 10.0 if j == 0 else 5.0
    for _ in range(200):
        m *= (rows / m.sum(axis=1))[:, None]
        m *= (cols / m.sum(axis=0))[None, :]
    return m / m.sum()


@cache
def code_probs() -> tuple[np.ndarray, ...]:
    """For each group, the probabilities of its classes (in CODE_LIST order within the group)."""
    out = []
    for k in GROUP_KEYS:
        w = np.array([c[1] for c in CODES[k]], dtype=float)
        out.append(w / w.sum())
    return tuple(out)


def code_offset(group: int) -> int:
    """Index in CODE_LIST of the group's first class."""
    return sum(len(CODES[k]) for k in GROUP_KEYS[:group])
