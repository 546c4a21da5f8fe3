"""The web app's strings: the one catalogue translation function (:mod:`mujun.catalog.text`)."""

from mujun.catalog.text import LANGS, strings, translate

__all__ = ["LANGS", "strings", "translate"]
