"""Load a scheme from a built-in id or a YAML file, validate it fully, and hash it.

Every problem is a :class:`~mujun.errors.SchemeError` naming the file, the dotted key path and, where
one is close, the valid name that was probably meant.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from mujun.catalog import catalog
from mujun.catalog.text import Text
from mujun.errors import SchemeError, load_yaml
from mujun.schemes import model as m
from mujun.schemes.conditions import Condition, ConditionError, parse

CONTEXT_NAMES = {
    "group": {"year"},
    "status": {"year", "group"},
    "adjustment": {"year", "group"},
    "override": {"year", "group", "total_score", "rank"},
    "award": {"year", "group", "total_score", "rank"},
}


# Limits of a scheme (issue 10, hostile schemes): what passes them evaluates on DuckDB and Spark without
# an internal error. Numbers the model bounds itself (weights, caps, points, band bounds ≤ 1e6 or 1e12)
# are not repeated here. docs/scheme-format.md, "Limits", lists them all.
LIST_LIMITS = {
    "indicators": 200,
    "numerator": 20,  # fields summed in one indicator's numerator or denominator
    "groups": 50,
    "items": 50,  # per group
    "statuses": 200,
    "bonus": 200,
    "penalty": 200,
    "overrides": 200,
    "awards": 200,
    "assumptions": 200,
    "tie_break": 20,
    "values": 100,  # by_year benchmarks
    "rank_items": 50,  # items summed in a rank key
}
FACTOR_MAX = 1e6  # |factor|: an indicator's value stays far below the exact-mean bound
BENCHMARK_RANGE = (1e-6, 1e12)  # a fixed or published benchmark
K_RANGE = (1e-6, 1e6)  # the multiple of a mean or best benchmark
POINTS_MAX = 1e6  # missing: {policy: penalty, points}
YEAR_RANGE = (1990, 2100)  # the data years of by_year benchmarks (the catalogue's year domain)
SHARE_DENOMINATOR = 10**6  # shares and percentile bounds: at most 6 decimals (integer counts stay in INT64)


@dataclass(frozen=True)
class LoadedScheme:
    """A validated scheme with its parsed conditions, origin and sha256."""

    scheme: m.Scheme
    origin: str
    sha256: str
    conditions: dict[str, Condition]

    @property
    def id(self) -> str:
        return self.scheme.id

    def required_fields(self) -> set[str]:
        """Canonical fields the scheme reads (the identity columns always)."""
        s = self.scheme
        out = {"uscc", "name", "year"}
        for ind in s.indicators.values():
            out.update(ind.numerator, ind.denominator)
        for cond in self.conditions.values():
            out.update(n for n in cond.names if catalog.field(n) is not None)
        scopes = [*s.classification.scope]
        for g in s.groups:
            scopes += g.classification.scope if g.classification else []
            for it in g.items:
                scopes += it.normalise.scope + (it.normalise.benchmark.scope if it.normalise.benchmark else [])
        for cls in [s.classification, *(g.classification for g in s.groups if g.classification)]:
            scopes += cls.min_scope.pool_scope or []
            out.update(b.within.by.field for b in cls.bands if b.within is not None and b.within.by.field)
        for aw in s.awards:
            scopes += aw.scope
            out.update([aw.by.field] if aw.by.field else [])
        for key in scopes:
            if key != "group":
                out.add("industry_code" if key == "industry" else key)
        return out


def builtin_ids() -> list[str]:
    return list(_builtin_ids())


@cache
def _builtin_ids() -> tuple[str, ...]:  # the package's files: fixed while the process runs
    folder = resources.files("mujun").joinpath("schemes/builtin")
    return tuple(sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")))


def load(ref: str | Path) -> LoadedScheme:
    """Load a scheme by built-in id or by path."""
    text_ref = str(ref)
    path = Path(text_ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise SchemeError("SCHEME-NOT-FOUND", scheme=text_ref, suggestion="")
        return _load_cached(str(path.resolve()), path.stat().st_mtime_ns)
    if text_ref in _builtin_ids():
        return _load_builtin(text_ref)
    close = catalog.suggest_name(text_ref, builtin_ids())
    hint = Text("schk.did_you_mean_scheme", name=close) if close else ""
    raise SchemeError("SCHEME-NOT-FOUND", scheme=text_ref, suggestion=hint)


@cache
def _load_builtin(scheme_id: str) -> LoadedScheme:  # parsed once per process (the web app asks on every page)
    text = resources.files("mujun").joinpath(f"schemes/builtin/{scheme_id}.yaml").read_text("utf-8")
    return loads(text, f"builtin:{scheme_id}")


@cache
def _load_cached(path: str, _mtime: int) -> LoadedScheme:
    return loads(Path(path).read_text(encoding="utf-8"), path)


def loads(text: str, origin: str) -> LoadedScheme:
    """Validate scheme YAML ``text``; ``origin`` names it in messages."""
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else "?"
        raise SchemeError("SCHEME-YAML", file=origin, line=line, detail=getattr(exc, "problem", str(exc))) from None
    if not isinstance(data, dict):
        raise _invalid(origin, "", Text("schk.top_mapping"))
    try:
        scheme = m.Scheme.model_validate(data)
    except ValidationError as exc:
        raise _from_pydantic(origin, exc) from None
    _check_limits(scheme, origin)
    conditions = _check_references(scheme, origin)
    digest = hashlib.sha256(canonical_json(scheme).encode("utf-8")).hexdigest()
    return LoadedScheme(scheme=scheme, origin=origin, sha256=digest, conditions=conditions)


def canonical_json(scheme: m.Scheme) -> str:
    """The resolved scheme as sorted, compact JSON: what its sha256 is taken of."""
    return json.dumps(scheme.model_dump(mode="json", by_alias=True), sort_keys=True, ensure_ascii=False)


def _invalid(origin: str, key_path: str, detail: str, close: str | None = None) -> SchemeError:
    hint = Text("schk.did_you_mean", name=close) if close else ""
    top = key_path or Text("schk.top")
    return SchemeError("SCHEME-INVALID", file=origin, key_path=top, detail=detail, suggestion=hint)


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "literal[", "list[", "dict[")):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


@cache
def _vocabulary() -> tuple[str, ...]:
    names: set[str] = set()
    for obj in vars(m).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            for name, info in obj.model_fields.items():
                names.add(info.alias or name)
    return tuple(sorted(names))


_BOUND_ERRORS = {"less_than_equal": "≤", "less_than": "<", "greater_than_equal": "≥", "greater_than": ">"}


def _from_pydantic(origin: str, exc: ValidationError) -> SchemeError:
    priority = {"extra_forbidden": 0, "literal_error": 1, "union_tag_invalid": 1, "enum": 1}
    err = min(exc.errors(), key=lambda e: priority.get(e["type"], 2))
    loc = tuple(err["loc"])
    path = _key_path(loc)
    if err["type"] in _BOUND_ERRORS:  # a number beyond the model's bound (weight: 1e308)
        op = _BOUND_ERRORS[err["type"]]
        bound = next(v for k, v in err.get("ctx", {}).items() if k in ("le", "lt", "ge", "gt"))
        return _limit("SCHEME-LIMIT-NUMBER", origin, path, value=_num(err.get("input")), rule=f"x {op} {_num(bound)}")
    if err["type"] == "finite_number":
        return _limit("SCHEME-LIMIT-NUMBER", origin, path, value=_num(err.get("input")), rule="x finite")
    close = None
    if err["type"] == "extra_forbidden":
        close = catalog.suggest_name(str(loc[-1]), _vocabulary())
        detail: str = Text("schk.unknown_key", name=loc[-1])
    elif err["type"] in ("literal_error", "union_tag_invalid", "enum"):
        expected = re.findall(r"'([^']+)'", str(err.get("ctx", {}).get("expected", "")))
        expected += re.findall(r"'([^']+)'", str(err.get("ctx", {}).get("expected_tags", "")))
        close = catalog.suggest_name(str(err.get("input")), expected)
        detail = Text("schk.bad_value", value=err.get("input"), choices=", ".join(expected))
    elif err["type"] == "missing":
        detail = Text("schk.missing_key")
    else:
        detail = err["msg"].removeprefix("Value error, ")
    more = len(exc.errors()) - 1
    if more:
        detail = Text("schk.more", detail=detail, more=more)
    return _invalid(origin, path, detail, close)


def _limit(code: str, origin: str, key_path: str, **fields: Any) -> SchemeError:
    return SchemeError(code, file=origin, key_path=key_path or Text("schk.top"), **fields)


def _num(x: object) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _check_limits(s: m.Scheme, origin: str) -> None:
    """List sizes, magnitudes and share precision beyond what the model bounds (see ``LIST_LIMITS``)."""

    def count(path: str, items: object, kind: str) -> None:
        n = len(items)  # type: ignore[arg-type]
        if n > LIST_LIMITS[kind]:
            raise _limit("SCHEME-LIMIT-LIST", origin, path, count=n, limit=LIST_LIMITS[kind])

    def within(path: str, x: float | None, low: float | None, high: float) -> None:
        if x is None:
            return
        ok = abs(x) <= high if low is None else low <= x <= high  # NaN: never ok
        if not ok:
            rule = f"|x| ≤ {_num(high)}" if low is None else f"{_num(low)} ≤ x ≤ {_num(high)}"
            raise _limit("SCHEME-LIMIT-NUMBER", origin, path, value=_num(x), rule=rule)

    def share(path: str, x: float | None) -> None:
        if x is not None and m.fraction(x).denominator > SHARE_DENOMINATOR:
            raise _limit("SCHEME-LIMIT-NUMBER", origin, path, value=repr(x), rule="x = k / 1000000 (≤ 6 decimals)")

    def benchmark(path: str, b: m.Benchmark | None) -> None:
        if b is None:
            return
        within(f"{path}.value", b.value, *BENCHMARK_RANGE)
        within(f"{path}.k", b.k, *K_RANGE)
        count(f"{path}.values", b.values or {}, "values")
        for year, v in (b.values or {}).items():
            within(f"{path}.values.{year}", float(year), *YEAR_RANGE)
            within(f"{path}.values.{year}", v, *BENCHMARK_RANGE)
        benchmark(f"{path}.fallback", b.fallback)

    def rank_key(path: str, key: m.RankKey) -> None:
        count(f"{path}.items", key.items or [], "rank_items")

    def classification(path: str, cls: m.Classification) -> None:
        for i, b in enumerate(cls.bands):
            for name in ("upper", "share", "max_share", "min_share"):
                share(f"{path}.bands[{i}].{name}", getattr(b, name))
            if b.within is not None:
                share(f"{path}.bands[{i}].within.pool", b.within.pool)
                rank_key(f"{path}.bands[{i}].within.by", b.within.by)

    for key in ("indicators", "groups", "statuses", "bonus", "penalty", "overrides", "awards", "assumptions"):
        count(key, getattr(s, key), key)
    count("tie_break", s.tie_break, "tie_break")
    for iid, ind in s.indicators.items():
        count(f"indicators.{iid}.numerator", ind.numerator, "numerator")
        count(f"indicators.{iid}.denominator", ind.denominator, "numerator")
        within(f"indicators.{iid}.factor", ind.factor, None, FACTOR_MAX)
    classification("classification", s.classification)
    for gi, g in enumerate(s.groups):
        count(f"groups[{gi}].items", g.items, "items")
        if g.classification is not None:
            classification(f"groups[{gi}].classification", g.classification)
        for ii, it in enumerate(g.items):
            benchmark(f"groups[{gi}].items[{ii}].normalise.benchmark", it.normalise.benchmark)
            within(f"groups[{gi}].items[{ii}].missing.points", it.missing.points, None, POINTS_MAX)
    for i, aw in enumerate(s.awards):
        rank_key(f"awards[{i}].by", aw.by)
    for path, x in _floats(s.model_dump(by_alias=True)):
        if not math.isfinite(x):
            raise _limit("SCHEME-LIMIT-NUMBER", origin, path, value=_num(x), rule="x finite")


def _floats(data: object, path: str = "") -> list[tuple[str, float]]:
    """Every float of a dumped scheme with its key path (the dump is at most a few levels deep)."""
    if isinstance(data, float):
        return [(path, data)]
    if isinstance(data, dict):
        return [f for k, v in data.items() for f in _floats(v, f"{path}.{k}" if path else str(k))]
    if isinstance(data, list | tuple):
        return [f for i, v in enumerate(data) for f in _floats(v, f"{path}[{i}]")]
    return []


def _condition_types(names: set[str]) -> dict[str, str]:
    """The kind of every name a condition may read: catalogue dtype, indicators and context names are numbers."""
    kinds = {"float": "number", "int": "number", "text": "text", "bool": "bool", "date": "date"}
    out = {}
    for name in names:
        f = catalog.field(name)
        out[name] = kinds.get(f.dtype, "number") if f is not None else "number"
    out.update({"group": "text", "year": "number", "total_score": "number", "rank": "number"})
    return out


def _check_references(s: m.Scheme, origin: str) -> dict[str, Condition]:
    """Fields, indicators, group ids and conditions must all name real things."""
    field_names = set(catalog.fields())
    for iid, ind in s.indicators.items():
        for role in ("numerator", "denominator"):
            for i, name in enumerate(getattr(ind, role)):
                if catalog.field(name) is None or catalog.field(name).dtype not in ("float", "int"):  # type: ignore[union-attr]
                    close = catalog.suggest_name(name, [f for f in field_names if catalog.fields()[f].dtype == "float"])
                    raise _invalid(origin, f"indicators.{iid}.{role}[{i}]", Text("schk.not_numeric", name=name), close)
    ids = list(s.indicators)
    for gi, g in enumerate(s.groups):
        seen: set[str] = set()
        for ii, it in enumerate(g.items):
            if it.indicator not in s.indicators:
                close = catalog.suggest_name(it.indicator, ids)
                path = f"groups[{gi}].items[{ii}].indicator"
                raise _invalid(origin, path, Text("schk.undefined_indicator", name=it.indicator), close)
            if it.indicator in seen:
                path = f"groups[{gi}].items[{ii}].indicator"
                raise _invalid(origin, path, Text("schk.indicator_twice", name=it.indicator))
            seen.add(it.indicator)
    group_ids = [g.id for g in s.groups]
    if len(set(group_ids)) != len(group_ids):
        raise _invalid(origin, "groups", Text("schk.duplicate_groups"))
    for i, name in enumerate(s.tie_break):
        if name not in s.indicators:
            detail = Text("schk.undefined_indicator", name=name)
            raise _invalid(origin, f"tie_break[{i}]", detail, catalog.suggest_name(name, ids))
    _check_rank_keys(s, origin)
    rules: list[m.StatusRule | m.Adjustment | m.Override | m.Award] = [
        *s.statuses, *s.bonus, *s.penalty, *s.overrides, *s.awards
    ]  # fmt: skip
    codes = [r.code for r in rules]
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise _invalid(origin, "", Text("schk.duplicate_codes", codes=", ".join(dup)))
    base = field_names | set(s.indicators)
    conditions: dict[str, Condition] = {}
    blocks: list[tuple[str, str, list[Any]]] = [
        ("groups", "group", list(s.groups)),
        ("statuses", "status", list(s.statuses)),
        ("bonus", "adjustment", list(s.bonus)),
        ("penalty", "adjustment", list(s.penalty)),
        ("overrides", "override", list(s.overrides)),
        ("awards", "award", list(s.awards)),
    ]
    for key, context, rules in blocks:
        for i, rule in enumerate(rules):
            known = base | CONTEXT_NAMES[context] | _flag_names(rule.when)
            try:
                conditions[f"{key}[{i}]"] = parse(rule.when, known, _condition_types(known))
            except ConditionError as exc:
                raise _condition_error(origin, f"{key}[{i}].when", exc) from None
    return conditions


_CONDITION_LIMITS = {
    "text": "SCHEME-LIMIT-TEXT",
    "nodes": "SCHEME-LIMIT-NODES",
    "depth": "SCHEME-LIMIT-DEPTH",
    "constant": "SCHEME-LIMIT-NUMBER",
}


def _condition_error(origin: str, key_path: str, exc: ConditionError) -> SchemeError:
    if exc.limit is None:
        return _invalid(origin, key_path, exc.detail, exc.suggestion)
    kind, found, allowed = exc.limit
    code = _CONDITION_LIMITS[kind]
    if kind == "constant":
        return _limit(code, origin, key_path, value=_num(found), rule=f"|x| ≤ {_num(allowed)}")
    return _limit(code, origin, key_path, count=found, limit=allowed)


def _check_rank_keys(s: m.Scheme, origin: str) -> None:
    """Two-stage and award keys must name an indicator, a numeric field, or items the group scores."""
    keys: list[tuple[str, m.RankKey]] = [(f"awards[{i}].by", a.by) for i, a in enumerate(s.awards)]
    rules = [("classification", s.classification)]
    rules += [(f"groups[{i}].classification", g.classification) for i, g in enumerate(s.groups) if g.classification]
    for path, cls in rules:
        keys += [(f"{path}.bands[{i}].within.by", b.within.by) for i, b in enumerate(cls.bands) if b.within]
    scored = {it.indicator for g in s.groups for it in g.items}
    numeric = [f for f, spec in catalog.fields().items() if spec.dtype in ("float", "int")]
    for path, key in keys:
        if key.indicator is not None and key.indicator not in s.indicators:
            raise _invalid(
                origin,
                f"{path}.indicator",
                Text("schk.undefined_indicator", name=key.indicator),
                catalog.suggest_name(key.indicator, list(s.indicators)),
            )
        if key.field is not None and key.field not in numeric:
            raise _invalid(
                origin,
                f"{path}.field",
                Text("schk.not_numeric", name=key.field),
                catalog.suggest_name(key.field, numeric),
            )
        for j, iid in enumerate(key.items or []):
            if iid not in scored:
                raise _invalid(
                    origin,
                    f"{path}.items[{j}]",
                    Text("schk.not_scored", name=iid),
                    catalog.suggest_name(iid, sorted(scored)),
                )


def _flag_names(text: str) -> set[str]:
    """Any ``flag_<code>`` is a valid boolean field name (data contract)."""
    return set(re.findall(r"\bflag_[a-z0-9_]+\b", text))
