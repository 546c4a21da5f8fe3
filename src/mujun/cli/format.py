"""Plain-text rendering for the terminal (the CLI's templates)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from mujun.catalog import catalog
from mujun.catalog.text import translate
from mujun.errors import language

if TYPE_CHECKING:  # imported where used: `mujun --version` and `--help` stay light (issue 13)
    from mujun.engine.explain import Explanation
    from mujun.runs.manifest import Summary
    from mujun.runs.result import Evaluation
    from mujun.schemes import LoadedScheme
    from mujun.schemes.model import Scheme


def tr(key: str, /, **values: object) -> str:
    """The catalogue text of ``key`` in the process language (MUJUN_LANG), filled with ``values``."""
    return translate(key, language(), **values)


def _en(obj, attr: str = "label") -> str:  # type: ignore[no-untyped-def]
    """A scheme's own words: the English variant (``label_en``, ``title_en``) under MUJUN_LANG=en when given."""
    own = getattr(obj, attr)
    return (getattr(obj, f"{attr}_en", None) or own) if language() == "en" else own


def print_schemes(items: list[LoadedScheme]) -> None:
    for s in items:
        doc = s.scheme.source.document or ""
        groups = "/".join(_en(g) for g in s.scheme.groups)
        line = tr("cli.schemes.line", pad="", doc=doc, groups=groups, n=len(s.scheme.assumptions))
        click.echo(f"{s.id:<16} {_en(s.scheme, 'title')}\n{line}")


def _normaliser(item) -> str:  # type: ignore[no-untyped-def]
    nm = item.normalise
    b = nm.benchmark
    text = tr(f"cli.norm.{nm.method}")
    if b is not None:
        scope = "/".join(b.scope)
        if b.kind == "fixed":
            bench = tr("cli.norm.fixed", value=b.value)
        elif b.kind == "by_year":
            bench = tr("cli.norm.by_year", values=", ".join(f"{y}:{v}" for y, v in sorted((b.values or {}).items())))
        elif b.kind == "mean":
            when = tr("cli.norm.prior_year" if b.year_offset else "cli.norm.same_year")
            bench = tr("cli.norm.mean", k="" if b.k == 1 else f"{b.k}×", scope=scope, when=when)
        else:
            bench = tr("cli.norm.best", scope=scope)
        text += tr("cli.norm.benchmark", text=bench)
    if nm.method == "minmax":
        text += tr("cli.norm.span", floor=f"{nm.floor:g}", span=f"{nm.span:g}")
    if item.cap:
        text += tr("cli.norm.cap", cap=f"{item.cap:g}")
    if item.missing.policy != "zero":
        text += tr("cli.norm.missing", policy=item.missing.policy)
    return text


def print_scheme(loaded: LoadedScheme) -> None:
    from mujun.schemes.describe import band_rule, classification_notes

    s = loaded.scheme
    echo = click.echo
    lang = language()
    echo(f"{_en(s, 'title')}  [{s.id}]  sha256 {loaded.sha256[:16]}…")
    echo(tr("cli.scheme.source", document=s.source.document or "", title=s.source.title, url=s.source.url))
    for g in s.groups:
        cls = s.group_classification(g)
        echo(tr("cli.scheme.group", label=_en(g), id=g.id, when=g.when))
        for it in g.items:
            ind = s.indicators[it.indicator]
            ratio = "/".join(ind.numerator) + (" ÷ " + "+".join(ind.denominator) if ind.denominator else "")
            echo(
                tr(
                    "cli.scheme.item",
                    label=_en(ind),
                    weight=it.weight,
                    norm=_normaliser(it),
                    ratio=ratio,
                    unit=catalog.unit_label(ind.unit, lang),
                )
            )
        scope = "/".join(cls.scope) or tr("cli.scheme.all")
        echo(tr("cli.scheme.classes", method=cls.method, scope=scope))
        for b in cls.bands:
            echo(f"    {b.klass}{tr('cli.colon')}{band_rule(cls, b, s, lang)}")
        for note in classification_notes(cls, lang):
            echo(f"    {note}")
    for title, rules in (
        ("statuses", s.statuses),
        ("bonus", s.bonus),
        ("penalty", s.penalty),
        ("overrides", s.overrides),
    ):
        if rules:
            echo(tr("cli.scheme.rules", title=tr(f"cli.scheme.{title}")))
            for r in rules:
                points = tr("cli.scheme.points", points=getattr(r, "points", ""))
                extra = getattr(r, "outcome", None) or getattr(r, "effect", None) or points
                klass = getattr(r, "klass", None) or getattr(r, "managed_as", None) or ""
                echo(tr("cli.scheme.rule", code=r.code, label=_en(r), when=r.when, extra=extra, klass=klass))
    if s.assumptions:
        echo(tr("cli.scheme.assumptions"))
        for a in s.assumptions:
            echo(tr("cli.scheme.assumption", name=a.key, value=a.value, why=a.why))


def print_evaluation(ev: Evaluation | Summary) -> None:
    """The result's head line, firms by status and class, and the input's warnings."""
    from mujun.runs.manifest import Summary, summarise

    s = ev if isinstance(ev, Summary) else summarise(ev.to_arrow(), ev)
    lang = language()
    click.echo(tr("cli.ev.head", scheme=s.scheme_id, sha=s.scheme_sha256[:12], year=s.year, engine=s.engine))
    click.echo(
        tr(
            "cli.ev.firms",
            n=s.firms,
            statuses=tr("cli.sep").join(f"{catalog.status_label(k, lang)} {v}" for k, v in sorted(s.statuses.items())),
            classes=" ".join(f"{k}:{v}" for k, v in sorted(s.classes.items())),
        )
    )
    for w in s.warnings:
        click.echo(tr("cli.ev.warning", warning=w))


def _fmt(v: float | None, digits: int = 4) -> str:
    return "—" if v is None else f"{v:,.{digits}f}".rstrip("0").rstrip(".")


def print_explanation(ex: Explanation, scheme: Scheme | None = None) -> None:
    from mujun.engine.explain_text import firm_notes, item_note

    """The explanation in the process language; ``scheme`` gives the indicators' English labels."""
    echo = click.echo
    lang = language()
    inds = scheme.indicators if scheme is not None else {}

    def label(indicator: str, own: str) -> str:
        return _en(inds[indicator]) if indicator in inds else own

    status = catalog.status_label(ex.status, lang)
    echo(tr("cli.ex.head", name=ex.name, uscc=ex.uscc, year=ex.year, group=ex.group, status=status))
    echo(
        tr(
            "cli.ex.class",
            klass=ex.klass or "—",
            rank=ex.rank or "—",
            n=ex.scope_n or "—",
            score=_fmt(ex.total_score, 2),
        )
    )
    reasons = ";".join(ex.reason_codes) or "—"
    echo(tr("cli.ex.bonus", bonus=_fmt(ex.bonus_points, 2), penalty=_fmt(ex.penalty_points, 2), reasons=reasons))
    for it in ex.items:
        echo(
            tr(
                "cli.ex.item",
                label=label(it.indicator, it.label),
                value=_fmt(it.value),
                unit=catalog.unit_label(it.unit, lang),
                benchmark=_fmt(it.benchmark),
                points=_fmt(it.points, 2),
                weight=it.weight,
            )
        )
    if ex.cutoffs:
        cuts = "  ".join(
            tr("cli.ex.cut", klass=c["class"], firms=c["firms"], min=_fmt(c["min_score"], 2)) for c in ex.cutoffs
        )
        echo(tr("cli.ex.cutoffs", cuts=cuts))
    for sentence in firm_notes(ex, lang):
        echo(sentence)
    if ex.next_class and ex.needed_points is not None and not ex.blocked_by:
        echo(tr("cli.ex.next", klass=ex.next_class, points=_fmt(ex.needed_points, 2)))
        for imp in ex.improvements:
            note = item_note(imp, lang)
            name = label(imp.indicator, imp.label)
            if imp.feasible:
                change = _fmt(imp.change)
                echo(
                    tr(
                        "cli.ex.improve",
                        label=name,
                        current=_fmt(imp.current),
                        target=_fmt(imp.target),
                        change=change,
                        note=note,
                    )
                )
            else:
                echo(tr("cli.ex.improve_none", label=name, note=note))


def _local(iso: str) -> str:
    """A manifest's UTC time (``…Z``) in this machine's time zone, to the second."""
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


def print_runs(docs: list[dict[str, Any]], stale: dict[str, Any]) -> None:
    """``runs list``: a header row, then one aligned row per run (local time, classes, stale mark)."""
    if not docs:
        click.echo(tr("cli.runs.none"))
        return
    rows = [tr("cli.runs.head").split("|")]
    for d in docs:
        classes = " ".join(f"{k}:{v:,}" for k, v in sorted(d["classes"].items()))
        mark = tr("cli.runs.stale", change=stale[d["run_id"]]).strip() if d["run_id"] in stale else ""
        rows.append([d["run_id"], _local(d["started_at"]), d["scheme"]["id"], str(d["year"]), d["engine"],
                     f"{d['firms']:,}", f"{classes} {mark}".strip()])  # fmt: skip
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        click.echo("  ".join(_pad(c, w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])


def print_run(doc: dict[str, Any]) -> None:
    """``runs show``: the manifest in a few readable lines (``--json`` gives all of it)."""
    import datetime as dt

    echo = click.echo
    s, inp = doc["scheme"], doc.get("input", {})
    echo(tr("cli.runs.show.run", run=doc["run_id"]))
    echo(tr("cli.runs.show.scheme", title=s.get("title", ""), id=s["id"], sha=str(s.get("sha256", ""))[:12]))
    echo(tr("cli.runs.show.year", year=doc["year"], engine=doc["engine"], version=doc.get("package_version", "")))
    try:
        began = dt.datetime.fromisoformat(doc["started_at"].replace("Z", "+00:00"))
        ended = dt.datetime.fromisoformat(doc["finished_at"].replace("Z", "+00:00"))
        seconds = f"{(ended - began).total_seconds():.2f}"
    except (KeyError, ValueError):
        seconds = "—"
    echo(tr("cli.runs.show.time", start=_local(doc["started_at"]), seconds=seconds))
    years = inp.get("years") or []
    span = f"{years[0]}–{years[-1]}" if len(years) > 1 else "".join(map(str, years))
    echo(tr("cli.runs.show.input", rows=f"{inp.get('rows', 0):,}", years=span, source=inp.get("source", ""),
            sha=str(inp.get("sha256", ""))[:12]))  # fmt: skip
    classes = "  ".join(f"{k} {v:,}" for k, v in sorted(doc.get("classes", {}).items()))
    echo(tr("cli.runs.show.firms", n=f"{doc.get('firms', 0):,}", classes=classes))
    if doc.get("final_of"):
        echo(tr("cli.runs.show.final", draft=doc["final_of"], n=len(doc.get("objections", {}))))
    if doc.get("warnings"):
        echo(tr("cli.runs.show.warnings"))
        for w in doc["warnings"]:
            echo(f"    {w}")
    echo(tr("cli.runs.show.json"))


def _width(text: str) -> int:
    """Display width: a CJK character takes two columns in a terminal."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
