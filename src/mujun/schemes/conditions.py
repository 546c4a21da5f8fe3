"""The condition language of schemes: a small, safe subset of Python expression syntax.

Examples::

    above_scale and land_mu >= 3
    flag_utility or startswith(industry_code, ['44', '45', '46'])
    tax_per_mu < 3                      # an indicator id stands for its value
    years_since(production_start) < 2   # data year minus the year production started

Allowed: ``and or not``, comparisons (``== != < <= > >= in``, ``not in``), ``+ - * /``, numbers,
strings, lists of constants, and the functions in ``FUNCTIONS``. A missing boolean field counts as
false; a comparison with a missing value is false. Parsing checks every name against the names the
context allows and suggests the closest one.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass

FUNCTIONS = {
    "missing": 1,  # missing(x): x is NULL
    "present": 1,  # present(x): x is not NULL
    "startswith": 2,  # startswith(text_field, 'a' or ['a', 'b'])
    "year_of": 1,  # year_of(date_field)
    "years_since": 1,  # year - year_of(date_field)
}

_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Call,
)


class ConditionError(ValueError):
    """A condition that does not parse or names something unknown; ``suggestion`` may help."""

    def __init__(self, detail: str, suggestion: str | None = None) -> None:
        self.detail = detail
        self.suggestion = suggestion
        super().__init__(detail)


@dataclass(frozen=True)
class Condition:
    """A parsed, checked condition: its source text, tree, and the names it reads."""

    text: str
    tree: ast.Expression
    names: frozenset[str]


def parse(text: str, known: set[str]) -> Condition:
    """Parse ``text``; every name must be in ``known`` (fields, indicators, context names)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConditionError(f"条件“{text}”语法错误：{exc.msg}") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise ConditionError(f"条件“{text}”中不允许使用 {type(node).__name__}")
        if isinstance(node, ast.Call):
            _check_call(node, text)
        elif isinstance(node, ast.Name) and not _is_callee(node, tree):
            if node.id not in known:
                close = difflib.get_close_matches(node.id, sorted(known), n=1, cutoff=0.6)
                raise ConditionError(f"条件“{text}”中的名称 `{node.id}` 未知", close[0] if close else None)
            names.add(node.id)
        elif isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str | bool):
            raise ConditionError(f"条件“{text}”中的常量 {node.value!r} 不被支持")
    return Condition(text=text, tree=tree, names=frozenset(names))


def _is_callee(node: ast.Name, tree: ast.Expression) -> bool:
    return any(isinstance(n, ast.Call) and n.func is node for n in ast.walk(tree))


def _check_call(node: ast.Call, text: str) -> None:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        name = getattr(node.func, "id", "?")
        close = difflib.get_close_matches(name, list(FUNCTIONS), n=1, cutoff=0.5)
        raise ConditionError(f"条件“{text}”中的函数 `{name}` 未知", close[0] if close else None)
    if node.keywords or len(node.args) != FUNCTIONS[node.func.id]:
        raise ConditionError(f"条件“{text}”中 {node.func.id}() 需要 {FUNCTIONS[node.func.id]} 个参数")
    if not isinstance(node.args[0], ast.Name):
        raise ConditionError(f"条件“{text}”中 {node.func.id}() 的第一个参数须为字段名")
