"""GET /api/v1/sync: one delta feed of a clinic's records, with tombstones,
paged and resumable from its cursor, at a constant number of statements per
page."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from app.core.pagination import encode_cursor
from tests.factories import patient_body

NOW = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
TYPES = ("assessment", "patient", "photo", "procedure", "wound")


def feed(actor, clinic, **args):
    query = "&".join(f"{k}={v}" for k, v in {"clinic_id": clinic, **args}.items())
    return actor.get(f"/api/v1/sync?{query}")


def walk(actor, clinic, cursor=None, limit=3):
    """Every page from ``cursor`` until caught up: (items, last cursor, pages)."""
    items, pages = [], 0
    while True:
        args = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        r = feed(actor, clinic, **args)
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
        items += r.json["items"]
        cursor = r.json["next_cursor"]
        pages += 1
        if not r.json["has_more"]:
            return items, cursor, pages


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 90, 90)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def no_overlap(app, monkeypatch):
    """Caught-up cursors stay where the feed ended (no window read again)."""
    monkeypatch.setitem(app.config, "SYNC_FEED_OVERLAP_SECONDS", 0)


@pytest.fixture
def records(app, nurse, clinician, tmp_path, monkeypatch):
    """One record of each type, created through the API."""
    from app.core.storage import make_storage

    monkeypatch.setitem(app.extensions, "storage", make_storage(tmp_path / "storage"))
    pid = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    wound = {
        "body_site": "axilla",
        "laterality": "left",
        "etiology": "radiation_dermatitis",
        "onset_date": "2026-01-05",
    }
    wid = nurse.post(f"/api/v1/patients/{pid}/wounds", json=wound).json["id"]
    aid = nurse.post(
        f"/api/v1/wounds/{wid}/assessments",
        json={"assessed_at": NOW, "length_cm": 2.0, "width_cm": 1.0, "exudate_amount": "small"},
    ).json["id"]
    prid = clinician.post(
        f"/api/v1/wounds/{wid}/procedures", json={"performed_at": NOW, "kind": "dressing"}
    ).json["id"]
    photo = nurse.post(
        f"/api/v1/wounds/{wid}/photos",
        data={"file": (io.BytesIO(png()), "w.png")},
        content_type="multipart/form-data",
    ).json["id"]
    return {
        "patient": f"/api/v1/patients/{pid}",
        "wound": f"/api/v1/wounds/{wid}",
        "assessment": f"/api/v1/assessments/{aid}",
        "procedure": f"/api/v1/procedures/{prid}",
        "photo": f"/api/v1/photos/{photo}",
    }


def _key(item):
    return (item["record"]["updated_at"], item["type"], item["record"]["id"])


def test_one_feed_carries_every_record_type_as_its_own_route_shows_it(app, nurse, clinic, records):
    items, _, pages = walk(nurse, clinic, limit=2)
    assert pages == 3
    assert sorted(i["type"] for i in items) == sorted(TYPES)
    assert [_key(i) for i in items] == sorted(_key(i) for i in items)  # (updated_at, type, id)
    for item in items:
        assert item["record"] == nurse.get(records[item["type"]]).json, item["type"]


def test_deleted_records_come_as_tombstones_and_changes_resume_from_the_cursor(
    app, nurse, clinic, records, no_overlap
):
    _, cursor, _ = walk(nurse, clinic)
    assert walk(nurse, clinic, cursor)[0] == []  # caught up: nothing new
    assessment = nurse.get(records["assessment"])
    nurse.delete(records["assessment"], etag=assessment.headers["ETag"])
    wound = nurse.get(records["wound"])
    nurse.patch(records["wound"], etag=wound.headers["ETag"], json={"body_site": "neck"})
    changed, cursor, _ = walk(nurse, clinic, cursor)
    assert [i["type"] for i in changed] == ["assessment", "wound"]
    tombstone, amended = (i["record"] for i in changed)
    assert set(tombstone) == {"id", "deleted", "version", "updated_at"}
    assert tombstone["deleted"] is True and tombstone["version"] == 2
    assert amended["body_site"] == "neck" and amended["version"] == 2
    assert walk(nurse, clinic, cursor)[0] == []


def test_a_late_commit_inside_the_overlap_window_is_not_skipped(app, nurse, clinic):
    """A change is stamped at its flush and visible at its commit. One stamped
    a moment before a caught-up read but committed after it still comes."""
    from app.extensions import db
    from app.patients.models import Patient

    nurse.post("/api/v1/patients", json=patient_body())
    _, cursor, _ = walk(nurse, clinic)
    late = Patient(
        clinic_id=clinic,
        mrn="LATE",
        given_name="Testa",
        family_name="Fictitious",
        birth_date=date(1950, 1, 1),
        sex="female",
        updated_at=datetime.now(UTC) - timedelta(seconds=5),
    )
    with app.app_context():
        db.session.add(late)
        db.session.commit()
        late_id = str(late.id)
    items, _, _ = walk(nurse, clinic, cursor)
    assert late_id in [i["record"]["id"] for i in items]


def test_paging_visits_each_change_once_in_order(app, nurse, clinic, no_overlap):
    ids = [nurse.post("/api/v1/patients", json=patient_body()).json["id"] for _ in range(7)]
    items, _, pages = walk(nurse, clinic, limit=3)
    assert pages == 3
    assert [i["record"]["id"] for i in items] == ids


def test_the_feed_keeps_to_the_callers_clinic(app, nurse, clinic, outsider, researcher, admin):
    nurse.post("/api/v1/patients", json=patient_body())
    outsider.post("/api/v1/patients", json=patient_body())
    assert feed(outsider, clinic).status_code == 404
    assert feed(researcher, clinic).status_code == 403
    assert feed(nurse, uuid.uuid4()).status_code == 404
    assert len(feed(nurse, clinic).json["items"]) == 1
    assert len(feed(admin, clinic).json["items"]) == 1  # an admin names the clinic
    assert feed(nurse, "").status_code == 422


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        encode_cursor(["2026-01-01T00:00:00+00:00", "patient"]),
        encode_cursor(["2026-01-01T00:00:00", "patient", str(uuid.uuid4())]),
        encode_cursor(["yesterday", "patient", str(uuid.uuid4())]),
        encode_cursor(["2026-01-01T00:00:00+00:00", "patient", "x"]),
        encode_cursor([1, 2, 3]),
    ],
)
def test_a_cursor_this_feed_did_not_give_out_is_422(app, nurse, clinic, cursor):
    r = feed(nurse, clinic, cursor=cursor)
    assert r.status_code == 422 and "cursor" in r.json["errors"]


def test_reading_the_feed_is_audited_per_record_type(app, nurse, clinic, records):
    from app.core.audit import AuditEvent
    from app.extensions import db

    feed(nurse, clinic)
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.action == "list", AuditEvent.user_id == nurse.user_id
            )
        ).all()
        listed = {(e.record_type, e.details["count"], e.clinic_id) for e in rows}
    assert listed == {(t, 1, clinic) for t in TYPES}


def test_a_registered_source_joins_the_feed(app, nurse, clinic, monkeypatch):
    """The hook by which alerts (or any later record type) join the feed."""
    from app.sync import feed as feeds
    from app.therapy.models import LabResult
    from app.therapy.schemas import LabResultSchema

    pid = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    lab = nurse.post(
        f"/api/v1/patients/{pid}/lab-results",
        json={"test": "albumin", "value": 3.1, "unit": "g/dL", "taken_at": NOW},
    ).json
    monkeypatch.setattr(feeds, "_SOURCES", dict(feeds._SOURCES))
    feeds.register_source(feeds.FeedSource("lab_result", LabResult, LabResultSchema().dump))
    items = feed(nurse, clinic).json["items"]
    assert [i["type"] for i in items] == ["patient", "lab_result"]
    assert items[1]["record"]["id"] == lab["id"]
    with pytest.raises(ValueError, match="registered already"):
        feeds.register_source(feeds.FeedSource("patient", LabResult, LabResultSchema().dump))


# --- statements per page -----------------------------------------------------------------


def _bulk(app, clinic, n):
    """``n`` records spread over every type, inserted with Core (fast)."""
    from app.assessments.models import Assessment
    from app.extensions import db
    from app.patients.models import Patient
    from app.photos.models import Photo
    from app.procedures.models import Procedure
    from app.wounds.models import Wound

    now = datetime.now(UTC) - timedelta(days=1)
    per = n // 5
    common = {"clinic_id": clinic, "version": 1, "created_at": now}
    patients = [
        {**common, "id": uuid.uuid4(), "updated_at": now + timedelta(seconds=i), "mrn": str(i),
         "given_name": "Testa", "family_name": "Fictitious", "birth_date": date(1950, 1, 1),
         "sex": "female"} for i in range(per)
    ]  # fmt: skip
    wounds = [
        {**common, "id": uuid.uuid4(), "patient_id": p["id"], "updated_at": p["updated_at"],
         "body_site": "axilla", "laterality": "left", "etiology": "radiation_dermatitis",
         "onset_date": date(2026, 1, 1), "status": "open", "in_skin_fold": False}
        for p in patients
    ]  # fmt: skip
    assessments = [
        {**common, "id": uuid.uuid4(), "wound_id": w["id"], "updated_at": w["updated_at"],
         "assessed_at": now, "length_cm": 2.0, "width_cm": 1.0} for w in wounds
    ]  # fmt: skip
    procedures = [
        {**common, "id": uuid.uuid4(), "wound_id": w["id"], "updated_at": w["updated_at"],
         "performed_at": now, "kind": "dressing"} for w in wounds
    ]  # fmt: skip
    photos = [
        {**common, "id": uuid.uuid4(), "wound_id": w["id"], "updated_at": w["updated_at"],
         "sha256": uuid.uuid4().hex, "width": 10, "height": 10, "format_in": "PNG",
         "bytes_in": 10, "storage_keys": {}} for w in wounds
    ]  # fmt: skip
    with app.app_context():
        for model, rows in (
            (Patient, patients),
            (Wound, wounds),
            (Assessment, assessments),
            (Procedure, procedures),
            (Photo, photos),
        ):
            db.session.execute(sa.insert(model), rows)
        db.session.commit()


def _statements(count_queries, nurse, clinic, cursor=None):
    args = {"limit": 50, **({"cursor": cursor} if cursor else {})}
    with count_queries() as counter:
        r = feed(nurse, clinic, **args)
    assert r.status_code == 200 and len(r.json["items"]) == 50
    return counter.count, r.json["next_cursor"]


def test_statements_per_page_do_not_grow_with_the_clinic(app, nurse, clinic, count_queries):
    feed(nurse, clinic)  # the token's first use, compiled statements: out of the count
    _bulk(app, clinic, 100)
    small, cursor = _statements(count_queries, nurse, clinic)
    deeper, _ = _statements(count_queries, nurse, clinic, cursor)
    _bulk(app, clinic, 2000)
    large, cursor = _statements(count_queries, nurse, clinic)
    for _ in range(10):
        _, cursor = _statements(count_queries, nurse, clinic, cursor)
    deep, _ = _statements(count_queries, nurse, clinic, cursor)
    assert small == deeper == large == deep
    assert small <= 10  # a query per type, the overrides, the audit insert, the token
