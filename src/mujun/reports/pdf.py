"""HTML → PDF with WeasyPrint, offline: fonts from the system (Debian fonts-noto-cjk gives
"Noto Sans CJK SC"), and a URL fetcher that refuses anything but files under the given folder, so no
http(s) request can leave the machine while a PDF is made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mujun.catalog.text import translate

PDF_FONT = "'Noto Sans CJK SC', 'Noto Serif CJK SC', sans-serif"


def _fetcher(root: Path) -> Any:
    """A WeasyPrint URLFetcher limited to ``file://`` URLs under ``root`` (data: URIs are inline)."""
    from weasyprint.urls import URLFetcher

    class LocalOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("file://"):
                target = Path(url.removeprefix("file://").split("?")[0]).resolve()
                if target == root or root in target.parents:
                    return super().fetch(url, headers)
            raise ValueError(translate("rep.pdf_local", url=url))

    return LocalOnly(allowed_protocols=("file",))


def html_to_pdf(html: str, base: str | Path) -> bytes:
    """Render ``html`` (which may link files under ``base``, e.g. a stylesheet) to PDF bytes."""
    from weasyprint import HTML

    root = Path(base).resolve()
    return bytes(HTML(string=html, base_url=str(root), url_fetcher=_fetcher(root)).write_pdf())
