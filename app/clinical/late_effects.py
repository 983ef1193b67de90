"""Acute or late, the RTOG/EORTC late scale, and radiation recall.

Sources:

* RTOG/EORTC Late Radiation Morbidity Scoring Schema, skin and subcutaneous
  tissue (Cox JD, Stetz J, Pajak TF. Int J Radiat Oncol Biol Phys
  1995;31:1341-6, PMID 7713792):
  Skin: 1 Slight atrophy; pigmentation change; some hair loss. 2 Patchy
  atrophy; moderate telangiectasia; total hair loss. 3 Marked atrophy; gross
  telangiectasia. 4 Ulceration.
  Subcutaneous tissue: 1 Slight induration (fibrosis) and loss of
  subcutaneous fat. 2 Moderate fibrosis but asymptomatic; slight field
  contracture; <10% linear reduction. 3 Severe induration and loss of
  subcutaneous tissue; field contracture >10% linear measurement. 4 Necrosis.
* CTCAE v5.0 (NCI, 2017), term "Radiation recall reaction (dermatologic)": a
  cutaneous inflammatory reaction in a previously irradiated area, triggered
  by a drug. Its grades use the words of "Dermatitis radiation" (1 faint
  erythema or dry desquamation; 2 moderate to brisk erythema, patchy moist
  desquamation mostly confined to skin folds and creases, moderate edema;
  3 moist desquamation in areas other than skin folds and creases, bleeding
  induced by minor trauma or abrasion; 4 life-threatening consequences, skin
  necrosis or ulceration of full thickness dermis, spontaneous bleeding,
  skin graft indicated), so a recall is graded by the same table
  (app/clinical/grading.py) under its own term.

Judgement calls:

* Acute or late. Radiation skin effects are acute up to 90 days and late
  beyond; here the days are counted from the day the radiotherapy course
  ended (its recorded end date, else its last fraction once all are logged):
  more than 90 days after it, an assessment is late. (Cox 1995 counts the 90
  days from the start of radiotherapy; counting from the end keeps a long
  course's last weeks acute.) Before the course began there is no radiation
  phase. With the end unknown, an assessment within 90 days of the start is
  acute (it cannot be more than 90 days after the end); later ones are unknown.
* The late scale is derived for late assessments only; ``epilation`` partial
  is "some hair loss" and total "total hair loss"; any ulceration (or deep
  tissue damage) is skin grade 4; necrosis is subcutaneous grade 4. Field
  contracture is judged within the fibrosis level (moderate: slight
  contracture, < 10%; severe: > 10%). The grade is the higher of the two
  tissues, each reason naming its tissue.
* Recall is flagged for a wound that began after the course ended, in a
  patient on a systemic therapy course on that day (between its start and its
  last day; an off-week of an intermittent schedule still counts, the drug is
  still in use). Any agent counts: recall is described with cytotoxic and
  targeted agents alike. The irradiated field is the wound's linked course.

Pure functions, standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.clinical.grading import Findings, Grade, Reason
from app.clinical.therapy import Schedule, last_day

LATE_AFTER_DAYS = 90
ACUTE = "acute"
LATE = "late"
PHASES: tuple[str, ...] = (ACUTE, LATE)

RTOG_LATE_SCALE = "rtog_late"
RECALL_TERM = "Radiation recall reaction (dermatologic)"

_SKIN = "Skin: "
_SUBCUT = "Subcutaneous tissue: "

# RTOG/EORTC late morbidity, (finding, value) -> (grade, criterion with its tissue).
RTOG_LATE_TABLE: dict[tuple[str, str], tuple[int, str]] = {
    ("atrophy", "slight"): (1, _SKIN + "Slight atrophy"),
    ("pigmentation_change", "true"): (1, _SKIN + "pigmentation change"),
    ("epilation", "partial"): (1, _SKIN + "some hair loss"),
    ("atrophy", "patchy"): (2, _SKIN + "Patchy atrophy"),
    ("telangiectasia", "moderate"): (2, _SKIN + "moderate telangiectasia"),
    ("epilation", "total"): (2, _SKIN + "total hair loss"),
    ("atrophy", "marked"): (3, _SKIN + "Marked atrophy"),
    ("telangiectasia", "gross"): (3, _SKIN + "gross telangiectasia"),
    ("ulceration", "partial_thickness"): (4, _SKIN + "Ulceration"),
    ("ulceration", "full_thickness"): (4, _SKIN + "Ulceration"),
    ("deep_tissue_damage", "true"): (4, _SKIN + "Ulceration"),
    ("fibrosis", "slight"): (
        1,
        _SUBCUT + "Slight induration (fibrosis) and loss of subcutaneous fat",
    ),
    ("fibrosis", "moderate"): (
        2,
        _SUBCUT
        + "Moderate fibrosis but asymptomatic; slight field contracture; <10% linear reduction",
    ),
    ("fibrosis", "severe"): (
        3,
        _SUBCUT + "Severe induration and loss of subcutaneous tissue; field contracture >10% linear"
        " measurement",
    ),
    ("necrosis", "true"): (4, _SUBCUT + "Necrosis"),
}

_LATE_FINDINGS: tuple[str, ...] = (
    "atrophy",
    "pigmentation_change",
    "epilation",
    "telangiectasia",
    "ulceration",
    "deep_tissue_damage",
    "fibrosis",
    "necrosis",
)


@dataclass(frozen=True)
class RadiationPhase:
    """Whether an assessment falls in the acute or the late period of a course.

    ``phase`` is "acute", "late" or None (no course, before it began, or its end
    unknown); ``days_after_course`` counts from the course's last day (negative
    during the course), None when the end is unknown; ``note`` says why.
    """

    phase: str | None
    days_after_course: int | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "phase": self.phase,
            "days_after_course": self.days_after_course,
            "note": self.note,
        }


def radiation_phase(on: date, course_start: date | None, course_end: date | None) -> RadiationPhase:
    """Acute or late on the day ``on`` (module docstring): late more than 90 days
    after the course ended, acute from its start until then.

    Source: the 90-day split between acute and late radiation effects
    (RTOG/EORTC, Cox 1995), counted from the end of the course (judgement call).
    ``course_start``/``course_end`` are the course's first and last day, None
    when not known; with no course at all the phase is None.
    """
    if course_start is None and course_end is None:
        return RadiationPhase(None, None, "no radiotherapy course is linked to the wound")
    if course_start is not None and on < course_start:
        return RadiationPhase(None, None, "before the radiotherapy course began")
    if course_end is None:
        assert course_start is not None  # both None returned above
        since_start = (on - course_start).days
        if since_start <= LATE_AFTER_DAYS:
            return RadiationPhase(
                ACUTE,
                None,
                f"{since_start} days after the course began, its end not yet known:"
                f" within {LATE_AFTER_DAYS} days of any end",
            )
        return RadiationPhase(
            None, None, "the course's end is not known (no end date, fraction log incomplete)"
        )
    days = (on - course_end).days
    if days > LATE_AFTER_DAYS:
        return RadiationPhase(
            LATE, days, f"{days} days after the course ended: more than {LATE_AFTER_DAYS}, late"
        )
    if days < 0:
        return RadiationPhase(ACUTE, days, "during the radiotherapy course: acute")
    return RadiationPhase(
        ACUTE, days, f"{days} days after the course ended: {LATE_AFTER_DAYS} or fewer, acute"
    )


def _late_keys(findings: Findings) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    for name in _LATE_FINDINGS:
        value = getattr(findings, name)
        if isinstance(value, bool):
            if value:
                keys.append((name, "true"))
        else:
            keys.append((name, value))
    return keys


def grade_rtog_late(findings: Findings) -> Grade:
    """RTOG/EORTC late radiation morbidity grade (0-4), skin and subcutaneous
    tissue, from findings; the higher of the two tissues.

    Source: Cox JD, Stetz J, Pajak TF. Int J Radiat Oncol Biol Phys
    1995;31:1341-6, Late Radiation Morbidity Scoring Schema (module docstring
    quotes both tissues). Reasons quote the criterion with its tissue; grade 5
    (death) is never derived. Callers apply it to late assessments only.
    """
    met = [
        Reason(finding=name, value=value, grade=level[0], criterion=level[1])
        for name, value in _late_keys(findings)
        if (level := RTOG_LATE_TABLE.get((name, value))) is not None
    ]
    grade = max((reason.grade for reason in met), default=0)
    reasons = tuple(reason for reason in met if reason.grade == grade)
    return Grade(scale=RTOG_LATE_SCALE, value=grade, reasons=reasons)


@dataclass(frozen=True)
class Recall:
    """Whether a wound is flagged as a radiation recall reaction, and why."""

    flagged: bool
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``term`` is the CTCAE term the grade is reported under)."""
        return {"flagged": self.flagged, "term": RECALL_TERM, "reasons": list(self.reasons)}


def _in_course(s: Schedule, on: date) -> bool:
    last = last_day(s)
    return s.start_date <= on and (last is None or on <= last)


def radiation_recall(
    onset: date,
    course_end: date | None,
    therapies: Sequence[tuple[str, Schedule]],
) -> Recall:
    """CTCAE v5.0 "Radiation recall reaction (dermatologic)": flagged when the
    wound (dermatitis in the irradiated field of its linked course) began after
    the course ended, while the patient was on a systemic therapy course
    (``therapies``: (agent, schedule) pairs; module docstring).

    Source: NCI CTCAE v5.0 (2017), "Radiation recall reaction (dermatologic)".
    The grade is the CTCAE dermatitis grade of the same findings (identical
    criteria); this answers only whether the term applies and why.
    """
    if course_end is None:
        return Recall(False, ("the course's end is not known",))
    if onset <= course_end:
        return Recall(
            False,
            (f"began on {onset.isoformat()}, during or on the last day of the course",),
        )
    on_drug = [agent for agent, schedule in therapies if _in_course(schedule, onset)]
    after = (onset - course_end).days
    began = (
        f"began on {onset.isoformat()}, {after} days after the radiotherapy course ended"
        f" ({course_end.isoformat()}), in its field"
    )
    if not on_drug:
        return Recall(False, (began, "no systemic therapy was in course that day"))
    return Recall(True, (began, f"while on systemic therapy: {', '.join(sorted(on_drug))}"))


def course_end(
    end_date: date | None, *, last_logged: date | None, logged: int, planned: int
) -> date | None:
    """The last day of a radiotherapy course: its recorded ``end_date``, else the
    day of the last logged fraction (``last_logged``) once the log holds every
    planned fraction (``logged`` >= ``planned`` > 0), else None. No schedule is
    assumed for fractions not yet logged: the same rule as
    app/clinical/dose.py's cumulative_dose_on."""
    if end_date is not None:
        return end_date
    if last_logged is not None and 0 < planned <= logged:
        return last_logged
    return None
