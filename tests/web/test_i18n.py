"""Every interface string used in a template or route exists in Chinese and English; formats."""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from pathlib import Path

import httpx
from tests.web.signin import login

from mujun.web import formats
from mujun.web.i18n import strings

SRC = Path(str(resources.files("mujun")))
KEY = re.compile(r"""\bt(?:ranslate)?\(\s*['"]([a-z_]+\.[a-z0-9_.]+)['"]""")


def test_every_used_key_has_both_languages():
    table = strings()
    used: dict[str, str] = {}
    for path in [*SRC.joinpath("web/templates").rglob("*.html"), *SRC.joinpath("web").rglob("*.py")]:
        for key in KEY.findall(path.read_text(encoding="utf-8")):
            used.setdefault(key, path.name)
    assert used, "no keys found: the pattern is wrong"
    # a key ending in "." is a prefix completed at run time (t('hl.sev.' ~ severity)): some key must extend it
    missing = {
        k: where
        for k, where in used.items()
        if (k not in table if not k.endswith((".", "_")) else not any(x.startswith(k) for x in table))
    }
    assert not missing, missing
    for key, texts in table.items():
        assert texts.get("zh") and texts.get("en"), key


def test_money_and_dates():
    # 12,345.6 万元 is 1.23456 亿元 → two decimals
    assert formats.money(12345.6) == "1.23 亿元"
    assert formats.money(9999.94) == "9,999.9 万元"
    assert formats.money(None) == "—"
    assert formats.money(12345.6, lang="en") == "123.46 m yuan"
    assert formats.num(1234567) == "1,234,567"
    assert formats.pct(0.1984) == "19.8%"
    assert formats.date_zh(dt.date(2026, 1, 5)) == "2026年1月5日"
    assert formats.date_zh("2026-12-10") == "2026年12月10日"  # a date stays a date (no time zone shift)


def test_times_are_local(monkeypatch):
    """Stored times are UTC ('Z' or naive); pages show them in the configured zone as 2026-12-03 15:20."""
    monkeypatch.setenv("MUJUN_TZ", "UTC")
    assert formats.date_zh("2026-11-26T20:58:03.123456Z") == "2026-11-26 20:58"
    assert formats.date_zh("2026-11-26T20:58:03.123456Z", lang="en") == "2026-11-26 20:58"
    monkeypatch.setenv("MUJUN_TZ", "Asia/Shanghai")  # UTC+8: 20:58 UTC is 04:58 the next morning
    assert formats.date_zh("2026-11-26T20:58:03.123456Z") == "2026-11-27 04:58"
    assert formats.date_zh(dt.datetime(2026, 12, 3, 7, 20)) == "2026-12-03 15:20"
    assert formats.date_zh("2026-12-03T07:20:00+00:00", with_time=False) == "2026年12月3日"
    assert formats.date_zh("2026-12-03T20:00:00Z", with_time=False) == "2026年12月4日"
    assert formats.date_zh(None) == "—" and formats.date_zh("not a time") == "not a time"


def test_english_units_and_labels():
    """English mode names units in English: 万元/亩 → 10k yuan/mu (units.yaml ``english``)."""
    from mujun.catalog import catalog
    from mujun.schemes import load
    from mujun.web.labels import column_label, group_label, reason_label, scope_label

    loaded = load("linyi-2022")
    assert catalog.label("land_mu", "en") == "Land for evaluation (mu)"
    assert catalog.label("land_mu", "zh") == "评价用地面积（亩）"
    assert column_label("value_tax_per_mu", loaded, "en") == "Tax per mu (10k yuan/mu)"
    assert column_label("revenue_10k_yuan", loaded, "en") == "Revenue (10k yuan)"
    assert catalog.status_label("graded", "en") == "Graded"
    assert group_label("above_scale", loaded, "zh") == "规上企业"
    assert group_label("below_scale", loaded, "en") == "Below designated size, 3 mu or more"
    assert scope_label("group=above_scale|county=兰山区", loaded, "zh") == "规上企业 · 兰山区"
    assert reason_label("MISSING(rd_intensity)", loaded, "zh") == ("缺研发经费投入强度", "缺研发经费投入强度")
    assert reason_label("MISSING(rd_intensity)", loaded, "en")[0] == "No R&D intensity"
    short, full = reason_label("VETO-SAFETY", loaded, "zh")
    assert short == "安全事故否决" and full == "发生较大及以上安全生产事故"  # the scheme's own words in full
    assert reason_label("VETO-SAFETY", loaded, "en") == ("Work-safety accident (veto)",) * 2
    for text in strings().values():  # no interface text shows a unit in Chinese in English mode
        assert "万元/mu" not in text["en"] and "万元/亩" not in text["en"], text


def test_overview_names_units_in_english(live_server):
    """The overview in English gives tax per mu in English units (every page at 390 and 1440 px in both
    languages — no sideways scroll, no code, id, path or command, no Chinese outside names — is the crawl's,
    tests/web/test_crawl.py)."""
    with httpx.Client(base_url=live_server.url) as c:
        login(c, live_server.workspace)
        html = c.get("/?lang=en").text
    assert "Tax per mu (10k yuan/mu)" in html
