"""``mujun serve``: the web app on this machine (127.0.0.1 unless told otherwise, one worker)."""

from __future__ import annotations

from pathlib import Path

import click

from mujun.cli.format import tr
from mujun.errors import WorkspaceError
from mujun.settings import SERVE_HOST, SERVE_PORT


def serve_workspace(workspace: str | Path, host: str = SERVE_HOST, port: int = SERVE_PORT, echo=click.echo) -> None:
    """Serve ``workspace`` until interrupted (Ctrl+C)."""
    path = Path(workspace)
    if not (path / "mujun.duckdb").is_file():
        raise WorkspaceError("WORKSPACE", path=str(path), detail=tr("cli.not_workspace"))
    from mujun.runs.accounts import has_admin

    if not has_admin(path):  # every page needs a login: without an administrator nobody could sign in
        raise WorkspaceError("SERVE-NO-ADMIN", workspace=str(path))
    import uvicorn

    from mujun.runs.access import note_serving  # imports DuckDB: not at start-up (`mujun --help` lists serve)
    from mujun.web import create_app

    shown = f"[{host}]" if ":" in host else host

    def ready() -> None:  # after the app has warmed its slow first pages (web/app.py _warm)
        echo(tr("cli.serve.started", host=shown, port=port, path=path))
        if host not in ("127.0.0.1", "localhost", "::1"):
            echo(tr("cli.serve.exposed", host=host))

    app = create_app(path, on_ready=ready)
    with note_serving(path, f"http://{shown}:{port}/"):  # lets a refused CLI write name this server (runs/access.py)
        uvicorn.run(app, host=host, port=port, workers=1, log_level="warning", access_log=False)


@click.command("serve")
@click.option("--workspace", "workspace", required=True, type=click.Path(file_okay=False), help=tr("cli.opt.workspace"))
@click.option("--host", default=SERVE_HOST, show_default=True, help=tr("cli.opt.host"))
@click.option("--port", default=SERVE_PORT, show_default=True, type=int)
def serve(workspace: str, host: str, port: int) -> None:
    """Serve the web app for a workspace (Chinese by default; works with no network)."""
    serve_workspace(workspace, host, port)


COMMANDS = (serve,)
