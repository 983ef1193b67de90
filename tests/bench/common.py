"""Helpers for benchmarks: an app on a fresh database, built with the migrations."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def make_app(database_url: str | None = None, **overrides):
    """A migrated app on a temporary SQLite file (or ``database_url``)."""
    from flask_migrate import upgrade

    from app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{tmp / 'bench.sqlite3'}",
            "STORAGE_DIR": str(tmp / "storage"),
            "RATELIMIT_ENABLED": False,
            "LOG_FORMAT": "text",
            "MIGRATIONS": True,
            **overrides,
        }
    )
    import logging

    logging.getLogger("app.access").setLevel(logging.WARNING)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
    return app


def existing_app(database_url: str, storage_dir: str):
    """An app on a database another process migrated, its access log quiet:
    what a child process measuring memory serves from."""
    import logging

    from app import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "STORAGE_DIR": storage_dir,
            "RATELIMIT_ENABLED": False,
            "LOG_FORMAT": "text",
        }
    )
    logging.getLogger("app.access").setLevel(logging.WARNING)
    return app


def in_fresh_process(module: str, function: str, *args: Any) -> tuple[float, float]:
    """``module.function(*args)`` (which answers (RSS before, peak RSS)) run in
    a new Python process, so that nothing this process loaded or grew counts."""
    code = f"import json; from {module} import {function}; print(json.dumps({function}(*{args!r})))"
    out = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    before, peak = json.loads(out.strip().splitlines()[-1])
    return float(before), float(peak)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))
