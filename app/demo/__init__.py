"""Demo data: a demo clinic, its users, the seed case and a synthetic cohort.

Everything clinical is loaded THROUGH THE SAME SCHEMAS AND SERVICES THE API
USES (each body is validated by the route's schema, then handed to the
service), inside a request context whose ``g.user`` is the demo nurse, so the
audit trail and the amendment history name an actor and every rule of the API
applies to the demo data too.

Idempotent: every record has a fixed id (uuid5 of a name), users and the clinic
are looked up by email/name, and a record whose id exists already is left as it
is. Running ``seed-demo`` twice changes nothing the second time. Dates are
relative to the day of the first run, so the dashboard shows current data.

The seed case is described in docs/seed-case.md (an 84-year-old woman;
leiomyosarcoma of the left popliteal fossa; IMRT 400 cGy x 10 then a
stereotactic boost of 700 cGy x 3 = 6100 cGy; an ulcer in the popliteal skin
fold after the 13th fraction, 2 x 2 cm with exudate and slough; four sessions
of sharp debridement to bleeding with thrombin-activated PRP gel within a
month; healed; anlotinib 12 mg, 2 weeks on / 1 week off, after radiotherapy).
The patient's name and every cohort name are obviously fictitious.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any, cast

import sqlalchemy as sa
from flask import Flask, g
from marshmallow import Schema
from sqlalchemy.orm import Session

from app.assessments import services as assessment_services
from app.assessments.models import Assessment
from app.assessments.schemas import AssessmentSchema
from app.auth.models import User
from app.auth.services import hash_password
from app.clinics import services as clinic_services
from app.clinics.models import Clinic
from app.core.access import Principal
from app.extensions import db
from app.procedures import services as procedure_services
from app.procedures.models import Procedure
from app.procedures.schemas import ProcedureSchema
from app.therapy import courses as therapy_courses
from app.therapy.models import SystemicTherapy
from app.therapy.schemas import SystemicTherapySchema

DEMO_CLINIC = "Demo Wound Clinic"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - documented demo credential, README
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("admin@demo.example", "Demo Admin", "admin"),
    ("clinicadmin@demo.example", "Demo Clinic Admin", "clinic_admin"),
    ("clinician@demo.example", "Demo Clinician", "clinician"),
    ("nurse@demo.example", "Demo Nurse", "nurse"),
    ("researcher@demo.example", "Demo Researcher", "researcher"),
)

_NAMESPACE = uuid.UUID("6f1c8e2a-4b7d-5e90-9a3c-2d1e0f4b5a67")

COHORT_PATIENTS = 20
COHORT_WOUNDS = 36
COHORT_WEEKS = 8


def demo_id(*parts: object) -> uuid.UUID:
    """A stable id for a demo record, so a second run finds the first run's rows."""
    return uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts))


SEED_PATIENT_ID = demo_id("patient", "seed")
SEED_COURSE_ID = demo_id("course", "seed")
SEED_WOUND_ID = demo_id("wound", "seed")


@dataclass
class SeedReport:
    """What one run created (0 everywhere on a repeat run)."""

    created: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        self.created[kind] = self.created.get(kind, 0) + 1


# --- plumbing: schema + service, skip when the id exists --------------------


class _Loader:
    def __init__(self, session: Session, report: SeedReport) -> None:
        self.session = session
        self.report = report

    def create(
        self,
        kind: str,
        model: Any,
        schema: type[Schema],
        body: dict[str, Any],
        service: Callable[[dict[str, Any]], tuple[Any, bool]],
    ) -> Any:
        """Validate ``body`` with the route's schema and create it with the route's
        service, unless a record with its id exists (a previous run)."""
        existing = self.session.get(model, uuid.UUID(body["id"]))
        if existing is not None:
            return existing
        data = schema().load(body)
        obj, created = service(data)
        if created:
            self.report.count(kind)
        return obj


def _weekdays_from(start: date, n: int) -> list[date]:
    days: list[date] = []
    day = start
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _at(day: date, hour: int = 10) -> str:
    """``hour`` o'clock UTC on ``day``; midnight for a visit today, which at
    that hour may still lie ahead: the API refuses a visit in the future, and
    seeding runs at any time of day."""
    if day >= datetime.now(UTC).date():
        hour = 0
    return datetime.combine(day, time(hour, 0), tzinfo=UTC).isoformat()


# --- people -----------------------------------------------------------------


def _clinic_and_users(session: Session, report: SeedReport) -> tuple[Clinic, dict[str, User]]:
    clinic = session.scalars(sa.select(Clinic).where(Clinic.name == DEMO_CLINIC)).first()
    if clinic is None:
        clinic, _ = clinic_services.create_clinic(session, {"name": DEMO_CLINIC})
        report.count("clinic")
    users: dict[str, User] = {}
    admin_email = DEMO_USERS[0][0]
    admin = session.scalars(sa.select(User).where(User.email == admin_email)).first()
    if admin is None:
        admin = User(
            email=admin_email,
            name=DEMO_USERS[0][1],
            role="admin",
            password_hash=hash_password(DEMO_PASSWORD),
        )
        session.add(admin)
        session.flush()
        report.count("user")
    users["admin"] = admin
    for email, name, role in DEMO_USERS[1:]:
        user = session.scalars(sa.select(User).where(User.email == email)).first()
        if user is None:
            user, _ = clinic_services.create_user(
                session,
                admin,
                clinic.id,
                {"email": email, "name": name, "role": role, "password": DEMO_PASSWORD},
            )
            report.count("user")
        users[role] = user
    clinic_services.grant(session, admin, clinic.id, users["researcher"].id)
    return clinic, users


# --- the seed case ------------------------------------------------------------


@dataclass(frozen=True)
class SeedTimeline:
    """The seed case's dates, relative to ``today``."""

    course_start: date
    fraction_days: list[date]
    onset: date
    healed_on: date
    visit_days: list[date]  # assessments: onset, then weekly
    session_days: list[date]  # debridement + PRP sessions, within one month

    @classmethod
    def for_today(cls, today: date) -> SeedTimeline:
        # The ulcer opens on the day of the 13th fraction, ~50 days ago, and is
        # healed 35 days later (about five weeks), so it is healed by today.
        start = today - timedelta(days=68)
        start -= timedelta(days=start.weekday())  # the Monday of that week
        fractions = _weekdays_from(start, 13)
        onset = fractions[-1]
        healed = onset + timedelta(days=35)
        visits = [onset + timedelta(days=7 * k) for k in range(6)]  # day 0 .. day 35
        sessions = [onset + timedelta(days=d) for d in (1, 8, 15, 22)]
        return cls(start, fractions, onset, healed, visits, sessions)


# (length, width, exudate, slough %, granulation %, epithelial %, ulceration, pain)
SEED_VISITS: tuple[tuple[float, float, str, int, int, int, str, int], ...] = (
    (2.0, 2.0, "moderate", 60, 30, 0, "full_thickness", 6),
    (1.8, 1.7, "moderate", 40, 55, 5, "full_thickness", 5),
    (1.4, 1.3, "small", 20, 70, 10, "partial_thickness", 4),
    (0.9, 0.8, "small", 5, 70, 25, "partial_thickness", 3),
    (0.4, 0.3, "scant", 0, 40, 60, "partial_thickness", 1),
    (0.0, 0.0, "none", 0, 0, 100, "none", 0),
)


def _seed_case(load: _Loader, clinic: Clinic, today: date) -> None:
    from app.patients import services as patient_services
    from app.patients.models import Patient
    from app.patients.schemas import PatientSchema
    from app.radiotherapy import services as rt_services
    from app.radiotherapy.models import FractionDelivery, RadiotherapyCourse
    from app.radiotherapy.schemas import CourseSchema, FractionSchema
    from app.wounds import services as wound_services
    from app.wounds.models import Wound
    from app.wounds.schemas import WoundSchema

    session = load.session
    t = SeedTimeline.for_today(today)
    patient = load.create(
        "patient",
        Patient,
        PatientSchema,
        {
            "id": str(SEED_PATIENT_ID),
            "mrn": "DEMO-SEED-0001",
            "given_name": "Demo",
            "family_name": "Seedcase",
            "birth_date": (today - timedelta(days=int(84.5 * 365.25))).isoformat(),
            "sex": "female",
        },
        lambda d: patient_services.create_patient(session, d),
    )
    course = load.create(
        "radiotherapy_course",
        RadiotherapyCourse,
        CourseSchema,
        {
            "id": str(SEED_COURSE_ID),
            "target_site": "left popliteal fossa (leiomyosarcoma)",
            "start_date": t.course_start.isoformat(),
            "end_date": t.fraction_days[-1].isoformat(),
            "phases": [
                {"technique": "imrt", "dose_per_fraction_cgy": 400, "fractions": 10},
                {
                    "technique": "srt",
                    "dose_per_fraction_cgy": 700,
                    "fractions": 3,
                    "start_date": t.fraction_days[10].isoformat(),
                },
            ],
        },
        lambda d: rt_services.create_course(session, patient, d),
    )
    for n, day in enumerate(t.fraction_days, start=1):
        load.create(
            "fraction",
            FractionDelivery,
            FractionSchema,
            {
                "id": str(demo_id("fraction", "seed", n)),
                "delivered_on": day.isoformat(),
                "dose_cgy": 400 if n <= 10 else 700,
            },
            lambda d: rt_services.log_fraction(session, course, d),
        )
    wound = load.create(
        "wound",
        Wound,
        WoundSchema,
        {
            "id": str(SEED_WOUND_ID),
            "body_site": "popliteal fossa",
            "laterality": "left",
            "in_skin_fold": True,
            "etiology": "radiation_ulcer",
            "radiotherapy_course_id": str(course.id),
            "onset_date": t.onset.isoformat(),
        },
        lambda d: wound_services.create_wound(session, patient, d),
    )
    for k, (day, visit) in enumerate(zip(t.visit_days, SEED_VISITS, strict=True)):
        length, width, exudate, slough, gran, epi, ulcer, pain = visit
        closed = k == len(SEED_VISITS) - 1
        _assessment(
            load,
            wound,
            demo_id("assessment", "seed", k),
            day,
            length,
            width,
            exudate=exudate,
            tissue=(epi, gran, slough, 0),
            ulceration=ulcer,
            pain=pain,
            closed=closed,
            erythema="brisk" if k < 2 else ("moderate" if k < 4 else "faint"),
            desquamation="moist" if k < 4 else ("dry" if not closed else "none"),
            notes="Ulcer in the popliteal skin fold after the 13th fraction."
            if k == 0
            else ("Resurfaced; wound closed." if closed else None),
        )
    for k, day in enumerate(t.session_days):
        _debridement_with_prp(load, wound, demo_id("procedure", "seed", k), day, k + 1)
    if wound.status != "healed":
        _mark_healed(session, wound, t.healed_on)
    _anlotinib(load, patient, t.onset + timedelta(days=1))


def _anlotinib(load: _Loader, patient: Any, start: date) -> None:
    """After radiotherapy: anlotinib 12 mg daily, 2 weeks on, 1 week off (the report)."""
    load.create(
        "systemic_therapy",
        SystemicTherapy,
        SystemicTherapySchema,
        {
            "id": str(demo_id("therapy", "seed")),
            "agent": "anlotinib",
            "dose": 12,
            "dose_unit": "mg",
            "days_on": 14,
            "days_off": 7,
            "start_date": start.isoformat(),
        },
        lambda d: therapy_courses.create_therapy(load.session, patient, d),
    )


# --- assessments and procedures (other packages' services) ---------------------


def _assessment(
    load: _Loader,
    wound: Any,
    record_id: uuid.UUID,
    day: date,
    length: float,
    width: float,
    *,
    exudate: str,
    tissue: tuple[int, int, int, int],
    ulceration: str,
    pain: int,
    closed: bool = False,
    erythema: str = "moderate",
    desquamation: str = "moist",
    moist_beyond_folds: bool = False,
    notes: str | None = None,
    infection: bool = False,
) -> None:
    epi, gran, slough, necrotic = tissue
    body: dict[str, Any] = {
        "id": str(record_id),
        "assessed_at": _at(day),
        "length_cm": round(length, 1),
        "width_cm": round(width, 1),
        "depth_cm": 0.0 if closed else 0.2,
        "exudate_amount": exudate,
        "exudate_type": "none" if exudate == "none" else "serous",
        "tissue": {
            "epithelial_pct": epi,
            "granulation_pct": gran,
            "slough_pct": slough,
            "necrotic_pct": necrotic,
        },
        "closed": closed,
        "pain_score": pain,
        "odor": False,
        "infection_signs": infection,
        "notes": notes,
        "findings": {
            "erythema": erythema,
            "desquamation": desquamation,
            "moist_beyond_skin_folds": moist_beyond_folds,
            "edema": "none",
            "bleeding": "none",
            "ulceration": ulceration,
            "necrosis": necrotic > 0,
            "skin_graft_indicated": False,
            "life_threatening": False,
        },
    }
    load.create(
        "assessment",
        Assessment,
        AssessmentSchema,
        body,
        lambda d: assessment_services.create_assessment(load.session, wound, d),
    )


def _debridement_with_prp(
    load: _Loader, wound: Any, record_id: uuid.UUID, day: date, number: int
) -> None:
    body = {
        "id": str(record_id),
        "performed_at": _at(day, 11),
        "kind": "debridement",
        "notes": f"Session {number} of 4: sharp debridement to bleeding, then PRP gel.",
        "debridement": {"method": "sharp_conservative", "to_bleeding": True},
        "prp": {
            "form": "gel",
            "volume_ml": 3.0,
            "activator": "thrombin",
            "preparation": "autologous PRP, double spin, activated with thrombin",
        },
    }
    load.create(
        "procedure",
        Procedure,
        ProcedureSchema,
        body,
        lambda d: procedure_services.create_procedure(load.session, wound, d),
    )


def _mark_healed(session: Session, wound: Any, healed_on: date) -> None:
    """PATCH-equivalent: the wound service with If-Match: * (set on the request)."""
    from app.wounds import services as wound_services
    from app.wounds.schemas import WoundUpdateSchema

    changes = WoundUpdateSchema().load({"status": "healed", "healed_on": healed_on.isoformat()})
    wound_services.update_wound(session, wound, changes)


# --- the synthetic cohort ---------------------------------------------------------

TRAJECTORIES = ("healing", "stalled", "deteriorating", "healed")
SITES = (
    ("axilla", True),
    ("inframammary fold", True),
    ("groin", True),
    ("neck", False),
    ("chest wall", False),
    ("perineum", True),
    ("popliteal fossa", True),
    ("scalp", False),
)
FAMILY_NAMES = (
    "Testperson", "Samplewood", "Placeholder", "Democrest", "Mockingham", "Fictitia",
    "Examplar", "Dummington", "Synthia", "Notreal",
)  # fmt: skip


def _area_factor(trajectory: str, week: int, rng: random.Random) -> float:
    """Relative area at ``week`` (1.0 at baseline), by trajectory."""
    noise = 1 + rng.uniform(-0.05, 0.05)
    if trajectory == "healing":
        return max(0.05, math.exp(-0.18 * week) * noise)  # ~50% smaller by week 4
    if trajectory == "healed":
        return max(0.0, 1 - week / 6) * noise  # closed at week 6
    if trajectory == "stalled":
        return (1 - 0.015 * week) * noise  # <10% change by week 4
    return (1 + 0.09 * week) * noise  # deteriorating: ~+35% by week 4


def _cohort(load: _Loader, today: date) -> None:
    from app.patients import services as patient_services
    from app.patients.models import Patient
    from app.patients.schemas import PatientSchema
    from app.radiotherapy import services as rt_services
    from app.radiotherapy.models import RadiotherapyCourse
    from app.radiotherapy.schemas import CourseSchema
    from app.wounds import services as wound_services
    from app.wounds.models import Wound
    from app.wounds.schemas import WoundSchema

    session = load.session
    rng = random.Random(2026)  # noqa: S311 - fixed seed: the same cohort every run, not crypto
    patients: list[tuple[Any, Any, date]] = []
    for i in range(COHORT_PATIENTS):
        onset = today - timedelta(days=7 * COHORT_WEEKS + rng.randint(0, 6))
        patient = load.create(
            "patient",
            Patient,
            PatientSchema,
            {
                "id": str(demo_id("patient", i)),
                "mrn": f"DEMO-{i + 1:04d}",
                "given_name": f"Demo{i + 1:02d}",
                "family_name": FAMILY_NAMES[i % len(FAMILY_NAMES)],
                "birth_date": date(1935 + rng.randint(0, 45), rng.randint(1, 12), 15).isoformat(),
                "sex": ("female", "male")[i % 2],
            },
            lambda d: patient_services.create_patient(session, d),
        )
        start = onset - timedelta(days=rng.randint(25, 40))
        course = load.create(
            "radiotherapy_course",
            RadiotherapyCourse,
            CourseSchema,
            {
                "id": str(demo_id("course", i)),
                "target_site": SITES[i % len(SITES)][0],
                "start_date": start.isoformat(),
                "phases": [
                    {
                        "technique": ("vmat", "imrt", "3dcrt")[i % 3],
                        "dose_per_fraction_cgy": 200,
                        "fractions": 25,
                    },
                ],
            },
            partial(rt_services.create_course, session, patient),
        )
        patients.append((patient, course, onset))

    for w in range(COHORT_WOUNDS):
        patient, course, onset = patients[w % COHORT_PATIENTS]
        trajectory = TRAJECTORIES[w % len(TRAJECTORIES)]
        site, fold = SITES[(w + w // COHORT_PATIENTS) % len(SITES)]
        onset = onset + timedelta(days=3 * (w // COHORT_PATIENTS))
        wound = load.create(
            "wound",
            Wound,
            WoundSchema,
            {
                "id": str(demo_id("wound", w)),
                "body_site": site,
                "laterality": ("left", "right", "midline", "bilateral")[w % 4],
                "in_skin_fold": fold,
                "etiology": "radiation_ulcer" if w % 3 == 0 else "radiation_dermatitis",
                "radiotherapy_course_id": str(course.id),
                "onset_date": onset.isoformat(),
            },
            partial(wound_services.create_wound, session, patient),
        )
        base_l, base_w = rng.uniform(2.0, 6.0), rng.uniform(1.5, 4.5)
        ulcer = w % 3 == 0
        closed_week: int | None = None
        # A few stalled wounds were last seen two weeks ago: overdue on the dashboard.
        last_week = COHORT_WEEKS - 2 if w % 8 == 1 else COHORT_WEEKS
        for week in range(last_week + 1):
            day = onset + timedelta(days=7 * week)
            if day > today:
                break
            factor = _area_factor(trajectory, week, rng)
            closed = trajectory == "healed" and factor == 0.0
            scale = math.sqrt(factor)
            worse = trajectory == "deteriorating"
            slough = 0 if closed else int(min(80, 30 + (8 * week if worse else -4 * week)))
            slough = max(0, slough)
            epi = 100 if closed else int(min(100 - slough, 5 * week if not worse else 0))
            # Necrotic tissue (a CTCAE grade 4 finding) only in deteriorating ulcers.
            gran = 0 if closed else max(0, 100 - slough - epi - (10 if worse and ulcer else 0))
            necrotic = 0 if closed else 100 - slough - epi - gran
            _assessment(
                load,
                wound,
                demo_id("assessment", w, week),
                day,
                base_l * scale,
                base_w * scale,
                exudate="none" if closed else ("large" if worse and week > 3 else "moderate"),
                tissue=(epi, gran, slough, necrotic),
                # Ulcers are partial-thickness; dermatitis ranges from dry
                # desquamation (healing, late) to moist beyond the skin folds
                # (deteriorating), so the dashboard shows a mix of grades.
                ulceration="partial_thickness" if ulcer and not closed else "none",
                pain=0 if closed else rng.randint(2, 7),
                closed=closed,
                erythema="faint" if closed else ("brisk" if worse else "moderate"),
                desquamation="none"
                if closed
                else ("dry" if trajectory == "healing" and week >= 4 else "moist"),
                moist_beyond_folds=worse and not fold and week >= 2,
                infection=worse and week >= 5,
            )
            if closed:
                closed_week = week
                break
        if closed_week is not None and wound.status != "healed":
            _mark_healed(session, wound, onset + timedelta(days=7 * closed_week))


# --- entry point --------------------------------------------------------------------


def demo_present(session: Session) -> bool:
    """Whether this database holds the demo clinic (deleted or not).

    The database decides, not a file beside it: the same checkout can serve a
    SQLite file one day and an empty PostgreSQL database the next.
    """
    found = session.scalar(sa.select(Clinic.id).where(Clinic.name == DEMO_CLINIC).limit(1))
    return found is not None


def seed_demo(app: Flask, today: date | None = None) -> SeedReport:
    """Load the demo data (idempotent) and commit. Returns what was created."""
    report = SeedReport()
    today = today or datetime.now(UTC).date()  # the date the API checks against
    with app.test_request_context(
        "/seed-demo", headers={"If-Match": "*"}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    ):
        session = cast(Session, db.session)
        try:
            clinic, users = _clinic_and_users(session, report)
            session.expire(users["nurse"], ["memberships"])
            g.user = Principal.of(users["nurse"])  # the actor of every clinical record
            load = _Loader(session, report)
            _seed_case(load, clinic, today)
            _cohort(load, today)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return report
