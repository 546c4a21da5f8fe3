"""mujun (亩均): per-mu efficiency evaluation of industrial firms for industry bureaus.

Public façade; everything else is internal. See README.md. Names are imported on first use (PEP 562),
so ``import mujun`` (and ``mujun --version``) does not load pandas, Ibis and DuckDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mujun.api import Evaluation, evaluate, explain
    from mujun.schemes import builtin_ids

__all__ = ["Evaluation", "__version__", "builtin_ids", "evaluate", "explain", "load_scheme"]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from mujun.api import package_version

        return package_version()
    if name in ("Evaluation", "evaluate", "explain"):
        from mujun import api

        return getattr(api, name)
    if name in ("builtin_ids", "load_scheme"):
        from mujun import schemes

        return schemes.builtin_ids if name == "builtin_ids" else schemes.load
    raise AttributeError(name)
