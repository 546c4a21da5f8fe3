"""Plain-text rendering for the terminal (the CLI's templates)."""

from __future__ import annotations

import click

from mujun.catalog import catalog
from mujun.engine.explain import Explanation
from mujun.engine.explain_text import firm_notes, item_note
from mujun.errors import language
from mujun.runs.manifest import class_counts
from mujun.runs.result import Evaluation
from mujun.schemes import LoadedScheme
from mujun.schemes.describe import band_rule, classification_notes


def print_schemes(items: list[LoadedScheme]) -> None:
    for s in items:
        doc = s.scheme.source.document or ""
        groups = "/".join(g.label for g in s.scheme.groups)
        click.echo(
            f"{s.id:<16} {s.scheme.title}\n{'':<16} 来源 {doc}  组别 {groups}  假设 {len(s.scheme.assumptions)} 条"
        )


def _normaliser(item) -> str:  # type: ignore[no-untyped-def]
    nm = item.normalise
    b = nm.benchmark
    text = {"ratio": "与基准值之比", "inverse": "2−x/基准值（不低于0）", "minmax": "极差法", "rank": "排名法"}[
        nm.method
    ]
    if b is not None:
        kinds = {
            "fixed": f"基准 {b.value}",
            "by_year": "按年度公布基准 " + ", ".join(f"{y}:{v}" for y, v in sorted((b.values or {}).items())),
            "mean": f"{'' if b.k == 1 else f'{b.k}×'}{'/'.join(b.scope)}{'上年' if b.year_offset else '当年'}平均值",
            "best": f"{'/'.join(b.scope)}最优值",
        }
        text += f"（{kinds[b.kind]}）"
    if nm.method == "minmax":
        text += f"（{nm.floor:g}+{nm.span:g}×）"
    if item.cap:
        text += f"，上限 {item.cap:g}×权重"
    if item.missing.policy != "zero":
        text += f"，缺失：{item.missing.policy}"
    return text


def print_scheme(loaded: LoadedScheme) -> None:
    s = loaded.scheme
    echo = click.echo
    echo(f"{s.title}  [{s.id}]  sha256 {loaded.sha256[:16]}…")
    echo(f"来源：{s.source.document or ''} {s.source.title}\n      {s.source.url}")
    for g in s.groups:
        cls = s.group_classification(g)
        echo(f"\n■ {g.label}（{g.id}）  条件：{g.when}")
        for it in g.items:
            ind = s.indicators[it.indicator]
            ratio = "/".join(ind.numerator) + (" ÷ " + "+".join(ind.denominator) if ind.denominator else "")
            echo(f"  - {ind.label:<14} 权重 {it.weight:>5g}  {_normaliser(it)}   [{ratio}，{ind.unit}]")
        lang = language()
        echo(f"  分类：{cls.method}，范围 {'/'.join(cls.scope) or '全部'}")
        for b in cls.bands:
            echo(f"    {b.klass}：{band_rule(cls, b, s, lang)}")
        for note in classification_notes(cls, lang):
            echo(f"    {note}")
    for title, rules in (
        ("特殊状态", s.statuses),
        ("加分", s.bonus),
        ("减分", s.penalty),
        ("否决/保护/阈值", s.overrides),
    ):
        if rules:
            echo(f"\n{title}：")
            for r in rules:
                extra = getattr(r, "outcome", None) or getattr(r, "effect", None) or f"{getattr(r, 'points', '')}分"
                klass = getattr(r, "klass", None) or getattr(r, "managed_as", None) or ""
                echo(f"  {r.code:<18} {r.label}  当 {r.when} → {extra} {klass}")
    if s.assumptions:
        echo("\n假设（来源未规定，可修改）：")
        for a in s.assumptions:
            echo(f"  · {a.key} = {a.value}：{a.why}")


def print_evaluation(ev: Evaluation) -> None:
    t = ev.to_arrow()
    counts = class_counts(t)
    statuses: dict[str, int] = {}
    for st in t["status"].to_pylist():
        statuses[st] = statuses.get(st, 0) + 1
    click.echo(f"方案 {ev.scheme.id}（{ev.scheme.sha256[:12]}…） 数据年度 {ev.year}  引擎 {ev.engine}")
    click.echo(
        f"企业 {t.num_rows} 家："
        + "，".join(f"{catalog.status_label(k)} {v}" for k, v in sorted(statuses.items()))
        + "；类别 "
        + " ".join(f"{k}:{v}" for k, v in sorted(counts.items()))
    )
    for w in ev.warnings:
        click.echo(f"提示：{w}")


def _fmt(v: float | None, digits: int = 4) -> str:
    return "—" if v is None else f"{v:,.{digits}f}".rstrip("0").rstrip(".")


def print_explanation(ex: Explanation) -> None:
    echo = click.echo
    echo(f"{ex.name}（{ex.uscc}） {ex.year} 年度  组别 {ex.group}  状态 {catalog.status_label(ex.status)}")
    echo(f"类别 {ex.klass or '—'}  排名 {ex.rank or '—'}/{ex.scope_n or '—'}  综合得分 {_fmt(ex.total_score, 2)}")
    echo(f"加分 {_fmt(ex.bonus_points, 2)}  减分 {_fmt(ex.penalty_points, 2)}  原因 {';'.join(ex.reason_codes) or '—'}")
    for it in ex.items:
        echo(
            f"  {it.label:<14} 值 {_fmt(it.value)} {it.unit}  基准 {_fmt(it.benchmark)}  "
            f"得分 {_fmt(it.points, 2)} / 权重 {it.weight:g}"
        )
    if ex.cutoffs:
        echo("分数线：" + "  ".join(f"{c['class']} {c['firms']}家 ≥{_fmt(c['min_score'], 2)}" for c in ex.cutoffs))
    lang = language()
    for sentence in firm_notes(ex, lang):
        echo(sentence)
    if ex.next_class and ex.needed_points is not None and not ex.blocked_by:
        echo(f"升入 {ex.next_class} 类需再得 {_fmt(ex.needed_points, 2)} 分：")
        for imp in ex.improvements:
            note = item_note(imp, lang)
            if imp.feasible:
                echo(f"  - {imp.label}：{_fmt(imp.current)} → {_fmt(imp.target)}（变化 {_fmt(imp.change)}） {note}")
            else:
                echo(f"  - {imp.label}：{note}")
