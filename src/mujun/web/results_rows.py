"""The repetitive parts of the results page as HTML built in Python: the table's body rows (up to 200 × 14
cells), its sortable column heads and the filter drop-downs (~220 options). Through Jinja's conditionals,
macros and loops they cost ~2.5 ms per page, here ~0.5 ms; ``results.html`` calls them as
``results_rows.rows(…)``, ``results_rows.heads(…)`` and ``results_rows.options(…)``.

Every value is escaped with :func:`markupsafe.escape`; the formats are the template's: names link to
``/enterprise/<uscc>?year=…&scheme=…``, the class as a badge titled with its label, status and industry
chain by their labels, money via :func:`mujun.web.formats.money`, scores/ratios/land with 2 decimals and
other numbers whole (:func:`mujun.web.formats.num`), reason codes separated by spaces, "—" for missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from markupsafe import Markup, escape

from mujun.catalog import catalog, industries
from mujun.web import formats

TWO_DECIMALS = ("total_score", "tax_per_mu", "land_mu")
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


def _column(column: str, numeric: bool, rows: Sequence[dict[str, Any]], lang: str, link: str) -> list[str]:
    """The ``<td>`` of one column for every row (a column at a time; values escaped a column at a time)."""
    vals = [row.get(column) for row in rows]
    num, money = formats.num, formats.money
    if column == "name":
        usccs = _escaped([str(row.get("uscc")) for row in rows])
        names = _escaped([str(v) for v in vals])
        return [f'<td><a href="/enterprise/{u}{link}">{v}</a></td>' for u, v in zip(usccs, names, strict=True)]
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
        return [f'<td class="codes">{e}</td>' for e in _escaped([(v or "").replace(";", " ") for v in vals])]
    if column == "revenue_10k_yuan":
        texts = [money(v, lang=lang) for v in vals]
    elif column in TWO_DECIMALS:
        texts = [num(v, 2) for v in vals]
    elif numeric:
        texts = [num(v) for v in vals]
    else:
        return [f"<td>{e}</td>" for e in _escaped([DASH if v is None else str(v) for v in vals])]
    return [f'<td class="n">{e}</td>' for e in _escaped(texts)]


def rows(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[dict[str, Any]],
    *,
    year: Any,
    scheme: Any,
    lang: str,
    empty: str,
) -> Markup:
    """``<tr>…</tr>`` per row over ``columns`` (dicts with ``id`` and ``numeric``, as the page lists them);
    one row saying ``empty`` across every column when there is none."""
    if not rows:
        return Markup(f'<tr><td colspan="{len(columns)}" class="muted">{escape(empty)}</td></tr>\n')
    link = f"?year={escape(year)}&amp;scheme={escape(scheme)}"
    cells = [_column(str(c["id"]), bool(c["numeric"]), rows, lang, link) for c in columns]
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


def options(key: str, values: Sequence[str], selected: Any, lang: str) -> Markup:
    """The ``<option>`` of each facet value (``selected`` marked), labelled as the filter shows it: class,
    status and industry chain by their labels, other values as they are."""
    memo = (key, lang, tuple(values))
    pieces = _OPTIONS.get(memo)
    if pieces is None:
        label: Callable[[str], str] = {
            "class": lambda v: catalog.class_label(v, lang),
            "status": lambda v: catalog.status_label(v, lang),
            "industry": _chain(lang),
        }.get(key, str)
        pieces = [(v, f'<option value="{escape(v)}"', f">{escape(label(v))}</option>\n") for v in values]
        if len(_OPTIONS) > 256:
            _OPTIONS.clear()
        _OPTIONS[memo] = pieces
    return Markup("".join([head + (" selected" if v == selected else "") + tail for v, head, tail in pieces]))
