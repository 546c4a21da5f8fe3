"""``mujun users``: accounts of a workspace (add, list, disable, enable, reset-password, set-role, bulk
enterprise accounts). Passwords come from standard input, never from an argument (argument lists are
visible to every user of the machine): one line, optionally a second identical line as confirmation."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from mujun.catalog.role_names import ROLE_NAMES
from mujun.cli.format import tr
from mujun.errors import InputError


def _password() -> str:
    """The password from standard input (a terminal asks twice, hidden)."""
    if sys.stdin is None:  # no standard input at all (closed by the caller)
        raise InputError("PASSWORD-MISSING")
    if sys.stdin.isatty():
        return str(click.prompt(tr("users.prompt"), hide_input=True, confirmation_prompt=True))
    lines = sys.stdin.read().splitlines()
    if not lines or not lines[0]:
        raise InputError("PASSWORD-MISSING")
    if len(lines) > 1 and lines[1] and lines[1] != lines[0]:
        raise InputError("PASSWORD-MISMATCH")
    return lines[0]


WS = click.option("--workspace", required=True, type=click.Path(file_okay=False), help=tr("cli.opt.workspace"))


def _by(workspace: str) -> str:
    """Who the audit names: the ``--as`` account (an enabled account of the workspace, once it has
    accounts), else the operating-system user."""
    from mujun.runs.changes import acting, default_actor
    from mujun.runs.workspace import check_acting

    name = acting()
    if name is not None:
        check_acting(Path(workspace), name)
    return default_actor()


def _role_options(fn: Any) -> Any:
    """``--role`` and the scope it needs (``--unit``, ``--department``, ``--uscc``): add and set-role."""
    for option in reversed(
        (
            click.option("--role", required=True, type=click.Choice(ROLE_NAMES), help=tr("users.opt.role")),
            click.option("--unit", help=tr("users.opt.unit")),
            click.option("--department", help=tr("users.opt.department")),
            click.option("--uscc", help=tr("users.opt.uscc")),
        )
    ):
        fn = option(fn)
    return fn


@click.group(help=tr("users.help"))
def users() -> None:
    """Accounts of a workspace."""


@users.command("add")
@click.argument("name")
@_role_options
@click.option("--one-time", is_flag=True, help=tr("users.opt.one_time"))
@WS
def add(
    name: str, role: str, unit: str | None, department: str | None, uscc: str | None, one_time: bool, workspace: str
) -> None:
    """Add an account; the password is read from standard input."""
    from mujun.runs import accounts

    by = _by(workspace)
    accounts.check_account(role, unit, department, uscc, workspace)  # before asking for a password
    user = accounts.add_user(workspace, name, role, _password(), by, unit, department, uscc, must_change=one_time)
    click.echo(tr("users.added", name=user.name, role=user.role, scope=unit or department or uscc or "—"))


@users.command("list")
@WS
def list_(workspace: str) -> None:
    """Every account: name, role, scope, state."""
    from mujun.runs import accounts

    rows = accounts.list_users(workspace)
    if not rows:
        click.echo(tr("users.none", workspace=workspace))
        return
    click.echo(tr("users.header"))
    for u in rows:
        state = tr("users.disabled") if u.disabled else (tr("users.one_time") if u.must_change else tr("users.active"))
        click.echo(f"{u.name:<16} {u.role:<11} {u.unit or u.department or u.uscc or '—':<22} {state}")


@users.command("disable")
@click.argument("name")
@WS
def disable(name: str, workspace: str) -> None:
    """Disable an account (its sessions end at once)."""
    from mujun.runs import accounts

    accounts.disable(workspace, name, _by(workspace))
    click.echo(tr("users.did_disable", name=name))


@users.command("enable")
@click.argument("name")
@WS
def enable(name: str, workspace: str) -> None:
    """Enable a disabled account again."""
    from mujun.runs import accounts

    accounts.disable(workspace, name, _by(workspace), disabled=False)
    click.echo(tr("users.did_enable", name=name))


@users.command("reset-password")
@click.argument("name")
@click.option("--one-time", is_flag=True, help=tr("users.opt.one_time"))
@WS
def reset_password(name: str, one_time: bool, workspace: str) -> None:
    """Set a new password (from standard input); its sessions end."""
    from mujun.runs import accounts

    by = _by(workspace)
    if accounts.get_user(workspace, name) is None:
        raise InputError("USER-UNKNOWN", name=name)
    accounts.set_password(workspace, name, _password(), by, must_change=one_time)
    click.echo(tr("users.did_reset", name=name))


@users.command("set-role")
@click.argument("name")
@_role_options
@WS
def set_role(name: str, role: str, unit: str | None, department: str | None, uscc: str | None, workspace: str) -> None:
    """Change an account's role and scope; its sessions end."""
    from mujun.runs import accounts

    accounts.set_role(workspace, name, role, _by(workspace), unit, department, uscc)
    click.echo(tr("users.did_role", name=name, role=role))


@users.command("enterprises")
@click.option("--year", type=int, help=tr("users.opt.year"))
@click.option("--unit", help=tr("users.opt.bulk_unit"))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help=tr("users.opt.out"))
@WS
def enterprises(year: int | None, unit: str | None, out: str, workspace: str) -> None:
    """One enterprise account per firm of the roster, with one-time passwords written to an xlsx for the
    towns to hand out."""
    from mujun.reports.bulk_accounts import make_enterprise_accounts

    got = make_enterprise_accounts(workspace, Path(out), _by(workspace), year=year, unit=unit)
    click.echo(tr("users.bulk", made=got["made"], skipped=got["skipped"], path=out))


COMMANDS = (users,)
