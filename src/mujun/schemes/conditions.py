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

Limits (hostile schemes, issue 10): a condition has at most ``MAX_TEXT`` characters, ``MAX_NODES``
expression nodes (names, constants, operations, calls, list elements) and ``MAX_DEPTH`` levels of
nesting (of the tree, where ``a + b + c`` is two levels of ``+``, and of brackets), and every number in
it is at most ``MAX_CONSTANT`` in magnitude. Whatever passes them compiles on DuckDB and Spark without
running into Python's recursion limit; whatever breaks one is a :class:`ConditionError` with ``limit``.
With ``types`` (name: number, text, bool or date), parsing also checks that every operation gets the
kinds of values it works on, so that a checked condition cannot fail later in the engine.
"""

from __future__ import annotations

import ast
import difflib
import io
import math
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass

from mujun.catalog.text import Text

MAX_TEXT = 2000  # characters of a condition
MAX_NODES = 200  # expression nodes of its tree
MAX_DEPTH = 32  # nesting levels: of the tree, and of brackets
MAX_CONSTANT = 1e15  # magnitude of a number written in a condition

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
    """A condition that does not parse or names something unknown; ``suggestion`` may help.

    ``detail`` is a catalogue text (``catalog/ui/scheme_check.yaml``), shown in the message's language.

    ``limit`` is set when the condition breaks one of the size limits: (kind, found, allowed), kind one
    of ``text`` (characters), ``nodes``, ``depth`` or ``constant``.
    """

    def __init__(
        self, detail: str, suggestion: str | None = None, limit: tuple[str, object, object] | None = None
    ) -> None:
        self.detail = detail
        self.suggestion = suggestion
        self.limit = limit
        super().__init__(detail)


@dataclass(frozen=True)
class Condition:
    """A parsed, checked condition: its source text, tree, and the names it reads."""

    text: str
    tree: ast.Expression
    names: frozenset[str]


def parse(text: str, known: set[str], types: Mapping[str, str] | None = None) -> Condition:
    """Parse ``text``; every name must be in ``known`` (fields, indicators, context names).

    With ``types`` (the kind of each known name: ``number``, ``text``, ``bool`` or ``date``), the
    condition is also type-checked and must give a true/false value.
    """
    tree = _parse_bounded(text)
    names: set[str] = set()
    callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise ConditionError(Text("cond.node", text=text, node=type(node).__name__))
        if isinstance(node, ast.Call):
            _check_call(node, text)
        elif isinstance(node, ast.Name) and id(node) not in callees:
            if node.id not in known:
                close = difflib.get_close_matches(node.id, sorted(known), n=1, cutoff=0.6)
                raise ConditionError(Text("cond.name", text=text, name=node.id), close[0] if close else None)
            names.add(node.id)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool | str):
                continue
            if not isinstance(node.value, int | float):
                raise ConditionError(Text("cond.constant", text=text, value=repr(node.value)))
            if not math.isfinite(node.value) or abs(node.value) > MAX_CONSTANT:
                raise ConditionError(
                    Text("cond.number", text=text, value=repr(node.value), limit=f"{MAX_CONSTANT:g}"),
                    limit=("constant", node.value, MAX_CONSTANT),
                )
    if types is not None:
        kind = _Types(text, types).of(tree.body)
        if kind != "bool":
            raise ConditionError(Text("cond.not_bool", text=text, kind=_kind(kind)))
    return Condition(text=text, tree=tree, names=frozenset(names))


def _parse_bounded(text: str) -> ast.Expression:
    """``ast.parse`` within the limits: length first, brackets before parsing, then the tree's size and depth."""
    if len(text) > MAX_TEXT:
        detail = Text("cond.too_long", n=len(text), limit=MAX_TEXT)
        raise ConditionError(detail, limit=("text", len(text), MAX_TEXT))
    brackets = _bracket_depth(text.strip())
    if brackets > MAX_DEPTH:
        raise ConditionError(Text("cond.brackets", n=brackets, limit=MAX_DEPTH), limit=("depth", brackets, MAX_DEPTH))
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConditionError(Text("cond.syntax", text=text, error=exc.msg)) from None
    except (RecursionError, MemoryError):  # the limits above keep it from happening; never an internal error
        detail = Text("cond.too_complex", limit=MAX_NODES)
        raise ConditionError(detail, limit=("nodes", "?", MAX_NODES)) from None
    nodes, depth = _size(tree)
    if nodes > MAX_NODES:
        raise ConditionError(Text("cond.nodes", n=nodes, limit=MAX_NODES), limit=("nodes", nodes, MAX_NODES))
    if depth > MAX_DEPTH:
        raise ConditionError(Text("cond.depth", n=depth, limit=MAX_DEPTH), limit=("depth", depth, MAX_DEPTH))
    return tree


def _bracket_depth(text: str) -> int:
    """The deepest nesting of ( [ { outside string literals (an unterminated string: as far as it got)."""
    depth = deepest = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
                deepest = max(deepest, depth)
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
    except (tokenize.TokenError, SyntaxError):
        pass  # ast.parse reports it
    return deepest


def _size(tree: ast.Expression) -> tuple[int, int]:
    """(expression nodes, nesting depth) of ``tree``, without recursion."""
    nodes = deepest = 0
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.expr):
            nodes += 1
            deepest = max(deepest, depth)
            depth += 1
        stack.extend((child, depth) for child in ast.iter_child_nodes(node))
    return nodes, deepest


def _kind(kind: str) -> Text:
    """A kind of value in words: number, text, bool, date or list."""
    return Text(f"cond.kind.{kind}")


class _Types:
    """The kind of each node of a checked condition (recursion bounded by ``MAX_DEPTH``)."""

    def __init__(self, text: str, types: Mapping[str, str]) -> None:
        self.text = text
        self.types = types

    def fail(self, key: str, **values: object) -> ConditionError:
        return ConditionError(Text(key, text=self.text, **values))

    def want(self, node: ast.expr, kind: str, what: Text) -> str:
        found = self.of(node)
        if found != kind:
            raise self.fail("cond.want", what=what, kind=_kind(kind), expr=ast.unparse(node), found=_kind(found))
        return found

    def of(self, node: ast.expr) -> str:
        if isinstance(node, ast.Constant):
            return "bool" if isinstance(node.value, bool) else "text" if isinstance(node.value, str) else "number"
        if isinstance(node, ast.Name):
            return self.types.get(node.id, "number")
        if isinstance(node, ast.List | ast.Tuple):
            raise self.fail("cond.list_place", expr=ast.unparse(node))
        if isinstance(node, ast.BoolOp):
            for v in node.values:
                self.want(v, "bool", Text("cond.what.and_or"))
            return "bool"
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                self.want(node.operand, "bool", Text("cond.what.not"))
                return "bool"
            self.want(node.operand, "number", Text("cond.what.minus"))
            return "number"
        if isinstance(node, ast.BinOp):
            self.want(node.left, "number", Text("cond.what.arith"))
            self.want(node.right, "number", Text("cond.what.arith"))
            return "number"
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise self.fail("cond.node", node=type(node).__name__)

    def _compare(self, node: ast.Compare) -> str:
        left = self.of(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                for c in _list_constants(right_node, self):
                    if self.of(c) != left:
                        raise self.fail("cond.in_type", item=ast.unparse(c), left=ast.unparse(node.left))
                continue
            right = self.of(right_node)
            ordered = not isinstance(op, ast.Eq | ast.NotEq)
            if right != left or (ordered and left == "bool"):
                raise self.fail("cond.compare", expr=ast.unparse(node), left=_kind(left), right=_kind(right))
            left = right
        return "bool"

    def _call(self, node: ast.Call) -> str:
        fn = node.func.id  # type: ignore[attr-defined]  # _check_call ran first
        if fn in ("missing", "present"):
            return "bool"
        arg = node.args[0]
        if fn == "startswith":
            self.want(arg, "text", Text("cond.what.startswith"))
            for c in _list_constants(node.args[1], self):
                if self.of(c) != "text":
                    raise self.fail("cond.prefix_text")
            return "bool"
        self.want(arg, "date", Text("cond.what.call", fn=fn))
        return "number"


def _list_constants(node: ast.expr, types: _Types) -> list[ast.expr]:
    """The constants of a list (or a single constant) on the right of ``in`` or in ``startswith``."""
    elts = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
    for c in elts:
        if not isinstance(c, ast.Constant):
            raise types.fail("cond.constants", expr=ast.unparse(node))
    return elts


def _check_call(node: ast.Call, text: str) -> None:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        name = getattr(node.func, "id", "?")
        close = difflib.get_close_matches(name, list(FUNCTIONS), n=1, cutoff=0.5)
        raise ConditionError(Text("cond.function", text=text, name=name), close[0] if close else None)
    if node.keywords or len(node.args) != FUNCTIONS[node.func.id]:
        raise ConditionError(Text("cond.arity", text=text, name=node.func.id, n=FUNCTIONS[node.func.id]))
    if not isinstance(node.args[0], ast.Name):
        raise ConditionError(Text("cond.first_arg", text=text, name=node.func.id))
