"""Request bodies are limited by the bytes actually read, not only by a
declared Content-Length: a chunked body (Transfer-Encoding: chunked, no
length) over the limit is refused with 413 on a real server, for every content
type and before authentication; a photo upload keeps its own, larger limit.

The servers are real: werkzeug's, serving the test app in a thread, and
gunicorn as `make run` starts it (both tell the app that they end the input
stream of a chunked request, ``wsgi.input_terminated``).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.photos.test_imaging import CORPUS
from tests.photos.test_photos_api import make_wound

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
ROOT = Path(__file__).resolve().parents[2]
CHUNK = 64 * 1024


@pytest.fixture
def server(app) -> Iterator[tuple[str, int]]:
    """The test app on 127.0.0.1 and a free port, in a background thread."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, name="body-limit-server", daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", srv.server_port
    finally:
        srv.shutdown()
        thread.join(timeout=10)


def send_chunked(
    address: tuple[str, int], path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str, bytes]:
    """POST ``body`` with Transfer-Encoding: chunked (no Content-Length).

    The server may answer before the whole body is sent and close the
    connection; the answer is read even then. Returns (status, media type, body).
    """
    conn = http.client.HTTPConnection(*address, timeout=60)
    try:
        conn.putrequest("POST", path, skip_accept_encoding=True)
        for name, value in {**headers, "Transfer-Encoding": "chunked"}.items():
            conn.putheader(name, value)
        conn.endheaders()
        try:
            for i in range(0, len(body), CHUNK):
                piece = body[i : i + CHUNK]
                conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            conn.send(b"0\r\n\r\n")
        except OSError:  # the server answered early and stopped reading
            pass
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type", ""), resp.read()
    finally:
        conn.close()


def assert_413(answer: tuple[int, str, bytes], *, api: bool = True) -> None:
    """413; from the API as problem+json (the clinic pages answer with a page)."""
    status, media_type, body = answer
    assert status == 413, (status, body[:300])
    if not api:
        return
    assert media_type.startswith("application/problem+json")
    assert json.loads(body)["status"] == 413


def _json(size: int) -> bytes:
    return json.dumps({"email": "someone@example.org", "password": "p" * size}).encode()


def test_chunked_json_over_the_limit_is_413_without_a_token(app, server):
    """The sign-in route needs no token: its body limit is all there is."""
    body = _json(app.config["MAX_JSON_BYTES"] + 512 * 1024)
    headers = {"Content-Type": "application/json"}
    assert_413(send_chunked(server, "/api/v1/auth/token", body, headers))


def test_chunked_json_within_the_limit_is_read(app, server):
    """The same route, a chunked body under the limit: read and answered (401)."""
    body = _json(1000)
    status, _, _ = send_chunked(
        server, "/api/v1/auth/token", body, {"Content-Type": "application/json"}
    )
    assert status == 401


def test_chunked_json_over_the_limit_is_413_with_a_token(app, server, nurse):
    patient = {"mrn": "X-1", "given_name": "A" * (app.config["MAX_JSON_BYTES"] + 1024)}
    headers = {"Content-Type": "application/json", **nurse.headers}
    assert_413(send_chunked(server, "/api/v1/patients", json.dumps(patient).encode(), headers))


def test_chunked_form_body_over_the_limit_is_413(app, server):
    """Not only JSON: a form of many small fields (none over werkzeug's
    per-field limit) read by the sign-in page."""
    fields = b"&".join(b"f%d=%s" % (i, b"v" * 100) for i in range(15_000))
    assert len(fields) > app.config["MAX_JSON_BYTES"]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert_413(send_chunked(server, "/web/sign-in", fields, headers), api=False)


def _multipart(data: bytes, boundary: str = "limitbnd") -> bytes:
    return (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="w.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )


def test_chunked_photo_upload_keeps_its_own_larger_limit(app, server, nurse, clinic, monkeypatch):
    """A chunked upload over the JSON limit but within the photo limit is
    stored; one over the photo limit is 413."""
    monkeypatch.setitem(app.config, "MAX_JSON_BYTES", 8 * 1024)
    wound = make_wound(app, clinic)
    photo = (CORPUS / "flower.jpg").read_bytes()
    assert len(photo) > 2 * app.config["MAX_JSON_BYTES"]
    headers = {"Content-Type": "multipart/form-data; boundary=limitbnd", **nurse.headers}
    path = f"/api/v1/wounds/{wound}/photos"
    status, _, body = send_chunked(server, path, _multipart(photo), headers)
    assert status == 201, body[:300]

    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 8 * 1024)
    big = os.urandom(app.config["PHOTO_MAX_BYTES"] + 128 * 1024)  # beyond the multipart room
    assert_413(send_chunked(server, path, _multipart(big), headers))


# --- gunicorn, as `make run` starts it --------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def gunicorn(tmp_path) -> Iterator[tuple[str, int]]:
    port = _free_port()
    env: dict[str, Any] = {
        "PATH": "/usr/bin:/bin",
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STORAGE_DIR": str(tmp_path / "storage"),
        "SECRET_KEY": uuid.uuid4().hex * 2,
    }
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(  # noqa: S603 - fixed argv
        [*argv, "--workers", "1", "--threads", "4", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_gunicorn_chunked_json_over_the_limit_is_413(gunicorn):
    body = _json(2 * 1024 * 1024)  # the default limit is 1 MB
    headers = {"Content-Type": "application/json"}
    assert_413(send_chunked(gunicorn, "/api/v1/auth/token", body, headers))
