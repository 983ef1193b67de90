"""Heavy libraries stay out of a server process until a request needs them.

matplotlib (charts), OpenCV and numpy (marker detection, outlines), scikit-image
and SciPy (the outline fallback), pyarrow (Parquet exports), pillow-heif (HEIF
uploads), boto3 (S3 storage) and rq/redis (queued exports) together add well
over 100 MB of resident memory to every worker; the photo upload and outline
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
