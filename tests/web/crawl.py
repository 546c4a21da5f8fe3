"""What a person reads on a page, checked in the browser (issue 14): the crawl's checker functions.

:func:`check_page` looks at an open Playwright page and returns its :class:`Violation` s:

* ``overflow``: the page scrolls sideways (``scrollWidth > innerWidth``); the example names the elements that
  stick out first (each one whose parent still fits);
* ``raw-code``: a code of the catalogue or of a scheme shown as it is stored (a status like ``graded``, a
  group like ``above_scale``, an industry id like ``chemicals``, a rule code like ``VETO-SAFETY``, a field id
  like ``tax_10k_yuan``, a department like ``tax``), an engine code (``MISSING(``), a filter string
  (``group=above_scale|``); not inside an element marked ``translate="no"`` (a name: an account named ``tax``);
* ``internal``: ``.yaml``, a server path, a CLI instruction (``mujun users``), a Python repr (``<built-in``,
  ``object at 0x``), an ISO timestamp (``2026-12-03T15:20:24``);
* ``cjk-in-en``: Chinese in English mode outside a name marked ``lang="zh"`` / ``lang="zh-CN"``
  (``zh_name`` in templates/macros.html);
* ``bar-axis``: an ECharts bar series whose value axis starts above 0 (bars whose length lies).

:func:`page_routes` lists the app's GET page routes (read from the app, so a page added later is crawled too)
and :func:`crawl_paths` fills in their parameters.

Plain English words among the codes (``graded``, ``wood``) are only looked for in Chinese mode, where no
English word belongs; codes with ``_``, ``-`` or capitals are looked for in both languages.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from importlib import resources
from typing import Any
from urllib.parse import quote

import yaml

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff5e]")
RUN_ID = re.compile(r"(?<!\d)\d{8}T\d{6}")  # a stored run's id (20261203T152024…): a page names a run by its time
INTERNAL = (
    ("yaml file", re.compile(r"\.ya?ml\b")),
    ("server path", re.compile(r"(?<![\w.])/(?:home|tmp|work|var|root|srv|opt)/|[A-Za-z]:\\")),
    ("relative path", re.compile(r"(?<![\w.])\.\./\w")),
    ("python repr", re.compile(r"<built-in|<bound method|object at 0x|<function ")),
    ("ISO timestamp", re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")),
    ("engine code", re.compile(r"\b(?:MISSING|BENCHMARK-MISSING|ZERO-VALUE)\(|\bNO-GROUP\b")),
    ("filter string", re.compile(r"\b[a-z_]+=[^\s|=]+\|")),
    ("traceback", re.compile(r"Traceback \(most recent call last\)|Internal Server Error")),
    ("run id", RUN_ID),
    ("import id", re.compile(r"(?<![A-Za-z0-9_])imp-\d")),
    ("python None", re.compile(r"(?<![A-Za-z0-9_-])None(?![A-Za-z0-9_-])")),
)

NOT_PAGES = re.compile(r"\.\w+$|/download$|/files/|^/(logout|callback)$")  # a file, a twin, a download


@dataclasses.dataclass(frozen=True)
class Violation:
    page: str
    width: int
    lang: str
    kind: str
    example: str

    def __str__(self) -> str:
        return f"{self.page}  {self.width}px  {self.lang}  {self.kind}: {self.example}"


def _yaml(name: str) -> Any:
    return yaml.safe_load(resources.files("mujun").joinpath(f"catalog/{name}").read_text(encoding="utf-8"))


@functools.cache
def raw_codes() -> tuple[frozenset[str], frozenset[str]]:
    """(plain lowercase words looked for in Chinese mode only, codes looked for in both languages), from the
    catalogue (statuses, fields, industry chains), the import specs (departments) and the built-in schemes
    (groups, indicators, rule codes)."""
    from mujun import schemes

    fields = _yaml("fields.yaml")
    codes: set[str] = set(fields["statuses"])
    codes |= {f["id"] for f in fields["fields"] if "_" in f["id"]}  # not `county`, `town`: also account names
    codes |= {c["id"] for c in _yaml("industries.yaml")["chains"]}
    for sid in schemes.builtin_ids():
        s = schemes.load(sid).scheme
        codes |= {g.id for g in s.groups}
        codes |= set(s.indicators)
        for rules in (s.overrides, s.bonus, s.penalty, s.awards):
            codes |= {str(code) for r in rules or () if (code := getattr(r, "code", None))}
    codes = {c for c in codes if len(c) >= 4 and c.isascii()}
    specs = resources.files("mujun").joinpath("ingest/specs")  # the departments' codes: `tax`, `stats`, …
    codes |= {
        str(yaml.safe_load(f.read_text(encoding="utf-8"))["id"]) for f in specs.iterdir() if f.name.endswith(".yaml")
    }
    plain = frozenset(c for c in codes if re.fullmatch(r"[a-z]+", c))
    return plain, frozenset(codes - plain)


@functools.cache
def _code_pattern(zh: bool) -> re.Pattern[str]:
    plain, marked = raw_codes()
    words = sorted(marked | plain if zh else marked, key=len, reverse=True)
    return re.compile(r"(?<![\w./(=-])(?:" + "|".join(map(re.escape, words)) + r")(?![\w(-])")


@functools.cache
def cli_pattern() -> re.Pattern[str]:
    """``mujun <command>`` for the CLI's own commands (an instruction to run something on the server)."""
    import click

    from mujun.cli import cli

    names = sorted(cli.list_commands(click.Context(cli)), key=len, reverse=True)
    return re.compile(r"\bmujun (?:" + "|".join(map(re.escape, names)) + r")\b")


def _snippet(text: str, start: int, end: int) -> str:
    return " ".join(text[max(0, start - 30) : end + 30].split())


def text_violations(text: str, lang: str, names: str = "") -> list[tuple[str, str]]:
    """(kind, example) for each code, internal or CLI instruction in a page's visible ``text``; ``names`` is
    the text inside elements marked ``translate="no"`` (names, account names: data, not words), which may
    look like a code (an account named ``tax``) but is looked at only for internals."""
    found: list[tuple[str, str]] = []
    for m in _code_pattern(lang == "zh").finditer(text):
        found.append(("raw-code", f"{m.group(0)!r} in …{_snippet(text, m.start(), m.end())}…"))
    for what, pattern in (*INTERNAL, ("CLI instruction", cli_pattern())):
        for where in (text, names):
            for m in pattern.finditer(where):
                found.append(("internal", f"{what} {m.group(0)!r} in …{_snippet(where, m.start(), m.end())}…"))
    return found


def cjk_violations(pieces: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(kind, example) for each visible text piece of an English page with Chinese outside a marked name."""
    found = []
    for p in pieces:
        if not p["zh"] and (m := CJK.search(p["text"])):
            start = max(0, m.start() - 40)
            text = ("…" if start else "") + p["text"][start : start + 90]
            found.append(("cjk-in-en", f"{text!r} in <{p['where']}>"))
    return found


# Visible text nodes with the element that holds them; inside an element marked lang="zh…" (a name) or
# translate="no" (a name, an account name).
_PIECES_JS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    const text = n.textContent.replace(/\\s+/g, ' ').trim();
    if (!text || !el || el.closest('script,style,template,noscript')) { continue; }
    const box = el.closest('select') || el;
    if (!box.checkVisibility({visibilityProperty: true, opacityProperty: false})) { continue; }
    const cls = typeof el.className === 'string' && el.className ? '.' + el.className.split(' ')[0] : '';
    out.push({text: text, where: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls,
              zh: !!el.closest('[lang^="zh"]'), literal: !!el.closest('[translate="no"]')});
  }
  return out;
}"""

# The elements that stick out to the right first (their parent still fits), widest first.
_OVERFLOW_JS = """() => {
  const w = window.innerWidth;
  if (document.documentElement.scrollWidth <= w) { return null; }
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= w + 1) { continue; }
    const parent = el.parentElement;
    if (parent && parent !== document.body && parent.getBoundingClientRect().right > w + 1) { continue; }
    const names = typeof el.className === 'string' ? el.className.trim() : '';
    const cls = names ? '.' + names.split(/\\s+/).join('.') : '';
    const text = (el.innerText || '').replace(/\\s+/g, ' ').trim().slice(0, 40);
    out.push({where: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls, right: Math.round(r.right),
              width: Math.round(r.width), text: text});
  }
  out.sort((a, b) => b.width - a.width);
  return {scroll: document.documentElement.scrollWidth, inner: w, culprits: out.slice(0, 3)};
}"""

# Per chart div: each bar series' value axis, its option min and the extent ECharts drew.
_BARS_JS = """() => {
  const out = [];
  if (!window.echarts) { return out; }
  document.querySelectorAll('[data-chart]').forEach(el => {
    const chart = echarts.getInstanceByDom(el);
    if (!chart) { out.push({chart: el.id, problem: 'not drawn'}); return; }
    const opt = chart.getOption();
    (opt.series || []).forEach((s, i) => {
      if (s.type !== 'bar') { return; }
      for (const dim of ['x', 'y']) {
        const idx = s[dim + 'AxisIndex'] || 0;
        const axis = (opt[dim + 'Axis'] || [])[idx];
        if (!axis || axis.type !== 'value') { continue; }
        let drawn = null;
        try { drawn = chart.getModel().getComponent(dim + 'Axis', idx).axis.scale.getExtent()[0]; } catch (e) {}
        out.push({chart: el.id, series: s.name || String(i), axis: dim, min: axis.min === undefined ? null : axis.min,
                  scale: !!axis.scale, drawn: drawn});
      }
    });
  });
  return out;
}"""


def bar_violations(axes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(kind, example) for each bar series whose value axis begins above 0 (as set, or as drawn)."""
    found = []
    for a in axes:
        if "problem" in a:
            found.append(("bar-axis", f"chart #{a['chart']}: {a['problem']}"))
            continue
        set_min, drawn = a["min"], a["drawn"]
        above = (isinstance(set_min, int | float) and set_min > 0) or set_min == "dataMin"
        if above or (isinstance(drawn, int | float) and drawn > 0):
            found.append(
                (
                    "bar-axis",
                    f"chart #{a['chart']} series {a['series']!r}: {a['axis']}Axis min {set_min!r}, drawn from {drawn}",
                )
            )
    return found


def summarise(found: list[Violation], examples: int = 3) -> str:
    """The violations grouped by page and kind: where (width/language), how many, a few distinct examples."""
    groups: dict[tuple[str, str], list[Violation]] = {}
    for v in found:
        groups.setdefault((v.page, v.kind), []).append(v)
    lines = []
    for (page, kind), vs in sorted(groups.items()):
        where = sorted({f"{v.width}/{v.lang}" for v in vs}, key=lambda w: (int(w.split("/")[0]), w))
        lines.append(f"{page}  [{kind}] ×{len(vs)} at {', '.join(where)}")
        seen: list[str] = []
        for v in vs:
            if v.example not in seen and len(seen) < examples:
                seen.append(v.example)
                lines.append(f"    {v.width}/{v.lang}: {v.example[:300]}")
    return "\n".join(lines)


def check_page(page: Any, name: str, width: int, lang: str) -> list[Violation]:
    """Every violation on the open ``page`` (already loaded, charts drawn)."""
    found: list[tuple[str, str]] = []
    over = page.evaluate(_OVERFLOW_JS)
    if over:
        culprits = "; ".join(
            f"<{c['where']}> {c['width']}px wide to x={c['right']} «{c['text']}»" for c in over["culprits"]
        )
        found.append(("overflow", f"page is {over['scroll']}px wide in {over['inner']}px: {culprits}"))
    pieces = page.evaluate(_PIECES_JS)
    text = " ".join(p["text"] for p in pieces if not p["literal"])
    found += text_violations(text, lang, " ".join(p["text"] for p in pieces if p["literal"]))
    if lang == "en":
        found += cjk_violations(pieces)
    found += bar_violations(page.evaluate(_BARS_JS))
    unique = dict.fromkeys(found)  # each distinct one once, in the order found
    return [Violation(name, width, lang, kind, example) for kind, example in unique]


def page_routes(app: Any) -> list[str]:
    """Paths of the app's GET routes that answer a page (not a .json twin, a file or a download)."""
    found: list[str] = []

    def walk(routes: Any) -> None:
        for r in routes:
            inner = getattr(r, "original_router", None)
            if inner is not None:
                walk(inner.routes)
            elif "GET" in (getattr(r, "methods", None) or ()) and not NOT_PAGES.search(r.path):
                found.append(r.path)

    walk(app.routes)
    return sorted(set(found))


def crawl_paths(routes: list[str], values: dict[str, list[str]]) -> tuple[list[tuple[str, str]], list[str]]:
    """(name, path) of each page to visit, and the routes that could not be filled in. A job's page is one
    template for every area: the job made here (results) stands for all of them."""
    pages: list[tuple[str, str]] = []
    missing: list[str] = []
    for route in routes:
        params = re.findall(r"{(\w+)}", route)
        if params == ["job_id"] and not route.startswith("/results/"):
            continue
        filled = {p: values.get(route) or values.get(p) for p in params}  # a route's own value first
        if not all(filled.values()):
            missing.append(route)
            continue
        name = route.strip("/").replace("/", "-").replace("{", "").replace("}", "") or "overview"
        for i, combo in enumerate(zip(*(filled[p] for p in params), strict=False) if params else [()]):
            path = route
            for p, v in zip(params, combo, strict=True):
                path = path.replace("{" + p + "}", quote(v, safe=""))
            pages.append((f"{name}-{i + 1}" if i else name, path))
    for i, path in enumerate(values.get("query", [])):
        pages.append((path.strip("/").split("?")[0].replace("/", "-") + f"-q{i + 1}", path))
    return pages, missing
