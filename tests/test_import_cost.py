"""Heavy libraries stay out of a server process until a request needs them.

matplotlib (charts), OpenCV and numpy (marker detection, outlines), scikit-image
and SciPy (the outline fallback), pyarrow (Parquet exports), pillow-heif (HEIF
uploads), boto3 (S3 storage) and rq/redis (queued exports) together add well
over 100 MB of resident memory to every worker, Alembic and Mako (migrations,
which only the flask command line runs) another 10 MB; the photo upload and outline
memory budgets (tests/bench/bench_photos.py, bench_outline.py) depend on them
being imported lazily. A fresh interpreter is used because the test session
itself has imported most of them already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

HEAVY = (
    "matplotlib",
    "cv2",
    "numpy",
    "scipy",
    "skimage",
    "pyarrow",
    "pillow_heif",
    "boto3",
    "rq",
    "redis",
    "alembic",
    "mako",
)


def test_create_app_imports_no_heavy_library(tmp_path: Path) -> None:
    code = (
        "import json, sys\n"
        "from app import create_app\n"
        f"create_app({{'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path}/x.db',"
        f" 'STORAGE_DIR': '{tmp_path}', 'STORAGE_URL': None}})\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []


def test_the_flask_command_line_has_the_migrations(tmp_path: Path) -> None:
    """``flask db`` still works: the command line loads Flask-Migrate."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "STORAGE_DIR": str(tmp_path),
    }
    flask = Path(sys.executable).with_name("flask")
    done = subprocess.run(  # noqa: S603 - our own interpreter's flask
        [str(flask), "--app", "wsgi", "db", "heads"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    heads = [line.split()[0] for line in done.stdout.splitlines() if "(head)" in line]
    assert len(heads) == 1, done.stdout
