"""mujun (亩均): per-mu efficiency evaluation of industrial firms for industry bureaus.

Public façade; everything else is internal. See README.md.
"""

from __future__ import annotations

from mujun.api import Evaluation, evaluate, explain, package_version
from mujun.schemes import builtin_ids, load

__version__ = package_version()
load_scheme = load

__all__ = ["Evaluation", "__version__", "builtin_ids", "evaluate", "explain", "load_scheme"]
