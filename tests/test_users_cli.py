"""``mujun users`` (issue 11) as an outside check runs it: a separate process, the password on standard input
(never an argument), exit 2 with a coded message for every refusal, English under MUJUN_LANG=en with no
Chinese but the data's. SYNTHETIC accounts in a temporary folder."""

from __future__ import annotations

import getpass
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mujun.runs import accounts, audit

PASSWORD = "synthetic-Pass-42"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def env(lang: str = "en") -> dict[str, str]:
    got = {k: v for k, v in os.environ.items() if k not in ("MUJUN_AS", "MUJUN_LANG")}
    return {**got, "MUJUN_LANG": lang}


def users(*args: str, stdin: str = "", lang: str = "en") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mujun", "users", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env(lang),
    )


def users_many(*calls: tuple[tuple[str, ...], str]) -> list[subprocess.CompletedProcess[str]]:
    """Several ``mujun users`` processes at once (``(args, stdin)`` each), in order of the calls."""
    base = [sys.executable, "-m", "mujun", "users"]
    procs = [
        (
            [*base, *args],
            subprocess.Popen(
                [*base, *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env(),
            ),
            stdin,
        )
        for args, stdin in calls
    ]
    out = []
    for cmd, proc, stdin in procs:
        try:
            got, err = proc.communicate(stdin, timeout=120)
        finally:
            proc.kill()
        out.append(subprocess.CompletedProcess(cmd, proc.returncode, got, err))
    return out


def in_process(*args: str, stdin: str = "", lang: str = "en") -> tuple[int, str, str]:
    """``mujun ARGS`` in this process (``mujun.cli.core.main``, so exit codes are the CLI's):
    ``(exit code, stdout, stderr)``; ``--as`` does not outlive the call."""
    from click.testing import CliRunner

    from mujun.cli.core import main
    from mujun.runs import changes

    code = 0
    with CliRunner().isolation(input=stdin, env={"MUJUN_LANG": lang, "MUJUN_AS": None}) as (out, err, _):
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            changes._ACTING.clear()
            sys.stdout.flush()
            sys.stderr.flush()
        return code, out.getvalue().decode(), err.getvalue().decode()


def no_cjk_but(text: str, *data: str) -> bool:
    for d in data:
        text = text.replace(d, "")
    return CJK.search(text) is None


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return tmp_path / "ws"


def test_add_reads_one_line_and_keeps_only_a_hash(ws: Path) -> None:
    got = users("add", "chen", "--role", "county", "--unit", "费县", "--workspace", str(ws), stdin=PASSWORD + "\n")
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "Added account chen (role county, scope 费县)."
    assert no_cjk_but(got.stdout + got.stderr, "费县")
    user = accounts.get_user(ws, "chen")
    assert user is not None
    assert (user.role, user.unit, user.disabled, user.must_change) == ("county", "费县", False, False)
    assert accounts.login(ws, "chen", PASSWORD).token
    stored = b"".join(p.read_bytes() for p in ws.iterdir() if p.name.startswith("accounts.sqlite"))
    assert PASSWORD.encode() not in stored and b"$argon2id$" in stored
    assert b"$argon2id$v=19$m=65536,t=3,p=4$" in stored  # the product's cost (tests/conftest.py lowers it in-process)
    added = [e for e in audit.entries(ws) if e["kind"] == "user_add"]
    assert len(added) == 1 and added[0]["touched"] == "chen" and PASSWORD not in str(added[0])


def test_the_password_is_never_an_argument_and_a_second_line_confirms_it(ws: Path) -> None:
    """The process runs with the password nowhere in its argument list (what ``ps`` shows); no option takes
    it; two identical lines on standard input are a password and its confirmation."""
    code, helped, _ = in_process("users", "add", "--help")
    assert code == 0 and "--role" in helped and "--password" not in helped and "--pass" not in helped
    cmd = [sys.executable, "-m", "mujun", "users", "add", "ps-check", "--role", "admin", "--workspace", str(ws)]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env()
    )
    try:
        cmdline = Path(f"/proc/{proc.pid}/cmdline")
        if cmdline.exists():  # Linux: what ps reads, once the new program runs (it waits for its input)
            deadline = time.monotonic() + 30
            while b"ps-check" not in (seen := cmdline.read_bytes().split(b"\0")) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert b"ps-check" in seen and b"users" in seen
            assert not any(PASSWORD.encode() in a for a in seen)
        out, err = proc.communicate(f"{PASSWORD}\n{PASSWORD}\n", timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out.strip() == "Added account ps-check (role admin, scope —)."
    assert accounts.login(ws, "ps-check", PASSWORD).token


def test_add_refusals_exit_2_with_their_code(ws: Path) -> None:
    accounts.add_user(ws, "wang", "analyst", PASSWORD, by="tests")
    w = ("--workspace", str(ws))
    cases = {
        "mismatch": ((*w, "--role", "admin"), f"{PASSWORD}\nother-Pass-43\n"),
        "empty": ((*w, "--role", "admin"), ""),
        "weak": ((*w, "--role", "admin"), "short-1\n"),
        "county without unit": ((*w, "--role", "county"), f"{PASSWORD}\n"),
        "unknown role": ((*w, "--role", "boss"), f"{PASSWORD}\n"),
        "duplicate": ((*w, "--role", "leader"), "different-Pass-9\n"),
    }
    names = {case: "wang" if case == "duplicate" else "someone" for case in cases}
    got = dict(
        zip(cases, users_many(*((("add", names[c], *args), stdin) for c, (args, stdin) in cases.items())), strict=True)
    )
    expected = {
        "mismatch": ("PASSWORD-MISMATCH", "The two passwords differ."),
        "empty": ("PASSWORD-MISSING", "No password was read: give it as one line on standard input"),
        "weak": ("PASSWORD-WEAK", "The password is too weak: at least 10 characters"),
        "county without unit": ("USER-SCOPE", "An account of role county needs its scope: add --unit"),
        "duplicate": ("USER-EXISTS", "The account “wang” exists already."),
    }
    for case, (code, words) in expected.items():
        r = got[case]
        assert r.returncode == 2, (case, r.stdout, r.stderr)
        assert f"Error [{code}]: {words}" in r.stderr, (case, r.stderr)
        assert "Traceback" not in r.stderr and no_cjk_but(r.stderr), case
    role = got["unknown role"]
    assert role.returncode == 2 and "Invalid value for '--role'" in role.stderr and "'boss'" in role.stderr
    for name in ("admin", "analyst", "department", "county", "town", "leader", "enterprise"):
        assert name in role.stderr
    assert accounts.get_user(ws, "someone") is None
    user = accounts.get_user(ws, "wang")
    assert user is not None and user.role == "analyst"  # the duplicate changed nothing
    assert accounts.login(ws, "wang", PASSWORD).token
    assert [e["kind"] for e in audit.entries(ws)] == ["user_add", "login"]


@pytest.mark.parametrize(
    ("args", "stdin", "code"),
    [
        (("--role", "admin"), "\n", "PASSWORD-MISSING"),
        (("--role", "admin"), "\n\n", "PASSWORD-MISSING"),
        (("--role", "admin"), "onlyletterslong\n", "PASSWORD-WEAK"),
        (("--role", "admin"), "12345678901234\n", "PASSWORD-WEAK"),
        (("--role", "town"), f"{PASSWORD}\n", "USER-SCOPE"),
        (("--role", "department", "--unit", "费县"), f"{PASSWORD}\n", "USER-SCOPE"),
        (("--role", "enterprise"), f"{PASSWORD}\n", "USER-SCOPE"),
    ],
)
def test_more_refusals(ws: Path, args: tuple[str, ...], stdin: str, code: str) -> None:
    got, out, err = in_process("users", "add", "someone", *args, "--workspace", str(ws), stdin=stdin)
    assert got == 2 and f"Error [{code}]:" in err and out == ""
    assert accounts.get_user(ws, "someone") is None


def test_an_empty_second_line_is_no_confirmation(ws: Path) -> None:
    got, _out, err = in_process(
        "users", "add", "zhou", "--role", "admin", "--workspace", str(ws), stdin=f"{PASSWORD}\n\n"
    )
    assert got == 0, err
    assert accounts.login(ws, "zhou", PASSWORD).token


def test_chinese_messages_by_default(ws: Path) -> None:
    stdin = f"{PASSWORD}\nx-{PASSWORD}\n"
    got, _, err = in_process(
        "users", "add", "someone", "--role", "admin", "--workspace", str(ws), stdin=stdin, lang="zh"
    )
    assert got == 2 and "错误 [PASSWORD-MISMATCH]：两次输入的密码不一致。" in err


def test_list_disable_enable_reset_and_set_role(ws: Path) -> None:
    accounts.add_user(ws, "admin1", "admin", PASSWORD, by="tests")
    accounts.add_user(ws, "li", "town", PASSWORD, by="tests", unit="费县费城街道")
    accounts.add_user(ws, "firm1", "enterprise", PASSWORD, by="tests", uscc="91371300MA0000001X", must_change=True)
    w = ("--workspace", str(ws))

    listed = users("list", *w)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == ["Name", "Role", "Scope", "State"]
    rows = {line.split()[0]: line.split() for line in listed.stdout.splitlines()[1:]}
    assert rows == {
        "admin1": ["admin1", "admin", "—", "active"],
        "firm1": ["firm1", "enterprise", "91371300MA0000001X", "one-time", "password"],
        "li": ["li", "town", "费县费城街道", "active"],
    }
    assert no_cjk_but(listed.stdout, "费县费城街道")

    token = accounts.login(ws, "li", PASSWORD).token
    assert accounts.session_user(ws, token) is not None
    off = users("disable", "li", *w)
    assert off.returncode == 0 and off.stdout.strip() == "Disabled li; its sessions have ended."
    assert accounts.session_user(ws, token) is None  # the session ended with the account
    assert accounts.login(ws, "li", PASSWORD).refused == "auth.failed"
    assert in_process("users", "list", *w)[1].splitlines()[-1].split()[-1] == "disabled"

    code, on, _ = in_process("users", "enable", "li", *w)
    assert code == 0 and on.strip() == "Enabled li."
    token = accounts.login(ws, "li", PASSWORD).token
    assert token

    new = "renewed-Pass-77"
    reset = users("reset-password", "li", *w, stdin=new + "\n")
    assert reset.returncode == 0, reset.stderr
    assert reset.stdout.strip() == "Set a new password for li; its sessions have ended."
    assert accounts.session_user(ws, token) is None
    assert accounts.login(ws, "li", PASSWORD).refused == "auth.failed"
    token = accounts.login(ws, "li", new).token
    assert token

    code, role, _ = in_process("users", "set-role", "li", "--role", "county", "--unit", "费县", *w)
    assert code == 0 and role.strip() == "li now has the role county; its sessions have ended."
    assert no_cjk_but(off.stdout + on + reset.stdout + role + off.stderr + reset.stderr)
    assert accounts.session_user(ws, token) is None
    user = accounts.get_user(ws, "li")
    assert user is not None and (user.role, user.unit) == ("county", "费县")

    kinds = [e["kind"] for e in audit.entries(ws) if e["touched"] == "li" and e["kind"].startswith("user_")]
    assert kinds == ["user_add", "user_disable", "user_enable", "user_password", "user_role"]


def test_changing_an_account_refuses_in_words(ws: Path) -> None:
    accounts.add_user(ws, "li", "town", PASSWORD, by="tests", unit="费县费城街道")
    w = ("--workspace", str(ws))
    code, _, err = in_process("users", "set-role", "li", "--role", "enterprise", *w)
    assert code == 2 and "Error [USER-SCOPE]:" in err
    code, _, err = in_process("users", "reset-password", "li", *w, stdin="short\n")
    assert code == 2 and "Error [PASSWORD-WEAK]:" in err
    assert accounts.login(ws, "li", PASSWORD).token  # unchanged
    for args in (("disable", "ghost"), ("enable", "ghost"), ("set-role", "ghost", "--role", "admin")):
        code, _, err = in_process("users", *args, *w)
        assert code == 2 and "Error [USER-UNKNOWN]: There is no account “ghost”." in err, args
    code, _, err = in_process("users", "reset-password", "ghost", *w, stdin=PASSWORD + "\n")
    assert code == 2 and "Error [USER-UNKNOWN]:" in err
    code, out, _ = in_process("users", "list", "--workspace", str(ws.parent / "empty"))
    assert code == 0 and "has no accounts yet" in out


def test_as_names_who_changed_an_account_and_must_be_one(ws: Path) -> None:
    accounts.add_user(ws, "boss", "admin", PASSWORD, by="tests")
    accounts.add_user(ws, "gone", "admin", PASSWORD, by="tests")
    accounts.disable(ws, "gone", by="tests")
    w = ("--workspace", str(ws))

    code, _, err = in_process("--as", "boss", "users", "add", "zhao", "--role", "leader", *w, stdin=PASSWORD + "\n")
    assert code == 0, err
    assert [e["actor"] for e in audit.entries(ws) if e["touched"] == "zhao"] == ["boss"]
    code, _, err = in_process("--as", "nobody", "users", "disable", "zhao", *w)
    assert code == 2 and "Error [USER-UNKNOWN]: There is no account “nobody”." in err
    code, _, err = in_process("--as", "gone", "users", "disable", "zhao", *w)
    assert code == 2 and "Error [USER-DISABLED]: The account “gone” is disabled" in err
    user = accounts.get_user(ws, "zhao")
    assert user is not None and not user.disabled
    # without --as the audit names the operating-system user
    code, _, err = in_process("users", "disable", "zhao", *w)
    assert code == 0, err
    assert audit.entries(ws)[-1]["actor"] == getpass.getuser()


def test_the_first_admin_of_a_new_workspace(tmp_path: Path) -> None:
    """A folder without accounts gets its first one (``--as`` is not checked while there are no accounts);
    ``has_admin`` (what ``mujun serve`` asks) sees it."""
    ws = tmp_path / "fresh"
    assert not accounts.has_admin(ws) and not ws.exists()
    assert accounts.login(ws, "root-admin", PASSWORD).refused == "auth.failed"  # makes the file, no account
    assert (ws / "accounts.sqlite").is_file() and not accounts.has_users(ws)
    args = ("--as", "installer", "users", "add", "root-admin", "--role", "admin", "--workspace", str(ws))
    code, _, err = in_process(*args, stdin=PASSWORD + "\n")
    assert code == 0, err
    assert audit.entries(ws)[-1]["kind"] == "user_add" and audit.entries(ws)[-1]["user"] == "installer"
    assert (ws / "accounts.sqlite").is_file() and accounts.has_admin(ws)
    accounts.disable(ws, "root-admin", by="tests")
    assert not accounts.has_admin(ws)  # a disabled administrator cannot sign in either
