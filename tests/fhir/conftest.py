"""FHIR fixtures: one patient's record through the API and the models (a
radiation ulcer with a course, graded assessments, a debridement with PRP, a
dressing, anlotinib, a platelet count and a real JPEG photo), and a validator
of every resource against the FHIR R4B models of fhir.resources."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from tests.summaries import helpers as h

FHIR = "/fhir/R4"


def jpeg(width: int = 640, height: int = 480) -> bytes:
    """A real JPEG: a pink oval on skin tone (enough for the imaging pipeline)."""
    from PIL import ImageDraw

    img = Image.new("RGB", (width, height), (224, 172, 150))
    ImageDraw.Draw(img).ellipse((200, 150, 440, 330), fill=(200, 60, 70))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def validate(resource: dict[str, Any]) -> Any:
    """Parse ``resource`` with its fhir.resources R4B model (raises if invalid)."""
    import importlib

    rtype = resource["resourceType"]
    module = importlib.import_module(f"fhir.resources.R4B.{rtype.lower()}")
    return getattr(module, rtype).model_validate(resource)


def entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    validate(bundle)
    return [e["resource"] for e in bundle.get("entry", [])]


@dataclass
class Record:
    patient_id: uuid.UUID
    mrn: str
    wound_id: uuid.UUID
    course_id: uuid.UUID
    assessment_ids: list[str]
    procedure_id: uuid.UUID
    dressing_id: uuid.UUID
    therapy_id: uuid.UUID
    lab_id: uuid.UUID
    photo_id: str


@pytest.fixture
def record(app, clinic, nurse) -> Record:
    today = datetime.now(UTC).date()
    start = today - timedelta(days=60)
    pid = h.patient(app, clinic, mrn="FHIR-0001", given_name="Testa", family_name="Fictitious")
    course = h.course(
        app, clinic, pid, start=start, end=start + timedelta(days=18), phases=[("imrt", 400, 10)]
    )
    wid = h.wound(app, clinic, pid, radiotherapy_course_id=course, onset_date=start + timedelta(19))
    first = start + timedelta(days=21)
    assessments = [
        h.assess(
            nurse,
            wid,
            h.at(first + timedelta(days=7 * i)),
            length_cm=side,
            width_cm=side,
            depth_cm=0.3,
            exudate_amount="moderate",
            tissue={"granulation_pct": 80, "slough_pct": 20},
            findings={"ulceration": "full_thickness"},
        )
        for i, side in enumerate((3.0, 2.5, 2.0))
    ]
    proc = h.procedure(
        app,
        clinic,
        wid,
        h.at(first, 10),
        debridement_method="sharp_conservative",
        prp_form="gel",
        prp_activator="thrombin",
    )
    dressing = h.procedure(app, clinic, wid, h.at(first + timedelta(days=1)), kind="dressing")
    therapy, lab = h.add(
        app,
        h.anlotinib(clinic, pid, start),
        h.low_platelets(clinic, pid, h.at(first, 8)),
    )
    r = nurse.post(
        f"/api/v1/wounds/{wid}/photos",
        data={"file": (io.BytesIO(jpeg()), "wound.jpg")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.json
    return Record(
        pid,
        "FHIR-0001",
        wid,
        course,
        [a["id"] for a in assessments],
        proc,
        dressing,
        therapy,
        lab,
        r.json["id"],
    )


__all__ = ["FHIR", "Record", "date", "entries", "jpeg", "validate"]
