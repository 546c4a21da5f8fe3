"""A workspace's own schemes: copies of a built-in (or of another workspace scheme) that the bureau edits.

Stored as ``<workspace>/schemes/<id>.yaml``, each a whole scheme file that ``mujun schemes validate`` and
``mujun evaluate --scheme <path>`` read as they are; the first line names the scheme it was copied from
(``# mujun copied-from: linyi-2022``), so the editor can offer that scheme's rules again once switched off
and the page can compare the two. Every copy and every save is one entry of the workspace's change log
(kind ``scheme``, by the signed-in user), written with the file (:meth:`Workspace.change`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from mujun.catalog.text import translate
from mujun.runs.changes import history
from mujun.runs.workspace import Workspace
from mujun.schemes import LoadedScheme, builtin_ids, load, loads
from mujun.schemes.model import Scheme

FOLDER = "schemes"
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")  # the model's id pattern, at most 60 characters


class EditRefused(ValueError):
    """A copy or save the editor refuses; ``key`` is the catalogue text that says why (``sed.err.*``)."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values

    def text(self, lang: str) -> str:
        return translate(self.key, lang, **self.values)


_ORIGIN = re.compile(r"^# mujun copied-from: ([a-z0-9][a-z0-9_-]*)")


def path_of(workspace: str | Path, scheme_id: str) -> Path:
    """Where the workspace keeps its scheme ``scheme_id``."""
    return Path(workspace) / FOLDER / f"{scheme_id}.yaml"


def ids(workspace: str | Path) -> list[str]:
    """The workspace's own schemes, by id."""
    folder = Path(workspace) / FOLDER
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.yaml") if ID_PATTERN.match(p.stem))


def load_own(workspace: str | Path, scheme_id: str) -> LoadedScheme | None:
    """The workspace's scheme ``scheme_id`` (validated), or None when it has none by that id."""
    if not ID_PATTERN.match(scheme_id):
        return None
    path = path_of(workspace, scheme_id)
    return load(path) if path.is_file() else None


def copied_from(workspace: str | Path, scheme_id: str) -> str | None:
    """The id of the scheme that ``scheme_id`` was copied from (its file's first line), if known."""
    path = path_of(workspace, scheme_id)
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as f:
        got = _ORIGIN.match(f.readline())
    return got.group(1) if got else None


def resolve_source(workspace: str | Path, scheme_id: str) -> LoadedScheme | None:
    """A scheme a copy can be made of or compared with: the workspace's own, else a built-in."""
    own = load_own(workspace, scheme_id)
    if own is not None:
        return own
    return load(scheme_id) if scheme_id in builtin_ids() else None


def free_id(workspace: str | Path, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3`` … when that id is taken (built-in or the workspace's)."""
    taken = set(builtin_ids()) | set(ids(workspace))
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted}-{n}" in taken:
        n += 1
    return f"{wanted}-{n}"


def dump(scheme: Scheme, origin_id: str | None) -> str:
    """The YAML text of ``scheme`` (defaults left out), headed by the id it was copied from."""
    data = scheme.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    head = f"# mujun copied-from: {origin_id}\n" if origin_id else ""
    return head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)


def copy(ws: Workspace, source_id: str, new_id: str | None, lang: str = "zh") -> str:
    """Copy ``source_id`` as the workspace scheme ``new_id`` (default ``<source>-copy``); returns the new id.

    The copy's groups get ``total_weight`` = their current weights' sum (100 in every built-in), so the
    model itself refuses weights that no longer add up. :class:`EditRefused` for an unknown source or a new
    id that is not allowed or already taken."""
    source = resolve_source(ws.path, source_id)
    if source is None:
        raise EditRefused("sed.err.no_source", scheme=source_id)
    wanted = (new_id or "").strip().lower()
    if wanted and not ID_PATTERN.match(wanted):
        raise EditRefused("sed.err.bad_id", scheme=wanted)
    if wanted and (wanted in builtin_ids() or wanted in ids(ws.path)):
        raise EditRefused("sed.err.id_taken", scheme=wanted)
    scheme_id = wanted or free_id(ws.path, f"{source_id}-copy")
    data: dict[str, Any] = source.scheme.model_dump(mode="json", by_alias=True)
    data["id"] = scheme_id
    for key, suffix in (("title", "zh"), ("title_en", "en")):
        if data.get(key):
            data[key] = translate("sed.copy_title", suffix, title=data[key])
    for g in data["groups"]:
        g["total_weight"] = g.get("total_weight") or sum(it["weight"] for it in g["items"])
    text = dump(Scheme.model_validate(data), source_id)
    loaded = loads(text, str(path_of(ws.path, scheme_id)))
    summary = {"action": "copy", "scheme": scheme_id, "from": source_id, "from_sha256": source.sha256}
    write(ws, scheme_id, text, {**summary, "sha256": loaded.sha256})
    return scheme_id


def write(ws: Workspace, scheme_id: str, text: str, summary: dict[str, Any]) -> int:
    """Write the scheme file and its change-log entry together (the file goes back if the entry fails);
    returns the entry's id."""
    path = path_of(ws.path, scheme_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.read_text(encoding="utf-8") if path.is_file() else None
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        with ws.change("scheme", scheme_id) as ch:
            ch.summary = summary
            os.replace(tmp, path)
    except BaseException:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(before, encoding="utf-8")
        tmp.unlink(missing_ok=True)
        raise
    assert ch.change_id is not None
    return ch.change_id


def changes_of(reader: Any, scheme_id: str) -> list[dict[str, Any]]:
    """The change-log entries of the workspace scheme ``scheme_id``, newest first, read through ``reader``'s
    own cursor (a web request's reader: the workspace's connection is shared by every request thread)."""
    return [e for e in reversed(history(reader.con)) if e["kind"] == "scheme" and e["touched"] == scheme_id]
