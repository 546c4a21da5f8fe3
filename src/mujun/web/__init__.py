"""The bureau's web app: FastAPI + Jinja2 + htmx + ECharts, all served from this package (no network)."""

from mujun.web.app import create_app

__all__ = ["create_app"]
