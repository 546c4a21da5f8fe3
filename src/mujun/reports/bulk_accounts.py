"""Enterprise accounts in bulk (``mujun users enterprises``): one account per firm of a year's roster, and the
list of one-time passwords that the towns hand out.

The roster is the workspace's ``enterprise_years`` of the year (the newest by default), optionally of one
county. A firm that has an account already (any account naming its USCC) is skipped, so running the command
again makes accounts only for firms that are new since. Each new account is named by the firm's USCC, has the
role ``enterprise`` and a one-time password that must be changed at the first sign-in.

The list is an xlsx, one row per new account (county, town, firm, USCC, account name, one-time password,
how to sign in), sorted by county, town and firm so each town can take its part. It is written with the
one rule for text cells (reports/safe_cells.py: a firm name is never a formula) and appears whole or not at
all (reports/atomic.py), readable by its owner only. The accounts are committed only after the list has
been written (``accounts.add_users(before_commit=…)``): no account exists whose password nobody was given,
and an existing file is never replaced (its passwords could not be recovered).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mujun.catalog.text import translate
from mujun.errors import InputError
from mujun.reports.atomic import atomic_path
from mujun.reports.safe_cells import workbook, write_cell
from mujun.reports.sheet_style import fit_columns
from mujun.runs import accounts
from mujun.runs.workspace import Workspace

COLUMNS = ("county", "town", "name", "uscc", "account", "password", "instructions")
WIDTHS = {"county": 12, "town": 20, "name": 40, "uscc": 22, "account": 22, "password": 16, "instructions": 70}


@dataclass(frozen=True)
class Firm:
    uscc: str
    name: str | None
    county: str | None
    town: str | None


def roster(workspace: str | Path, year: int | None = None, unit: str | None = None) -> tuple[int, list[Firm]]:
    """The year (the newest when None) and its firms, one per USCC (of county ``unit`` when given)."""
    with Workspace(workspace, read_only=True) as ws:
        if not ws.has_table("enterprise_years"):
            raise InputError("ACCOUNTS-NO-ROSTER", path=str(workspace))
        got = ws.con.execute("SELECT DISTINCT year FROM enterprise_years ORDER BY year").fetchall()
        years = [int(r[0]) for r in got]
        if not years:
            raise InputError("ACCOUNTS-NO-ROSTER", path=str(workspace))
        if year is None:
            year = years[-1]
        elif year not in years:
            raise InputError("YEAR-NOT-IN-DATA", year=year, years=", ".join(map(str, years)))
        sql = (
            "SELECT uscc, min(name), min(county), min(town) FROM enterprise_years "
            "WHERE year = ? AND uscc IS NOT NULL AND trim(uscc) <> ''"
        )
        params: list[Any] = [year]
        if unit is not None:
            sql += " AND county = ?"
            params.append(unit)
        rows = ws.con.execute(sql + " GROUP BY uscc ORDER BY uscc", params).fetchall()
        if not rows and unit is not None:
            got = ws.con.execute(
                "SELECT DISTINCT county FROM enterprise_years WHERE year = ? AND county IS NOT NULL ORDER BY county",
                [year],
            ).fetchall()
            counties = " ".join(str(r[0]) for r in got)
            raise InputError("ACCOUNTS-NO-FIRMS", unit=unit, year=year, counties=counties)
    return year, [Firm(str(r[0]).strip(), r[1], r[2], r[3]) for r in rows]


def make_enterprise_accounts(
    workspace: str | Path,
    out: Path,
    by: str,
    year: int | None = None,
    unit: str | None = None,
    url: str | None = None,
    lang: str | None = None,
) -> dict[str, Any]:
    """Make an enterprise account for every firm of the roster that has none; write their one-time passwords
    to ``out`` (.xlsx, which must not exist yet). ``url``: where to sign in, for the instructions (default:
    "the address the bureau gives you"); ``lang``: of the list (default: the process language).

    Returns ``{"made": n, "skipped": firms that had an account, "path": out, "year": the roster's year}``."""
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise InputError("INPUT-FORMAT", file=str(out))
    if out.exists():
        raise InputError("ACCOUNTS-OUT-EXISTS", file=str(out))
    year, firms = roster(workspace, year, unit)
    users = accounts.list_users(workspace)
    has_account = {u.uscc for u in users if u.uscc} | {u.name for u in users}
    todo = [f for f in firms if f.uscc not in has_account]
    firm_of = {f.uscc: f for f in todo}
    plan = [
        accounts.NewUser(
            name=f.uscc, role="enterprise", password=accounts.one_time_password(), uscc=f.uscc, must_change=True
        )
        for f in todo
    ]

    def write(added: list[accounts.NewUser]) -> None:
        rows = [(firm_of[u.name], u) for u in added]
        rows.sort(key=lambda fu: (fu[0].county or "", fu[0].town or "", fu[0].name or "", fu[0].uscc))
        with atomic_path(out) as tmp:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))  # owner only, before any password
            write_list(tmp, rows, url, lang)

    added = accounts.add_users(workspace, plan, by, before_commit=write)
    return {"made": len(added), "skipped": len(firms) - len(added), "path": str(out), "year": year}


def write_list(
    path: Path, rows: list[tuple[Firm, accounts.NewUser]], url: str | None = None, lang: str | None = None
) -> None:
    """The xlsx of one-time passwords: a header row, then one row per account, ready to print (landscape,
    the header repeated on every page)."""
    where = url or translate("bulk.where_default", lang)
    how = translate("bulk.instructions", lang, where=where)
    wb = workbook(path)
    wb.set_properties({"title": translate("bulk.title", lang), "author": "mujun"})
    head = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
    cell = wb.add_format({"valign": "top", "border": 1})
    wrap = wb.add_format({"valign": "top", "border": 1, "text_wrap": True})
    mono = wb.add_format({"valign": "top", "border": 1, "font_name": "Consolas", "font_size": 12})
    ws = wb.add_worksheet(translate("bulk.sheet", lang)[:31])
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.freeze_panes(1, 0)
    for j, col in enumerate(COLUMNS):
        write_cell(ws, 0, j, translate(f"bulk.col.{col}", lang), head)
        ws.set_column(j, j, WIDTHS[col])
    for i, (firm, user) in enumerate(rows, start=1):
        values = (firm.county, firm.town, firm.name, firm.uscc, user.name, user.password, how)
        for j, (col, value) in enumerate(zip(COLUMNS, values, strict=True)):
            fmt = mono if col in ("account", "password") else wrap if col == "instructions" else cell
            write_cell(ws, i, j, value, fmt)
    if rows:
        ws.autofilter(0, 0, len(rows), len(COLUMNS) - 1)
    fit_columns(ws)  # names and codes whole; the monospaced and wrapped columns keep their set widths
    for col in ("account", "password", "instructions"):
        ws.set_column(COLUMNS.index(col), COLUMNS.index(col), WIDTHS[col])
    wb.close()
