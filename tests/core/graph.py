"""One record of every type, created through the API in one clinic.

The cross-clinic test (test_isolation.py) needs a real record behind every
``{..._id}`` of every documented route. ``RecordGraph.id_of(table)`` creates the
record (and its parents) on first use with the contract's create request; when
the create route is not in the OpenAPI document yet, or refuses the body, it
raises ``Unavailable`` with the reason, so the test can skip that type and say why.

To cover a new record type, add a ``Step`` to STEPS (and, if its path segment
is not its table name, a line to SEGMENT_TABLES). A record no route creates by
itself (an alert, a webhook message) has a Step whose request causes it and a
``find`` that returns its id.

The graph registers a webhook (https://example.org/hook): a module using the
graph takes the ``local_webhooks`` fixture (tests/conftest.py), so nothing
resolves or sends anything over the network.
"""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.core.routes import Operation
from tests.factories import patient_body

TODAY = date.today()
DAY = (TODAY - timedelta(days=20)).isoformat()
NOW = (datetime.now(UTC) - timedelta(days=1)).isoformat()
# Later than NOW, so the alert Step's assessment is the wound's latest.
RECENT = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
# CTCAE grade 3 (moist desquamation beyond the skin folds): opens a grade alert.
GRADE3 = {"erythema": "brisk", "desquamation": "moist", "moist_beyond_skin_folds": True}

# Path segment before a record id -> the table it names, where they differ.
SEGMENT_TABLES = {
    "exports": "export_jobs",
    "fractions": "fraction_deliveries",
    "messages": "webhook_messages",
    "colour-measures": "photo_colour_measures",
}


def table_of(op: Operation, param: str) -> str:
    """The table a path parameter refers to: the collection segment before it."""
    segments = op.path.split("/")
    index = segments.index("{" + param + "}")
    segment = segments[index - 1]
    return SEGMENT_TABLES.get(segment, segment.replace("-", "_"))


# Outlines on _png(): inside its lesion, and on the skin around it.
INSIDE_LESION = [[130, 95], [190, 95], [190, 145], [130, 145]]
OUTSIDE_LESION = [[10, 10], [90, 10], [90, 60], [10, 60]]


class Unavailable(Exception):
    """This record type cannot be created through the API (yet)."""


def _png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), (200, 170, 160))
    ImageDraw.Draw(image).ellipse((100, 70, 220, 170), fill=(150, 60, 60))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


@dataclass(frozen=True)
class Step:
    table: str
    method: str
    path: str  # the create route, as in the OpenAPI document
    role: str  # who creates it (a member of clinic A)
    body: Callable[[RecordGraph], dict[str, Any]]
    multipart: bool = False
    # A create that takes its fields in headers and no body (the tus creation).
    headers: Callable[[RecordGraph], dict[str, str]] | None = None
    # A record the request opens as a side effect (its route creates another
    # type): the id of this record, from the graph and the request's response.
    find: Callable[[RecordGraph, Any], str | None] | None = None
    # Records that must exist before the request (besides its path's).
    needs: tuple[str, ...] = ()


def _open_grade_alert(g: RecordGraph, r: Any) -> str | None:
    wound = g.id_of("wounds")
    listed = g.actors["nurse"].get(
        "/api/v1/alerts", query_string={"wound_id": wound, "kind": "grade", "status": "open"}
    )
    items = listed.json["items"] if listed.status_code == 200 else []
    return items[0]["id"] if items else None


def _queued_message(g: RecordGraph, r: Any) -> str | None:
    """The webhook's first outbox message. The API names a message only in a
    delivery attempt, and the graph sends nothing, so it is read from the table."""
    import sqlalchemy as sa

    from app.alerts.models import WebhookMessage
    from app.extensions import db

    hook = uuid.UUID(g.id_of("webhooks"))
    with g.actors["nurse"].app.app_context():
        return db.session.scalar(
            sa.select(WebhookMessage.id)
            .where(WebhookMessage.webhook_id == hook)
            .order_by(WebhookMessage.created_at, WebhookMessage.id)
            .limit(1)
        )


STEPS: dict[str, Step] = {
    s.table: s
    for s in (
        Step(
            "users",
            "post",
            "/api/v1/clinics/{clinic_id}/users",
            "clinic_admin",
            lambda g: {
                "email": f"member-{uuid.uuid4().hex[:8]}@example.org",
                "name": "Member of A",
                "role": "researcher",
                "password": "a long enough password",
            },
        ),
        Step(
            "research_grants",
            "post",
            "/api/v1/clinics/{clinic_id}/research-grants",
            "clinic_admin",
            lambda g: {"researcher_id": g.id_of("users")},
        ),
        Step("patients", "post", "/api/v1/patients", "nurse", lambda g: patient_body()),
        Step(
            "radiotherapy_courses",
            "post",
            "/api/v1/patients/{patient_id}/radiotherapy-courses",
            "clinician",
            lambda g: {
                "target_site": "left breast",
                "start_date": DAY,
                "phases": [{"technique": "vmat", "dose_per_fraction_cgy": 267, "fractions": 15}],
            },
        ),
        Step(
            "fraction_deliveries",
            "post",
            "/api/v1/radiotherapy-courses/{course_id}/fractions",
            "nurse",
            lambda g: {"delivered_on": DAY, "dose_cgy": 267},
        ),
        Step(
            "wounds",
            "post",
            "/api/v1/patients/{patient_id}/wounds",
            "nurse",
            lambda g: {
                "body_site": "inframammary fold",
                "laterality": "left",
                "in_skin_fold": True,
                "etiology": "radiation_dermatitis",
                "onset_date": DAY,
            },
        ),
        Step(
            "assessments",
            "post",
            "/api/v1/wounds/{wound_id}/assessments",
            "nurse",
            lambda g: {
                "assessed_at": NOW,
                "length_cm": 3.0,
                "width_cm": 2.0,
                "exudate_amount": "small",
                "findings": {"erythema": "brisk", "desquamation": "moist"},
            },
        ),
        Step(
            "alerts",
            "post",
            "/api/v1/wounds/{wound_id}/assessments",
            "nurse",
            lambda g: {
                "assessed_at": RECENT,
                "length_cm": 3.0,
                "width_cm": 2.0,
                "findings": GRADE3,
            },
            find=_open_grade_alert,
        ),
        Step(
            "webhooks",
            "post",
            "/api/v1/clinics/{clinic_id}/webhooks",
            "clinic_admin",
            lambda g: {
                "url": "https://example.org/hook",
                "events": ["alert.opened", "alert.acknowledged", "alert.resolved"],
            },
        ),
        Step(
            # A wound never assessed since an onset long ago is overdue: its
            # alert, opened with the wound, queues an alert.opened message.
            "webhook_messages",
            "post",
            "/api/v1/patients/{patient_id}/wounds",
            "nurse",
            lambda g: {
                "body_site": "sternum",
                "laterality": "midline",
                "etiology": "radiation_dermatitis",
                "onset_date": (TODAY - timedelta(days=90)).isoformat(),
            },
            find=_queued_message,
            needs=("webhooks",),
        ),
        Step(
            "procedures",
            "post",
            "/api/v1/wounds/{wound_id}/procedures",
            "clinician",
            lambda g: {"performed_at": NOW, "kind": "dressing"},
        ),
        Step(
            "photos",
            "post",
            "/api/v1/wounds/{wound_id}/photos",
            "nurse",
            lambda g: {"file": (io.BytesIO(_png()), "wound.png", "image/png")},
            multipart=True,
        ),
        Step(
            "photo_colour_measures",
            "post",
            "/api/v1/photos/{photo_id}/colour",
            "nurse",
            lambda g: {"region": INSIDE_LESION, "reference": OUTSIDE_LESION},
        ),
        Step(
            "systemic_therapies",
            "post",
            "/api/v1/patients/{patient_id}/systemic-therapies",
            "clinician",
            lambda g: {
                "agent": "capecitabine",
                "dose": 1000,
                "dose_unit": "mg/m2",
                "days_on": 14,
                "days_off": 7,
                "start_date": DAY,
            },
        ),
        Step(
            "therapy_changes",
            "post",
            "/api/v1/systemic-therapies/{therapy_id}/changes",
            "clinician",
            # Tests send this create many times, some refused (an outsider's).
            # A dose_reduced must be lower than the dose in force, so each one
            # sent is lower than the last: whichever of them are stored, in
            # recording order, keep the course's rules.
            lambda g: {
                "effective_on": DAY,
                "kind": "dose_reduced",
                "dose": 900 * 0.9 ** g.count_sent("therapy_changes"),
                "reason": "skin",
            },
        ),
        Step(
            "topical_treatments",
            "post",
            "/api/v1/wounds/{wound_id}/topical-treatments",
            "nurse",
            lambda g: {"category": "barrier_film", "product": "Cavilon", "start_date": DAY},
        ),
        Step(
            "lab_results",
            "post",
            "/api/v1/patients/{patient_id}/lab-results",
            "nurse",
            lambda g: {"test": "albumin", "value": 3.1, "unit": "g/dL", "taken_at": NOW},
        ),
        Step(
            "uploads",
            "post",
            "/api/v1/uploads",
            "nurse",
            lambda g: {},
            headers=lambda g: {
                "Tus-Resumable": "1.0.0",
                "Upload-Length": "100",
                "Upload-Metadata": "wound_id "
                + base64.b64encode(g.id_of("wounds").encode()).decode(),
            },
        ),
        Step(
            "smart_clients",
            "post",
            "/api/v1/smart-clients",
            "clinic_admin",
            lambda g: {
                "name": "Wound viewer",
                "redirect_uris": ["https://apps.example.org/callback"],
                "clinic_id": str(g.clinic),
            },
        ),
        Step(
            "export_jobs",
            "post",
            "/api/v1/exports",
            "clinic_admin",
            lambda g: {"clinic_id": str(g.clinic), "format": "csv"},
        ),
    )
}

# A valid body for routes that are not creates, so a request reaches the view
# (and its clinic check) instead of stopping at validation.
BODIES: dict[tuple[str, str], Callable[[], dict[str, Any]]] = {
    ("patch", "/api/v1/users/{user_id}"): lambda: {"name": "Renamed"},
    ("patch", "/api/v1/patients/{patient_id}"): lambda: {"given_name": "Amended"},
    ("patch", "/api/v1/radiotherapy-courses/{course_id}"): lambda: {"target_site": "chest"},
    ("patch", "/api/v1/fractions/{fraction_id}"): lambda: {"dose_cgy": 270},
    ("patch", "/api/v1/wounds/{wound_id}"): lambda: {"body_site": "axilla"},
    ("patch", "/api/v1/assessments/{assessment_id}"): lambda: {"pain_score": 3},
    ("post", "/api/v1/assessments/{assessment_id}/grade-override"): lambda: {
        "scale": "ctcae",
        "value": 2,
        "reason": "clinical judgement",
    },
    ("patch", "/api/v1/procedures/{procedure_id}"): lambda: {"notes": "amended"},
    ("patch", "/api/v1/photos/{photo_id}"): lambda: {"taken_at": NOW},
    ("put", "/api/v1/photos/{photo_id}/calibration"): lambda: {"px_per_cm": 40.0},
    ("post", "/api/v1/photos/{photo_id}/calibration"): lambda: {"marker_size_cm": 2.0},
    ("put", "/api/v1/photos/{photo_id}/tracing"): lambda: {
        "points": [[100, 70], [220, 70], [220, 170], [100, 170]]
    },
    ("post", "/api/v1/photos/{photo_id}/outline"): lambda: {"seed": [160, 120]},
    ("patch", "/api/v1/colour-measures/{measure_id}"): lambda: {"reference": OUTSIDE_LESION},
    ("patch", "/api/v1/systemic-therapies/{therapy_id}"): lambda: {"dose": 900},
    ("patch", "/api/v1/therapy-changes/{change_id}"): lambda: {"reason": "amended"},
    ("patch", "/api/v1/topical-treatments/{topical_id}"): lambda: {"notes": "amended"},
    ("patch", "/api/v1/lab-results/{lab_id}"): lambda: {"value": 3.2},
    ("post", "/api/v1/alerts/{alert_id}/acknowledge"): lambda: {"note": "called the patient"},
}


class RecordGraph:
    """Records of clinic A, created on demand through the API."""

    def __init__(self, clinic: uuid.UUID, actors: dict[str, Any], documented: set) -> None:
        self.clinic = clinic
        self.actors = actors
        self.documented = documented  # {(method, path)} of the OpenAPI document
        self.ids: dict[str, str] = {"clinics": str(clinic)}
        self.failures: dict[str, str] = {}
        self.sent: dict[str, int] = {}

    def count_sent(self, table: str) -> int:
        """How many create bodies of ``table`` were made before this one."""
        self.sent[table] = self.sent.get(table, -1) + 1
        return self.sent[table]

    def id_of(self, table: str) -> str:
        if table in self.ids:
            return self.ids[table]
        if table in self.failures:
            raise Unavailable(self.failures[table])
        try:
            self.ids[table] = self._create(table)
        except Unavailable as exc:
            self.failures[table] = str(exc)
            raise
        return self.ids[table]

    def _create(self, table: str) -> str:
        step = STEPS.get(table)
        if step is None:
            raise Unavailable(f"no Step in tests/core/graph.py creates a {table} record")
        if (step.method, step.path) not in self.documented:
            raise Unavailable(f"{step.method.upper()} {step.path} is not in the API yet")
        op = Operation(step.method, step.path, {})
        values = {}
        for param in op.params:
            values[param] = self.id_of(table_of(op, param))
        for needed in step.needs:
            self.id_of(needed)
        body = step.body(self)
        actor = self.actors[step.role]
        kw = {"data": body, "content_type": "multipart/form-data"} if step.multipart else {}
        if step.headers is not None:
            kw = {"headers": step.headers(self)}
        r = actor.request(step.method.upper(), op.url(**values), **(kw or {"json": body}))
        if r.status_code not in (200, 201, 202):
            raise Unavailable(
                f"{op} as {step.role} answered {r.status_code}: {r.get_data()[:300]!r}"
            )
        if step.find is None:
            return r.json["id"]
        found = step.find(self, r)
        if found is None:
            raise Unavailable(f"{op} as {step.role} opened no {table} record")
        return found

    def request_kwargs(self, op: Operation) -> dict[str, Any] | None:
        """Test-client keyword arguments carrying a valid body for ``op`` (a
        create's own, or one from BODIES); {} when it takes no body; None when
        it takes one this module does not know."""
        for step in STEPS.values():
            if step.find is None and (step.method, step.path) == (op.method, op.path):
                if step.headers is not None:
                    return {}
                if step.multipart:
                    return {"data": step.body(self), "content_type": "multipart/form-data"}
                return {"json": step.body(self)}
        maker = BODIES.get((op.method, op.path))
        if maker is not None:
            return {"json": maker()}
        return (
            {"json": {}} if op.has_json_body else ({} if not op.spec.get("requestBody") else None)
        )
