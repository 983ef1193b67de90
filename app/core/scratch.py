"""Temporary files of uploads and exports, in the storage's own temp folder.

A photo upload is received and processed in a folder of its own
(``photo-upload-*``), an export writes and zips its files in one
(``export-*``). Both live under one temp folder: TEMP_DIR when set, else
``<storage root>/.tmp`` (local storage; with S3, ``<STORAGE_DIR>/.tmp``): on
the storage's volume rather than the machine's /tmp, and never among the
storage's keys (no key starts with a dot) or in a backup.

A process killed in the middle leaves its folder behind. ``remove_stale``
removes every entry whose newest file is older than a limit (TEMP_STALE_SECONDS,
6 hours by default; an export that has written anything since is kept): the
app factory runs it at start and ``storage-check --fix`` on demand.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_STALE_SECONDS = 6 * 3600
# The folders this module hands out (make_dir prefixes). Only these are judged
# stale: other packages keep their own areas here with their own expiry (the
# resumable uploads of app/sync under ``uploads/``, kept for a day).
PREFIXES: tuple[str, ...] = ("photo-upload-", "export-")


def temp_root(configured: str | None, storage: Any, storage_dir: str) -> Path:
    """The temp folder: ``configured``, else the local storage's ``.tmp``, else
    ``<storage_dir>/.tmp``."""
    if configured:
        return Path(configured)
    root = getattr(storage, "root", None)
    return Path(root if root is not None else storage_dir) / ".tmp"


def make_dir(root: str | os.PathLike[str], prefix: str) -> str:
    """A new private folder under ``root`` (created if missing); ``prefix`` is
    one of PREFIXES."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown temp folder prefix {prefix!r}")
    Path(root).mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix, dir=root)


def _newest_mtime(path: Path) -> float:
    """The latest modification time of ``path`` and anything under it."""
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for dirpath, dirnames, filenames in os.walk(path):
            for name in dirnames + filenames:
                with contextlib.suppress(OSError):
                    newest = max(newest, os.lstat(os.path.join(dirpath, name)).st_mtime)
    return newest


def stale_entries(
    root: str | os.PathLike[str], older_than_s: float, now: float | None = None
) -> list[Path]:
    """Entries of ``root`` made by this module (PREFIXES) in which nothing was
    written for ``older_than_s``."""
    now = time.time() if now is None else now
    found = []
    with contextlib.suppress(FileNotFoundError):
        for entry in sorted(Path(root).iterdir()):
            if not entry.name.startswith(PREFIXES):
                continue
            with contextlib.suppress(OSError):  # removed meanwhile by another process
                if now - _newest_mtime(entry) > older_than_s:
                    found.append(entry)
    return found


def remove_stale(
    root: str | os.PathLike[str], older_than_s: float, now: float | None = None
) -> list[str]:
    """Remove the stale entries of ``root``; the names of those removed."""
    removed = []
    for entry in stale_entries(root, older_than_s, now):
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:
            continue  # another process (a worker starting beside this one) was first
        except OSError as exc:
            log.warning("could not remove stale temporary %s: %s", entry.name, exc)
            continue
        removed.append(entry.name)
    return removed
