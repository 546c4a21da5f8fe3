"""The repetitive parts of the results page as HTML built in Python: the table's body rows (up to 200 × 14
cells), its sortable column heads and the filter drop-downs (~220 options). Through Jinja's conditionals,
macros and loops they cost ~2.5 ms per page, here ~0.5 ms; ``results.html`` calls them as
``results_rows.rows(…)``, ``results_rows.heads(…)`` and ``results_rows.options(…)``.

Every value is escaped with :func:`markupsafe.escape`; the formats are the template's: names link to
``/enterprise/<uscc>?year=…&scheme=…``, the class as a badge titled with its label, status and industry
chain and group by their labels, money in 万元 with one decimal (the header names the unit), scores/ratios/land
with 2 decimals and other numbers whole (:func:`mujun.web.formats.num`), reason codes by their short names
(full texts as the title; :func:`mujun.web.labels.reason_label`), "—" for missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from mujun.catalog import catalog, industries
from mujun.web import formats
from mujun.web.i18n import translate

TWO_DECIMALS = ("total_score", "tax_per_mu", "land_mu")
# places' own names, kept as written in every language and marked so (as macros.html zh_name does)
NAMES = ("county", "town")
ZH = ' lang="zh-CN" translate="no"'
DASH = formats.DASH


def _labeller(label: Callable[[str], str]) -> Callable[[Any], str]:
    """``label`` escaped and remembered for this page (labels come from a handful of codes)."""
    seen: dict[Any, str] = {}

    def cell(v: Any) -> str:
        got = seen.get(v)
        if got is None:
            got = seen[v] = str(escape(label(v)))
        return got

    return cell


def _chain(lang: str) -> Callable[[str], str]:
    return lambda cid: ch.label(lang) if (ch := industries.chain(cid)) else cid


def _escaped(texts: list[str]) -> list[str]:
    """``escape(t)`` for each text, in one call of :func:`markupsafe.escape` on the texts joined by NUL
    (escaping leaves NUL alone; a text containing NUL is escaped on its own)."""
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        return [str(escape(t)) for t in texts]
    return str(escape(joined)).split("\x00")


def _reasons(codes: Any, known: Mapping[str, Sequence[str]], lang: str) -> str:
    """The reason codes of one row by their short names, the full texts as the cell's title."""
    got = [known.get(c) or (c, c) for c in str(codes or "").split(";") if c]
    if not got:
        return '<td class="reasons"></td>'
    sep = translate("pm.reason.sep", lang)
    short, full = escape(sep.join(g[0] for g in got)), escape(sep.join(g[1] for g in got))
    return f'<td class="reasons" title="{full}">{short}</td>'


def _column(
    column: str, numeric: bool, rows: Sequence[dict[str, Any]], lang: str, link: str, labels: Mapping[str, Any]
) -> list[str]:
    """The ``<td>`` of one column for every row (a column at a time; values escaped a column at a time)."""
    vals = [row.get(column) for row in rows]
    num = formats.num
    if column == "name":
        usccs = _escaped([str(row.get("uscc")) for row in rows])
        names = _escaped([str(v) for v in vals])
        return [
            f'<td class="name"><a href="/enterprise/{u}{link}" title="{v}"{ZH}>{v}</a></td>'
            for u, v in zip(usccs, names, strict=True)
        ]
    if column == "group":
        groups = labels.get("group", {})
        return [f"<td>{e}</td>" for e in _escaped([groups.get(v, v) if v else DASH for v in vals])]
    if column == "class":
        title = _labeller(lambda k: catalog.class_label(k, lang))
        text = _escaped([str(k) for k in vals])
        return [
            f'<td><span class="badge c{e}" title="{title(k)}">{e}</span></td>'
            if k
            else f'<td><span class="muted">{DASH}</span></td>'
            for k, e in zip(vals, text, strict=True)
        ]
    if column in ("status", "industry_chain"):
        label = _labeller((lambda s: catalog.status_label(s, lang)) if column == "status" else _chain(lang))
        return [f"<td>{label(v) if v else DASH}</td>" for v in vals]
    if column == "reason_codes":
        return [_reasons(v, labels.get("reasons", {}), lang) for v in vals]
    if column == "revenue_10k_yuan":
        texts = [num(v, 1) for v in vals]  # 万元 throughout: the header carries the unit
    elif column in TWO_DECIMALS:
        texts = [num(v, 2) for v in vals]
    elif numeric:
        texts = [num(v) for v in vals]
    else:
        own = ZH if column in NAMES else ""
        return [f"<td{own}>{e}</td>" for e in _escaped([DASH if v is None else str(v) for v in vals])]
    return [f'<td class="n">{e}</td>' for e in _escaped(texts)]


def rows(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[dict[str, Any]],
    *,
    year: Any,
    scheme: Any,
    lang: str,
    empty: str,
    labels: Mapping[str, Any] | None = None,
) -> Markup:
    """``<tr>…</tr>`` per row over ``columns`` (dicts with ``id`` and ``numeric``, as the page lists them);
    one row saying ``empty`` across every column when there is none."""
    if not rows:
        return Markup(f'<tr><td colspan="{len(columns)}" class="muted">{escape(empty)}</td></tr>\n')
    link = f"?year={escape(year)}&amp;scheme={escape(scheme)}"
    cells = [_column(str(c["id"]), bool(c["numeric"]), rows, lang, link, labels or {}) for c in columns]
    return Markup("".join(["<tr>" + "".join(row) + "</tr>\n" for row in zip(*cells, strict=True)]))


HX = 'hx-target="#results" hx-select="#results" hx-swap="outerHTML" hx-push-url="true"'


def heads(columns: Sequence[dict[str, Any]], sort: str, direction: str, url: Callable[..., str]) -> Markup:
    """One ``<th>`` per column: a link sorting by it (numbers start descending, text ascending; the active
    column flips), ``aria-sort`` and an arrow on the active one; ``url`` is the page's ``url_with``."""
    out = []
    for c in columns:
        active = sort == c["id"]
        next_dir = "asc" if active and direction == "desc" else ("desc" if active or c["numeric"] else "asc")
        aria = ("descending" if direction == "desc" else "ascending") if active else "none"
        arrow = (" ▼" if direction == "desc" else " ▲") if active else ""
        href = escape(url(sort=c["id"], dir=next_dir, page=1))
        klass = ' class="n"' if c["numeric"] else ""
        out.append(
            f'<th{klass} aria-sort="{aria}">'
            f'<a href="{href}" hx-get="{href}" {HX}>{escape(c["label"])}{arrow}</a></th>\n'
        )
    return Markup("".join(out))


_OPTIONS: dict[tuple[Any, ...], list[tuple[str, str, str]]] = {}


def options(
    key: str, values: Sequence[str], selected: Any, lang: str, named: Mapping[str, str] | None = None
) -> Markup:
    """The ``<option>`` of each facet value (``selected`` marked), labelled as the filter shows it: class,
    status and industry chain by their labels, ``named`` values (groups: the scheme's labels) by those, other
    values as they are."""
    memo = (key, lang, tuple(values), tuple(sorted((named or {}).items())))
    pieces = _OPTIONS.get(memo)
    if pieces is None:
        label: Callable[[str], str] = {
            "class": lambda v: catalog.class_label(v, lang),
            "status": lambda v: catalog.status_label(v, lang),
            "industry": _chain(lang),
        }.get(key, (lambda v: (named or {}).get(v, v)))
        own = ZH if key in NAMES else ""
        pieces = [(v, f'<option value="{escape(v)}"{own}', f">{escape(label(v))}</option>\n") for v in values]
        if len(_OPTIONS) > 256:
            _OPTIONS.clear()
        _OPTIONS[memo] = pieces
    return Markup("".join([head + (" selected" if v == selected else "") + tail for v, head, tail in pieces]))
