"""POST /api/v1/sync: a queue of requests in one round trip, each through its
own route (permissions, validation, idempotency, If-Match, audit, history),
each committed on its own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.sync.batch import retryable
from tests.assessments.helpers import count_rows
from tests.factories import patient_body

NOW = (datetime.now(UTC) - timedelta(hours=1)).isoformat()


def wound_body(**overrides):
    body = {
        "body_site": "axilla",
        "laterality": "left",
        "etiology": "radiation_dermatitis",
        "onset_date": "2026-01-05",
    }
    return {**body, **overrides}


def assessment_body(**overrides):
    body = {
        "assessed_at": NOW,
        "length_cm": 3.0,
        "width_cm": 2.0,
        "exudate_amount": "small",
        "findings": {"erythema": "brisk", "desquamation": "moist"},
    }
    return {**body, **overrides}


def sub(sub_id, method, url, body=None, **extra):
    item = {"id": sub_id, "method": method, "url": url, **extra}
    if body is not None:
        item["body"] = body
    return item


def batch(actor, *requests, **kw):
    return actor.post("/api/v1/sync", json={"requests": list(requests)}, **kw)


def statuses(r):
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return [(x["id"], x["status"]) for x in r.json["responses"]]


def audit_rows(app, **where):
    from app.core.audit import AuditEvent
    from app.extensions import db

    with app.app_context():
        stmt = sa.select(AuditEvent).where(*(getattr(AuditEvent, k) == v for k, v in where.items()))
        rows = list(db.session.scalars(stmt.order_by(AuditEvent.at)))
        db.session.remove()
        return rows


# --- one code path --------------------------------------------------------------------


def test_a_queue_of_creates_amendments_and_deletes_runs_in_one_request(app, nurse):
    """A later request addresses what an earlier one created by its client id;
    each answers exactly what it answers alone, in order."""
    pid, wid, aid = (str(uuid.uuid4()) for _ in range(3))
    r = batch(
        nurse,
        sub("p", "POST", "/api/v1/patients", {**patient_body(), "id": pid}),
        sub("w", "POST", f"/api/v1/patients/{pid}/wounds", wound_body(id=wid)),
        sub("a", "POST", f"/api/v1/wounds/{wid}/assessments", assessment_body(id=aid)),
        sub("amend", "PATCH", f"/api/v1/wounds/{wid}", {"body_site": "neck"},
            headers={"If-Match": '"v1"'}),
        sub("stale", "PATCH", f"/api/v1/wounds/{wid}", {"body_site": "chin"},
            headers={"If-Match": '"v1"'}),
        sub("del", "DELETE", f"/api/v1/assessments/{aid}", headers={"If-Match": '"v1"'}),
        sub("read", "GET", f"/api/v1/wounds/{wid}"),
        sub("list", "GET", f"/api/v1/wounds/{wid}/assessments?limit=5"),
    )  # fmt: skip
    assert statuses(r) == [
        ("p", 201), ("w", 201), ("a", 201), ("amend", 200), ("stale", 412), ("del", 200),
        ("read", 200), ("list", 200),
    ]  # fmt: skip
    by_id = {x["id"]: x for x in r.json["responses"]}
    assert by_id["w"]["body"]["patient_id"] == pid
    assert by_id["a"]["body"]["ctcae_grade"]["value"] is not None  # derived as alone
    assert by_id["amend"]["headers"]["ETag"] == '"v2"'
    assert by_id["stale"]["body"]["current"]["body_site"] == "neck"  # the 412's own body
    assert by_id["stale"]["headers"]["Content-Type"] == "application/problem+json"
    assert by_id["read"]["body"]["body_site"] == "neck"
    assert by_id["list"]["body"]["items"] == []  # the deleted assessment is gone
    assert not any(x["retry"] for x in r.json["responses"])
    # What was written is what the single routes show, history included.
    assert nurse.get(f"/api/v1/wounds/{wid}").json["body_site"] == "neck"
    assert nurse.get(f"/api/v1/assessments/{aid}").status_code == 404
    versions = nurse.get(f"/api/v1/wounds/{wid}/history").json["items"]
    assert [v["action"] for v in versions] == ["create", "update"]


def test_each_sub_request_is_audited_as_alone_under_the_batch_request_id(app, nurse):
    pid = str(uuid.uuid4())
    r = batch(
        nurse,
        sub("1", "POST", "/api/v1/patients", {**patient_body(), "id": pid}),
        sub("2", "GET", f"/api/v1/patients/{pid}"),
        headers={"X-Request-ID": "batch-abc"},
    )
    assert statuses(r) == [("1", 201), ("2", 200)]
    created = audit_rows(app, record_id=pid, action="create")
    read = audit_rows(app, record_id=pid, action="read")
    assert [e.request_id for e in created] == ["batch-abc-1"]
    assert [e.request_id for e in read] == ["batch-abc-2"]
    assert {e.user_id for e in created + read} == {nurse.user_id}


def test_a_failure_undoes_none_of_the_others_and_writes_nothing(app, nurse):
    from app.patients.models import Patient

    first, third = str(uuid.uuid4()), str(uuid.uuid4())
    r = batch(
        nurse,
        sub("1", "POST", "/api/v1/patients", {**patient_body(), "id": first}),
        sub("2", "POST", "/api/v1/patients", {**patient_body(), "sex": "dragon"}),
        sub("3", "POST", "/api/v1/patients", {**patient_body(), "id": third}),
    )
    assert statuses(r) == [("1", 201), ("2", 422), ("3", 201)]
    failed = r.json["responses"][1]
    assert failed["body"]["errors"] == {"sex": [failed["body"]["errors"]["sex"][0]]}
    assert failed["retry"] is False
    assert count_rows(app, Patient) == 2
    assert nurse.get(f"/api/v1/patients/{first}").status_code == 200
    assert nurse.get(f"/api/v1/patients/{third}").status_code == 200


def test_symptoms_recorded_offline_arrive_through_the_batch(app, nurse):
    """A phone queues a visit with the patient's symptoms and a later amendment;
    a bad rating is the single route's 422 naming the field."""
    pid, wid, aid = (str(uuid.uuid4()) for _ in range(3))
    symptoms = {"pain_score": 4, "itch_nrs": 6, "burning_nrs": 2, "pro_skin_reaction": "moderate"}
    r = batch(
        nurse,
        sub("p", "POST", "/api/v1/patients", {**patient_body(), "id": pid}),
        sub("w", "POST", f"/api/v1/patients/{pid}/wounds", wound_body(id=wid)),
        sub("a", "POST", f"/api/v1/wounds/{wid}/assessments", assessment_body(id=aid, **symptoms)),
        sub(
            "amend",
            "PATCH",
            f"/api/v1/assessments/{aid}",
            {"itch_nrs": 3, "pro_skin_reaction": "mild"},
            headers={"If-Match": '"v1"'},
        ),
        sub("bad", "POST", f"/api/v1/wounds/{wid}/assessments", assessment_body(itch_nrs=12)),
    )
    assert statuses(r) == [("p", 201), ("w", 201), ("a", 201), ("amend", 200), ("bad", 422)]
    created = r.json["responses"][2]["body"]
    assert {k: created[k] for k in symptoms} == symptoms
    assert list(r.json["responses"][4]["body"]["errors"]) == ["itch_nrs"]
    stored = nurse.get(f"/api/v1/assessments/{aid}").json
    assert (stored["itch_nrs"], stored["pro_skin_reaction"], stored["pain_score"]) == (
        3,
        "mild",
        4,
    )


def test_sending_the_batch_again_replays_its_creates(app, nurse):
    """A batch whose answer was lost is sent again: every create with a client
    id answers the stored record (200), and nothing is created twice."""
    from app.patients.models import Patient
    from app.wounds.models import Wound

    pid, wid = str(uuid.uuid4()), str(uuid.uuid4())
    requests = [
        sub("p", "POST", "/api/v1/patients", {**patient_body(), "id": pid}),
        sub("w", "POST", f"/api/v1/patients/{pid}/wounds", wound_body(id=wid)),
    ]
    first = batch(nurse, *requests)
    again = batch(nurse, *requests)
    assert statuses(first) == [("p", 201), ("w", 201)]
    assert statuses(again) == [("p", 200), ("w", 200)]
    assert again.json["responses"][1]["body"] == first.json["responses"][1]["body"]
    assert (count_rows(app, Patient), count_rows(app, Wound)) == (1, 1)
    # The same id with other content is the single route's 409, not retried.
    clash = batch(nurse, sub("p", "POST", "/api/v1/patients", {**patient_body(), "id": pid}))
    assert statuses(clash) == [("p", 409)]
    assert clash.json["responses"][0]["body"]["stored"]["id"] == pid
    assert clash.json["responses"][0]["retry"] is False


def test_permissions_and_clinic_scope_are_those_of_the_single_routes(
    app, nurse, researcher, outsider
):
    pid = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    mine = batch(researcher, sub("1", "GET", f"/api/v1/patients/{pid}"))
    theirs = batch(outsider, sub("1", "GET", f"/api/v1/patients/{pid}"))
    alone = outsider.get(f"/api/v1/patients/{pid}")
    assert statuses(mine) == [("1", 403)]
    assert statuses(theirs) == [("1", 404)]
    body = {k: v for k, v in theirs.json["responses"][0]["body"].items() if k != "request_id"}
    assert body == {k: v for k, v in alone.json.items() if k != "request_id"}


def test_depends_on_skips_a_request_whose_prerequisite_failed(app, nurse):
    from app.wounds.models import Wound

    pid = str(uuid.uuid4())
    r = batch(
        nurse,
        sub("p", "POST", "/api/v1/patients", {**patient_body(), "id": pid, "sex": "x"}),
        sub("w", "POST", f"/api/v1/patients/{pid}/wounds", wound_body(), depends_on=["p"]),
        sub("free", "GET", "/api/v1/me"),
    )
    assert statuses(r) == [("p", 422), ("w", 424), ("free", 200)]
    skipped = r.json["responses"][1]
    assert skipped["retry"] is False  # its prerequisite will fail again
    assert "'p'" in skipped["body"]["detail"]
    assert count_rows(app, Wound) == 0


def test_a_server_error_is_answered_in_place_and_marked_for_retry(app, nurse, monkeypatch):
    from app.patients import services

    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(services, "create_patient", broken)
    r = batch(
        nurse,
        sub("1", "POST", "/api/v1/patients", patient_body()),
        sub("2", "POST", "/api/v1/patients/x/wounds", wound_body(), depends_on=["1"]),
        sub("3", "GET", "/api/v1/me"),
    )
    assert statuses(r) == [("1", 500), ("2", 424), ("3", 200)]
    assert [x["retry"] for x in r.json["responses"]] == [True, True, False]


def test_after_a_rate_limit_the_rest_of_the_batch_is_not_attempted(app, nurse):
    """Sign-in attempts in a batch count against the sign-in limit as alone
    (10 a minute); the first 429 stops the batch, every later request says so."""
    wrong = {"email": nurse.email, "password": "not the password at all"}
    r = batch(
        nurse,
        *(sub(str(i), "POST", "/api/v1/auth/token", wrong) for i in range(11)),
        sub("after", "GET", "/api/v1/me"),
    )
    got = statuses(r)
    assert got[:10] == [(str(i), 401) for i in range(10)]
    assert got[10:] == [("10", 429), ("after", 429)]
    limited, skipped = r.json["responses"][10:]
    assert limited["retry"] and skipped["retry"]
    assert limited["headers"]["Retry-After"] == skipped["headers"]["Retry-After"]
    assert "Not attempted" in skipped["body"]["detail"]


def test_only_json_bodies_are_carried(app, nurse):
    """A response that is not JSON (a chart image) keeps its status and type,
    without a body: batches carry JSON."""
    pid = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    wid = nurse.post(f"/api/v1/patients/{pid}/wounds", json=wound_body()).json["id"]
    nurse.post(f"/api/v1/wounds/{wid}/assessments", json=assessment_body())
    r = batch(nurse, sub("chart", "GET", f"/api/v1/wounds/{wid}/trajectory.svg"))
    assert statuses(r) == [("chart", 200)]
    assert r.json["responses"][0]["body"] is None
    assert r.json["responses"][0]["headers"]["Content-Type"].startswith("image/svg+xml")


# --- what a batch may hold ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("requests", "field"),
    [
        ([sub("1", "GET", "/api/v1/sync?clinic_id=x")], "requests.0.url"),
        ([sub("1", "POST", "/api/v1/sync/")], "requests.0.url"),
        ([sub("1", "POST", "/api/v1/uploads")], "requests.0.url"),
        ([sub("1", "HEAD", "/api/v1/uploads/x")], "requests.0.method"),
        ([sub("1", "GET", "http://evil.example/api/v1/me")], "requests.0.url"),
        ([sub("1", "GET", "//evil.example/api/v1/me")], "requests.0.url"),
        ([sub("1", "GET", "/api/v1/../metrics")], "requests.0.url"),
        ([sub("1", "GET", "/api/v1/%2e%2e/metrics")], "requests.0.url"),
        ([sub("1", "GET", "/metrics")], "requests.0.url"),
        ([sub("1", "GET", "/api/v1/me\r\nX: y")], "requests.0.url"),
        ([sub("1", "GET", "/api/v1/me", headers={"Authorization": "Bearer x"})],
         "requests.0.headers"),
        ([sub("1", "GET", "/api/v1/me"), sub("1", "GET", "/api/v1/me")], "requests.1.id"),
        ([sub("1", "GET", "/api/v1/me", depends_on=["2"]), sub("2", "GET", "/api/v1/me")],
         "requests.0.depends_on"),
        ([sub("1", "GET", "/api/v1/me", bogus=1)], "requests.0.bogus"),
    ],
)  # fmt: skip
def test_a_malformed_batch_is_refused_whole(app, nurse, requests, field):
    from app.patients.models import Patient

    create = sub("ok", "POST", "/api/v1/patients", patient_body())
    r = nurse.post("/api/v1/sync", json={"requests": [*requests, create]})
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert r.mimetype == "application/problem+json"
    assert field in r.json["errors"], r.json["errors"]
    assert count_rows(app, Patient) == 0  # nothing of it ran


def test_an_empty_batch_is_refused(app, nurse):
    r = nurse.post("/api/v1/sync", json={"requests": []})
    assert r.status_code == 422 and "requests" in r.json["errors"]


def test_at_most_200_requests_per_batch(app, nurse):
    me = [sub(str(i), "GET", "/api/v1/me") for i in range(201)]
    r = nurse.post("/api/v1/sync", json={"requests": me})
    assert r.status_code == 422 and "requests" in r.json["errors"]
    assert "200" in r.json["errors"]["requests"][0]
    assert statuses(nurse.post("/api/v1/sync", json={"requests": me[:200]}))[-1] == ("199", 200)


def test_a_batch_over_the_json_limit_is_413(app, nurse):
    from app.patients.models import Patient

    notes = "x" * 9000
    huge = [sub(str(i), "POST", "/api/v1/patients", {**patient_body(), "mrn": notes[:64],
            "given_name": notes}) for i in range(120)]  # fmt: skip
    r = nurse.post("/api/v1/sync", json={"requests": huge})
    assert r.status_code == 413 and r.mimetype == "application/problem+json"
    assert count_rows(app, Patient) == 0


def test_a_chunked_batch_stops_being_read_at_the_limit(app, nurse, monkeypatch):
    import io

    monkeypatch.setitem(app.config, "MAX_JSON_BYTES", 2000)
    body = b'{"requests": [' + b'{"id": "1", "method": "GET", "url": "/api/v1/me"},' * 100 + b"]}"
    r = nurse.post(
        "/api/v1/sync",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        # What a server sets for a chunked body it has decoded (no Content-Length).
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert r.status_code == 413, r.get_data(as_text=True)[:300]


def test_a_batch_needs_a_token(client):
    r = client.post("/api/v1/sync", json={"requests": [sub("1", "GET", "/api/v1/me")]})
    assert r.status_code == 401


# --- retry -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "retry"),
    [
        (500, None, True),
        (503, {"type": "x"}, True),
        (507, None, True),
        (429, None, True),
        (408, None, True),
        (423, None, True),
        (409, {"type": "https://woundtrack.example/problems/integrity"}, True),
        (409, {"type": "https://woundtrack.example/problems/id-reused"}, False),
        (409, None, False),
        (412, None, False),
        (422, None, False),
        (404, None, False),
        (403, None, False),
        (400, None, False),
        (201, None, False),
    ],
)
def test_which_answers_are_worth_retrying(status, body, retry):
    assert retryable(status, body) is retry
