"""A one-time password must be changed at the first sign-in (issue 11): every page sends the user to
/account/password until then; the change needs the current password, two equal new ones and the policy;
afterwards the old password no longer works and the user lands on their own start page."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from mujun.runs import accounts
from mujun.web import create_app


def _token(c: TestClient, path: str) -> str:
    got = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)
    assert got
    return got.group(1)


def test_one_time_password_is_changed_at_first_sign_in(workspace_copy: Path) -> None:
    with TestClient(create_app(workspace_copy)) as c:
        rows = accounts.list_users(workspace_copy)
        uscc = next(u.uscc for u in rows if u.role == "enterprise")
        accounts.add_user(workspace_copy, "otp-firm", "enterprise", "Once-only-123", by="tests", uscc=uscc,
                          must_change=True)  # fmt: skip
        form = {"username": "otp-firm", "password": "Once-only-123", "csrf_token": _token(c, "/login")}
        got = c.post("/login", data=form, follow_redirects=False)
        assert got.status_code == 303 and got.headers["location"] == "/account/password"
        # every other page sends the user back to the password form; twins and exports are refused
        page = c.get(f"/enterprise/{uscc}", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/account/password"
        assert c.get(f"/enterprise/{uscc}.json").status_code == 403
        token = _token(c, "/account/password")
        wrong = c.post("/account/password", data={"current": "nope", "new": "Brand-new-456", "again": "Brand-new-456",
                                                   "csrf_token": token})  # fmt: skip
        assert wrong.status_code == 400 and "当前密码不正确" in wrong.text
        differ = c.post("/account/password", data={"current": "Once-only-123", "new": "Brand-new-456",
                                                    "again": "Brand-new-457", "csrf_token": token})  # fmt: skip
        assert differ.status_code == 400 and "两次输入的密码不一致" in differ.text
        weak = c.post("/account/password", data={"current": "Once-only-123", "new": "12345678901",
                                                  "again": "12345678901", "csrf_token": token})  # fmt: skip
        assert weak.status_code == 400 and "密码太弱" in weak.text
        done = c.post("/account/password", data={"current": "Once-only-123", "new": "Brand-new-456",
                                                  "again": "Brand-new-456", "csrf_token": token},
                      follow_redirects=False)  # fmt: skip
        assert done.status_code == 303 and done.headers["location"] == f"/enterprise/{uscc}"
        assert c.get(f"/enterprise/{uscc}.json").status_code == 200  # signed in again with the new password
    assert accounts.login(workspace_copy, "otp-firm", "Once-only-123").user is None
    assert accounts.login(workspace_copy, "otp-firm", "Brand-new-456").user is not None
    assert not accounts.get_user(workspace_copy, "otp-firm").must_change  # type: ignore[union-attr]
