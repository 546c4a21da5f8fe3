"""Small expression builders shared by the steps: conditions, rounding, clipping.

Everything here returns Ibis expressions that compile the same way on DuckDB and on Spark; in
particular no division can see a zero denominator (``nullif(0)``) and no NaN is produced.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from mujun.catalog import catalog
from mujun.schemes.conditions import Condition

Resolver = Callable[[str], ir.Value]
RAW = "\x00raw:"  # prefix asking a resolver for a column as stored, NULL booleans included

_CMP: dict[type[ast.cmpop], Callable[[Any, Any], ir.Value]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}
_ARITH: dict[type[ast.operator], Callable[[Any, Any], ir.Value]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / _nonzero(b),
}


def _nonzero(x: ir.Value) -> ir.Value:
    return x.nullif(0) if isinstance(x, ir.NumericValue) else x


def condition(cond: Condition, resolve: Resolver) -> ir.BooleanValue:
    """Compile a parsed condition; the result is never NULL (NULL counts as false)."""
    return _bool(_compile(cond.tree.body, resolve))


def expression(cond: Condition, resolve: Resolver) -> ir.Value:
    """Compile a parsed arithmetic expression of the condition language (e.g. ``tax_10k_yuan / land_mu``);
    a zero divisor gives NULL, as in conditions."""
    return _compile(cond.tree.body, resolve)


def _real(x: ir.Value) -> ir.Value:
    """Arithmetic is in double precision: an integer product (``year * year * ...``) would overflow INT64
    and stop the run, where a double only grows towards infinity, which compares like any number."""
    return x.cast("float64") if isinstance(x, ir.IntegerValue) else x


def _bool(e: ir.Value) -> ir.BooleanValue:
    return e.fill_null(False)


def _name(node: ast.expr, resolve: Resolver) -> ir.Value:
    assert isinstance(node, ast.Name)
    return resolve(node.id)


def _compile(node: ast.expr, resolve: Resolver) -> ir.Value:
    if isinstance(node, ast.BoolOp):
        parts = [_bool(_compile(v, resolve)) for v in node.values]
        out = parts[0]
        for p in parts[1:]:
            out = (out & p) if isinstance(node.op, ast.And) else (out | p)
        return out
    if isinstance(node, ast.UnaryOp):
        inner = _compile(node.operand, resolve)
        return ~_bool(inner) if isinstance(node.op, ast.Not) else -_real(inner)
    if isinstance(node, ast.Compare):
        left = _compile(node.left, resolve)
        out_parts = []
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                values = _constants(right_node)
                test = _bool(left.isin(values))
                # a missing value is in no list and "not in" none either: comparisons with NULL are false
                out_parts.append(test if isinstance(op, ast.In) else (left.notnull() & ~test))
                continue
            right = _compile(right_node, resolve)
            out_parts.append(_bool(_CMP[type(op)](left, right)))
            left = right
        out = out_parts[0]
        for p in out_parts[1:]:
            out = out & p
        return out
    if isinstance(node, ast.BinOp):
        return _ARITH[type(node.op)](_real(_compile(node.left, resolve)), _real(_compile(node.right, resolve)))
    if isinstance(node, ast.Name):
        return resolve(node.id)
    if isinstance(node, ast.Constant):
        return ibis.literal(node.value)
    if isinstance(node, ast.Call):
        return _call(node, resolve)
    raise ValueError(f"unsupported node {type(node).__name__}")  # parse() already refused it


def _call(node: ast.Call, resolve: Resolver) -> ir.Value:
    fn = node.func.id  # type: ignore[attr-defined]
    if fn in ("missing", "present"):
        raw = resolve(f"{RAW}{node.args[0].id}")  # type: ignore[attr-defined]
        return raw.isnull() if fn == "missing" else raw.notnull()
    arg = _name(node.args[0], resolve)
    if fn == "startswith":
        prefixes = _constants(node.args[1])
        out = ibis.literal(False)
        for p in prefixes:
            out = out | _bool(arg.startswith(str(p)))
        return out
    year = arg.year().cast("int64")
    if fn == "year_of":
        return year
    return resolve("year").cast("int64") - year  # years_since


def _constants(node: ast.expr) -> list[object]:
    if isinstance(node, ast.List | ast.Tuple):
        return [c.value for c in node.elts if isinstance(c, ast.Constant)]
    if isinstance(node, ast.Constant):
        return [node.value]
    raise ValueError("expected a constant or a list of constants")


def field_resolver(t: ir.Table, extra: dict[str, ir.Value] | None = None) -> Resolver:
    """Resolve condition names: context names first, then ``value_<indicator>``, then columns.

    A boolean field that is NULL reads as false, except through ``missing()``/``present()``, which ask
    for the raw column with the ``RAW`` prefix.
    """
    extra = extra or {}

    def resolve(name: str) -> ir.Value:
        if name.startswith(RAW):
            name = name[len(RAW) :]
            if name in extra:
                return extra[name]
            return t[f"value_{name}"] if f"value_{name}" in t.columns else t[name]
        if name in extra:
            return extra[name]
        if f"value_{name}" in t.columns:
            return t[f"value_{name}"]
        col = t[name]
        f = catalog.field(name)
        if f is not None and f.dtype == "bool":
            return col.fill_null(False)
        return col

    return resolve


def round_half_up(x: ir.NumericValue, decimals: int) -> ir.FloatingValue:
    """sign(x) * floor(|x| * 10^d + 0.5 + 1e-9) / 10^d.

    The 1e-9 absorbs binary representation error, so that 2.675 rounds to 2.68 as a person expects.
    The same IEEE operations run on every engine, so the result is identical on DuckDB and Spark.

    The floor is an INT64; where |x| * 10^d reaches 1e15 (an extreme score), a double has no digits left
    after the d-th decimal to round away, so |x| is kept as it is rather than overflowing the INT64.
    """
    scale = float(10**decimals)
    scaled = x.abs() * scale
    small = scaled < 1e15  # NaN and infinity: not small, kept as they are
    floored = (ibis.ifelse(small, scaled, 0.0) + 0.5 + 1e-9).floor().cast("float64") / scale
    mag = ibis.ifelse(small, floored, x.abs())
    return ibis.ifelse(x < 0, -mag, mag)


def clip(x: ir.FloatingValue, lo: float | None, hi: float | None) -> ir.FloatingValue:
    """Bound x to [lo, hi] (either may be None); NULL stays NULL."""
    out = x
    if hi is not None:
        out = ibis.ifelse(out > hi, hi, out)
    if lo is not None:
        out = ibis.ifelse(out < lo, lo, out)
    return out


EXACT_BOUND = 1e14  # |x| below which exact_mean sums exactly: 1e8 such values stay inside DECIMAL(38, 16)


def exact_mean(x: ir.FloatingValue, group_by: list[ir.Value] | None = None) -> ir.FloatingValue:
    """Mean of x summed exactly as DECIMAL(38, 16), so that no row order changes a single bit.

    A floating-point sum depends on the order of its terms, and the order a database adds rows in is
    not fixed; the decimal sum is exact, then divided once in double precision. Values are rounded to
    1e-16 before summing (far below any published precision). With group_by it is a window mean;
    without, an aggregate. No values gives NULL.

    DECIMAL(38, 16) holds less than 1e22, and a value beyond it (an absurd ratio of an extreme input,
    infinity) would stop the run with a cast error, and a sum beyond it overflows. So only values below
    ``EXACT_BOUND`` are cast, and where any value of the group reaches it the mean is the plain double
    mean instead (the exact sum of the values below the bound is then discarded).
    """
    small = x.abs() < EXACT_BOUND
    total = ibis.ifelse(small, x, 0.0).cast(dt.Decimal(38, 16)).sum()
    plain = x.sum()
    largest = x.abs().max()
    count = x.count()
    if group_by is not None:
        total, plain, largest, count = (e.over(group_by=group_by) for e in (total, plain, largest, count))
    exact = largest < EXACT_BOUND  # NULL without values: the mean is NULL either way
    summed = ibis.ifelse(exact, total.cast("float64"), plain)
    return summed / count.cast("float64").nullif(0.0)
