"""Temporary files of uploads and exports live in the storage's own temp
folder (``<storage>/.tmp`` unless TEMP_DIR says otherwise), never in /tmp, and
what a killed process left there is removed when the app starts and by
`storage-check --fix`."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.photos.test_photos_api import jpeg_bytes, make_wound, upload

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
DAY = 86400


def _age(path: Path, seconds: float) -> None:
    """Make ``path`` (and everything under it) look ``seconds`` old."""
    then = time.time() - seconds
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, (then, then))


def _inside(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def test_the_temp_folder_is_the_storages_own(app):
    storage_root = Path(app.extensions["storage"].root)
    assert Path(app.config["TEMP_DIR"]) == storage_root / ".tmp"


def test_an_upload_works_in_the_temp_folder(app, nurse, clinic, monkeypatch):
    from app.photos import imaging

    seen: list[str] = []
    real = imaging.process_upload

    def spy(path, limits, workdir, **kwargs):
        seen.append(os.fspath(workdir))
        assert _inside(path, app.config["TEMP_DIR"])  # the received upload too
        return real(path, limits, workdir, **kwargs)

    monkeypatch.setattr(imaging, "process_upload", spy)
    wound = make_wound(app, clinic)
    r = upload(nurse, wound, jpeg_bytes(Image.new("RGB", (320, 240), (170, 90, 80))))
    assert r.status_code == 201, r.get_data(as_text=True)
    assert len(seen) == 1 and _inside(seen[0], app.config["TEMP_DIR"])
    assert not Path(seen[0]).exists()  # removed once the upload is done


def test_an_export_works_in_the_temp_folder(app, clinic_admin, clinic, monkeypatch):
    from app.exports import jobs
    from tests.exports.test_exports_api import _insert_job

    seen: list[Path] = []
    real = jobs._write_zip

    def spy(engine, job_id, attempt, sel, fmt, zip_path):
        seen.append(zip_path)
        return real(engine, job_id, attempt, sel, fmt, zip_path)

    monkeypatch.setattr(jobs, "_write_zip", spy)
    job_id = _insert_job(app, clinic_admin.user_id, clinic, status="queued")
    assert jobs.run_export(job_id, app) == "done"
    assert len(seen) == 1 and _inside(seen[0], app.config["TEMP_DIR"])
    assert not seen[0].parent.exists()


def _leftovers(temp: Path) -> dict[str, Path]:
    """What killed processes left: an upload and an export from yesterday, and
    an upload of a process still running (a minute old)."""
    temp.mkdir(parents=True, exist_ok=True)
    old_upload = temp / "photo-upload-dead1"
    old_upload.mkdir()
    (old_upload / "upload-x").write_bytes(b"raw photo bytes")
    old_export = temp / "export-dead2"
    (old_export / "files").mkdir(parents=True)
    (old_export / "files" / "patients.csv").write_text("id\n")
    running = temp / "photo-upload-live3"
    running.mkdir()
    (running / "upload-y").write_bytes(b"being received")
    _age(old_upload, 2 * DAY)
    _age(old_export, 2 * DAY)
    _age(running, 60)
    return {"old_upload": old_upload, "old_export": old_export, "running": running}


def test_stale_leftovers_are_removed_when_the_app_starts(app, tmp_path):
    from app import create_app

    storage = tmp_path / "storage"
    left = _leftovers(storage / ".tmp")
    create_app({**app.config, "STORAGE_DIR": str(storage), "TEMP_DIR": None})
    assert not left["old_upload"].exists() and not left["old_export"].exists()
    assert (left["running"] / "upload-y").read_bytes() == b"being received"


def test_a_folder_with_recent_writes_is_not_stale(app, tmp_path):
    """An export writing for hours: its folder is old, its newest file is not."""
    from app.core import scratch

    temp = tmp_path / "temp"
    busy = temp / "export-busy"
    (busy / "files").mkdir(parents=True)
    _age(busy, 2 * DAY)
    (busy / "files" / "assessments.csv").write_text("just written\n")
    assert scratch.remove_stale(temp, older_than_s=3600) == []
    assert busy.exists()


def test_the_sweep_leaves_other_folders_to_their_owners(app, tmp_path):
    """Only the folders scratch hands out are judged: the resumable uploads'
    area keeps its partial files for their own (longer) expiry."""
    from app.core import scratch

    temp = tmp_path / "temp"
    uploads = temp / "uploads"
    uploads.mkdir(parents=True)
    (uploads / "part").write_bytes(b"first half")
    _age(uploads, 2 * DAY)
    _age(uploads / "part", 2 * DAY)
    assert scratch.stale_entries(temp, older_than_s=3600) == []
    assert scratch.remove_stale(temp, older_than_s=3600) == []
    assert (uploads / "part").read_bytes() == b"first half"
    with pytest.raises(ValueError):
        scratch.make_dir(temp, "uploads")


def test_storage_check_reports_and_fixes_stale_leftovers(app, tmp_path, monkeypatch):
    from app.core.storage import make_storage

    store = make_storage(tmp_path / "store")
    monkeypatch.setitem(app.extensions, "storage", store)
    monkeypatch.setitem(app.config, "TEMP_DIR", str(tmp_path / "store" / ".tmp"))
    left = _leftovers(tmp_path / "store" / ".tmp")
    runner = app.test_cli_runner()

    result = runner.invoke(args=["storage-check"])
    assert result.exit_code == 1, result.output
    assert "stale temp  photo-upload-dead1" in result.output
    assert "stale temp  export-dead2" in result.output
    assert "live3" not in result.output
    assert left["old_upload"].exists()

    fixed = runner.invoke(args=["storage-check", "--fix"])
    assert fixed.exit_code == 0, fixed.output
    assert "removed temp  photo-upload-dead1" in fixed.output
    assert not left["old_upload"].exists() and not left["old_export"].exists()
    assert left["running"].exists()
    assert runner.invoke(args=["storage-check"]).exit_code == 0


def test_a_configured_temp_dir_is_used(app, tmp_path):
    from app import create_app

    own = tmp_path / "scratch"
    other = create_app({**app.config, "STORAGE_DIR": str(tmp_path / "s"), "TEMP_DIR": str(own)})
    assert Path(other.config["TEMP_DIR"]) == own and own.is_dir()
