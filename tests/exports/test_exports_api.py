"""Exports through the API on the thread path (no Redis): access, bad input, job
life cycle, de-identification, FHIR validity and pseudonym linkage."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from tests.exports.conftest import download, export, wait_done

FORMATS = ("csv", "parquet", "fhir_ndjson")


def _csv(zf: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(zf.read(name).decode())))


def _insert_job(app, user_id, clinic_id, **values) -> uuid.UUID:
    from app.exports.models import ExportJob
    from app.extensions import db

    with app.app_context():
        job = ExportJob(
            clinic_id=clinic_id,
            requested_by=user_id,
            format=values.pop("format", "csv"),
            status=values.pop("status", "queued"),
            **values,
        )
        db.session.add(job)
        db.session.commit()
        return job.id


def _job(app, job_id):
    from app.exports.models import ExportJob
    from app.extensions import db

    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        db.session.expunge(job)
        return job


# ---------------------------------------------------------------------------
# Access and bad input


def test_researcher_without_grant_is_refused(researcher, clinic, cohort):
    resp = researcher.post("/api/v1/exports", json={"clinic_id": str(clinic), "format": "csv"})
    assert resp.status_code == 403
    assert "research grant" in resp.get_json()["detail"]
    # an unknown clinic looks the same: nothing is learnt about which clinics exist
    resp = researcher.post(
        "/api/v1/exports", json={"clinic_id": str(uuid.uuid4()), "format": "csv"}
    )
    assert resp.status_code == 403


def test_revoked_grant_is_refused(app, researcher, clinic, cohort, grant):
    from app.clinics.models import ResearchGrant
    from app.extensions import db

    grant(clinic, researcher.user_id)
    with app.app_context():
        db.session.execute(sa.update(ResearchGrant).values(revoked_at=datetime.now(UTC)))
        db.session.commit()
    resp = researcher.post("/api/v1/exports", json={"clinic_id": str(clinic), "format": "csv"})
    assert resp.status_code == 403


def test_clinical_roles_may_not_export(nurse, clinician, clinic):
    for actor in (nurse, clinician):
        resp = actor.post("/api/v1/exports", json={"clinic_id": str(clinic), "format": "csv"})
        assert resp.status_code == 403


def test_clinic_admin_exports_own_clinic_only(clinic_admin, clinic, other_clinic, cohort):
    zf = export(clinic_admin, clinic, "csv")
    assert len(_csv(zf, "assessments.csv")) == cohort.n_assessments
    resp = clinic_admin.post(
        "/api/v1/exports", json={"clinic_id": str(other_clinic), "format": "csv"}
    )
    assert resp.status_code == 404


def test_admin_unknown_clinic_is_404(admin):
    resp = admin.post("/api/v1/exports", json={"clinic_id": str(uuid.uuid4()), "format": "csv"})
    assert resp.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"format": "xlsx"}, "format"),
        ({"format": None}, "format"),
        ({}, "format"),
        ({"format": "csv", "from": "2026-02-01", "to": "2026-01-01"}, "from"),
        ({"format": "csv", "from": "not a date"}, "from"),
        ({"format": "csv", "surprise": 1}, "surprise"),
    ],
)
def test_bad_input_is_422_naming_the_field(clinic_admin, clinic, body, field):
    resp = clinic_admin.post("/api/v1/exports", json={"clinic_id": str(clinic), **body})
    assert resp.status_code == 422
    problem = resp.get_json()
    assert resp.mimetype == "application/problem+json"
    assert field in problem["errors"], problem


def test_missing_clinic_is_422(clinic_admin):
    resp = clinic_admin.post("/api/v1/exports", json={"format": "csv"})
    assert resp.status_code == 422 and "clinic_id" in resp.get_json()["errors"]


def test_a_retried_request_is_one_export(app, researcher, clinic_admin, clinic, cohort, grant):
    """A researcher's script (or the page) resending POST /exports after a lost
    answer: the same id and body answers the job as it stands (200), with no
    second job and no second audit event; other parameters are a 409; someone
    else's id is taken, and says nothing about whose it is."""
    from app.core.audit import AuditEvent
    from app.exports.models import ExportJob
    from tests.assessments.helpers import count_rows

    grant(clinic, researcher.user_id)
    body = {"id": str(uuid.uuid4()), "clinic_id": str(clinic), "format": "csv"}
    first = researcher.post("/api/v1/exports", json=body)
    assert first.status_code == 202, first.get_json()
    assert first.get_json()["id"] == body["id"]
    done = wait_done(researcher, body["id"])
    assert done["status"] == "done"
    again = researcher.post("/api/v1/exports", json=body)
    assert again.status_code == 200 and again.get_json()["status"] == "done"
    assert count_rows(app, ExportJob) == 1

    other = researcher.post("/api/v1/exports", json={**body, "format": "parquet"})
    assert other.status_code == 409 and other.get_json()["stored"]["format"] == "csv"
    taken = clinic_admin.post("/api/v1/exports", json=body)
    assert taken.status_code == 409 and "stored" not in taken.get_json()
    assert count_rows(app, ExportJob) == 1
    with app.app_context():
        from app.extensions import db

        exports = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action == "export")
        ).all()
    assert exports == ["export"]


def test_download_before_done_is_409(app, clinic_admin, clinic):
    job_id = _insert_job(app, clinic_admin.user_id, clinic, status="queued")
    resp = clinic_admin.get(f"/api/v1/exports/{job_id}/download")
    assert resp.status_code == 409
    assert resp.get_json()["status_now"] == "queued"


def test_another_users_job_is_404(app, clinic_admin, researcher, admin, clinic, cohort, grant):
    grant(clinic, researcher.user_id)
    resp = researcher.post("/api/v1/exports", json={"clinic_id": str(clinic), "format": "csv"})
    job_id = resp.get_json()["id"]
    assert wait_done(researcher, job_id)["status"] == "done"
    for other in (clinic_admin, admin):
        assert other.get(f"/api/v1/exports/{job_id}").status_code == 404
        assert other.get(f"/api/v1/exports/{job_id}/download").status_code == 404
        assert other.post(f"/api/v1/exports/{job_id}/retry").status_code == 404
        assert other.get("/api/v1/exports").get_json()["items"] == []
    listed = researcher.get("/api/v1/exports").get_json()["items"]
    assert [j["id"] for j in listed] == [job_id]


def test_unauthenticated_is_401(client):
    assert client.get("/api/v1/exports").status_code == 401
    assert client.post("/api/v1/exports", json={}).status_code == 401


# ---------------------------------------------------------------------------
# Job life cycle


def test_job_reports_progress_row_counts_and_is_audited(app, researcher, clinic, cohort, grant):
    from app.core.audit import AuditEvent
    from app.extensions import db

    grant(clinic, researcher.user_id)
    resp = researcher.post(
        "/api/v1/exports",
        json={"clinic_id": str(clinic), "format": "csv", "from": "2025-01-01", "to": "2026-12-31"},
    )
    assert resp.status_code == 202
    queued = resp.get_json()
    assert queued["status"] in ("queued", "running", "done")
    assert set(queued["progress"]) == {"done", "total"}
    body = wait_done(researcher, queued["id"])
    assert body["status"] == "done"
    assert body["progress"]["done"] == body["progress"]["total"] == 2 + 2 + 9 + 4
    assert body["row_counts"] == {
        "patients": 2,
        "wounds": 2,
        "assessments": 9,
        "procedures": 4,
        "colour_measures": 0,
    }
    assert body["download_url"] == f"/api/v1/exports/{queued['id']}/download"
    assert body["expires_at"] is not None and body["retryable"] is False
    download(researcher, queued["id"])
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.record_id == queued["id"])
            .order_by(AuditEvent.at)
        ).all()
    actions = [e.action for e in events]
    assert actions[0] == "export" and "export_complete" in actions and "export_download" in actions
    first = events[0]
    assert first.user_id == researcher.user_id and first.clinic_id == clinic
    assert first.details == {"format": "csv", "from": "2025-01-01", "to": "2026-12-31"}
    done = next(e for e in events if e.action == "export_complete")
    assert done.user_id == researcher.user_id
    assert done.details["row_counts"]["assessments"] == 9
    assert done.details["format"] == "csv"


def test_window_selects_wounds_by_onset(researcher, clinic, cohort, grant):
    grant(clinic, researcher.user_id)
    zf = export(researcher, clinic, "csv", **{"from": "2025-06-01", "to": "2025-06-30"})
    wounds = _csv(zf, "wounds.csv")
    assert len(wounds) == 1 and wounds[0]["site_class"] == "chest_wall"
    assert len(_csv(zf, "assessments.csv")) == 3
    assert _csv(zf, "procedures.csv") == []
    assert len(_csv(zf, "patients.csv")) == 1


def test_dead_worker_is_reported_failed_and_retry_succeeds(app, clinic_admin, clinic, cohort):
    storage = app.extensions["storage"]
    stale = datetime.now(UTC) - timedelta(hours=1)
    job_id = _insert_job(
        app, clinic_admin.user_id, clinic, status="running", attempts=1, heartbeat_at=stale
    )
    # the dead attempt had stored a file but never published it
    orphan = f"exports/{job_id}/attempt-1.zip"
    tmp = app.config["STORAGE_DIR"] + "-orphan.zip"
    with open(tmp, "wb") as fh:
        fh.write(b"half a file")
    storage.put_file(orphan, tmp, "application/zip")

    body = clinic_admin.get(f"/api/v1/exports/{job_id}").get_json()
    assert body["status"] == "failed"
    assert "stopped responding" in body["reason"] and "retry" in body["reason"]
    assert body["retryable"] is True
    assert clinic_admin.get(f"/api/v1/exports/{job_id}/download").status_code == 409

    resp = clinic_admin.post(f"/api/v1/exports/{job_id}/retry")
    assert resp.status_code == 202
    body = wait_done(clinic_admin, str(job_id))
    assert body["status"] == "done" and body["attempts"] == 2
    assert list(storage.list_keys(f"exports/{job_id}/")) == [f"exports/{job_id}/attempt-2.zip"]
    zf = download(clinic_admin, str(job_id))
    assert len(_csv(zf, "assessments.csv")) == cohort.n_assessments
    # a done job cannot be retried
    assert clinic_admin.post(f"/api/v1/exports/{job_id}/retry").status_code == 409


def test_a_job_nobody_took_from_the_queue_is_reported_failed_and_retry_succeeds(
    app, clinic_admin, clinic, cohort
):
    """The queue message was lost (Redis flushed, a worker took it and could
    not claim it, the process that held the thread restarted): a job queued
    longer than EXPORT_QUEUED_STALE_SECONDS is failed with the reason, and
    retry queues it again."""
    limit = app.config["EXPORT_QUEUED_STALE_SECONDS"]
    queued_at = datetime.now(UTC) - timedelta(seconds=limit + 60)
    job_id = _insert_job(app, clinic_admin.user_id, clinic, status="queued", created_at=queued_at)

    body = clinic_admin.get(f"/api/v1/exports/{job_id}").get_json()
    assert body["status"] == "failed" and body["retryable"] is True
    assert "queue" in body["reason"] and "retry" in body["reason"]
    assert body["attempts"] == 0

    resp = clinic_admin.post(f"/api/v1/exports/{job_id}/retry")
    assert resp.status_code == 202, resp.get_json()
    body = wait_done(clinic_admin, str(job_id))
    assert body["status"] == "done" and body["attempts"] == 1


def test_a_job_queued_recently_waits_and_cannot_be_retried(app, clinic_admin, clinic, cohort):
    """Within the limit a queued job is left alone; the limit counts from the
    latest queueing (a retry), not from the job's creation."""
    from app.exports import jobs

    limit = app.config["EXPORT_QUEUED_STALE_SECONDS"]
    long_ago = datetime.now(UTC) - timedelta(seconds=limit + 60)
    fresh = _insert_job(app, clinic_admin.user_id, clinic, status="queued")
    retried = _insert_job(
        app,
        clinic_admin.user_id,
        clinic,
        status="queued",
        created_at=long_ago,
        heartbeat_at=datetime.now(UTC) - timedelta(seconds=limit - 60),
    )
    listed = clinic_admin.get("/api/v1/exports").get_json()["items"]
    assert {j["id"]: j["status"] for j in listed} == {str(fresh): "queued", str(retried): "queued"}
    for job_id in (fresh, retried):
        resp = clinic_admin.post(f"/api/v1/exports/{job_id}/retry")
        assert resp.status_code == 409 and resp.get_json()["status_now"] == "queued"
    with app.app_context():
        assert jobs.mark_stale_queued(jobs._engine(app), limit) == 0
        assert jobs.mark_stale_queued(jobs._engine(app), limit - 120) == 1  # the retried one
    assert _job(app, retried).status == "failed" and _job(app, fresh).status == "queued"


def test_a_worker_that_lost_its_claim_publishes_nothing(app, clinic_admin, clinic, cohort):
    from app.exports import jobs

    job_id = _insert_job(app, clinic_admin.user_id, clinic, status="queued")
    with app.app_context():
        engine = jobs._engine(app)
        attempt = jobs._claim(engine, job_id)
        assert attempt == 1
        assert jobs._claim(engine, job_id) is None  # nobody else can claim it
        jobs.mark_stale(engine, -1)  # seen as dead while it still works
        with pytest.raises(jobs.LostOwnership):
            jobs._produce(app, engine, job_id, attempt)
    job = _job(app, job_id)
    assert job.status == "failed" and job.result_key is None
    assert list(app.extensions["storage"].list_keys(f"exports/{job_id}/")) == []


def test_run_export_is_idempotent(app, clinic_admin, clinic, cohort):
    from app.exports import jobs

    job_id = _insert_job(app, clinic_admin.user_id, clinic, status="queued")
    assert jobs.run_export(job_id, app) == "done"
    first = _job(app, job_id)
    assert jobs.run_export(job_id, app) == "done"
    again = _job(app, job_id)
    assert (again.attempts, again.result_key, again.finished_at) == (
        first.attempts,
        first.result_key,
        first.finished_at,
    )


def test_expired_export_is_410_and_swept(app, clinic_admin, clinic, cohort):
    from app.exports.models import ExportJob
    from app.extensions import db

    resp = clinic_admin.post("/api/v1/exports", json={"clinic_id": str(clinic), "format": "csv"})
    job_id = resp.get_json()["id"]
    assert wait_done(clinic_admin, job_id)["status"] == "done"
    key = _job(app, uuid.UUID(job_id)).result_key
    with app.app_context():
        db.session.execute(
            sa.update(ExportJob).values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        db.session.commit()
    assert clinic_admin.get(f"/api/v1/exports/{job_id}/download").status_code == 410
    # the next POST sweeps: the file goes, the row stays as expired
    resp = clinic_admin.post("/api/v1/exports", json={"clinic_id": str(clinic), "format": "csv"})
    wait_done(clinic_admin, resp.get_json()["id"])
    assert not app.extensions["storage"].exists(key)
    body = clinic_admin.get(f"/api/v1/exports/{job_id}").get_json()
    assert body["status"] == "expired" and body["download_url"] is None
    assert clinic_admin.get(f"/api/v1/exports/{job_id}/download").status_code == 410


def test_grant_revoked_before_the_job_runs_fails_it(app, researcher, clinic, cohort, grant):
    from app.clinics.models import ResearchGrant
    from app.exports import jobs
    from app.extensions import db

    grant(clinic, researcher.user_id)
    job_id = _insert_job(app, researcher.user_id, clinic, status="queued")
    with app.app_context():
        db.session.execute(sa.update(ResearchGrant).values(revoked_at=datetime.now(UTC)))
        db.session.commit()
    assert jobs.run_export(job_id, app) == "failed"
    assert "grant" in _job(app, job_id).error


# ---------------------------------------------------------------------------
# Content


def test_a_withdrawn_override_leaves_the_derived_grade(
    app, researcher, clinician, clinic, cohort, grant
):
    from app.assessments.models import GradeOverride
    from app.extensions import db

    with app.app_context():
        aid = db.session.scalars(sa.select(GradeOverride.assessment_id)).one()
    r = clinician.post(
        f"/api/v1/assessments/{aid}/grade-override",
        json={"scale": "ctcae", "value": None, "reason": "entered in error"},
    )
    assert r.status_code == 201, r.json
    grant(clinic, researcher.user_id)
    rows = _csv(export(researcher, clinic, "csv"), "assessments.csv")
    graded = [(a["ctcae_grade"], a["ctcae_grade_derived"]) for a in rows]
    assert ("3", "2") not in graded and ("2", "2") in graded
    assert all(effective == derived for effective, derived in graded)


def test_csv_content_follows_the_seed_case(researcher, clinic, cohort, grant):
    grant(clinic, researcher.user_id)
    zf = export(researcher, clinic, "csv")
    assert sorted(zf.namelist()) == [
        "assessments.csv",
        "colour_measures.csv",
        "data_dictionary.csv",
        "patients.csv",
        "procedures.csv",
        "wounds.csv",
    ]
    patients = {p["age_years"]: p for p in _csv(zf, "patients.csv")}
    assert set(patients) == {"84", "90+"}
    assert patients["84"]["day_zero"] == "first_fraction"
    assert patients["90+"]["day_zero"] == "first_record"
    wounds = {w["site_class"]: w for w in _csv(zf, "wounds.csv")}
    seed = wounds["lower_limb"]
    # ulcer after the 13th fraction: day 16 from the first (Mon 3 Nov -> Wed 19 Nov)
    assert seed["onset_day"] == "16" and seed["healed_day"] == "51"
    assert seed["days_to_closure"] == "35" and seed["in_skin_fold"] == "1"
    assert float(seed["dose_at_onset_cgy"]) == 6100.0 and seed["dose_source"] == "fraction_log"
    assert seed["systemic_agents"] == "anlotinib" and seed["topical_categories"] == "silver"
    assert int(seed["antiangiogenic_exposure_days"]) > 0
    assert seed["worst_platelet_grade"] == "2"
    old = wounds["chest_wall"]
    assert old["onset_day"] == "0" and old["dose_at_onset_cgy"] == "" and old["healed_day"] == ""
    rows = [a for a in _csv(zf, "assessments.csv") if a["wound_id"] == seed["wound_id"]]
    assert [int(a["visit_day"]) for a in rows] == [16, 23, 30, 37, 44, 51]
    assert [int(a["days_since_onset"]) for a in rows] == [0, 7, 14, 21, 28, 35]
    # debridement + PRP one hour after each of the first four visits
    assert [int(a["debridements_before"]) for a in rows] == [0, 1, 2, 3, 4, 4]
    assert [int(a["prp_before"]) for a in rows] == [0, 1, 2, 3, 4, 4]
    # the override supersedes the derived CTCAE grade; both are kept
    assert (rows[2]["ctcae_grade"], rows[2]["ctcae_grade_derived"]) == ("3", "2")
    assert (rows[2]["rtog_grade"], rows[2]["rtog_grade_derived"]) == ("2", "2")
    assert rows[0]["push_total"] == "11" and rows[0]["area_method"] == "ellipse"
    assert float(rows[0]["cumulative_dose_cgy"]) == 6100.0
    # Acute (the course ended on the onset day); no late grade on an acute visit.
    assert [a["radiation_phase"] for a in rows] == ["acute"] * 6
    assert [int(a["days_after_rt_end"]) for a in rows] == [0, 7, 14, 21, 28, 35]
    assert {a["rtog_late_grade"] for a in rows} == {""}
    assert rows[0]["ctcae_skin_ulceration_grade"] == "3"  # full thickness, pi cm2 > 2
    assert (seed["radiation_phase_at_onset"], seed["icd10cm"]) == ("acute", "L58.0")
    assert seed["rt_course_end_day"] == "16" and seed["radiation_recall"] == "0"
    assert (old["radiation_phase_at_onset"], old["icd10cm"]) == ("", "L58.9")
    procs = _csv(zf, "procedures.csv")
    assert {p["kind"] for p in procs} == {"debridement"} and {p["prp"] for p in procs} == {"1"}
    dictionary = _csv(zf, "data_dictionary.csv")
    assert list(dictionary[0]) == ["variable", "form", "type", "units", "choices", "description"]
    documented = {(d["form"], d["variable"]) for d in dictionary}
    for name in ("patients", "wounds", "assessments", "procedures", "colour_measures"):
        header = next(csv.reader(io.StringIO(zf.read(f"{name}.csv").decode())))
        assert {(name, h) for h in header} <= documented
    day_zero = next(d for d in dictionary if d["variable"] == "day_zero")
    assert "first_fraction" in day_zero["description"] and "first_record" in day_zero["choices"]


def test_parquet_has_the_same_tables_with_types(researcher, clinic, cohort, grant):
    import pyarrow as pa

    grant(clinic, researcher.user_id)
    zf = export(researcher, clinic, "parquet")
    assert "data_dictionary.csv" in zf.namelist()
    table = pq.read_table(io.BytesIO(zf.read("assessments.parquet")))
    assert table.num_rows == cohort.n_assessments
    assert table.schema.field("visit_day").type == pa.int64()
    assert table.schema.field("area_cm2").type == pa.float64()
    assert table.schema.field("closed").type == pa.bool_()
    assert table.schema.field("area_method").type == pa.string()
    wounds = pq.read_table(io.BytesIO(zf.read("wounds.parquet"))).to_pylist()
    assert {w["site_class"] for w in wounds} == {"lower_limb", "chest_wall"}
    assert all(isinstance(w["in_skin_fold"], bool) for w in wounds)


def _fhir_resources(zf):
    for name in zf.namelist():
        if name.endswith(".ndjson"):
            for line in zf.read(name).decode().splitlines():
                yield name, json.loads(line), line


def test_fhir_ndjson_validates_and_carries_the_codes(researcher, clinic, cohort, grant):
    from fhir.resources.R4B import get_fhir_model_class

    grant(clinic, researcher.user_id)
    zf = export(researcher, clinic, "fhir_ndjson")
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    outputs = {o["type"]: o for o in manifest["output"]}
    assert set(outputs) == {"Patient", "Condition", "Observation", "Procedure"}
    by_type: dict[str, list[dict]] = {}
    for name, resource, line in _fhir_resources(zf):
        rtype = resource["resourceType"]
        assert name == f"{rtype}.ndjson"  # one resource type per file
        get_fhir_model_class(rtype).model_validate_json(line)  # raises when invalid
        by_type.setdefault(rtype, []).append(resource)
    for rtype, items in by_type.items():
        assert outputs[rtype]["count"] == len(items)
        assert outputs[rtype]["url"] == f"{rtype}.ndjson"
    for p in by_type["Patient"]:
        assert set(p) <= {"resourceType", "id", "extension", "gender"}
    codes = sorted(c["code"]["coding"][0]["code"] for c in by_type["Condition"])
    # The seed ulcer began on the last fraction (acute); the chest wall wound has
    # no course linked, so acute or chronic is not known (L58.9, unspecified).
    assert codes == ["L58.0", "L58.9"]
    size = [o for o in by_type["Observation"] if "component" in o]
    assert {o["code"]["coding"][0]["code"] for o in size} == {"72287-6"}
    components = {
        c["code"]["coding"][0]["code"]: c["valueQuantity"]["code"]
        for o in size
        for c in o["component"]
    }
    assert components == {"39126-8": "cm", "39125-0": "cm", "39127-6": "cm", "89260-4": "cm2"}
    grades = [o for o in by_type["Observation"] if "CTCAE" in o["code"].get("text", "")]
    ncit = {o["valueCodeableConcept"]["coding"][0]["code"] for o in grades}
    assert ncit == {"C41337", "C41339", "C41340"}  # grades 4, 2 and the override 3
    procs = by_type["Procedure"]
    assert sum(1 for p in procs if p["code"].get("coding", [{}])[0].get("code") == "36777000") == 4
    assert sum(1 for p in procs if "Platelet" in p["code"]["text"]) == 4
    refs = {p["id"] for p in by_type["Patient"]}
    assert all(r["subject"]["reference"].split("/")[1] in refs for r in procs + size + grades)


def test_condition_is_chronic_when_it_began_more_than_90_days_after_the_course():
    """The same rule as the assessments' radiation_phase: days from the course's
    last day to the onset, more than 90 late (L58.1), else acute (L58.0)."""
    from datetime import date, timedelta

    from app.exports.fhir import condition_code
    from app.exports.rows import radiation_context

    start, end, zero = date(2025, 1, 6), date(2025, 2, 14), date(2025, 1, 6)
    course = (start, end)

    def code(onset, etiology="radiation_ulcer", window=course):
        return radiation_context(etiology, onset, window, [], zero)

    assert code(end + timedelta(days=90)) == (39, "acute", 0, "L58.0")
    assert code(end + timedelta(days=91)) == (39, "late", 0, "L58.1")
    assert code(start + timedelta(days=3)) == (39, "acute", 0, "L58.0")  # during the course
    assert code(end, window=(None, None)) == (None, None, 0, "L58.9")  # no course linked
    assert code(start + timedelta(days=200), window=(start, None)) == (None, None, 0, "L58.9")
    assert code(end + timedelta(days=91), etiology="pressure")[3] is None
    assert condition_code("radiation_ulcer", "L58.1")["coding"][0] == {
        "system": "http://hl7.org/fhir/sid/icd-10-cm",
        "code": "L58.1",
        "display": "Chronic radiodermatitis",
    }
    assert condition_code("radiation_ulcer", "L58.9")["text"] == "Radiodermatitis, unspecified"
    assert "coding" not in condition_code("pressure", None)


def test_recall_in_the_wounds_table():
    from datetime import date, timedelta

    from app.clinical.therapy import Schedule
    from app.exports.rows import radiation_context

    start, end = date(2025, 1, 6), date(2025, 2, 14)
    drug = ("capecitabine", False, Schedule(date(2025, 2, 20), None, 14, 7, 1000.0))
    onset = end + timedelta(days=20)
    assert radiation_context("radiation_dermatitis", onset, (start, end), [drug], start)[2] == 1
    assert radiation_context("radiation_dermatitis", onset, (start, end), [], start)[2] == 0
    assert radiation_context("radiation_dermatitis", onset, (None, None), [drug], start)[2] == 0


# ---------------------------------------------------------------------------
# De-identification end to end


def _texts(zf: zipfile.ZipFile) -> dict[str, str]:
    out = {}
    for name in zf.namelist():
        raw = zf.read(name)
        text = raw.decode("latin-1")
        if name.endswith(".parquet"):
            table = pq.read_table(io.BytesIO(raw))
            text += json.dumps(table.to_pylist(), default=str)
            text += str(table.schema.metadata)
        out[name] = text.lower()
    return out


def test_no_identifying_value_in_any_output(app, researcher, clinic, cohort, grant):
    grant(clinic, researcher.user_id)
    scanned = 0
    for fmt in FORMATS:
        zf = export(researcher, clinic, fmt)
        for name, text in _texts(zf).items():
            scanned += 1
            for value in cohort.identifiers:
                assert value.lower() not in text, f"{value!r} leaked into {fmt}/{name}"
    # 6 files in CSV and Parquet (5 tables and the dictionary), 5 in FHIR: all scanned.
    assert scanned == 17


def test_pseudonyms_join_for_one_researcher_and_not_across(
    factory, researcher, clinic, cohort, grant
):
    other = factory.actor("researcher", None)
    grant(clinic, researcher.user_id)
    grant(clinic, other.user_id)
    first = export(researcher, clinic, "csv")
    second = export(researcher, clinic, "parquet")
    theirs = export(other, clinic, "csv")
    mine = {p["patient_id"] for p in _csv(first, "patients.csv")}
    again = {
        p["patient_id"]
        for p in pq.read_table(io.BytesIO(second.read("patients.parquet"))).to_pylist()
    }
    assert mine == again and len(mine) == 2
    wounds = {w["wound_id"] for w in _csv(first, "wounds.csv")}
    assert {a["wound_id"] for a in _csv(first, "assessments.csv")} == wounds
    other_ids = {p["patient_id"] for p in _csv(theirs, "patients.csv")}
    other_ids |= {w["wound_id"] for w in _csv(theirs, "wounds.csv")}
    assert not (mine | wounds) & other_ids


def test_deleted_records_are_not_exported(app, clinic_admin, clinic, cohort):
    from app.extensions import db
    from app.patients.models import Patient

    with app.app_context():
        db.session.execute(
            sa.update(Patient)
            .where(Patient.id == cohort.old_patient)
            .values(deleted_at=datetime.now(UTC))
        )
        db.session.commit()
    zf = export(clinic_admin, clinic, "csv")
    assert [p["age_years"] for p in _csv(zf, "patients.csv")] == ["84"]
    assert len(_csv(zf, "assessments.csv")) == 6


def test_dose_curve_agrees_with_cumulative_dose_on():
    from app.clinical.dose import Fraction, Phase, cumulative_dose_on
    from app.exports.doses import curve as _curve

    fractions = [Fraction(date(2025, 11, 3) + timedelta(days=i), 400.0) for i in range(5)]
    curve = _curve([(f.delivered_on, f.dose_cgy) for f in fractions], "fraction_log")
    phases = [Phase("imrt", 400, 10)]
    for offset in range(-2, 9):
        day = date(2025, 11, 3) + timedelta(days=offset)
        expected = cumulative_dose_on(
            day, fractions=fractions, phases=phases, course_start=None, course_end=None
        )
        assert curve.on(day) == expected.cumulative_dose_cgy
