"""Checks of canonical input done by Spark, where the data lives: the cluster path of ``mujun evaluate``.

The file path (:mod:`mujun.data.canonical`) reads CSV text on one machine, parses every cell (是/否, dates
written many ways, numbers as text) and names each bad cell by its row. A province's or a nation's data
on a cluster is not a CSV a person typed: it is Parquet (or a table) that a pipeline — ``mujun import`` and
its canonical export, or the bureau's own data platform — already wrote with the canonical ids and types.
So this path decides, honestly and simply:

* **names**: the canonical ids of ``catalog/fields.yaml`` (the Chinese labels and aliases are renamed as the
  file path does); other columns are left out, with a note;
* **types are not parsed here**: a number column must be numeric, ``year`` integral, a flag boolean, a date
  a date or timestamp, text anything (cast to text, trimmed, empty = missing). A text column where a number
  or a flag belongs is refused by its type alone (CLUSTER-COLUMN-TYPE), before any job runs: converting
  是/否 or "1,234" belongs upstream, or to ``mujun evaluate --input FILE`` on one machine;
* **required columns** follow the scheme exactly as on the file path (a missing flag column is all-missing,
  with a note; ``land_mu`` and ``emission_t`` may be derived from their parts);
* **cells** are checked in ONE aggregation pass, every rule of the file path: NaN (CLUSTER-NAN; never taken
  for missing), outside the field's domain (CLUSTER-DOMAIN: negative amounts, infinities, magnitudes above
  the catalogue's bound), empty identity cells (CLUSTER-EMPTY), USCCs invalid per GB 32100-2015 after the
  same normalisation (CLUSTER-USCC) — then one grouping for codes twice in a year (CLUSTER-DUPLICATE).
  A distributed table has no row numbers, so each problem gives the number of cells and one example
  named by its USCC and year (the smallest, so a message is the same on every run);
* USCC normalisation: full-width forms to ASCII (NFKC's effect on the characters a code can hold),
  every Unicode space and zero-width mark removed, upper case — :func:`mujun.catalog.uscc.normalise` on
  the characters that matter; a code that needs more than that is reported invalid, never guessed.

The same pass counts the rows, lists the years and forms an order-independent fingerprint of the typed
input (the XOR of each row's ``xxhash64`` — rows are distinct once duplicates are refused; a cluster cannot
afford the file path's sorted sha256). Costs, measured on 1,000,000 rows (docs/scale.md): the checks take
about a fifth of the executors' CPU of an evaluation; trimming by a character set (not a regex) and a
plain-code fast path for USCCs halved them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mujun.catalog import catalog, uscc
from mujun.catalog.text import Text
from mujun.errors import InputError, Problem, language

FULL_WIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F))
HALF_WIDTH = "".join(chr(c) for c in range(0x21, 0x7F))
SPACES = r"(?U)[\s\x{200b}\x{200c}\x{200d}\x{2060}\x{feff}]"  # Java regex: Unicode spaces, zero-width marks
WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())  # what str.strip() removes (none above)
PLAIN = r"^[0-9A-Z]{18}$"  # nearly every code: no normalising needed (the file path's fast path too)
DERIVABLE = {"land_mu": ("land_own_mu",), "emission_t": ("cod_t", "ammonia_t", "so2_t", "nox_t")}  # as data/
EXPECTED = {"float": "double", "int": "bigint", "bool": "boolean", "date": "date", "text": "string"}


@dataclass
class Checked:
    """The typed canonical frame (lazy: Spark reads the input again when it is evaluated) and its facts."""

    frame: Any
    rows: int
    years: list[int]
    fingerprint: str
    warnings: list[str] = field(default_factory=list)


def _lookup() -> dict[str, str]:
    """Header → canonical id: ids, Chinese labels and aliases (the file path's ``_rename_headers``)."""
    out: dict[str, str] = {}
    for f in catalog.fields().values():
        for key in (f.id, f.zh, *f.aliases):
            out.setdefault(key, f.id)
    return out


def _typed(col: Any, kind: Any, f: catalog.Field) -> Any | None:
    """``col`` (of Spark type ``kind``) as the field's canonical type, or None when the type cannot be."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if isinstance(kind, T.NullType):
        return col.cast(EXPECTED[f.dtype])
    if f.dtype == "text":
        if isinstance(kind, T.StringType | T.NumericType | T.BooleanType | T.DateType | T.VarcharType | T.CharType):
            text = F.btrim(col.cast("string"), F.lit(WHITESPACE))  # a character set, not a regex: 2x cheaper
            return F.when(text != "", text)
        return None
    ok = {
        "float": (T.NumericType,),
        "int": (T.IntegralType,),
        "bool": (T.BooleanType,),
        "date": (T.DateType, T.TimestampType, T.TimestampNTZType),
    }[f.dtype]
    return col.cast(EXPECTED[f.dtype]) if isinstance(kind, ok) else None


def _columns(df: Any, required: set[str], source: str, scheme_id: str) -> tuple[dict[str, Any], list[str]]:
    """Canonical name → typed Column; refuses (InputError) a column of the wrong type or a missing one."""
    from pyspark.sql import functions as F

    lookup = _lookup()
    columns: dict[str, Any] = {}
    warnings: list[str] = []
    problems: list[Problem] = []
    for spark_field in df.schema.fields:
        raw = spark_field.name
        name = lookup.get(raw.strip(), raw.strip())
        f = catalog.field(name)
        if f is None:
            warnings.append(Text("rd.ignored_column", name=raw))
            continue
        typed = _typed(F.col(f"`{raw}`"), spark_field.dataType, f)
        if typed is None:
            problems.append(
                Problem(
                    code="CLUSTER-COLUMN-TYPE",
                    file=source,
                    column=raw,
                    details={"found": spark_field.dataType.simpleString(), "expected": EXPECTED[f.dtype]},
                )
            )
            continue
        columns[name] = typed
    for name in sorted(required - set(columns)):
        f = catalog.field(name)
        if f is not None and f.dtype == "bool" and not f.required:
            columns[name] = F.lit(None).cast("boolean")
            warnings.append(Text("rd.no_bool_column", name=name, label=catalog.label(name, language())))
            continue
        if any(d in columns for d in DERIVABLE.get(name, ())):
            continue
        close = catalog.suggest_name(name, df.columns)
        problems.append(
            Problem(
                code="MISSING-COLUMN",
                file=source,
                column=name,
                details={
                    "label": catalog.label(name, language()),
                    "scheme": scheme_id,
                    "suggestion": Text("rd.close_column", name=close) if close else "",
                },
            )
        )
    if problems:
        raise InputError("INPUT-INVALID", problems=problems, file=source)
    return columns, warnings


def normalised_uscc(col: Any) -> Any:
    """The USCC as :func:`mujun.catalog.uscc.normalise` writes it (see the module docstring)."""
    from pyspark.sql import functions as F

    slow = F.upper(F.regexp_replace(F.translate(col, FULL_WIDTH, HALF_WIDTH), SPACES, ""))
    return F.when(col.rlike(PLAIN), col).otherwise(slow)


def valid_uscc(name: str) -> Any:
    """True where column ``name`` (normalised) is a valid USCC: 18 characters of the set and the check
    character ``(31 - Σ v_i·w_i mod 31) mod 31`` (:mod:`mujun.catalog.uscc`)."""
    from pyspark.sql import functions as F

    chars = uscc.CHARSET
    total = " + ".join(f"(instr('{chars}', substr({name}, {i + 1}, 1)) - 1) * {w}" for i, w in enumerate(uscc.WEIGHTS))
    check = f"substr('{chars}', ((31 - ({total}) % 31) % 31) + 1, 1)"
    return F.expr(f"{name} rlike '^[{chars}]{{18}}$' AND substr({name}, 18, 1) = {check}")


def _rules(names: dict[str, Any]) -> list[tuple[str, str, Any, Any]]:
    """(code, column, bad-cell condition, shown value) of every cell rule, on the typed frame's columns."""
    from pyspark.sql import functions as F

    rules: list[tuple[str, str, Any, Any]] = []
    for name in names:
        f = catalog.field(name)
        if f is None or f.dtype not in ("float", "int"):
            continue
        c = F.col(name)
        nan = F.isnan(c) if f.dtype == "float" else F.lit(False)
        if f.dtype == "float":
            rules.append(("CLUSTER-NAN", name, nan, c.cast("string")))
        outside = F.lit(False)
        if f.min is not None:
            outside = outside | (c < F.lit(f.min))
        if f.max is not None:
            outside = outside | (F.abs(c) > F.lit(f.max))
        rules.append(("CLUSTER-DOMAIN", name, outside & ~nan, c.cast("string")))  # Spark ranks NaN above all
    for name in ("uscc", "name", "year"):
        rules.append(("CLUSTER-EMPTY", name, F.col(name).isNull(), F.lit("")))
    rules.append(("CLUSTER-USCC", "uscc", F.col("uscc").isNotNull() & ~valid_uscc("uscc"), F.col("_uscc_raw")))
    return rules


def _examples(probe: Any, rules: list[tuple[str, str, Any, Any]]) -> list[dict[str, str]]:
    """One example per broken rule — the smallest (USCC, year, value) of its bad cells, so a message is the
    same on every run — in a second pass run only when some rule is broken (the first pass only counts)."""
    from pyspark.sql import functions as F

    if not rules:
        return []
    row = probe.agg(
        *(
            F.min(F.when(bad, F.struct(F.col("uscc").alias("u"), F.col("year").alias("y"), shown.alias("v"))))
            for _, _, bad, shown in rules
        )
    ).collect()[0]
    out = []
    for e in row:
        if e is None:
            out.append({"uscc": "", "year": "", "value": ""})
        else:
            out.append({"uscc": e["u"] or "—", "year": "—" if e["y"] is None else str(e["y"]), "value": e["v"] or ""})
    return out


def check_frame(df: Any, required: set[str], source: str, scheme_id: str) -> Checked:
    """Type ``df`` as canonical input and check every cell on the cluster (module docstring); raise
    InputError INPUT-INVALID listing every rule broken (cells counted, one example each), else the frame."""
    from pyspark.sql import functions as F

    columns, warnings = _columns(df, required, source, scheme_id)
    if "uscc" in columns:
        raw = columns["uscc"]
        columns["uscc"] = normalised_uscc(raw)
    order = [f for f in catalog.fields() if f in columns] + sorted(c for c in columns if c not in catalog.fields())
    frame = df.select(*(columns[c].alias(c) for c in order))
    probe = df.select(*(columns[c].alias(c) for c in order), raw.alias("_uscc_raw")) if "uscc" in columns else frame
    identity = {"uscc", "name", "year"} <= set(columns)
    rules = _rules({c: None for c in order}) if identity else []
    aggs = [F.count(F.lit(1)).alias("rows")]
    if "year" in columns:
        aggs.append(F.collect_set("year").alias("years"))
    aggs.append(F.bit_xor(F.xxhash64(*(F.col(c) for c in order))).alias("fingerprint"))  # rows are distinct
    aggs += [F.count(F.when(bad, 1)).alias(f"n{i}") for i, (_, _, bad, _) in enumerate(rules)]
    facts = probe.agg(*aggs).collect()[0]
    if facts["rows"] == 0:
        raise InputError("NO-DATA", file=source)
    broken = [(i, rule) for i, rule in enumerate(rules) if facts[f"n{i}"]]
    examples = _examples(probe, [rule for _, rule in broken])
    problems: list[Problem] = []
    for (i, (code, column, _, _)), example in zip(broken, examples, strict=True):
        value = example.pop("value")  # Problem.value, which a message reads before its details
        details: dict[str, Any] = {"count": f"{facts[f'n{i}']:,}", **example}
        f = catalog.field(column)
        if code == "CLUSTER-DOMAIN" and f is not None:
            details["domain"] = f.domain_details()["domain"]
        if code == "CLUSTER-USCC":
            details.update(_uscc_details(value))
        problems.append(Problem(code=code, file=source, column=column, value=value, details=details))
    if identity:
        problems += _duplicates(frame, source)
    if problems:
        raise InputError("INPUT-INVALID", problems=problems, file=source)
    years = sorted(int(y) for y in (facts["years"] if "year" in columns else []) if y is not None)
    return Checked(
        frame=frame,
        rows=int(facts["rows"]),
        years=years,
        fingerprint=f"{int(facts['fingerprint'] or 0) & (2**64 - 1):016x}",
        warnings=warnings,
    )


def _uscc_details(raw: str) -> dict[str, Any]:
    """Why the example code is invalid and the valid code one confusable character away, as on the file path."""
    code = uscc.normalise(raw)
    fixes = uscc.suggest(code)
    return {"detail": uscc.problem(code) or "", "suggestion": Text("rd.maybe_uscc", code=fixes[0]) if fixes else ""}


def _duplicates(frame: Any, source: str) -> list[Problem]:
    """(USCC, year) pairs held by more than one row: how many, and the smallest as the example."""
    from pyspark.sql import functions as F

    twice = frame.where(F.col("uscc").isNotNull() & F.col("year").isNotNull()).groupBy("uscc", "year").count()
    twice = twice.where(F.col("count") > 1)
    found = twice.agg(F.count(F.lit(1)).alias("n"), F.min(F.struct("uscc", "year", "count")).alias("e")).collect()[0]
    if not found["n"]:
        return []
    e = found["e"]
    details = {"count": f"{found['n']:,}", "uscc": e["uscc"], "year": str(e["year"]), "times": str(e["count"])}
    return [Problem(code="CLUSTER-DUPLICATE", file=source, column="uscc", details=details)]
