"""Serving the nurse capture app (a PWA) at /app/.

The app is static files: an HTML shell, plain ES modules, a stylesheet, the
web app manifest, icons and a service worker. None of them holds patient
data, so they are served without a session or token; the app signs in
against the API and keeps its records in the phone's IndexedDB.

The service worker lives at /app/sw.js so that its scope is /app/ without a
Service-Worker-Allowed header. Every file is revalidated (no-cache): the
service worker keeps the offline copy, and a deploy reaches phones on their
next visit online instead of after some max-age.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import Blueprint, Response, redirect, send_from_directory
from flask.typing import ResponseReturnValue

STATIC = Path(__file__).with_name("static")

bp = Blueprint("nurse", __name__)

_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".png": "image/png",
    ".webmanifest": "application/manifest+json",
}


def _send(path: str) -> ResponseReturnValue:
    mimetype = _TYPES.get(Path(path).suffix)
    response = send_from_directory(STATIC, path, mimetype=mimetype, max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/app")
def app_root() -> ResponseReturnValue:
    return redirect("/app/", code=308)


@bp.get("/app/")
def shell() -> ResponseReturnValue:
    return _send("index.html")


def shell_files() -> list[str]:
    """The URLs the service worker keeps for offline use: every file of the app
    (the page itself as /app/, not /app/index.html), the worker excepted."""
    files = sorted(
        p.relative_to(STATIC).as_posix()
        for p in STATIC.rglob("*")
        if p.is_file() and p.name not in ("sw.js", "index.html")
    )
    return ["/app/", *(f"/app/{name}" for name in files)]


@bp.get("/app/sw.js")
def service_worker() -> ResponseReturnValue:
    """The worker, with the shell's file list and a hash of the shell's
    contents written in: any change to the app is a new worker and cache."""
    digest = hashlib.sha256()
    for url in shell_files():
        name = "index.html" if url == "/app/" else url.removeprefix("/app/")
        digest.update(name.encode() + b"\0" + (STATIC / name).read_bytes())
    source = (STATIC / "sw.js").read_text(encoding="utf-8")
    source = source.replace("__SHELL_VERSION__", digest.hexdigest()[:16])
    source = source.replace("__SHELL_FILES__", json.dumps(shell_files()))
    return Response(source, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})


@bp.get("/app/<path:path>")
def asset(path: str) -> ResponseReturnValue:
    """The app's files; send_from_directory refuses paths that leave static/."""
    return _send(path)
