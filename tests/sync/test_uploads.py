"""Resumable photo uploads: the tus 1.0 protocol at /api/v1/uploads, owned by
the user who started them, finished through the plain upload's pipeline."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import io
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.assessments.helpers import count_rows, make_wound
from tests.photos.test_imaging import CORPUS, assert_clean_jpeg

TUS = {"Tus-Resumable": "1.0.0"}
PHOTO = (CORPUS / "exif_gps.jpg").read_bytes()  # EXIF with GPS: must be stripped


def meta(**fields) -> str:
    return ",".join(f"{k} {base64.b64encode(str(v).encode()).decode()}" for k, v in fields.items())


def create(actor, length, **fields):
    headers = {**TUS, "Upload-Length": str(length), "Upload-Metadata": meta(**fields)}
    return actor.post("/api/v1/uploads", headers=headers)


def patch(actor, url, offset, data, **headers):
    headers = {
        **TUS,
        "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream",
        **headers,
    }
    return actor.patch(url, data=data, headers=headers)


def head(actor, url):
    return actor.request("HEAD", url, headers=TUS)


def checksum(data: bytes, algorithm: str = "sha1") -> str:
    return f"{algorithm} {base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


@pytest.fixture
def wound(app, clinic):
    return make_wound(app, clinic)


def upload_files(app) -> list[Path]:
    from app.sync.uploads import upload_dir

    with app.test_request_context():
        folder = Path(upload_dir())
    return sorted(folder.iterdir()) if folder.exists() else []


def _upload_row(app, upload_id):
    from app.extensions import db
    from app.sync.models import Upload

    with app.app_context():
        row = db.session.get(Upload, uuid.UUID(upload_id))
        db.session.expunge_all()
        return row


# --- the protocol -----------------------------------------------------------------------


def test_options_says_what_the_server_offers_without_a_token(client):
    r = client.options("/api/v1/uploads")
    assert r.status_code == 204
    assert r.headers["Tus-Resumable"] == r.headers["Tus-Version"] == "1.0.0"
    assert set(r.headers["Tus-Extension"].split(",")) == {
        "creation",
        "expiration",
        "termination",
        "checksum",
    }
    assert int(r.headers["Tus-Max-Size"]) == 25 * 1024 * 1024
    assert "sha1" in r.headers["Tus-Checksum-Algorithm"].split(",")


def test_an_upload_in_pieces_becomes_the_photo_a_plain_upload_makes(app, nurse, clinic, wound):
    photo_id = str(uuid.uuid4())
    r = create(nurse, len(PHOTO), wound_id=wound, id=photo_id, filename="IMG_1.jpg")
    assert r.status_code == 201, r.get_data(as_text=True)
    url = r.headers["Location"]
    assert url == f"/api/v1/uploads/{r.json['id']}"
    assert r.json["offset"] == 0 and r.json["state"] == "open"
    assert "GMT" in r.headers["Upload-Expires"]
    h = head(nurse, url)
    assert (h.headers["Upload-Offset"], h.headers["Upload-Length"]) == ("0", str(len(PHOTO)))
    assert h.headers["Cache-Control"] == "no-store"

    cut = len(PHOTO) // 3
    first = patch(nurse, url, 0, PHOTO[:cut], **{"Upload-Checksum": checksum(PHOTO[:cut])})
    assert first.status_code == 204 and first.headers["Upload-Offset"] == str(cut)
    assert "Photo-Location" not in first.headers
    last = patch(
        nurse, url, cut, PHOTO[cut:], **{"Upload-Checksum": checksum(PHOTO[cut:], "sha256")}
    )
    assert last.status_code == 204, last.get_data(as_text=True)
    assert last.headers["Upload-Offset"] == str(len(PHOTO))
    assert last.headers["Photo-Location"] == f"/api/v1/photos/{photo_id}"

    photo = nurse.get(f"/api/v1/photos/{photo_id}").json
    other = make_wound(app, clinic)
    plain = nurse.post(
        f"/api/v1/wounds/{other}/photos",
        data={"file": (io.BytesIO(PHOTO), "p.jpg")},
        content_type="multipart/form-data",
    ).json
    same = ("width", "height", "sha256", "format_in", "taken_at_source", "marker_detection")
    assert {k: photo[k] for k in same} == {k: plain[k] for k in same}
    assert photo["wound_id"] == str(wound)
    from app.extensions import db
    from app.photos.models import Photo

    with app.app_context():
        keys = db.session.get(Photo, uuid.UUID(photo_id)).storage_keys
    assert sorted(keys) == ["large", "original", "thumb"]
    for size, key in keys.items():
        assert key.startswith(f"photos/{clinic}/{wound}/{photo_id}/"), size
        assert_clean_jpeg(str(Path(app.extensions["storage"].root) / key))
    assert upload_files(app) == []  # the partial file is gone once the photo exists
    done = head(nurse, url)
    assert done.headers["Upload-Offset"] == str(len(PHOTO))
    assert done.headers["Photo-Location"] == f"/api/v1/photos/{photo_id}"
    again = patch(nurse, url, len(PHOTO), b"")  # a resent last PATCH: nothing new
    assert again.status_code == 204 and again.headers["Photo-Location"] == done.headers[
        "Photo-Location"]  # fmt: skip


def test_a_piece_larger_than_the_json_limit_is_taken(app, nurse, wound):
    """A PATCH body is a piece of a photo: the photo limit holds, not the 1 MB
    JSON limit of other routes."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(3)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (700, 700, 3), dtype=np.uint8), "RGB").save(buf, "PNG")
    data = buf.getvalue()
    assert len(data) > app.config["MAX_JSON_BYTES"]
    r = create(nurse, len(data), wound_id=wound, id=str(uuid.uuid4()))
    assert r.status_code == 201, r.get_data(as_text=True)
    done = patch(nurse, r.headers["Location"], 0, data)
    assert done.status_code == 204, done.get_data(as_text=True)
    assert done.headers["Photo-Location"].startswith("/api/v1/photos/")


def test_a_body_cut_short_keeps_what_arrived(app, nurse, wound):
    url = create(nurse, len(PHOTO), wound_id=wound).headers["Location"]
    sent = len(PHOTO) * 6 // 10
    r = nurse.patch(
        url,
        input_stream=io.BytesIO(PHOTO[:sent]),
        headers={**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
        environ_overrides={"CONTENT_LENGTH": str(len(PHOTO))},  # the rest never comes
    )
    assert r.status_code == 400 and r.headers["Upload-Offset"] == str(sent)
    assert head(nurse, url).headers["Upload-Offset"] == str(sent)
    resumed = patch(nurse, url, sent, PHOTO[sent:])
    assert resumed.status_code == 204 and "Photo-Location" in resumed.headers


def test_a_cut_body_with_a_checksum_is_dropped(app, nurse, wound):
    url = create(nurse, len(PHOTO), wound_id=wound).headers["Location"]
    r = nurse.patch(
        url,
        input_stream=io.BytesIO(PHOTO[:1000]),
        headers={
            **TUS,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
            "Upload-Checksum": checksum(PHOTO),
        },
        environ_overrides={"CONTENT_LENGTH": str(len(PHOTO))},
    )
    assert r.status_code == 400
    assert head(nurse, url).headers["Upload-Offset"] == "0"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Upload-Offset": "5"}, 409),
        ({"Upload-Offset": "-1"}, 400),
        ({"Upload-Offset": "1e3"}, 400),
        ({"Upload-Offset": None}, 400),
        ({"Content-Type": "application/octet-stream"}, 415),
        ({"Tus-Resumable": "0.2.2"}, 412),
        ({"Tus-Resumable": None}, 412),
        ({"Upload-Checksum": "crc32 AAAA"}, 400),
        ({"Upload-Checksum": "sha1 not-base64!"}, 400),
        ({"Upload-Checksum": checksum(b"other bytes")}, 460),
    ],
)
def test_protocol_errors_keep_the_upload_as_it_was(app, nurse, wound, headers, status):
    url = create(nurse, len(PHOTO), wound_id=wound).headers["Location"]
    patch(nurse, url, 0, PHOTO[:100])
    sent = {
        **TUS,
        "Upload-Offset": "100",
        "Content-Type": "application/offset+octet-stream",
        **headers,
    }
    r = nurse.patch(url, data=PHOTO[100:200], headers={k: v for k, v in sent.items() if v})
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    assert r.headers["Tus-Resumable"] == "1.0.0"
    if status == 409:
        assert r.headers["Upload-Offset"] == "100"
    if status == 412:
        assert r.headers["Tus-Version"] == "1.0.0"
    assert head(nurse, url).headers["Upload-Offset"] == "100"


def test_more_bytes_than_the_upload_holds_is_413(app, nurse, wound):
    url = create(nurse, 100, wound_id=wound).headers["Location"]
    assert patch(nurse, url, 0, PHOTO[:101]).status_code == 413
    chunked = nurse.patch(
        url,
        input_stream=io.BytesIO(PHOTO[:150]),
        headers={**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
        # A chunked body: no Content-Length, the server ends the stream.
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    assert chunked.status_code == 413
    assert "runs past" in chunked.json["detail"]
    assert head(nurse, url).headers["Upload-Offset"] == "0"


def test_a_second_writer_waits_its_turn(app, nurse, wound):
    url = create(nurse, len(PHOTO), wound_id=wound).headers["Location"]
    [path] = upload_files(app)
    with open(path, "r+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        r = patch(nurse, url, 0, PHOTO[:100])
        assert r.status_code == 423 and r.headers["Retry-After"]
        assert nurse.delete(url, headers=TUS).status_code == 423
    assert patch(nurse, url, 0, PHOTO[:100]).status_code == 204


# --- creation ---------------------------------------------------------------------------


WOUND = "the test's wound"


@pytest.mark.parametrize(
    ("length", "fields", "status", "field"),
    [
        (100, {}, 422, "Upload-Metadata.wound_id"),
        (100, {"wound_id": "x"}, 422, "Upload-Metadata.wound_id"),
        (100, {"wound_id": uuid.uuid4()}, 422, "Upload-Metadata.wound_id"),
        (100, {"wound_id": WOUND, "bogus": "1"}, 422, "Upload-Metadata.bogus"),
        (100, {"wound_id": WOUND, "taken_at": "2026-01-01T10:00:00"}, 422,
         "Upload-Metadata.taken_at"),
        (100, {"wound_id": WOUND, "marker_size_cm": "900"}, 422, "Upload-Metadata.marker_size_cm"),
        (0, {"wound_id": WOUND}, 422, "Upload-Length"),
        (26 * 1024 * 1024, {"wound_id": WOUND}, 413, None),
    ],
)  # fmt: skip
def test_creation_checks_the_fields_before_any_byte_is_sent(
    app, nurse, wound, length, fields, status, field
):
    from app.sync.models import Upload

    fields = {k: wound if v == WOUND else v for k, v in fields.items()}
    r = create(nurse, length, **fields)
    assert r.status_code == status, r.get_data(as_text=True)
    if field:
        assert field in r.json["errors"]
    assert count_rows(app, Upload) == 0 and upload_files(app) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Upload-Metadata": "wound_id !!!"},
        {"Upload-Metadata": "wound_id YQ==,wound_id YQ=="},
        {"Upload-Metadata": "bad key YQ=="},
        {"Upload-Length": "ten"},
        {"Upload-Length": None},
    ],
)
def test_malformed_creation_headers_are_400(app, nurse, wound, headers):
    sent = {**TUS, "Upload-Length": "100", "Upload-Metadata": meta(wound_id=wound), **headers}
    r = nurse.post("/api/v1/uploads", headers={k: v for k, v in sent.items() if v})
    assert r.status_code == 400 and r.mimetype == "application/problem+json"


def test_an_upload_belongs_to_its_user_and_clinic(
    app, factory, clinic, nurse, outsider, researcher, wound
):
    colleague = factory.actor("nurse", clinic)
    url = create(nurse, len(PHOTO), wound_id=wound).headers["Location"]
    for other in (colleague, outsider):
        assert head(other, url).status_code == 404
        assert patch(other, url, 0, PHOTO[:10]).status_code == 404
        assert other.delete(url, headers=TUS).status_code == 404
    assert create(researcher, 100, wound_id=wound).status_code == 403
    r = create(outsider, 100, wound_id=wound)
    assert r.status_code == 422 and "Upload-Metadata.wound_id" in r.json["errors"]
    assert head(nurse, url).headers["Upload-Offset"] == "0"


def test_open_uploads_per_user_are_limited(app, nurse, clinician, wound, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_OPEN", 2)
    first = create(nurse, 100, wound_id=wound).headers["Location"]
    create(nurse, 100, wound_id=wound)
    refused = create(nurse, 100, wound_id=wound)
    assert refused.status_code == 429 and "unfinished" in refused.json["detail"]
    assert create(clinician, 100, wound_id=wound).status_code == 201  # per user
    assert nurse.delete(first, headers=TUS).status_code == 204
    assert create(nurse, 100, wound_id=wound).status_code == 201


def test_creating_an_upload_is_audited(app, nurse, wound):
    from app.core.audit import AuditEvent
    from app.extensions import db

    upload_id = create(nurse, 100, wound_id=wound).json["id"]
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.record_id == upload_id)
        ).all()
    assert actions == ["create"]


# --- termination, expiry, cleanup ---------------------------------------------------------


def test_termination_drops_the_bytes(app, nurse, wound):
    url = create(nurse, len(PHOTO), wound_id=wound).headers["Location"]
    patch(nurse, url, 0, PHOTO[:500])
    assert nurse.delete(url, headers=TUS).status_code == 204
    assert upload_files(app) == []
    assert head(nurse, url).status_code == 410
    assert patch(nurse, url, 500, PHOTO[500:]).status_code == 410
    assert nurse.delete(url, headers=TUS).status_code == 204  # again: nothing to do


def test_a_finished_upload_cannot_be_terminated(app, nurse, wound):
    url = create(nurse, len(PHOTO), wound_id=wound).headers["Location"]
    patch(nurse, url, 0, PHOTO)
    r = nurse.delete(url, headers=TUS)
    assert r.status_code == 409 and r.json["photo_id"]


def _expire(app, url):
    from app.extensions import db
    from app.sync.models import Upload

    with app.app_context():
        db.session.execute(
            sa.update(Upload)
            .where(Upload.id == uuid.UUID(url.rsplit("/", 1)[1]))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        db.session.commit()


def test_expired_uploads_answer_410_and_storage_check_removes_them(app, nurse, wound):
    url = create(nurse, len(PHOTO), wound_id=wound).headers["Location"]
    live = create(nurse, len(PHOTO), wound_id=wound).headers["Location"]
    patch(nurse, url, 0, PHOTO[:500])
    _expire(app, url)
    assert head(nurse, url).status_code == 410
    assert patch(nurse, url, 500, PHOTO[500:]).status_code == 410
    assert len(upload_files(app)) == 2
    runner = app.test_cli_runner()
    report = runner.invoke(args=["storage-check", "--min-age", "0"])
    assert report.exit_code == 1, report.output
    assert f"expired  upload {url.rsplit('/', 1)[1]}" in report.output
    assert "uploads: 1 expired, 0 stray, removed 0" in report.output
    fixed = runner.invoke(args=["storage-check", "--fix", "--min-age", "0"])
    assert fixed.exit_code == 0, fixed.output
    assert "uploads: 1 expired, 0 stray, removed 1" in fixed.output
    assert [p.name for p in upload_files(app)] == [f"{live.rsplit('/', 1)[1]}.part"]
    assert _upload_row(app, url.rsplit("/", 1)[1]).state == "expired"
    assert head(nurse, live).status_code == 200  # an open upload is left alone
    clean = runner.invoke(args=["storage-check", "--min-age", "0"])
    assert clean.exit_code == 0 and "uploads: 0 expired, 0 stray" in clean.output


def test_storage_check_removes_stray_files_but_not_young_ones(app, nurse, wound):
    from app.sync.uploads import upload_dir

    create(nurse, 100, wound_id=wound)
    with app.test_request_context():
        folder = Path(upload_dir())
    stray = folder / f"{uuid.uuid4()}.part"
    stray.write_bytes(b"left by a crash")
    other = folder / "notes.txt"
    other.write_bytes(b"?")
    runner = app.test_cli_runner()
    young = runner.invoke(args=["storage-check", "--fix"])  # default --min-age 60 minutes
    assert young.exit_code == 0 and stray.exists()
    assert "uploads: 0 expired, 0 stray, removed 0, 2 recent" in young.output
    old = datetime.now().timestamp() - 7200
    for path in (stray, other):
        os.utime(path, (old, old))
    fixed = runner.invoke(args=["storage-check", "--fix"])
    assert fixed.exit_code == 0, fixed.output
    assert not stray.exists() and not other.exists()
    assert len(upload_files(app)) == 1  # the live upload's file


# --- the pipeline's answers ---------------------------------------------------------------


def test_a_finished_file_that_is_no_image_is_refused_and_can_be_retried(app, nurse, wound):
    from app.photos.models import Photo

    junk = b"%PDF-1.4 not a photo" * 10
    url = create(nurse, len(junk), wound_id=wound).headers["Location"]
    r = patch(nurse, url, 0, junk)
    assert r.status_code == 415, r.get_data(as_text=True)
    assert head(nurse, url).headers["Upload-Offset"] == str(len(junk))
    assert patch(nurse, url, len(junk), b"").status_code == 415  # tried again, same answer
    assert count_rows(app, Photo) == 0


def test_the_client_id_makes_a_second_upload_of_the_same_photo_a_replay(app, nurse, wound):
    from app.photos.models import Photo

    photo_id = str(uuid.uuid4())
    for _ in range(2):
        url = create(nurse, len(PHOTO), wound_id=wound, id=photo_id).headers["Location"]
        r = patch(nurse, url, 0, PHOTO)
        assert r.status_code == 204 and r.headers["Photo-Location"].endswith(photo_id)
    assert count_rows(app, Photo) == 1
    other = (CORPUS / "hopper.jpg").read_bytes()
    url = create(nurse, len(other), wound_id=wound, id=photo_id).headers["Location"]
    clash = patch(nurse, url, 0, other)
    assert clash.status_code == 409 and clash.json["stored"]["id"] == photo_id


def test_metadata_fields_reach_the_photo(app, nurse, clinic, wound):
    from tests.photos.test_photos_api import make_assessment

    assessment = make_assessment(app, clinic, wound)
    taken = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
    url = create(
        nurse,
        len(PHOTO),
        wound_id=wound,
        assessment_id=assessment,
        taken_at=taken.isoformat(),
        marker_size_cm="2.5",
    ).headers["Location"]
    photo_url = patch(nurse, url, 0, PHOTO).headers["Photo-Location"]
    photo = nurse.get(photo_url).json
    assert photo["assessment_id"] == str(assessment)
    assert datetime.fromisoformat(photo["taken_at"]) == taken
    assert photo["taken_at_source"] == "client"


# --- the protocol's parsing ----------------------------------------------------------------


def test_metadata_parsing_follows_the_protocol():
    from app.core.errors import Problem
    from app.sync import tus

    assert tus.parse_metadata(None) == {}
    assert tus.parse_metadata("a YQ==,empty, b w6k=") == {"a": "a", "empty": "", "b": "é"}
    round_trip = {"wound_id": str(uuid.uuid4()), "x": "y z"}
    assert tus.parse_metadata(tus.encode_metadata(round_trip)) == round_trip
    for bad in ("a YQ==,a YQ==", "a b c", "ä YQ==", "a /w==", ","):
        with pytest.raises(Problem):
            tus.parse_metadata(bad)
    assert tus.parse_number("Upload-Offset", "0") == 0
    for bad in ("", " ", "+1", "1.0", "0x10", "9" * 19):
        with pytest.raises(Problem):
            tus.parse_number("Upload-Offset", bad)


# --- where the bytes wait, and when the disk refuses them -------------------------------------


def test_a_full_disk_is_507_and_the_upload_goes_on_once_there_is_room(
    app, nurse, wound, monkeypatch
):
    import errno

    from app.sync import tus

    url = create(nurse, len(PHOTO), wound_id=wound).headers["Location"]
    patch(nurse, url, 0, PHOTO[:100])

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(tus.os, "fsync", full)
        r = patch(nurse, url, 100, PHOTO[100:])
    assert r.status_code == 507 and r.mimetype == "application/problem+json"
    assert head(nurse, url).headers["Upload-Offset"] == "100"  # nothing unsure is kept
    assert patch(nurse, url, 100, PHOTO[100:]).status_code == 204


def test_an_unwritable_upload_area_is_503_and_nothing_is_created(app, nurse, wound, monkeypatch):
    from app.sync import tus
    from app.sync.models import Upload

    def refused(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tus, "create_file", refused)
    r = create(nurse, 100, wound_id=wound)
    assert r.status_code == 503 and r.headers["Retry-After"]
    assert count_rows(app, Upload) == 0


def test_where_partial_uploads_wait(app, tmp_path, monkeypatch):
    from app.core import scratch
    from app.sync.uploads import upload_dir

    with app.test_request_context():
        assert upload_dir() == str(Path(app.config["TEMP_DIR"]) / "uploads")
        monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "shared"))
        assert upload_dir() == str(tmp_path / "shared")
    # The temp folder's own sweep never takes the uploads' folder: a partial
    # upload is kept for its own expiry, longer than TEMP_STALE_SECONDS.
    assert "uploads" not in scratch.PREFIXES


def test_storage_check_leaves_a_file_being_written(app, nurse, wound):
    from app.sync.uploads import upload_dir

    create(nurse, 100, wound_id=wound)
    with app.test_request_context():
        stray = Path(upload_dir()) / f"{uuid.uuid4()}.part"
    stray.write_bytes(b"being written")
    with open(stray, "r+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        r = app.test_cli_runner().invoke(args=["storage-check", "--fix", "--min-age", "0"])
    assert r.exit_code == 1 and stray.exists()
    assert f"stray  uploads/{stray.name}" in r.output
