"""The seed case, as docs/seed-case.md tells it (Li, Yu and Xu, Front Oncol
2025;15:1490941): an 84-year-old woman with a leiomyosarcoma of the left
popliteal fossa; IMRT 400 cGy x 10 then a stereotactic boost of 700 cGy x 3
(6100 cGy); an ulcer in the popliteal skin fold after the 13th fraction, 2 x 2
cm with exudate and slough; four sessions of sharp debridement to bleeding with
thrombin-activated PRP gel within a month; healed; anlotinib 12 mg, 2 weeks on /
1 week off, after radiotherapy. The patient's name is obviously fictitious.

Only the first assessment's size and exudate come from the report; the later
sizes, the tissue mixes and the PRP volume are illustrative (docs/seed-case.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.demo import records
from app.demo.loader import Loader, demo_id, visit_time, weekdays_from
from app.patients.models import Patient
from app.radiotherapy.models import RadiotherapyCourse
from app.wounds.models import Wound

SEED_PATIENT_ID = demo_id("patient", "seed")
SEED_COURSE_ID = demo_id("course", "seed")
SEED_WOUND_ID = demo_id("wound", "seed")

IMRT_FRACTIONS, IMRT_DOSE_CGY = 10, 400
BOOST_FRACTIONS, BOOST_DOSE_CGY = 3, 700


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
        fractions = weekdays_from(start, IMRT_FRACTIONS + BOOST_FRACTIONS)
        onset = fractions[-1]
        healed = onset + timedelta(days=35)
        visits = [onset + timedelta(days=7 * k) for k in range(6)]  # day 0 .. day 35
        sessions = [onset + timedelta(days=d) for d in (1, 8, 15, 22)]
        return cls(start, fractions, onset, healed, visits, sessions)


# (length, width, exudate, slough %, granulation %, epithelial %, ulceration, pain)
# The ulcer stays full thickness while granulation fills it: a full-thickness
# wound heals by filling with granulation tissue and scar, not by regrowing the
# dermis it lost, so it is never restaged as partial thickness (NPUAP position
# on reverse staging). It is "none" only once it has closed.
SEED_VISITS: tuple[tuple[float, float, str, int, int, int, str, int], ...] = (
    (2.0, 2.0, "moderate", 60, 30, 0, "full_thickness", 6),
    (1.8, 1.7, "moderate", 40, 55, 5, "full_thickness", 5),
    (1.4, 1.3, "small", 20, 70, 10, "full_thickness", 4),
    (0.9, 0.8, "small", 5, 70, 25, "full_thickness", 3),
    (0.4, 0.3, "scant", 0, 40, 60, "full_thickness", 1),
    (0.0, 0.0, "none", 0, 0, 100, "none", 0),
)


def seed_case(load: Loader, today: date) -> None:
    """The seed patient's course of care, from radiotherapy to the healed ulcer."""
    t = SeedTimeline.for_today(today)
    patient = _patient(load, today)
    course = _radiotherapy_course(load, patient, t)
    _fractions(load, course, t.fraction_days)
    wound = _ulcer(load, patient, course, t.onset)
    for k, day in enumerate(t.visit_days):
        _weekly_assessment(load, wound, k, day)
    for k, day in enumerate(t.session_days):
        _debridement_with_prp(load, wound, k + 1, day)
    if wound.status != "healed":
        records.mark_healed(load.session, wound, t.healed_on)
    _anlotinib(load, patient, t.onset + timedelta(days=1))


def _patient(load: Loader, today: date) -> Patient:
    """A woman of 84 (born 84.5 years before the first run)."""
    body = {
        "id": str(SEED_PATIENT_ID),
        "mrn": "DEMO-SEED-0001",
        "given_name": "Demo",
        "family_name": "Seedcase",
        "birth_date": (today - timedelta(days=int(84.5 * 365.25))).isoformat(),
        "sex": "female",
    }
    return records.patient(load, body)


def _radiotherapy_course(load: Loader, patient: Patient, t: SeedTimeline) -> RadiotherapyCourse:
    """IMRT 10 x 400 cGy, then a stereotactic boost of 3 x 700 cGy from the 11th fraction."""
    imrt = {
        "technique": "imrt",
        "dose_per_fraction_cgy": IMRT_DOSE_CGY,
        "fractions": IMRT_FRACTIONS,
    }
    boost = {
        "technique": "srt",
        "dose_per_fraction_cgy": BOOST_DOSE_CGY,
        "fractions": BOOST_FRACTIONS,
        "start_date": t.fraction_days[IMRT_FRACTIONS].isoformat(),
    }
    body = {
        "id": str(SEED_COURSE_ID),
        "target_site": "left popliteal fossa (leiomyosarcoma)",
        "start_date": t.course_start.isoformat(),
        "end_date": t.fraction_days[-1].isoformat(),
        "phases": [imrt, boost],
    }
    return records.course(load, patient, body)


def _fractions(load: Loader, course: RadiotherapyCourse, days: list[date]) -> None:
    """The fraction log: 13 fractions on consecutive weekdays, 6100 cGy in all."""
    for n, day in enumerate(days, start=1):
        body = {
            "id": str(demo_id("fraction", "seed", n)),
            "delivered_on": day.isoformat(),
            "dose_cgy": IMRT_DOSE_CGY if n <= IMRT_FRACTIONS else BOOST_DOSE_CGY,
        }
        records.fraction(load, course, body)


def _ulcer(load: Loader, patient: Patient, course: RadiotherapyCourse, onset: date) -> Wound:
    """The radiation ulcer in the popliteal skin fold, opened on the day of the 13th fraction."""
    body = {
        "id": str(SEED_WOUND_ID),
        "body_site": "popliteal fossa",
        "laterality": "left",
        "in_skin_fold": True,
        "etiology": "radiation_ulcer",
        "radiotherapy_course_id": str(course.id),
        "onset_date": onset.isoformat(),
    }
    return records.wound(load, patient, body)


def _weekly_assessment(load: Loader, wound: Wound, k: int, day: date) -> None:
    """Week ``k`` from onset (SEED_VISITS[k]): the ulcer shrinks, dries and closes by week 5.

    Erythema fades from brisk through moderate to faint, and desquamation goes
    from moist to dry.
    """
    length, width, exudate, slough, gran, epi, ulcer, pain = SEED_VISITS[k]
    closed = k == len(SEED_VISITS) - 1
    if k == 0:
        notes: str | None = "Ulcer in the popliteal skin fold after the 13th fraction."
    else:
        notes = "Resurfaced; wound closed." if closed else None
    records.assessment(
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
        notes=notes,
    )


def _debridement_with_prp(load: Loader, wound: Wound, number: int, day: date) -> None:
    """Session ``number`` of 4: scraped clean to fresh bleeding, then covered with
    autologous PRP made into a gel with thrombin (volume and preparation illustrative)."""
    body = {
        "id": str(demo_id("procedure", "seed", number - 1)),
        "performed_at": visit_time(day, 11),
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
    records.procedure(load, wound, body)


def _anlotinib(load: Loader, patient: Patient, start: date) -> None:
    """After radiotherapy: anlotinib 12 mg daily, 2 weeks on, 1 week off (the report)."""
    body = {
        "id": str(demo_id("therapy", "seed")),
        "agent": "anlotinib",
        "dose": 12,
        "dose_unit": "mg",
        "days_on": 14,
        "days_off": 7,
        "start_date": start.isoformat(),
    }
    records.systemic_therapy(load, patient, body)
