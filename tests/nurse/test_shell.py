"""The nurse app's files as the server hands them out: no session needed, the
pages' CSP, revalidated on every visit, the service worker with the shell's
list and version written in, an installable manifest with real icons."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from app.core.security import CSP

STATIC = Path(__file__).resolve().parents[2] / "app" / "nurse" / "static"
SHELL_BUDGET = 150 * 1024


def test_the_page_needs_no_session_and_runs_no_inline_script(client):
    assert client.get("/app").status_code == 308
    r = client.get("/app/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert r.headers["Content-Security-Policy"] == CSP
    assert r.headers["Cache-Control"] == "no-cache"
    html = r.text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/app/' in attrs and not body.strip() for attrs, body in scripts)
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [
        ("/app/js/main.js", "text/javascript"),
        ("/app/app.css", "text/css"),
        ("/app/manifest.webmanifest", "application/manifest+json"),
        ("/app/icons/icon-192.png", "image/png"),
    ],
)
def test_the_files_have_their_types(client, path, mimetype):
    r = client.get(path)
    assert r.status_code == 200 and r.mimetype == mimetype
    assert r.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("path", ["/app/../config.py", "/app/%2e%2e/wsgi.py", "/app/nope.js"])
def test_nothing_outside_the_app_folder(client, path):
    assert client.get(path).status_code == 404


def test_the_service_worker_keeps_every_shell_file(client, tmp_path):
    r = client.get("/app/sw.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    source = r.text
    assert "__SHELL_" not in source
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", source).group(1))
    on_disk = {
        f"/app/{p.relative_to(STATIC).as_posix()}"
        for p in STATIC.rglob("*")
        if p.is_file() and p.name not in ("sw.js", "index.html")
    }
    assert set(shell) == on_disk | {"/app/"}
    for url in shell:
        assert client.get(url).status_code == 200, url
    version = re.search(r'const VERSION = "([0-9a-f]{16})"', source).group(1)
    # the version follows the files: a change to any of them is a new worker
    css = STATIC / "app.css"
    original = css.read_bytes()
    try:
        css.write_bytes(original + b"\n/* changed */\n")
        changed = re.search(r'const VERSION = "([0-9a-f]{16})"', client.get("/app/sw.js").text)
        assert changed.group(1) != version
    finally:
        css.write_bytes(original)


def test_the_shell_is_small(client):
    total = sum(len(client.get(url).data) for url in _shell(client))
    assert total < SHELL_BUDGET, total


def _shell(client) -> list[str]:
    source = client.get("/app/sw.js").text
    return [*json.loads(re.search(r"const SHELL = (\[.*?\]);", source).group(1)), "/app/sw.js"]


def test_the_manifest_makes_it_installable(client):
    manifest = client.get("/app/manifest.webmanifest").json
    assert manifest["start_url"] == "/app/" and manifest["scope"] == "/app/"
    assert manifest["display"] == "standalone" and manifest["name"]
    sizes = set()
    for icon in manifest["icons"]:
        data = client.get(icon["src"]).data
        with Image.open(io.BytesIO(data)) as img:
            assert img.format == "PNG"
            assert f"{img.width}x{img.height}" == icon["sizes"]
            sizes.add(img.width)
    assert {192, 512} <= sizes
