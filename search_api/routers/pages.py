"""The web pages: the public search box at / and the staff screening desk at /staff, plain HTML, CSS and JS
served from search_api/web (no external resources, so they work on a network without internet)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

WEB = Path(__file__).resolve().parent.parent / "web"
# The pages load nothing from elsewhere; the policy makes sure of it, and blocks injected inline script.
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                                           "base-uri 'none'; form-action 'self'",
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


@router.get("/")
def public_page() -> FileResponse:
    return FileResponse(WEB / "index.html", headers=PAGE_HEADERS)


@router.get("/staff")
def staff_page() -> FileResponse:
    return FileResponse(WEB / "staff.html", headers=PAGE_HEADERS)
