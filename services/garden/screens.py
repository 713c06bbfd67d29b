"""The garden's web screens (domain.md §11): static pages under `/ui/` and their configuration.

The pages (`web/agent.html`, `web/leader.html`) are plain HTML, CSS and ES modules: no
build step. Each page file holds its `<body>`; the server puts the one `<head>` the pages share
(`screen_parts/head.html`: language, viewport, style sheet and the page's own module
`js/<page>.js`) in front of it, and a line `<!-- part: NAME -->` in it stands for the markup
the pages share in `screen_parts/NAME.html` (the functions toolbar), as it serves the page.
They hold no data, so they are served without credentials, like `/ui/config.json` (where
the rewards API is); every data call the pages make carries the bearer token the host
platform hands them. The answers carry a Content-Security-Policy that lets the pages run
only their own scripts and talk only to the garden and the rewards API.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from textwrap import indent
from typing import Final
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from services.garden.config import GardenSettings

WEB: Final = Path(__file__).resolve().parent / "web"
PARTS: Final = Path(__file__).resolve().parent / "screen_parts"
PREFIX: Final = "/ui"
_PART: Final = re.compile(r"^(?P<indent> *)<!-- part: (?P<name>[a-z]+) -->\n", re.MULTILINE)


def _part(name: str) -> str:
    return (PARTS / f"{name}.html").read_text(encoding="utf-8")


def page_document(page: Path) -> str:
    """Return a page as served: the shared head (naming the page's own module), then its body
    with each `<!-- part: NAME -->` line replaced by that shared part at the line's indent."""
    head = _part("head").replace("{page}", page.stem)
    body = _PART.sub(
        lambda found: indent(_part(found["name"]), found["indent"]),
        page.read_text(encoding="utf-8"),
    )
    return f"{head}{body}</html>\n"


def origin_of(url: str) -> str:
    """Return the origin (`scheme://host:port`) of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def security_headers(rewards_url: str) -> dict[str, str]:
    """The headers every screen answer carries: its own scripts only, calls to the garden
    and the rewards API only, no referrer (the sign-in token never leaves in one)."""
    policy = "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' blob: data:",
            f"connect-src 'self' {origin_of(rewards_url)}",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )
    return {
        "Content-Security-Policy": policy,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }


class ScreenFiles(StaticFiles):
    """Static files with the screens' security headers; a page is served with the shared head."""

    def __init__(self, *, directory: Path, headers: dict[str, str]) -> None:
        super().__init__(directory=directory, html=True)
        self._headers = headers

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        file = Path(full_path)
        if file.suffix != ".html" or file.resolve().parent != WEB:
            return super().file_response(full_path, stat_result, scope, status_code)
        document = page_document(file)
        # As for a file: a client whose copy is current (If-None-Match) gets 304.
        etag = f'"{hashlib.sha256(document.encode()).hexdigest()[:32]}"'
        response = HTMLResponse(document, status_code=status_code, headers={"etag": etag})
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(self._headers)
        return response


def mount_screens(app: FastAPI, settings: GardenSettings) -> None:
    """Serve the screens under `/ui/` and their configuration at `/ui/config.json`."""
    headers = security_headers(settings.rewards_public_url)
    campaigns = "/v1/campaigns" in app.openapi().get("paths", {})  # the campaigns panel
    config = {"rewards_url": settings.rewards_public_url, "campaigns": campaigns}

    @app.get(f"{PREFIX}/config.json", include_in_schema=False)
    async def screens_config() -> JSONResponse:
        """Where the screens find the rewards API (no credentials: it holds no data)."""
        return JSONResponse(config, headers=headers)

    app.mount(PREFIX, ScreenFiles(directory=WEB, headers=headers), name="screens")
