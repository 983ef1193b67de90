"""Security properties checked over the whole documented API.

- Clinic isolation (a record of another clinic answers exactly like a missing
  one, 404) is tests/core/test_isolation.py, generic over every route and
  every non-admin role; not repeated here. This file adds the researcher rule:
  researchers see no identifiable data, even of their own clinic (403).
- Mass assignment: every field a response marks readOnly is refused in the
  request bodies of every create and amendment (422 naming the field).
- Security headers on every response (API, errors, pages, docs).
- The audit trail of a scripted session: every read and write of patient data
  appears exactly once, under the request that did it.
- No patient name or MRN in the logs or in error messages.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from tests.core.graph import BODIES, STEPS, RecordGraph, table_of
from tests.core.routes import Operation, openapi, operations

# The record graph registers a webhook; it must stay off the network.
pytestmark = pytest.mark.usefixtures("local_webhooks")

ANY = "*any id*"

# Record types that are (or lead to) identifiable patient data.
PATIENT_DATA = {
    "patients",
    "radiotherapy_courses",
    "wounds",
    "assessments",
    "procedures",
    "photos",
    "systemic_therapies",
    "topical_treatments",
    "lab_results",
    "alerts",
}


@pytest.fixture
def insiders(admin, clinic_admin, clinician, nurse) -> dict[str, Any]:
    return {"admin": admin, "clinic_admin": clinic_admin, "clinician": clinician, "nurse": nurse}


@pytest.fixture
def graph(client, clinic, insiders) -> RecordGraph:
    documented = {(op.method, op.path) for op in operations(client)}
    g = RecordGraph(clinic, insiders, documented)
    for table in PATIENT_DATA:
        g.id_of(table)
    return g


# --- researchers ---------------------------------------------------------------------------


def test_researcher_gets_403_on_identifiable_data_of_own_clinic(client, graph, researcher):
    """Every route addressing a patient-data record, and the lists and summaries
    of patient data, refuse a researcher of the same clinic: 403, not the data."""
    checked, failures = 0, []
    for op in operations(client):
        tables = {table_of(op, p) for p in op.params}
        listing = (
            op.method == "get"
            and not op.params
            and op.path.rsplit("/", 1)[-1]
            in (
                "patients",
                "wounds",
                "dashboard",
                "alerts",
            )
        )
        if not (tables & PATIENT_DATA or listing):
            continue
        url = op.url(**{p: graph.id_of(table_of(op, p)) for p in op.params})
        kw = graph.request_kwargs(op) or {}
        r = researcher.request(op.method.upper(), url, headers={"If-Match": '"v1"'}, **kw)
        if r.status_code != 403:
            failures.append(f"{op}: {r.status_code} {r.get_data()[:150]!r}")
        checked += 1
    assert checked > 60
    assert not failures, "researcher reached identifiable data:\n" + "\n".join(failures)


# --- mass assignment -----------------------------------------------------------------------


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _read_only_fields(spec: dict[str, Any], op: Operation) -> list[str]:
    """Top-level members the operation's success response marks readOnly."""
    for status in ("201", "200", "202"):
        content = op.spec["responses"].get(status, {}).get("content", {})
        if "application/json" in content:
            schema = _resolve(spec, content["application/json"]["schema"])
            props = schema.get("properties", {})
            return sorted(k for k, v in props.items() if _resolve(spec, v).get("readOnly"))
    return []


def _inputs(spec: dict[str, Any], op: Operation) -> set[str]:
    """Members the request body schema accepts (an export names its clinic_id)."""
    content = op.spec.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return set()
    props = _resolve(spec, content["application/json"]["schema"]).get("properties", {})
    return {k for k, v in props.items() if not _resolve(spec, v).get("readOnly")}


FORGED = {
    "clinic_id": str(uuid.uuid4()),
    "version": 99,
    "deleted": True,
    "created_at": "2020-01-01T00:00:00+00:00",
    "updated_at": "2020-01-01T00:00:00+00:00",
}


def _forged_value(field: str) -> Any:
    if field in FORGED:
        return FORGED[field]
    if field.endswith("_id") or field.endswith("_by"):
        return str(uuid.uuid4())
    return 3


def test_server_owned_fields_are_refused_in_every_writable_body(client, graph, insiders):
    """A client cannot set what the server derives or owns (clinic, parent,
    version, timestamps, grades, scores, authorship): 422 naming the field,
    and nothing is written."""
    spec = openapi(client)
    creates = {
        (s.method, s.path): s
        for s in STEPS.values()
        if not s.multipart and s.headers is None and s.find is None
    }
    checked, failures = 0, []
    for op in operations(client):
        key = (op.method, op.path)
        if key in creates:
            step = creates[key]
            body, actor = step.body(graph), insiders[step.role]
        elif key in BODIES:
            body, actor = BODIES[key](), insiders["admin"]
        else:
            continue
        url = op.url(**{p: graph.id_of(table_of(op, p)) for p in op.params})
        owned = [f for f in _read_only_fields(spec, op) if f not in _inputs(spec, op)]
        assert owned, f"{op}: no readOnly members documented"
        for field in owned:
            headers = {}
            if op.method in ("patch", "put") or op.path.endswith("/calibration"):
                current = actor.get(url.removesuffix("/calibration").removesuffix("/tracing"))
                headers["If-Match"] = current.headers.get("ETag", "")
            r = actor.request(
                op.method.upper(),
                url,
                json={**body, field: _forged_value(field)},
                headers=headers,
            )
            checked += 1
            errors = (r.get_json(silent=True) or {}).get("errors") or {}
            if r.status_code != 422 or field not in errors:
                failures.append(f"{op} accepted {field!r}: {r.status_code} {r.get_data()[:200]!r}")
    assert checked > 100
    assert not failures, "mass assignment:\n" + "\n".join(failures)


# --- headers -------------------------------------------------------------------------------

REQUIRED_HEADERS = {
    "X-Content-Type-Options": lambda v: v == "nosniff",
    "Content-Security-Policy": lambda v: "frame-ancestors 'none'" in v and "default-src" in v,
    "Referrer-Policy": lambda v: v in ("no-referrer", "same-origin", "strict-origin"),
    "X-Frame-Options": lambda v: v == "DENY",
}


def _header_problems(r: Any) -> list[str]:
    return [
        f"{name}={r.headers.get(name)!r}"
        for name, ok in REQUIRED_HEADERS.items()
        if not ok(r.headers.get(name) or "")
    ]


def test_security_headers_on_every_response(app, client, graph, nurse):
    responses: list[tuple[str, Any]] = []
    for op in operations(client):
        values = {p: graph.id_of(table_of(op, p)) for p in op.params}
        kw = graph.request_kwargs(op) or {}
        mine = nurse.request(op.method.upper(), op.url(**values), **kw)
        responses.append((f"{op} as nurse", mine))
        responses.append((f"{op} anonymous", client.open(op.url(), method=op.method.upper())))
    for url in ("/", "/api/v1/docs", "/api/v1/openapi.json", "/no/such/page", "/api/v1/nope"):
        responses.append((f"GET {url}", client.get(url)))
    responses.append(("DELETE /api/v1/health", client.delete("/api/v1/health")))
    huge = client.post("/api/v1/auth/token", data="x" * (2 << 20), content_type="application/json")
    responses.append(("huge JSON", huge))
    failures = [f"{name}: {_header_problems(r)}" for name, r in responses if _header_problems(r)]
    assert len(responses) > 150
    assert not failures, "missing security headers:\n" + "\n".join(failures)
    # Patient data is never kept by shared caches (no-store, or private for photos).
    cached = [
        f"{name}: {r.headers.get('Cache-Control')!r}"
        for name, r in responses
        if "/api/" in name
        and not any(v in (r.headers.get("Cache-Control") or "") for v in ("no-store", "private"))
    ]
    assert not cached, "cacheable API responses:\n" + "\n".join(cached)


# --- the audit trail of a scripted session -------------------------------------------------


def _events(app, request_id: str) -> list[tuple[str, str | None, str | None]]:
    from app.core.audit import AuditEvent
    from app.extensions import db

    with app.app_context():
        rows = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.record_type, AuditEvent.record_id).where(
                AuditEvent.request_id == request_id
            )
        ).all()
    return sorted((a, t, i) for a, t, i in rows)


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (200, 150), (190, 120, 110)).save(buf, "PNG")
    return buf.getvalue()


def scripted_session(nurse: Any, clinician: Any, *, name: str, mrn: str) -> list[tuple[Any, list]]:
    """A day at the clinic; returns (response, expected audit events) per request.

    Expected: each read of one record -> ("read", type, id); each list ->
    ("list", type of the rows, parent id); each write -> (action, type, id).
    Derived writes (an assessment's grade override) are their own record.
    """
    steps: list[tuple[Any, list]] = []
    now = "2026-01-01T10:00:00+00:00"
    r = nurse.post(
        "/api/v1/patients",
        json={
            "mrn": mrn,
            "given_name": name.split()[0],
            "family_name": name.split()[1],
            "birth_date": "1950-05-05",
            "sex": "female",
        },
    )
    patient = r.json["id"]
    steps.append((r, [("create", "patient", patient)]))
    r = nurse.get(f"/api/v1/patients/{patient}")
    steps.append((r, [("read", "patient", patient)]))
    etag = r.headers["ETag"]
    r = nurse.patch(f"/api/v1/patients/{patient}", json={"sex": "other"}, etag=etag)
    steps.append((r, [("update", "patient", patient)]))
    r = nurse.post(
        f"/api/v1/patients/{patient}/wounds",
        json={
            "body_site": "axilla",
            "laterality": "left",
            "in_skin_fold": True,
            "etiology": "radiation_dermatitis",
            "onset_date": "2025-12-20",
        },
    )
    wound = r.json["id"]
    steps.append((r, [("create", "wound", wound)]))
    r = nurse.post(
        f"/api/v1/wounds/{wound}/assessments",
        json={"assessed_at": now, "length_cm": 3, "width_cm": 2, "notes": f"{name} said it itches"},
    )
    assessment = r.json["id"]
    steps.append((r, [("create", "assessment", assessment)]))
    r = nurse.get(f"/api/v1/wounds/{wound}/assessments")
    steps.append((r, [("list", "assessment", wound)]))
    r = nurse.get(f"/api/v1/assessments/{assessment}")
    steps.append((r, [("read", "assessment", assessment)]))
    r = nurse.patch(
        f"/api/v1/assessments/{assessment}", json={"pain_score": 4}, etag=r.headers["ETag"]
    )
    steps.append((r, [("update", "assessment", assessment)]))
    r = clinician.post(
        f"/api/v1/assessments/{assessment}/grade-override",
        json={"scale": "ctcae", "value": 2, "reason": "clinical judgement"},
    )
    # The override is its own record (id not in the response) and updates the assessment.
    steps.append((r, [("create", "grade_override", ANY), ("update", "assessment", assessment)]))
    r = nurse.post(
        f"/api/v1/wounds/{wound}/photos",
        data={"file": (io.BytesIO(_png()), "w.png", "image/png")},
        content_type="multipart/form-data",
    )
    photo = r.json["id"]
    steps.append((r, [("create", "photo", photo)]))
    r = nurse.get(f"/api/v1/photos/{photo}/content?size=thumb")
    steps.append((r, [("read", "photo", photo)]))
    r = nurse.get(f"/api/v1/wounds/{wound}/trajectory")
    steps.append((r, [("read", "wound", wound)]))
    # Errors the session runs into: they must not echo the patient back.
    steps.append((nurse.post("/api/v1/patients", json={"mrn": mrn, "given_name": name}), []))
    steps.append((nurse.patch(f"/api/v1/patients/{patient}", json={"given_name": name}), []))
    steps.append(
        (
            nurse.post(
                f"/api/v1/wounds/{wound}/assessments",
                json={"assessed_at": "2999-01-01T00:00:00+00:00", "notes": name},
            ),
            [],
        )
    )
    r = nurse.delete(
        f"/api/v1/assessments/{assessment}",
        etag=nurse.get(f"/api/v1/assessments/{assessment}").headers["ETag"],
    )
    steps.append((r, [("delete", "assessment", assessment)]))
    return steps


# A clinical write re-evaluates the wound's alerts (app/alerts): the alerts it
# opens or resolves are audited in the same request. Only a write may add them,
# and only on top of its own record's events.
WRITES = {"create", "update", "delete", "restore"}
ALERT_SIDE_EFFECTS = {("create", "alert"), ("resolve", "alert")}


def test_audit_trail_of_a_session_is_complete(app, nurse, clinician):
    steps = scripted_session(nurse, clinician, name="Auditha Example", mrn="MRN-AUD-0001")
    failures = []
    side_effects = 0
    for r, expected in steps:
        request = f"{r.request.method} {r.request.path} -> {r.status_code}"
        if expected:
            assert r.status_code < 400, f"{request}: {r.get_data()[:200]!r}"
        got = _events(app, r.headers["X-Request-ID"])
        if any(action in WRITES for action, _, _ in expected):
            kept = [g for g in got if (g[0], g[1]) not in ALERT_SIDE_EFFECTS]
            side_effects += len(got) - len(kept)
            got = kept
        want = sorted(expected)
        same = len(got) == len(want) and all(
            (g[0], g[1]) == (w[0], w[1]) and w[2] in (ANY, g[2])
            for g, w in zip(got, want, strict=True)
        )
        if not same:
            failures.append(f"{request}: audited {got}, expected {want}")
    assert not failures, "audit trail:\n" + "\n".join(failures)
    # The wound (onset 2025-12-20, never assessed when it is recorded) opened an
    # overdue alert with it, audited in the same request.
    assert side_effects >= 1


# --- no patient data in logs or error messages ---------------------------------------------


def test_no_name_or_mrn_in_logs_or_error_messages(app, nurse, clinician, captured_logs):
    """Scripted session with a distinctive name and MRN, errors included; the
    whole run's logs are scanned again at the end (tests/conftest.py)."""
    name, mrn = "Zebulon Quixoteson", "MRN-PHI-777123"
    steps = scripted_session(nurse, clinician, name=name, mrn=mrn)
    needles = (name.split()[0], name.split()[1], mrn)

    for r, _ in steps:
        if r.status_code >= 400:
            body = r.get_json() or {}
            # RFC 9457 extension members `stored`/`current` return the caller's
            # own record by contract (409/412); the messages must not echo it.
            message = {k: v for k, v in body.items() if k not in ("stored", "current")}
            assert not any(n in str(message) for n in needles), f"{r.status_code}: {message}"
    text = "\n".join(captured_logs.texts())
    assert '"msg": "request"' in text  # the handler did capture this session
    leaks = [n for n in needles if n in text]
    assert not leaks, f"patient data in the logs: {leaks}"
