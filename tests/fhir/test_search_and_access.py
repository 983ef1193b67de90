"""Search mechanics (paging, _summary=count, _lastUpdated, strict and lenient
handling) and the API's access rules on the FHIR API: clinic isolation,
researchers refused, OperationOutcome errors, every read audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from tests.fhir.conftest import FHIR, entries, validate
from tests.summaries import helpers as h


def _next(bundle):
    return next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)


def _path(url):
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_paging_follows_next_links_without_loss_or_repeat(record, nurse):
    q = {"patient": record.patient_id, "_count": 2}
    first = nurse.get(f"{FHIR}/Observation", query_string=q).json
    total = first["total"]
    assert total == 13
    seen, bundle, pages = [], first, 0
    while True:
        pages += 1
        page = entries(bundle)
        assert len(page) <= 2
        seen += [o["id"] for o in page]
        url = _next(bundle)
        if url is None:
            break
        assert parse_qs(urlsplit(url).query)["_count"] == ["2"]
        bundle = nurse.get(_path(url)).json
    assert pages == 7 and len(seen) == total == len(set(seen))
    # Values with reserved characters survive the next link ("+" of a time zone, "|").
    since = "ge2000-01-01T00:00:00+00:00"
    q = {"patient": record.patient_id, "code": "http://loinc.org|72287-6", "_lastUpdated": since}
    bundle = nurse.get(f"{FHIR}/Observation", query_string={**q, "_count": 2}).json
    seen = [o["id"] for o in entries(bundle)]
    while (url := _next(bundle)) is not None:
        bundle = nurse.get(_path(url)).json
        seen += [o["id"] for o in entries(bundle)]
    assert len(seen) == len(set(seen)) == 3
    times = [
        o["effectiveDateTime"]
        for o in entries(nurse.get(f"{FHIR}/Observation", query_string={**q, "_count": 50}).json)
    ]
    assert times == sorted(times)


def test_summary_count_and_count_zero_give_the_total_only(record, nurse):
    for q in ({"_summary": "count"}, {"_count": "0"}):
        bundle = nurse.get(
            f"{FHIR}/Observation", query_string={"patient": record.patient_id, **q}
        ).json
        validate(bundle)
        assert bundle["total"] == 13 and "entry" not in bundle


def test_last_updated(record, nurse, app):
    from app.extensions import db
    from app.patients.models import Patient

    now = datetime.now(UTC)
    later = (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    earlier = (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(entries(nurse.get(f"{FHIR}/Patient?_lastUpdated=gt{earlier}").json)) == 1
    assert entries(nurse.get(f"{FHIR}/Patient?_lastUpdated=gt{later}").json) == []
    with app.app_context():
        db.session.execute(
            sa.update(Patient).values(updated_at=now - timedelta(days=3)),
            execution_options={"synchronize_session": False},
        )
        db.session.commit()
    day = (now - timedelta(days=3)).date().isoformat()
    assert len(entries(nurse.get(f"{FHIR}/Patient?_lastUpdated={day}").json)) == 1
    assert entries(nurse.get(f"{FHIR}/Patient?_lastUpdated=gt{earlier}").json) == []


def test_unknown_parameters_lenient_by_default_strict_on_request(record, nurse):
    q = {"patient": record.patient_id, "flavour": "mint"}
    lenient = nurse.get(f"{FHIR}/Condition", query_string=q)
    assert lenient.status_code == 200 and len(entries(lenient.json)) == 1
    self_link = lenient.json["link"][0]["url"]
    assert "flavour" not in self_link and "patient=" in self_link
    explicit = nurse.get(
        f"{FHIR}/Condition", query_string=q, headers={"Prefer": "handling=lenient"}
    )
    assert explicit.status_code == 200
    strict = nurse.get(f"{FHIR}/Condition", query_string=q, headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400 and strict.mimetype == "application/fhir+json"
    outcome = validate(strict.json)
    assert "flavour" in outcome.issue[0].diagnostics
    ok = nurse.get(
        f"{FHIR}/Condition",
        query_string={"patient": record.patient_id},
        headers={"Prefer": "handling=strict"},
    )
    assert ok.status_code == 200


def test_bad_values_are_400_operation_outcomes(record, nurse):
    for url in (
        f"{FHIR}/Observation?patient=not-an-id",
        f"{FHIR}/Observation?_count=many",
        f"{FHIR}/Observation?_cursor=garbage",
        f"{FHIR}/Observation?date=2026-13-45",
    ):
        r = nurse.get(url)
        assert r.status_code == 400, url
        assert validate(r.json).issue[0].severity == "error"
    assert nurse.get(f"{FHIR}/Observation/size-nonsense").status_code == 404
    assert nurse.get(f"{FHIR}/Observation/weird-{record.assessment_ids[0]}").status_code == 404
    r = nurse.get(f"{FHIR}/Encounter")
    assert r.status_code == 404 and validate(r.json).issue[0].code == "not-supported"
    r = nurse.post(f"{FHIR}/Patient", json={"resourceType": "Patient"})
    assert r.status_code in (404, 405) and r.json["resourceType"] == "OperationOutcome"


def test_no_token_is_401_and_researcher_is_403(record, client, researcher):
    r = client.get(f"{FHIR}/Patient/{record.patient_id}")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert validate(r.json).issue[0].code == "login"
    r = client.get(f"{FHIR}/Patient", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    r = researcher.get(f"{FHIR}/Patient")
    assert r.status_code == 403 and validate(r.json).issue[0].code == "forbidden"
    assert researcher.get(f"{FHIR}/Observation/size-{record.assessment_ids[0]}").status_code == 403


def test_clinic_isolation(record, outsider, admin, app, other_clinic):
    pid = h.patient(app, other_clinic, mrn="FHIR-0001")
    mine = entries(outsider.get(f"{FHIR}/Patient?identifier=FHIR-0001").json)
    assert [p["id"] for p in mine] == [str(pid)]
    for url in (
        f"/Patient/{record.patient_id}",
        f"/Condition/{record.wound_id}",
        f"/Observation/size-{record.assessment_ids[0]}",
        f"/Procedure/debridement-{record.procedure_id}",
        f"/MedicationStatement/{record.therapy_id}",
        f"/Media/{record.photo_id}",
        f"/Binary/{record.photo_id}-original",
    ):
        r = outsider.get(FHIR + url)
        assert r.status_code == 404, url
        assert r.json["resourceType"] == "OperationOutcome"
    for rtype in ("Condition", "Observation", "Procedure", "MedicationStatement", "Media"):
        bundle = outsider.get(f"{FHIR}/{rtype}?patient={record.patient_id}").json
        assert bundle["total"] == 0 and entries(bundle) == [], rtype
    assert len(entries(admin.get(f"{FHIR}/Patient?identifier=FHIR-0001").json)) == 2


def test_reads_and_searches_are_audited(record, nurse, app):
    from app.core.audit import AuditEvent
    from app.extensions import db

    def events():
        with app.app_context():
            return db.session.execute(
                sa.select(AuditEvent.action, AuditEvent.record_type, AuditEvent.record_id).where(
                    AuditEvent.user_id == nurse.user_id, AuditEvent.action.in_(("read", "list"))
                )
            ).all()

    before = set(events())
    nurse.get(f"{FHIR}/Observation/size-{record.assessment_ids[0]}")
    nurse.get(f"{FHIR}/Patient/{record.patient_id}")
    nurse.get(f"{FHIR}/Procedure?patient={record.patient_id}")
    nurse.get(f"{FHIR}/Binary/{record.photo_id}-thumb")
    new = set(events()) - before
    assert ("read", "assessment", record.assessment_ids[0]) in new
    assert ("read", "patient", str(record.patient_id)) in new
    assert ("list", "fhir_procedure", str(record.patient_id)) in new
    assert ("read", "photo", record.photo_id) in new
