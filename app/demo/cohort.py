"""The synthetic cohort (docs/seed-case.md): 20 fictitious patients with a
conventional course (25 x 200 cGy) and 36 radiation wounds, assessed weekly for
up to eight weeks, so the dashboard, filters and exports have something to show.

The wounds follow four shapes in turn: healing, stalled, deteriorating and
healed; a few stalled wounds were last seen two weeks ago, so they are overdue.
Everything random comes from one generator with a fixed seed, drawn in a fixed
order, so every installation (and every run) makes the same cohort.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from app.demo import records
from app.demo.loader import Loader, demo_id
from app.patients.models import Patient
from app.radiotherapy.models import RadiotherapyCourse
from app.wounds.models import Wound

COHORT_PATIENTS = 20
COHORT_WOUNDS = 36
COHORT_WEEKS = 8

TRAJECTORIES = ("healing", "stalled", "deteriorating", "healed")
# (body site, in a skin fold, the lateralities that site can have): paired
# sites lie on a side, the perineum on the midline; the anterior neck and the
# scalp either.
SITES: tuple[tuple[str, bool, tuple[str, ...]], ...] = (
    ("axilla", True, ("left", "right")),
    ("inframammary fold", True, ("left", "right")),
    ("groin", True, ("left", "right")),
    ("neck", False, ("left", "right", "midline")),
    ("chest wall", False, ("left", "right")),
    ("perineum", True, ("midline",)),
    ("popliteal fossa", True, ("left", "right")),
    ("scalp", False, ("midline", "left", "right")),
)
FAMILY_NAMES = (
    "Testperson", "Samplewood", "Placeholder", "Democrest", "Mockingham", "Fictitia",
    "Examplar", "Dummington", "Synthia", "Notreal",
)  # fmt: skip


@dataclass(frozen=True)
class _Irradiated:
    """A cohort patient, their radiotherapy course (its field: a site and a
    side) and when their skin broke down."""

    patient: Patient
    course: RadiotherapyCourse
    onset: date
    site: int  # index into SITES
    laterality: str


@dataclass(frozen=True)
class _CohortWound:
    """What one cohort wound is: its number, shape, site and side and size at onset."""

    number: int
    trajectory: str
    site: str
    in_fold: bool
    laterality: str
    onset: date
    length: float
    width: float

    @property
    def ulcer(self) -> bool:
        return self.number % 3 == 0

    @property
    def worse(self) -> bool:
        return self.trajectory == "deteriorating"


def cohort(load: Loader, today: date) -> None:
    """The patients first, then their wounds (two for some), each with its visits."""
    rng = random.Random(2026)  # noqa: S311 - fixed seed: the same cohort every run, not crypto
    patients = [_irradiated_patient(load, i, today, rng) for i in range(COHORT_PATIENTS)]
    for w in range(COHORT_WOUNDS):
        irradiated = patients[w % COHORT_PATIENTS]
        traits = _traits(w, irradiated, rng)
        wound = _wound(load, traits, irradiated)
        closed_on = _weekly_visits(load, wound, traits, today, rng)
        if closed_on is not None and wound.status != "healed":
            records.mark_healed(load.session, wound, closed_on)


def _irradiated_patient(load: Loader, i: int, today: date, rng: random.Random) -> _Irradiated:
    """Patient ``i``: skin breakdown about eight weeks ago, 25 to 40 days into the course."""
    onset = today - timedelta(days=7 * COHORT_WEEKS + rng.randint(0, 6))
    patient = _patient(load, i, rng)
    start = onset - timedelta(days=rng.randint(25, 40))
    site = i % len(SITES)
    sides = SITES[site][2]
    laterality = sides[i % len(sides)]
    course = _course(load, i, patient, start, _field(site, laterality))
    return _Irradiated(patient, course, onset, site, laterality)


def _field(site: int, laterality: str) -> str:
    """The course's target: "left axilla", "perineum" (the midline is not said)."""
    name = SITES[site][0]
    return name if laterality == "midline" else f"{laterality} {name}"


def _patient(load: Loader, i: int, rng: random.Random) -> Patient:
    body = {
        "id": str(demo_id("patient", i)),
        "mrn": f"DEMO-{i + 1:04d}",
        "given_name": f"Demo{i + 1:02d}",
        "family_name": FAMILY_NAMES[i % len(FAMILY_NAMES)],
        "birth_date": date(1935 + rng.randint(0, 45), rng.randint(1, 12), 15).isoformat(),
        "sex": ("female", "male")[i % 2],
    }
    return records.patient(load, body)


def _course(load: Loader, i: int, patient: Patient, start: date, target: str) -> RadiotherapyCourse:
    """A conventional course: 25 x 200 cGy to ``target``."""
    phase = {
        "technique": ("vmat", "imrt", "3dcrt")[i % 3],
        "dose_per_fraction_cgy": 200,
        "fractions": 25,
    }
    body = {
        "id": str(demo_id("course", i)),
        "target_site": target,
        "start_date": start.isoformat(),
        "phases": [phase],
    }
    return records.course(load, patient, body)


def _traits(w: int, irradiated: _Irradiated, rng: random.Random) -> _CohortWound:
    """Wound ``w``: the shapes in turn, in its patient's irradiated field (site and
    side); a patient's second wound, in the same field, opens 3 days later."""
    site, fold, _ = SITES[irradiated.site]
    onset = irradiated.onset + timedelta(days=3 * (w // COHORT_PATIENTS))
    length, width = rng.uniform(2.0, 6.0), rng.uniform(1.5, 4.5)
    trajectory = TRAJECTORIES[w % len(TRAJECTORIES)]
    return _CohortWound(w, trajectory, site, fold, irradiated.laterality, onset, length, width)


def _wound(load: Loader, traits: _CohortWound, irradiated: _Irradiated) -> Wound:
    """Every third wound an ulcer, the others dermatitis; all linked to the patient's course."""
    w = traits.number
    body = {
        "id": str(demo_id("wound", w)),
        "body_site": traits.site,
        "laterality": traits.laterality,
        "in_skin_fold": traits.in_fold,
        "etiology": "radiation_ulcer" if traits.ulcer else "radiation_dermatitis",
        "radiotherapy_course_id": str(irradiated.course.id),
        "onset_date": traits.onset.isoformat(),
    }
    return records.wound(load, irradiated.patient, body)


def _weekly_visits(
    load: Loader, wound: Wound, traits: _CohortWound, today: date, rng: random.Random
) -> date | None:
    """Weekly visits from onset until today, or until the wound closes (returns that day)."""
    # A few stalled wounds were last seen two weeks ago: overdue on the dashboard.
    last_week = COHORT_WEEKS - 2 if traits.number % 8 == 1 else COHORT_WEEKS
    for week in range(last_week + 1):
        day = traits.onset + timedelta(days=7 * week)
        if day > today:
            break
        if _visit(load, wound, traits, week, day, rng):
            return day
    return None


def _visit(
    load: Loader, wound: Wound, traits: _CohortWound, week: int, day: date, rng: random.Random
) -> bool:
    """One weekly assessment; whether it found the wound closed."""
    factor = _area_factor(traits.trajectory, week, rng)
    closed = traits.trajectory == "healed" and factor == 0.0
    scale = math.sqrt(factor)
    worse = traits.worse
    records.assessment(
        load,
        wound,
        demo_id("assessment", traits.number, week),
        day,
        traits.length * scale,
        traits.width * scale,
        exudate="none" if closed else ("large" if worse and week > 3 else "moderate"),
        tissue=_tissue(traits, week, closed),
        # Ulcers are partial-thickness; dermatitis ranges from dry
        # desquamation (healing, late) to moist beyond the skin folds
        # (deteriorating), so the dashboard shows a mix of grades.
        ulceration="partial_thickness" if traits.ulcer and not closed else "none",
        pain=0 if closed else rng.randint(2, 7),
        closed=closed,
        erythema="faint" if closed else ("brisk" if worse else "moderate"),
        desquamation="none"
        if closed
        else ("dry" if traits.trajectory == "healing" and week >= 4 else "moist"),
        moist_beyond_folds=worse and not traits.in_fold and week >= 2,
        infection=worse and week >= 5,
        symptoms=_symptoms(traits, week, closed),
    )
    return closed


def _symptoms(traits: _CohortWound, week: int, closed: bool) -> dict[str, object] | None:
    """What the patient reported besides pain, following the wound's course:
    burning and a severe skin reaction while it worsens, itch as it heals.
    Every fifth wound's patient was not asked. A generator of its own per visit, so
    the areas and grades drawn from the cohort's generator stay as they were."""
    if traits.number % 5 == 0:
        return None
    rng = random.Random(f"symptoms-{traits.number}-{week}")  # noqa: S311 - fixed seed, not crypto
    if closed:
        return {"itch_nrs": rng.randint(0, 2), "burning_nrs": 0, "pro_skin_reaction": "none"}
    if traits.worse:
        reaction = "very_severe" if week >= 4 else "severe"
        return {
            "itch_nrs": rng.randint(2, 5),
            "burning_nrs": min(10, 5 + week // 2 + rng.randint(0, 1)),
            "pro_skin_reaction": reaction,
        }
    healing = traits.trajectory in ("healing", "healed") and week >= 3
    return {
        "itch_nrs": rng.randint(3, 6) if healing else rng.randint(1, 4),
        "burning_nrs": rng.randint(0, 2) if healing else rng.randint(2, 4),
        "pro_skin_reaction": "mild" if healing else "moderate",
    }


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


def _tissue(traits: _CohortWound, week: int, closed: bool) -> tuple[int, int, int, int]:
    """The tissue mix (epithelial, granulation, slough, necrotic %) at ``week``:
    slough clears and epithelium grows, unless the wound is deteriorating."""
    if closed:
        return (100, 0, 0, 0)
    worse = traits.worse
    slough = max(0, int(min(80, 30 + (8 * week if worse else -4 * week))))
    epi = int(min(100 - slough, 5 * week if not worse else 0))
    # Necrotic tissue (a CTCAE grade 4 finding) only in deteriorating ulcers.
    gran = max(0, 100 - slough - epi - (10 if worse and traits.ulcer else 0))
    necrotic = 100 - slough - epi - gran
    return (epi, gran, slough, necrotic)
