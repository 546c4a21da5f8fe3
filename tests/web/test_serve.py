"""`mujun serve` and `mujun demo`'s serving end: loopback by default, clear errors, the address printed."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from tests.web.conftest import _free_port


def test_serve_refuses_a_folder_that_is_not_a_workspace(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "mujun.cli", "serve", "--workspace", str(tmp_path / "nothing")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "不是 mujun 工作区" in out.stderr and "Traceback" not in out.stderr


def test_serve_prints_the_address_and_answers(demo_workspace):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mujun.cli", "serve", "--workspace", str(demo_workspace), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
                    assert r.status == 200 and 'name="username"' in r.read().decode()
                with pytest.raises(urllib.error.HTTPError) as refused:  # every other page needs a login
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/overview.json", timeout=5)
                assert refused.value.code == 401
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
