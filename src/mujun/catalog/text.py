"""Words a person reads, in Chinese (default) and English, from ``catalog/ui/*.yaml`` (every shell uses this).

Each file maps a key to ``{zh: ..., en: ...}``; every area of the app owns one file. ``t(key)`` falls
back to the Chinese text, then to the key itself (a test checks every key used in a template exists).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from mujun.errors import language

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 8x faster start-up

LANGS = ("zh", "en")


@cache
def strings() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    folder = resources.files("mujun").joinpath("catalog/ui")
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            data = yaml.load(entry.read_text(encoding="utf-8"), Loader=LOADER) or {}
            for key, texts in data.items():
                if key in out:
                    raise ValueError(f"界面文字键重复：{key}（{entry.name}）")
                out[key] = {k: str(v) for k, v in texts.items()}
    return out


def translate(key: str, lang: str | None = None, **values: object) -> str:
    """The text of ``key`` in ``lang`` (default: the process language, ``MUJUN_LANG``), filled with ``values``."""
    texts = strings().get(key)
    text = key if texts is None else texts.get(lang or language()) or texts.get("zh") or key
    return text.format(**values) if values else text


class Text(str):
    """A catalogue text that keeps its key and values: it reads as the process language (it is a ``str``),
    and :meth:`in_lang` gives it in another. :func:`mujun.errors.render` shows a message field that is a
    ``Text`` in the message's language, so ``detail=Text(...)`` follows ``MujunError.message(lang)``."""

    key: str
    values: dict[str, object]

    def __new__(cls, key: str, /, **values: object) -> Text:
        self = super().__new__(cls, translate(key, None, **values))
        self.key, self.values = key, values
        return self

    def in_lang(self, lang: str | None = None) -> str:
        shown = {k: v.in_lang(lang) if isinstance(v, Text) else v for k, v in self.values.items()}
        return translate(self.key, lang, **shown)

    def __reduce__(self) -> tuple[object, tuple[str, dict[str, object]]]:  # copy, pickle: made anew
        return _text, (self.key, self.values)


def _text(key: str, values: dict[str, object]) -> Text:
    return Text(key, **values)
