"""Scope-aware read models over a workspace: what the web app and reports show (see :mod:`.base`)."""

from mujun.views.base import CITY, Reader, Scope, attach_cache

__all__ = ["CITY", "Reader", "Scope", "attach_cache"]
