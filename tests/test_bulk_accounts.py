"""Enterprise accounts in bulk (issue 11, ``mujun users enterprises``): one account per firm of the roster
with a one-time password, listed in an xlsx for the towns. SYNTHETIC demo workspace (60 firms, 2024).

Argon2 at its real cost takes ~50-300 ms a hash; these tests swap in a cheap Argon2 parameter set (the hash
string carries its parameters, so sign-in checks it all the same)."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest
from click.testing import CliRunner

from mujun.catalog.text import translate
from mujun.cli.core import cli
from mujun.errors import InputError
from mujun.reports import bulk_accounts
from mujun.reports.bulk_accounts import COLUMNS, make_enterprise_accounts
from mujun.runs import accounts, audit


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from mujun.demo import run_demo

    root = tmp_path_factory.mktemp("bulk-demo")
    return run_demo(root, firms=60, years=(2024,), seed=3, echo=lambda _m: None, strategy=False)


@pytest.fixture
def ws(demo: dict[str, Any], tmp_path: Path) -> Path:
    """A private copy of the demo workspace (with its 7 demo accounts); Argon2 is cheap in tests (conftest)."""
    target = tmp_path / "ws"
    shutil.copytree(demo["workspace"], target)
    return target


def roster(ws: Path, county: str | None = None) -> dict[str, tuple[str, str, str]]:
    """USCC → (county, town, name) of the 2024 roster, read straight from the file."""
    con = duckdb.connect(str(ws / "mujun.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT uscc, county, town, name FROM enterprise_years WHERE year = 2024").fetchall()
    finally:
        con.close()
    return {r[0]: (r[1], r[2], r[3]) for r in rows if county is None or r[1] == county}


def read_list(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    return list(rows[0]), [dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]]


def test_every_firm_without_an_account_gets_one(ws: Path, demo: dict[str, Any], tmp_path: Path) -> None:
    firms = roster(ws)
    firm_uscc = demo["accounts"]["firm"]["uscc"]  # the demo's own enterprise account
    assert firm_uscc in firms
    out = tmp_path / "lists" / "accounts.xlsx"
    got = make_enterprise_accounts(ws, out, "tester")
    assert got == {"made": len(firms) - 1, "skipped": 1, "path": str(out), "year": 2024}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # one-time passwords: the owner's only

    header, rows = read_list(out)
    assert header == [translate(f"bulk.col.{c}") for c in COLUMNS]
    assert len(rows) == got["made"]
    assert {r["uscc"] for r in rows} == set(firms) - {firm_uscc}
    assert all(r["account"] == r["uscc"] for r in rows)
    assert all((r["county"], r["town"], r["name"]) == firms[r["uscc"]] for r in rows)
    keys = [(r["county"], r["town"], r["name"]) for r in rows]
    assert keys == sorted(keys)  # by county, town, firm: each town takes its part
    assert len({r["password"] for r in rows}) == len(rows)
    assert all(translate("bulk.where_default") in r["instructions"] for r in rows)

    first = rows[0]
    user = accounts.get_user(ws, first["account"])
    assert user is not None and user.role == "enterprise" and user.uscc == first["uscc"] and user.must_change
    signed = accounts.login(ws, first["account"], first["password"])
    assert signed.user is not None and signed.token and signed.user.must_change
    assert accounts.login(ws, rows[1]["account"], first["password"]).user is None

    added = [e for e in audit.entries(ws) if e["kind"] == "user_add" and e["actor"] == "tester"]
    assert len(added) == got["made"] and all(e["summary"]["one_time"] for e in added)
    assert audit.verify_audit(ws)[2] is None

    again = make_enterprise_accounts(ws, tmp_path / "again.xlsx", "tester")
    assert again["made"] == 0 and again["skipped"] == len(firms)
    assert read_list(tmp_path / "again.xlsx") == (header, [])


def test_an_existing_list_is_never_replaced(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "accounts.xlsx"
    out.write_bytes(b"the passwords of an older list")
    with pytest.raises(InputError) as err:
        make_enterprise_accounts(ws, out, "tester")
    assert err.value.code == "ACCOUNTS-OUT-EXISTS"
    assert out.read_bytes() == b"the passwords of an older list"
    assert len(accounts.list_users(ws)) == 7  # the demo's accounts only
    with pytest.raises(InputError) as err:
        make_enterprise_accounts(ws, tmp_path / "accounts.csv", "tester")
    assert err.value.code == "INPUT-FORMAT"


def test_no_account_without_its_list(ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The accounts are committed only once the list is written: a failed write leaves neither."""

    def broken(*_a: Any, **_k: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(bulk_accounts, "write_list", broken)
    out = tmp_path / "accounts.xlsx"
    with pytest.raises(OSError, match="disk full"):
        make_enterprise_accounts(ws, out, "tester")
    assert not out.exists() and not list(tmp_path.glob(".accounts.xlsx.*"))
    assert len(accounts.list_users(ws)) == 7


def test_one_county_year_and_refusals(ws: Path, tmp_path: Path) -> None:
    county = sorted({c for c, _t, _n in roster(ws).values()})[0]
    firms = roster(ws, county)
    got = make_enterprise_accounts(
        ws, tmp_path / "one.xlsx", "tester", year=2024, unit=county, url="https://mj.example"
    )
    assert got["made"] + got["skipped"] == len(firms)
    _header, rows = read_list(tmp_path / "one.xlsx")
    assert {r["county"] for r in rows} == {county} and all("https://mj.example" in r["instructions"] for r in rows)
    with pytest.raises(InputError) as err:
        make_enterprise_accounts(ws, tmp_path / "x.xlsx", "tester", unit="no-such-county")
    assert err.value.code == "ACCOUNTS-NO-FIRMS" and county in err.value.message()
    with pytest.raises(InputError) as err:
        make_enterprise_accounts(ws, tmp_path / "y.xlsx", "tester", year=1999)
    assert err.value.code == "YEAR-NOT-IN-DATA"
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path / "y.xlsx").exists()


def test_firm_names_are_text_never_formulas(tmp_path: Path) -> None:
    firm = bulk_accounts.Firm("91370000MA00000000", '=HYPERLINK("http://x")', "+county", "@town")
    user = accounts.NewUser("91370000MA00000000", "enterprise", "aB3aB3aB3aB3", uscc=firm.uscc, must_change=True)
    bulk_accounts.write_list(tmp_path / "l.xlsx", [(firm, user)], lang="en")
    sheet = openpyxl.load_workbook(tmp_path / "l.xlsx").active
    cells = next(sheet.iter_rows(min_row=2, max_row=2))
    assert [c.value for c in cells[:3]] == ["+county", "@town", '=HYPERLINK("http://x")']
    assert all(c.data_type == "s" for c in cells)
    assert sheet.cell(1, 1).value == "County"


def test_cli_enterprises(ws: Path, tmp_path: Path) -> None:
    county = sorted({c for c, _t, _n in roster(ws).values()})[-1]
    out = tmp_path / "cli.xlsx"
    args = ["users", "enterprises", "--unit", county, "--out", str(out), "--workspace", str(ws)]
    got = CliRunner().invoke(cli, args)
    assert got.exit_code == 0, got.output
    _header, rows = read_list(out)
    assert rows and str(len(rows)) in got.output and str(out) in got.output
    again = CliRunner().invoke(cli, args)
    assert again.exit_code != 0 and isinstance(again.exception, InputError)  # the list exists: not replaced
