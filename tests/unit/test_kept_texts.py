"""The catalogue texts are parsed once and kept in the cache folder by their content (catalog/text.py):
what is read back is what parsing gives; a damaged copy is parsed again and replaced; ``MUJUN_CACHE_DIR=off``
keeps nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mujun.catalog import text


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("MUJUN_CACHE_DIR", str(tmp_path))
    text.strings.cache_clear()
    yield tmp_path / "texts"
    text.strings.cache_clear()


def _parsed() -> dict[str, dict[str, str]]:
    folder = Path(text.__file__).parent / "ui"
    return text._parse([(p.name, p.read_bytes()) for p in sorted(folder.glob("*.yaml"), key=lambda p: p.name)])


def test_the_kept_copy_is_what_parsing_gives(fresh: Path) -> None:
    first = text.strings()
    kept = list(fresh.glob("*.marshal"))
    assert len(kept) == 1
    text.strings.cache_clear()
    again = text.strings()  # read back from the kept copy
    assert again == first == _parsed()
    assert again["cli.need_out"]["zh"] and again["cli.need_out"]["en"]


def test_a_damaged_copy_is_parsed_again_and_replaced(fresh: Path) -> None:
    text.strings()
    (kept,) = fresh.glob("*.marshal")
    kept.write_bytes(b"\x00not marshal")
    text.strings.cache_clear()
    assert text.strings() == _parsed()
    assert kept.read_bytes() != b"\x00not marshal"


def test_off_keeps_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MUJUN_CACHE_DIR", "off")
    text.strings.cache_clear()
    try:
        assert text.strings() == _parsed()
    finally:
        text.strings.cache_clear()
    assert not list(tmp_path.rglob("*.marshal"))
