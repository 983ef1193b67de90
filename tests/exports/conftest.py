"""Fixture data for exports: the seed case plus a 95-year-old, full of identifying values.

Every value in ``IDENTIFIERS`` must never appear in any exported file.
"""

from __future__ import annotations

import io
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

SEED_BIRTH = date(1941, 7, 23)  # 84 at the first record in 2025-2026
OLD_BIRTH = date(1930, 2, 11)  # 95: must be reported as 90+


@dataclass
class Cohort:
    clinic_id: uuid.UUID
    seed_patient: uuid.UUID
    old_patient: uuid.UUID
    seed_wound: uuid.UUID
    old_wound: uuid.UUID
    identifiers: list[str] = field(default_factory=list)
    n_assessments: int = 0


def _date_forms(d: date) -> list[str]:
    return [
        d.isoformat(),
        d.strftime("%Y%m%d"),
        d.strftime("%d/%m/%Y"),
        d.strftime("%m/%d/%Y"),
        d.strftime("%d.%m.%Y"),
        d.strftime("%B %d, %Y"),
        d.strftime("%d %b %Y"),
    ]


def build_cohort(app: Any, clinic_id: uuid.UUID, staff_ids: list[uuid.UUID]) -> Cohort:
    """The seed case (popliteal fossa ulcer after IMRT + SRT boost, anlotinib, 4x
    debridement + PRP, healed) and a 95-year-old with a chest wall wound, open."""
    from app.assessments.models import Assessment, GradeOverride
    from app.auth.models import User
    from app.extensions import db
    from app.patients.models import Patient
    from app.procedures.models import Procedure
    from app.radiotherapy.models import FractionDelivery, RadiotherapyCourse, RadiotherapyPhase
    from app.therapy.models import LabResult, SystemicTherapy, TopicalTreatment
    from app.wounds.models import Wound

    staff = staff_ids[0]
    with app.app_context():
        s = db.session
        seed = Patient(
            clinic_id=clinic_id,
            mrn="MRN-QX-778812",
            given_name="Hildegard",
            family_name="Zwieselbrecht",
            birth_date=SEED_BIRTH,
            sex="female",
        )
        old = Patient(
            clinic_id=clinic_id,
            mrn="MRN-OLD-445501",
            given_name="Ottoline",
            family_name="Quarrendale",
            birth_date=OLD_BIRTH,
            sex="male",
        )
        s.add_all([seed, old])
        s.flush()
        course = RadiotherapyCourse(
            clinic_id=clinic_id,
            patient_id=seed.id,
            target_site="left popliteal fossa leiomyosarcoma",
            start_date=date(2025, 11, 3),
        )
        s.add(course)
        s.flush()
        s.add_all(
            [
                RadiotherapyPhase(
                    course_id=course.id,
                    position=1,
                    technique="imrt",
                    dose_per_fraction_cgy=400,
                    fractions=10,
                ),
                RadiotherapyPhase(
                    course_id=course.id,
                    position=2,
                    technique="srt",
                    dose_per_fraction_cgy=700,
                    fractions=3,
                ),
            ]
        )
        # 13 fractions on weekdays from Mon 2025-11-03.
        day = date(2025, 11, 3)
        fraction_days = []
        while len(fraction_days) < 13:
            if day.weekday() < 5:
                fraction_days.append(day)
            day += timedelta(days=1)
        for i, d in enumerate(fraction_days):
            s.add(
                FractionDelivery(
                    clinic_id=clinic_id,
                    course_id=course.id,
                    delivered_on=d,
                    dose_cgy=400 if i < 10 else 700,
                )
            )
        onset = fraction_days[-1]  # ulcer opened after the 13th fraction
        seed_wound = Wound(
            clinic_id=clinic_id,
            patient_id=seed.id,
            body_site="Left popliteal fossa, behind Mrs Zwieselbrecht's knee",
            laterality="left",
            in_skin_fold=True,
            etiology="radiation_ulcer",
            radiotherapy_course_id=course.id,
            onset_date=onset,
            status="healed",
            healed_on=onset + timedelta(days=35),
        )
        old_wound = Wound(
            clinic_id=clinic_id,
            patient_id=old.id,
            body_site="chest wall",
            laterality="right",
            in_skin_fold=False,
            etiology="radiation_dermatitis",
            onset_date=date(2025, 6, 2),
            status="open",
        )
        s.add_all([seed_wound, old_wound])
        s.flush()
        start = datetime.combine(onset, datetime.min.time(), UTC) + timedelta(hours=9)
        sizes = [(2.0, 2.0), (1.8, 1.7), (1.4, 1.2), (0.9, 0.8), (0.4, 0.3), (0.0, 0.0)]
        assessments = []
        for i, (length, width) in enumerate(sizes):
            a = Assessment(
                clinic_id=clinic_id,
                wound_id=seed_wound.id,
                assessed_at=start + timedelta(days=7 * i),
                length_cm=length,
                width_cm=width,
                depth_cm=0.2 if i < 3 else None,
                area_cm2=round(3.14159 / 4 * length * width, 2),
                area_method="ellipse",
                exudate_amount="moderate" if i < 3 else "none",
                exudate_type="serous",
                closed=i == len(sizes) - 1,
                notes=f"Visit {i}: Hildegard says the dog bit her; call 555-0142-7781",
                push_area=6,
                push_exudate=2,
                push_tissue=3,
                push_total=11,
                ctcae_grade=4 if i < 2 else 2,
                rtog_grade=4 if i < 2 else 2,
                # As derive() gives them: the course ended on the onset day.
                ctcae_ulcer_grade=3 if i < 2 else None,
                rt_phase="acute",
                days_after_rt=7 * i,
                assessed_by=staff,
            )
            assessments.append(a)
        for i in range(3):
            assessments.append(
                Assessment(
                    clinic_id=clinic_id,
                    wound_id=old_wound.id,
                    assessed_at=datetime(2025, 6, 2 + 7 * i, 10, tzinfo=UTC),
                    length_cm=5.0,
                    width_cm=3.0,
                    area_cm2=11.78,
                    area_method="ellipse",
                    notes="Ottoline Quarrendale lives at 14 Larkspur Close, Wetherby",
                    ctcae_grade=2,
                    rtog_grade=2,
                    # Patient-reported at the first two visits only.
                    **[
                        {
                            "pain_score": 3,
                            "itch_nrs": 5,
                            "burning_nrs": 2,
                            "pro_skin_reaction": "moderate",
                        },
                        {"pain_score": 2, "pro_skin_reaction": "very_severe"},
                        {},
                    ][i],
                )
            )
        s.add_all(assessments)
        s.flush()
        s.add(
            GradeOverride(
                clinic_id=clinic_id,
                assessment_id=assessments[2].id,
                wound_id=assessments[2].wound_id,
                scale="ctcae",
                value=3,
                derived_value=2,
                reason="Clinician Dr Amberwick judged bleeding on minor trauma",
                by_user_id=staff,
            )
        )
        for i in range(4):
            s.add(
                Procedure(
                    clinic_id=clinic_id,
                    wound_id=seed_wound.id,
                    performed_at=start + timedelta(days=7 * i, hours=1),
                    kind="debridement",
                    notes="Scraped to fresh bleeding; Hildegard tolerated it",
                    debridement_method="sharp_conservative",
                    debridement_to_bleeding=True,
                    prp_form="gel",
                    prp_volume_ml=3.0,
                    prp_activator="thrombin",
                    prp_preparation="Spun twice at St Bartholomew-Zwiesel lab",
                    performed_by=staff,
                )
            )
        s.add(
            SystemicTherapy(
                clinic_id=clinic_id,
                patient_id=seed.id,
                agent="Anlotinib hydrochloride",
                anti_angiogenic=True,
                dose=12,
                dose_unit="mg",
                days_on=14,
                days_off=7,
                start_date=onset - timedelta(days=3),
            )
        )
        s.add(
            TopicalTreatment(
                clinic_id=clinic_id,
                wound_id=seed_wound.id,
                category="silver",
                product="Hildegard's special silver cream",
                start_date=onset,
                notes="bought by her son Rupert",
            )
        )
        s.add(
            LabResult(
                clinic_id=clinic_id,
                patient_id=seed.id,
                test="platelets",
                value=60,
                unit="10^9/L",
                canonical_value=60,
                canonical_unit="10^9/L",
                taken_at=start + timedelta(days=10),
                ctcae_term="Platelet count decreased",
                ctcae_grade=2,
            )
        )
        users = s.query(User).all()
        for i, u in enumerate(users):  # distinctive names, so a leak cannot hide in prose
            u.name = f"Perpetua Grindlewhistle-{i}"
        s.commit()
        identifiers = [
            "Hildegard",
            "Zwieselbrecht",
            "MRN-QX-778812",
            "QX-778812",
            "Ottoline",
            "Quarrendale",
            "MRN-OLD-445501",
            "dog bit her",
            "555-0142",
            "Larkspur",
            "Wetherby",
            "Amberwick",
            "Bartholomew",
            "special silver cream",
            "Rupert",
            "popliteal",  # free-text site must be mapped, not copied
            "leiomyosarcoma",
            *_date_forms(SEED_BIRTH),
            *_date_forms(OLD_BIRTH),
            str(seed.id),
            str(old.id),
            str(seed_wound.id),
            str(old_wound.id),
            *[str(a.id) for a in assessments],
            "127.0.0.1",
        ]
        for u in users:
            identifiers += [u.email, u.name, str(u.id)]
        return Cohort(
            clinic_id=clinic_id,
            seed_patient=seed.id,
            old_patient=old.id,
            seed_wound=seed_wound.id,
            old_wound=old_wound.id,
            identifiers=identifiers,
            n_assessments=len(assessments),
        )


@pytest.fixture
def grant(factory, app):
    """grant(clinic_id, researcher) records an active research grant."""

    def _grant(clinic_id: uuid.UUID, researcher_id: uuid.UUID) -> None:
        from app.clinics.models import ResearchGrant
        from app.extensions import db

        with app.app_context():
            db.session.add(ResearchGrant(clinic_id=clinic_id, researcher_id=researcher_id))
            db.session.commit()

    return _grant


@pytest.fixture
def cohort(app, clinic, nurse, clinician) -> Cohort:
    return build_cohort(app, clinic, [clinician.user_id, nurse.user_id])


def wait_done(actor: Any, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll the job until it leaves queued/running (not a timed assertion: a deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        body = actor.get(f"/api/v1/exports/{job_id}").get_json()
        if body["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def download(actor: Any, job_id: str) -> zipfile.ZipFile:
    resp = actor.get(f"/api/v1/exports/{job_id}/download")
    assert resp.status_code == 200, resp.get_json()
    assert resp.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(resp.get_data()))


def export(actor: Any, clinic_id: uuid.UUID, fmt: str, **extra: Any) -> zipfile.ZipFile:
    resp = actor.post("/api/v1/exports", json={"clinic_id": str(clinic_id), "format": fmt, **extra})
    assert resp.status_code == 202, resp.get_json()
    body = wait_done(actor, resp.get_json()["id"])
    assert body["status"] == "done", body
    return download(actor, body["id"])
