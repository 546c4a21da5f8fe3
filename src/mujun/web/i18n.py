"""The web app's strings: the one catalogue translation function (:mod:`mujun.catalog.text`), and the language
of a request."""

from starlette.requests import Request

from mujun.catalog.text import LANGS, strings, translate
from mujun.settings import DEFAULT_LANG

__all__ = ["LANGS", "lang_of", "strings", "translate"]


def lang_of(request: Request) -> str:
    """``?lang=``, else the ``lang`` cookie, else the default language."""
    asked = request.query_params.get("lang") or request.cookies.get("lang") or DEFAULT_LANG
    return asked if asked in LANGS else DEFAULT_LANG
