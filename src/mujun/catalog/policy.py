"""Policy files: the YAML a bureau may replace in its workspace (targets, tiers, clean-up, national averages).

One rule for all of them, here only: the workspace's own ``<workspace>/<name>`` when it exists, else the
shipped ``catalog/<name>``; the text is read as YAML and validated by the caller's pydantic model. Anything
wrong is a :class:`~mujun.errors.SchemeError` with the caller's code (``TARGETS-INVALID``, ``TIERS-INVALID``,
``CLEANUP-CONFIG``, ``NATIONAL-INVALID``) naming

* ``file``: the workspace path, or ``builtin:<name>`` for the shipped file;
* ``key_path``: where the problem is (``targets.0.metric``), ``(YAML)`` for a syntax error, ``(root)`` for
  the document as a whole (empty, or not a mapping);
* ``detail``: what is wrong.

A ``check(model, origin)`` may add rules the model cannot state (unique ids, fields of the catalogue); it
raises its own SchemeError. The shipped file is validated once per process (the models are frozen).
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from mujun.errors import SchemeError, load_yaml

M = TypeVar("M", bound=BaseModel)
Check = Callable[[Any, str], None]


def workspace_file(name: str, workspace: str | Path) -> Path:
    """Where a workspace keeps its own copy of the policy file ``name``."""
    return Path(workspace) / name


@cache
def shipped_text(name: str) -> str:
    """The text of the shipped ``catalog/<name>``."""
    return resources.files("mujun").joinpath(f"catalog/{name}").read_text(encoding="utf-8")


def origin_of(name: str, workspace: str | Path | None = None) -> str:
    """How messages name the file that :func:`load_policy` reads: its workspace path or ``builtin:<name>``."""
    if workspace is not None and workspace_file(name, workspace).is_file():
        return str(workspace_file(name, workspace))
    return f"builtin:{name}"


def load_policy(
    name: str, model: type[M], code: str, workspace: str | Path | None = None, check: Check | None = None
) -> M:
    """The validated policy ``name``: the workspace's own file if it has one, else the shipped one."""
    if workspace is not None:
        path = workspace_file(name, workspace)
        try:
            st = path.stat()
        except OSError:
            st = None
        if st is not None and stat.S_ISREG(st.st_mode):
            return _workspace_policy(str(path), st.st_mtime_ns, st.st_size, model, code, check)
    return _shipped(name, model, code, check)


@lru_cache(maxsize=64)
def _workspace_policy(path: str, mtime_ns: int, size: int, model: type[M], code: str, check: Check | None) -> M:
    """A workspace's policy file, parsed once per version of the file (its mtime and size are the key: a page
    asks for the roles on every request)."""
    return parse_policy(Path(path).read_text(encoding="utf-8"), model, code, path, check)


@cache
def _shipped(name: str, model: type[M], code: str, check: Check | None) -> M:
    return parse_policy(shipped_text(name), model, code, f"builtin:{name}", check)


def parse_policy(text: str, model: type[M], code: str, origin: str, check: Check | None = None) -> M:
    """Validate policy YAML ``text`` with ``model``; ``origin`` names it in the SchemeError ``code``."""
    try:
        got = model.model_validate(load_yaml(text))
    except yaml.YAMLError as exc:
        raise SchemeError(code, file=origin, key_path="(YAML)", detail=str(exc)) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        raise SchemeError(code, file=origin, key_path=where, detail=err["msg"]) from None
    if check is not None:
        check(got, origin)
    return got
