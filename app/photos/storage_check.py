"""The storage check: photo rows against the files in storage.

``flask --app wsgi storage-check [--fix]`` (app/photos/cli.py) runs it; the
load test runs the same command after its run.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.storage import Storage
from app.photos.models import Photo


@dataclass
class StorageReport:
    missing: list[tuple[str, str, str]] = field(default_factory=list)  # photo id, size, key
    orphans: list[str] = field(default_factory=list)
    young: list[str] = field(default_factory=list)  # orphan-looking, maybe an upload in flight
    removed: list[str] = field(default_factory=list)


def _age_seconds(store: Storage, key: str) -> float | None:
    root = getattr(store, "root", None)
    if root is None:
        return None
    with contextlib.suppress(OSError):
        return time.time() - os.stat(os.path.join(root, key)).st_mtime
    return None


def check_storage(
    session: Session, store: Storage, *, fix: bool = False, min_age_s: float = 3600
) -> StorageReport:
    """Compare photo rows (deleted ones included) with the keys under photos/.

    ``missing``: a row's file is absent. ``orphans``: a stored file no row
    names; with ``fix`` they are deleted (rows never are). Files younger than
    ``min_age_s`` (local storage) are only listed, as an upload may be between
    writing its files and committing its row.
    """
    report = StorageReport()
    referenced: dict[str, tuple[str, str]] = {}
    for photo_id, keys in session.execute(sa.select(Photo.id, Photo.storage_keys)):
        for size, key in (keys or {}).items():
            referenced[key] = (str(photo_id), size)
    stored = set(store.list_keys("photos/"))
    for key, (photo_id, size) in sorted(referenced.items()):
        if key not in stored:
            report.missing.append((photo_id, size, key))
    for key in sorted(stored - referenced.keys()):
        age = _age_seconds(store, key)
        if age is not None and age < min_age_s:
            report.young.append(key)
            continue
        report.orphans.append(key)
        if fix:
            store.delete(key)
            report.removed.append(key)
    return report
