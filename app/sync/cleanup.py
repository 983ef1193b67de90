"""`flask storage-check` for the upload area: expired uploads and stray files.

- An open upload past its expiry is reported; with ``--fix`` it is marked
  expired and its bytes are removed (the row stays, as every row does).
- A file of the upload area that no open upload owns (its upload finished or
  was terminated and the removal after the request did not happen, or a
  crash left it) is stray; ``--fix`` removes it. Files younger than
  ``--min-age`` are left alone: their upload may be committing right now.
- A file another request is writing to (locked) is never touched.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.db import utcnow
from app.core.errors import Problem
from app.sync import tus
from app.sync.models import Upload
from app.sync.uploads import data_path, upload_dir


@dataclass
class UploadReport:
    expired: list[str] = field(default_factory=list)  # upload ids
    stray: list[str] = field(default_factory=list)  # file names
    young: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # ids and names

    def lines(self) -> list[str]:
        out = [f"{'removed' if i in self.removed else 'expired'}  upload {i}" for i in self.expired]
        out += [f"{'removed' if n in self.removed else 'stray'}  uploads/{n}" for n in self.stray]
        out += [f"recent   uploads/{n} (younger than --min-age; left alone)" for n in self.young]
        out.append(
            f"uploads: {len(self.expired)} expired, {len(self.stray)} stray, "
            f"removed {len(self.removed)}, {len(self.young)} recent"
        )
        return out

    @property
    def left(self) -> int:
        """Problems still there (not removed)."""
        return len(self.expired) + len(self.stray) - len(self.removed)


def _remove(path: str) -> bool:
    """Remove an upload's file unless a request holds it; whether it is gone."""
    try:
        with tus.locked(path):
            os.remove(path)
    except Problem as exc:
        return exc.status == 410  # already gone; 423: in use, leave it
    except OSError:
        return False
    return True


def _upload_id(name: str) -> uuid.UUID | None:
    if not name.endswith(".part"):
        return None
    with contextlib.suppress(ValueError):
        return uuid.UUID(name.removesuffix(".part"))
    return None


def check_uploads(session: Session, *, fix: bool, min_age_s: float) -> UploadReport:
    report = UploadReport()
    now = utcnow()
    expired = session.scalars(
        sa.select(Upload).where(Upload.state == "open", Upload.expires_at <= now)
    ).all()
    for upload in expired:
        report.expired.append(str(upload.id))
        if fix and _remove(data_path(upload.id)):
            upload.state, upload.ended_at = "expired", now
            report.removed.append(str(upload.id))
    live = set(
        session.scalars(sa.select(Upload.id).where(Upload.state == "open", Upload.expires_at > now))
    )
    folder = upload_dir()
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    for name in names:
        upload_id = _upload_id(name)
        if (upload_id is not None and upload_id in live) or (
            upload_id is not None and str(upload_id) in report.expired
        ):
            continue
        path = os.path.join(folder, name)
        with contextlib.suppress(OSError):
            if time.time() - os.stat(path).st_mtime < min_age_s:
                report.young.append(name)
                continue
        report.stray.append(name)
        if fix and _remove(path):
            report.removed.append(name)
    session.flush()
    return report


def storage_check(fix: bool, min_age_s: float) -> tuple[list[str], int]:
    """The upload area's part of ``flask storage-check``: (lines, problems left)."""
    from app.extensions import db

    report = check_uploads(db.session, fix=fix, min_age_s=min_age_s)
    db.session.commit()  # the command is its own boundary
    return report.lines(), report.left
