"""Words a person reads, in Chinese (default) and English, from ``catalog/ui/*.yaml`` (every shell uses this).

Each file maps a key to ``{zh: ..., en: ...}``; every area of the app owns one file. ``t(key)`` falls
back to the Chinese text, then to the key itself (a test checks every key used in a template exists).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from mujun.errors import language

LANGS = ("zh", "en")


@cache
def strings() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    folder = resources.files("mujun").joinpath("catalog/ui")
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
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
