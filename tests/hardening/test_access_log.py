"""A real gunicorn, started the way `make run` starts it, logs no query string."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - our own loopback server
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_access_log_has_paths_but_no_query_strings(tmp_path):
    port = _free_port()
    log = tmp_path / "access.log"
    env = {
        "PATH": "/usr/bin:/bin",
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STORAGE_DIR": str(tmp_path / "storage"),
    }
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [*argv, "--workers", "1", "--access-logfile", str(log), "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(f"{base}/api/v1/health") == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not answer"
            time.sleep(0.3)
        assert _get(f"{base}/api/v1/patients?mrn=SEED-MRN-0001&given_name=Hilda") == 401
        time.sleep(0.5)  # the access log is written after the response
        text = log.read_text()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert '"GET /api/v1/patients HTTP/1.1" 401' in text
    assert "SEED-MRN-0001" not in text and "Hilda" not in text and "?" not in text
