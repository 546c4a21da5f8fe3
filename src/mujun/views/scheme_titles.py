"""A scheme by its title in the page's language, wherever a page names a scheme (one owner for the words).

:func:`title` is the scheme's whole title (the scheme pages, the comparison). :func:`short_title` is what a
picker shows, short enough for a phone (390 px): the title up to its first bracket, then the years the
title names (``临沂市工业企业"亩产效益"评价（2022）``, ``Linyi per-mu efficiency evaluation (2022)``); the
whole title when it has no bracket. :func:`titles` gives the short titles of the schemes a workspace knows
by id, for the run pickers and the selection bar (which used to show ids such as ``linyi-2022``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mujun.catalog.text import translate
from mujun.errors import SchemeError, WorkspaceError
from mujun.schemes import LoadedScheme
from mujun.views.base import Reader
from mujun.views.schemes import resolve

_BRACKET = re.compile(r"\s*[（(]")
_YEARS = re.compile(r"(?:19|20)\d\d(?:\s*[—–-]\s*(?:19|20)\d\d)?")


def title(loaded: LoadedScheme, lang: str) -> str:
    """The scheme's title in ``lang`` (the Chinese title when it has no English one)."""
    s = loaded.scheme
    return str(s.title_en or s.title) if lang == "en" else str(s.title)


def short_title(loaded: LoadedScheme, lang: str) -> str:
    """The title up to its first bracket and the years it names after it (see the module's docstring)."""
    whole = title(loaded, lang)
    cut = _BRACKET.search(whole)
    if cut is None or cut.start() == 0:
        return whole
    head = re.sub(r"[ ,，、]+$", "", whole[: cut.start()])  # spaces and commas before the bracket
    years = _YEARS.search(whole, cut.start())
    return translate("sn.scheme.short", lang, title=head, years=years.group(0)) if years else head


def titles(reader: Reader, ids: Iterable[str], lang: str) -> dict[str, str]:
    """Each scheme id → its :func:`short_title` in ``lang`` as the workspace resolves the id (a built-in, else the
    version its newest run used); the id itself for one that cannot be read."""
    out: dict[str, str] = {}
    for sid in ids:
        try:
            out[sid] = short_title(resolve(reader, sid), lang)
        except (WorkspaceError, SchemeError):
            out[sid] = sid
    return out
