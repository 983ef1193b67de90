"""Faults injected one at a time, and what the service does about each.

Covered here: the database going away mid-request, clock skew on a device.
Covered next to the code they exercise (not repeated here):
- storage full / failing on the 2nd file of an upload -> 507, no row, no file:
  tests/photos/test_photos_api.py::test_storage_failure_is_507_and_leaves_nothing
- the commit failing after the files were written -> 503, files removed:
  tests/photos/test_photos_api.py::test_failed_commit_removes_files
- a client disconnecting mid-upload (body shorter than Content-Length) -> 4xx,
  nothing kept: tests/photos/test_photos_api.py::test_truncated_http_body
  (and test_disconnect_mid_upload_keeps_nothing below, through the test client's
  raw WSGI input, with the 400 pinned)
- a worker killed mid-export -> reported failed, retryable, no half file served:
  tests/exports/test_exports_api.py::test_dead_worker_is_reported_failed_and_retry_succeeds,
  ::test_a_worker_that_lost_its_claim_publishes_nothing, tests/exports/test_rq.py
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from tests.factories import patient_body


def _count(app, table: str) -> int:
    from app.extensions import db

    with app.app_context():
        query = sa.select(sa.func.count()).select_from(sa.table(table))
        return db.session.execute(query).scalar_one()


@contextlib.contextmanager
def database_fails_on(app, needle: str) -> Iterator[list[str]]:
    """Make every SQL statement containing ``needle`` fail as a lost connection
    would (OperationalError from the driver), until the block ends."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    failed: list[str] = []

    def explode(conn, cursor, statement, parameters, context, executemany) -> None:
        if needle in statement:
            failed.append(statement)
            raise OperationalError(statement, parameters, ConnectionError("server closed"))

    sa.event.listen(engine, "before_cursor_execute", explode)
    try:
        yield failed
    finally:
        sa.event.remove(engine, "before_cursor_execute", explode)


def _assert_503(r) -> None:
    assert r.status_code == 503, r.get_data(as_text=True)[:300]
    assert r.mimetype == "application/problem+json"
    assert r.headers.get("Retry-After")
    assert "Nothing was saved" in r.json["detail"]


def test_database_lost_mid_write_is_503_and_nothing_is_half_saved(app, nurse):
    """The record's INSERT went through; the audit INSERT after it fails in the
    same flush. Neither may stay, and the same request works once the database is back."""
    body = patient_body(id="7c9e6679-7425-40de-944b-e07fc1f90ae7")
    events = _count(app, "audit_events")  # the clinic's own creation, before the request
    with database_fails_on(app, "INSERT INTO audit_events") as failed:
        r = nurse.post("/api/v1/patients", json=body)
    assert failed, "the fault was not injected"
    _assert_503(r)
    assert _count(app, "patients") == 0
    assert _count(app, "audit_events") == events
    assert _count(app, "record_versions") == 0

    again = nurse.post("/api/v1/patients", json=body)
    assert again.status_code == 201, again.get_data(as_text=True)
    assert _count(app, "patients") == 1


def test_database_lost_mid_amendment_keeps_the_old_version(app, nurse):
    created = nurse.post("/api/v1/patients", json=patient_body(given_name="Before"))
    url = f"/api/v1/patients/{created.json['id']}"
    with database_fails_on(app, "INSERT INTO record_versions"):
        r = nurse.patch(url, json={"given_name": "After"}, etag=created.headers["ETag"])
    _assert_503(r)
    current = nurse.get(url)
    assert current.json["given_name"] == "Before"
    assert current.headers["ETag"] == created.headers["ETag"]
    ok = nurse.patch(url, json={"given_name": "After"}, etag=created.headers["ETag"])
    assert ok.status_code == 200 and ok.json["given_name"] == "After"


def test_database_lost_on_read_is_503(app, nurse):
    created = nurse.post("/api/v1/patients", json=patient_body()).json
    with database_fails_on(app, "FROM patients"):
        r = nurse.get(f"/api/v1/patients/{created['id']}")
    _assert_503(r)
    assert nurse.get(f"/api/v1/patients/{created['id']}").status_code == 200


def test_database_lost_is_reported_by_health(app, client):
    with database_fails_on(app, "SELECT"):
        r = client.get("/api/v1/health")
    assert r.status_code == 503
    assert r.json["database"] != "ok"
    assert client.get("/api/v1/health").status_code == 200


def test_disconnect_mid_upload_keeps_nothing(app, nurse):
    """A phone losing signal: Content-Length promises more than arrives."""
    patient = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    wound = nurse.post(
        f"/api/v1/patients/{patient}/wounds",
        json={
            "body_site": "axilla",
            "laterality": "left",
            "in_skin_fold": True,
            "etiology": "radiation_dermatitis",
            "onset_date": (datetime.now(UTC) - timedelta(days=3)).date().isoformat(),
        },
    ).json["id"]
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (180, 90, 90)).save(buf, "JPEG")
    head = (
        b'--b0\r\nContent-Disposition: form-data; name="file"; filename="w.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n"
    )
    body = head + buf.getvalue() + b"\r\n--b0--\r\n"
    storage = Path(app.config["STORAGE_DIR"])
    before = sorted(storage.rglob("*")) if storage.exists() else []
    r = nurse.post(
        f"/api/v1/wounds/{wound}/photos",
        input_stream=io.BytesIO(body[: len(body) // 3]),
        content_length=len(body),
        content_type="multipart/form-data; boundary=b0",
    )
    assert r.status_code == 400, r.get_data(as_text=True)[:300]
    assert r.mimetype == "application/problem+json"
    assert _count(app, "photos") == 0
    after = sorted(storage.rglob("*")) if storage.exists() else []
    assert [p for p in after if p.is_file()] == [p for p in before if p.is_file()]


@pytest.mark.parametrize(
    ("ahead", "status"),
    [(timedelta(minutes=5), 201), (timedelta(minutes=11), 422), (timedelta(days=400), 422)],
)
def test_device_clock_skew(app, nurse, ahead, status):
    """Timestamps up to CLOCK_SKEW_SECONDS (10 min) ahead of the server are a
    device clock running fast and are accepted; beyond that they are refused
    with a 422 naming the field (records rules, app/core/records.not_in_future)."""
    assert app.config["CLOCK_SKEW_SECONDS"] == 600
    patient = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    wound = nurse.post(
        f"/api/v1/patients/{patient}/wounds",
        json={
            "body_site": "neck",
            "laterality": "right",
            "in_skin_fold": False,
            "etiology": "radiation_dermatitis",
            "onset_date": (datetime.now(UTC) - timedelta(days=3)).date().isoformat(),
        },
    ).json["id"]
    at = (datetime.now(UTC) + ahead).isoformat()
    r = nurse.post(
        f"/api/v1/wounds/{wound}/assessments",
        json={"assessed_at": at, "length_cm": 2.0, "width_cm": 1.0},
    )
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    if status == 422:
        assert "assessed_at" in r.json["errors"]
        assert _count(app, "assessments") == 0
    lab = nurse.post(
        f"/api/v1/patients/{patient}/lab-results",
        json={"test": "albumin", "value": 3.0, "unit": "g/dL", "taken_at": at},
    )
    assert lab.status_code == status
