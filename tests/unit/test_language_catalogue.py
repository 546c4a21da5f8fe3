"""Words a person reads live in the catalogue (issue 10): no Chinese string literal elsewhere in the code.

Allowed: ``catalog/`` (the catalogue itself), ``synth/`` (the synthetic-data generator writes Chinese
department files), the parsing vocabularies (modules in ``VOCABULARIES``: words the readers must
recognise in department files) and regular-expression patterns. Docstrings and comments are not
literals. ``PENDING`` lists the files still being moved, with their count; it must only shrink to empty.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import mujun

ROOT = Path(mujun.__file__).parent
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]")
ALLOWED_DIRS = ("catalog/", "synth/")
VOCABULARIES = {"ingest/cells.py", "ingest/header.py", "reports/typeset.py"}  # typeset: line-break punctuation
REGEX_CALLS = {"compile", "search", "match", "fullmatch", "sub", "subn", "findall", "finditer", "split"}

PENDING: dict[str, int] = {}


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _regex_patterns(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in REGEX_CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.args
        ):
            out |= {id(n) for n in ast.walk(node.args[0]) if isinstance(n, ast.Constant)}
    return out


def literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every CJK string literal in ``path`` that is not a docstring or a regex pattern."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree) | _regex_patterns(tree)
    return [
        (n.lineno, n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip and CJK.search(n.value)
    ]


def found() -> dict[str, list[tuple[int, str]]]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(ALLOWED_DIRS) or rel in VOCABULARIES:
            continue
        hits = literals(path)
        if hits:
            out[rel] = hits
    return out


def test_no_chinese_literal_outside_the_catalogue() -> None:
    over = {
        rel: [f"{line}: {text[:40]!r}" for line, text in hits][:5]
        for rel, hits in found().items()
        if len(hits) > PENDING.get(rel, 0)
    }
    assert not over, f"Chinese literals outside catalog/: move them to catalog/ui/*.yaml or messages.yaml: {over}"


def test_pending_only_shrinks() -> None:
    """A file that is clean must leave PENDING (so the list cannot hide new literals)."""
    now = {rel: len(hits) for rel, hits in found().items()}
    stale = {rel: (n, now.get(rel, 0)) for rel, n in PENDING.items() if now.get(rel, 0) < n}
    assert not stale, f"lower or remove these PENDING counts (was, now): {stale}"


def test_regex_allowance_is_narrow(tmp_path: Path) -> None:
    """The detector itself: a message literal is caught, a docstring and a regex pattern are not."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        'def f():\n    """说明"""\n    import re\n    re.compile("单位")\n    return "错误"\n', encoding="utf-8"
    )
    assert literals(probe) == [(5, "错误")]
