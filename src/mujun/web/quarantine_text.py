"""What a quarantined row's problems say on the web (数据体检 / quarantine pages).

A problem's message was written at import time, in the language of that process, and for the command line:
an unmatched code says "confirm a link with `mujun link confirm`". On the page the link is a button next to
the row, so that message is said again in the page's words; a message in another language than the page's is
left out (the problem's label, column, raw value and what to do are shown in the page's language)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from mujun.web.i18n import translate

_CJK = re.compile(r"[\u4e00-\u9fff]")
# the page offers these actions itself (buttons next to the row), so their messages are the page's
ON_THE_PAGE = {"UNMATCHED-USCC": "pm.q.unmatched"}


def issue_message(issue: dict[str, Any], row: dict[str, Any], lang: str) -> str:
    """The message of one stored problem as the page shows it (see the module's docstring)."""
    key = ON_THE_PAGE.get(str(issue.get("code")))
    if key is not None:
        return translate(key, lang, row=row.get("row") or issue.get("row") or "", value=issue.get("value") or "")
    text = str(issue.get("message") or "")
    in_chinese = bool(_CJK.search(text))
    return text if in_chinese == (lang == "zh") else ""


def localise(rows: Iterable[dict[str, Any]], lang: str) -> None:
    """Each row's problems get ``shown``: their message as the page shows it."""
    for row in rows:
        for issue in row.get("issues") or ():
            issue["shown"] = issue_message(issue, row, lang)
