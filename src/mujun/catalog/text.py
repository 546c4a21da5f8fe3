"""Words a person reads, in Chinese (default) and English, from ``catalog/ui/*.yaml`` (every shell uses this).

Each file maps a key to ``{zh: ..., en: ...}``; every area of the app owns one file. ``t(key)`` falls
back to the Chinese text, then to the key itself (a test checks every key used in a template exists).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from functools import cache
from importlib import resources
from typing import Any

from mujun.errors import language, load_yaml
from mujun.settings import cache_root

LANGS = ("zh", "en")


@cache
def strings() -> dict[str, dict[str, str]]:
    """Every text, by key: the files parsed once and kept, by their content, in the cache folder
    (:func:`_kept`): parsing 14,000 YAML nodes took 0.12 s of every command's start (``mujun --version``'s
    target is 0.3 s), reading the kept copy 0.004 s."""
    folder = resources.files("mujun").joinpath("catalog/ui")
    entries = sorted(folder.iterdir(), key=lambda p: p.name)
    files = [(e.name, e.read_bytes()) for e in entries if e.name.endswith(".yaml")]
    digest = hashlib.sha256(f"texts-1|{sys.version_info[:2]}|{marshal.version}".encode())
    for name, data in files:
        digest.update(f"|{name}|{len(data)}|".encode() + data)
    key = digest.hexdigest()[:24]
    kept = _kept(key)
    if kept is not None:
        return kept
    out = _parse(files)
    _keep(key, out)
    return out


def _parse(files: list[tuple[str, bytes]]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, raw in files:
        data = load_yaml(raw.decode("utf-8")) or {}
        for key, texts in data.items():
            if key in out:
                raise ValueError(f"界面文字键重复：{key}（{name}）")
            out[key] = {k: str(v) for k, v in texts.items()}
    return out


def _kept(key: str) -> dict[str, dict[str, str]] | None:
    root = cache_root()
    try:
        got: Any = marshal.loads((root / "texts" / f"{key}.marshal").read_bytes()) if root else None
    except (OSError, ValueError, EOFError, TypeError):  # none yet, or damaged: parsed again
        return None
    return got if isinstance(got, dict) else None


def _keep(key: str, texts: dict[str, dict[str, str]]) -> None:
    root = cache_root()
    if root is None:
        return
    folder = root / "texts"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.{os.getpid()}.tmp"
        tmp.write_bytes(marshal.dumps(texts))
        os.replace(tmp, folder / f"{key}.marshal")
    except OSError:  # a read-only home: parsed again next time, nothing else changes
        return


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
