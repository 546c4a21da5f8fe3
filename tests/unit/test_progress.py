"""The command line's progress lines (:mod:`mujun.cli.progress`): shown on a terminal only, never in
output a script or a file receives."""

from __future__ import annotations

import io
import re
import sys

import pytest

from mujun.cli import progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_step_leaves_its_line_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    err = _Tty()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(progress, "SHOW_AFTER", 0.0)
    monkeypatch.delenv("MUJUN_PROGRESS", raising=False)
    with progress.step("正在评价…"):
        pass
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", err.getvalue())  # the terminal's colour and cursor codes
    assert re.search(r"✓ 正在评价… \(\d+\.\d s\)", plain), plain


def test_nothing_when_piped_or_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "SHOW_AFTER", 0.0)
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    with progress.step("x"):
        pass
    assert piped.getvalue() == ""
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    monkeypatch.setenv("MUJUN_PROGRESS", "off")
    with progress.step("x"):
        pass
    assert tty.getvalue() == ""


def test_a_short_step_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    err = _Tty()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.delenv("MUJUN_PROGRESS", raising=False)
    with progress.step("quick"):
        pass
    assert "✓" not in err.getvalue()
