"""Every interface string used in a template or route exists in Chinese and English; formats."""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from pathlib import Path

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
    assert formats.date_zh("2026-11-26T20:58:03.123456Z") == "2026年11月26日 20:58"
    assert formats.date_zh(dt.date(2026, 1, 5)) == "2026年1月5日"
