"""The marketers' web page: static files under `/app/`, with a strict Content-Security-Policy."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from brandcrew.server.errors import ApiError

router = APIRouter(include_in_schema=False)

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
FILES = ("index.html", "app.js", "app.css", "favicon.svg")
"""Everything the page is made of; any other path under `/app/` is a 404 (no directory walking)."""

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    # The files carry no version in their names, so browsers revalidate every time (a cheap 304).
    "Cache-Control": "no-cache",
}


@cache
def _load(name: str) -> tuple[bytes, str]:
    """A file's bytes and strong ETag (read once: the files ship inside the package)."""
    data = (WEB_DIR / name).read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


@router.get("/")
def root() -> RedirectResponse:
    """The page lives under /app/."""
    return RedirectResponse("/app/", status_code=307)


@router.get("/app")
def app_without_slash() -> RedirectResponse:
    """/app -> /app/ so the page's relative asset paths resolve."""
    return RedirectResponse("/app/", status_code=307)


@router.get("/app/{path:path}")
def web_file(path: str, request: Request) -> Response:
    """One of the page's files (the page itself for `/app/`), 304 when the browser's copy is current."""
    name = path or "index.html"
    if name not in FILES:
        raise ApiError(404, "NOT_FOUND", "no such page")
    data, etag = _load(name)
    headers = {**SECURITY_HEADERS, "ETag": etag}
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(content=data, media_type=_TYPES[Path(name).suffix], headers=headers)
